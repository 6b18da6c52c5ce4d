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
from typing import Any

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


class SandboxProcess:
    """``ledgerlink sandbox CONNECTOR`` in its own process, as the vendor is: ``url`` once it
    listens. It takes a free port itself (``--port 0``) and names it, so no other server can
    be on its address. A context manager; :meth:`stop` ends it.

    ``settings`` are its ``--set KEY=VALUE`` options; ``env`` adds to the environment (the
    sandbox of a connector installed for the test, say).
    """

    def __init__(self, connector: str, *settings: str, env: Mapping[str, str] | None = None,
                 timeout: float = 30.0) -> None:
        sets = [arg for setting in settings for arg in ("--set", setting)]
        self.process = subprocess.Popen([sys.executable, "-m", "ledgerlink", "sandbox", connector, "--port", "0",
                                         *sets], env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        banner = f"{connector} sandbox on "
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(self.process.stdout or ()), daemon=True)
        reader.start()  # drains the output for as long as the sandbox runs; a line of it names the URL
        deadline = time.monotonic() + timeout
        while not (said := [line for line in list(lines) if line.startswith(banner)]):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                reader.join(5)
                raise AssertionError(f"the {connector} sandbox did not start: {''.join(lines)[-4000:]}")
            time.sleep(0.02)
        #: the base URL it listens on, e.g. ``http://127.0.0.1:54321``
        self.url = said[0][len(banner):].strip()
        self.port = int(self.url.rsplit(":", 1)[1])

    def get(self, path: str) -> Any:
        """The JSON answer to ``GET path`` (``/__sandbox/stats``, say)."""
        return httpx.get(f"{self.url}{path}", timeout=30).json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServeProcess:
    """``ledgerlink serve`` on a port, its output in a log file.

    Without ``port`` a free one is picked; should another process take it before ``serve``
    binds it, :meth:`wait_healthy` starts ``serve`` again on another, so a test never talks
    to someone else's server.
    """

    def __init__(self, tmp_path: Path, db: str, recipes: Path, config: Path, env: dict[str, str],
                 port: int | None = None, workers: int = 2, lease: float = 2.0, command: str = "serve",
                 extra: tuple[str, ...] = ()) -> None:
        self._tmp_path, self._command, self._env = tmp_path, command, env
        self._picked = port is None
        self._args = [sys.executable, "-m", "ledgerlink", command, "--db", db, "--recipes", str(recipes),
                      "--config", str(config), "--workers", str(workers), "--lease", str(lease), *extra]
        self._start(port or free_port())

    def _start(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self._tmp_path / f"{self._command}-{self.port}-{time.monotonic_ns()}.log"
        args = self._args + (["--port", str(self.port)] if self._command == "serve" else [])
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, env={**os.environ, **self._env}, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Wait until the process has said it is ready (``serve``: bound its port) and, for
        ``serve``, answers ``/healthz``."""
        ready = f"ledgerlink serving on {self.url} " if self._command == "serve" else "ledgerlink worker:"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if self._picked and "another process listens on that port" in self.output():
                    self.log.close()
                    self._start(free_port())
                    continue
                raise AssertionError(f"{self._command} exited ({self.process.returncode}): {self.output()}")
            self.log.flush()
            if ready in self.log_path.read_text(errors="replace") and (self._command != "serve" or self._healthy()):
                return
            time.sleep(0.05)
        raise AssertionError(f"{self._command} did not become healthy: {self.output()}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

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
