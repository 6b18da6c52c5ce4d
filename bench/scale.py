"""How completed runs/s scale with worker processes on one PostgreSQL (and SQLite, one process).

For each setup -- SQLite with 1 worker process, PostgreSQL with 1, 2 and 4 worker
processes (``--processes``) -- a fresh database is migrated, ``ledgerlink serve --workers 0``
stores N signed ``invoice.paid`` webhooks (the inbox only), then K ``ledgerlink worker``
processes are started with the runs held back, and when all are up the runs are let go and
timed until every one has succeeded against the QuickBooks sandbox (its own process, no
rate limit; the connection's limits lifted). Over that window it reads from /proc the CPU
of the workers, the sandbox and the PostgreSQL server's processes (that server's only) and
the workers' peak RSS, and from the server (``pg_stat_statements``, which .ci/pg-server
loads) every statement the workers ran and the transactions committed: statements per run,
by statement, so what each run costs the database is counted across processes, not
estimated. Serve's CPU per stored event and peak RSS come from the inbox phase.

Then (``--calibrate``) one worker runs M runs in this process with every SQL statement
counted (SQLAlchemy's ``before_cursor_execute``), which splits the statements between the
store and the shared governor, and, with the PostgreSQL server's CPU per run from the
1-process setup, a projection of how many runs/s one PostgreSQL could serve for N ledgerlink
machines.

PostgreSQL: ``--pg URL`` (a database the bench may create databases next to; they are
dropped afterwards), or nothing: ``.ci/pg-server`` starts a throwaway server and stops it
afterwards. The figures depend on the machine and on what else runs on it (the load
average is printed); tests/host/test_bench_scale.py runs it at a tiny size.

Run: .venv/bin/python bench/scale.py [--events N] [--threads T] [--processes 1,2,4] [--no-sqlite] [--pg URL]
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


def postgres_pids(engine: sa.Engine | None = None) -> list[int]:
    """Every process of the PostgreSQL server behind ``engine`` (its backends and background
    processes; other servers on the machine are not counted), or, without one, of every
    server on the machine."""
    if engine is not None:
        with engine.connect() as conn:
            return [int(pid) for pid in conn.execute(sa.text(f"SELECT pid FROM pg_stat_activity {BENCH}")).scalars()]
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


#: marks the bench's own statements, left out of the statements counted per run
BENCH = "/* bench */"


def server_statements(engine: sa.Engine) -> dict[str, int] | None:
    """Statements the PostgreSQL server ran in this database so far, by statement (the
    bench's own left out), and its transactions under ``"(transactions)"``; None without
    ``pg_stat_statements`` loaded (``shared_preload_libraries``, as .ci/pg-server sets)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                f"{BENCH} SELECT query, calls FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")).all()
            xacts = conn.execute(sa.text(f"{BENCH} SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                         "WHERE datname = current_database()")).scalar_one()
    except sa.exc.DBAPIError:
        return None
    counts: dict[str, int] = {"(transactions)": int(xacts)}
    for query, calls in rows:
        if BENCH not in query and "pg_stat_statements" not in query:
            text = " ".join(query.split())
            counts[text] = counts.get(text, 0) + int(calls)
    return counts


def per_run(before: dict[str, int] | None, after: dict[str, int] | None, runs: int) -> dict[str, float] | None:
    """Statements per run by statement between two :func:`server_statements` readings."""
    if before is None or after is None:
        return None
    return {query: (calls - before.get(query, 0)) / runs for query, calls in after.items()
            if calls > before.get(query, 0)}


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
    engine = sa.create_engine(store_module.driver_url(url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:  # statements per run, where the server can count them
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    except sa.exc.DBAPIError:
        pass
    finally:
        engine.dispose()
    return url


def drop_database(base_url: str, url: str) -> None:
    """Drop the database ``pg_database`` made (``url``), from ``base_url``'s server."""
    from ledgerlink import store as store_module

    name = sa.engine.make_url(url).database
    admin = sa.create_engine(store_module.driver_url(base_url), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def succeeded(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"{BENCH} SELECT count(*) FROM runs WHERE status = 'succeeded'")).scalar_one()


def measure(setup: harness.Setup, db_url: str, config: Path, sandbox: harness.Process, events: int,
            processes: int, threads: int, label: str) -> dict[str, float]:
    serve, url, _ = setup.start_serve(db_url, config, workers=0, threads=16, label=f"{label}-inbox")
    port = int(url.rsplit(":", 1)[1])
    serve_cpu = harness.cpu_seconds(serve.popen.pid)
    result = harness.post_all(port, harness.raw_requests(harness.invoice_bodies(events, label.replace("-", "_")),
                                                         port), concurrency=16)
    if result.accepted < events:
        raise SystemExit(f"{label}: only {result.accepted} of {events} webhooks accepted:\n{serve.output()}")
    serve_cpu = harness.cpu_seconds(serve.popen.pid) - serve_cpu
    serve_rss = harness.proc_status(serve.popen.pid).get("VmHWM", 0)
    serve.stop()  # the inbox is full; from here on only the workers work
    setup.processes.remove(serve)
    from ledgerlink import store as store_module

    engine = sa.create_engine(store_module.driver_url(db_url), poolclass=sa.pool.NullPool)
    postgres = db_url.startswith("postgresql")
    with engine.begin() as conn:  # held back until every worker process is up
        conn.execute(sa.text(f"{BENCH} UPDATE runs SET due_at = due_at + 1e9"))
    workers = [setup.start_worker(db_url, config, threads, f"{label}-{index}") for index in range(processes)]
    for worker in workers:
        harness.wait_for(f"{worker.name} to start", lambda w=worker: "ledgerlink worker:" in w.output(), worker)
    time.sleep(1.0)
    pg_before = {pid: harness.cpu_seconds(pid) for pid in postgres_pids(engine)} if postgres else {}
    statements_before = server_statements(engine) if postgres else None
    before = {"sandbox": harness.cpu_seconds(sandbox.popen.pid),
              "workers": sum(harness.cpu_seconds(w.popen.pid) for w in workers)}
    started = time.perf_counter()
    with engine.begin() as conn:  # go: every run due now, and the workers told so
        conn.execute(sa.text(f"{BENCH} UPDATE runs SET due_at = 0"))
        if postgres:
            conn.execute(sa.text(f"{BENCH} NOTIFY ledgerlink_work"))
    deadline = time.monotonic() + 600
    while succeeded(engine) < events:
        if time.monotonic() > deadline or not all(w.alive() for w in workers):
            raise SystemExit(f"{label}: runs did not finish:\n" + "\n".join(w.output() for w in workers))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    used = {"workers": sum(harness.cpu_seconds(w.popen.pid) for w in workers) - before["workers"],
            "sandbox": harness.cpu_seconds(sandbox.popen.pid) - before["sandbox"],
            # backends that started during the window count whole
            "postgres": sum(harness.cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in postgres_pids(engine))
            if pg_before else 0.0}
    statements = per_run(statements_before, server_statements(engine) if postgres else None, events)
    rss = [harness.proc_status(w.popen.pid).get("VmHWM", 0) for w in workers]
    for worker in workers:
        worker.stop()
    engine.dispose()
    return {"runs_per_s": events / elapsed, "elapsed": elapsed, **{f"cpu_{k}": v for k, v in used.items()},
            "serve_cpu_per_event": serve_cpu / events, "serve_rss": serve_rss, "worker_rss_max": max(rss),
            "worker_rss_sum": sum(rss), "statements": statements}


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


def report(rows: list[tuple[str, int, dict]], events: int, top: int) -> None:
    """The table of every setup, then the statements of the most processes' setup."""
    pg = [row for name, _, row in rows if name == "PostgreSQL"]
    base = pg[0]["runs_per_s"] if pg else rows[0][2]["runs_per_s"]
    print("\n| database | worker processes | runs/s | vs 1 PostgreSQL | CPU per run: workers + PostgreSQL "
          "| statements per run | transactions per run | peak RSS per worker (all workers) "
          "| cores busy: workers / sandbox / PostgreSQL |\n|---|---|---|---|---|---|---|---|---|")
    for name, processes, row in rows:
        cores = [row[f"cpu_{k}"] / row["elapsed"] for k in ("workers", "sandbox", "postgres")]
        cpu = (row["cpu_workers"] + row["cpu_postgres"]) / events * 1000
        statements = row["statements"]
        counted = (f"{sum(v for k, v in statements.items() if k != '(transactions)'):.1f}",
                   f"{statements.get('(transactions)', 0.0):.1f}") if statements else ("n/a", "n/a")
        print(f"| {name} | {processes} | {row['runs_per_s']:.1f} | {row['runs_per_s'] / base:.2f}x "
              f"| {cpu:.2f} ms ({row['cpu_workers'] / events * 1000:.2f} + "
              f"{row['cpu_postgres'] / events * 1000:.2f}) | {counted[0]} | {counted[1]} "
              f"| {row['worker_rss_max'] / harness.MB:.0f} MB ({row['worker_rss_sum'] / harness.MB:.0f} MB) "
              f"| {cores[0]:.2f} / {cores[1]:.2f} / {cores[2]:.2f} |")
    ingest = rows[-1][2]
    print(f"\nthe inbox (`serve --workers 0`, before the workers): {ingest['serve_cpu_per_event'] * 1000:.2f} ms CPU "
          f"per event, peak RSS {ingest['serve_rss'] / harness.MB:.0f} MB")
    statements = rows[-1][2]["statements"]
    if statements:
        print(f"\nstatements per run with {rows[-1][1]} worker process(es), by statement (PostgreSQL's "
              f"pg_stat_statements; the bench's own left out), the {top} most:")
        for query, calls in sorted(((q, c) for q, c in statements.items() if q != "(transactions)"),
                                   key=lambda item: -item[1])[:top]:
            print(f"  {calls:6.2f}  {query[:150]}")
    else:
        print("\nstatements per run: pg_stat_statements is not loaded on this server (.ci/pg-server loads it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4, help="worker threads per process")
    parser.add_argument("--processes", default="1,2,4", help="worker processes on PostgreSQL (default 1,2,4)")
    parser.add_argument("--no-sqlite", action="store_true", help="leave out the SQLite setup")
    parser.add_argument("--pg", default=os.environ.get("LEDGERLINK_BENCH_PG", ""))
    parser.add_argument("--calibrate", type=int, default=300,
                        help="runs counted statement by statement in this process (0: none)")
    parser.add_argument("--top", type=int, default=12, help="statements listed (default 12)")
    args = parser.parse_args()
    try:
        counts = [int(n) for n in args.processes.split(",")]
    except ValueError:
        parser.error(f"--processes takes numbers separated by commas (1,2,4), not {args.processes!r}")
    if not counts or min(counts) < 1:
        parser.error("--processes needs at least one number, each at least 1")
    with harness.postgresql(args.pg) as args.pg:
        print(harness.machine())
        print(f"{args.events:,} invoice.paid runs per setup, {args.threads} worker threads per process, "
              f"QuickBooks sandbox without rate limits; load average {os.getloadavg()[0]:.1f} at the start")
        setup = harness.Setup()
        rows = []
        made: list[str] = []
        calibration = None
        try:
            sandbox, sandbox_url = setup.start_sandbox()
            config = setup.config(sandbox_url)
            if not args.no_sqlite:
                sqlite_url, _ = setup.database("scale-sqlite")
                rows.append(("SQLite", 1, measure(setup, sqlite_url, config, sandbox, args.events, 1, args.threads,
                                                  "sqlite-1")))
            for processes in counts:
                made.append(pg_database(args.pg))
                rows.append(("PostgreSQL", processes, measure(setup, made[-1], config, sandbox, args.events,
                                                              processes, args.threads, f"pg-{processes}")))
            if args.calibrate:
                made.append(pg_database(args.pg))
                calibration = statements_per_run(made[-1], config, setup.recipes, args.calibrate)
        finally:
            setup.close()
            for url in made:
                drop_database(args.pg, url)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    report(rows, args.events, args.top)
    last = rows[-1][2]
    shares = {k: last[f"cpu_{k}"] / last["elapsed"] for k in ("workers", "sandbox", "postgres")}
    cores = os.cpu_count() or 1
    busiest = max(shares, key=shares.get)
    used = sum(shares.values())
    print(f"\nwith {rows[-1][1]} process(es), of this machine's {cores} cores {used:.2f} were busy: "
          f"{', '.join(f'{k} {v:.2f}' for k, v in shares.items())}")
    if used >= 0.85 * cores:
        print(f"the CPU is saturated, mostly by {busiest}: more processes on this machine cannot help")
    else:
        per_run = rows[-1][1] * args.threads / last["runs_per_s"] * 1000
        print(f"nothing saturates the CPU: each of the {rows[-1][1] * args.threads} worker threads spends "
              f"{per_run:.0f} ms a run, mostly waiting on round trips to PostgreSQL (each commit waits for its WAL "
              f"fsync) and to the sandbox; {busiest} uses the most CPU")
    if calibration is not None:
        total = calibration["run_statements"] + calibration["governor_statements"]
        print(f"database work per run (one worker in this process, {args.calibrate} runs): {total:.1f} statements, "
              f"each one round trip: {calibration['run_statements']:.1f} by the store in "
              f"{calibration['run_commits']:.1f} transactions, {calibration['governor_statements']:.1f} by the "
              f"shared governor (a slot taken, one statement; finishing it, batched), each its own transaction; "
              f"the inbox adds {calibration['ingest_statements']:.1f} statements in "
              f"{calibration['ingest_commits']:.2f} transactions per event (batched)")
    pg_one = next((row for name, _, row in rows if name == "PostgreSQL"), None)
    pg_cpu_per_run = pg_one["cpu_postgres"] / args.events if pg_one else 0.0
    if pg_cpu_per_run > 0:
        per_core = 1.0 / pg_cpu_per_run
        print(f"PostgreSQL CPU per run: {pg_cpu_per_run * 1000:.2f} ms, so one PostgreSQL core serves about "
              f"{per_core:,.0f} runs/s and an 8-core server about {8 * per_core * 0.7:,.0f} runs/s at 70% busy; "
              f"at the {pg_one['runs_per_s']:.0f} runs/s one ledgerlink process reached here, that is about "
              f"{8 * per_core * 0.7 / pg_one['runs_per_s']:.0f} ledgerlink machines before the database is the limit")


if __name__ == "__main__":
    main()
