"""The sandbox base's Flask face: a :class:`~ledgerlink.testing.sandbox.Reply` sent as a Flask
response, and the JSON answers of a sandbox's ``/__sandbox`` routes.

Every vendor sandbox is a thin Flask app over a state object that answers in
:class:`~ledgerlink.testing.sandbox.Reply` (so the state stays testable without a web
framework); these are the two conversions each app needs, kept here once.
"""

from __future__ import annotations

from flask import Response

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


__all__ = ["json_response", "response"]
