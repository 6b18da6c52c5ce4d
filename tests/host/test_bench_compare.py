"""bench/compare.py runs end to end, so the side-by-side benchmark cannot rot.

Its ``--quick`` smoke run, against an installation given on the command line (this very
tree, so no baseline has to be checked out and installed), both deployments: every figure
of the table printed for both sides, with ratios, and nothing lost or duplicated. No rate
is asserted: the figures depend on the machine.
"""

from __future__ import annotations

import re
import subprocess
import sys

from vendor_files import REPO

COMPARE = REPO / "bench" / "compare.py"


def compare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(COMPARE), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600)


def test_a_quick_comparison_prints_both_tables_with_ratios_and_loses_nothing():
    done = compare("--quick", "--events", "24", "--warmup", "4", "--baseline-root", str(REPO),
                   "--baseline-python", sys.executable)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "24 signed invoice.paid events at 4 senders" in out
    for title in ("`serve`, 1 run each side:", "`serve --workers 0` + 1 `worker`, 1 run each side:"):
        table = out.split(title, 1)[1].split("\n\n", 1)[0]
        header = table.splitlines()[1]
        assert "baseline 0dab7d3" in header and "working tree" in header and "ratio" in header
        for figure in ("webhooks acknowledged /s", "ack p99", "runs completed end to end /s",
                       "CPU per event (all processes)", "peak RSS (all processes)"):
            row = next(line for line in table.splitlines() if line.startswith(f"| {figure} "))
            assert re.search(r"\| [\d.,]+x +\|$", row), row  # a ratio, from two measured figures
        for count in ("non-2xx acks", "lost", "duplicated"):
            row = next(line for line in table.splitlines() if line.startswith(f"| {count} "))
            assert [cell.strip() for cell in row.strip("|").split("|")][1:3] == ["0", "0"], row


def test_an_interpreter_without_its_tree_is_refused():
    done = compare("--baseline-python", sys.executable)
    assert done.returncode == 2 and "--baseline-python needs --baseline-root" in done.stderr


def test_tree_serve_args_reach_the_working_trees_serve_only():
    done = compare("--quick", "--events", "4", "--warmup", "0", "--deployments", "serve", "--baseline-root", str(REPO),
                   "--baseline-python", sys.executable, "--tree-serve-args=--no-such-option")
    # the baseline side ran (its serve got no such option); the working tree's serve refused it
    assert done.returncode != 0 and "run 1 serve  baseline" in done.stdout, done.stdout + done.stderr
    assert "--no-such-option" in done.stdout + done.stderr


def test_the_profiler_names_each_statement_by_its_verb_and_table_as_sqlite_traces_it():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from profiled import statement_kind
    finally:
        sys.path.remove(str(REPO / "bench"))
    payload = '{"note": "paid FROM stripe INTO books"}' * 200  # a bound payload the trace carries
    assert statement_kind(f"INSERT OR IGNORE INTO events (payload) VALUES ('{payload}') RETURNING id") \
        == "INSERT events"
    assert statement_kind('INSERT INTO "runs" (id) VALUES (1)') == "INSERT runs"
    assert statement_kind("SELECT runs.id, runs.status FROM runs WHERE runs.id = 1") == "SELECT runs"
    assert statement_kind("  update runs SET status = 'done'") == "UPDATE runs"
    assert statement_kind("DELETE FROM leases WHERE owner = 'w'") == "DELETE leases"
    assert statement_kind("COMMIT") == "COMMIT"
    assert statement_kind("") == "?"
