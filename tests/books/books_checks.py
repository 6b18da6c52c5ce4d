"""What every ledger's proof checks of a booked month, whatever the ledger: the runs, Stripe's
own figures, the clearing account at each payout, redelivery, and the tie-out table.

Not a test module. Each ledger reads its books its own way (QuickBooks: :mod:`ledger_reading`;
Xero: :mod:`xero_books`) and hands the figures here; Stripe's side is read from the Stripe
sandbox (its balance transactions, payouts and events) and ``GET /v1/balance``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ledgerlink.store.schema import runs as runs_table
import stripe_month as month
from books_month import Month

Obj = dict[str, Any]


def runs(month_: Month) -> list[Obj]:
    with month_.runtime.store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(runs_table))]


def check_runs(month_: Month, recipes: set[str]) -> Counter:
    """Every run succeeded, and each recipe of the mode ran."""
    made = runs(month_)
    failed = [(r["recipe_id"], r["last_error"]) for r in made if r["status"] != "succeeded"]
    assert not failed, failed[:5]
    per_recipe = Counter(r["recipe_id"] for r in made)
    assert set(per_recipe) == recipes, per_recipe
    return per_recipe


def check_disputes(month_: Month, per_recipe: Counter, withdrawn: str, reinstated: str) -> None:
    """One run per dispute withdrawn, one per dispute won."""
    disputes = month_.stripe.account.store.objects["dispute"].values()
    assert per_recipe[withdrawn] == len(disputes) >= 2
    assert per_recipe[reinstated] == sum(d["status"] == "won" for d in disputes) >= 1


def by_category(transactions: Iterable[Obj], *categories: str) -> int:
    return sum(t["amount"] for t in transactions if t["reporting_category"] in categories)


def event_times(month_: Month) -> dict[str, int]:
    return {event["id"]: event["created"] for event in month.sandbox_events(month_.stripe)}


def payouts(month_: Month) -> tuple[dict[str, Obj], dict[str, Obj]]:
    """Every payout of the month and the paid ones, by id: a payout a day, one negative and
    one failed."""
    every = {p["id"]: p for p in month_.stripe.account.store.objects["payout"].values()}
    paid = {ident: p for ident, p in every.items() if p["status"] == "paid"}
    assert any(p["amount"] < 0 for p in paid.values()) and len(paid) == len(every) - 1 >= 29
    return every, paid


def settled_times(month_: Month) -> dict[str, int]:
    """Payout id -> when Stripe said it was paid (or failed)."""
    return {e["data"]["object"]["id"]: e["created"] for e in month.sandbox_events(month_.stripe)
            if e["type"] in ("payout.paid", "payout.failed")}


def check_clearing_at_each_payout(month_: Month, transactions: list[Obj],
                                  clearing_until: Callable[[int], int]) -> int:
    """(b) at each paid payout's arrival: the clearing account (``clearing_until(t)``, in minor
    units, of what was booked for Stripe's activity up to Unix time ``t``) equals Stripe's
    balance then plus the payouts on their way to the bank. Returns how many were checked."""
    every, paid = payouts(month_)
    settled = settled_times(month_)
    for ident in paid:
        at = settled[ident]
        in_transit = sum(p["amount"] for i, p in every.items() if p["created"] <= at < settled[i])
        stripe = sum(t["net"] for t in transactions if t["created"] <= at)
        assert clearing_until(at) == stripe + in_transit, ident
    return len(paid)


def check_redelivery_changes_nothing(month_: Month, before: Any, read: Callable[[], Any], runs_before: int) -> None:
    """(d): the whole month delivered again, then the books (``read()``, ``before`` before)
    and the runs are as they were."""
    month_.redeliver_everything()
    assert len(runs(month_)) == runs_before
    assert read() == before


def minor(amount: Decimal, exponent: int = 2) -> int:
    """An exact amount in minor units (refuses one with more decimals than ``exponent``)."""
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise AssertionError(f"{amount} has more than {exponent} decimals")
    return int(scaled)


def tie_out_table(title: str, rows: list[tuple[str, int, int]], currency: str = "usd") -> str:
    """The month's tie-out as an accountant reads it: each figure as the books say it and as
    Stripe says it, in ``currency``'s major units, and whether they tie (printed with ``-s``)."""
    width = max(len(name) for name, _, _ in rows)
    lines = [title, f"{'':<{width}}  {'books':>12}  {'Stripe':>12}  tie", "-" * (width + 35)]
    for name, books, stripe in rows:
        lines.append(f"{name:<{width}}  {Decimal(books).scaleb(-2):>12}  {Decimal(stripe).scaleb(-2):>12}  "
                     f"{'yes' if books == stripe else 'NO'}")
    lines.append(f"(in {currency.upper()}, exact to the minor unit; every row must tie)")
    return "\n".join(lines)


__all__ = ["by_category", "check_clearing_at_each_payout", "check_disputes", "check_redelivery_changes_nothing",
           "check_runs", "event_times", "minor", "payouts", "runs", "settled_times", "tie_out_table"]
