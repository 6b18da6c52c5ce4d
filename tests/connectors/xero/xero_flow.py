"""Xero's changes end to end, shared by the webhook, poll and backfill tests (not a test module).

Two organisations in one Xero sandbox, each a connection of its own (``xero`` and ``xero_b``,
told apart by ``tenant_id``); recipes on every Xero trigger, each step a read on the same
sandbox whose answer shows the event reached it whole; changes made through Xero's API as an
integrator's users make them (a contact, an invoice, payments on it, a credit note, an edit);
and the runs counted per recipe from the store.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.store.schema import run_steps, runs as runs_table
from ledgerlink.testing.databases import migrated_db
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT

SECOND_TENANT = "0d9b2a1c-53a4-4cf7-a9a3-3b0f6a1d2e4f"
TENANTS = {"xero": DEFAULT_TENANT, "xero_b": SECOND_TENANT}
KEY = "xero-webhook-key-of-the-flow"
#: the sandbox's Unix time at its clock's zero (2026-09-21T14:13:20Z)
WALL = 1_790_000_000.0

Obj = dict[str, Any]


def _path(path: str) -> Obj:
    return {"$path": path}


_ACCOUNT = {"action": "xero.find_account", "input": {"Code": _path("$.event.data.LineItems[0].AccountCode")}}
_CONTACT = {"action": "xero.find_contact", "input": {"source_id": _path("$.event.data.ContactNumber"),
                                                    "Name": _path("$.event.data.Name")}}
#: recipe id -> (trigger, filter or None, step); on connection ``xero`` unless the id ends in ``-b``
RECIPES: dict[str, tuple[str, Obj | None, Obj]] = {
    "contact-created": ("xero.contact.created", None, _CONTACT),
    "contact-updated": ("xero.contact.updated", None, _CONTACT),
    "invoice-created": ("xero.invoice.created", None, _ACCOUNT),
    "invoice-updated": ("xero.invoice.updated", None, _ACCOUNT),
    "payment-recorded": ("xero.invoice.updated",
                         {"all": [{"path": "$.event.data.Type", "eq": "ACCREC"},
                                  {"path": "$.event.data.AmountPaid", "gt": 0}]}, _ACCOUNT),
    "credit-note-created": ("xero.credit_note.created", None, _ACCOUNT),
    "credit-note-updated": ("xero.credit_note.updated", None, _ACCOUNT),
    "contact-created-b": ("xero.contact.created", None, _CONTACT),
    "invoice-created-b": ("xero.invoice.created", None, _ACCOUNT),
}


def write_recipes(folder: Path, only: tuple[str, ...] | None = None) -> Path:
    """The recipes of :data:`RECIPES` (or ``only`` those) in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for ident, (event, condition, step) in RECIPES.items():
        if only is not None and ident not in only:
            continue
        connection = "xero_b" if ident.endswith("-b") else "xero"
        trigger: Obj = {"event": event, "connection": connection}
        if condition is not None:
            trigger["filter"] = condition
        recipe = {"id": ident, "version": 1, "description": f"Reads back what a {event} event is about.",
                  "trigger": trigger, "steps": [{"id": "read", "connection": connection, **step}]}
        (folder / f"{ident}.json").write_text(json.dumps(recipe, indent=2))
    return folder


def write_config(path: Path, xero_url: str, *, poll_since: str | None = None) -> Path:
    """``ledgerlink.toml``: one connection per organisation, the token and webhook key from
    ``LL_TEST_XERO_*``; polled every minute from ``poll_since`` when given."""
    lines = []
    for name, tenant in TENANTS.items():
        lines += [f"[connections.{name}]", 'connector = "xero"', f'tenant_id = "{tenant}"',
                  f'api_base = "{xero_url}/api.xro/2.0"', 'access_token = "${LL_TEST_XERO_TOKEN}"',
                  'webhook_key = "${LL_TEST_XERO_WEBHOOK_KEY}"']
        if poll_since:
            lines += ["poll_seconds = 60", f'poll_since = "{poll_since}"']
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def runtime(tmp_path: Path, xero_url: str, *, poll_since: str | None = None,
            only: tuple[str, ...] | None = None) -> Any:
    """The runtime on a fresh SQLite database with the recipes (set the environment first:
    :func:`environment`)."""
    config = write_config(tmp_path / "ledgerlink.toml", xero_url, poll_since=poll_since)
    return build_runtime(db=migrated_db(tmp_path), recipes=write_recipes(tmp_path / "recipes", only),
                         config_file=str(config), settings=Settings(backoff_base=0.05, backoff_cap=0.2))


def environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("LL_TEST_XERO_TOKEN", DEFAULT_ACCESS_TOKEN)
    monkeypatch.setenv("LL_TEST_XERO_WEBHOOK_KEY", KEY)


# --- changes made in Xero, through its API ---------------------------------------------------------

class Organisation:
    """One organisation of the sandbox, changed through the Accounting API as a user would."""

    def __init__(self, xero_url: str, tenant: str) -> None:
        self.url = f"{xero_url}/api.xro/2.0"
        self.tenant = tenant

    def send_all(self, method: str, collection: str, elements: list[Obj]) -> list[Obj]:
        """``elements`` written in one request (each saved, or the test fails)."""
        answer = httpx.request(method, f"{self.url}/{collection}", content=jsonio.dumps({collection: elements}),
                               params={"summarizeErrors": "false"},
                               headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}",
                                        "xero-tenant-id": self.tenant, "Accept": "application/json"})
        assert answer.status_code == 200, answer.text
        saved = jsonio.loads(answer.content)[collection]
        assert all(one.get("StatusAttributeString", "OK") == "OK" for one in saved), saved
        return saved

    def send(self, method: str, collection: str, element: Obj) -> Obj:
        return self.send_all(method, collection, [element])[0]

    def contact(self, name: str, number: str) -> Obj:
        return self.send("PUT", "Contacts", {"Name": name, "ContactNumber": number})

    def invoice(self, contact: Obj, amount: str) -> Obj:
        return self.send("PUT", "Invoices", {
            "Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}, "Date": "2026-09-21",
            "DueDate": "2026-10-21", "Status": "AUTHORISED", "LineItems": [
                {"Description": "Plan", "Quantity": 1, "UnitAmount": Decimal(amount), "AccountCode": "200",
                 "TaxType": "NONE"}]})

    def pay(self, invoice: Obj, amount: str) -> Obj:
        return self.send("PUT", "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                             "Account": {"Code": "090"}, "Date": "2026-09-21",
                                             "Amount": Decimal(amount)})

    def credit_note(self, contact: Obj, amount: str) -> Obj:
        return self.send("PUT", "CreditNotes", {
            "Type": "ACCRECCREDIT", "Contact": {"ContactID": contact["ContactID"]}, "Date": "2026-09-21",
            "Status": "AUTHORISED", "LineItems": [
                {"Description": "Refund", "Quantity": 1, "UnitAmount": Decimal(amount), "AccountCode": "200",
                 "TaxType": "NONE"}]})

    def edit_contact(self, contact: Obj, email: str) -> Obj:
        return self.send("POST", "Contacts", {"ContactID": contact["ContactID"], "EmailAddress": email})


# --- what the store holds --------------------------------------------------------------------------

def runs(runtime: Any) -> list[Obj]:
    """Every run, with its event's payload and connection and its step's output."""
    with runtime.store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(runs_table))]
        outputs = {r.run_id: r.output for r in conn.execute(
            sa.select(run_steps.c.run_id, run_steps.c.output).where(run_steps.c.status == "succeeded"))}
    for row in rows:
        event = runtime.store.event(row["event_pk"])
        row["event"], row["connection"] = jsonio.loads(event["payload"]), event["connection"]
        row["output"] = jsonio.loads(outputs[row["id"]]) if row["id"] in outputs else None
    return rows


def per_recipe(runtime: Any) -> Counter:
    """Runs by recipe id."""
    return Counter(run["recipe_id"] for run in runs(runtime))


def settle(runtime: Any, timeout: float = 60.0) -> None:
    """Wait (not measure) until no fetch is pending and no run is left to do."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fetches, counts = runtime.store.fetch_counts(), runtime.store.counts()
        if not fetches.get("pending") and not any(counts.get(s) for s in ("pending", "running", "retrying")):
            return
        time.sleep(0.05)
    raise AssertionError(f"not settled: fetches {runtime.store.fetch_counts()}, runs {runtime.store.counts()}")


def check_runs(runtime: Any) -> None:
    """Every run succeeded, and each step's answer is about its event's own entity."""
    for run in runs(runtime):
        assert run["status"] == "succeeded", (run["recipe_id"], run["last_error"])
        data, output = run["event"]["data"], run["output"]
        if run["recipe_id"].startswith("contact"):
            assert output["id"] == data["ContactID"], run["recipe_id"]
        else:  # the account the event's first line books to
            assert output["id"] is not None and data["LineItems"][0]["AccountCode"] == "200", run["recipe_id"]
