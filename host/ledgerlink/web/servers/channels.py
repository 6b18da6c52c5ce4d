"""Waitress's server, channels and thread pool, bounded by :class:`ConnectionLimits`.

A connection that breaks a limit is given its last answer in the one JSON error shape
(503 when too many are open, 408 when a request does not arrive whole in time) and closed
once the client's request has drained; load is logged at most once a minute.
"""

from __future__ import annotations

import collections
import errno
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.proxy_headers import PROXY_HEADERS
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask

from ledgerlink import jsonio
from ledgerlink.errors import error_body
from ledgerlink.web.servers.limits import ConnectionLimits
from ledgerlink.web.servers.loop import ASYNCORE

logger = logging.getLogger(__name__)

#: the ``Server`` response header
IDENT = "ledgerlink"
#: connections given their last answer (a 503 or a 408) and draining what the client still
#: sends, at most; each is closed when its client hangs up or after ``LINGER`` seconds
LINGERING_MAX = 256
LINGER = 2.0
#: connections accepted per wake-up of the event loop (drains a burst of connects quickly)
ACCEPT_BATCH = 64
#: seconds between two log lines about load (refused connections, queued requests)
LOG_EVERY = 60.0
#: a response body up to this size, written whole at once, is sent with its headers in one piece
ONE_PIECE = 64 * 1024


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


class Dispatcher(ThreadedTaskDispatcher):
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


class Shared:
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
    ``until`` passes (then :meth:`Server.maintenance` marks it ``expired``)."""

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


#: what :meth:`_Task.execute` asks an app's ``direct`` for: ``direct(environ)`` returns a
#: whole answer (status line, headers, body) or None for a request the WSGI app answers
Direct = Callable[[dict[str, Any]], "tuple[str, list[tuple[str, str]], bytes] | None"]


class _Task(WSGITask):
    """Waitress's WSGI task, sending a small response written whole (a webhook's answer, an
    API's JSON) together with its headers: one ``send`` and one TCP segment instead of two.
    Waitress flushes each write at once (``send_bytes`` 1), so its headers and the body went
    out separately; a send per event was about 3 % of serve's CPU under the webhook load.
    Anything else (a streamed, chunked or bodiless response) is written as waitress writes it.

    A POST the app answers directly (its ``direct``, :data:`Direct`: webhook deliveries,
    :class:`ledgerlink.web.webhooks.WebhookPath`) is answered without the WSGI environment
    and ``start_response``: only the request's method, path, headers and body are handed
    over, and the answer goes out through waitress's own response headers (keep-alive,
    ``Connection: close``, ``Date``, ``Server``) as a WSGI answer would."""

    def execute(self) -> None:
        direct: Direct | None = self.channel.server.direct
        if direct is not None and self.request.command == "POST":
            answered = direct(self._direct_environ())
            if answered is not None:
                self.status, headers, body = answered
                self.response_headers.extend(headers)
                self.content_length = len(body)
                self.complete = True
                self.write(body)
                return
        super().execute()

    def _direct_environ(self) -> dict[str, Any]:
        """What ``direct`` reads of the request, named as in the WSGI environment (the same
        values :meth:`get_environment` gives, untrusted proxy headers left out as waitress's
        proxy middleware leaves them out)."""
        request = self.request
        path = request.path
        if path.startswith("/"):
            path = "/" + path.lstrip("/")
        environ: dict[str, Any] = {"REQUEST_METHOD": request.command, "PATH_INFO": path,
                                   "wsgi.input": request.get_body_stream(), "wsgi.input_terminated": True}
        for key, value in request.headers.items():
            if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
                environ[key] = value
            elif key not in PROXY_HEADERS:
                environ["HTTP_" + key] = value
        return environ

    def write(self, data: bytes) -> None:
        if self.wrote_header or not self.complete or not data:
            super().write(data)
            return
        head = self.build_response_header()  # decides the body's framing: length, chunked, none
        self.wrote_header = True
        if (self.has_body and not self.chunked_response and self.content_length == len(data)
                and len(data) <= ONE_PIECE):
            self.content_bytes_written += len(data)
            self.channel.write_soon(head + data)
            return
        self.channel.write_soon(head)
        super().write(data)  # the headers are written: the body as waitress writes it


class _Channel(HTTPChannel):
    """An HTTP connection that knows when its current request began to arrive."""

    task_class = _Task
    error_task_class = _ErrorTask

    #: time.monotonic() when the first byte of the request being received arrived
    request_began: float | None = None
    #: the answer to give before closing, when the request missed its deadline
    last_words: bytes | None = None
    #: a request thread is in :meth:`write_soon`, holding the connection's output lock
    writing = False

    def writable(self) -> bool:
        """Waitress's test, except while a request thread is handing the connection its
        answer. That thread holds the output lock and sends what it can itself; meanwhile
        the loop's flush could not take the lock, and the loop turned on the spot until
        the thread had the interpreter back (31 turns per webhook, a turn asking every
        connection whether it reads or writes). :meth:`write_soon` wakes the loop when it
        leaves something unsent."""
        return not self.writing and super().writable()

    def write_soon(self, data: bytes) -> int:
        self.writing = True
        try:
            return super().write_soon(data)
        finally:
            self.writing = False
            if self.total_outbufs_len and self.connected:
                self.server.pull_trigger()  # the socket took part of it: the loop sends the rest

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

    def enforce(self, shared: Shared, now: float, wall: float) -> None:
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



class Server(TcpWSGIServer):
    """Waitress's TCP server with the limits of :class:`ConnectionLimits`."""

    channel_class = _Channel
    asyncore = ASYNCORE

    def __init__(self, app: Callable[..., Any], sock: socket.socket, map: dict,
                 dispatcher: Dispatcher, adj: Adjustments, shared: Shared) -> None:
        self.shared = shared
        super().__init__(app, map=map, _sock=sock, dispatcher=dispatcher, adj=adj, bind_socket=False,
                         sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))
        self.active_channels = shared.channels  # one count across every listening socket
        #: the app's answers given without WSGI (:class:`_Task`); not behind a proxy waitress
        #: trusts or a URL prefix, whose environment changes only the WSGI path would make
        self.direct: Direct | None = None if adj.trusted_proxy or adj.url_prefix or not adj.clear_untrusted_proxy_headers \
            else getattr(app, "direct", None)

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
