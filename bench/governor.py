"""How much of QuickBooks' allowed rate the governors get in real time, with zero 429s.

Runs the workload of tests/host/io/test_governor_mixed.py at full size: 2,000 queued runs using
every QuickBooks action (about 3,850 requests), 12 worker threads of this process, against
the QuickBooks sandbox in its own process with QuickBooks' limits compressed 12 times (500
requests per 5 s and 10 at once, on both sides). It runs twice:

- the in-process governor (``governor="local"``) on SQLite;
- the governor shared through the database (``governor="shared"``): on PostgreSQL when
  ``--pg URL`` is given (a database the bench may create a database next to, dropped after),
  else on SQLite.

For each it prints the share of the allowed rate (requests the sandbox served over the run
/ 100 per second; it can pass 100 %, the first window starting empty), the share in the
whole windows after the first (the steady rate, at most the 98 % headroom), the 429s, the
busiest window, the most requests at once, and, for the in-process governor, how often its
window was full versus had room with nothing waiting (this process not ready to send), with
the CPU time used. The figure depends on the machine: a busy two-core machine gets less. It
is measured here, not asserted by a test; the tests prove exactly, on a simulated clock,
that every slot is used (tests/host/io/test_governor_simulated.py). A run with a 429 or a run that
did not succeed ends the bench with status 1.

The workload's events come from the vendor samples the test suite reads (tests/vendor).

Run: .venv/bin/python bench/governor.py [--scale F] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "host" / "io")]

import test_governor_mixed as workload  # noqa: E402

from ledgerlink import store as store_module  # noqa: E402


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    """A migrated SQLite database in ``directory``."""
    url = f"sqlite:///{directory / 'ledgerlink.db'}"
    store_module.upgrade(url)
    yield url


@contextmanager
def pg_database(base_url: str) -> Iterator[str]:
    """A new database beside ``base_url``'s, migrated; dropped afterwards."""
    name = f"ll_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(store_module.driver_url(base_url), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
        store_module.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def measure(label: str, governor: str, database, scale: float) -> bool:
    """Run the workload once; print its line; whether it kept every limit."""
    with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-governor-") as tmp, \
            pytest.MonkeyPatch.context() as monkeypatch:
        directory = Path(tmp)
        with database(directory) as url:
            measured = workload.run_workload(directory, monkeypatch, url, governor, scale)
    print(workload.report(measured, label), flush=True)
    stats = measured.stats
    ok = (measured.counts == {"succeeded": measured.runs} and stats["throttled"] == 0
          and not stats["by_status"].get("429") and stats["per_window_max"][workload.REALM] <= workload.REQUESTS
          and stats["max_concurrent_seen"][workload.REALM] <= workload.CONCURRENT)
    if not ok:
        print(f"  LIMITS NOT KEPT: runs {measured.counts}, first failures {measured.failures[:3]}, "
              f"429s {stats['throttled']}", flush=True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="the share of the 2,000 runs to run (default 1)")
    parser.add_argument("--pg", default=os.environ.get("LEDGERLINK_BENCH_PG", ""),
                        help="a PostgreSQL URL for the shared governor (default: SQLite)")
    args = parser.parse_args()
    if not 0 < args.scale <= 10:
        parser.error(f"--scale must be more than 0 and at most 10, not {args.scale}")
    print(f"{workload.runs_of(args.scale):,} runs of every QuickBooks action, 12 worker threads, "
          f"QuickBooks' limits compressed 12 times: {workload.REQUESTS} per {workload.PER_SECONDS:g} s "
          f"({workload.ALLOWED_PER_SECOND:g}/s), {workload.CONCURRENT} at once; "
          f"{os.cpu_count()} cores", flush=True)
    kept = measure("local governor, SQLite", "local", sqlite_database, args.scale)
    if args.pg:
        kept &= measure("shared governor, PostgreSQL", "shared", lambda _: pg_database(args.pg), args.scale)
    else:
        kept &= measure("shared governor, SQLite", "shared", sqlite_database, args.scale)
    sys.exit(0 if kept else 1)


if __name__ == "__main__":
    main()
