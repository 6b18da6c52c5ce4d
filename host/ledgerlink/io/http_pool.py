"""The kept-alive HTTP/1.1 connections the actions' requests go out on, pooled per host
(each a :class:`ledgerlink.io.http_wire.Connection`).

:func:`ledgerlink.io.outbound.send` is the one caller: it prepares the exact request (the
address, every header, the body) and hands it here; :meth:`HttpPool.request` sends it on an
idle connection to that host (or a new one) and reads the whole answer. What can go wrong is
told apart as the outbound path needs it: :class:`NotSent` when nothing can have reached the
server (no connection could be made, no connection was free in time), :class:`AnswerLost`
once any byte of the request may have gone out (a write or read failed or timed out, the
server closed the connection, the answer was malformed). Nothing is retried here: whether a
request may be sent again is the runner's decision, which looks a write up first when its
answer was lost.

What it keeps of the httpx client it replaced on this path: connect and read timeouts (a
write times out like a read), no redirects followed (a 3xx is an answer), no proxies or
certificate settings from the environment, TLS verified against certifi's bundle (or the
system's when certifi is absent) with the host name checked, idle connections dropped after
:data:`KEEPALIVE_SECONDS` or when the server has closed them, at most ``max_connections``
open at once (waiting up to the read timeout for one). An answer's header names are lower
case, a repeated header's values joined by ``", "``; a gzip or deflate body is decoded. A
journal entry's POST on loopback costs a third of httpx's CPU (its layers, its cookie jar),
and reading the answer off the socket directly a third less than http.client's response.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable

from ledgerlink.io.http_wire import Broken, Connection, connect

#: seconds an idle connection is kept for reuse (httpx's default keep-alive expiry)
KEEPALIVE_SECONDS = 5.0
DEFAULT_PORTS = {"http": 80, "https": 443}


class NotSent(Exception):
    """No byte of the request can have reached the server; ``kind`` names the failure."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class AnswerLost(Exception):
    """The request may have reached the server but no whole answer was read."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class Answer:
    """A server's whole answer: status, headers (lower-case names), body bytes."""

    __slots__ = ("status", "headers", "content")

    def __init__(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        """The body decoded by the Content-Type's charset (UTF-8 when none or unknown),
        undecodable bytes replaced."""
        charset = None
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip().strip('"')
        try:
            return self.content.decode(charset or "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def tls_context() -> ssl.SSLContext:
    """Certificates verified, host names checked: certifi's bundle as httpx uses it, else
    the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _decoded(content: bytes, encoding: str) -> bytes:
    """``content`` without its Content-Encoding (gzip, deflate; others are left as they are)."""
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            content = zlib.decompress(content, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                content = zlib.decompress(content)
            except zlib.error:  # raw deflate, as some servers send it
                content = zlib.decompress(content, -zlib.MAX_WBITS)
    return content


def _closed_by_server(sock: socket.socket | None) -> bool:
    """True when an idle connection's socket is readable: the server closed it (or sent
    something unasked), so it cannot carry a request."""
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class HttpPool:
    """Kept-alive connections per (scheme, host, port), safe to share between threads.

    ``connect_timeout`` and ``read_timeout`` may be changed at any time; a request uses the
    values of when it starts."""

    def __init__(self, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 max_connections: int = 100, tls: ssl.SSLContext | None = None) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._tls = tls
        self._idle: dict[tuple[str, str, int], list[tuple[float, Connection]]] = {}
        self._open = 0
        self._changed = threading.Condition()
        self._closed = False

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = tls_context()
        return self._tls

    def request(self, method: str, scheme: str, host: str, port: int | None, target: str,
                headers: Iterable[tuple[str, str]], body: bytes) -> Answer:
        """Send ``method target`` with exactly ``headers`` (Host among them) and ``body`` to
        ``scheme://host:port``; the whole answer. Raises NotSent, AnswerLost."""
        if scheme not in DEFAULT_PORTS:
            raise NotSent("UnsupportedProtocol", f"the address's scheme {scheme!r} is neither http nor https")
        key = (scheme, host, port or DEFAULT_PORTS[scheme])
        connect, read = self.connect_timeout, self.read_timeout
        conn = self._checkout(key, read)
        if conn is None:
            conn = self._connect(key, connect)
        keep = False
        try:
            conn.sock.settimeout(read)  # type: ignore[union-attr]
            answer, keep = self._exchange(conn, method, target, headers, body)
            return answer
        finally:
            self._checkin(key, conn, keep)

    def _exchange(self, conn: Connection, method: str, target: str,
                  headers: Iterable[tuple[str, str]], body: bytes) -> tuple[Answer, bool]:
        try:
            conn.send(method, target, headers, body)
        except socket.timeout as exc:
            raise AnswerLost("WriteTimeout", str(exc) or "timed out") from None
        except OSError as exc:
            raise AnswerLost("WriteError", str(exc) or type(exc).__name__) from None
        try:
            status, found, content, keep = conn.answer(method)
        except socket.timeout as exc:
            raise AnswerLost("ReadTimeout", str(exc) or "timed out") from None
        except Broken as exc:
            raise AnswerLost("RemoteProtocolError", str(exc)) from None
        except OSError as exc:
            raise AnswerLost("ReadError", str(exc) or type(exc).__name__) from None
        if "content-encoding" in found and content:
            try:
                content = _decoded(content, found["content-encoding"])
            except zlib.error as exc:
                raise AnswerLost("DecodingError", f"the answer's {found['content-encoding']} body: {exc}") from None
        return Answer(status, found, content), keep

    def _checkout(self, key: tuple[str, str, int], wait: float) -> Connection | None:
        """An idle connection to ``key`` still usable, or None after reserving room for a
        new one. Raises NotSent when no room frees within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        stale = []
        try:
            with self._changed:
                while True:
                    idle = self._idle.get(key)
                    now = time.monotonic()
                    while idle:
                        since, conn = idle.pop()
                        if now - since < KEEPALIVE_SECONDS and not _closed_by_server(conn.sock):
                            return conn
                        stale.append(conn)
                        self._open -= 1
                    if self._closed:
                        raise NotSent("PoolClosed", "the HTTP client was closed")
                    if self._open < self.max_connections:
                        self._open += 1
                        return None
                    if not self._drop_oldest_idle(stale):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise NotSent("PoolTimeout", f"no connection free within {wait:g} s")
                        self._changed.wait(left)
        finally:
            for conn in stale:
                conn.close()

    def _drop_oldest_idle(self, stale: list[Connection]) -> bool:
        """Close the longest-idle connection to any other host (it makes room); False when none."""
        oldest = min(((idle[0][0], key) for key, idle in self._idle.items() if idle), default=None)
        if oldest is None:
            return False
        stale.append(self._idle[oldest[1]].pop(0)[1])
        self._open -= 1
        return True

    def _connect(self, key: tuple[str, str, int], timeout: float) -> Connection:
        scheme, host, port = key
        try:
            return connect(scheme, host, port, timeout, self._context() if scheme == "https" else None)
        except socket.timeout as exc:
            self._release()
            raise NotSent("ConnectTimeout", str(exc) or "timed out") from None
        except (OSError, ssl.SSLError, http.client.HTTPException) as exc:  # refused, no such host, TLS
            self._release()
            raise NotSent("ConnectError", str(exc) or type(exc).__name__) from None
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        with self._changed:
            self._open -= 1
            self._changed.notify()

    def _checkin(self, key: tuple[str, str, int], conn: Connection, keep: bool) -> None:
        if not keep or conn.sock is None:
            conn.close()
            self._release()
            return
        with self._changed:
            if self._closed:
                self._open -= 1
            else:
                self._idle.setdefault(key, []).append((time.monotonic(), conn))
                self._changed.notify()
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection; connections in use close when their request ends."""
        with self._changed:
            self._closed = True
            idle = [conn for each in self._idle.values() for _, conn in each]
            self._open -= len(idle)
            self._idle.clear()
            self._changed.notify_all()
        for conn in idle:
            conn.close()
