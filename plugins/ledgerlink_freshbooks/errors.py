"""What FreshBooks' answers mean: its error bodies read into the host's kinds of failure.

FreshBooks answers errors in three shapes (the official SDKs' recorded answers, and
https://www.freshbooks.com/api/errors), each read element by element into messages that
name the field and FreshBooks' words:

1. the accounting API's own: ``{"response": {"errors": [{"errno": 1012, "field": "userid",
   "message": "Client not found.", "object": "client", "value": "12345"}]}}``;
2. the newer gRPC-style one: ``{"code": 5, "message": "Request failed with status_code:
   404", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason":
   "1012", "metadata": {"object": "client", "field": "userid", "message": "Client not
   found.", "value": "12345"}}]}``;
3. the events (callbacks) API's: ``{"errno": 422, "message": "…", "details": ["event: Value
   error, Unrecognized event."]}``.

The identity and project services answer ``{"error": "unauthenticated",
"error_description": …}`` or ``{"error": "…"}``, and the ledger-accounts one ``{"errors":
{"message": …, "details": [{"reason": …, "metadata": {"field", "message"}}]}}``: read too.

FreshBooks publishes no rate limit; its official SDK retries 408, 429 and 5xx with
back-off, which the kit's classification does too (``Retry-After`` obeyed). A 401 asks for a
refresh (the access token lasts 12 hours), a 404 means the object is gone (:func:`gone`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import ErrorReading, Kind, Response
from ledgerlink.contract import classify as classify_http
from ledgerlink.errors import VendorError

VENDOR = "FreshBooks"

#: seconds to wait on a 429 that names no Retry-After (FreshBooks publishes no window)
THROTTLE_WAIT = 60.0

#: at most this many messages are named in one error message
MESSAGES_SHOWN = 20

#: FreshBooks' error number for an object that does not exist ("Client not found.",
#: "Invoice not found." …): gone, whatever the status it comes with
NOT_FOUND_ERRNO = "1012"


def _message(field: Any, message: Any, value: Any = None, code: Any = None) -> str:
    """``"field: message (value …; errno …)"``, leaving out what is empty."""
    text = str(message or "").strip() or "no message"
    if field:
        text = f"{field}: {text}"
    extra = [f"value {value!r}" for _ in [0] if value not in (None, "")]
    if code not in (None, ""):
        extra.append(f"errno {code}")
    return text + (f" ({'; '.join(extra)})" if extra else "")


def messages(body: Any) -> tuple[list[str], list[str]]:
    """Every message of a FreshBooks error body, and the error numbers it holds (empty lists
    when the body is no error of a shape FreshBooks uses)."""
    if not isinstance(body, Mapping):
        return [], []
    found: list[str] = []
    codes: list[str] = []
    response = body.get("response")
    if isinstance(response, Mapping) and isinstance(response.get("errors"), list):
        for error in response["errors"]:
            if isinstance(error, Mapping):
                found.append(_message(error.get("field"), error.get("message"), error.get("value"),
                                      error.get("errno")))
                if error.get("errno") is not None:
                    codes.append(str(error["errno"]))
        return found, codes
    details = body.get("details")
    if isinstance(body.get("code"), int) and isinstance(details, list):
        for detail in details:
            meta = detail.get("metadata") if isinstance(detail, Mapping) else None
            if isinstance(meta, Mapping):
                found.append(_message(meta.get("field"), meta.get("message") or body.get("message"),
                                      meta.get("value"), detail.get("reason")))
                if detail.get("reason") is not None:
                    codes.append(str(detail["reason"]))
        return found or [str(body.get("message") or "")], codes
    if "errno" in body:
        if isinstance(details, list) and details:
            found = [_message(None, detail) for detail in details]
        elif isinstance(body.get("error"), Mapping):
            found = [_message(None, body["error"].get("description") or body["error"].get("title"))]
        else:
            found = [_message(None, body.get("message"))]
        return found, [str(body["errno"])]
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        for detail in errors.get("details") or []:
            meta = detail.get("metadata") if isinstance(detail, Mapping) else None
            if isinstance(meta, Mapping):
                found.append(_message(meta.get("field"), meta.get("message")))
        return found or [str(errors.get("message") or "")], []
    if isinstance(body.get("error"), str):
        return [_message(None, body.get("error_description") or body["error"])], [body["error"]]
    return [], []


def _named(found: list[str]) -> str:
    shown = found[:MESSAGES_SHOWN]
    more = len(found) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def read_error(response: Response) -> ErrorReading | None:
    """What a FreshBooks error body says (None for a success without an error)."""
    found, codes = messages(response.json)
    if not found:
        if response.status == 429:
            return ErrorReading(detail="too many requests", throttled=True, label="rate limit")
        return None
    return ErrorReading(detail=_named(found), vendor_code=codes[0] if codes else None,
                        codes=frozenset(codes), throttled=response.status == 429)


def _explain(kind: Kind, reading: ErrorReading, response: Response, wait: float | None) -> str:
    label = f"HTTP {response.status}" + (f" {reading.label}" if reading.label else "")
    if kind == "retry":
        after = f" in {wait:g} s" if wait is not None else ""
        return f"FreshBooks could not process the request now ({label}): {reading.detail}; it is retried{after}"
    if kind == "reauth":
        return (f"FreshBooks refused the access token ({label}): {reading.detail}; it is refreshed, "
                f"else reconnect the connection (ledgerlink connect NAME)")
    if kind == "unknown":
        return f"FreshBooks answered with something that is not its answer ({label}): {reading.detail}"
    return f"FreshBooks rejected the request ({label}): {reading.detail}"


def classify(response: Response) -> VendorError | None:
    """The :class:`VendorError` a FreshBooks answer stands for, or None for a success."""
    return classify_http(response, vendor=VENDOR, read_error=read_error, explain=_explain,
                         throttle_wait=THROTTLE_WAIT)


def gone(response: Response) -> bool:
    """Whether FreshBooks answered that the object does not exist (404, or its "not found"
    error number 1012 in any of its shapes)."""
    if response.status == 404:
        return True
    _, codes = messages(response.json)
    return response.status >= 400 and NOT_FOUND_ERRNO in codes
