"""The pool the actions' requests go out on: the exact request httpx would send, what is
sent on the wire, kept-alive connections, and every failure told apart as the runner needs
it (NotSent: nothing reached the server; OutcomeUnknown: it may have).

Every server here is a real one on loopback: a raw TCP listener that records the bytes it
got and answers with the bytes a test gives it (or closes, or stays silent).
"""

from __future__ import annotations

import datetime
import gzip
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest

from ledgerlink.contract import Request
from ledgerlink.errors import NotSent, OutcomeUnknown
from ledgerlink.io import outbound
from ledgerlink.io.http_pool import HttpPool

OK_JSON = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"id": "7"}'

#: answer(request_bytes, connection_number) -> bytes to send back, or None to close without answering
Answerer = Callable[[bytes, int], "bytes | None"]


class RawServer:
    """A loopback HTTP/1.1 listener: each request's bytes, and on which connection it came."""

    def __init__(self, answer: Answerer, close_after_answer: bool = False) -> None:
        self.answer = answer
        self.close_after_answer = close_after_answer
        #: connections this server has closed
        self.closed = 0
        self.requests: list[tuple[int, bytes]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock, self.connections), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            self._exchange(sock, number)
        finally:
            sock.close()
            self.closed += 1

    def _exchange(self, sock: socket.socket, number: int) -> None:
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(rest) < length:
                rest += sock.recv(65536)
            request, buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
            self.requests.append((number, request))
            reply = self.answer(request, number)
            if reply is None:
                return
            sock.sendall(reply)
            if self.close_after_answer:
                return

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def raw_server(answer: Answerer, close_after_answer: bool = False) -> Iterator[RawServer]:
    server = RawServer(answer, close_after_answer)
    try:
        yield server
    finally:
        server.close()


@contextmanager
def pool(**kwargs: float) -> Iterator[HttpPool]:
    made = outbound.new_pool(**kwargs)
    try:
        yield made
    finally:
        made.close()


def entry(url: str, **kwargs) -> Request:
    return Request("POST", f"{url}/v3/company/1/journalentry", params={"requestid": "k-1", "minorversion": "75"},
                   headers={"Accept": "application/json"},
                   json={"Line": [{"Amount": Decimal("12.30")}], "Note": "paid & booked"}, **kwargs)


# --- the request: what httpx would have sent ------------------------------------------------

@pytest.mark.parametrize("request_", [
    Request("POST", "http://127.0.0.1:9/v3/company/1/journalentry", params={"requestid": "k/1 2", "m": "75"},
            headers={"Accept": "application/json"}, json={"a": Decimal("1.10")}),
    Request("GET", "http://Example.COM:80/v1/customers/cus 1", params={}),
    Request("GET", "https://example.com/api/é/x", params={"where": "Name = 'A&B'"}),
    Request("GET", "https://example.com/api?fixed=1", params={"page": "2"}),
    Request("GET", "http://[::1]:8080/x", params={"n": 3, "flag": True}),  # values httpx converts
    Request("POST", "http://example.com/v1/x", form=[("expand[]", "a"), ("expand[]", "b")]),
    Request("POST", "http://example.com/v1/x", form=[]),
    Request("DELETE", "http://example.com/v1/x/1", headers={"Host": "other.example", "X-Trace": "t"}),
], ids=["json+params", "no-params", "idn-path+query", "own-query", "ipv6+converted", "form", "empty-form",
        "own-host"])
def test_the_prepared_request_is_the_one_httpx_would_send(request_):
    auth = {"Authorization": "Bearer secret-token"}
    prepared = outbound.prepare(request_, auth, sign=lambda body: {"X-Signature": f"sig-{len(body)}"})
    content = (outbound.jsonio.dumps(request_.json).encode() if request_.json is not None
               else outbound.urlencode(list(request_.form)).encode() if request_.form is not None else None)
    headers = {"User-Agent": outbound.USER_AGENT, **request_.headers, **auth}
    if content is not None:
        headers["Content-Type"] = "application/json" if request_.json is not None else outbound.FORM
    headers["X-Signature"] = f"sig-{len(content or b'')}"
    expected = httpx.Request(request_.method, request_.url, params=dict(request_.params), headers=headers,
                             content=content)
    assert prepared.url == str(expected.url)
    assert prepared.target == expected.url.raw_path.decode()
    assert prepared.wire == [(k.decode(), v.decode()) for k, v in expected.headers.raw]
    assert prepared.headers == dict(expected.headers.items())
    assert prepared.content == expected.content
    built = outbound.build(request_, auth, sign=lambda body: {"X-Signature": f"sig-{len(body)}"})
    assert str(built.url) == prepared.url and built.headers.raw == expected.headers.raw


# --- on the wire ----------------------------------------------------------------------------

def test_the_request_goes_out_exactly_as_prepared_and_the_connection_is_kept():
    with raw_server(lambda request, number: OK_JSON) as server, pool() as http:
        request = entry(server.url)
        for _ in range(3):
            response, sent = outbound.send(http, request, {"Authorization": "Bearer secret-token"},
                                           ["secret-token"])
        prepared = outbound.prepare(request, {"Authorization": "Bearer secret-token"})
    head = f"POST {prepared.target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in prepared.wire) + "\r\n"
    assert [r for _, r in server.requests] == [head.encode() + prepared.content] * 3
    assert b"accept-encoding" not in server.requests[0][1].lower()  # nothing httpx would not have sent
    assert {number for number, _ in server.requests} == {1}  # one kept-alive connection
    assert response.status == 200 and response.json == {"id": "7"} and response.text == '{"id": "7"}'
    assert response.headers == {"content-type": "application/json", "content-length": "11"}
    assert sent.request["headers"]["authorization"] == "Bearer [REDACTED]" and sent.status == 200


def test_an_answer_s_headers_are_lower_case_repeats_joined_gzip_decoded_charset_read():
    body = gzip.compress("Café".encode("latin-1"))
    reply = (b"HTTP/1.1 201 Created\r\nContent-Type: text/plain; charset=latin-1\r\nContent-Encoding: gzip\r\n"
             b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with raw_server(lambda request, number: reply) as server, pool() as http:
        response, _ = outbound.send(http, Request("GET", f"{server.url}/x"), {}, [])
    assert response.status == 201 and response.text == "Café" and response.json is None
    assert response.headers["set-cookie"] == "a=1, b=2" and "Content-Type" not in response.headers


#: answers whose head the pool reads itself (not through the email package): each is read as
#: httpx reads it (status, header fields, body)
HEADS = {
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n",
    "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}",
    "early-hints": b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                   b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "http-1.0-to-close": b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\": 1}",
    "no-content": b"HTTP/1.1 204 No Content\r\nX-Request-Id: r-1\r\n\r\n",
    "spaces-and-case": b"HTTP/1.1 200 OK\r\nX-Pad:   spaced value\t \r\nCONTENT-length: 3\r\nx-pad: two\r\n\r\nabc",
    "empty-value": b"HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n",
    "chunk-extension-and-trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n"
                                   b"A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
    "folded": b"HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\nContent-Length: 2\r\n\r\nok",
}


@pytest.mark.parametrize("reply", HEADS.values(), ids=HEADS.keys())
def test_an_answer_s_head_is_read_as_httpx_reads_it(reply):
    closes = reply.startswith(b"HTTP/1.0")
    with raw_server(lambda request, number: reply, close_after_answer=closes) as server, pool() as http:
        ours, _ = outbound.send(http, Request("GET", f"{server.url}/x"), {}, [])
        theirs = httpx.get(f"{server.url}/x")
    assert ours.status == theirs.status_code
    assert ours.headers == {name: ", ".join(theirs.headers.get_list(name)) for name in theirs.headers.keys()}
    assert ours.text == theirs.text


def test_an_answer_with_too_many_header_fields_is_an_unknown_outcome():
    reply = b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 101 + b"Content-Length: 0\r\n\r\n"
    with raw_server(lambda request, number: reply) as server, pool() as http:
        with pytest.raises(OutcomeUnknown, match="after the request was sent"):
            outbound.send(http, entry(server.url), {}, [])


def test_answers_one_after_another_on_one_connection_each_read_whole():
    # bare LF line ends, a 100 Continue first, then a chunked answer: each taken off the
    # connection exactly, so the next answer starts where the last ended
    replies = [b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
               b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n",
               OK_JSON]
    with raw_server(lambda request, number: replies.pop(0)) as server, pool() as http:
        bodies = [outbound.send(http, Request("GET", f"{server.url}/{n}"), {}, [])[0].text for n in range(3)]
    assert bodies == ["abc", "de", '{"id": "7"}'] and {n for n, _ in server.requests} == {1}


def test_an_answer_followed_by_bytes_nobody_asked_for_does_not_keep_its_connection():
    with raw_server(lambda request, number: OK_JSON + b"HTTP/1.1 200 OK\r\n") as server, pool() as http:
        for path in ("/a", "/b"):
            assert outbound.send(http, Request("GET", f"{server.url}{path}"), {}, [])[0].status == 200
    assert [n for n, _ in server.requests] == [1, 2]


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    b"ICY 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/2 200\r\nContent-Length: 0\r\n\r\n",
], ids=["bad-chunk-size", "head-too-long", "not-http", "bad-status", "http-2"])
def test_a_malformed_answer_is_an_unknown_outcome(reply):
    with raw_server(lambda request, number: reply, close_after_answer=True) as server, pool() as http:
        with pytest.raises(OutcomeUnknown, match="RemoteProtocolError after the request was sent"):
            outbound.send(http, entry(server.url), {}, [])


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nInjected: 1"}, {"Bad Name:": "v"}])
def test_a_header_that_would_break_the_request_is_refused_before_sending(headers):
    with raw_server(lambda request, number: OK_JSON) as server, pool() as http:
        with pytest.raises(ValueError) as info:
            outbound.send(http, Request("GET", f"{server.url}/x", headers=headers), {}, [])
    assert "Injected: 1" not in str(info.value) and not server.requests


def test_a_redirect_is_an_answer_not_followed():
    reply = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n"
    with raw_server(lambda request, number: reply) as server, pool() as http:
        response, _ = outbound.send(http, Request("GET", f"{server.url}/x"), {}, [])
    assert response.status == 302 and response.headers["location"].endswith("/elsewhere")
    assert len(server.requests) == 1


def test_a_connection_the_server_closed_while_idle_is_not_used_again():
    # the server answers and then closes the connection without saying so (no Connection: close)
    with raw_server(lambda request, number: OK_JSON, close_after_answer=True) as server, pool() as http:
        outbound.send(http, Request("GET", f"{server.url}/a"), {}, [])
        while server.closed < 1:
            threading.Event().wait(0.01)
        response, _ = outbound.send(http, Request("GET", f"{server.url}/b"), {}, [])
    assert response.status == 200 and [n for n, _ in server.requests] == [1, 2]


def test_connection_close_is_honoured():
    reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
    with raw_server(lambda request, number: reply) as server, pool() as http:
        for path in ("/a", "/b"):
            assert outbound.send(http, Request("GET", f"{server.url}{path}"), {}, [])[0].status == 200
    assert [n for n, _ in server.requests] == [1, 2]


# --- failures -------------------------------------------------------------------------------

def test_a_refused_connection_is_not_sent_and_names_no_secret():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    with pool() as http, pytest.raises(NotSent) as info:
        outbound.send(http, entry(f"http://127.0.0.1:{port}"), {"Authorization": "Bearer secret-token"},
                      ["secret-token"])
    assert "ConnectError" in str(info.value) and "secret-token" not in str(info.value)
    assert info.value.sent.status is None and info.value.sent.request["method"] == "POST"


def test_an_unsupported_scheme_is_not_sent():
    with pool() as http, pytest.raises(NotSent, match="UnsupportedProtocol"):
        outbound.send(http, Request("GET", "ftp://127.0.0.1/x"), {}, [])


def test_no_answer_in_time_is_an_unknown_outcome():
    silent = threading.Event()
    with raw_server(lambda request, number: silent.wait(5) and None) as server, pool(read_timeout=0.2) as http:
        with pytest.raises(OutcomeUnknown, match="ReadTimeout after the request was sent"):
            outbound.send(http, entry(server.url), {}, [])
        silent.set()
    assert len(server.requests) == 1  # it reached the server: the runner looks it up before resending


def test_a_connection_closed_instead_of_an_answer_is_an_unknown_outcome():
    with raw_server(lambda request, number: None) as server, pool() as http:
        with pytest.raises(OutcomeUnknown, match="RemoteProtocolError after the request was sent"):
            outbound.send(http, entry(server.url), {}, [])
    assert len(server.requests) == 1


def test_a_truncated_answer_is_an_unknown_outcome():
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"JournalEntry\":"
    with raw_server(lambda request, number: reply, close_after_answer=True) as server, pool() as http:
        with pytest.raises(OutcomeUnknown, match="RemoteProtocolError after the request was sent"):
            outbound.send(http, entry(server.url), {}, [])


def test_no_free_connection_in_time_is_not_sent():
    release = threading.Event()
    answered: list[int] = []

    def answer(request: bytes, number: int) -> bytes:
        release.wait(10)
        return OK_JSON

    with raw_server(answer) as server, pool(read_timeout=5.0) as http:
        http.max_connections = 1
        first = threading.Thread(target=lambda: answered.append(
            outbound.send(http, Request("GET", f"{server.url}/slow"), {}, [])[0].status))
        first.start()
        while not server.requests:
            threading.Event().wait(0.01)
        http.read_timeout = 0.1  # how long the second request waits for the one connection
        with pytest.raises(NotSent, match="PoolTimeout"):
            outbound.send(http, Request("GET", f"{server.url}/waiting"), {}, [])
        release.set()
        first.join(10)
    assert answered == [200] and len(server.requests) == 1  # the second never went out


def test_tls_certificates_are_verified():
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    import tempfile
    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as pem:
        pem.write(cert.public_bytes(serialization.Encoding.PEM))
        pem.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
        pem.flush()
        server_context.load_cert_chain(pem.name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        try:
            sock, _ = listener.accept()
            with server_context.wrap_socket(sock, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        with pool() as http, pytest.raises(NotSent, match="ConnectError"):  # a self-signed certificate
            outbound.send(http, Request("GET", f"https://127.0.0.1:{port}/x"), {}, [])
    finally:
        listener.close()
        thread.join(5)
