"""What a vendor's HTTP answer means for the host: success, give up, retry later, or reconnect.

An action hands each :class:`~ledgerlink.contract.Response` to :func:`classify` and raises
the :class:`~ledgerlink.errors.VendorError` it returns; the error's ``kind`` tells the host
what to do (:attr:`ledgerlink.errors.VendorError.KINDS`):

==============================  ==============  ==========================================
the answer                      kind            the host
==============================  ==============  ==========================================
401                             ``reauth``      asks for a reconnect (``ledgerlink connect``)
408, 429, 5xx                   ``retry``       retries later, after ``Retry-After`` if sent
any other 4xx                   ``permanent``   fails the run with the vendor's message
2xx without the written entity  ``unknown``     looks the entity up before anything is resent
==============================  ==============  ==========================================

A vendor specialises it with its own error-body reader (``read_error``: what its error
body says — the detail, its error code, and a kind when the body overrides the status, such
as a throttle fault sent with 403) and its own wording (``explain``). A 2xx answer to a
write that holds no entity is :func:`unreadable_write`; a 2xx answer to a query that holds
no result is :func:`unreadable_query` (never read as "nothing found", which would create a
twin).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from ledgerlink.contract.components import Response
from ledgerlink.errors import VendorError

#: what a failed answer asks of the host (the kinds of :class:`~ledgerlink.errors.VendorError`)
Kind = Literal["permanent", "retry", "reauth", "unknown"]

#: HTTP statuses that ask the client to come back later (besides every 5xx)
RETRY_STATUSES = frozenset({408, 429})

#: how many characters of an unparsed error body a message quotes
DETAIL_LIMIT = 500


@dataclass(frozen=True)
class ErrorReading:
    """What a vendor's error body says, as its reader found it."""

    #: the vendor's explanation, for the message
    detail: str
    #: the vendor's first error code, kept on the VendorError
    vendor_code: str | None = None
    #: every error code the body holds, for the vendor's own hints
    codes: frozenset[str] = field(default_factory=frozenset)
    #: a kind the body decides whatever the status (a server fault sent with a 400, a fault
    #: in a 200); None: the status decides (:func:`status_kind`)
    kind: Kind | None = None
    #: the body says the request was throttled (a throttle fault sent with a 403): retried
    #: after ``Retry-After``, as a 429 is
    throttled: bool = False
    #: the vendor's name for the error (a fault type), shown beside the status
    label: str = ""


#: ``read_error(response) -> ErrorReading | None``: None when the body holds no error
ErrorReader = Callable[[Response], "ErrorReading | None"]
#: ``explain(kind, reading, response, wait) -> message`` in the vendor's words
Explainer = Callable[[Kind, ErrorReading, Response, "float | None"], str]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """``headers[name]`` whatever the case of the name; None when absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and isinstance(value, str):
            return value
    return None


def any_case(mapping: object, key: str) -> Any:
    """``mapping[key]`` whatever the case of the key (a vendor's error bodies say ``Message``
    or ``message``, ``Fault`` or ``fault``); None when absent or ``mapping`` is no mapping."""
    if not isinstance(mapping, Mapping):
        return None
    if key in mapping:
        return mapping[key]
    lower = key.lower()
    return next((value for name, value in mapping.items() if isinstance(name, str) and name.lower() == lower), None)


def answered_at(headers: Mapping[str, str]) -> datetime | None:
    """When the server answered, by its own clock: the response's ``Date`` header (RFC 9110
    §6.6.1) as an aware UTC datetime; None when absent or unreadable. A poll that asks for
    changes since a time advances by this clock, never by the local one."""
    value = header(headers, "Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def retry_after(headers: Mapping[str, str], default: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date, measured
    against the response's ``Date``), else ``default``."""
    value = header(headers, "Retry-After")
    if value is None or not value.strip():
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    answered = answered_at(headers)
    now = answered.timestamp() if answered is not None else time.time()
    return max(0.0, when.timestamp() - now)


def status_kind(status: int) -> Kind | None:
    """The kind an HTTP status alone stands for, or None for a success (< 400)."""
    if status < 400:
        return None
    if status == 401:
        return "reauth"
    if status in RETRY_STATUSES or status >= 500:
        return "retry"
    return "permanent"


def body_excerpt(response: Response) -> str:
    """The start of a response's text for a message, or ``"no body"``."""
    return (response.text or "").strip()[:DETAIL_LIMIT] or "no body"


def _generic_reading(response: Response) -> ErrorReading | None:
    return None


#: (what the vendor did, what happens next) of the default message of each kind
_PHRASES: dict[Kind, tuple[str, str]] = {
    "reauth": ("refused the credentials", "; reconnect the connection (ledgerlink connect NAME)"),
    "retry": ("could not process the request now", "; it is retried"),
    "permanent": ("rejected the request", ""),
    "unknown": ("answered with something that is not its answer", "; it is looked up"),
}


def classify(response: Response, *, vendor: str, read_error: ErrorReader = _generic_reading,
             explain: Explainer | None = None,
             throttle_wait: float | None = None) -> VendorError | None:
    """The :class:`VendorError` ``response`` stands for, or None when it is a success.

    ``read_error`` reads the vendor's error body (a success status with an error in the body
    is an error too); without a reading, the body's start is the detail and the status
    decides the kind. A ``"retry"`` waits ``Retry-After`` (seconds or an HTTP date), else
    ``throttle_wait`` seconds when the request was throttled (429, or the body says so),
    else as long as the host's backoff says. ``explain`` words the message;
    by default it reads ``"<vendor> rejected the request (HTTP 422): <detail>"``.
    """
    status = response.status
    reading = read_error(response)
    if reading is None and status < 400:
        return None
    if reading is None:
        reading = ErrorReading(detail=body_excerpt(response))
    throttled = status == 429 or reading.throttled
    kind: Kind = "retry" if throttled else reading.kind or status_kind(status) or "permanent"
    wait = None
    if kind == "retry":
        wait = retry_after(response.headers, throttle_wait if throttled else None)
    if explain is not None:
        message = explain(kind, reading, response, wait)
    else:
        label = f"HTTP {status}" + (f" {reading.label}" if reading.label else "")
        did, next_ = _PHRASES[kind]
        message = f"{vendor} {did} ({label}): {reading.detail}{next_}"
    return VendorError(message, kind=kind, status=status, retry_after=wait,
                       vendor_code=reading.vendor_code)


def describe_body(response: Response) -> str:
    """What a body that is not the vendor's answer looks like, for a message: an HTML page,
    JSON that does not parse (often cut short), JSON of another shape, or nothing."""
    text = (response.text or "").strip()
    content_type = header(response.headers, "Content-Type") or ""
    if not text:
        return "an empty body"
    if "html" in content_type.lower() or text[:1] == "<":
        return f"an HTML page ({content_type or 'no Content-Type'}, {len(text)} characters)"
    if response.json is None:
        return f"a body that is not JSON, or is cut short ({len(text)} characters)"
    keys = sorted(response.json) if isinstance(response.json, Mapping) else []
    return "JSON with " + (", ".join(map(str, keys[:5])) if keys else "no object")


def unreadable_write(response: Response, vendor: str, entity: str) -> VendorError:
    """The error for a success status (2xx) answering a write whose body holds no ``entity``
    (truncated JSON, an HTML page from a proxy): the vendor may have committed the write, so
    its outcome is unknown (``kind="unknown"``) — the host looks the entity up
    (``Action.find_existing``) before it resends anything."""
    return VendorError(f"{vendor} answered the {entity} write with HTTP {response.status} and "
                       f"{describe_body(response)} instead of the {entity}; the {entity} may have "
                       f"been created, so it is looked up before anything is sent again",
                       kind="unknown", status=response.status)


def unreadable_query(response: Response, vendor: str, entity: str, *,
                     expected: str = "a query result") -> VendorError:
    """The error for a success status answering a query without its result (``expected``,
    in the vendor's words): never read as "nothing found" (a lookup would then create a
    twin), retried instead."""
    return VendorError(f"{vendor} answered the {entity} query with HTTP {response.status} and "
                       f"{describe_body(response)} instead of {expected}; it is retried",
                       kind="retry", status=response.status)


__all__ = ["DETAIL_LIMIT", "ErrorReader", "ErrorReading", "Explainer", "Kind", "RETRY_STATUSES",
           "any_case", "body_excerpt", "classify", "describe_body", "header", "retry_after", "status_kind", "unreadable_query",
           "unreadable_write"]
