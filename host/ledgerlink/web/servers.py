"""The production WSGI server, in one place: waitress, never Flask's development server.

Two ways to run a WSGI app:

- :func:`serve` blocks until interrupted; ``ledgerlink serve`` and ``ledgerlink sandbox``
  use it.
- :func:`background` runs the app on a free loopback port in a daemon thread for as long
  as a ``with`` block lasts; tests and ``ledgerlink demo`` use it::

      with servers.background(app) as running:
          httpx.get(running.url + "/healthz")

Both use waitress's multi-threaded server (``threads`` worker threads), so an app served
here must be thread-safe. Waitress reads each request whole (headers and body) in its
event loop before a thread serves it, so a slow client costs a socket, never a thread; on
top of it this module bounds what any client can take (:class:`ConnectionLimits`):

- a request must arrive whole within ``request_timeout`` seconds of its first byte, however
  steadily it trickles in (``408`` and the connection is closed);
- a connection waiting for its next request is closed after ``idle_timeout`` seconds;
- at most ``max_connections`` are open at once (the open-files limit is raised to fit);
  a connection beyond them is answered ``503`` with ``Retry-After`` at once and closed,
  which the vendors resend, instead of waiting unaccepted in the listen backlog.

Load is logged at most once a minute (connections refused, requests that waited for a
thread), never once per request.
"""

from __future__ import annotations

import collections
import errno
import logging
import math
import socket
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.compat import IPPROTO_IPV6, IPV6_V6ONLY
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from ledgerlink import jsonio
from ledgerlink.errors import error_body

logger = logging.getLogger(__name__)

#: the ``Server`` response header
IDENT = "ledgerlink"

#: seconds :func:`background` waits for the server to accept connections, and for
#: requests in flight to finish when it stops
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0

#: connections pending in the kernel's listen queue (it caps this at net.core.somaxconn)
BACKLOG = 2048
#: file descriptors kept beyond ``max_connections`` for the database, outbound requests
#: and connections being refused
RESERVED_FILES = 512
#: connections given their last answer (a 503 or a 408) and draining what the client still
#: sends, at most; each is closed when its client hangs up or after ``LINGER`` seconds
LINGERING_MAX = 256
LINGER = 2.0
#: connections accepted per wake-up of the event loop (drains a burst of connects quickly)
ACCEPT_BATCH = 64
#: seconds between two log lines about load (refused connections, queued requests)
LOG_EVERY = 60.0
#: the event loop pauses this long per open connection after each turn (at most
#: ``COALESCE_MAX``), once more than ``COALESCE_FROM`` are open: see :func:`_coalescing_loop`
COALESCE_PER_CONNECTION = 8e-6
COALESCE_FROM = 32
COALESCE_MAX = 0.01
#: the largest request body the server reads at all (waitress's own default is 1 GB, which
#: one client could make it buffer to disk); an app refuses smaller ones itself, in its
#: own words (``serve``'s app: twice the largest webhook delivery)
MAX_REQUEST_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client may take of the server (``ledgerlink serve`` options of the same names)."""

    #: connections open at once; one more is answered 503 and closed
    max_connections: int = 4000
    #: seconds from a request's first byte until its headers and body must all have arrived
    request_timeout: float = 10.0
    #: seconds a connection may wait for its next request (or its first) before it is closed;
    #: no shorter than the keep-alive expiry of common client pools (httpx 5 s, aiohttp 15 s),
    #: so that the client gives a connection up first rather than send a request on it just
    #: as the server closes it
    idle_timeout: float = 15.0

    def __post_init__(self) -> None:
        if not (isinstance(self.max_connections, int) and self.max_connections >= 1):
            raise ValueError(f"max_connections must be a whole number >= 1, not {self.max_connections!r}")
        for name in ("request_timeout", "idle_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a number of seconds > 0, not {value!r}")


def _response(status: str, code: str, message: str, extra: tuple[str, ...] = ()) -> bytes:
    """A whole HTTP/1.1 response in the one JSON error shape, closing the connection."""
    body = jsonio.dumps(error_body(int(status.split()[0]), code, message)).encode("utf-8")
    head = [f"HTTP/1.1 {status}", f"Server: {IDENT}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Connection: close", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


class _Every:
    """Counts an event and logs it at most once per ``LOG_EVERY`` seconds."""

    def __init__(self, level: int, message: str) -> None:
        self.level = level
        self.message = message  # formatted with count= and peak=
        self.count = 0
        self.peak = 0
        self.next = 0.0
        self.lock = threading.Lock()

    def note(self, value: int = 1) -> None:
        now = time.monotonic()
        with self.lock:
            self.count += 1
            self.peak = max(self.peak, value)
            if now < self.next:
                return
            count, peak = self.count, self.peak
            self.count, self.peak, self.next = 0, 0, now + LOG_EVERY
        logger.log(self.level, self.message.format(count=count, peak=peak))


class _Dispatcher(ThreadedTaskDispatcher):
    """Waitress's thread pool, without its warning per queued request: requests waiting for
    a free thread are normal under a burst, so they are summed up once a minute instead."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        self.queued = _Every(logging.INFO, f"{{count}} request(s) waited for one of the {threads} "
                                           f"HTTP threads since the last report (up to {{peak}} queued)")

    def add_task(self, task: Any) -> None:
        with self.lock:
            self.queue.append(task)
            self.queue_cv.notify()
            waiting = len(self.queue) - (len(self.threads) - self.stop_count - self.active_count)
        if waiting > 0:
            self.queued.note(waiting)


class _Shared:
    """State every listening socket of one server shares: its connections and its limits."""

    def __init__(self, limits: ConnectionLimits, max_connections: int) -> None:
        self.limits = limits
        self.max_connections = max_connections
        #: fd -> channel, every open HTTP connection (waitress's ``active_channels``)
        self.channels: dict[int, HTTPChannel] = {}
        #: connections given their last answer, oldest first
        self.lingering: collections.deque[_Lingering] = collections.deque()
        self.check_every = max(0.05, min(1.0, limits.idle_timeout / 4, limits.request_timeout / 4))
        self.next_check = 0.0
        self.busy = _response(
            "503 Service Unavailable", "server_busy",
            f"the server has {max_connections} connections open, as many as it takes; nothing "
            f"was received: send the request again shortly", ("Retry-After: 1",))
        self.slow = _response(
            "408 Request Timeout", "request_timeout",
            f"the request did not arrive whole within {limits.request_timeout:g} s of its first "
            f"byte; send it again, all at once")
        self.refused_log = _Every(logging.WARNING, f"{{count}} connection(s) answered 503: {max_connections} "
                                                   f"were open, the most allowed (--max-connections)")
        self.slow_log = _Every(logging.INFO, f"closed {{count}} connection(s) whose request did not arrive "
                                             f"within {limits.request_timeout:g} s (--request-timeout)")
        self.paused_until = 0.0  # accept() failed for lack of file descriptors

    def last_answer(self, sock: socket.socket, response: bytes, map: dict) -> None:
        """Send ``response`` on ``sock`` and close it, after the client's request has drained
        if there is room for one more lingering connection (closing a socket with unread
        data resets it, and the client might never see the answer)."""
        if len(self.lingering) < LINGERING_MAX:
            lingering = _Lingering(sock, map, response, time.monotonic() + LINGER)
            if lingering.connected:
                self.lingering.append(lingering)
            return
        try:
            sock.setblocking(False)
            sock.send(response)
        except OSError:
            pass
        sock.close()


class _Lingering(wasyncore.dispatcher):
    """A connection given its last answer: the answer is sent and the sending side shut at
    once, then whatever the client still sends is read and dropped until it hangs up or
    ``until`` passes (then :meth:`_Server.maintenance` marks it ``expired``)."""

    expired = False

    def __init__(self, sock: socket.socket, map: dict, response: bytes, until: float) -> None:
        super().__init__(sock, map=map)
        self.until = until
        try:
            sock.send(response)  # a few hundred bytes: the socket's send buffer takes them
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return self.expired  # closed from handle_write, in the loop's own turn

    def handle_read(self) -> None:
        self.recv(65536)  # closes on end of stream or an error

    def handle_write(self) -> None:
        self.close()

    def handle_close(self) -> None:
        self.close()


class _ErrorTask(ErrorTask):
    """What waitress answers itself (a malformed request, a body or headers too large), in
    the one JSON error shape instead of waitress's plain text."""

    def execute(self) -> None:
        error = self.request.error
        code = "_".join(str(error.reason).lower().split()) or "bad_request"
        body = jsonio.dumps(error_body(int(error.code), code, f"{error.reason}: {error.body}")).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    """An HTTP connection that knows when its current request began to arrive."""

    error_task_class = _ErrorTask

    #: time.monotonic() when the first byte of the request being received arrived
    request_began: float | None = None
    #: the answer to give before closing, when the request missed its deadline
    last_words: bytes | None = None

    def received(self, data: bytes) -> bool:
        before = self.request
        result = super().received(data)
        if self.request is None:
            self.request_began = None
        elif self.request is not before:
            self.request_began = time.monotonic()
        return result

    def service(self) -> None:
        super().service()
        if self.request is not None:  # pipelined: its clock starts once it can be read again
            self.request_began = time.monotonic()

    def enforce(self, shared: _Shared, now: float, wall: float) -> None:
        """Close the connection if it broke a limit (called in the event loop's thread)."""
        if self.will_close or self.close_when_flushed or self.requests:
            return  # closing already, or a request is being served
        limits = shared.limits
        if self.request_began is not None:
            if now - self.request_began > limits.request_timeout:
                shared.slow_log.note()
                self.last_words = shared.slow
                self.will_close = True  # the loop answers and closes in handle_write
        elif wall - self.last_activity > limits.idle_timeout:
            self.will_close = True

    def handle_write(self) -> None:
        if self.last_words is None:
            super().handle_write()
            return
        try:
            sock: socket.socket | None = self.socket.dup()  # outlives the channel's close
        except OSError:
            sock = None
        self.handle_close()
        if sock is not None:
            self.server.shared.last_answer(sock, self.last_words, self._map)


def _coalescing_loop(timeout: float = 30.0, use_poll: bool = True, map: dict | None = None,
                     count: int | None = None) -> None:
    """Waitress's event loop, paced for many connections.

    Each turn of waitress's loop asks every open connection whether it wants to read or
    write before it polls, so a turn costs time in proportion to the connections open
    (about 1 ms for 256), holding the interpreter lock. Under a burst a turn serves one or
    two events, and the loop spent most of the process's CPU walking connections (ack p99
    of 2 s at 256 senders). After a turn with more than :data:`COALESCE_FROM` connections
    open, the loop pauses a few microseconds per connection (at most :data:`COALESCE_MAX`):
    the events of that moment gather, the next turn serves them together, and the request
    threads get the lock meanwhile. A request then waits at most one pause longer.
    """
    if map is None:  # pragma: no cover - waitress always passes its map
        map = wasyncore.socket_map
    turns = 0
    while map and (count is None or turns < count):
        wasyncore.poll2(timeout, map)
        turns += 1
        open_now = len(map)
        if open_now > COALESCE_FROM:
            time.sleep(min(COALESCE_MAX, open_now * COALESCE_PER_CONNECTION))


#: what waitress's server calls for its event loop (it reads ``dispatcher`` there too)
_ASYNCORE = types.SimpleNamespace(dispatcher=wasyncore.dispatcher, loop=_coalescing_loop)


class _Server(TcpWSGIServer):
    """Waitress's TCP server with the limits of :class:`ConnectionLimits`."""

    channel_class = _Channel
    asyncore = _ASYNCORE

    def __init__(self, app: Callable[..., Any], sock: socket.socket, map: dict,
                 dispatcher: _Dispatcher, adj: Adjustments, shared: _Shared) -> None:
        self.shared = shared
        super().__init__(app, map=map, _sock=sock, dispatcher=dispatcher, adj=adj, bind_socket=False,
                         sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))
        self.active_channels = shared.channels  # one count across every listening socket

    def readable(self) -> bool:
        shared = self.shared
        now = time.monotonic()
        if now >= shared.next_check:
            shared.next_check = now + shared.check_every
            self.maintenance(now)
        return self.accepting and now >= shared.paused_until

    def maintenance(self, now: float) -> None:
        shared = self.shared
        wall = time.time()
        for channel in list(shared.channels.values()):
            channel.enforce(shared, now, wall)
        lingering = shared.lingering
        while lingering and (lingering[0].until <= now or not lingering[0].connected):
            lingering.popleft().expired = True

    def handle_accept(self) -> None:
        shared = self.shared
        for _ in range(ACCEPT_BATCH):
            try:
                pair = self.accept()
                if pair is None:
                    return
                conn, addr = pair
                self.set_socket_options(conn)
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # out of file descriptors: leave the rest in the backlog for a moment
                    # rather than spin on a listening socket that stays readable
                    shared.paused_until = time.monotonic() + 0.1
                    shared.refused_log.note()
                elif self.adj.log_socket_errors:
                    logger.debug("accept() failed", exc_info=True)
                return
            if len(shared.channels) < shared.max_connections:
                self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
                continue
            shared.refused_log.note()
            shared.last_answer(conn, shared.busy, self._map)


def _open_files(wanted: int) -> int:
    """Raise this process's soft open-files limit towards ``wanted``; the limit in force."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


def _bind(host: str, port: int, all_addresses: bool) -> list[socket.socket]:
    """Listening sockets for ``host:port`` (every address the name has, or the first)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    seen: set[Any] = set()
    socks: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in infos if all_addresses else infos[:1]:
            if address in seen:
                continue
            seen.add(address)
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
            if family == socket.AF_INET6:
                sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1)
            sock.bind(address)
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


def _create(app: Callable[..., Any], socks: list[socket.socket], threads: int,
            limits: ConnectionLimits | None, waitress_options: dict[str, Any]) -> list[_Server]:
    """Servers for ``app`` on bound ``socks``, sharing one event loop map, thread pool and limits."""
    limits = limits or ConnectionLimits()
    available = _open_files(limits.max_connections + RESERVED_FILES) - RESERVED_FILES
    max_connections = limits.max_connections
    if available < max_connections:
        max_connections = max(1, available)
        logger.warning("the open-files limit allows %d connections, not the %d asked for; raise it "
                       "(ulimit -n) or lower --max-connections", max_connections, limits.max_connections)
    shared = _Shared(limits, max_connections)
    options = {"ident": IDENT, "backlog": BACKLOG, "asyncore_use_poll": True,
               "max_request_body_size": MAX_REQUEST_BODY,
               **waitress_options,
               "threads": threads, "connection_limit": max_connections,
               "asyncore_loop_timeout": shared.check_every}
    adj = Adjustments(**options)
    dispatcher = _Dispatcher(threads)
    dispatcher.set_thread_count(threads)
    event_map: dict[int, Any] = {}
    servers: list[_Server] = []
    try:
        for sock in socks:
            servers.append(_Server(app, sock, event_map, dispatcher, adj, shared))
    except BaseException:
        dispatcher.shutdown(timeout=1)
        for server in servers:
            server.close()
        raise
    return servers


def serve(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8080, threads: int = 16,
          limits: ConnectionLimits | None = None, **waitress_options: Any) -> None:
    """Serve the WSGI ``app`` on ``host:port`` with waitress until the process is interrupted.

    ``threads`` worker threads answer requests concurrently; ``limits`` bounds what clients
    may take (:class:`ConnectionLimits`' defaults when None). ``waitress_options`` are
    passed to waitress's adjustments (e.g. ``trusted_proxy``); the ``Server`` header
    defaults to ``ledgerlink``.
    """
    servers = _create(app, _bind(host, port, all_addresses=True), threads, limits, waitress_options)
    first = servers[0]
    for server in servers:
        server.print_listen("Serving on http://{}:{}")
    try:
        _coalescing_loop(timeout=first.adj.asyncore_loop_timeout, map=first._map)
    except (SystemExit, KeyboardInterrupt):
        first.task_dispatcher.shutdown()
        raise


class Running:
    """A server started by :func:`background`: where it listens, and how to stop it."""

    def __init__(self, server: Any, thread: threading.Thread, host: str) -> None:
        self._server = server
        self._thread = thread
        self._stopped = False
        self._stop_lock = threading.Lock()
        #: the port the server listens on (the free port picked when 0 was asked for)
        self.port: int = int(server.effective_port)
        self.host = host
        shown = f"[{host}]" if ":" in host else host
        #: the base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)
        self.url = f"http://{shown}:{self.port}"

    @property
    def running(self) -> bool:
        """True until :meth:`stop` has been called and the server thread has ended."""
        return self._thread.is_alive()

    def stop(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Stop the server: refuse new connections, let requests in flight finish (up to
        ``timeout`` seconds), close every connection, free the port and join the thread.

        Calling it again does nothing.
        """
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        server = self._server
        if not self._thread.is_alive():  # the loop died on its own; free what is left
            self._close_all()
            server.task_dispatcher.shutdown(timeout=timeout)
            return
        # 1. stop accepting: close the listening socket inside the event loop's own thread
        self._in_loop(lambda: wasyncore.dispatcher.close(server), timeout)
        # 2. let the worker threads finish the requests they are serving, then end them
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        # 3. close every connection and the trigger; the event loop then has nothing to
        #    watch and returns, ending the thread
        self._in_loop(self._close_all, timeout)
        self._thread.join(timeout)
        if self._thread.is_alive():  # pragma: no cover - only when the loop is wedged
            logger.warning("the server on %s did not stop within %g s", self.url, timeout)

    def _in_loop(self, thunk: Callable[[], None], timeout: float) -> None:
        """Run ``thunk`` in the event loop's thread and wait for it (at most ``timeout``)."""
        done = threading.Event()

        def run() -> None:
            try:
                thunk()
            finally:
                done.set()

        try:
            self._server.trigger.pull_trigger(run)
        except OSError:  # the trigger is already closed: the loop is gone
            thunk()
            return
        if not done.wait(timeout) and not self._thread.is_alive():
            thunk()

    def _close_all(self) -> None:
        server = self._server
        for channel in list(server._map.values()):
            if channel is server or channel is server.trigger:
                continue
            try:
                channel.handle_close()
            except Exception:  # pragma: no cover - a socket already gone
                logger.debug("closing a connection failed", exc_info=True)
        server.close()  # the listening socket (if still open) and the trigger


def _wait_accepting(host: str, port: int, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not thread.is_alive():
            raise RuntimeError(f"the server thread for {host}:{port} ended before it accepted "
                               f"connections; see the log for its error")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"the server on {host}:{port} did not accept connections "
                                   f"within {timeout:g} s") from None
            time.sleep(0.01)


@contextmanager
def background(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0,
               threads: int = 16, limits: ConnectionLimits | None = None) -> Iterator[Running]:
    """Serve ``app`` with waitress in a daemon thread while the ``with`` block runs.

    ``port=0`` picks a free port; ``limits`` as for :func:`serve`. The block starts only
    once the server accepts connections; it yields a :class:`Running` with ``.url``,
    ``.port`` and ``.stop()``. Leaving the block (normally or by an exception) stops the
    server as :meth:`Running.stop` describes: the port is free and the thread has ended
    afterwards.
    """
    # bind first, so a port in use fails here, before waitress starts any thread
    socks = _bind(host, port, all_addresses=False)
    try:
        server, = _create(app, socks, threads, limits, {})
    except BaseException:
        socks[0].close()
        raise
    thread = threading.Thread(target=server.run, name=f"ledgerlink-server-{server.effective_port}",
                              daemon=True)
    running = Running(server, thread, host)
    thread.start()
    try:
        _wait_accepting(host, running.port, thread, STARTUP_TIMEOUT)
        yield running
    finally:
        running.stop()


__all__ = ["ConnectionLimits", "Running", "background", "serve"]
