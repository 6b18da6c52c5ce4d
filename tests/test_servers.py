"""ledgerlink.servers: waitress in the background on a free loopback port, stopped cleanly."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from ledgerlink import servers


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
        with pytest.raises(OSError):
            with servers.background(hello, port=running.port):
                pass


def test_serve_passes_options_to_waitress(monkeypatch):
    seen = {}
    monkeypatch.setattr(servers.waitress, "serve", lambda app, **kw: seen.update(kw, app=app))
    servers.serve(hello, port=9999, threads=4, connection_limit=50)
    assert seen == {"app": hello, "host": "127.0.0.1", "port": 9999, "threads": 4,
                    "connection_limit": 50, "ident": "ledgerlink"}


def test_a_refused_port_leaks_no_thread():
    with servers.background(hello) as running:
        before = server_threads()
        with pytest.raises(OSError):
            with servers.background(hello, port=running.port):
                pass
        assert server_threads() == before
