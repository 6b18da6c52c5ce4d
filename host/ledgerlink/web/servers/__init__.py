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
top of it this package bounds what any client can take (``ConnectionLimits``):

- a request must arrive whole within ``request_timeout`` seconds of its first byte, however
  steadily it trickles in (``408`` and the connection is closed);
- a connection waiting for its next request is closed after ``idle_timeout`` seconds;
- at most ``max_connections`` are open at once (the open-files limit is raised to fit);
  a connection beyond them is answered ``503`` with ``Retry-After`` at once and closed,
  which the vendors resend, instead of waiting unaccepted in the listen backlog.

Load is logged at most once a minute (connections refused, requests that waited for a
thread), never once per request.

The limits are :class:`~ledgerlink.web.servers.limits.ConnectionLimits`; waitress's server and
connections that enforce them are in :mod:`~ledgerlink.web.servers.channels`, its event
loop in :mod:`~ledgerlink.web.servers.loop`.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.compat import IPPROTO_IPV6, IPV6_V6ONLY

from ledgerlink.errors import ConfigError
from ledgerlink.web.servers.channels import IDENT, Dispatcher, Server, Shared
from ledgerlink.web.servers.limits import MAX_REQUEST_BODY, ConnectionLimits
from ledgerlink.web.servers.loop import coalescing_loop

logger = logging.getLogger(__name__)

#: seconds :func:`background` waits for the server to accept connections, and for
#: requests in flight to finish when it stops
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0

#: connections pending in the kernel's listen queue (it caps this at net.core.somaxconn)
BACKLOG = 2048
#: file descriptors kept beyond ``max_connections`` for the database, outbound requests
#: and connections being refused
RESERVED_FILES = 512


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
    """Listening sockets for ``host:port`` (every address the name has, or the first).

    Raises:
        ConfigError: the name does not resolve, or an address cannot be listened on (the
            port is taken, or is below 1024 without the privilege), worded for the operator.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}: the name does not resolve ({exc.strerror}); "
                          f"give an address of this machine, e.g. 127.0.0.1") from None
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
            try:
                sock.bind(address)
            except OSError as exc:
                raise ConfigError(f"cannot listen on {_host_port(address[0], address[1])}: "
                                  f"{_BIND_FIXES.get(exc.errno, exc.strerror)}") from None
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


def _host_port(host: str, port: int) -> str:
    """``host:port``, an IPv6 address in brackets (``[::1]:8080``), as a URL writes it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


#: what an operator does about a port that cannot be listened on, by errno
_BIND_FIXES = {
    errno.EADDRINUSE: "another process listens on that port; stop it, or choose another port",
    errno.EACCES: "ports below 1024 need privileges; choose a port from 1024 up, or "
                  "put a reverse proxy in front",
    errno.EADDRNOTAVAIL: "that address is not one of this machine's; choose one it has",
}


def _create(app: Callable[..., Any], socks: list[socket.socket], threads: int,
            limits: ConnectionLimits | None, waitress_options: dict[str, Any]) -> list[Server]:
    """Servers for ``app`` on bound ``socks``, sharing one event loop map, thread pool and limits."""
    limits = limits or ConnectionLimits()
    available = _open_files(limits.max_connections + RESERVED_FILES) - RESERVED_FILES
    max_connections = limits.max_connections
    if available < max_connections:
        max_connections = max(1, available)
        logger.warning("the open-files limit allows %d connections, not the %d asked for; raise it "
                       "(ulimit -n) or lower --max-connections", max_connections, limits.max_connections)
    shared = Shared(limits, max_connections)
    options = {"ident": IDENT, "backlog": BACKLOG, "asyncore_use_poll": True,
               "max_request_body_size": MAX_REQUEST_BODY,
               **waitress_options,
               "threads": threads, "connection_limit": max_connections,
               "asyncore_loop_timeout": shared.check_every}
    adj = Adjustments(**options)
    dispatcher = Dispatcher(threads)
    dispatcher.set_thread_count(threads)
    event_map: dict[int, Any] = {}
    servers: list[Server] = []
    try:
        for sock in socks:
            servers.append(Server(app, sock, event_map, dispatcher, adj, shared))
    except BaseException:
        dispatcher.shutdown(timeout=1)
        for server in servers:
            server.close()
        raise
    return servers


def serve(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8080, threads: int = 16,
          limits: ConnectionLimits | None = None, on_listen: Callable[[str], None] | None = None,
          **waitress_options: Any) -> None:
    """Serve the WSGI ``app`` on ``host:port`` with waitress until the process is interrupted.

    ``threads`` worker threads answer requests concurrently; ``limits`` bounds what clients
    may take (:class:`ConnectionLimits`' defaults when None). Port 0 takes a free port;
    ``on_listen(url)`` is called once the socket is bound, with the base URL it listens on
    (the port taken, not 0), before the first request is served. ``waitress_options`` are
    passed to waitress's adjustments (e.g. ``trusted_proxy``); the ``Server`` header
    defaults to ``ledgerlink``.
    """
    servers = _create(app, _bind(host, port, all_addresses=True), threads, limits, waitress_options)
    first = servers[0]
    for server in servers:
        server.print_listen("Serving on http://{}:{}")
    if on_listen is not None:
        on_listen(f"http://{_host_port(host, int(first.effective_port))}")
    try:
        coalescing_loop(timeout=first.adj.asyncore_loop_timeout, map=first._map)
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
        #: the base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)
        self.url = f"http://{_host_port(host, self.port)}"

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
    # bind first, so a port in use fails here (ConfigError), before waitress starts any thread
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


__all__ = ["Running", "background", "serve"]
