"""The one JSON answer shape of every HTTP route: bodies, errors, error handlers, headers.

Every answer the API gives is JSON (``/metrics`` aside), and every error is
``{"error": {"status", "code", "message", "details"}}`` (:func:`ledgerlink.errors.error_body`),
whether a view refused the request, ledgerlink raised a :class:`~ledgerlink.errors.LedgerlinkError`,
Flask refused the route or method, or the database was away. :func:`install` puts the
handlers and the security headers on an app, so routes that plugins add answer the same way.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, Response as FlaskResponse, current_app, request
from werkzeug.exceptions import HTTPException

from ledgerlink import jsonio
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import EventError, LedgerlinkError, error_body, error_body_for


def runtime() -> Runtime:
    """The runtime the app serving this request was built over."""
    return current_app.config["LEDGERLINK_RUNTIME"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> FlaskResponse:
    """``data`` as a JSON answer (dates, Decimals and bytes as :mod:`ledgerlink.jsonio` writes them)."""
    return FlaskResponse(jsonio.dumps(data), status=status, mimetype="application/json", headers=headers)


def error(status: int, code: str, message: str, details: Any = None,
          headers: dict[str, str] | None = None) -> FlaskResponse:
    """An answer in the one JSON error shape."""
    return json_response(error_body(status, code, message, details), status, headers)


def ledgerlink_error(exc: LedgerlinkError, status: int | None = None) -> FlaskResponse:
    """``exc`` in the one error shape, under its own status or ``status``."""
    body = error_body_for(exc)
    status = status or exc.status
    body["error"]["status"] = status
    return json_response(body, status)


def body_json() -> Any:
    """The request body as JSON (``{}`` when empty); an unreadable body is an :class:`EventError`."""
    raw = request.get_data(cache=False)
    if not raw:
        return {}
    try:
        return jsonio.loads(raw)
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"request body is not valid JSON at line {exc.line}, column {exc.column}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise EventError("request body is not UTF-8 JSON") from None


def security_headers(response: FlaskResponse) -> FlaskResponse:
    """Every answer: never content-sniffed as something else, never kept by a cache or proxy
    (run logs, recipes and metrics are the operator's data)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def handle_ledgerlink_error(exc: LedgerlinkError) -> FlaskResponse:
    return ledgerlink_error(exc)


def handle_http_error(exc: HTTPException) -> FlaskResponse:
    code = (exc.name or "error").lower().replace(" ", "_")
    # keep what the exception says in headers (a 405's Allow), but answer in JSON
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error(exc.code or 500, code, exc.description or exc.name, headers=headers)


#: the answer when the database is restarting or unreachable: a 503 tells the vendor to resend
#: (as Stripe and Intuit do) instead of giving up
DATABASE_AWAY = (503, "database_unavailable", "the database is unavailable; nothing was stored, try again shortly")


def note_database_away(rt: Runtime, exc: sa.exc.DBAPIError, logger: Any) -> None:
    """Log that the database is away: once when an outage starts, else as a warning."""
    from ledgerlink.store import unavailable

    if unavailable(exc):
        rt.store.note_unavailable(exc)  # logged once, when it starts
    else:
        logger.warning("database unavailable: %s", exc.orig)


def handle_database_away(exc: sa.exc.DBAPIError) -> FlaskResponse:
    """The database is restarting or unreachable: nothing was stored (:data:`DATABASE_AWAY`)."""
    note_database_away(runtime(), exc, current_app.logger)
    return error(*DATABASE_AWAY)


def handle_unexpected(exc: Exception) -> FlaskResponse:
    current_app.logger.exception("unexpected error")
    return error(500, "internal_error", "internal error; the server log has the details")


def install(app: Flask) -> None:
    """Answer every error of ``app`` in the one JSON shape and add the security headers to
    every answer, whichever blueprint (the host's or a plugin's) served the request."""
    app.register_error_handler(LedgerlinkError, handle_ledgerlink_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa.exc.DBAPIError, handle_database_away)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(security_headers)
