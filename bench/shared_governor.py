"""How much of a vendor's allowed rate N ``ledgerlink worker`` processes get together, with zero 429s.

The governor shared through PostgreSQL counts every process's requests in one window per
tenant. This bench queues ``--events`` signed ``invoice.paid`` events (one journal entry
each, plus a customer found or created the first time) in a fresh PostgreSQL database,
starts the QuickBooks sandbox in its own process enforcing QuickBooks' limits compressed
12 times (500 requests per 5 s and 10 at once, the connection's limits the same, default
headroom 0.98), starts ``--processes`` worker processes with the runs held back, and when
every one of them is up lets the runs go. Process start-up is thus left out; it is a
figure of its own (``from go`` below counts from the moment the runs were let go).

It prints, from the requests the governor recorded (``governor_starts``: the moment each
counts in the window from, its answer, on the database server's clock, so one clock for
every process) and the sandbox's counters:

- the share of the allowed rate in the whole windows after the first (the steady rate:
  the first window starts empty, so it holds a burst on top of the rate; the headroom caps
  the steady share at 98 %), and over the whole run from go;
- how late a request's answer came after the moment the window let the request in (its
  ``budget``-th predecessor leaving the window): the request's own time plus what the
  governor (waking, asking again) or the workers (not ready to send) lost, p50 / p90 / max;
- the 429s, the busiest window and the most requests at once the sandbox saw, and the CPU
  the workers used.

A 429, a window over the limit or a run that did not succeed ends it with status 1. The
figure depends on the machine: on a busy two-core machine the workers may not keep up with
the allowed rate (lower ``--requests`` to measure the governor alone).

PostgreSQL: ``--pg URL`` (a database the bench may create databases next to), or nothing:
``.ci/pg-server`` starts a throwaway server and stops it afterwards.

Run: .venv/bin/python bench/shared_governor.py [--processes 4] [--threads 4] [--events 1500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from scale import BENCH, drop_database, pg_database, per_run, server_statements  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPE = "stripe-invoice-paid-to-quickbooks-journal.json"
KEY = "quickbooks:quickbooks"


def start_sandbox(setup: harness.Setup, requests: int, per_seconds: float, concurrent: int) -> tuple[harness.Process, str]:
    """The QuickBooks sandbox enforcing the limits (its own process)."""
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}"
    settings = ["rate_limit=true", f"requests_per_window={requests}", f"window_seconds={per_seconds}",
                f"concurrent={concurrent}", "latency=0.002"]
    process = harness.Process("sandbox", [sys.executable, "-m", "ledgerlink", "sandbox", "quickbooks", "--port",
                                          str(port), *[a for s in settings for a in ("--set", s)]],
                              setup.directory / "sandbox.log", setup.env, setup.directory)
    setup.processes.append(process)
    harness.wait_for("the sandbox to answer", lambda: harness.http_get_json(f"{url}/__sandbox/stats") is not None,
                     process)
    return process, url


def queue_events(db_url: str, recipes: Path, config: Path, events: int) -> int:
    """Store ``events`` signed invoice.paid webhooks through the inbox; the runs planned."""
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.engine.runtime import Settings
    from ledgerlink_stripe import signature

    os.environ.setdefault("LL_BENCH_WHSEC", harness.WEBHOOK_SECRET)
    os.environ.setdefault("LL_BENCH_QBO_TOKEN", harness.QBO_TOKEN)
    runtime = build_runtime(db=db_url, recipes=recipes, config_file=str(config), settings=Settings(workers=0))
    try:
        now = int(time.time())
        for body in harness.invoice_bodies(events, "governor"):
            runtime.inbox.receive("stripe", {"Stripe-Signature": signature.sign(body, harness.WEBHOOK_SECRET, now)},
                                  body)
        return sum(runtime.store.counts().values())
    finally:
        runtime.close()


def lateness(starts: list[float], budget: int, per_seconds: float) -> list[float]:
    """For each request that had to wait for the window, how long after the window let it in
    its answer came (``starts``: the moments the requests count from, sorted)."""
    return [max(0.0, starts[i] - (starts[i - budget] + per_seconds)) for i in range(budget, len(starts))]


def shares(starts: list[float], go: float, per_seconds: float, rate: float) -> dict[str, float]:
    """The steady share (whole windows after the first, from the first start) and the share
    over the whole run from go."""
    first, last = starts[0], starts[-1]
    windows = max(0, int((last - first - per_seconds) // per_seconds))
    steady_from, steady_to = first + per_seconds, first + per_seconds * (windows + 1)
    in_steady = sum(1 for t in starts if steady_from <= t < steady_to)
    return {"windows": windows, "steady": in_steady / (windows * per_seconds * rate) if windows else float("nan"),
            "whole": len(starts) / max(last - go, 1e-9) / rate, "first_after_go": first - go,
            "span": last - go}


def burst_rate(starts: list[float], budget: int) -> float:
    """How fast the workers sent while the first window had room: its starts per second."""
    head = starts[:budget]
    return (len(head) - 1) / (head[-1] - head[0]) if len(head) > 1 and head[-1] > head[0] else float("nan")


def governed(statements: dict[str, float] | None, marker: str, requests: int) -> str:
    """Calls per request of the statements containing ``marker`` ("n/a" where the server
    does not count statements)."""
    if statements is None:
        return "n/a"
    return f"{sum(calls for query, calls in statements.items() if marker in query) / max(requests, 1):.2f}"


def percentile(values: list[float], q: float) -> float:
    return harness.percentile(sorted(values), q) if values else float("nan")


def measure(args: argparse.Namespace, base_url: str) -> bool:
    from ledgerlink.contract.limits import Limits
    from ledgerlink import store as store_module

    limits = Limits(args.requests, args.per_seconds, concurrent=args.concurrent)
    rate = args.requests / args.per_seconds
    setup = harness.Setup()
    db_url = pg_database(base_url)
    engine = sa.create_engine(store_module.driver_url(db_url), poolclass=sa.pool.NullPool)
    try:
        only = setup.directory / "recipe"
        only.mkdir()
        (only / RECIPE).write_bytes((harness.RECIPES / RECIPE).read_bytes())
        sandbox, sandbox_url = start_sandbox(setup, args.requests, args.per_seconds, args.concurrent)
        config = setup.config(sandbox_url)
        config.write_text(config.read_text().split("# no rate limit", 1)[0]
                          + f"[connections.quickbooks.limits]\nrequests = {args.requests}\n"
                            f"per_seconds = {args.per_seconds}\nconcurrent = {args.concurrent}\n")
        runs = queue_events(db_url, only, config, args.events)
        with engine.begin() as conn:  # held back until every worker process is up
            conn.execute(sa.text("UPDATE runs SET due_at = due_at + 1e9"))
        started = time.monotonic()
        workers = [setup.start_worker(db_url, config, args.threads, str(index)) for index in range(args.processes)]
        for worker in workers:
            harness.wait_for(f"{worker.name} to start", lambda w=worker: "ledgerlink worker:" in w.output(), worker)
        startup = time.monotonic() - started
        time.sleep(0.5)
        cpu_before = sum(harness.cpu_seconds(w.popen.pid) for w in workers)
        statements_before = server_statements(engine)
        with engine.begin() as conn:  # go: every run due now, and the workers told so
            go = float(conn.execute(sa.text(f"{BENCH} SELECT extract(epoch from clock_timestamp())")).scalar_one())
            conn.execute(sa.text(f"{BENCH} UPDATE runs SET due_at = 0"))
            conn.execute(sa.text(f"{BENCH} NOTIFY ledgerlink_work"))
        deadline = time.monotonic() + 600
        while True:
            with engine.connect() as conn:
                counts = dict(conn.execute(sa.text(f"{BENCH} SELECT status, count(*) FROM runs GROUP BY status")).all())
            if counts.get("succeeded", 0) + counts.get("failed", 0) + counts.get("dead", 0) >= runs:
                break
            if time.monotonic() > deadline or not all(w.alive() for w in workers):
                raise SystemExit(f"runs did not finish: {counts}\n" + "\n".join(w.output() for w in workers))
            time.sleep(0.1)
        cpu = sum(harness.cpu_seconds(w.popen.pid) for w in workers) - cpu_before
        statements = per_run(statements_before, server_statements(engine), 1)
        load = os.getloadavg()[0]
        for worker in workers:
            worker.stop()
        with engine.connect() as conn:
            starts = [float(t) for t in conn.execute(sa.text(
                f"{BENCH} SELECT started_at FROM governor_starts WHERE key = :key AND holder <> 'vendor' "
                "ORDER BY started_at"), {"key": KEY}).scalars()]
        stats = harness.http_get_json(f"{sandbox_url}/__sandbox/stats")
    finally:
        setup.close()
        engine.dispose()
        drop_database(base_url, db_url)
    late = lateness(starts, limits.budget, args.per_seconds)
    share = shares(starts, go, args.per_seconds, rate)
    realm = harness.REALM
    print(f"{args.processes} worker processes x {args.threads} threads, {runs:,} runs, {len(starts):,} requests "
          f"(the sandbox served {stats['requests']:,}); limits {args.requests} per {args.per_seconds:g} s "
          f"({rate:g}/s, budget {limits.budget} with the headroom) and {args.concurrent} at once; "
          f"start-up of the processes {startup:.1f} s (left out); load average {load:.1f}")
    print(f"| figure | value |\n|---|---|\n"
          f"| share of the allowed rate, steady ({share['windows']} whole windows after the first) "
          f"| {share['steady']:.1%} |\n"
          f"| share from go, whole run ({share['span']:.1f} s, first window's burst included) | {share['whole']:.1%} |\n"
          f"| the workers' own pace: the first window's {min(len(starts), limits.budget)} starts "
          f"| {burst_rate(starts, limits.budget):.0f}/s |\n"
          f"| first request after go | {share['first_after_go'] * 1000:.0f} ms |\n"
          f"| answer after the window let its request in, p50 / p90 / max | {percentile(late, 50) * 1000:.1f} / "
          f"{percentile(late, 90) * 1000:.1f} / {max(late, default=float('nan')) * 1000:.1f} ms |\n"
          f"| 429s | {stats['throttled']} (by status: {stats['by_status'].get('429', 0)}) |\n"
          f"| busiest window (limit {args.requests}) | {stats['per_window_max'].get(realm)} |\n"
          f"| most at once (limit {args.concurrent}) | {stats['max_concurrent_seen'].get(realm)} |\n"
          f"| the governor's statements per request: slots asked for / answers marked "
          f"| {governed(statements, 'ledgerlink_take_slot', len(starts))} / "
          f"{governed(statements, 'UPDATE governor_starts', len(starts))} |\n"
          f"| runs | {counts} |\n"
          f"| workers' CPU | {cpu:.1f} s ({cpu / max(share['span'], 1e-9):.2f} cores) |")
    return (counts == {"succeeded": runs} and stats["throttled"] == 0 and not stats["by_status"].get("429")
            and stats["per_window_max"].get(realm, 0) <= args.requests
            and stats["max_concurrent_seen"].get(realm, 0) <= args.concurrent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="worker threads per process")
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--requests", type=int, default=500, help="requests per window (default 500)")
    parser.add_argument("--per-seconds", type=float, default=5.0, help="the window (default 5 s)")
    parser.add_argument("--concurrent", type=int, default=10, help="requests at once (default 10)")
    parser.add_argument("--pg", default=os.environ.get("LEDGERLINK_BENCH_PG", ""))
    args = parser.parse_args()
    print(harness.machine())
    with harness.postgresql(args.pg) as pg:
        kept = measure(args, pg)
    if not kept:
        print("LIMITS NOT KEPT (or a run did not succeed)")
    sys.exit(0 if kept else 1)


if __name__ == "__main__":
    main()
