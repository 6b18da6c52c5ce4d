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
- each source object of the period no run booked in a ledger that books its kind (a run
  books the object its step links, and the object its trigger is about):
  ``not_booked``.

Each :class:`Discrepancy` names the run it concerns (if any) and its fix. The report is
``ok`` only when nothing differs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, exponent, is_currency
from ledgerlink.contract.reconcile import Record, Reconcile, check_record
from ledgerlink.engine.backfill import check_connected, governed
from ledgerlink.engine.export import rows
from ledgerlink.engine.runner import drive
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import InvalidRequest, NotFound

#: the problems, in the order a report lists them
PROBLEMS = ("missing", "amount", "currency", "date", "duplicated", "not_linked", "not_booked")
#: far enough in the future for "every run ever planned"
_EVER = 4102444800.0  # 2100-01-01


@dataclass(frozen=True)
class Discrepancy:
    """One thing the two sides disagree about."""

    problem: str
    #: the connection whose object it is (a ledger's, or the source's for ``not_booked``)
    connection: str
    kind: str
    entity: str
    id: str
    date: str
    #: what the run booked (or the source holds), and what the ledger holds, in words
    expected: str
    found: str
    #: the source object it came from, when known
    source_id: str = ""
    #: the run it concerns, when one booked it
    run: int | None = None
    #: what to do about it
    fix: str = ""


@dataclass
class Report:
    """A reconciliation's outcome (:func:`reconcile`)."""

    since: str
    until: str
    #: connection -> records it listed
    listed: dict[str, int] = field(default_factory=dict)
    #: steps compared with their ledger's record
    booked: int = 0
    #: ledger connection -> discrepancies found reconciling it, by problem
    ledgers: dict[str, dict[str, int]] = field(default_factory=dict)
    #: what was not compared, and why
    notes: list[str] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for each in self.discrepancies:
            found[each.problem] = found.get(each.problem, 0) + 1
        return found

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "ok": self.ok, "listed": self.listed,
                "booked": self.booked, "counts": self.counts(), "ledgers": self.ledgers,
                "notes": self.notes,
                "discrepancies": [asdict(each) for each in self.discrepancies]}


def money(minor: int, currency: str) -> str:
    """``1050, "USD"`` → ``10.50 USD``."""
    digits = exponent(currency) if is_currency(currency) else 2
    return f"{Decimal(minor).scaleb(-digits):.{digits}f} {currency}"


def _minor(amount: Any, currency: str) -> int | None:
    if amount is None or not is_currency(currency):
        return None
    return int(Decimal(str(amount)).scaleb(exponent(currency)).to_integral_value())


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


def _is_ledger(rt: Runtime, name: str) -> bool:
    side = _side(rt, name)
    return side is not None and bool(side.entities)


def reconcile(rt: Runtime, since: str, until: str, connection: str | None = None,
              sleep: Callable[[float], None] = time.sleep) -> Report:
    """Compare every source with every ledger it books into (only ledger ``connection`` when
    given) over the days ``[since, until]`` (YYYY-MM-DD, both included)."""
    report = Report(since, until)
    first = 0
    booked = [row for row in rows(rt.store, rt.catalog, 0.0, _EVER) if row["ledger"]]
    ledgers = sorted({row["ledger"] for row in booked if _is_ledger(rt, row["ledger"])})
    if connection is not None:
        if not _is_ledger(rt, connection):
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
            _compare_source(rt, report, source, ledger, mine, sleep)
        found = report.discrepancies[first:]
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
        booked = _minor(row["amount"], currency)
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
                    sleep: Callable[[float], None]) -> None:
    """The source's objects of the period, of the kinds ``ledger`` books, that no run booked."""
    side = _side(rt, source)
    if side is None or side.entities:
        return
    if side.readable is not None and not side.readable(rt.connections.connection(source)):
        note = f"{source} was not read: its connector cannot list this connection's objects (an API key?)"
        if note not in report.notes:
            report.notes.append(note)
        return
    records = read_side(rt, source, side, report.since, report.until, sleep)
    report.listed[source] = len(records)
    booked_by, about = _booked_by(rt, side, source, mine)
    booked_ids = set(booked_by)
    recipes: dict[str, set[str]] = defaultdict(set)  # the kinds this ledger's recipes book, and by which
    for record in records:
        if record.id in about:
            recipes[record.kind] |= about[record.id]
    for record in records:
        if record.id in booked_ids or record.kind not in recipes or record.amount == 0:
            continue
        names = " or ".join(sorted(recipes[record.kind]))
        report.discrepancies.append(Discrepancy(
            "not_booked", source, record.kind, record.entity, record.id, record.date,
            f"booked in {ledger}", f"{money(record.amount, record.currency)}, booked nowhere", record.id, None,
            f"book it: `ledgerlink backfill {names} --since {record.date} --until {record.date}` (or "
            f"replay its failed run: `ledgerlink runs --status failed`)"))


def _booked_by(rt: Runtime, side: Reconcile, source: str,
               mine: list[dict[str, Any]]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Each source object a run booked → the recipes that booked it: the object a step's link
    names, and the object the run's trigger is about (``side.subject``), since a step may link
    another id (a payout's fees, ``fees:po_…``). And, when the side declares ``subject``, the
    objects runs booked as what their trigger is about, alone: what says which kinds the
    ledger's recipes book (a refund's run links the charge it refunds, and books no charge)."""
    ours = [row for row in mine if row["source"] == source]
    booked: dict[str, set[str]] = defaultdict(set)
    for row in ours:
        if row["source_id"]:
            booked[str(row["source_id"])].add(row["recipe"])
    if side.subject is None:
        return booked, booked
    payloads = rt.store.payloads(source, (str(row["event_id"]) for row in ours))
    subjects: dict[str, set[str]] = defaultdict(set)
    for row in ours:
        payload = jsonio.loads(payloads[row["event_id"]]) if row["event_id"] in payloads else None
        about = side.subject(str(row["trigger"]), payload) if isinstance(payload, dict) else None
        if about:
            booked[about].add(row["recipe"])
            subjects[about].add(row["recipe"])
    return booked, subjects


def lines(report: Report) -> Iterator[str]:
    """The report as a table for a terminal."""
    yield f"reconciled {report.since} to {report.until}: " + ", ".join(
        f"{name} {count} records" for name, count in sorted(report.listed.items())) + f", {report.booked} bookings"
    yield from (f"note: {note}" for note in report.notes)
    if report.ok:
        yield "both sides agree"
        return
    yield f"{len(report.discrepancies)} discrepancies: " + ", ".join(
        f"{count} {problem}" for problem, count in report.counts().items())
    for each in report.discrepancies:
        run = f" run {each.run}" if each.run is not None else ""
        yield (f"{each.problem:<10} {each.connection} {each.entity} {each.id} {each.date}{run}: "
               f"expected {each.expected}, found {each.found}")
        yield f"           fix: {each.fix}"


def check_period(since: Any, until: Any) -> None:
    """InvalidRequest unless both are YYYY-MM-DD and ``since`` is not after ``until``."""
    for name, value in (("since", since), ("until", until)):
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidRequest(f"{name} must be a date written YYYY-MM-DD, got {value!r}") from None
    if since > until:
        raise InvalidRequest(f"until ({until}) is before since ({since})")
