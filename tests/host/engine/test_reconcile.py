"""``ledgerlink reconcile``, ``GET|POST /api/reconcile``: each problem a ledger can hold,
found with its run and fix, the report kept and the drift raised.

The ledger is ``tally``, an in-test connector whose action books an amount into the test's
own ``BOOKS`` (what the ledger holds; the test edits it as a person edits a ledger) and
whose :class:`~ledgerlink.contract.reconcile.Reconcile` lists it. Paid invoices come from
Stripe's webhook, signed as Stripe signs them; real workers run the recipe. The Stripe
connection has no API key, so its side cannot be read: the report says so.
"""

from __future__ import annotations

import contextlib
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ledgerlink import hookimpl
from ledgerlink.cli import main
from ledgerlink.contract import Action, ActionContext, Connector, Listing, Reconcile, Record, exponent
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.engine.reconciliations import attach
from ledgerlink.engine.runner import drive
from ledgerlink.store.schema import events
from ledgerlink.web.app import create_app
from booked_tally import PAYMENT_INPUT, booked_runtime, entry, recipe
from runtime_fixtures import ADMIN_TOKEN

BOOK = {"type": "object", "properties": {"amount": {}, "currency": {}, "date": {}, "memo": {}}}
#: what the tally ledger holds: id -> record
BOOKS: dict[str, Record] = {}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def book(value, ctx):
    ident = f"T-{ctx.step_id}-{ctx.event_id}"
    minor = int(Decimal(str(value["amount"])).scaleb(exponent(value["currency"])))
    BOOKS[ident] = Record(kind="payment", id=ident, amount=minor, currency=value["currency"], date=value["date"],
                          entity="Entry", label=value["memo"],
                          source_id=value["memo"] if value["memo"].startswith("in_") else None)
    return {"id": ident}
    yield  # a generator: it sends nothing


def records(since, until, cursor, ctx):
    listed = sorted((r for r in BOOKS.values() if since <= r.date <= until), key=lambda r: r.id)
    start = int(cursor or 0)
    return Listing(listed[start:start + 2], str(start + 2) if start + 2 < len(listed) else None)
    yield  # a generator: it sends nothing


class Tally:
    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(name="tally", summary="A ledger kept by the test",
                           reconcile=Reconcile(records=records, entities={"tally.book": "Entry"})))

    @hookimpl
    def ledgerlink_register_actions(self, register):
        register(Action(name="tally.book", summary="Books an amount", input_schema=BOOK,
                        output_schema={"type": "object"}, sample={"amount": "1.00", "currency": "USD",
                                                                 "date": "2026-01-01", "memo": "x"},
                        perform=book, entry=entry, idempotency="lookup"))


RECIPE = recipe({**PAYMENT_INPUT, "memo": {"$path": "$.event.data.object.id"}},
                {"amount": "0.125", "currency": "KWD", "date": "2023-11-15", "memo": "fee"})


@pytest.fixture
def month(tmp_path, monkeypatch):
    """The runtime (open) after two paid invoices were booked by real workers."""
    BOOKS.clear()
    runtime, plugins, config = booked_runtime(tmp_path, monkeypatch, Tally(), RECIPE, "evt_reconcile", prepare=attach)
    runtime.plugins, runtime.config_file = plugins, config
    yield runtime
    runtime.close()


def test_both_sides_agree_until_the_ledger_is_edited(month):
    assert len(BOOKS) == 4
    clean = reconcile(month, "2023-11-01", "2023-11-30")
    assert clean.ok and clean.listed == {"tally": 4} and clean.booked == 4
    assert clean.notes == ["stripe was not read: its connector cannot list this connection's objects (an API key?)"]

    usd, jpy = sorted(k for k in BOOKS if k.startswith("T-payment"))[::-1]  # evt_…_usd sorts after …_jpy
    fee_usd = usd.replace("payment", "fee")
    del BOOKS[usd]
    BOOKS[jpy] = Record(**{**BOOKS[jpy].__dict__, "amount": 1600})
    BOOKS["T-by-hand"] = Record(**{**BOOKS[fee_usd].__dict__, "id": "T-by-hand"})
    BOOKS["T-other"] = Record(kind="journal", id="T-other", amount=999, currency="USD", date="2023-11-20",
                              entity="Entry", label="rent")
    fee_jpy = jpy.replace("payment", "fee")
    BOOKS[fee_jpy] = Record(**{**BOOKS[fee_jpy].__dict__, "date": "2023-11-16", "currency": "BHD"})
    report = reconcile(month, "2023-11-01", "2023-11-30")
    found = [(d.problem, d.id, d.expected, d.found, d.run) for d in report.discrepancies]
    runs = {d.id: d.run for d in report.discrepancies}
    assert found == [
        ("missing", usd, "1234.56 USD on 2023-11-14", "nothing", runs[usd]),
        ("amount", jpy, "1500 JPY", "1600 JPY", runs[jpy]),
        ("currency", fee_jpy, "KWD", "BHD", runs[jpy]),
        ("date", fee_jpy, "2023-11-15", "2023-11-16", runs[jpy]),
        ("duplicated", "T-by-hand", f"once, as Entry {fee_usd}", "again as Entry T-by-hand (0.125 KWD)", runs[usd]),
        ("not_linked", "T-other", "no entry", "9.99 USD (rent)", None)], found
    assert runs[usd] != runs[jpy]
    fixes = {d.problem: d.fix for d in report.discrepancies}
    # tally.book declares no undo: the entry is put back by hand, not undone then replayed
    assert f"put it back as run {runs[usd]} wrote it" in fixes["missing"] and "runs undo" not in fixes["missing"]
    assert "runs undo" not in fixes["amount"]
    assert fixes["amount"].startswith(f"correct the amount of Entry {jpy} in tally to 1500 JPY")
    assert fixes["date"].startswith(f"correct the date of Entry {fee_jpy} in tally to 2023-11-15")
    assert fixes["duplicated"].startswith("delete Entry T-by-hand in tally")
    assert report.ledgers == {"tally": {"missing": 1, "amount": 1, "currency": 1, "date": 1, "duplicated": 1,
                                        "not_linked": 1}}
    # a later period: what is dated in it, and the entry whose date was moved into it
    later = reconcile(month, "2023-11-16", "2023-11-30")
    assert [(d.problem, d.id) for d in later.discrepancies] == [("currency", fee_jpy), ("date", fee_jpy),
                                                                ("not_linked", "T-other")]


def test_a_ledger_record_carrying_a_booked_source_id_is_a_duplicate_whatever_its_amount(month):
    """A ledger that stores the source id (Xero's Reference, FreshBooks' note): a second
    record of the same entity carrying it books the object twice, even with another amount,
    date and memo; one of another entity, or with no source id, is only not linked."""
    usd = max(k for k in BOOKS if k.startswith("T-payment"))
    invoice = BOOKS[usd].source_id
    assert invoice and invoice.startswith("in_")
    BOOKS["T-again"] = Record(kind="payment", id="T-again", amount=100000, currency="USD", date="2023-11-20",
                              entity="Entry", label="paid by cheque", source_id=invoice)
    BOOKS["T-note"] = Record(kind="journal", id="T-note", amount=100000, currency="USD", date="2023-11-20",
                             entity="Note", label="paid by cheque", source_id=invoice)
    BOOKS["T-cash"] = Record(kind="payment", id="T-cash", amount=100000, currency="USD", date="2023-11-20",
                             entity="Entry", label="paid by cheque")
    report = reconcile(month, "2023-11-01", "2023-11-30")
    found = [(d.problem, d.id, d.expected, d.found) for d in report.discrepancies]
    assert found == [
        ("duplicated", "T-again", f"once, as Entry {usd}", "again as Entry T-again (1000.00 USD)"),
        ("not_linked", "T-cash", "no entry", "1000.00 USD (paid by cheque)"),
        ("not_linked", "T-note", "no entry", "1000.00 USD (paid by cheque)")], found
    duplicate = report.discrepancies[0]
    assert duplicate.source_id == invoice and duplicate.run is not None
    assert duplicate.fix == (f"delete Entry T-again in tally: it repeats Entry {usd} (both book {invoice}), "
                             f"which run {duplicate.run} booked")


def test_the_api_and_the_command_keep_the_report_and_raise_the_drift(month, tmp_path):
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=month, plugins=month.plugins)
    client = app.test_client()
    assert client.get("/api/reconcile", headers=AUTH).status_code == 404
    assert client.post("/api/reconcile", json={"since": "2023-11-31"}, headers=AUTH).status_code == 400
    assert client.post("/api/reconcile", json={"since": "2023-11-02", "until": "2023-11-01"},
                       headers=AUTH).status_code == 400
    assert client.post("/api/reconcile", json={"since": "2023-11-01", "connection": "stripe"},
                       headers=AUTH).status_code == 404
    answer = client.post("/api/reconcile", json={"since": "2023-11-01", "until": "2023-11-30"}, headers=AUTH)
    assert answer.status_code == 200 and answer.get_json()["ok"] is True
    assert client.get("/api/reconcile", headers=AUTH).get_json()["ok"] is True
    assert not drifts(month)

    del BOOKS[sorted(BOOKS)[0]]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["reconcile", "--db", month.store.url, "--recipes", str(tmp_path / "recipes"),
                       "--config", str(tmp_path / "ledgerlink.toml"), "--since", "2023-11-01",
                       "--until", "2023-11-30"], plugins=month.plugins)
    assert status == 3 and "1 discrepancies: 1 missing" in out.getvalue(), out.getvalue()
    kept = client.get("/api/reconcile", headers=AUTH).get_json()
    assert kept["ok"] is False and kept["counts"] == {"missing": 1} and kept["discrepancies"][0]["run"] >= 1
    [drift] = drifts(month)
    assert drift["data"]["connection"] == "tally" and drift["data"]["discrepancies"] == 1
    missing = [{"kind": "missing", "count": 1}]  # the counts an alert lists, per kind and per ledger
    assert drift["data"]["kinds"] == missing
    assert drift["data"]["ledgers"] == [{"connection": "tally", "discrepancies": 1, "kinds": missing}]


def drifts(runtime):
    with runtime.store.engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.payload)
                            .where(events.c.trigger == "ledgerlink.reconcile.drift")).scalars().all()
    return [json.loads(row) for row in rows]



def test_a_recipe_step_reconciles_through_the_action(month):
    """``ledgerlink.reconcile`` (what a nightly ``schedule.cron`` recipe runs): its query is
    answered by the host's reconciliation; the report is kept and the drift raised."""
    action = month.catalog.actions["ledgerlink.reconcile"]
    ctx = ActionContext(connection=month.connections.connection("ledgerlink"), idempotency_key="k")
    send = month.connections.transport("ledgerlink")
    agree = drive(action.perform({"since": "2023-11-01T02:00:00Z", "until": "2023-11-30"}, ctx), send)
    assert agree["ok"] is True and agree["discrepancies"] == 0 and agree["since"] == "2023-11-01"
    BOOKS["T-other"] = Record(kind="journal", id="T-other", amount=999, currency="USD", date="2023-11-20",
                              entity="Entry", label="rent")
    drifted = drive(action.perform({"since": "2023-11-20", "connection": "tally"}, ctx), send)
    assert drifted == {"ok": False, "since": "2023-11-20", "until": "2023-11-20", "discrepancies": 1,
                       "counts": {"not_linked": 1}, "ledgers": {"tally": {"not_linked": 1}},
                       "notes": [drifted["notes"][0]]}
    assert [d["data"]["discrepancies"] for d in drifts(month)] == [1]
    with pytest.raises(Exception, match="since must be a date"):
        drive(action.perform({"since": "yesterday"}, ctx), send)


def test_each_ledger_keeps_its_latest_report_with_its_own_discrepancies(month):
    from ledgerlink.engine.reconciliations import latest, latest_of, run

    assert latest_of(month, "tally") is None
    del BOOKS[sorted(BOOKS)[0]]
    report = run(month, "2023-11-01", "2023-11-30", connection="tally")
    kept = latest_of(month, "tally")
    assert kept["at"] == latest(month)["at"] and kept["connection"] == "tally" and kept["ok"] is False
    assert kept["counts"] == {"missing": 1} and kept["listed"] == {"tally": 3}
    assert kept["discrepancies"] == report.as_json()["discrepancies"]
    assert kept["notes"] == report.notes and kept["balances"] == {}
    assert latest_of(month, "stripe") is None  # a source has no report of its own
