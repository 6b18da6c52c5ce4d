"""ledgerlink as a real subprocess: one CLI command (:func:`run_ledgerlink`), or ``serve`` /
``worker`` running beside the test (:class:`ServeProcess`) for crash, load and scale-out tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx


def ledgerlink_exe() -> str:
    """The installed ``ledgerlink`` console script beside this Python."""
    return str(Path(sys.executable).with_name("ledgerlink"))


def run_ledgerlink(*argv: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                   timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed ``ledgerlink`` console script once, its output captured as text.

    ``env`` adds to (and overrides) this process's environment; ``cwd`` defaults to the
    current directory (the fixture ``run_subprocess`` runs it from the project's root).
    """
    return subprocess.run([ledgerlink_exe(), *argv], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout)


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """``ledgerlink serve`` on a port, its output in a log file."""

    def __init__(self, tmp_path: Path, db: str, recipes: Path, config: Path, env: dict[str, str],
                 port: int | None = None, workers: int = 2, lease: float = 2.0, command: str = "serve",
                 extra: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"{command}-{self.port}-{time.monotonic_ns()}.log"
        args = [sys.executable, "-m", "ledgerlink", command, "--db", db, "--recipes", str(recipes),
                "--config", str(config), "--workers", str(workers), "--lease", str(lease), *extra]
        if command == "serve":
            args += ["--port", str(self.port)]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited ({self.process.returncode}): {self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"serve did not become healthy: {self.output()}")

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()
        return self.process.returncode

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()[-4000:]


def deliver_until_acknowledged(url: str, events: Sequence[Mapping[str, object]], acknowledged: set[str],
                               lock: threading.Lock, deadline: float,
                               sign: Callable[[Mapping[str, object]], tuple[bytes, Mapping[str, str]]]) -> None:
    """POST each event to ``url`` as a webhook sender does: resend until a 200, then add its
    id to ``acknowledged``. ``sign(event) -> (body, headers)``."""
    with httpx.Client(timeout=5.0) as client:
        for event in events:
            body, headers = sign(event)
            while time.monotonic() < deadline:
                try:
                    response = client.post(url, content=body, headers=headers)
                except httpx.HTTPError:
                    time.sleep(0.05)
                    continue
                if response.status_code == 200:
                    with lock:
                        acknowledged.add(str(event["id"]))
                    break
                time.sleep(0.05)
