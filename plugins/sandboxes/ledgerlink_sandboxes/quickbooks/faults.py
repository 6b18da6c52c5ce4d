"""QBO's error bodies, and the faults a test may script into the sandbox.

Every body here has QBO's JSON shape (the ``Fault`` of Intuit's IntuitRestServiceDef.xsd)::

    {"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": ...}, "time": ...}

:class:`QboFault` is raised inside the sandbox wherever QBO would answer with a Fault;
the app turns it into the HTTP answer. :func:`parse_script` checks the fault list a test
hands to ``Sandbox.script`` / ``POST /__sandbox/faults`` and returns them for the sandbox
base's :class:`~ledgerlink.testing.sandbox.FaultScript`, each answer a :class:`ScriptedAnswer`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.testing.sandbox import Scripted, retry_after_header

# --- the Fault bodies ---------------------------------------------------------------------

#: QBO's answer to a missing, unknown, expired or revoked access token (HTTP 401)
AUTHENTICATION_MESSAGE = "message=AuthenticationFailed; errorCode=003200; statusCode=401"
#: the throttle fault's message ([spec] quickbooks-ruby-fixtures/too_many_requests_error.xml)
THROTTLE_MESSAGE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
THROTTLE_DETAIL = "The request limit was reached.  Try again later"
#: a token that is valid but not for this company (our modelling: HTTP 403, code 3100)
AUTHORIZATION_MESSAGE = "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
SYSTEM_MESSAGE = "An application error has occurred while processing your request"
SYSTEM_DETAIL = ("System Failure Error: An unexpected error occurred while accessing or saving "
                 "your data. Please wait a few minutes and try again. If the problem persists, "
                 "contact customer support.")
BUSINESS_MESSAGE = "A business validation error has occurred while processing your request"


class QboFault(Exception):
    """A Fault the sandbox answers with: HTTP ``status``, ``Fault.type`` and its errors."""

    def __init__(self, status: int, fault_type: str, errors: list[dict[str, str]],
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status} {fault_type}: "
                         + "; ".join(f"{e.get('code')} {e.get('Message')}" for e in errors))
        self.status = status
        self.fault_type = fault_type
        self.errors = errors
        self.headers = dict(headers or {})

    def body(self, time: str) -> dict[str, Any]:
        """The JSON body, stamped with ``time`` (QBO's ``time`` field)."""
        return {"Fault": {"Error": [dict(e) for e in self.errors], "type": self.fault_type},
                "time": time}


def error(message: str, code: str, detail: str | None = None, element: str | None = None
          ) -> dict[str, str]:
    """One ``Fault.Error`` item; ``Detail`` and ``element`` only when given."""
    item = {"Message": message}
    if detail is not None:
        item["Detail"] = detail
    item["code"] = code
    if element is not None:
        item["element"] = element
    return item


def validation(message: str, code: str, detail: str | None = None, element: str | None = None
               ) -> QboFault:
    """HTTP 400 ``ValidationFault`` with one error."""
    return QboFault(400, "ValidationFault", [error(message, code, detail, element)])


def business(detail: str, element: str = "") -> QboFault:
    """HTTP 400 business validation error, code 6000 (our choice of QBO's codes)."""
    return validation(BUSINESS_MESSAGE, "6000", f"Business Validation Error: {detail}", element)


def required(element: str) -> QboFault:
    """HTTP 400 code 2020 as in [spec] exquickbooks-fixtures/sales_receipt/create_sales_receipt_error.json."""
    return validation("Required param missing, need to supply the required value for the API",
                      "2020", f"Required parameter {element} is missing in the request", element)


def invalid_reference(element: str, kind: str, ref_id: Any) -> QboFault:
    """HTTP 400 code 2500: a reference to an id the company does not have."""
    return validation("Invalid Reference Id", "2500",
                      f"Invalid Reference Id : {kind} element id {ref_id} not found", element)


def not_found(entity: str, entity_id: str) -> QboFault:
    """HTTP 400 code 610 as in [spec] exquickbooks-fixtures/item/read_item_error.json."""
    return validation("Object Not Found", "610",
                      f"Object Not Found : Something you're trying to use has been made inactive. "
                      f"Check the fields with accounts, customers, items, vendors or employees. "
                      f"({entity} Id={entity_id})", "")


def unsupported(path: str) -> QboFault:
    """HTTP 400 "Unsupported Operation" (code 500) for a resource the sandbox does not serve."""
    return validation("Unsupported Operation", "500",
                      f"Operation Could not find resource for relative : {path} is not supported.")


def authentication(detail: str | None = None) -> QboFault:
    """HTTP 401 ``AuthenticationFault``, code 3200."""
    return QboFault(401, "AuthenticationFault", [error(AUTHENTICATION_MESSAGE, "3200", detail)])


def authorization(realm: str) -> QboFault:
    """HTTP 403 ``AuthorizationFault``, code 3100: the token is good, the company unknown."""
    return QboFault(403, "AuthorizationFault", [error(
        AUTHORIZATION_MESSAGE, "3100",
        f"The application is not authorized to access company (realm) {realm}")])


def throttle(retry_after: float | None) -> QboFault:
    """HTTP 429 ``Fault type="SERVICE"``, code 3001, with ``Retry-After`` when given."""
    headers = {"Retry-After": retry_after_header(retry_after)} if retry_after is not None else {}
    return QboFault(429, "SERVICE", [error(THROTTLE_MESSAGE, "3001", THROTTLE_DETAIL)], headers)


def system(status: int = 500) -> QboFault:
    """HTTP ``status`` (5xx) ``SystemFault``, code 10000."""
    return QboFault(status, "SystemFault", [error(SYSTEM_MESSAGE, "10000", SYSTEM_DETAIL)])


def query_parse(detail: str) -> QboFault:
    """HTTP 400 code 4000 as in [spec] exquickbooks-fixtures/api/query_error.json."""
    return validation("Error parsing query", "4000", f"QueryParserError: {detail}")


def query_invalid(detail: str) -> QboFault:
    """HTTP 400 code 4001 as in [spec] quickbooks-ruby-fixtures/query_validation_error.xml."""
    return validation("Invalid query", "4001", f"QueryValidationError: {detail}")


# --- scripted faults ----------------------------------------------------------------------

_GATEWAY_PAGE = ("<html><head><title>{status} {reason}</title></head><body><h1>{status} "
                 "{reason}</h1></body></html>")
_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
_STATUSES = (401, 403, 429) + tuple(range(500, 600))
_KEYS = {"status", "retry_after", "timeout", "fault", "answer", "message", "code", "detail",
         "element", "match", "times"}
#: what ``{"answer": …}`` puts on the wire instead of a committed request's answer
ANSWERS = ("truncated", "html")
#: an HTML page with status 200, as a proxy or a gateway sends it
_HTML_PAGE = ("<!DOCTYPE html><html><head><title>Intuit</title></head><body><h1>We're sorry"
              "</h1><p>Something went wrong. Please try again later.</p></body></html>")
_MATCH_KEYS = {"method", "entity", "realm"}


@dataclass(frozen=True)
class ScriptedAnswer:
    """What a scripted fault does. Exactly one of ``status``, ``timeout``, ``fault`` and
    ``spoil`` is set; ``spec`` is the fault as the test gave it."""

    spec: Mapping[str, Any]
    status: int | None = None
    retry_after: float | None = None
    timeout: float | None = None
    fault: str | None = None
    #: ``"truncated"`` or ``"html"``: the request runs (a write commits), then its answer is
    #: spoiled on the wire
    spoil: str | None = None

    def garble(self, status: int, body: bytes, content_type: str) -> tuple[int, bytes, str]:
        """What the client receives instead of ``(status, body, content_type)``: the JSON cut
        in the middle (``"truncated"``), or an HTML page with status 200 (``"html"``)."""
        if self.spoil == "truncated":
            return status, body[:max(1, len(body) // 2)], content_type
        return 200, _HTML_PAGE.encode("utf-8"), "text/html; charset=utf-8"

    def answer(self, retry_after_default: float | None) -> QboFault | tuple[int, str]:
        """The Fault to answer with, or ``(status, html)`` for a gateway page (502/503/504)."""
        if self.fault == "validation":
            spec = self.spec
            return validation(str(spec.get("message") or BUSINESS_MESSAGE),
                              str(spec.get("code") or "6000"),
                              None if spec.get("detail") is None else str(spec["detail"]),
                              None if spec.get("element") is None else str(spec["element"]))
        status = self.status or 500
        retry_after = self.retry_after if self.retry_after is not None else (
            retry_after_default if status == 429 else None)
        if status == 429:
            return throttle(retry_after)
        if status == 401:
            return authentication("Token revoked (scripted fault)")
        if status == 403:
            return QboFault(403, "AuthorizationFault", [error(AUTHORIZATION_MESSAGE, "3100")])
        if status in _REASONS:
            page = _GATEWAY_PAGE.format(status=status, reason=_REASONS[status])
            return status, page
        fault = system(status)
        if retry_after is not None:
            fault.headers["Retry-After"] = retry_after_header(retry_after)
        return fault

    @property
    def gateway_retry_after(self) -> str | None:
        """``Retry-After`` for a gateway page, when the script gave one."""
        return retry_after_header(self.retry_after) if self.retry_after is not None else None


def _number(value: Any, where: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"{where} must be a number of seconds, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0) or number > 600:
        raise ValueError(f"{where} must be between 0 and 600 seconds, got {value!r}")
    return number


def parse_script(faults: Any) -> list[Scripted[ScriptedAnswer]]:
    """Check a list of fault specs and return them as faults for the sandbox base's queue.

    Each spec is one of ``{"status": 500}`` (401, 403, 429 or 5xx; optional
    ``"retry_after"``), ``{"timeout": 2.5}``, ``{"fault": "validation", "message",
    "code", "detail", "element"}`` and ``{"answer": "truncated" | "html"}`` (the request
    runs, a write commits and keeps its ``requestid`` answer, but the client receives the
    JSON cut short, or an HTML page with status 200), each with an optional ``"match":
    {"method", "entity", "realm"}`` and an optional ``"times": n`` (the next n matching
    requests get it; 1 by default). Raises ``ValueError`` naming the first bad spec; nothing
    is queued then.
    """
    if isinstance(faults, Mapping) and "faults" in faults:
        faults = faults["faults"]
    if isinstance(faults, Mapping):
        faults = [faults]
    if not isinstance(faults, list):
        raise ValueError(f"faults must be a list of fault objects, got {type(faults).__name__}")
    out = []
    for index, spec in enumerate(faults):
        where = f"faults[{index}]"
        if not isinstance(spec, Mapping):
            raise ValueError(f"{where} must be an object such as {{\"status\": 500}}, got {spec!r}")
        unknown = sorted(set(spec) - _KEYS)
        if unknown:
            raise ValueError(f"{where} has unknown key(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(sorted(_KEYS))}")
        kinds = [k for k in ("status", "timeout", "fault", "answer") if k in spec]
        if len(kinds) != 1:
            raise ValueError(f"{where} must have exactly one of status, timeout, fault, answer; "
                             f"got {', '.join(kinds) or 'none'}")
        match = spec.get("match") or {}
        if not isinstance(match, Mapping) or set(match) - _MATCH_KEYS or not all(
                isinstance(v, str) for v in match.values()):
            raise ValueError(f"{where}.match must be an object with string method, entity "
                             f"and/or realm, got {match!r}")
        norm_match = {k: (v.upper() if k == "method" else v.lower() if k == "entity" else v)
                      for k, v in match.items() if v}
        retry_after = None
        if spec.get("retry_after") is not None:
            retry_after = _number(spec["retry_after"], f"{where}.retry_after", positive=False)
        times = spec.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"{where}.times must be an integer of at least 1, got {times!r}")
        kind = kinds[0]
        if kind == "status":
            status = spec["status"]
            if isinstance(status, bool) or not isinstance(status, int) or status not in _STATUSES:
                raise ValueError(f"{where}.status must be 401, 403, 429 or 500-599, got {status!r}; "
                                 f"use {{\"fault\": \"validation\"}} for a 400")
            answer = ScriptedAnswer(dict(spec), status=status, retry_after=retry_after)
        elif kind == "answer":
            if spec["answer"] not in ANSWERS:
                raise ValueError(f"{where}.answer must be one of {', '.join(ANSWERS)}, "
                                 f"got {spec['answer']!r}")
            answer = ScriptedAnswer(dict(spec), spoil=spec["answer"])
        elif kind == "timeout":
            answer = ScriptedAnswer(dict(spec), timeout=_number(spec["timeout"], f"{where}.timeout",
                                                                positive=True))
        else:
            if spec["fault"] != "validation":
                raise ValueError(f"{where}.fault must be \"validation\", got {spec['fault']!r}")
            code = spec.get("code", "6000")
            if not isinstance(code, (str, int)) or isinstance(code, bool):
                raise ValueError(f"{where}.code must be a string such as \"6000\", got {code!r}")
            answer = ScriptedAnswer(dict(spec), fault="validation")
        out.append(Scripted(answer, norm_match, times, dict(spec)))
    return out
