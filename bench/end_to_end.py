"""How many runs per second ``ledgerlink serve`` completes end to end: webhook in, journal entry out.

Sets up everything in a temporary directory (``ledgerlink db upgrade`` on SQLite, a
ledgerlink.toml whose QuickBooks connection has no rate limit, a copy of recipes/),
starts the QuickBooks sandbox (``ledgerlink sandbox quickbooks --set rate_limit=false``)
and ``ledgerlink serve`` as their own processes, then posts N distinct signed
``invoice.paid`` webhooks (in USD, the sandbox company's home currency: the journal recipe
refuses another currency without an ExchangeRate) from ``--concurrency`` keep-alive clients
in this process (bodies built and signed before the clock starts), and polls serve's
SQLite database read-only until every run has succeeded.

Prints accepted webhooks/s, completed runs/s (N / time from the first post to the last
run closed as succeeded, taken from the runs' own ``updated_at``), ack latency p50/p99,
serve's peak RSS (VmHWM), and checks that every event was stored, the sandbox holds
exactly N new journal entries and every run has a succeeded entry step logged.

Run: .venv/bin/python bench/end_to_end.py [--events N] [--workers N] [--threads T] [--profile]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

TARGET_RUNS = 700.0
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 300.0


class Poller(threading.Thread):
    """Counts runs by status every ``interval`` seconds, read-only, until told to stop."""

    def __init__(self, db_path: Path, expected: int, interval: float = 0.025) -> None:
        super().__init__(daemon=True)
        self.db_path, self.expected, self.interval = db_path, expected, interval
        self.done = threading.Event()
        self.halt = threading.Event()
        self.counts: dict[str, int] = {}
        self.samples: list[tuple[float, int]] = []  # (perf_counter, succeeded)
        self.done_at: float | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            db = harness.readonly_db(self.db_path)
        except Exception as exc:  # noqa: BLE001
            self.error = f"cannot open the database read-only: {exc}"
            return
        with db:
            while not self.halt.is_set():
                try:
                    self.counts = dict(db.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
                except Exception as exc:  # noqa: BLE001 (busy: try again)
                    self.error = f"{type(exc).__name__}: {exc}"
                    time.sleep(self.interval)
                    continue
                now = time.perf_counter()
                succeeded = self.counts.get("succeeded", 0)
                self.samples.append((now, succeeded))
                if succeeded >= self.expected:
                    self.done_at = now
                    self.done.set()
                    return
                closed = sum(n for s, n in self.counts.items() if s in ("failed", "dead", "undone"))
                if closed and succeeded + closed >= self.expected:  # nothing more will succeed
                    self.done.set()
                    return
                time.sleep(self.interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="signed webhooks to post (default 3000)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients posting at once (default 16)")
    parser.add_argument("--workers", type=int, default=4, help="serve --workers (default 4)")
    parser.add_argument("--threads", type=int, default=64, help="serve --threads (default 64, serve's own)")
    parser.add_argument("--sandbox-threads", type=int, default=16, help="sandbox --threads (default 16)")
    parser.add_argument("--warmup", type=int, default=32,
                        help="untimed webhooks first (amount 0: the recipe's filter plans no run) (default 32)")
    parser.add_argument("--timeout", type=float, default=90.0,
                        help="seconds to wait for every run to succeed after the last ack (default 90)")
    parser.add_argument("--profile", nargs="?", const="wall", choices=("wall", "gil"), default=None,
                        help="run serve under py-spy and print where its threads were; 'gil' samples only "
                             "the thread holding the GIL (where the CPU goes) (default: wall, every busy thread)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    parser.add_argument("--worker-processes", type=int, default=0,
                        help="extra `ledgerlink worker` processes on the same database, each with --workers "
                             "threads (default 0: serve runs everything); with 1 or more, serve may take "
                             "--workers 0 and only answer webhooks")
    args = parser.parse_args(argv)
    if args.workers < 1 and args.worker_processes < 1:
        parser.error("--workers must be at least 1 (or add --worker-processes): the runs have to execute")
    n = args.events

    print(harness.machine())
    print(f"{n:,} distinct signed invoice.paid webhooks in {harness.HOME_CURRENCY.upper()} (the sandbox company's "
          f"home currency; another would need an ExchangeRate), concurrency {args.concurrency}, "
          f"{args.warmup} untimed warm-up webhooks (no run); serve --workers {args.workers} "
          f"--threads {args.threads} on SQLite; QBO sandbox on loopback, no rate limit")
    print("load generator, serve and the QuickBooks sandbox share this machine's CPUs")
    t0 = time.perf_counter()
    bodies = harness.invoice_bodies(n, "e2e")
    warmup = harness.invoice_bodies(args.warmup, "warme2e", amount=0)
    print(f"built {n:,} bodies ({sum(map(len, bodies)) / n:,.0f} bytes each) in {time.perf_counter() - t0:.1f} s "
          f"(before the clock)")

    setup = harness.Setup(keep=args.keep)
    ok = False
    try:
        sandbox, sandbox_url = setup.start_sandbox(args.sandbox_threads)
        config = setup.config(sandbox_url)
        db_url, db_path = setup.database("e2e")
        serve_workers = args.workers if args.worker_processes == 0 else 0
        serve, url, profile = setup.start_serve(db_url, config, serve_workers, args.threads, "e2e", args.profile)
        for k in range(args.worker_processes):
            setup.start_worker(db_url, config, args.workers, str(k))
        port = int(url.rsplit(":", 1)[1])
        if warmup:
            harness.post_all(port, harness.raw_requests(warmup, port), args.concurrency)
        created_before = harness.http_get_json(f"{sandbox_url}/__sandbox/stats")["created"].get(harness.REALM, {})
        requests = harness.raw_requests(bodies, port)  # signed now: well inside Stripe's 300 s tolerance

        poller = Poller(db_path, n)
        cpu = harness.CpuMeter({"serve": serve.target_pid, "sandbox": sandbox.target_pid})
        poller.start()
        cpu.start()
        result = harness.post_all(port, requests, args.concurrency)
        backlog = dict(poller.counts)
        finished = poller.done.wait(args.timeout)
        cpu.stop()
        poller.halt.set()
        poller.join(5)
        memory = harness.proc_status(serve.target_pid)
        sandbox_memory = harness.proc_status(sandbox.target_pid)

        stats = harness.http_get_json(f"{sandbox_url}/__sandbox/stats")
        with harness.readonly_db(db_path) as db:
            runs = dict(db.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
            stored = db.execute("SELECT count(*) FROM events WHERE event_id LIKE 'evt_e2e_%'").fetchone()[0]
            # the entry step's: each run finds its customer (a step of its own) before the entry
            steps_ok = db.execute("SELECT count(*) FROM run_steps WHERE status = 'succeeded' "
                                  "AND step_id = 'entry'").fetchone()[0]
            runs_logged = db.execute("SELECT count(DISTINCT run_id) FROM run_steps "
                                     "WHERE status = 'succeeded' AND step_id = 'entry'").fetchone()[0]
            step_rows = dict(db.execute("SELECT status, count(*) FROM run_steps GROUP BY status").fetchall())
            retried = db.execute("SELECT count(*) FROM runs WHERE attempts > 1").fetchone()[0]
            last_success = db.execute("SELECT max(updated_at) FROM runs WHERE status = 'succeeded'").fetchone()[0]
        problems = harness.log_problems(serve)
        sandbox_problems = harness.log_problems(sandbox)
        serve.stop()  # SIGTERM; under py-spy this also writes the profile
        hint = harness.profile_hint(profile)
    finally:
        setup.close()  # SIGTERM whatever still runs; removes the directory unless --keep

    lat = harness.latency_ms(result)
    accepted_rate = result.accepted / result.elapsed if result.elapsed > 0 else 0.0
    succeeded = runs.get("succeeded", 0)
    if last_success is not None and succeeded:
        span = last_success - result.first_send_wall  # the runs' own clock: no polling granularity
    else:
        span = float("nan")
    polled_span = (poller.done_at - result.first_send) if poller.done_at else float("nan")
    runs_rate = succeeded / span if span and span == span and span > 0 else 0.0
    created = stats["created"].get(harness.REALM, {})
    entries = created.get("journalentry", 0) - created_before.get("journalentry", 0)
    hwm = memory.get("VmHWM", 0) / harness.MB
    sandbox_errors = {s: c for s, c in stats.get("by_status", {}).items() if not s.startswith("2")}
    all_stored = stored == n and result.accepted == n
    all_logged = steps_ok == n and runs_logged == n and succeeded == n
    all_entries = entries == n

    print(f"\nserve --workers {args.workers} --threads {args.threads}: {n:,} webhooks acked in "
          f"{result.elapsed:.2f} s; every run "
          f"{'succeeded' if finished and succeeded == n else 'did NOT succeed'} "
          f"{span:.2f} s after the first post")
    rows = [
        ("completed runs/s (end to end)", f"{runs_rate:,.0f}", f">= {TARGET_RUNS:,.0f}", runs_rate >= TARGET_RUNS),
        ("accepted webhooks/s (2xx)", f"{accepted_rate:,.0f}", f">= {TARGET_RATE:,.0f}", accepted_rate >= TARGET_RATE),
        ("ack latency p50", f"{lat['p50']:.1f} ms", "", None),
        ("ack latency p99", f"{lat['p99']:.1f} ms", f"< {TARGET_P99_MS:.0f} ms", lat["p99"] < TARGET_P99_MS),
        ("ack latency max", f"{lat['max']:.1f} ms", "", None),
        ("non-2xx answers", f"{result.non_2xx}", "0", result.non_2xx == 0),
        ("events stored", f"{stored:,} / {n:,}", "all", all_stored),
        ("runs succeeded", f"{succeeded:,} / {n:,}", "all", succeeded == n),
        ("runs with a succeeded step logged", f"{runs_logged:,} / {n:,}", "all", all_logged),
        ("journal entries in the sandbox", f"{entries:,} / {n:,}", "exactly N", all_entries),
        ("serve peak RSS (VmHWM)", f"{hwm:,.0f} MB", f"<= {TARGET_RSS_MB:.0f} MB", 0 < hwm <= TARGET_RSS_MB),
    ]
    harness.table(rows)
    ok = (runs_rate >= TARGET_RUNS and all_stored and all_logged and all_entries and 0 < hwm <= TARGET_RSS_MB)

    statuses = ", ".join(f"{s}: {c:,}" for s, c in sorted(result.statuses.items()))
    print(f"  answers: {statuses}; runs when the last webhook was acked: {backlog or 'none yet'}")
    print(f"  runs at the end: {runs}; run_steps by status: {step_rows}; runs retried: {retried}")
    print(f"  completion seen by polling the database: {polled_span:.2f} s after the first post")
    print(f"  sandbox: {stats.get('requests', 0):,} requests, non-2xx {sandbox_errors or 'none'}, "
          f"replayed {stats.get('replayed', 0)}, max concurrent "
          f"{stats.get('max_concurrent_seen', {}).get(harness.REALM, 0)}, peak RSS "
          f"{sandbox_memory.get('VmHWM', 0) / harness.MB:,.0f} MB")
    print(f"  {cpu.summary()}")
    if poller.error:
        print(f"  poller: {poller.error}")
    for status, body in result.bad_samples:
        print(f"  non-2xx sample: {status} {body.decode('utf-8', 'replace')}")
    for error in result.errors[:3]:
        print(f"  connection error: {error}")
    for name, (counts, first) in (("serve", problems), ("sandbox", sandbox_problems)):
        if counts:
            print(f"  {name} log: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
            for line in first:
                print(f"    {line}")
    if profile:
        print(f"  profile (speedscope; open at https://www.speedscope.app): {profile}"
              f"{'' if args.keep else ' -- removed with the directory: add --keep'}")
        if hint:
            print(f"  where serve's {'thread holding the GIL' if args.profile == 'gil' else 'busy threads'} spent the samples:")
            for line in hint:
                print(f"    {line}")
    elif not ok:
        print("\nA target is not met: rerun with --profile --keep (py-spy) to see where serve spends its time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
