"""What Xero's answers mean: its error bodies read into the host's kinds of failure.

Xero answers (https://developer.xero.com/documentation/api/http-response-codes):

- **400** ``{"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation
  exception occurred", "Elements": [{…, "ValidationErrors": [{"Message": …}]}]}``: the
  request is refused for good; every message is named with where it sits (the element, and
  the line or contact inside it that carries it), and a lock date or a currency the
  organisation has not enabled is followed by its fix (:func:`fixes`);
- **401** ``{"Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"}``
  (problem details): the access token is refused, the connection must refresh or reconnect;
- **403** (``AuthorizationUnsuccessful``: the consent lacks a scope, or the organisation was
  disconnected): permanent;
- **404**: the entity or endpoint does not exist;
- **429** with ``X-Rate-Limit-Problem`` (``minute``, ``day``, ``concurrent``,
  ``appminute``) and ``Retry-After`` in seconds
  (https://developer.xero.com/documentation/guides/oauth2/limits): retried after the wait
  Xero names — a day-limit breach waits until the organisation's day resets;
- **5xx** (and 503 ``Organisation offline``): retried.

With ``summarizeErrors=false`` a batch answers **200** and marks each element
``StatusAttributeString: "OK" | "ERROR"``: :func:`element_problems` reads one element.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import ErrorReading, Kind, Response, header
from ledgerlink.contract import classify as classify_http
from ledgerlink.contract.http import any_case as _get
from ledgerlink.errors import VendorError

VENDOR = "Xero"

#: Seconds to wait on a 429 that names no Retry-After: Xero's minute window
MINUTE = 60.0

#: ``X-Rate-Limit-Problem`` → the limit, in words
RATE_PROBLEMS = {
    "minute": "the organisation's 60 calls a minute",
    "day": "the organisation's daily call limit (it resets after Retry-After)",
    "concurrent": "the organisation's 5 calls in progress at once",
    "appminute": "the app's 10,000 calls a minute across organisations",
}

#: at most this many validation messages are named in one error message
MESSAGES_SHOWN = 20


def validation_messages(element: Any, where: str) -> list[str]:
    """Every ``ValidationErrors[].Message`` inside ``element`` (at any depth: a line item or
    a contact carries its own), each as ``"<pointer>: <message>"``."""
    found: list[str] = []
    if isinstance(element, Mapping):
        for error in element.get("ValidationErrors") or []:
            message = _get(error, "Message")
            if message:
                found.append(f"{where or '/'}: {message}")
        for key, value in element.items():
            if key != "ValidationErrors" and isinstance(value, (Mapping, list)):
                found += validation_messages(value, f"{where}/{key}")
    elif isinstance(element, list):
        for index, item in enumerate(element):
            found += validation_messages(item, f"{where}/{index}")
    return found


def element_problems(element: Mapping[str, Any], where: str = "") -> list[str]:
    """The messages of one element of a ``summarizeErrors=false`` answer: none when its
    ``StatusAttributeString`` is ``OK`` (or absent, as on a single create)."""
    status = element.get("StatusAttributeString") if isinstance(element, Mapping) else None
    if status not in (None, "OK") or (isinstance(element, Mapping) and element.get("HasValidationErrors")):
        return validation_messages(element, where) or [f"{where or '/'}: Xero marked it {status}"]
    return []


#: Xero's refusal of a document dated inside a locked period ("The document date cannot be
#: before the period lock date, currently set at 30-Nov-2026"; the end of year lock alike)
LOCKED = re.compile(r"(period|end of year) lock date, currently set at ([0-9A-Za-z-]+)")
#: Xero's refusal of a document in a currency the organisation has not added
NOT_SUBSCRIBED = re.compile(r"not subscribed to currency ([A-Z]{3})")


def fixes(messages: list[str]) -> list[str]:
    """What to do about the refusals that a retry cannot mend: a lock date, a currency not
    enabled (each said once, naming the date or the currency)."""
    found: list[str] = []
    for message in messages:
        locked = LOCKED.search(message)
        if locked:
            who = "everyone but advisers" if locked.group(1) == "period" else "everyone"
            found.append(f"the organisation's books are locked for {who} through {locked.group(2)} (its "
                         f"{locked.group(1)} lock date): date the document after it, or have an adviser move the "
                         f"lock date in Xero (Settings > Advanced > Financial settings), then retry the run")
        currency = NOT_SUBSCRIBED.search(message)
        if currency:
            found.append(f"the organisation has not enabled {currency.group(1)}: add it in Xero (Settings > "
                         f"Currencies > Add Currency), then retry the run")
    return list(dict.fromkeys(found))


def _named(messages: list[str]) -> str:
    shown = messages[:MESSAGES_SHOWN]
    more = len(messages) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def read_error(response: Response) -> ErrorReading | None:
    """What a Xero error body says (None for a success without an error)."""
    body = response.json
    if response.status == 429:
        problem = header(response.headers, "X-Rate-Limit-Problem") or ""
        limit = RATE_PROBLEMS.get(problem.lower(), f"a limit Xero names {problem!r}" if problem else "a rate limit")
        return ErrorReading(detail=f"over {limit}", vendor_code=problem or None, throttled=True,
                            label="rate limit")
    if response.status < 400 or not isinstance(body, Mapping):
        return None
    kind = _get(body, "Type")
    if kind == "ValidationException":
        messages = []
        for index, element in enumerate(body.get("Elements") or []):
            messages += validation_messages(element, f"/Elements/{index}")
        detail = _named(messages) if messages else str(_get(body, "Message") or "validation failed")
        detail += "".join(f"; {fix}" for fix in fixes(messages))
        return ErrorReading(detail=detail, vendor_code=str(_get(body, "ErrorNumber") or "10"),
                            label="ValidationException", kind="permanent")
    message = _get(body, "Message") or _get(body, "Detail") or _get(body, "Title")
    if message:
        return ErrorReading(detail=str(message), vendor_code=str(kind or _get(body, "Title") or "") or None,
                            label=str(kind or _get(body, "Title") or ""))
    return None


def _explain(kind: Kind, reading: ErrorReading, response: Response, wait: float | None) -> str:
    correlation = header(response.headers, "Xero-Correlation-Id")
    trace = f" (Xero-Correlation-Id {correlation})" if correlation else ""
    label = f"HTTP {response.status}" + (f" {reading.label}" if reading.label else "")
    if kind == "retry":
        after = f" in {wait:g} s" if wait is not None else ""
        return f"Xero could not process the request now ({label}): {reading.detail}{trace}; it is retried{after}"
    if kind == "reauth":
        return (f"Xero refused the access token ({label}): {reading.detail}{trace}; it is refreshed, "
                f"else reconnect the connection (ledgerlink connect NAME)")
    return f"Xero rejected the request ({label}): {reading.detail}{trace}"


def classify(response: Response) -> VendorError | None:
    """The :class:`VendorError` a Xero answer stands for, or None for a success."""
    return classify_http(response, vendor=VENDOR, read_error=read_error, explain=_explain, throttle_wait=MINUTE)
