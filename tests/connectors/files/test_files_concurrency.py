"""Rows from concurrent writers, threads and processes, are never torn, interleaved or lost,
in a CSV file (appends under the host's lock) and in a workbook (compare and replace)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from files_helpers import csv_rows, run, row_input
from openpyxl import load_workbook

from ledgerlink_files import csv_file, xlsx_file

ACTIONS = {"csv": csv_file, "xlsx": xlsx_file}

WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from files_helpers import run, row_input
from ledgerlink_files import csv_file, xlsx_file
kind, writer, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
action = {"csv": csv_file, "xlsx": xlsx_file}[kind]
for i in range(count):
    run(action.perform, row_input(f"ledger.{kind}", f"{i}.01", description="x" * 300 + f" {writer}-{i}"),
        Path(sys.argv[5]), f"{writer}-{i}")
"""


def keys_and_texts(folder: Path, kind: str) -> list[tuple[str, str]]:
    if kind == "csv":
        rows = csv_rows(folder / "ledger.csv")
    else:
        rows = [list(r) for r in load_workbook(folder / "ledger.xlsx").worksheets[0].iter_rows(values_only=True)]
    assert rows[0] == ["Date", "Amount", "Description", "ledgerlink_key"]
    assert all(len(r) == 4 for r in rows)
    return [(r[3], r[2]) for r in rows[1:]]


def expected(writers: list[str], count: int) -> list[tuple[str, str]]:
    return sorted((f"{w}-{i}", "x" * 300 + f" {w}-{i}") for w in writers for i in range(count))


@pytest.mark.parametrize("kind, count", [("csv", 15), ("xlsx", 6)])
def test_threads_writing_at_once_lose_no_row_and_tear_none(tmp_path, kind, count):
    writers = [f"t{n}" for n in range(6)]
    barrier = threading.Barrier(len(writers))
    failures = []

    def write(writer: str) -> None:
        barrier.wait()
        try:
            for i in range(count):
                run(ACTIONS[kind].perform, row_input(f"ledger.{kind}", f"{i}.01", description="x" * 300 + f" {writer}-{i}"),
                    tmp_path, f"{writer}-{i}")
        except Exception as exc:  # reported below, with the writer
            failures.append((writer, exc))

    threads = [threading.Thread(target=write, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(keys_and_texts(tmp_path, kind)) == expected(writers, count)


@pytest.mark.parametrize("kind, count", [("csv", 15), ("xlsx", 5)])
def test_processes_writing_at_once_lose_no_row_and_tear_none(tmp_path, kind, count):
    writers = [f"p{n}" for n in range(3)]
    here = str(Path(__file__).resolve().parent)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, kind, w, str(count), here, str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in writers]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
    assert sorted(keys_and_texts(tmp_path, kind)) == expected(writers, count)
