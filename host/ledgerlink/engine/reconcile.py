"""``ledgerlink reconcile``: do the source and each ledger agree, object by object?

Each side is read through its connector's :class:`~ledgerlink.contract.reconcile.Reconcile`
(pages of neutral records, sent governed on the connection, asked again after a 429, as
backfill pages are) and compared through the run log and the links table
(:func:`ledgerlink.engine.export.rows`: what each step booked, its ledger id and the source
object it came from):

- each step that booked something dated in the period is looked for in its ledger:
  ``missing`` when the ledger no longer holds it; ``amount``, ``currency`` or ``date`` when
  the ledger's record differs from what the run booked;
- each ledger record no run made: ``duplicated`` when it repeats a linked record (the same
  entity, amount, currency, date and label: a copy made by hand) or carries the source id a
  linked record of its entity carries (a ledger that stores it: Xero's Reference, FreshBooks'
  note; whatever its amount or memo), else ``not_linked``;
- each source object of the period no run booked in a ledger that books its kind and
  entity (a run books the object its step links, the object its trigger is about, and, when
  its trigger names none, a record whose ``parent`` it links with the record's amount and
  currency: a refund's event that does not say which refund, linking its charge; a run of
  that recipe skipped by its own rule accounts for its object too): ``not_booked``, naming
  the run that was about it when one was undone or failed (replay it: a backfill plans
  nothing twice), else the backfill of its day.
- a ledger booking through a clearing account: its balance against the source's at each
  payout (:mod:`ledgerlink.engine.reconcile_balance`): ``clearing_balance``.

Each :class:`Discrepancy` names the run it concerns (if any) and its fix. The report is
``ok`` only when nothing differs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext
from ledgerlink.contract.reconcile import Record, Reconcile, check_record
from ledgerlink.engine.backfill import check_connected, governed
from ledgerlink.engine.export import rows
from ledgerlink.engine import reconcile_balance
from ledgerlink.engine.runner import drive
from ledgerlink.engine.reconcile_report import PROBLEMS, Discrepancy, Report, check_period, lines, minor, money
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import NotFound

#: far enough in the future for "every run ever planned"
_EVER = 4102444800.0  # 2100-01-01


def read_side(rt: Runtime, name: str, side: Reconcile, since: str, until: str,
              sleep: Callable[[float], None] = time.sleep) -> list[Record]:
    """Every record connection ``name`` lists for ``[since, until]``, page after page, each
    page asked again while the governor or the vendor says later."""
    check_connected(rt, name)
    connection = rt.connections.connection(name)
    send = rt.connections.transport(name)
    ctx = ActionContext(connection=connection, idempotency_key="")
    found: list[Record] = []
    cursor: str | None = None
    while True:
        page = governed(rt, name, True, sleep, rt.settings.max_attempts,
                         lambda: drive(side.records(since, until, cursor, ctx), send))
        for record in page.records:
            check_record(record, connection.connector)
        found += page.records
        if page.cursor is None:
            return found
        cursor = page.cursor


def _side(rt: Runtime, name: str) -> Reconcile | None:
    connector = rt.catalog.connectors.get(rt.connections.connection(name).connector)
    return connector.reconcile if connector is not None else None


def is_ledger(rt: Runtime, name: str) -> bool:
    """Whether connection ``name`` is a ledger a reconciliation compares (its connector lists records)."""
    side = _side(rt, name)
    return side is not None and bool(side.entities)


def reconcile(rt: Runtime, since: str, until: str, connection: str | None = None,
              sleep: Callable[[float], None] = time.sleep) -> Report:
    """Compare every source with every ledger it books into (only ledger ``connection`` when
    given) over the days ``[since, until]`` (YYYY-MM-DD, both included)."""
    report = Report(since, until)
    first = 0
    booked = [row for row in rows(rt.store, rt.catalog, 0.0, _EVER) if row["ledger"]]
    ledgers = sorted({row["ledger"] for row in booked if is_ledger(rt, row["ledger"])})
    if connection is not None:
        if not is_ledger(rt, connection):
            raise NotFound(f"connection {connection!r} is not a ledger ledgerlink can reconcile: its connector "
                           f"lists no records (ledgers: {', '.join(ledgers) or 'none has booked anything'})")
        ledgers = [connection]
    for ledger in ledgers:
        side = _side(rt, ledger) or Reconcile(list)
        mine = [row for row in booked if row["ledger"] == ledger and row["action"] in side.entities]
        records = read_side(rt, ledger, side, since, until, sleep)
        report.listed[ledger] = len(records)
        fixed = {name for name, action in rt.catalog.actions.items() if action.undo is None}
        linked = _compare_ledger(report, ledger, side, mine, records, fixed)
        _unlinked(report, ledger, records, linked)
        sources = sorted({row["source"] for row in mine if row["source"]})
        for source in sources:
            listed = _compare_source(rt, report, source, ledger, mine, sleep)
            if listed is not None:
                _compare_balances(rt, report, ledger, source, listed, report.discrepancies[first:], sleep)
        found = report.discrepancies[first:]
        report.found_in[ledger] = list(found)
        report.ledgers[ledger] = {problem: sum(1 for d in found if d.problem == problem)
                                  for problem in PROBLEMS if any(d.problem == problem for d in found)}
        first = len(report.discrepancies)
    report.discrepancies.sort(key=lambda d: (PROBLEMS.index(d.problem), d.connection, d.date, d.entity, d.id))
    return report


def _compare_ledger(report: Report, ledger: str, side: Reconcile, mine: list[dict[str, Any]],
                    records: list[Record], fixed: set[str]) -> dict[tuple[str, str], tuple[Record, dict[str, Any]]]:
    """Each step that booked something in the period against the ledger's record of it;
    the records linked, by (entity, id), with the step's row. What an action of ``fixed``
    wrote cannot be undone (a file's row): its fixes name the correction by hand alone."""
    held = {(r.entity, r.id): r for r in records}
    kinds = {r.entity: r.kind for r in records}
    linked: dict[tuple[str, str], tuple[Record, dict[str, Any]]] = {}
    for row in mine:
        key = (side.entities[row["action"]], str(row["ledger_id"]))
        record = held.get(key)
        in_period = report.since <= str(row["date"]) <= report.until
        if record is not None:
            linked[key] = (record, row)
        if not in_period and record is None:
            continue
        report.booked += 1
        currency = str(row["currency"] or "")
        booked = minor(row["amount"], currency)
        expected = money(booked, currency) if booked is not None else "?"
        run = int(row["run"])
        where = f"{key[0]} {key[1]} in {ledger}"
        if record is None:
            fix = (f"{where}, written by run {run}, is gone: put it back as run {run} wrote it (its input: "
                   f"`ledgerlink runs show {run}`): ledgerlink cannot undo it to book it again" if row["action"] in fixed else
                   f"{where}, booked by run {run}, is gone: `ledgerlink runs undo {run}` voids what is left "
                   f"of the run, then `ledgerlink runs replay {run}` books it again")
            report.discrepancies.append(Discrepancy(
                "missing", ledger, kinds.get(key[0], ""), key[0], key[1], str(row["date"]), f"{expected} on {row['date']}", "nothing",
                str(row["source_id"]), run, fix))
            continue
        if booked is not None and record.amount != booked and record.currency == currency:
            report.discrepancies.append(Discrepancy(
                "amount", ledger, record.kind, key[0], key[1], record.date, expected,
                money(record.amount, record.currency), str(row["source_id"]), run,
                f"correct the amount of {where} to {expected}, as run {run} booked it" + (
                    "" if row["action"] in fixed else
                    f" (or `ledgerlink runs undo {run}` then `ledgerlink runs replay {run}`)")))
        if currency and record.currency != currency:
            report.discrepancies.append(Discrepancy(
                "currency", ledger, record.kind, key[0], key[1], record.date, currency, record.currency,
                str(row["source_id"]), run,
                f"{where} is in {record.currency}; run {run} booked it in {currency}: `ledgerlink runs undo "
                f"{run}` then `ledgerlink runs replay {run}`"))
        if row["date"] and record.date != str(row["date"]):
            report.discrepancies.append(Discrepancy(
                "date", ledger, record.kind, key[0], key[1], record.date, str(row["date"]), record.date,
                str(row["source_id"]), run, f"correct the date of {where} to {row['date']}, as run {run} booked it"))
    return linked


def _unlinked(report: Report, ledger: str, records: list[Record],
              linked: dict[tuple[str, str], tuple[Record, dict[str, Any]]]) -> None:
    """The ledger's records of the period that no run made."""
    twins: dict[tuple[str, int, str, str, str], tuple[Record, dict[str, Any]]] = {}
    sources: dict[tuple[str, str], tuple[Record, dict[str, Any]]] = {}
    for record, row in linked.values():
        twins.setdefault((record.entity, record.amount, record.currency, record.date, record.label), (record, row))
        if record.source_id:
            sources.setdefault((record.entity, record.source_id), (record, row))
    for record in records:
        if (record.entity, record.id) in linked:
            continue
        shown = money(record.amount, record.currency)
        twin = twins.get((record.entity, record.amount, record.currency, record.date, record.label))
        if twin is None and record.source_id:
            twin = sources.get((record.entity, record.source_id))
        if twin is not None:
            original, row = twin
            report.discrepancies.append(Discrepancy(
                "duplicated", ledger, record.kind, record.entity, record.id, record.date,
                f"once, as {original.entity} {original.id}", f"again as {record.entity} {record.id} ({shown})",
                str(row["source_id"]), int(row["run"]),
                f"delete {record.entity} {record.id} in {ledger}: it repeats {original.entity} {original.id}"
                + (f" (both book {record.source_id})" if record.source_id and record.source_id == original.source_id
                   else "") + f", which run {row['run']} booked"))
            continue
        report.discrepancies.append(Discrepancy(
            "not_linked", ledger, record.kind, record.entity, record.id, record.date, "no entry",
            f"{shown} ({record.label})" if record.label else shown, record.source_id or "", None,
            f"{record.entity} {record.id} in {ledger} was booked by no run of ledgerlink: delete it if it "
            f"books a source object twice"))


def _compare_source(rt: Runtime, report: Report, source: str, ledger: str, mine: list[dict[str, Any]],
                    sleep: Callable[[float], None]) -> list[Record] | None:
    """The source's objects of the period, of the kinds ``ledger`` books, that no run booked;
    the source's records (None when it was not read)."""
    side = _side(rt, source)
    if side is None or side.entities:
        return None
    if side.readable is not None and not side.readable(rt.connections.connection(source)):
        note = f"{source} was not read: its connector cannot list this connection's objects (an API key?)"
        if note not in report.notes:
            report.notes.append(note)
        return None
    records = read_side(rt, source, side, report.since, report.until, sleep)
    report.listed[source] = len(records)
    booked_by, unnamed, about = _booked_by(rt, side, source, mine)
    for record in records:
        if record.id not in booked_by and record.parent:
            recipe = _by_parent(unnamed, record)
            if recipe is not None:
                booked_by[record.id].add(recipe)
                about[record.id].add(recipe)
    # the kinds this ledger's recipes book, and by which: what runs booked as what their
    # trigger is about (a refund's run links the charge it refunds, and books no charge)
    recipes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in records:
        if record.id in about:
            recipes[record.kind, record.entity] |= about[record.id]
    missed = [r for r in records
              if r.id not in booked_by and (r.kind, r.entity) in recipes and r.amount != 0]
    ended = _runs_not_booked(rt, side, source, set().union(*recipes.values())) if missed else {}
    for record in missed:
        names = " or ".join(sorted(recipes[record.kind, record.entity]))
        run, status, recipe = ended.get(record.id, (None, "", ""))
        following = (dt.date.fromisoformat(record.date) + dt.timedelta(days=1)).isoformat()
        fix = (f"run {run} of {recipe} was to book it and is {status}: `ledgerlink runs replay {run}` books it "
               f"again"
               if run is not None else
               f"book it: `ledgerlink backfill {names} --since {record.date} --until {following}`")
        report.discrepancies.append(Discrepancy(
            "not_booked", source, record.kind, record.entity, record.id, record.date,
            f"booked in {ledger}", f"{money(record.amount, record.currency)}, booked nowhere"
            + (f" ({record.label})" if record.label else ""), record.id, run, fix))
    return records


def _compare_balances(rt: Runtime, report: Report, ledger: str, source: str, records: list[Record],
                      others: list[Discrepancy], sleep: Callable[[float], None]) -> None:
    """``ledger``'s clearing account against ``source``'s balance at each payout of ``records``."""
    side, source_side = _side(rt, ledger), _side(rt, source)
    why = reconcile_balance.skipped(rt, ledger, side, source, source_side)
    if why is not None or side is None or side.balance is None or source_side is None or source_side.balance is None:
        if why and why not in report.notes:
            report.notes.append(why)
        return
    found, compared, notes = reconcile_balance.compare(rt, ledger, side.balance, source, source_side.balance,
                                                       records, others, sleep)
    report.discrepancies += found
    report.balances[ledger] = report.balances.get(ledger, 0) + compared
    report.notes += [note for note in notes if note not in report.notes]


#: the statuses of a run that booked nothing it keeps, and that ``runs replay`` performs again
_NOT_BOOKED = ("undone", "failed", "dead")


def _runs_not_booked(rt: Runtime, side: Reconcile, source: str,
                     recipes: set[str]) -> dict[str, tuple[int, str, str]]:
    """The source objects a run of ``recipes`` was about whose booking was undone or failed →
    (the newest such run, its status, its recipe): such an object was planned once, so a backfill plans
    nothing for it again; replaying its run books it."""
    if side.subject is None:
        return {}
    ended: list[dict[str, Any]] = []
    for status in _NOT_BOOKED:
        after: int | None = None
        while True:
            page = rt.store.list_runs(status=status, after_id=after, limit=500)
            ended += [run for run in page if run["connection"] == source and run["recipe_id"] in recipes]
            if len(page) < 500:
                break
            after = int(page[-1]["id"])
    payloads = rt.store.payloads(source, (str(run["event_id"]) for run in ended))
    found: dict[str, tuple[int, str, str]] = {}
    for run in sorted(ended, key=lambda r: int(r["id"])):
        payload = jsonio.loads(payloads[run["event_id"]]) if run["event_id"] in payloads else None
        about = side.subject(str(run["trigger"]), payload) if isinstance(payload, dict) else None
        if about:
            found[about] = (int(run["id"]), str(run["status"]), str(run["recipe_id"]))
    return found


#: a step of a run whose trigger names no object: (linked source id, amount, currency) → its
#: (recipe, run)s, each taken by one record at most
Unnamed = dict[tuple[str, int | None, str], list[tuple[str, int]]]


def _booked_by(rt: Runtime, side: Reconcile, source: str, mine: list[dict[str, Any]]
               ) -> tuple[defaultdict[str, set[str]], Unnamed, defaultdict[str, set[str]]]:
    """Each source object a run booked → the recipes that booked it: the object a step's link
    names, and the object the run's trigger is about (``side.subject``), since a step may link
    another id (a payout's fees, ``fees:po_…``); and the steps of runs whose trigger names no
    object (a refund's event that does not say which refund), for :func:`_by_parent`; and,
    when the side declares ``subject``, the objects runs booked as what their trigger is
    about, alone (which kinds the ledger's recipes book). A run one of those recipes closed by
    a ``skip`` rule (a payout without fees: nothing to book) accounts for its object too."""
    ours = [row for row in mine if row["source"] == source]
    booked: defaultdict[str, set[str]] = defaultdict(set)
    unnamed: Unnamed = defaultdict(list)
    for row in ours:
        if row["source_id"]:
            booked[str(row["source_id"])].add(row["recipe"])
    if side.subject is None:
        return booked, unnamed, booked
    recipes = {row["recipe"] for row in ours}
    ours = ours + [{"event_id": row["event_id"], "trigger": row["trigger"], "recipe": row["recipe_id"],
                    "source_id": None} for row in rt.store.skipped_runs(source) if row["recipe_id"] in recipes]
    payloads = rt.store.payloads(source, (str(row["event_id"]) for row in ours))
    subjects: defaultdict[str, set[str]] = defaultdict(set)
    for row in ours:
        payload = jsonio.loads(payloads[row["event_id"]]) if row["event_id"] in payloads else None
        about = side.subject(str(row["trigger"]), payload) if side.subject and isinstance(payload, dict) else None
        if about:
            booked[about].add(row["recipe"])
            subjects[about].add(row["recipe"])
        elif row["source_id"]:
            currency = str(row["currency"] or "")
            taken = unnamed[str(row["source_id"]), minor(row["amount"], currency), currency]
            if (row["recipe"], int(row["run"])) not in taken:
                taken.append((row["recipe"], int(row["run"])))
    return booked, unnamed, subjects


def _by_parent(unnamed: Unnamed, record: Record) -> str | None:
    """The recipe of a run that booked ``record`` by linking its parent (a refund's charge)
    with its amount and currency, without naming it; that run books no other record."""
    taken = unnamed.get((str(record.parent), record.amount, record.currency))
    if not taken:
        return None
    recipe, _run = taken.pop(0)
    return recipe


__all__ = ["PROBLEMS", "Discrepancy", "Report", "check_period", "lines", "money", "read_side", "reconcile"]
