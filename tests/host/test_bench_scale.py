"""The PostgreSQL scale-out benches run end to end, so they cannot rot.

``bench/scale.py`` (runs/s, CPU per run, statements per run and peak RSS with 1 and 2
worker processes) and ``bench/shared_governor.py`` (the share of a vendor's allowed rate
two worker processes get together through the shared governor) at a tiny size, on the
suite's PostgreSQL server. No rate or share is asserted: those depend on the machine. What
is asserted is what the benches promise whatever the machine: every figure printed, every
run succeeded, and, for the governor, not one 429 and no window over the limit.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import sqlalchemy as sa

from ledgerlink import store as store_module
from ledgerlink.testing.databases import ON_POSTGRES, TEST_DB
from vendor_files import REPO

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the scale-out benches run on PostgreSQL (make test-pg)")


def bench(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "bench" / name), "--pg", TEST_DB, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def statements_counted() -> bool:
    """Whether the suite's server has pg_stat_statements loaded (.ci/pg-server loads it)."""
    engine = sa.create_engine(store_module.driver_url(TEST_DB), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return "pg_stat_statements" in conn.exec_driver_sql("SHOW shared_preload_libraries").scalar_one()
    finally:
        engine.dispose()


def test_the_scale_bench_prints_every_figure_for_one_and_two_worker_processes():
    done = bench("scale.py", "--events", "16", "--processes", "1,2", "--no-sqlite", "--threads", "2",
                 "--calibrate", "4", "--top", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {int(cells[1]): cells for cells in
            ([cell.strip() for cell in line.strip("|").split("|")] for line in done.stdout.splitlines()
             if line.startswith("| PostgreSQL |"))}
    assert sorted(rows) == [1, 2], done.stdout
    for cells in rows.values():
        assert float(cells[2]) > 0  # runs/s, measured
        assert re.fullmatch(r"[\d.]+ ms \([\d.]+ \+ [\d.]+\)", cells[4]), cells  # CPU per run, split
        assert re.fullmatch(r"\d+ MB \(\d+ MB\)", cells[7]), cells  # peak RSS
        if statements_counted():
            assert float(cells[5]) > 0 and float(cells[6]) > 0, cells  # statements and transactions per run
    if statements_counted():
        listed = done.stdout.split("by statement", 1)[1].splitlines()[1:6]
        assert len(listed) == 5 and all(re.match(r"  +[\d.]+  \S", line) for line in listed), listed
        assert any(re.search(r"\b(runs|run_steps)\b", line) for line in listed), listed  # the store's, by name
    assert re.search(r"the inbox \(`serve --workers 0`.*\): [\d.]+ ms CPU per event, peak RSS \d+ MB", done.stdout)
    assert "database work per run (one worker in this process, 4 runs)" in done.stdout


def test_the_shared_governor_bench_keeps_the_limits_of_two_processes_and_prints_the_share():
    done = bench("shared_governor.py", "--processes", "2", "--threads", "2", "--events", "30", "--requests", "10",
                 "--per-seconds", "2")
    assert done.returncode == 0, done.stdout + done.stderr  # every run succeeded, no 429, no window over
    out = done.stdout
    assert re.search(r"\| share of the allowed rate, steady \(\d+ whole windows after the first\) "
                     r"\| (nan%|[\d.]+%) \|", out), out
    assert re.search(r"\| 429s \| 0 \(by status: 0\) \|", out), out
    assert re.search(r"\| runs \| \{'succeeded': 30\} \|", out), out
