"""The production WSGI server, in one place: waitress, never Flask's development server.

Two ways to run a WSGI app:

- :func:`serve` blocks until interrupted; ``ledgerlink serve`` and ``ledgerlink sandbox``
  use it.
- :func:`background` runs the app on a free loopback port in a daemon thread for as long
  as a ``with`` block lasts; tests and ``ledgerlink demo`` use it::

      with servers.background(app) as running:
          httpx.get(running.url + "/healthz")

Both use waitress's multi-threaded server (``threads`` worker threads), so an app served
here must be thread-safe.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import waitress
from waitress import wasyncore

logger = logging.getLogger(__name__)

#: the ``Server`` response header
IDENT = "ledgerlink"

#: seconds :func:`background` waits for the server to accept connections, and for
#: requests in flight to finish when it stops
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0


def serve(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8080, threads: int = 16,
          **waitress_options: Any) -> None:
    """Serve the WSGI ``app`` on ``host:port`` with waitress until the process is interrupted.

    ``threads`` worker threads answer requests concurrently. ``waitress_options`` are passed
    to waitress unchanged (e.g. ``connection_limit``, ``channel_timeout``,
    ``trusted_proxy``); the ``Server`` header defaults to ``ledgerlink``.
    """
    waitress_options.setdefault("ident", IDENT)
    waitress.serve(app, host=host, port=port, threads=threads, **waitress_options)


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
               threads: int = 16) -> Iterator[Running]:
    """Serve ``app`` with waitress in a daemon thread while the ``with`` block runs.

    ``port=0`` picks a free port. The block starts only once the server accepts
    connections; it yields a :class:`Running` with ``.url``, ``.port`` and ``.stop()``.
    Leaving the block (normally or by an exception) stops the server as
    :meth:`Running.stop` describes: the port is free and the thread has ended afterwards.
    """
    # bind first, so a port in use fails here, before waitress starts any thread
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if hasattr(socket, "SO_REUSEADDR") and socket.SOCK_STREAM == kind:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        sock.bind(address)
        server = waitress.create_server(app, sockets=[sock], threads=threads, ident=IDENT,
                                        # the event loop wakes this often; keeps stop() snappy
                                        asyncore_loop_timeout=1)
    except BaseException:
        sock.close()
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
