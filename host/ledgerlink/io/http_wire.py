"""HTTP/1.1 on one kept-alive client connection: a request written in one piece, the answer
read straight off the socket (:class:`Connection`). :mod:`ledgerlink.io.http_pool` keeps
these connections per host and tells their failures apart.

What is read is what http.client reads: a status line of HTTP/1.x, header fields (a folded
line continues its field, a line without a colon is left out, at most :data:`MAX_FIELDS`
of at most :data:`MAX_LINE` bytes), interim answers (100 Continue, 103 Early Hints)
skipped, a body framed by chunks, by Content-Length, or by the end of the stream; 204, 304
and HEAD answers without one.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from collections.abc import Iterable


#: what an answer's head may hold: http.client's limits (a line, the number of fields)
MAX_LINE = 65536
MAX_FIELDS = 100
#: the end of an answer's head (a bare LF ends a line too, as http.client reads it)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
#: what a header name or value may not hold: a line break not followed by folding white space
_BREAK = re.compile(r"\n(?![ \t])|\r(?![ \t\n])")
_TOKEN_NAME = re.compile(r"[^:\s][^:\r\n]*\Z")
#: what a request line's target may not hold (http.client refuses these too)
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")


class Broken(Exception):
    """The server broke HTTP/1.1 (a malformed or cut-off answer, a closed connection)."""


def _fields(lines: list[bytes]) -> dict[str, str]:
    """An answer's header fields, names lower case, a repeated field's values joined by
    ``", "``: a folded line (obs-fold) continues its field's value after a space; a line
    without a colon is left out, as http.client's email parser leaves it out."""
    pairs: list[list[str]] = []
    for raw in lines:
        line = raw.decode("iso-8859-1").rstrip("\r")
        if not line:
            continue
        if line[0] in " \t":
            if pairs:
                pairs[-1][1] = f"{pairs[-1][1]} {line.strip()}".strip()
            continue
        name, colon, value = line.partition(":")
        if colon and name and name == name.strip():
            pairs.append([name, value.strip()])
    return _joined(pairs)


def _status_line(line: bytes) -> tuple[int, int]:
    """(HTTP minor version 0 or 1, status) of a status line, as http.client reads it."""
    try:
        version, status, *_ = line.decode("iso-8859-1").rstrip("\r").split(None, 2)
    except ValueError:
        raise Broken(f"the answer's status line is not HTTP: {line[:80]!r}") from None
    if not version.startswith("HTTP/"):
        raise Broken(f"the answer's status line is not HTTP: {line[:80]!r}")
    if len(status) != 3 or not status.isdigit() or not 100 <= int(status) <= 999:
        raise Broken(f"the answer's status is not a three-digit number: {status[:20]!r}")
    if version in ("HTTP/1.0", "HTTP/0.9"):
        return 0, int(status)
    if version.startswith("HTTP/1."):
        return 1, int(status)
    raise Broken(f"the answer's protocol is {version[:20]!r}, not HTTP/1.x")


class Connection:
    """One kept-alive connection: its socket, and what was read of it beyond the last answer.

    The request goes out in one write (head and body together) and the answer is read
    straight from the socket into one buffer: http.client made a file object, a response
    object and an email message per answer, and checked every header against two patterns,
    which cost more than the rest of the exchange."""

    __slots__ = ("sock", "buffer")

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock
        self.buffer = bytearray()

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def send(self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        if _BAD_TARGET.search(target) or _BAD_TARGET.search(method):
            raise ValueError(f"the request line {method} {target!r} holds a control character or a space")
        lines = [f"{method} {target} HTTP/1.1"]
        for name, value in headers:
            value = str(value)
            if not _TOKEN_NAME.match(name) or _BREAK.search(value):
                raise ValueError(f"the header {name!r} holds a line break or a character a header "
                                 f"{'name' if _BREAK.search(value) is None else 'value'} cannot hold")
            lines.append(f"{name}: {value}")
        lines.append("\r\n")
        data = "\r\n".join(lines).encode("iso-8859-1") + body
        self.sock.sendall(data)  # type: ignore[union-attr]

    def _more(self) -> bool:
        """Read what the socket has into the buffer; False at the end of the stream."""
        chunk = self.sock.recv(65536)  # type: ignore[union-attr]
        self.buffer += chunk
        return bool(chunk)

    def _head(self) -> list[bytes]:
        """The next head's lines (status line first), taken off the buffer."""
        searched = 0
        while True:
            found = _HEAD_END.search(self.buffer, max(0, searched - 3))
            if found is not None:
                break
            searched = len(self.buffer)
            if searched > MAX_LINE * 2:
                raise Broken("the answer's head is longer than the server may send")
            if not self._more():
                raise Broken("the server closed the connection without an answer" if not self.buffer
                              else "the server closed the connection in the middle of the answer's head")
        head = bytes(self.buffer[:found.start()])
        del self.buffer[:found.end()]
        lines = head.split(b"\n")
        if len(lines) > MAX_FIELDS + 1:
            raise Broken(f"the answer has more than {MAX_FIELDS} header fields")
        if any(len(line) > MAX_LINE for line in lines):
            raise Broken("a line of the answer's head is longer than the server may send")
        return lines

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._more():
                raise Broken(f"the server closed the connection {len(self.buffer)} bytes into an answer "
                              f"body of {size}")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _line(self) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                return line
            if len(self.buffer) > MAX_LINE:
                raise Broken("a chunk's size line is longer than the server may send")
            if not self._more():
                raise Broken("the server closed the connection in the middle of a chunked body")

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise Broken(f"a chunk's size is not a hexadecimal number: {size_text[:20]!r}") from None
            if size < 0:
                raise Broken("a chunk's size is negative")
            if size == 0:
                while self._line().rstrip(b"\r"):  # trailer fields, then the empty line
                    pass
                return b"".join(parts)
            parts.append(self._exactly(size))
            self._exactly(2)  # the CRLF after the chunk's data

    def answer(self, method: str) -> tuple[int, dict[str, str], bytes, bool]:
        """The next whole answer: (status, fields, body, whether the connection can be kept)."""
        while True:
            lines = self._head()
            minor, status = _status_line(lines[0])
            if not 100 <= status < 200 or status == 101:
                break
            # an interim answer (100 Continue, 103 Early Hints): its head is dropped, the
            # final answer follows on the same connection
        fields = _fields(lines[1:])
        connection = fields.get("connection", "").lower()
        if "close" in connection:
            keep = False
        elif minor == 1:
            keep = True
        else:
            keep = "keep-alive" in connection or "keep-alive" in fields
        chunked = fields.get("transfer-encoding", "").lower() == "chunked"
        length_text = fields.get("content-length", "")
        if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
            body = b""
        elif chunked:
            body = self._chunked()
        elif length_text.isascii() and length_text.isdigit():
            body = self._exactly(int(length_text))
        else:  # no length: the body runs to the end of the stream
            keep = False
            while self._more():
                pass
            body = bytes(self.buffer)
            self.buffer.clear()
        # after 101 Switching Protocols the connection no longer speaks HTTP/1.1
        return status, fields, body, keep and status != 101 and not self.buffer


def connect(scheme: str, host: str, port: int, timeout: float, tls: ssl.SSLContext | None) -> Connection:
    """A new connection, TLS verified with the host name checked for https (http.client
    connects it: its TCP_NODELAY, its ALPN of http/1.1)."""
    made = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls) if scheme == "https" \
        else http.client.HTTPConnection(host, port, timeout=timeout)
    made.connect()
    return Connection(made.sock)  # type: ignore[arg-type]


def _joined(pairs: Iterable[list[str]]) -> dict[str, str]:
    """Each lower-case name's values joined by ``", "``, in the order they came."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
