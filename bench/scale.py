"""How completed runs/s scale with worker processes on one PostgreSQL (and SQLite, one process).

For each setup — SQLite with 1 worker process, PostgreSQL with 1, 2 and 4 worker
processes — a fresh database is migrated, ``ledgerlink serve --workers 0`` stores N signed
``invoice.paid`` webhooks (the inbox only), then K ``ledgerlink worker`` processes are
started and timed until every run has succeeded against the QuickBooks sandbox (its own
process, no rate limit; the connection's limits lifted). CPU seconds of the workers, the
sandbox and the PostgreSQL server are read from /proc over the same window, to tell what
saturates first on this machine.

Then one worker runs M runs in this process with every SQL statement counted (SQLAlchemy's
``before_cursor_execute``), which gives the database statements and transactions per run,
and, with the PostgreSQL server's CPU per run from the 1-process setup, a projection of how
many runs/s one PostgreSQL could serve for N ledgerlink machines.

PostgreSQL: ``--pg URL`` (a database the bench may create databases next to), or nothing:
``.ci/pg-server`` starts a throwaway server and stops it afterwards.

Run: .venv/bin/python bench/scale.py [--events N] [--threads T] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def postgres_pids() -> list[int]:
    """Every process of the PostgreSQL server (postmaster and backends)."""
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def cpu_of(pids: list[int]) -> float:
    return sum(harness.cpu_seconds(pid) for pid in pids)


def pg_database(base_url: str) -> str:
    """A new database beside ``base_url``'s, migrated."""
    name = f"ll_bench_{uuid.uuid4().hex[:8]}"
    from ledgerlink import store as store_module

    admin = sa.create_engine(store_module.driver_url(base_url), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    store_module.upgrade(url)
    return url


def succeeded(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM runs WHERE status = 'succeeded'")).scalar_one()


def measure(setup: harness.Setup, db_url: str, config: Path, sandbox: harness.Process, events: int,
            processes: int, threads: int, label: str) -> dict[str, float]:
    serve, url, _ = setup.start_serve(db_url, config, workers=0, threads=16, label=f"{label}-inbox")
    port = int(url.rsplit(":", 1)[1])
    result = harness.post_all(port, harness.raw_requests(harness.invoice_bodies(events, label.replace("-", "_")),
                                                         port), concurrency=16)
    if result.accepted < events:
        raise SystemExit(f"{label}: only {result.accepted} of {events} webhooks accepted:\n{serve.output()}")
    serve.stop()  # the inbox is full; from here on only the workers work
    setup.processes.remove(serve)
    from ledgerlink import store as store_module

    engine = sa.create_engine(store_module.driver_url(db_url), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:  # held back until every worker process is up
        conn.execute(sa.text("UPDATE runs SET due_at = due_at + 1e9"))
    workers = [setup.start_worker(db_url, config, threads, f"{label}-{index}") for index in range(processes)]
    for worker in workers:
        harness.wait_for(f"{worker.name} to start", lambda w=worker: "ledgerlink worker:" in w.output(), worker)
    time.sleep(1.0)
    pg_before = {pid: harness.cpu_seconds(pid) for pid in postgres_pids()} if db_url.startswith("postgresql") else {}
    before = {"sandbox": harness.cpu_seconds(sandbox.popen.pid),
              "workers": sum(harness.cpu_seconds(w.popen.pid) for w in workers)}
    started = time.perf_counter()
    with engine.begin() as conn:  # go: every run due now, and the workers told so
        conn.execute(sa.text("UPDATE runs SET due_at = 0"))
        if db_url.startswith("postgresql"):
            conn.execute(sa.text("NOTIFY ledgerlink_work"))
    deadline = time.monotonic() + 600
    while succeeded(engine) < events:
        if time.monotonic() > deadline or not all(w.alive() for w in workers):
            raise SystemExit(f"{label}: runs did not finish:\n" + "\n".join(w.output() for w in workers))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    used = {"workers": sum(harness.cpu_seconds(w.popen.pid) for w in workers) - before["workers"],
            "sandbox": harness.cpu_seconds(sandbox.popen.pid) - before["sandbox"],
            # backends that started during the window count whole
            "postgres": sum(harness.cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in postgres_pids())
            if pg_before else 0.0}
    for worker in workers:
        worker.stop()
    engine.dispose()
    return {"runs_per_s": events / elapsed, "elapsed": elapsed, **{f"cpu_{k}": v for k, v in used.items()}}


def statements_per_run(db_url: str, config: Path, recipes: Path, runs: int) -> dict[str, float]:
    """Run ``runs`` runs with one in-process worker, counting statements and transactions."""
    from ledgerlink.engine.runtime import Settings
    from ledgerlink.engine.worker import Worker
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink_stripe import signature

    os.environ.setdefault("LL_BENCH_WHSEC", harness.WEBHOOK_SECRET)
    os.environ.setdefault("LL_BENCH_QBO_TOKEN", harness.QBO_TOKEN)
    runtime = build_runtime(db=db_url, recipes=recipes, config_file=str(config), settings=Settings(batch=1))
    counts = {"statements": 0, "commits": 0, "governor": 0}

    def statement(*_args):
        counts["statements"] += 1

    def commit(*_args):
        counts["commits"] += 1

    def governor(*_args):
        counts["governor"] += 1

    sa.event.listen(runtime.store.engine, "before_cursor_execute", statement)
    sa.event.listen(runtime.store.engine, "commit", commit)
    governor_engine = getattr(runtime.governor, "_engine", None)
    if governor_engine is not None:  # the shared governor's own pool: autocommit statements
        sa.event.listen(governor_engine, "before_cursor_execute", governor)
    now = int(time.time())
    for body in harness.invoice_bodies(runs, "calibrate"):
        runtime.inbox.receive("stripe", {"Stripe-Signature": signature.sign(body, harness.WEBHOOK_SECRET, now)}, body)
    ingest = dict(counts)
    counts.update(statements=0, commits=0, governor=0)
    worker = Worker(runtime)
    worker.LOOK_EVERY = 3600.0
    done = 0
    while done < runs:
        claimed = runtime.store.claim(worker.name, 60.0, 1)
        if not claimed:
            break
        for run in claimed:
            worker.process(run)
            done += 1
    runtime.close()
    return {"ingest_statements": ingest["statements"] / runs, "ingest_commits": ingest["commits"] / runs,
            "run_statements": counts["statements"] / max(done, 1), "run_commits": counts["commits"] / max(done, 1),
            "governor_statements": counts["governor"] / max(done, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4, help="worker threads per process")
    parser.add_argument("--pg", default=os.environ.get("LEDGERLINK_BENCH_PG", ""))
    parser.add_argument("--calibrate", type=int, default=300, help="runs counted statement by statement")
    args = parser.parse_args()
    started_pg = False
    if not args.pg:
        args.pg = subprocess.run([str(ROOT / ".ci" / "pg-server"), "start"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        started_pg = True
    print(harness.machine())
    print(f"{args.events:,} invoice.paid runs per setup, {args.threads} worker threads per process, "
          f"QuickBooks sandbox without rate limits")
    setup = harness.Setup()
    rows = []
    try:
        sandbox, sandbox_url = setup.start_sandbox()
        config = setup.config(sandbox_url)
        sqlite_url, _ = setup.database("scale-sqlite")
        rows.append(("SQLite", 1, measure(setup, sqlite_url, config, sandbox, args.events, 1, args.threads, "sqlite-1")))
        for processes in (1, 2, 4):
            rows.append(("PostgreSQL", processes, measure(setup, pg_database(args.pg), config, sandbox, args.events,
                                                          processes, args.threads, f"pg-{processes}")))
        calibration = statements_per_run(pg_database(args.pg), config, setup.recipes, args.calibrate)
    finally:
        setup.close()
        if started_pg:
            subprocess.run([str(ROOT / ".ci" / "pg-server"), "stop"], check=False)
    base = rows[1][2]["runs_per_s"]
    print(f"\n{'database':<11} {'processes':>9} {'runs/s':>8} {'vs 1 PG':>8}   CPU cores used: workers / sandbox / PostgreSQL")
    for name, processes, row in rows:
        cores = [row[f"cpu_{k}"] / row["elapsed"] for k in ("workers", "sandbox", "postgres")]
        print(f"{name:<11} {processes:>9} {row['runs_per_s']:>8.1f} {row['runs_per_s'] / base:>7.2f}x   "
              f"{cores[0]:.2f} / {cores[1]:.2f} / {cores[2]:.2f}")
    last = rows[-1][2]
    shares = {k: last[f"cpu_{k}"] / last["elapsed"] for k in ("workers", "sandbox", "postgres")}
    cores = os.cpu_count() or 1
    busiest = max(shares, key=shares.get)
    used = sum(shares.values())
    print(f"\nwith 4 processes, of this machine's {cores} cores {used:.2f} were busy: "
          f"{', '.join(f'{k} {v:.2f}' for k, v in shares.items())}")
    if used >= 0.85 * cores:
        print(f"the CPU is saturated, mostly by {busiest}: more processes on this machine cannot help")
    else:
        per_run = 4 * args.threads / last["runs_per_s"] * 1000
        print(f"nothing saturates the CPU: each of the {4 * args.threads} worker threads spends {per_run:.0f} ms a "
              f"run, mostly waiting on round trips to PostgreSQL (each commit waits for its WAL fsync) and to the "
              f"sandbox; {busiest} uses the most CPU")
    total = calibration["run_statements"] + calibration["governor_statements"]
    print(f"database work per run (one worker, {args.calibrate} runs): {total:.1f} statements, each one round "
          f"trip: {calibration['run_statements']:.1f} by the store in {calibration['run_commits']:.1f} "
          f"transactions, {calibration['governor_statements']:.1f} by the shared governor (a slot taken, one "
          f"statement; finishing it, batched), each its own transaction; the inbox adds "
          f"{calibration['ingest_statements']:.1f} statements in {calibration['ingest_commits']:.2f} transactions "
          f"per event (batched)")
    pg_one = rows[1][2]
    pg_cpu_per_run = pg_one["cpu_postgres"] / args.events
    if pg_cpu_per_run > 0:
        per_core = 1.0 / pg_cpu_per_run
        print(f"PostgreSQL CPU per run: {pg_cpu_per_run * 1000:.2f} ms, so one PostgreSQL core serves about "
              f"{per_core:,.0f} runs/s and an 8-core server about {8 * per_core * 0.7:,.0f} runs/s at 70% busy; "
              f"at the {pg_one['runs_per_s']:.0f} runs/s one ledgerlink process reached here, that is about "
              f"{8 * per_core * 0.7 / pg_one['runs_per_s']:.0f} ledgerlink machines before the database is the limit")


if __name__ == "__main__":
    main()
