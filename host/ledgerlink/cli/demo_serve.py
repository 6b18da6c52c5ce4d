"""What both parts of ``ledgerlink demo`` share: ``ledgerlink serve`` as a separate process.

:func:`start_serve` runs ``ledgerlink serve`` on a free loopback port with a configuration,
a database and recipes, and waits until it answers; :func:`wait_until` waits (never
measures) for a condition; :func:`toml_value` writes a value into ``ledgerlink.toml``.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

import httpx

from ledgerlink.errors import DemoError


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Return once ``check()`` is true (an HTTP error counts as not yet); DemoError naming
    ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}")


def toml_value(value: Any) -> str:
    """``value`` as a TOML value (a string, a number, a boolean or a list of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_serve(stack: ExitStack, directory: Path, db: str, recipes: str, config: Path,
                env: dict[str, str], port: int | None = None) -> tuple[str, httpx.Client]:
    """``ledgerlink serve`` on ``port`` (default: a free one it takes itself), logging to
    ``directory/serve.log``, stopped (SIGTERM) when ``stack`` closes; returns its base URL and
    a client for it, once it has said where it listens and ``/healthz`` answers there."""
    log_path = directory / "serve.log"
    log = open(log_path, "w")
    stack.callback(log.close)
    serve = subprocess.Popen(
        [sys.executable, "-m", "ledgerlink", "serve", "--db", db, "--recipes", recipes,
         "--config", str(config), "--port", str(port or 0), "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop_serve() -> None:
        if serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(20)
            except subprocess.TimeoutExpired:
                serve.kill()

    stack.callback(stop_serve)
    client = stack.enter_context(httpx.Client(timeout=10.0, trust_env=False))
    banner = re.compile(r"^ledgerlink serving on (http://127\.0\.0\.1:\d+) ", re.MULTILINE)
    base = ""

    def healthy() -> bool:
        nonlocal base
        if serve.poll() is not None:
            raise DemoError(f"serve exited with status {serve.returncode}; see {log_path}")
        said = banner.search(log_path.read_text(errors="replace"))
        if said is None:  # not listening yet (its banner is printed once the port is bound)
            return False
        base = said[1]
        return client.get(f"{base}/healthz").status_code == 200

    wait_until(healthy, 30, "ledgerlink serve to start")
    return base, client
