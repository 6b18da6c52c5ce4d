"""``ledgerlink worker`` and ``serve`` stop on SIGTERM whichever of their threads the kernel
hands it to.

A signal sent to a process goes to any one of its threads. Python runs the handler in the
main thread, and only when that thread runs; a main thread blocked for good (on an Event, say)
never would, and the worker ignored the SIGTERM. Here the signal is sent to one worker thread
with ``tgkill``, which is what the kernel may do with a plain ``kill``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time

import pytest

from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import ServeProcess

_LIBC = ctypes.CDLL(None, use_errno=True)


def tgkill(pid: int, tid: int, signum: int) -> None:
    if _LIBC.tgkill(pid, tid, signum) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


@pytest.mark.skipif(not hasattr(_LIBC, "tgkill") or not os.path.isdir("/proc/self/task"),
                    reason="needs Linux's tgkill and /proc")
@pytest.mark.parametrize("command", ["worker", "serve"])
def test_sigterm_delivered_to_another_thread_stops_the_process(tmp_path, command):
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    config = tmp_path / "ledgerlink.toml"
    config.write_text("")
    worker = ServeProcess(tmp_path, migrated_db(tmp_path), recipes, config, env={}, workers=2, command=command)
    try:
        worker.wait_healthy()
        pid = worker.process.pid
        others = sorted(int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid)
        assert others, "the process runs threads beside its main thread"
        tgkill(pid, others[0], signal.SIGTERM)
        try:
            status = worker.process.wait(15)
        except subprocess.TimeoutExpired:
            status = None
        assert status == 0, f"{command} ignored SIGTERM: {worker.output()}"
    finally:
        worker.terminate(timeout=5)
