"""A vendor outage of 5,000 failed runs, reported by two processes at once, raises the handful
of events alert deduplication promises, with exact counts.

Two real processes (``outage_process.py``) share one database, SQLite or PostgreSQL under
LEDGERLINK_TEST_DB, and report their halves of the failures through
``ledgerlink_run_ended`` on a simulated clock: 2,000 in each of two 900-second windows and
1,000 in a third. Then both look for ended windows at once (``ledgerlink_tick``). Each
window gives one event at its first failure and one summary of the rest; nothing else.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from ledgerlink.engine.operations import build_runtime
from ledgerlink.testing.databases import migrated_db
from alert_runtime import host_events
from outage_process import RECIPE, START, error_of, failed_at

HERE = Path(__file__).resolve().parent
FAILURES = 5000
WINDOW = 900.0


def run_processes(argvs: list[list[str]]) -> None:
    """Start every process at once and wait for all; each must succeed."""
    procs = [subprocess.Popen([sys.executable, str(HERE / "outage_process.py"), *argv], cwd=HERE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for argv in argvs]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        assert "Traceback" not in err, err[-3000:]


def expected() -> dict[str, dict]:
    """The summary of each window, computed from the outage's schedule."""
    windows: dict[int, list[int]] = {}
    for i in range(FAILURES):
        windows.setdefault(int((failed_at(i) - START) // WINDOW), []).append(i)
    out = {}
    for number, failures in windows.items():
        errors = Counter(error_of(i) for i in failures)
        (top, top_count), = errors.most_common(1)
        start = START + number * WINDOW
        out[number] = {"total": len(failures), "first_run_id": failures[0] + 1, "last_run_id": failures[-1] + 1,
                       "error": top, "error_count": top_count, "start": start}
    return out


def test_five_thousand_failures_across_two_processes_raise_six_events(tmp_path):
    db = migrated_db(tmp_path)
    config = tmp_path / "ledgerlink.toml"
    config.write_text('[connections.stripe]\nconnector = "stripe"\n\n[alerts]\ninterval_seconds = 900\n')
    run_processes([[db, str(config), str(index), "2", str(FAILURES)] for index in (0, 1)])
    runtime = build_runtime(db=db, config_file=str(config))
    try:
        firsts = host_events(runtime)
        # one event per window at once; no summary before a window is seen to end
        assert [e["event_id"] for e in firsts] == [f"run.failed:{RECIPE}:{stamp}:first" for stamp in
                                                  ("2026-05-01T07:00:00Z", "2026-05-01T07:15:00Z",
                                                   "2026-05-01T07:30:00Z")]
        want = expected()
        assert [w["total"] for w in want.values()] == [2000, 2000, 1000]
        for number, event in enumerate(firsts):
            data = event["data"]
            assert data["stage"] == "first" and data["count"] == 1
            # whichever process counted the window's first failure first raised it
            assert want[number]["first_run_id"] <= data["first_run_id"] == data["last_run_id"] <= \
                want[number]["first_run_id"] + 1
        # both processes look for ended windows at once, after the third one ended
        run_processes([[db, str(config), "tick", str(START + 3 * WINDOW)] for _ in (0, 1)])
        events = host_events(runtime)
        assert len(events) == 6
        summaries = sorted(events[3:], key=lambda e: e["data"]["window_start"])
        for number, event in enumerate(summaries):
            w = want[number]
            assert event["trigger"] == "ledgerlink.run.failed"
            assert event["data"] == {
                "recipe_id": RECIPE, "stage": "summary", "count": w["total"] - 1, "total": w["total"],
                "first_run_id": w["first_run_id"], "last_run_id": w["last_run_id"],
                "window_start": firsts[number]["data"]["window_start"],
                "window_end": firsts[number]["data"]["window_end"], "error": w["error"],
                "error_count": w["error_count"],
                "fix": f"ledgerlink runs list --status failed (runs {w['first_run_id']} to {w['last_run_id']}); "
                       f"once the cause is fixed, ledgerlink runs replay each"}
        assert sum(e["data"]["count"] for e in events) == FAILURES
        # looking again raises nothing: every window is settled
        run_processes([[db, str(config), "tick", str(START + 4 * WINDOW)]])
        assert len(host_events(runtime)) == 6
    finally:
        runtime.close()
