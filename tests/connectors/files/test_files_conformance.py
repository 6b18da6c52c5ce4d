"""The files connector passes the conformance suite; its file effects are held to what a CSV
reader and openpyxl accept (the "vendor" of a file is the program that opens it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from openpyxl import load_workbook

import ledgerlink_files
from ledgerlink.contract import AppendFile, ReadFile, WriteFile
from ledgerlink.testing import ConnectorConformance

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def effect_problems(effect) -> list[str]:
    """What a CSV reader or openpyxl would make of the file this effect leaves (a new file)."""
    if isinstance(effect, ReadFile):
        return []
    if isinstance(effect, AppendFile):
        text = (effect.header + effect.content).encode() if isinstance(effect.content, str) else b""
        rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")))
    elif isinstance(effect, WriteFile):
        sheet = load_workbook(io.BytesIO(effect.content)).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        return [f"not a file effect: {effect!r}"]
    problems = []
    if len(rows) != 2 or len(rows[0]) != len(rows[1]):
        problems.append(f"a header and one row of the same width, got {rows}")
    for value in rows[-1]:
        if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _number(value):
            problems.append(f"the cell {value!r} would run as a formula")
    return problems


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="session")
def request_schema() -> Callable[[object], list[str]]:
    return effect_problems


class TestFilesConformance(ConnectorConformance):
    connector = "files"
    cannot_undo = {"files.append_csv": ledgerlink_files.NO_UNDO,
                   "files.append_xlsx": ledgerlink_files.NO_UNDO}
