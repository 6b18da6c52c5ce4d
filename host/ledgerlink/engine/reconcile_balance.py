"""The clearing account against the source's balance, per currency, at each payout.

A ledger that books the source's activity through a clearing account (its connection's
``clearing_account`` setting names it, and its connector declares ``Reconcile.balance``) must
show in it, at the end of each day a payout arrives, what the source's ``balance`` says: the
source's balance then, plus what has left it and not yet arrived where the ledger books it
(payouts in transit). Both are read at one convention: the end of the payout's arrival day
(the day the recipes book a payout on) in the ledger connection's ``clearing_timezone`` —
the time zone its recipes date sales in — UTC when unset. Each side is read once per
arrival day, governed, and kept for the other payouts of that day.

A difference is a ``clearing_balance`` discrepancy naming the payout, the currency, both
balances and the difference, and the other discrepancies of the report dated since the last
payout compared (the entries made by hand, the runs that booked differently, the objects not
booked) as its likely causes. One is reported per currency where the difference starts and
again only where it changes, so one entry made by hand is one discrepancy, not one per
payout after it. A ledger without ``clearing_account`` (one booking a summary per payout)
compares nothing; the report's notes say why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ledgerlink.contract import ActionContext
from ledgerlink.contract.reconcile import (CLEARING_SETTING, CLEARING_TIMEZONE_SETTING, ReadBalance, Reconcile, Record,
                                           end_of_day)
from ledgerlink.engine.backfill import governed
from ledgerlink.engine.reconcile_report import Discrepancy, money
from ledgerlink.engine.runner import drive
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import ConfigError

Balance = Mapping[str, int]


def read_balance(rt: Runtime, name: str, read: ReadBalance, at: str,
                 sleep: Callable[[float], None] = time.sleep) -> Balance:
    """Connection ``name``'s balance per currency at the end of ``at`` (``read``: its
    connector's ``Reconcile.balance``), sent governed and asked again while the governor or
    the vendor says later."""
    connection = rt.connections.connection(name)
    send = rt.connections.transport(name)
    ctx = ActionContext(connection=connection, idempotency_key="")
    found = governed(rt, name, True, sleep, rt.settings.max_attempts, lambda: drive(read(at, ctx), send))
    if not isinstance(found, Mapping) or not all(
            isinstance(c, str) and isinstance(v, int) and not isinstance(v, bool) for c, v in found.items()):
        raise TypeError(f"{connection.connector}'s reconcile balance answered {found!r}, not currency → minor units")
    return {currency.upper(): amount for currency, amount in found.items()}


def _zone(settings: Mapping[str, Any], ledger: str) -> str:
    zone = str(settings.get(CLEARING_TIMEZONE_SETTING) or "").strip()
    if zone and zone.upper() != "UTC":
        try:
            end_of_day(f"2000-01-01 {zone}")
        except ConfigError:
            raise ConfigError(f"connection {ledger!r}: {CLEARING_TIMEZONE_SETTING} {zone!r} is not an IANA time zone; set it to "
                              f"the booking recipes' timezone (e.g. \"America/New_York\") or remove it for UTC") from None
        return zone
    return ""


def skipped(rt: Runtime, ledger: str, side: Reconcile | None, source: str, source_side: Reconcile | None) -> str | None:
    """Why ``ledger``'s clearing account is not compared with ``source``'s balance; None when it is."""
    if side is None or side.balance is None:
        return f"{ledger}'s clearing balance was not compared with {source}'s: its connector reads no balance"
    if not str(rt.connections.connection(ledger).settings.get(CLEARING_SETTING) or ""):
        return (f"{ledger}'s clearing balance was not compared with {source}'s: no {CLEARING_SETTING} is set (a "
                f"ledger booking one summary per payout has none; set it to the account the source's money is booked into)")
    if source_side is None or source_side.balance is None:
        return f"{ledger}'s clearing balance was not compared with {source}'s: {source}'s connector reads no balance"
    return None


def _causes(others: list[Discrepancy], after: str, day: str) -> str:
    """The other discrepancies dated in ``(after, day]``, as likely causes, in words."""
    named: list[str] = []
    for other in others:
        if not after < other.date <= day:
            continue
        if other.run is not None:
            named.append(f"run {other.run} ({other.problem} {other.entity} {other.id})")
        else:
            named.append(f"{other.problem} {other.entity} {other.id}")
    return "; ".join(dict.fromkeys(named))


def compare(rt: Runtime, ledger: str, books_read: ReadBalance, source: str, source_read: ReadBalance,
            source_records: list[Record], others: list[Discrepancy],
            sleep: Callable[[float], None] = time.sleep) -> tuple[list[Discrepancy], int, list[str]]:
    """At each paid payout of ``source_records`` (by arrival day, then id), ``ledger``'s
    clearing balance against ``source``'s, per currency. Returns the discrepancies, how many
    payouts were compared, and notes. ``books_read`` and
    ``source_read``: the two connectors' ``Reconcile.balance``; ``others``: the report's
    discrepancies of this ledger so far, named as likely causes."""
    zone = _zone(rt.connections.connection(ledger).settings, ledger)
    payouts = sorted((r for r in source_records if r.kind == "payout"), key=lambda r: (r.date, r.id))
    ledger_at: dict[str, Balance] = {}
    source_at: dict[str, Balance] = {}
    last: dict[str, tuple[int, str]] = {}  # currency -> (difference, day it was last compared)
    found: list[Discrepancy] = []
    notes: list[str] = []
    compared = 0
    for payout in payouts:
        day = payout.date
        if day not in ledger_at:
            ledger_at[day] = read_balance(rt, ledger, books_read, day, sleep)
            source_at[day] = read_balance(rt, source, source_read, f"{day} {zone}".strip(), sleep)
        books, holds = ledger_at[day], source_at[day]
        currency = payout.currency
        if currency not in books:
            note = (f"{source}'s payouts in {currency} were not compared: {ledger}'s clearing account is in "
                    f"{', '.join(sorted(books)) or 'no currency'}")
            if note not in notes:
                notes.append(note)
            continue
        compared += 1
        difference = books[currency] - holds.get(currency, 0)
        before, since = last.get(currency, (0, ""))
        last[currency] = (difference, day)
        if difference == before or difference == 0:
            continue
        causes = _causes(others, since, day)
        expected, shown = money(holds.get(currency, 0), currency), money(books[currency], currency)
        found.append(Discrepancy(
            "clearing_balance", ledger, "payout", payout.entity, payout.id, day,
            f"{expected} ({source}'s balance at the end of {day}{' ' + zone if zone else ' UTC'}, payouts in transit "
            f"included)", f"{shown}, {money(difference, currency)} off"
            + (f" (was {money(before, currency)} off)" if before else ""), payout.id, None,
            f"from payout {payout.id} ({day}) on, the clearing account in {ledger} holds "
            f"{money(abs(difference - before), currency)} {'more' if difference > before else 'less'} than "
            f"{source}'s balance says" + (" (besides the difference before)" if before else "") + ": "
            + (f"look first at {causes}; " if causes else "")
            + f"otherwise an entry posted to the clearing account by hand (find it in the account's register "
            f"between {since or 'the start'} and {day} and delete it), or a run that failed or was not booked "
            f"before {day} (`ledgerlink runs --status failed`, then replay it)"))
    return found, compared, notes


__all__ = ["compare", "read_balance", "skipped"]
