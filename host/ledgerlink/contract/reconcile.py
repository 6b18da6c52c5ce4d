"""What a connector implements to be reconciled (``ledgerlink reconcile``).

A connector declares a :class:`Reconcile` as ``Connector.reconcile``. It lists the objects of
a period on its side as neutral :class:`Record` s, a page at a time, through a read-only
generator like a trigger's ``history`` (it yields :class:`~ledgerlink.contract.Request` s, or
file effects, and the host sends them on the connection, governed and authenticated, and
asks a page again after a 429), and, if it keeps one, a balance per currency at the end of a
day (:data:`ReadBalance`).

The host compares the two sides through the links table: what each run booked (the step's
``entry``, as ``ledgerlink export`` reads it) against the ledger's record of it, the ledger's
records no run made, and the source's objects no run booked. A source (Stripe) lists its
invoices, payments, refunds and payouts and declares ``balance`` (what a clearing account
booking it must show at the end of a day: its balance plus what left it and has not yet
arrived where the ledger books it, e.g. payouts in transit); a ledger (QuickBooks, Xero, files) lists what it holds and maps each action that
creates an entity to the entity type the action's output id names (``entities``), since one
id can name a journal entry and a purchase alike; its ``balance`` is the clearing account's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledgerlink.contract.components import ActionContext, Connection, Request, Response
from ledgerlink.errors import ConfigError

#: the ledger connection's settings a clearing-balance check reads: the account Stripe's money
#: is booked into (how it is named — a code, a name or an id — is the ledger's own), and the
#: time zone whose midnight ends the day balances are compared at
CLEARING_SETTING, CLEARING_TIMEZONE_SETTING = "clearing_account", "clearing_timezone"
#: the JSON Schema of ``clearing_timezone`` for a ledger connector's settings schema
CLEARING_TIMEZONE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "The IANA time zone the booking recipes date sales in (their "
                   "\"timezone\", e.g. \"America/New_York\"): the day a payout's balances "
                   "are compared at ends at midnight there. Default: UTC.",
}

#: what a record is, in words every system shares; ``dispute``: money a card dispute took from
#: the balance (funds withdrawn) or gave back (funds reinstated, the dispute won)
RECORD_KINDS = ("invoice", "payment", "refund", "dispute", "credit_note", "fee", "payout", "deposit",
                "journal")


@dataclass(frozen=True)
class Record:
    """One object of a period on one side, as the other side would book it."""

    #: one of :data:`RECORD_KINDS`
    kind: str
    #: its id on its own side (with ``entity``, it names one object)
    id: str
    #: its amount in the currency's minor units (an int, never a float), as the object shows
    #: it: a refund or a payout is positive
    amount: int
    #: ISO 4217 code, upper case
    currency: str
    #: its date, YYYY-MM-DD (a ledger: the transaction date; a source: the day it happened, UTC)
    date: str
    #: a ledger record: the source object's id, when the ledger holds one (a memo, a reference)
    source_id: str | None = None
    #: the vendor's type of the object (QuickBooks ``JournalEntry``, Stripe ``payout``)
    entity: str = ""
    #: a few words a person recognises it by (a memo, a customer): shown beside a discrepancy
    label: str = ""
    #: a source record: the object it belongs to (a refund's or a dispute's charge), when a
    #: run booking it may link that object instead of the record's own id; such a run (one
    #: whose trigger names no object, see :attr:`Reconcile.subject`) books the record when it
    #: links ``parent`` with the record's amount and currency
    parent: str | None = None


@dataclass(frozen=True)
class Listing:
    """One page of :attr:`Reconcile.records`."""

    records: list[Record]
    #: where the next page starts (given back as ``cursor``); None when this was the last
    cursor: str | None = None


#: ``records(since, until, cursor, ctx)``: one page of the records dated in ``[since, until]``
#: (YYYY-MM-DD, both included); ``cursor`` is None for the first page, then the page's own
ListRecords = Callable[[str, str, "str | None", ActionContext], Generator[Any, Any, Listing]]
#: ``balance(at, ctx)``: {currency: minor units} at the end of day ``at``: ``YYYY-MM-DD`` (a
#: ledger's books are dated by day), or, asked of a source, ``YYYY-MM-DD Area/City``: the day
#: ending at midnight in that IANA time zone (:func:`end_of_day`; UTC when none is named)
ReadBalance = Callable[[str, ActionContext], Generator[Request, Response, Mapping[str, int]]]


@dataclass(frozen=True)
class Reconcile:
    """How the host reads one side of a reconciliation from a connector."""

    #: read-only: the objects of a period (see :data:`ListRecords`)
    records: ListRecords
    #: action name → the entity type (:attr:`Record.entity`) of the id its output names; a
    #: link's ``target_type`` is the action that created the entity (ledgers only)
    entities: Mapping[str, str] = field(default_factory=dict)
    #: read-only: the balance per currency at the end of a day (a source: what it holds; a
    #: ledger: the clearing account named by the connection's ``clearing_account`` setting).
    #: None: this side keeps no balance to compare
    balance: ReadBalance | None = None
    #: the kinds of record this side lists (a source lists those a ledger books)
    kinds: tuple[str, ...] = RECORD_KINDS
    #: ``readable(connection) -> bool``: whether this connection can be listed (e.g. only one
    #: with an API key, not one that only receives webhooks); None: every connection. A side
    #: that cannot be read is named in the report's notes, and not compared
    readable: Callable[[Connection], bool] | None = None
    #: a source: ``subject(trigger, payload) -> id``: the object an event of ``trigger`` is
    #: about, when a run it triggered books that object (a payout's run books its fees with
    #: a link of its own, ``fees:po_…``); None for other events. A source object of the period
    #: is booked when a run's link or a run's trigger names it
    subject: Callable[[str, Mapping[str, Any]], "str | None"] | None = None


@dataclass(frozen=True)
class ReconcileQuery:
    """Yielded by an action instead of a Request: "reconcile ``[since, until]`` (every ledger,
    or ``connection``) now". The host runs the reconciliation as ``ledgerlink reconcile`` does
    (the report kept as the latest, a ledger that disagrees raising
    ``ledgerlink.reconcile.drift``) and answers ``Response(200, json=report)``: the report as
    ``GET /api/reconcile`` shows it. A dry-run answers :func:`empty_report` and runs nothing."""

    since: str
    until: str
    connection: str | None = None


def empty_report(query: ReconcileQuery) -> dict[str, Any]:
    """The answer a dry-run gives a :class:`ReconcileQuery`: nothing compared, nothing found."""
    return {"since": query.since, "until": query.until, "ok": True, "listed": {}, "booked": 0, "balances": {}, "counts": {},
            "ledgers": {}, "notes": ["a dry-run reconciles nothing"], "discrepancies": []}


def end_of_day(at: str) -> tuple[str, int]:
    """``"2023-09-05"`` or ``"2023-09-05 America/New_York"`` → the day and the Unix second its
    end is (the midnight after it, in that time zone; UTC when none is named). ConfigError
    naming the fix for a day or a zone that is not one."""
    day, _, zone = at.partition(" ")
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise ConfigError(f"a balance is read at a day written YYYY-MM-DD, not {day!r}") from None
    try:
        tz = ZoneInfo(zone) if zone else dt.timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{zone!r} is not an IANA time zone: name one such as \"America/New_York\" "
                          f"or \"UTC\"") from None
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tz)
    return day, int(end.timestamp())


def check_record(record: Any, connector: str) -> None:
    """TypeError/ValueError in words when ``record`` is not a :class:`Record` a host can use."""
    if not isinstance(record, Record):
        raise TypeError(f"{connector}'s reconcile listed {type(record).__name__}, not a Record")
    if record.kind not in RECORD_KINDS:
        raise ValueError(f"{connector}'s reconcile listed a record of kind {record.kind!r}; "
                         f"the kinds are {', '.join(RECORD_KINDS)}")
    if not isinstance(record.amount, int) or isinstance(record.amount, bool):
        raise ValueError(f"{connector}'s reconcile listed {record.entity} {record.id} with amount "
                         f"{record.amount!r}: amounts are integer minor units")
    if len(record.date) != 10:
        raise ValueError(f"{connector}'s reconcile listed {record.entity} {record.id} dated {record.date!r}; "
                         f"a date is YYYY-MM-DD")
