"""What ``ledgerlink reconcile`` finds: its problems, a :class:`Discrepancy` each, the
:class:`Report` (as JSON and as a terminal table) and the period it is asked for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from ledgerlink.contract import exponent, is_currency
from ledgerlink.errors import InvalidRequest

#: the problems, in the order a report lists them
PROBLEMS = ("missing", "amount", "currency", "date", "duplicated", "not_linked", "not_booked",
            "clearing_balance")


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
    #: ledger connection -> payouts at which its clearing balance was compared with the source's
    balances: dict[str, int] = field(default_factory=dict)
    #: ledger connection -> discrepancies found reconciling it, by problem
    ledgers: dict[str, dict[str, int]] = field(default_factory=dict)
    #: what was not compared, and why
    notes: list[str] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    #: ledger connection -> the discrepancies found reconciling it (the source's among them)
    found_in: dict[str, list[Discrepancy]] = field(default_factory=dict)

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
                "booked": self.booked, "balances": self.balances, "counts": self.counts(), "ledgers": self.ledgers,
                "notes": self.notes,
                "discrepancies": [asdict(each) for each in self.discrepancies]}

    def of_ledger(self, ledger: str) -> dict[str, Any]:
        """What the report says of ``ledger`` alone, shaped as :meth:`as_json`: its records
        and those of the sources it was compared with, its clearing balances, and the
        discrepancies found reconciling it (in the report's order)."""
        mine = [each for each in self.discrepancies if any(each is d for d in self.found_in.get(ledger, []))]
        counts: dict[str, int] = {}
        for each in mine:
            counts[each.problem] = counts.get(each.problem, 0) + 1
        listed = {name: count for name, count in self.listed.items()
                  if name == ledger or name not in self.ledgers}
        return {"since": self.since, "until": self.until, "ok": not mine, "connection": ledger,
                "listed": listed, "balances": {ledger: self.balances[ledger]} if ledger in self.balances else {},
                "counts": counts, "notes": self.notes, "discrepancies": [asdict(each) for each in mine]}


def money(minor: int, currency: str) -> str:
    """``1050, "USD"`` → ``10.50 USD``."""
    digits = exponent(currency) if is_currency(currency) else 2
    return f"{Decimal(minor).scaleb(-digits):.{digits}f} {currency}"


def minor(amount: Any, currency: str) -> int | None:
    if amount is None or not is_currency(currency):
        return None
    return int(Decimal(str(amount)).scaleb(exponent(currency)).to_integral_value())


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
