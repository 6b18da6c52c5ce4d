"""ledgerlink's server answers webhook deliveries without a WSGI environment (the app's
``direct``), byte for byte as it answers them through WSGI, over real HTTP on loopback."""

from __future__ import annotations

import socket

import pytest

from ledgerlink.web import servers
from ledgerlink.web.webhooks import WebhookPath
from runtime_fixtures import signed
from stripe_events import invoice_paid_event, sign


def exchange(port: int, raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send one raw request; (status line, headers but Date, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        while len(body) < int(headers["Content-Length"]):
            body += sock.recv(65536)
    headers.pop("Date")
    return lines[0], headers, body


def request(body: bytes, headers: dict[str, str], connection: str = "stripe", version: str = "1.1",
            method: str = "POST") -> bytes:
    head = [f"{method} /webhooks/{connection} HTTP/{version}", "Host: 127.0.0.1",
            f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def deliveries(n: int) -> list[tuple[str, bytes]]:
    """(name, raw request) of every kind of answer and connection handling; ``n`` keeps ids apart."""
    body, headers = signed(invoice_paid_event("usd", 1000, event_id=f"evt_direct_{n}"))
    again, again_headers = signed(invoice_paid_event("usd", 1000, event_id=f"evt_direct_close_{n}"))
    old, old_headers = signed(invoice_paid_event("usd", 1000, event_id=f"evt_direct_old_{n}"))
    broken = b'{"id": "evt_1", "type": '
    return [
        ("stored", request(body, headers)),
        ("duplicate", request(body, headers)),
        ("stored, then closed as asked", request(again, {**again_headers, "Connection": "close"})),
        ("HTTP/1.0, closed", request(old, old_headers, version="1.0")),
        ("HTTP/1.0 keep-alive", request(body, {**headers, "Connection": "keep-alive"}, version="1.0")),
        ("bad signature", request(body, {**headers, "Stripe-Signature": "t=1,v1=00"})),
        ("media type", request(body, {**headers, "Content-Type": "text/plain"})),
        ("too large", request(b"x" * 1_000_001, headers)),
        ("broken json", request(broken, {"Stripe-Signature": sign(broken), "Content-Type": "application/json"})),
        ("unknown connection", request(body, headers, connection="nope")),
        ("a proxy header is not passed on", request(body, {**headers, "X-Forwarded-For": "10.0.0.1"})),
        ("not a POST", request(b"", {}, method="GET")),
    ]


@pytest.fixture
def counted(monkeypatch):
    """The deliveries that reached the WSGI short path (as opposed to ``direct``)."""
    seen: list[str] = []
    through_wsgi = WebhookPath.__call__

    def counting(self, environ, start_response):
        seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return through_wsgi(self, environ, start_response)

    monkeypatch.setattr(WebhookPath, "__call__", counting)
    return seen


def test_every_kind_of_delivery_is_answered_alike_with_and_without_wsgi(app, counted):
    def wsgi_only(environ, start_response):  # no ``direct``: the server goes through WSGI
        return app(environ, start_response)

    with servers.background(app) as direct, servers.background(wsgi_only) as wsgi:
        answers = []
        for (name, raw), (_, raw_wsgi) in zip(deliveries(1), deliveries(2)):
            before = len(counted)
            answered = exchange(direct.port, raw)
            assert len(counted) == before + (name == "not a POST"), name  # only the GET went through WSGI
            through_wsgi = exchange(wsgi.port, raw_wsgi)
            assert len(counted) == before + 1 + (name == "not a POST"), name
            assert answered == through_wsgi, name
            answers.append((answered[0], answered[1].get("Connection")))
    assert answers == [("HTTP/1.1 200 OK", None), ("HTTP/1.1 200 OK", None), ("HTTP/1.1 200 OK", "close"),
                       ("HTTP/1.0 200 OK", "close"), ("HTTP/1.0 200 OK", "Keep-Alive"),
                       ("HTTP/1.1 401 UNAUTHORIZED", None), ("HTTP/1.1 415 UNSUPPORTED MEDIA TYPE", None),
                       ("HTTP/1.1 413 REQUEST ENTITY TOO LARGE", None), ("HTTP/1.1 400 BAD REQUEST", None),
                       ("HTTP/1.1 404 NOT FOUND", None), ("HTTP/1.1 200 OK", None),
                       ("HTTP/1.1 405 METHOD NOT ALLOWED", None)]
    assert app.config["LEDGERLINK_RUNTIME"].store.count_events() == 6  # three per server, nothing refused stored


def test_a_middleware_wrapping_the_app_sees_every_delivery(app, counted):
    wrapped = []
    inner = app.wsgi_app

    def middleware(environ, start_response):
        wrapped.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = middleware
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_direct_wrapped"))
    with servers.background(app) as running:
        status, _, _ = exchange(running.port, request(body, headers))
    assert status == "HTTP/1.1 200 OK"
    assert wrapped == ["/webhooks/stripe"] and counted == ["POST /webhooks/stripe"]
