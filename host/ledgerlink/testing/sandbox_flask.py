"""The sandbox base's Flask face: a :class:`~ledgerlink.testing.sandbox.Reply` sent as a Flask
response, the JSON answers of a sandbox's ``/__sandbox`` routes, and the two test routes every
sandbox with a clock and a state to forget serves the same way.

Every vendor sandbox is a thin Flask app over a state object that answers in
:class:`~ledgerlink.testing.sandbox.Reply` (so the state stays testable without a web
framework); these are the conversions and routes each app needs, kept here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request

from ledgerlink import jsonio
from ledgerlink.testing.sandbox import JSONValue, Reply


def response(reply: Reply) -> Response:
    """``reply`` as a Flask response: its status, body, content type and headers, unchanged."""
    sent = Response(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers.items():
        sent.headers[name] = value
    return sent


def json_response(body: JSONValue, status: int = 200) -> Response:
    """``body`` as JSON (Decimal amounts written exactly), for a sandbox's test-only routes."""
    return Response(jsonio.dumps(body), status=status, content_type="application/json")


def posted() -> dict[str, Any]:
    """The JSON object (or form) a ``/__sandbox`` POST carries; {} when it carries none."""
    if request.form:
        return request.form.to_dict()
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


def add_clock_routes(app: Flask, advance: Callable[[Any], JSONValue],
                     reset: Callable[[bool], Any] | None = None) -> None:
    """The test routes of a sandbox with a clock (and a state to forget), never authenticated:

    - ``POST /__sandbox/advance`` ``{"seconds": n}``: ``advance(n)`` moves the sandbox's clock
      on and returns the answer; a bad ``n`` (``TypeError``/``ValueError``) is a 400 naming it;
    - ``POST /__sandbox/reset`` ``{"tokens": true}``: ``reset(tokens)`` forgets what the
      sandbox holds (its issued tokens too when asked); answers ``{"reset": true}``.
    """
    @app.post("/__sandbox/advance")
    def sandbox_advance() -> Response:
        try:
            answer = advance(posted().get("seconds"))
        except (TypeError, ValueError) as exc:
            return json_response({"error": f"give {{\"seconds\": n}} with n >= 0: {exc}"}, 400)
        return json_response(answer)

    if reset is not None:
        @app.post("/__sandbox/reset")
        def sandbox_reset() -> Response:
            reset(bool(posted().get("tokens")))
            return json_response({"reset": True})


__all__ = ["add_clock_routes", "json_response", "posted", "response"]
