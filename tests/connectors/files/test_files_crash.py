"""Exactly once through the real host: a worker process killed (SIGKILL) after it wrote a
Stripe invoice's row and before the step was acknowledged does not make the retry write it
again, in a CSV file and in a workbook; dry-run shows the row and writes nothing; a recipe
naming a file outside the connection's folder fails its run and writes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from files_helpers import csv_rows
from openpyxl import load_workbook

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import IncomingEvent
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.errors import InputError
from ledgerlink.recipes.recipe import check_recipe
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from runtime_fixtures import WEBHOOK_SECRET, signed
from stripe_events import invoice_paid_event


def recipe(action: str = "files.append_csv", file: str = "books/payments.csv", **more: object) -> dict:
    return {
        "id": "invoice-paid-to-file", "version": 1, "description": "Paid invoices, a row each.",
        "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
        "steps": [{"id": "row", "action": action, "connection": "files", "input": {
            "file": file, "rotation": "monthly",
            "date": {"$path": "$.event.created", "$as": "date"},
            "currency": {"$path": "$.event.data.object.currency", "$as": "upper"},
            "columns": [
                {"name": "Date", "type": "date", "value": {"$path": "$.event.created", "$as": "date"}},
                {"name": "Amount", "type": "money",
                 "value": {"$path": "$.event.data.object.amount_paid", "$as": "stripe.money",
                           "currency": {"$path": "$.event.data.object.currency"}}},
                {"name": "Reference", "value": {"$path": "$.event.data.object.id"}}], **more}}],
    }


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    (tmp_path / "books").mkdir()
    recipes = tmp_path / "recipes"
    recipes.mkdir()

    def configure(**recipe_args) -> tuple:
        (recipes / "invoice-paid-to-file.json").write_text(json.dumps(recipe(**recipe_args)))
        config = tmp_path / "ledgerlink.toml"
        config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
                          f'[connections.files]\nconnector = "files"\nfolder = "{tmp_path}"\n')
        return load_catalog(), config, recipes

    return configure


def runtime_for(catalog, config, recipes, db, lease: float = 60.0) -> Runtime:
    runtime = Runtime(catalog, load_config(config, catalog), Store(db), recipes,
                      Settings(lease_seconds=lease, backoff_base=0.05, backoff_cap=0.2))
    runtime.registry.reload()
    return runtime


def settle(runtime: Runtime, expected: dict[str, int], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runtime.store.counts() == expected:
            return
        time.sleep(0.05)
    raise AssertionError(runtime.store.counts())


def table(path: Path) -> list[list]:
    """The file's rows, its header first."""
    if path.suffix == ".csv":
        return csv_rows(path)
    return [list(row) for row in load_workbook(path).worksheets[0].iter_rows(values_only=True)]


def keys(path: Path) -> list[str]:
    return [row[-1] for row in table(path)[1:]]


def test_dry_run_shows_the_row_and_writes_nothing_and_a_path_out_is_refused(setup, tmp_path):
    catalog, config, recipes = setup()
    event = invoice_paid_event("kwd", 12345, event_id="evt_dry")
    built, problems = check_recipe(recipe(), "r.json", catalog, load_config(config, catalog))
    assert built is not None, problems
    report = dry_run(built, catalog, load_config(config, catalog), IncomingEvent(event["id"], "stripe.invoice.paid", event))
    (step,) = report["steps"]
    assert step["request"]["mode"] == "read"  # the file first, for a row with the step's key
    (append,) = step["later_requests"]
    assert append["mode"] == "append" and append["path"] == "books/payments-2023-11.csv"
    assert append["content"].split(",")[1] == "12.345"  # KWD has three decimals
    assert append["header_if_empty"] == "Date,Amount,Reference,ledgerlink_key\r\n"
    assert list((tmp_path / "books").iterdir()) == []
    escaping, problems = check_recipe(recipe(file="../outside.csv"), "r.json", catalog, load_config(config, catalog))
    with pytest.raises(InputError, match="inside the connection's folder"):
        dry_run(escaping, catalog, load_config(config, catalog), IncomingEvent(event["id"], "stripe.invoice.paid", event))


def test_a_run_naming_a_file_outside_the_folder_fails_and_writes_nothing(setup, tmp_path):
    catalog, config, recipes = setup(file="../../outside.csv")
    runtime = runtime_for(catalog, config, recipes, migrated_db(tmp_path))
    pool = WorkerPool(runtime, 1)
    pool.start()
    try:
        body, headers = signed(invoice_paid_event("usd", 5, event_id="evt_out"))
        runtime.inbox.receive("stripe", headers, body)
        settle(runtime, {"failed": 1})
    finally:
        pool.stop()
        runtime.close()
    assert "inside the connection's folder" in runtime.store.list_runs()[0]["last_error"]
    assert not (tmp_path.parent / "outside.csv").exists()


WORKER = """
import os, sys, time
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.config import load_config
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.io import files
from ledgerlink.store import Store

real = files.perform
def perform(effect, settings):
    result = real(effect, settings)
    if effect.mode in ("append", "write"):   # written and fsynced: now the step would be acknowledged
        open(sys.argv[4], "w").close()
        time.sleep(600)
    return result
files.perform = perform
cat = load_catalog()
rt = Runtime(cat, load_config(sys.argv[2], cat), Store(sys.argv[1]), sys.argv[3],
             Settings(lease_seconds=2.0, poll_interval=0.05))
rt.registry.reload()
WorkerPool(rt, 1).start()
time.sleep(600)
"""


@pytest.mark.parametrize("keyed", [True, False], ids=["key column", "no key column"])
@pytest.mark.parametrize("action, file", [("files.append_csv", "books/payments.csv"),
                                          ("files.append_xlsx", "books/payments.xlsx")])
def test_a_worker_killed_after_writing_the_row_does_not_make_the_retry_write_it_twice(setup, tmp_path, action, file,
                                                                                      keyed):
    """Without a key column (an importer that refuses extra columns) the host's journal beside
    the file is all that knows the row was written: it still is, once."""
    catalog, config, recipes = setup(action=action, file=file, **({} if keyed else {"key_column": None}))
    db = migrated_db(tmp_path)
    runtime = runtime_for(catalog, config, recipes, db, lease=2.0)
    event = invoice_paid_event("jpy", 4200, event_id="evt_kill")
    body, headers = signed(event)
    runtime.inbox.receive("stripe", headers, body)
    marker = tmp_path / "written"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, db, str(config), str(recipes), str(marker)],
                              env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), worker.communicate(timeout=30)[1][-2000:] if worker.poll() is not None else "no write"
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=30)
        assert runtime.store.run(1)["steps"] == []  # the row is on disk, the step never acknowledged
        (path,) = [p for p in (tmp_path / "books").iterdir() if not p.name.startswith(".")]
        assert len(table(path)) == 2
        pool = WorkerPool(runtime, 1)
        pool.start()
        try:
            settle(runtime, {"succeeded": 1})
        finally:
            pool.stop()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    run = runtime.store.run(1)
    assert run["attempts"] == 2 and run["steps"][-1]["output"]["status"] == "already_applied"
    if keyed:
        assert keys(path) == [run["steps"][-1]["output"]["key"]]
    else:
        (header, row) = table(path)
        assert header == ["Date", "Amount", "Reference"] and len(row) == 3
    runtime.close()
