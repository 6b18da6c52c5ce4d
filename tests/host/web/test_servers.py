"""ledgerlink.web.servers: waitress in the background on a free loopback port, stopped cleanly,
and bounded against idle, slow and too many connections."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import httpx
import pytest

from ledgerlink.errors import ConfigError
from ledgerlink.web import servers
from ledgerlink.web.servers.limits import MAX_REQUEST_BODY, ConnectionLimits


def hello(environ, start_response):
    """A tiny WSGI app: echoes the path."""
    body = f"hello {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def server_threads() -> set[str]:
    return {t.name for t in threading.enumerate()
            if t.name.startswith(("ledgerlink-server-", "waitress-"))}


def test_background_serves_then_frees_the_port():
    before = server_threads()
    with servers.background(hello) as running:
        assert running.url == f"http://127.0.0.1:{running.port}"
        assert running.port > 0
        # a kept-alive connection must not keep the server from stopping
        with httpx.Client() as client:
            response = client.get(running.url + "/ping")
            assert response.status_code == 200
            assert response.text == "hello /ping"
            assert response.headers["server"] == "ledgerlink"
            assert port_open(running.port)
            running.stop()
            assert not running.running
    assert not port_open(running.port)
    assert server_threads() <= before  # the loop thread and every worker have ended


def test_leaving_the_block_stops_the_server_even_on_error():
    with pytest.raises(RuntimeError, match="boom"):
        with servers.background(hello) as running:
            assert httpx.get(running.url + "/x").status_code == 200
            raise RuntimeError("boom")
    assert not running.running
    assert not port_open(running.port)
    running.stop()  # a second stop is harmless


def test_two_servers_at_once_on_different_ports():
    with servers.background(hello) as one, servers.background(hello) as two:
        assert one.port != two.port
        assert httpx.get(one.url + "/one").text == "hello /one"
        assert httpx.get(two.url + "/two").text == "hello /two"
        one.stop()
        assert not port_open(one.port)
        assert httpx.get(two.url + "/still").text == "hello /still"
    assert not port_open(two.port)


def test_requests_are_served_concurrently_and_in_flight_ones_finish_on_stop():
    together = threading.Barrier(8, timeout=5)
    in_flight = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/together":
            together.wait()  # breaks (500) unless 8 requests are served at the same time
        elif environ["PATH_INFO"] == "/slow":
            in_flight.set()
            time.sleep(0.3)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    with servers.background(app, threads=8) as running:
        results: list[int] = []

        def call(path):
            results.append(httpx.get(running.url + path, timeout=10).status_code)

        callers = [threading.Thread(target=call, args=("/together",)) for _ in range(8)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        assert results == [200] * 8

        late = threading.Thread(target=call, args=("/slow",))
        late.start()
        assert in_flight.wait(5)  # the request is being served when stop() begins
        running.stop()
        late.join()
        assert results[-1] == 200


def test_a_port_in_use_is_refused():
    with servers.background(hello) as running:
        with pytest.raises(ConfigError) as refused:
            with servers.background(hello, port=running.port):
                pass
    assert refused.value.message == (f"cannot listen on 127.0.0.1:{running.port}: another process listens on "
                                     f"that port; stop it, or choose another port")


def test_a_refused_port_leaks_no_thread():
    with servers.background(hello) as running:
        before = server_threads()
        with pytest.raises(ConfigError):
            with servers.background(hello, port=running.port):
                pass
        assert server_threads() == before


# --- what a client may take of the server ---------------------------------------------------

#: generous bound for "promptly": the limits under test are a fraction of it
PROMPT = 5.0


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PROMPT * 2)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def exchange(sock: socket.socket, path: str = "/") -> bytes:
    """One keep-alive GET on ``sock``; the response's head and body."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


class Dripper(threading.Thread):
    """Sends ``data`` one byte every ``every`` seconds until the server closes the connection."""

    def __init__(self, port: int, data: bytes, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.sock = connect(port)
        self.data = data
        self.every = every
        self.sent = 0
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for i in range(len(self.data)):
                if self.stop.wait(self.every):
                    return
                self.sock.send(self.data[i:i + 1])
                self.sent += 1
        except OSError:  # the server closed the connection
            return


HEAD = b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"a" * 4000
BODY_HEAD = b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n"


def test_idle_and_dripping_connections_do_not_delay_a_request():
    limits = ConnectionLimits(request_timeout=30, idle_timeout=30)  # none is closed meanwhile
    with servers.background(hello, limits=limits) as running:
        idle = [connect(running.port) for _ in range(400)]
        drippers = [Dripper(running.port, HEAD) for _ in range(20)]
        drippers += [Dripper(running.port, BODY_HEAD + b"x" * 4000) for _ in range(20)]
        for dripper in drippers:
            dripper.start()
        try:
            time.sleep(0.3)  # every connection is open and the drippers are mid-request
            for attempt in range(5):
                started = time.monotonic()
                response = httpx.get(running.url + f"/real/{attempt}", timeout=PROMPT * 2)
                assert response.status_code == 200 and response.text == f"hello /real/{attempt}"
                assert time.monotonic() - started < PROMPT
            assert all(d.is_alive() and d.sent > 0 for d in drippers)  # still dripping, still open
        finally:
            for dripper in drippers:
                dripper.stop.set()
                dripper.sock.close()
            for sock in idle:
                sock.close()


@pytest.mark.parametrize("data", [HEAD, BODY_HEAD + b"x" * 4000], ids=["headers", "body"])
def test_a_request_dripping_in_is_answered_408_and_closed_at_its_deadline(data):
    limits = ConnectionLimits(request_timeout=0.5, idle_timeout=30)
    with servers.background(hello, limits=limits) as running:
        dripper = Dripper(running.port, data, every=0.02)  # steady: never idle for long
        started = time.monotonic()
        dripper.start()
        answer = read_until_closed(dripper.sock)
        closed_after = time.monotonic() - started
        dripper.stop.set()
        dripper.join(PROMPT)
        dripper.sock.close()
        assert closed_after < PROMPT
        assert 0 < dripper.sent < len(data)  # closed mid-request, never idle for more than 0.02 s
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
        assert b"Connection: close" in head.split(b"\r\n")
        error = json.loads(body)["error"]
        assert error["code"] == "request_timeout" and "0.5 s" in error["message"]


def test_an_idle_connection_is_closed_after_the_idle_timeout():
    limits = ConnectionLimits(request_timeout=30, idle_timeout=0.3)
    with servers.background(hello, limits=limits) as running:
        kept_alive = connect(running.port)
        never_spoke = connect(running.port)
        with kept_alive, never_spoke:
            assert b"hello /one" in exchange(kept_alive, "/one")
            assert b"hello /two" in exchange(kept_alive, "/two")  # kept alive between requests
            started = time.monotonic()
            assert read_until_closed(kept_alive) == b""
            assert read_until_closed(never_spoke) == b""
            assert time.monotonic() - started < PROMPT
        assert httpx.get(running.url + "/after").text == "hello /after"


def test_beyond_the_ceiling_a_connection_gets_a_fast_503_then_room_again():
    limits = ConnectionLimits(max_connections=5, request_timeout=30, idle_timeout=30)
    with servers.background(hello, limits=limits) as running:
        held: list[socket.socket] = []
        deadline = time.monotonic() + PROMPT
        while len(held) < 5:  # five connections, each served (the start-up probe may linger a moment)
            sock = connect(running.port)
            answer = exchange(sock, f"/{len(held)}")
            if answer.startswith(b"HTTP/1.1 503 ") and time.monotonic() < deadline:
                sock.close()
                time.sleep(0.05)
                continue
            assert f"hello /{len(held)}".encode() in answer
            held.append(sock)
        for _ in range(3):  # each extra one, whether it sends its request at once or not
            started = time.monotonic()
            response = httpx.post(running.url + "/hook", content=b'{"id": "evt_1"}', timeout=PROMPT * 2)
            assert time.monotonic() - started < PROMPT
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.headers["connection"] == "close"
            assert response.json()["error"]["code"] == "server_busy"
            assert set(response.json()["error"]) == {"status", "code", "message"}
        with connect(running.port) as silent:
            assert read_until_closed(silent).startswith(b"HTTP/1.1 503 ")
        held.pop().close()
        deadline = time.monotonic() + PROMPT
        while True:  # the server notices the hang-up, then has room again
            response = httpx.get(running.url + "/room", timeout=PROMPT * 2)
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert response.status_code == 200 and response.text == "hello /room"
        for sock in held:
            assert b"hello /still" in exchange(sock, "/still")  # the held ones were never dropped
            sock.close()


def test_requests_waiting_for_a_thread_are_summed_up_not_warned_one_by_one(caplog):
    def slow(environ, start_response):
        time.sleep(0.05)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    with caplog.at_level(logging.INFO):
        with servers.background(slow, threads=1) as running:
            callers = [threading.Thread(target=httpx.get, args=(running.url + "/q",)) for _ in range(8)]
            for caller in callers:
                caller.start()
            for caller in callers:
                caller.join()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    summaries = [r.getMessage() for r in caplog.records if r.name.startswith("ledgerlink.web.servers")]
    assert len(summaries) == 1 and "waited for one of the 1 HTTP threads" in summaries[0], summaries


def test_limits_are_checked():
    for bad in ({"max_connections": 0}, {"request_timeout": 0}, {"idle_timeout": float("nan")},
                {"idle_timeout": -1}, {"max_connections": 2.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ConnectionLimits(**bad)


def test_what_the_server_refuses_itself_is_answered_in_the_one_error_shape():
    with servers.background(hello) as running:
        # a body larger than the server reads at all: refused from its Content-Length, before
        # a byte of it is buffered (waitress alone would read up to 1 GB)
        sock = connect(running.port)
        sock.sendall(f"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {MAX_REQUEST_BODY + 1}\r\n\r\n".encode())
        answer = read_until_closed(sock)
        sock.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 ")
        assert b"Content-Type: application/json" in head
        error = json.loads(body)["error"]
        assert error["status"] == 413 and error["code"] == "request_entity_too_large"
        # a request line that is not HTTP
        sock = connect(running.port)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        answer = read_until_closed(sock)
        sock.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert json.loads(body)["error"]["status"] == 400
