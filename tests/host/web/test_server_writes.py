"""How the server writes a response: a small body written whole goes out with its headers in
one write (one send, one TCP segment); every other kind of response is written as waitress
writes it — streamed, chunked, without a body, longer than one piece, or cut at its
Content-Length."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink.web import servers
from ledgerlink.web.servers import channels


def app(environ, start_response):
    kind = environ["PATH_INFO"].strip("/")
    if kind == "small":
        body = b'{"received":1}'
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if kind == "streamed":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"01234", b"56789"]
    if kind == "chunked":  # no length: HTTP/1.1 chunks
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"abc", b"def"]
    if kind == "large":
        body = b"x" * (channels.ONE_PIECE + 1)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if kind == "too-long":  # more than its Content-Length: cut, as waitress cuts it
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"abcdefgh"]
    start_response("204 No Content", [])
    return [b""]


@pytest.fixture()
def writes(monkeypatch):
    """The server's writes to its connections, each as the bytes handed to the channel."""
    seen: list[bytes] = []
    original = channels._Channel.write_soon

    def write_soon(self, data):
        seen.append(bytes(data))
        return original(self, data)

    monkeypatch.setattr(channels._Channel, "write_soon", write_soon)
    return seen


def test_a_small_answer_is_written_with_its_headers_at_once(writes):
    with servers.background(app) as running, httpx.Client(base_url=running.url) as client:
        answer = client.post("/small", content=b"{}")
    assert answer.status_code == 200 and answer.json() == {"received": 1}
    assert answer.headers["content-length"] == "14"
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b'{"received":1}')


@pytest.mark.parametrize("kind, status, body, pieces", [
    ("streamed", 200, b"0123456789", 3),
    ("chunked", 200, b"abcdef", 4),  # headers, two chunks, the last chunk
    ("large", 200, b"x" * (channels.ONE_PIECE + 1), 2),
    ("too-long", 200, b"abcd", 2),
    ("nothing", 204, b"", 1),
])
def test_other_answers_are_written_as_waitress_writes_them(writes, kind, status, body, pieces):
    with servers.background(app) as running, httpx.Client(base_url=running.url) as client:
        answer = client.get(f"/{kind}")
        again = client.get("/small")  # the connection still frames the next answer right
    assert (answer.status_code, answer.content) == (status, body)
    assert again.json() == {"received": 1}
    assert len(writes) == pieces + 1
