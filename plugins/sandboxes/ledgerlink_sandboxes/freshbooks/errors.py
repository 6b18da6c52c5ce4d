"""FreshBooks' error answers, in FreshBooks' three shapes (the SDKs' recorded answers show each).

1. **Accounting, legacy** (``get_client_response__not_found_old.json``): HTTP 4xx and
   ``{"response": {"errors": [{"errno", "field", "message", "object", "value"}]}}``, one entry a
   problem; FreshBooks' SDKs read ``errno`` and ``message`` from it.
2. **Accounting, new** (``get_client_response__not_found_new.json``,
   ``get_client_response__no_auth.json``): ``{"code": <gRPC code>, "message": "Request failed with
   status_code: <status>", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
   "reason": "<errno>", "domain": "accounting.api.freshbooks.com", "metadata": {"object",
   "message", "value", "field"}}]}``. FreshBooks answers some accounting errors one way, some the
   other; the sandbox answers a not-found and a refused body in the shape its ``error_shape``
   setting names (``legacy`` by default), and a refused token always in the new one (as the
   fixture shows).
3. **Events and identity** (``get_callback_response__not_found.json``,
   ``create_callback_response__validation_error.json``): ``{"errno": <status>, "message": …[,
   "details": [<"field: why">, …]]}``; the identity service's ``{"error", "error_description"}``
   is :func:`.identity.identity_error`.

429 (too many requests; FreshBooks publishes no limits, https://www.freshbooks.com/api/start,
and no 429 body) is answered in the new shape with gRPC code 8 and ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerlink.testing.sandbox import JSONValue, Reply

#: HTTP status → gRPC status code (https://grpc.github.io/grpc/core/md_doc_statuscodes.html)
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 422: 3, 429: 8, 500: 13, 503: 14}
SHAPES = ("legacy", "new")
#: FreshBooks' errno for a refused token (``get_client_response__no_auth.json``)
NOT_AUTHORIZED = 1003
NOT_AUTHORIZED_MESSAGE = "The server could not verify that you are authorized to access the URL requested."
#: errno for a field FreshBooks refuses, and for an object it cannot find
INVALID_FIELD = 1002
NOT_FOUND = 1012


@dataclass(frozen=True)
class Problem:
    """One accounting error: FreshBooks' errno, the field and object it is about, the value
    sent, the message."""

    errno: int
    message: str
    field: str = ""
    object: str = ""
    value: str = ""


def accounting(status: int, problems: list[Problem], shape: str = "legacy",
               headers: dict[str, str] | None = None) -> Reply:
    """An accounting error in ``shape`` (``legacy`` or ``new``)."""
    if shape == "new":
        return Reply.json(status, {
            "code": GRPC_CODES.get(status, 2), "message": f"Request failed with status_code: {status}",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": str(problem.errno),
                         "domain": "accounting.api.freshbooks.com",
                         "metadata": {"object": problem.object, "message": problem.message,
                                      "value": problem.value, "field": problem.field}}
                        for problem in problems]}, headers)
    return Reply.json(status, {"response": {"errors": [
        {"errno": problem.errno, "field": problem.field, "message": problem.message, "object": problem.object,
         "value": problem.value} for problem in problems]}}, headers)


def unauthorized() -> Reply:
    """401 for an accounting request whose bearer token is missing, unknown or expired."""
    return accounting(401, [Problem(NOT_AUTHORIZED, NOT_AUTHORIZED_MESSAGE)], "new",
                      {"WWW-Authenticate": 'Bearer realm="FreshBooks", error="invalid_token"'})


def not_found(what: str, field: str, value: object, shape: str) -> Reply:
    """404 for ``what`` (``client``, ``invoice`` …) whose ``field`` is ``value``."""
    return accounting(404, [Problem(NOT_FOUND, f"{what.capitalize()} not found.", field, what, str(value))], shape)


def invalid(problems: list[Problem], shape: str) -> Reply:
    """400 for a body FreshBooks refuses (every problem listed)."""
    return accounting(400, problems, shape)


def too_many(retry_after: str) -> Reply:
    """429 with ``Retry-After`` (seconds)."""
    return accounting(429, [Problem(429, "Too many requests: slow down and retry after the time given.")], "new",
                      {"Retry-After": retry_after})


def events(status: int, message: str, details: list[str] | None = None,
           headers: dict[str, str] | None = None) -> Reply:
    """An events (callbacks) error: ``{"errno", "message"[, "details"]}``."""
    body: dict[str, JSONValue] = {"errno": status, "message": message}
    if details is not None:
        body["details"] = list(details)
    return Reply.json(status, body, headers)


EVENTS_UNAUTHORIZED = "invalid_token: The request token failed to authenticate or validate."
EVENTS_NOT_FOUND = "Requested resource could not be found."
EVENTS_UNPROCESSABLE = "The request was well-formed but was unable to be followed due to semantic errors."

__all__ = ["EVENTS_NOT_FOUND", "EVENTS_UNAUTHORIZED", "EVENTS_UNPROCESSABLE", "GRPC_CODES", "INVALID_FIELD",
           "NOT_AUTHORIZED", "NOT_FOUND", "Problem", "SHAPES", "accounting", "events", "invalid", "not_found",
           "too_many", "unauthorized"]
