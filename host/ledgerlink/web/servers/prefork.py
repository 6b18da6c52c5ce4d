"""Several serve processes on one port: the listening sockets bound once, then forked.

``ledgerlink serve --processes N`` binds its address in the parent, which then forks ``N``
children before anything else is built (no thread, database connection or runtime exists
yet, so forking is safe). Each child builds its own runtime (its own inbox committer and
workers) and serves the inherited sockets with waitress; the kernel hands each new
connection to whichever child accepts it first, so a stopped or busy child leaves the
others answering. The parent only supervises: SIGTERM or Ctrl-C is passed on to every child
(each stops as a single ``serve`` does: requests in flight answered, runs finished or handed
back), and a child that exits on its own stops the others, so an operator's supervisor sees
the failure and restarts the whole. POSIX only (``os.fork``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: seconds the parent waits for its children to stop before it kills them
STOP_TIMEOUT = 60.0


def listening(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Bound, listening sockets for ``host:port`` (every address the name has)."""
    from ledgerlink.web.servers import _bind

    socks = _bind(host, port, all_addresses=True)
    for sock in socks:
        sock.listen(backlog)
    return socks


def run(processes: int, child: Callable[[int], int]) -> int:
    """Fork ``processes`` children, each running ``child(index)`` (index from 1) and exiting
    with what it returns; supervise them until SIGTERM/SIGINT or until one exits. Returns 0
    when every child stopped cleanly on a signal, else the first failing child's status."""
    pids: dict[int, int] = {}
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in pids:
            _signal(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(1, processes + 1):
            pid = os.fork()
            if pid == 0:  # the child: its own signal handling, its own runtime
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                code = 1
                try:
                    code = child(index)
                except KeyboardInterrupt:
                    code = 0
                except BaseException:  # noqa: BLE001 - reported, then the child ends
                    logger.exception("serve process %d failed", index)
                finally:
                    logging.shutdown()
                    os._exit(code)
            pids[pid] = index
        return _supervise(pids, lambda: stopping, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _supervise(pids: dict[int, int], stopping: Callable[[], bool],
               stop: Callable[[int, object], None]) -> int:
    """Reap children until none is left; the first to exit uninvited stops the others."""
    status = 0
    deadline: float | None = None
    while pids:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if stopping() and deadline is None:
                deadline = time.monotonic() + STOP_TIMEOUT
            if deadline is not None and time.monotonic() > deadline:
                for left in pids:
                    _signal(left, signal.SIGKILL)
            time.sleep(0.05)
            continue
        index = pids.pop(pid)
        code = os.waitstatus_to_exitcode(raw)
        if not stopping():
            logger.error("serve process %d (pid %d) exited with status %d; stopping the others",
                         index, pid, code)
            status = status or (code if code > 0 else 1)
            stop(signal.SIGTERM, None)
        elif code != 0 and status == 0:
            status = code if code > 0 else 1
    return status


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # already gone
        pass
