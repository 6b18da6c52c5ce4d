"""What the planted-fault reconciliation tests of the simulated month share: the period, the
command as an operator runs it, what ledgerlink booked (as `ledgerlink export` reads it), the
drift events raised, the checks every ledger's four planted faults must pass, and the
clearing account's: a ledger's connection with its clearing account named (:func:`with_clearing`),
the untouched month agreeing at every payout, and one entry moved out of it by hand found
(:func:`the_balance_fault_is_found`)."""

from __future__ import annotations

import contextlib
import io
import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from books_month import Ledger, work_off
from ledgerlink.cli import main
from ledgerlink.engine.export import rows
from ledgerlink.engine.operations import replay, undo
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.store.schema import events

SINCE, UNTIL = "2023-09-01", "2023-10-15"  # the month, and the payouts arriving after it
#: the time zone the clearing mode's recipes date sales in
RECIPES_ZONE = "America/New_York"


def with_clearing(ledger: Ledger, account: str) -> Ledger:
    """``ledger`` whose connection names its clearing account (and the recipes' time zone), so
    ``ledgerlink reconcile`` compares the account's balance with Stripe's at each payout."""
    def config(url: str) -> list[str]:
        lines = ledger.config(url)
        limits = next(i for i, line in enumerate(lines) if line.endswith(".limits]"))
        return lines[:limits] + [f'clearing_account = "{account}"', f'clearing_timezone = "{RECIPES_ZONE}"'] \
            + lines[limits:]
    return replace(ledger, config=config)


def paid_payouts(month_: Any) -> list[tuple[str, str]]:
    """Stripe's paid payouts: (arrival day, id), in order."""
    return sorted((dt.datetime.fromtimestamp(p["arrival_date"], dt.timezone.utc).date().isoformat(), p["id"])
                  for p in month_.stripe.account.store.objects["payout"].values() if p["status"] == "paid")


def the_untouched_month_agrees_at_every_payout(month_: Any, tmp_path: Any, connection: str) -> None:
    """Nothing reported, the clearing balance compared at every paid payout, exit 0."""
    clean = reconcile(month_.runtime, SINCE, UNTIL)
    assert clean.ok, [(d.problem, d.entity, d.id, d.expected, d.found) for d in clean.discrepancies][:5]
    assert clean.balances == {connection: len(paid_payouts(month_))} and len(paid_payouts(month_)) >= 29
    status, out = cli(month_, tmp_path)
    assert status == 0 and "both sides agree" in out, out


def the_balance_fault_is_found(month_: Any, tmp_path: Any, *, connection: str, entity: str, ident: str,
                               day: str, amount: Decimal) -> None:
    """``amount`` moved out of the clearing account by hand on ``day`` (``entity`` ``ident``,
    made by no run): it is not linked, and the clearing balance differs by it from the first
    payout arriving on or after ``day`` on, reported there once; nothing else."""
    report = reconcile(month_.runtime, SINCE, UNTIL)
    payout = next(ident_ for arrival, ident_ in paid_payouts(month_) if arrival >= day)
    found = sorted((d.problem, d.entity, d.id) for d in report.discrepancies)
    assert found == [("clearing_balance", "payout", payout), ("not_linked", entity, ident)], [
        (d.problem, d.entity, d.id, d.date, d.expected, d.found) for d in report.discrepancies]
    [off] = [d for d in report.discrepancies if d.problem == "clearing_balance"]
    assert off.connection == connection and off.source_id == payout and off.date >= day
    books, stripe = Decimal(off.found.split()[0]), Decimal(off.expected.split()[0])
    assert stripe - books == amount and off.found.startswith(f"{books:.2f} USD, {-amount:.2f} USD off")
    # its likely cause is named: the entry no run made, dated since the payout before
    assert f"not_linked {entity} {ident}" in off.fix and "by hand" in off.fix
    status, out = cli(month_, tmp_path, "--connection", connection, "--format", "json")
    assert status == 3 and json.loads(out)["counts"] == {"not_linked": 1, "clearing_balance": 1}


def cli(month_: Any, tmp_path: Any, *options: str) -> tuple[int, str]:
    """``ledgerlink reconcile`` over the period: its exit status and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["reconcile", "--db", month_.runtime.store.url, "--recipes", str(tmp_path / "recipes"),
                       "--config", str(tmp_path / "ledgerlink.toml"), "--since", SINCE, "--until", UNTIL,
                       *options])
    return status, out.getvalue()


def exported(month_: Any) -> list[dict[str, Any]]:
    """Every step ledgerlink booked, as ``ledgerlink export`` reads them."""
    return list(rows(month_.runtime.store, month_.runtime.catalog, 0.0, 4102444800.0))


def drifts(month_: Any) -> list[dict[str, Any]]:
    """The ``ledgerlink.reconcile.drift`` events stored."""
    with month_.runtime.store.engine.connect() as conn:
        return [json.loads(row.payload) for row in conn.execute(
            sa.select(events.c.payload).where(events.c.trigger == "ledgerlink.reconcile.drift")).all()]


def the_planted_faults_are_found(month_: Any, tmp_path: Any, planted: dict[str, tuple[str, str, int]], *,
                                 connection: str, duplicate_entity: str, payout_recipe: str,
                                 put_back: Callable[[], None] | None = None) -> None:
    """The four faults ``planted`` (problem → (entity or source object, id, run)) are found,
    each with its fix (the payout whose booking was undone: replay its run), and nothing else; the command exits 3 with their counts; the ledger
    raised its drift; the fix named for the entry deleted (undo, then replay) books it again.
    A ledger whose entries cannot be undone (a file's rows) names ``put_back`` instead: the
    fix is to put the entry back by hand, and ``put_back()`` does so."""
    report = reconcile(month_.runtime, SINCE, UNTIL)
    found = {d.problem: (d.entity, d.id, d.run or 0) for d in report.discrepancies}
    assert found == planted and len(report.discrepancies) == 4, [
        (d.problem, d.entity, d.id, d.run, d.expected, d.found) for d in report.discrepancies]
    fixes = {d.problem: d.fix for d in report.discrepancies}
    if put_back is None:
        assert f"`ledgerlink runs replay {planted['missing'][2]}`" in fixes["missing"]
    else:
        assert f"put it back as run {planted['missing'][2]} wrote it" in fixes["missing"], fixes["missing"]
        assert "runs undo" not in fixes["missing"] + fixes["amount"]
    assert f"run {planted['amount'][2]}" in fixes["amount"]
    assert f"delete {duplicate_entity} {planted['duplicated'][1]}" in fixes["duplicated"]
    assert f"of {payout_recipe} was to book it and is undone: `ledgerlink runs replay {planted['not_booked'][2]}`" \
        in fixes["not_booked"]
    amount = next(d for d in report.discrepancies if d.problem == "amount")
    assert Decimal(amount.found.split()[0]) - Decimal(amount.expected.split()[0]) == Decimal("1.00")

    status, out = cli(month_, tmp_path, "--connection", connection, "--format", "json")
    assert status == 3
    assert json.loads(out)["counts"] == {"missing": 1, "amount": 1, "duplicated": 1, "not_booked": 1}
    # the ledger that disagrees raised its drift
    assert {(d["data"]["connection"], d["data"]["discrepancies"]) for d in drifts(month_)} == {(connection, 4)}

    # the fix named for the entry deleted books it again: undo the run, then replay it (or,
    # where nothing can be undone, the entry put back by hand)
    missing_run = planted["missing"][2]
    if put_back is None:
        assert undo(month_.runtime, missing_run)["status"] == "undone"
        assert replay(month_.runtime, missing_run)["status"] == "pending"
        work_off(month_.runtime)
        assert month_.runtime.store.run(missing_run)["status"] == "succeeded"
    else:
        put_back()
    again = reconcile(month_.runtime, SINCE, UNTIL)
    assert sorted(d.problem for d in again.discrepancies) == ["amount", "duplicated", "not_booked"], [
        (d.problem, d.entity, d.id, d.run, d.expected, d.found) for d in again.discrepancies]
