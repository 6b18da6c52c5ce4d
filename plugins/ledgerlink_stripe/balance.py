"""Stripe's side of the clearing-account check of ``ledgerlink reconcile``: what a clearing
account that books Stripe's activity must show at the end of a day.

Stripe's balance at a moment is the sum of ``net`` of every balance transaction
(https://docs.stripe.com/api/balance_transactions/object) created up to it, pending or
available alike (``GET /v1/balance`` splits the same sum into ``available`` and
``pending``): a charge counts when it is created, less its fee; a refund, a dispute's
withdrawal or reinstatement when they happen; a payout's own transaction (``type`` payout,
``net`` the payout negated) when the payout is *created*, and a failed payout's amount comes
back with its ``payout_failure`` transaction. Rather than adding up the account's whole
history for each day asked, the balance is read as it is now (``GET /v1/balance``, available
plus pending, per currency) less the ``net`` of the transactions created since the moment
(``GET /v1/balance_transactions?created[gte]=``, paged): the same sum, in as many pages as
the days since.

A ledger books a payout on the day it arrives, so until then its money is still in the
clearing account: the payouts created by the moment that had not arrived (paid, arriving on
a later day than the one asked; failed, their failure transaction not yet created; still
pending or in transit) are added back: what the clearing mode's books make true of the
clearing account at each payout (docs/books.md). Payouts are listed from :data:`LEAD_DAYS`
before the moment (one arrives a few days after it is created). Read-only and sans-I/O: the host sends each request
on the connection, governed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.contract.reconcile import end_of_day
from ledgerlink.errors import VendorError

from . import api

DAY = 86400
#: how long before the moment a payout still in transit may have been created, in days
LEAD_DAYS = 10


def _amount(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise VendorError(f"Stripe answered {where} with the amount {value!r}, not an integer", kind="retry")
    return value


def _now(body: Any) -> dict[str, int]:
    """``GET /v1/balance``: available plus pending, per upper-case currency."""
    held: dict[str, int] = defaultdict(int)
    if not isinstance(body, Mapping):
        raise VendorError("Stripe answered /v1/balance without a balance object", kind="retry")
    for part in ("available", "pending"):
        for row in body.get(part) or []:
            if isinstance(row, Mapping) and isinstance(row.get("currency"), str):
                held[row["currency"].upper()] += _amount(row.get("amount"), f"/v1/balance {part}")
    return held


def _arrival_day(payout: Mapping[str, Any]) -> str:
    arrival = payout.get("arrival_date")
    if not isinstance(arrival, int):
        raise VendorError(f"Stripe answered payout {payout.get('id')} without an arrival_date", kind="retry")
    return dt.datetime.fromtimestamp(arrival, dt.timezone.utc).date().isoformat()


def in_transit(payout: Mapping[str, Any], day: str, later: set[str]) -> bool:
    """Whether ``payout`` (created by the end of ``day``) had left the balance and not yet
    reached the ledger's bank then: paid on a later day, failed by a transaction created
    after (``later``: the ids of the transactions created after the moment), or neither yet."""
    status = payout.get("status")
    if status == "paid":
        return _arrival_day(payout) > day
    if status == "failed":
        return str(payout.get("failure_balance_transaction") or "") in later
    if status == "canceled":
        return False  # Stripe never took it out of the balance
    return True  # pending, in_transit


def balance(at: str, ctx: ActionContext) -> Generator[Request, Response, Mapping[str, int]]:
    """Per currency: Stripe's balance at the end of ``at`` (``YYYY-MM-DD`` or ``YYYY-MM-DD
    Area/City``) plus the payouts then in transit, in minor units."""
    day, end = end_of_day(at)
    held = _now(api.checked((yield api.get(ctx, "/v1/balance"))))
    since = yield from api.pages(ctx, "/v1/balance_transactions", {"created": {"gte": end}})
    later: set[str] = set()
    for txn in since:
        if not isinstance(txn, Mapping) or not isinstance(txn.get("currency"), str):
            raise VendorError("Stripe listed a balance transaction without its currency", kind="retry")
        held[txn["currency"].upper()] -= _amount(txn.get("net"), f"balance transaction {txn.get('id')}")
        later.add(str(txn.get("id")))
    payouts = yield from api.pages(ctx, "/v1/payouts", {"created": {"gte": end - LEAD_DAYS * DAY, "lt": end}})
    for payout in payouts:
        if isinstance(payout, Mapping) and in_transit(payout, day, later):
            held[str(payout.get("currency", "")).upper()] += _amount(payout.get("amount"), f"payout {payout.get('id')}")
    return dict(held)


__all__ = ["balance", "in_transit"]
