"""Driving the files actions against a real folder, through the host's own file effects."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledgerlink.contract import ActionContext, Connection
from ledgerlink.io import files
from ledgerlink.testing import drive


def context(folder: Path, key: str) -> ActionContext:
    return ActionContext(connection=Connection("books", "files", {"folder": str(folder)}), idempotency_key=key)


def run(generator_of, data: Mapping[str, Any], folder: Path, key: str) -> Any:
    """Drive ``generator_of(data, ctx)`` with every file effect performed on ``folder``."""
    settings = {"folder": str(folder)}
    return drive(generator_of(data, context(folder, key)), lambda effect: files.perform(effect, settings)).value


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def row_input(file: str, amount: str, *, currency: str = "USD", day: str = "2026-01-31", **extra) -> dict:
    return {"file": file, "date": day, "currency": currency,
            "columns": [{"name": "Date", "value": day, "type": "date"},
                        {"name": "Amount", "value": amount, "type": "money"},
                        {"name": "Description", "value": extra.pop("description", "Stripe invoice in_1")}],
            **extra}
