"""Xero's error answers, in Xero's own shapes.

- 401, a bearer token missing, unknown or expired: ``WWW-Authenticate: Bearer
  error="invalid_token"`` and ``{"Type": null, "Title": "Unauthorized", "Status": 401,
  "Detail": "AuthenticationUnsuccessful", "Instance": "<uuid>"}``;
- 403, ``xero-tenant-id`` missing, malformed or not reached by the token: the same body with
  ``"Title": "Forbidden"`` (https://developer.xero.com/documentation/oauth2/troubleshooting,
  "Authentication Unsuccessful");
- 400 ``ValidationException``: ``{"ErrorNumber": 10, "Type": "ValidationException", "Message":
  "A validation exception occurred", "Elements": [<the element as sent, with its
  ValidationErrors>]}`` (schema ``Error``; https://developer.xero.com/documentation/api/accounting/
  responsecodes). Xero's ``Element`` schema lists only ids, but Xero echoes the whole element,
  so the sandbox validates each element against its entity's schema;
- 404 for an id that does not exist: the plain-text body Xero sends;
- 429 with ``Retry-After`` and ``X-Rate-Limit-Problem`` (``minute``, ``day``, ``concurrent``,
  ``appminute``; https://developer.xero.com/documentation/guides/oauth2/limits/).

Every answer carries a ``Xero-Correlation-Id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from ledgerlink.testing.sandbox import JSONValue, Reply

NOT_FOUND = b"The resource you're looking for cannot be found"


def correlation() -> dict[str, str]:
    """A fresh ``Xero-Correlation-Id`` header."""
    return {"Xero-Correlation-Id": str(uuid.uuid4())}


def problem(status: int, title: str) -> Reply:
    """Xero's problem body for 401 (``Unauthorized``) and 403 (``Forbidden``)."""
    headers = correlation()
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return Reply.json(status, {"Type": None, "Title": title, "Status": status,
                               "Detail": "AuthenticationUnsuccessful", "Instance": str(uuid.uuid4())},
                      headers)


def unauthorized() -> Reply:
    return problem(401, "Unauthorized")


def forbidden() -> Reply:
    return problem(403, "Forbidden")


def not_found() -> Reply:
    return Reply(404, NOT_FOUND, "text/html; charset=utf-8", correlation())


def validation(elements: list[JSONValue]) -> Reply:
    """400 ``ValidationException`` with ``elements`` (each already carrying its
    ``ValidationErrors``)."""
    return Reply.json(400, {"ErrorNumber": 10, "Type": "ValidationException",
                            "Message": "A validation exception occurred", "Elements": elements},
                      correlation())


def with_errors(element: Mapping[str, JSONValue], messages: list[str]) -> dict[str, JSONValue]:
    """``element`` as Xero echoes it back refused: ``StatusAttributeString: "ERROR"`` and
    ``ValidationErrors``."""
    return {**element, "StatusAttributeString": "ERROR",
            "ValidationErrors": [{"Message": message} for message in messages]}


def bad_request(message: str) -> Reply:
    """400 with Xero's exception body for a request that is not a batch of elements (a
    malformed body, an unknown parameter value, an idempotency key reused)."""
    return Reply.json(400, {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": message},
                      correlation())


def too_many(problem_name: str, retry_after: str | None) -> Reply:
    headers = {**correlation(), "X-Rate-Limit-Problem": problem_name}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Reply(429, b"", "text/plain; charset=utf-8", headers)


__all__ = ["NOT_FOUND", "bad_request", "correlation", "forbidden", "not_found", "problem", "too_many",
           "unauthorized", "validation", "with_errors"]
