"""Webhook deliveries: how one is answered, and the short WSGI path that serves them.

:func:`accept` is the whole of ``POST /webhooks/<connection>``: the body-size limit, the
media types the connector's webhooks are sent as, the signature check and the store, each
refusal in the one JSON error shape. The Flask view (:mod:`ledgerlink.web.connections`)
answers with it, and so does :class:`WebhookPath`, which :func:`ledgerlink.web.app.create_app`
puts in front of Flask: deliveries are the one route a vendor calls thousands of times a
minute, and building Flask's request, context and response objects for each cost as much
CPU as storing it. Every other request (and every webhook request when a plugin added
request hooks Flask would run) goes to Flask unchanged, so both paths answer alike: same
statuses, bodies, security headers, logging and hook calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import parse_options_header
from werkzeug.wsgi import get_content_length, get_input_stream

from ledgerlink import jsonio
from ledgerlink.engine.events import call_hook
from ledgerlink.engine.health_series import record_rejection
from ledgerlink.errors import ConfigError, EventError, LedgerlinkError, SignatureError, error_body, error_body_for
from ledgerlink.web.responses import DATABASE_AWAY, note_database_away

if TYPE_CHECKING:
    from flask import Flask

    from ledgerlink.engine.runtime import Runtime

JSON = "application/json"
#: what an empty 200 says it is (as a Flask response without a media type does)
EMPTY = "text/html; charset=utf-8"
#: every answer's security headers (:func:`ledgerlink.web.responses.security_headers`)
SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")]
PREFIX = "/webhooks/"
#: the endpoint of the Flask view :class:`WebhookPath` stands in for
ENDPOINT = "connections.webhook_post"


@dataclass(frozen=True)
class Answer:
    """A webhook delivery's answer: status, body and its media type."""

    status: int
    body: bytes
    content_type: str = JSON


def error_answer(status: int, code: str, message: str) -> Answer:
    """An answer in the one JSON error shape."""
    return Answer(status, jsonio.dumpb(error_body(status, code, message)))


def ledgerlink_answer(exc: LedgerlinkError, status: int | None = None) -> Answer:
    """``exc`` in the one error shape, under its own status or ``status``."""
    body = error_body_for(exc)
    body["error"]["status"] = status = status or exc.status
    return Answer(status, jsonio.dumpb(body))


def accept(rt: Runtime, connection: str, content_length: int | None, mimetype: str,
           read: Callable[[int], bytes], headers: Mapping[str, str]) -> Answer:
    """Answer a delivery to ``connection``: 200 once stored (:meth:`~ledgerlink.engine.inbox.Inbox.receive`),
    else 413, 415, 404, 401 or 400 with nothing stored. ``read(n)`` reads up to ``n`` bytes
    of the body; ``mimetype`` is the lower-cased media type of ``Content-Type``. Database
    errors and unexpected ones are raised for the caller to answer (503, 500)."""
    limit = rt.settings.max_body_bytes
    if content_length is not None and content_length > limit:
        return error_answer(413, "body_too_large", f"webhook bodies are limited to {limit} bytes")
    known = connection in rt.config.connections or connection in rt.catalog.connectors
    try:
        hook = rt.catalog.connectors[rt.connections.connection(connection).connector].webhook if known else None
    except LedgerlinkError:  # receive() below names what is wrong with the connection
        hook = None
    accepted = hook.content_types if hook is not None else (JSON,)
    if mimetype not in accepted and not (JSON in accepted and mimetype.endswith("+json")):
        return error_answer(415, "unsupported_media_type",
                            f"webhooks must be sent as {' or '.join(accepted)}, not {mimetype or 'no content type'}")
    body = read(limit + 1)
    if len(body) > limit:
        return error_answer(413, "body_too_large", f"webhook bodies are limited to {limit} bytes")
    if not known:
        return error_answer(404, "unknown_connection", f"no connection named {connection!r} is configured")
    try:
        result = rt.inbox.receive(connection, headers, body)
    except (SignatureError, EventError) as exc:
        at = rt.host.now()
        record_rejection(rt.store, connection, exc.message, at)  # the health page's refusals per hour
        call_hook(rt, "ledgerlink_webhook_rejected", connection=connection, reason=exc.message, at=at)
        return ledgerlink_answer(exc, 401 if isinstance(exc, SignatureError) else 400)
    except ConfigError as exc:
        return ledgerlink_answer(exc, 400)
    if hook is not None and hook.empty_answer:
        return Answer(200, b"", EMPTY)
    return Answer(200, jsonio.dumpb(result))


def install(app: Flask) -> None:
    """Put :class:`WebhookPath` in front of ``app``'s WSGI callable, and give ``app`` its
    ``direct`` (:meth:`WebhookPath.direct`), which ledgerlink's server calls for a POST
    before building a WSGI environment (:mod:`ledgerlink.web.servers.channels`). Once
    something else wraps ``app.wsgi_app`` (a middleware), ``direct`` answers nothing and
    every request goes through that wrapper."""
    app.wsgi_app = WebhookPath(app, app.wsgi_app)  # type: ignore[method-assign]

    def direct(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        path = app.wsgi_app
        return path.direct(environ) if isinstance(path, WebhookPath) else None

    app.direct = direct  # type: ignore[attr-defined]


def database_away(rt: Runtime, exc: sa.exc.DBAPIError, logger: Any) -> Answer:
    """The database is restarting or unreachable: nothing was stored, and a 503 tells the
    vendor to resend (:data:`ledgerlink.web.responses.DATABASE_AWAY`)."""
    note_database_away(rt, exc, logger)
    return error_answer(*DATABASE_AWAY)


_REASONS = {200: "OK", 400: "BAD REQUEST", 401: "UNAUTHORIZED", 404: "NOT FOUND", 413: "REQUEST ENTITY TOO LARGE",
            415: "UNSUPPORTED MEDIA TYPE", 500: "INTERNAL SERVER ERROR", 503: "SERVICE UNAVAILABLE"}


class WebhookPath:
    """WSGI middleware over a ledgerlink Flask ``app``: answers ``POST /webhooks/<connection>``
    with :func:`accept` directly, and hands every other request to ``app``'s own WSGI callable.

    It stands aside (Flask serves the delivery) while ``app`` has request hooks other than
    the security headers, e.g. ones a plugin's blueprint added for the whole app, so what
    Flask would run for a delivery is never skipped."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        from ledgerlink.web.responses import security_headers

        self.app = app
        self.wsgi_app = wsgi_app
        self._security_headers = security_headers
        adapter = app.url_map.bind("localhost")
        try:
            self._enabled = adapter.match(PREFIX + "x", "POST")[0] == ENDPOINT
        except Exception:  # noqa: BLE001 - no such route here: Flask answers as it would
            self._enabled = False

    def _plain(self) -> bool:
        """True while no request hook but the security headers would run for a webhook.

        Only the app's own hooks and those of the blueprint holding the webhook route count: a
        plugin's blueprint (the console's session, say) hooks its own pages alone.
        """
        app = self.app
        scope = (None, *self._webhook_blueprints())
        return (not any(app.before_request_funcs.get(key) for key in scope)
                and not any(app.url_value_preprocessors.get(key) for key in scope)
                and not any(app.teardown_request_funcs.get(key) for key in scope)
                and app.after_request_funcs.get(None) == [self._security_headers]
                and not any(app.after_request_funcs.get(key) for key in scope if key is not None))

    @staticmethod
    def _webhook_blueprints() -> tuple[str, ...]:
        """The names of the blueprint (and its parents) whose view answers ``POST /webhooks/…``."""
        parts = ENDPOINT.split(".")[:-1]
        return tuple(".".join(parts[:i]) for i in range(1, len(parts) + 1))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answered = self.direct(environ)
        if answered is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answered
        start_response(status, headers)
        return [body]

    def delivery(self, environ: Mapping[str, Any]) -> str | None:
        """The connection a request is a delivery to, when this path answers it (a ``POST
        /webhooks/<connection>`` while Flask would run no hook for it); None: Flask answers."""
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.startswith(PREFIX) or not self._enabled:
            return None
        name = path[len(PREFIX):]
        if not name or "/" in name or not self._plain():
            return None
        try:
            return name.encode("latin-1").decode("utf-8")
        except UnicodeError:  # Flask decodes it its own way
            return None

    def direct(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The whole answer to a delivery this path answers: status line, headers and body;
        None for any other request (hand it to the WSGI app).

        ``environ`` needs only the request's method, path, ``CONTENT_TYPE``,
        ``CONTENT_LENGTH``, ``HTTP_*`` headers and ``wsgi.input``: the server
        (:mod:`ledgerlink.web.servers.channels`) calls this with no full WSGI environment
        built, and answers with the status and headers as given."""
        name = self.delivery(environ)
        if name is None:
            return None
        answer = self._answer(environ, name)
        return (f"{answer.status} {_REASONS.get(answer.status, '')}",
                [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body))),
                 *SECURITY_HEADERS], answer.body)

    def _answer(self, environ: dict[str, Any], connection: str) -> Answer:
        rt = self.app.config["LEDGERLINK_RUNTIME"]
        mimetype = parse_options_header(environ.get("CONTENT_TYPE", ""))[0].lower()
        max_length = self.app.config.get("MAX_CONTENT_LENGTH")

        def read(size: int) -> bytes:
            return get_input_stream(environ, safe_fallback=False, max_content_length=max_length).read(size)

        try:
            return accept(rt, connection, get_content_length(environ), mimetype, read, EnvironHeaders(environ))
        except LedgerlinkError as exc:
            return ledgerlink_answer(exc)
        except sa.exc.DBAPIError as exc:
            return database_away(rt, exc, self.app.logger)
        except Exception:  # noqa: BLE001 - answered as Flask's handler answers it
            self.app.logger.exception("unexpected error")
            return error_answer(500, "internal_error", "internal error; the server log has the details")
