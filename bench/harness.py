"""Shared pieces of the service benches (bench/ingest.py, bench/end_to_end.py).

Not a bench itself. It sets up a temporary directory (migrated SQLite database,
ledgerlink.toml, a copy of recipes/), starts the QuickBooks sandbox and ``ledgerlink
serve`` as their own processes, pre-builds and pre-signs Stripe ``invoice.paid``
webhooks (in USD, the sandbox company's home currency: the journal recipe refuses another
currency without an ExchangeRate), and posts them with a lean load generator: one thread
per client, each with a keep-alive socket and the raw HTTP/1.1 requests built before the
clock starts (no HTTP library on the hot path, so the generator takes as little of the
machine's CPU from ``serve`` as it can).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgerlink import jsonio
from ledgerlink_stripe import examples, signature

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "recipes"
REALM = "9130350000000000"
QBO_TOKEN = "sandbox-access-token"  # the token the sandbox always accepts
WEBHOOK_SECRET = "whsec_bench_" + "5e" * 16
ADMIN_TOKEN = "bench-admin-token-" + "7c" * 8
#: the sandbox company's home currency (connection setting home_currency), and so the webhooks':
#: an entry in another currency needs an ExchangeRate, which Stripe's invoice events do not carry
HOME_CURRENCY = "usd"
MB = 1024 * 1024


# --- the machine -------------------------------------------------------------------------

def machine() -> str:
    cpus = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cpus
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "host", "plugins"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        rev = f"{head}{' + uncommitted changes in host/ or plugins/' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        rev = "unknown"
    return (f"machine: nproc {usable} (cpu_count {cpus}), {platform.machine()}, "
            f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, git {rev}")


# --- processes ---------------------------------------------------------------------------

@contextlib.contextmanager
def postgresql(url: str) -> Iterator[str]:
    """``url`` as it is, or (when empty) a throwaway server started by ``.ci/pg-server`` for
    the block and stopped after it."""
    if url:
        yield url
        return
    server = str(Path(__file__).resolve().parent.parent / ".ci" / "pg-server")
    started = subprocess.run([server, "start"], capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield started
    finally:
        subprocess.run([server, "stop"], check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get_json(url: str, timeout: float = 2.0, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS of a process in bytes ({} when it is gone)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0.0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class CpuMeter:
    """CPU used by named processes (and this one) between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def start(self) -> None:
        self.begin = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.begin_self = sum(os.times()[:2])
        self.begin_wall = time.perf_counter()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self.begin_wall
        self.used = {name: cpu_seconds(pid) - self.begin[name] for name, pid in self.pids.items()}
        self.used["load generator"] = sum(os.times()[:2]) - self.begin_self

    def summary(self) -> str:
        parts = [f"{name} {used:.1f} s ({used / self.wall:.2f} cores)" for name, used in self.used.items()]
        return f"CPU over {self.wall:.1f} s: " + ", ".join(parts)


class Process:
    """A child process with its output in a log file; stopped with SIGTERM."""

    def __init__(self, name: str, args: list[str], log_path: Path, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.args = args
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)
        self.target_pid = self.popen.pid  # the python process itself (differs under py-spy)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self, tail: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-tail:]

    def stop(self, timeout: float = 40.0) -> int | None:
        if self.popen.poll() is None:
            # under py-spy, stop serve itself: py-spy then writes its profile and exits
            pid = self.target_pid
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"warning: {self.name} did not stop {timeout:.0f} s after SIGTERM; killing it",
                      file=sys.stderr)
                self.popen.kill()
                self.popen.wait(10)
        self.log.close()
        return self.popen.returncode


def wait_for(what: str, check, process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise SystemExit(f"{process.name} exited ({process.popen.returncode}) before {what}:\n"
                             f"{process.output()}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}:\n{process.output()}")


def start_sink(setup: "Setup") -> str:
    """Start ``bench/sink.py`` (QuickBooks' journal entry endpoint, no rate limit) on a free
    port as one of ``setup``'s processes; its address once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sink = Process("sink", [sys.executable, str(Path(__file__).resolve().parent / "sink.py"), str(port)],
                   setup.directory / "sink.log", setup.env, setup.directory)
    setup.processes.append(sink)
    wait_for("the sink to answer /stats", lambda: http_get_json(f"{url}/stats") is not None, sink)
    return url


@dataclass
class Setup:
    """A temporary directory with everything ``serve`` needs; ``close()`` removes it."""

    keep: bool = False
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ledgerlink-bench-")))
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "LL_BENCH_WHSEC": WEBHOOK_SECRET, "LL_BENCH_QBO_TOKEN": QBO_TOKEN,
                    "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1"}
        for name in ("LEDGERLINK_PLUGINS", "LEDGERLINK_DB", "LEDGERLINK_CONFIG", "LEDGERLINK_DEBUG"):
            self.env.pop(name, None)
        self.recipes = self.directory / "recipes"
        shutil.copytree(RECIPES, self.recipes)

    def database(self, name: str) -> tuple[str, Path]:
        """A freshly migrated SQLite database: (url, path)."""
        path = self.directory / f"{name}.db"
        url = f"sqlite:///{path}"
        done = subprocess.run([sys.executable, "-m", "ledgerlink", "db", "upgrade", "--db", url],
                              env=self.env, cwd=self.directory, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise SystemExit(f"ledgerlink db upgrade failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return url, path

    def config(self, sandbox_url: str) -> Path:
        path = self.directory / "ledgerlink.toml"
        path.write_text(
            '[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_BENCH_WHSEC}"\n\n'
            f'[connections.quickbooks]\nconnector = "quickbooks"\nbase_url = "{sandbox_url}"\n'
            f'realm_id = "{REALM}"\nhome_currency = "{HOME_CURRENCY.upper()}"\n'
            'access_token = "${LL_BENCH_QBO_TOKEN}"\n\n'
            '# no rate limit: the bench measures ledgerlink, not QuickBooks\' limits\n'
            '[connections.quickbooks.limits]\nrequests = 100000000\nper_seconds = 1.0\n')
        return path

    def start_sandbox(self, threads: int = 16) -> tuple[Process, str]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = Process("sandbox", [sys.executable, "-m", "ledgerlink", "sandbox", "quickbooks",
                                      "--port", str(port), "--threads", str(threads),
                                      "--set", "rate_limit=false"],
                          self.directory / "sandbox.log", self.env, self.directory)
        self.processes.append(process)
        wait_for("the sandbox to answer /__sandbox/stats", lambda: http_get_json(f"{url}/__sandbox/stats") is not None,
                 process)
        return process, url

    def start_worker(self, db_url: str, config: Path, threads: int, label: str) -> Process:
        """A ``ledgerlink worker`` process beside serve (``threads`` worker threads), stopped
        with the setup unless the caller takes it out of ``processes``."""
        process = Process(f"worker {label}", [sys.executable, "-m", "ledgerlink", "worker", "--db", db_url,
                                              "--recipes", str(self.recipes), "--config", str(config),
                                              "--workers", str(threads)],
                          self.directory / f"worker-{label}.log", self.env, self.directory)
        self.processes.append(process)
        return process

    def start_serve(self, db_url: str, config: Path, workers: int, threads: int, label: str,
                    profile: bool | str = False) -> tuple[Process, str, Path | None]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = [sys.executable, "-m", "ledgerlink", "serve", "--db", db_url, "--recipes", str(self.recipes),
                "--config", str(config), "--port", str(port), "--workers", str(workers),
                "--threads", str(threads)]
        profile_path = None
        if profile:
            spy = Path(sys.executable).with_name("py-spy")
            if not spy.exists():
                found = shutil.which("py-spy")
                spy = Path(found) if found else None
            if spy is None:
                print("note: --profile asked, but py-spy is not installed in the venv; running without it")
            else:
                profile_path = self.directory / f"profile-{label}.speedscope.json"
                gil = ["--gil"] if profile == "gil" else []
                args = [str(spy), "record", "-o", str(profile_path), "--format", "speedscope", *gil, "--", *args]
        process = Process(f"serve ({label})", args, self.directory / f"serve-{label}.log", self.env, self.directory)
        self.processes.append(process)
        if profile_path is not None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and process.alive():
                kids = _children(process.popen.pid)
                if kids:
                    process.target_pid = kids[0]
                    break
                time.sleep(0.02)
        wait_for("serve to answer /healthz", lambda: http_get_json(f"{url}/healthz")["status"] == "ok",
                 process, timeout=60)
        return process, url, profile_path

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.keep:
            print(f"kept: {self.directory}")
        else:
            shutil.rmtree(self.directory, ignore_errors=True)


# --- webhooks ----------------------------------------------------------------------------

def invoice_bodies(n: int, prefix: str, amount: int | None = None) -> list[bytes]:
    """``n`` distinct invoice.paid bodies in the home currency, each of its own amount
    (``amount=0``: no run)."""
    out = []
    for i in range(n):
        value = 1000 + i if amount is None else amount
        event = examples.invoice_paid(HOME_CURRENCY, value, f"evt_{prefix}_{i:06d}", f"{prefix.upper()}-{i:06d}")
        out.append(jsonio.dumps(event).encode("utf-8"))
    return out


def raw_requests(bodies: list[bytes], port: int, secret: str = WEBHOOK_SECRET, path: str = "/webhooks/stripe") -> list[bytes]:
    """Each body as a complete, signed HTTP/1.1 keep-alive POST, ready to send."""
    now = int(time.time())
    out = []
    for body in bodies:
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Stripe-Signature: {signature.sign(body, secret, now)}\r\n\r\n").encode("ascii")
        out.append(head + body)
    return out


class _Conn:
    """A keep-alive HTTP/1.1 client socket that sends pre-built requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def exchange(self, raw: bytes) -> tuple[int, bytes]:
        sock = self.sock or self._open()
        sock.sendall(raw)
        buffer = self.buffer
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before the response headers")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:  # no length: the body ends when the server closes
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            self.close()
            return status, rest
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed mid-body")
            rest += chunk
        body, self.buffer = rest[:length], rest[length:]
        if close:
            self.close()
        return status, body


@dataclass
class LoadResult:
    sent: int
    latencies_ns: list[int]          # one per answered request, in the order answered per client
    statuses: dict[int, int]
    errors: list[str]                # connection errors (each retried once on a new socket)
    first_send: float                # time.perf_counter() of the first send
    last_answer: float               # time.perf_counter() of the last answer
    first_send_wall: float           # time.time() matching first_send
    bad_samples: list[tuple[int, bytes]]

    @property
    def accepted(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def elapsed(self) -> float:
        return self.last_answer - self.first_send


def post_all(port: int, requests: list[bytes], concurrency: int) -> LoadResult:
    """Post every request, ``concurrency`` clients at once, each client taking its share in turn."""
    chunks = [requests[i::concurrency] for i in range(concurrency)]
    latencies: list[list[int]] = [[] for _ in range(concurrency)]
    statuses: list[dict[int, int]] = [{} for _ in range(concurrency)]
    errors: list[str] = []
    bad: list[tuple[int, bytes]] = []
    ends = [0.0] * concurrency
    conns = [_Conn(port) for _ in range(concurrency)]
    for conn in conns:  # connect before the clock starts
        conn._open()
    barrier = threading.Barrier(concurrency + 1)
    perf = time.perf_counter_ns

    def client(index: int) -> None:
        conn, mine, lat, st = conns[index], chunks[index], latencies[index], statuses[index]
        barrier.wait()
        for raw in mine:
            start = perf()
            try:
                status, body = conn.exchange(raw)
            except (OSError, ValueError, IndexError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                start = perf()
                try:
                    status, body = conn.exchange(raw)
                except (OSError, ValueError, IndexError) as exc2:
                    errors.append(f"{type(exc2).__name__}: {exc2} (after reconnecting; request dropped)")
                    conn.close()
                    continue
            lat.append(perf() - start)
            st[status] = st.get(status, 0) + 1
            if not 200 <= status < 300 and len(bad) < 5:
                bad.append((status, body[:300]))
        ends[index] = time.perf_counter()
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    first_wall = time.time()
    first = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    merged: dict[int, int] = {}
    for st in statuses:
        for status, n in st.items():
            merged[status] = merged.get(status, 0) + n
    return LoadResult(len(requests), [x for lat in latencies for x in lat], merged, errors, first,
                      max(ends), first_wall, bad)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def latency_ms(result: LoadResult) -> dict[str, float]:
    values = sorted(x / 1e6 for x in result.latencies_ns)
    return {"p50": percentile(values, 50), "p90": percentile(values, 90), "p99": percentile(values, 99),
            "max": values[-1] if values else float("nan")}


# --- reading the outcome -------------------------------------------------------------------

def readonly_db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10, check_same_thread=False)


def log_problems(process: Process, limit: int = 5) -> tuple[dict[str, int], list[str]]:
    """Counts of WARNING / ERROR / CRITICAL / Traceback lines in a log, and the first few."""
    counts: dict[str, int] = {}
    first: list[str] = []
    try:
        text = process.log_path.read_text(errors="replace")
    except OSError:
        return counts, first
    for line in text.splitlines():
        match = re.search(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b", line)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
            if len(first) < limit:
                first.append(line[:240])
    return counts, first


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "NOT MET")


def table(rows: list[tuple[str, str, str, bool | None]]) -> None:
    """Rows of (figure, value, target, met?)."""
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    twidth = max(len(r[2]) for r in rows)
    print(f"  {'figure':<{width}}  {'value':>{vwidth}}  {'target':<{twidth}}  verdict")
    for name, value, target, met in rows:
        print(f"  {name:<{width}}  {value:>{vwidth}}  {target:<{twidth}}  {verdict(met) if target else ''}")


# --- profile hint ------------------------------------------------------------------------

#: leaf frames of threads waiting for work (py-spy does not always see them as idle)
_IDLE = {("Condition.wait", "ThreadedTaskDispatcher.handler_thread"), ("Condition.wait", "Runtime.wait_for_work"),
         ("poll", "loop"), ("select", "loop"), ("poll2", "loop")}


def profile_hint(path: Path | None, top: int = 6) -> list[str]:
    """Where serve's threads were in a py-spy speedscope file, threads idling for work left out:
    the busiest innermost ledgerlink functions (with what they call), then the busiest leaf
    functions (with their innermost ledgerlink caller); shares of the non-idle samples."""
    if path is None or not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return [f"cannot read the profile: {exc}"]
    frames = data["shared"]["frames"]

    def ours(frame: dict) -> bool:
        file = frame.get("file") or ""
        return "/host/ledgerlink/" in file or "/plugins/ledgerlink_" in file

    def name(frame: dict) -> str:
        return f"{frame['name']} ({Path(frame.get('file') or '?').name}:{frame.get('line')})"

    by_leaf: dict[str, float] = {}
    by_ours: dict[str, float] = {}
    busy = 0.0
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"]):
            if not stack:
                continue
            names = [frames[f]["name"] for f in stack]
            if any((names[-1], caller) in _IDLE for caller in names[:-1]):
                continue
            busy += weight
            leaf = frames[stack[-1]]
            mine = next((frames[f] for f in reversed(stack) if ours(frames[f])
                         and frames[f]["name"] not in ("serve", "cmd_serve", "main")), None)
            where = name(leaf) + (f"  <- {mine['name']}" if mine is not None and mine is not leaf else "")
            by_leaf[where] = by_leaf.get(where, 0.0) + weight
            key = (f"{mine['name']} ({Path(mine['file']).name})" if mine is not None
                   else "(outside ledgerlink: waitress, threads)")
            by_ours[key] = by_ours.get(key, 0.0) + weight
    if not busy:
        return []

    def best(counts: dict[str, float]) -> list[str]:
        return [f"  {weight / busy:6.1%}  {where}" for where, weight in
                sorted(counts.items(), key=lambda item: -item[1])[:top]]

    return (["innermost ledgerlink function (with what it calls):"] + best(by_ours)
            + ["leaf function (<- innermost ledgerlink function):"] + best(by_leaf))
