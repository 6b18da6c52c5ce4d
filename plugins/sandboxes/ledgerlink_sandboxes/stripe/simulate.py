"""A simulated business: a month (or any span) of a Stripe account, generated from a seed.

:func:`simulate` drives an :class:`~.business.Account` in-process, the way the account's
owner and its customers would through Stripe (https://docs.stripe.com/api), moving the
sandbox clock forward through each day so that every object and event carries the time it
happened, and every event is recorded (and, with a webhook endpoint, sent signed) as it
happens. Each day of the range:

- new customers, each billing in one of USD, EUR, JPY and KWD;
- card payments in those currencies: most pay a finalized invoice, the rest are payments
  without an invoice; each writes Stripe's balance transaction with the fee and, for a
  currency other than the settlement currency, the ``exchange_rate``;
- a full or a partial refund of an earlier payment, and now and then a credit note;
- two disputes over the range (funds withdrawn with the dispute fee), closed a week later:
  the first won (funds reinstated), the second lost;
- one day (the "bad day") where refunds and a dispute withdrawal exceed the day's charges,
  so the automatic payout that pays that day out is negative: Stripe debits the bank
  account (https://docs.stripe.com/payouts#negative-balances);
- daily automatic payouts (https://docs.stripe.com/payouts), each of every available
  balance transaction not yet paid out, so its amount is exactly their net sum; a payout
  is paid (or, once, fails: its amount returns to the balance and the next payout pays it
  again) on its ``arrival_date``.

Funds become available two days after a payment, so the first payout is made on the third
day; the clock runs two days past the range, paying out its last days, so a range of N days
has N payouts (the disputes and the failed payout need six days, the bad day three). The
same seed, start and days on a sandbox of the same seed give the same business, byte for
byte: every choice comes from a :class:`random.Random` seeded with the seed, every amount
is an integer of minor units, and the clock (not real time) stamps every object.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .business import Account

Obj = dict[str, Any]
DAY = 86400
#: the currencies customers bill in, and the range of a payment in each (minor units)
AMOUNTS = {"usd": (1500, 60000), "eur": (1500, 50000), "jpy": (1500, 80000),
           "kwd": (5000, 150000)}
NAMES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
         "Tyrell", "Wonka", "Soylent", "Cyberdyne", "Aperture", "Gringotts", "Oscorp")


@dataclass
class Simulation:
    """What :func:`simulate` made: counts, and every payout with the balance after it."""

    start: int
    days: int
    counts: dict[str, int] = field(default_factory=dict)
    #: per payout: its id, amount, status, and ``GET /v1/balance`` right after it was made
    payouts: list[Obj] = field(default_factory=list)

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def as_json(self) -> Obj:
        return {"start": self.start, "days": self.days, "counts": dict(sorted(self.counts.items())),
                "payouts": self.payouts}


class _Business:
    """One simulation's state: its random choices and what it has made so far."""

    def __init__(self, account: Account, seed: str, start: int, days: int,
                 failed_payout: int, on_day: Callable[[int], None] | None = None) -> None:
        self.account = account
        self.on_day = on_day
        self.rng = random.Random(f"ledgerlink-stripe-simulation:{seed}")
        self.start, self.days = start, days
        self.result = Simulation(start, days)
        self.customers: list[Obj] = []
        self.charges: list[str] = []
        self.invoices: list[str] = []
        self.open_disputes: list[tuple[int, str, bool]] = []
        self.pending_payouts: list[str] = []
        self.failed_payout = failed_payout
        self.failed_id: str | None = None
        self.bad_day = days * 2 // 3 if days >= 3 else -1
        self.dispute_days = {days // 6: True, days // 2: False} if days >= 6 else {}

    # --- time ---------------------------------------------------------------------------
    def at(self, day: int, second: int) -> None:
        """Move the clock to ``second`` of ``day`` (never backwards)."""
        target = self.start + day * DAY + second
        now = int(self.account.clock.wall())
        if target > now:
            self.account.clock.advance(target - now)

    # --- the day's business -------------------------------------------------------------
    def new_customer(self) -> Obj:
        number = len(self.customers) + 1
        name = f"{self.rng.choice(NAMES)} {number:03d}"
        currency = self.rng.choice(tuple(AMOUNTS))
        customer = self.account.create_customer({
            "name": name, "email": f"billing{number:03d}@example.com",
            "metadata": {"currency": currency}})
        self.customers.append(customer)
        self.result.count("customers")
        return customer

    def payment(self) -> None:
        customer = self.rng.choice(self.customers)
        currency = customer["metadata"]["currency"]
        low, high = AMOUNTS[currency]
        amount = self.rng.randint(low, high)
        if self.rng.random() < 0.7:
            invoice = self.account.create_invoice({"customer": customer["id"], "currency": currency})
            self.account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"],
                                              "amount": amount, "description": "Services"})
            paid = self.account.pay_invoice(invoice["id"])
            self.invoices.append(paid["id"])
            self.charges.append(paid["charge"])
            self.result.count("invoices")
        else:
            intent = self.account.create_payment({"amount": amount, "currency": currency,
                                                  "customer": customer["id"],
                                                  "description": "Card payment"})
            self.charges.append(intent["latest_charge"])
        self.result.count(f"payments_{currency}")
        self.result.count("payments")

    def refundable(self) -> list[Obj]:
        store = self.account.store
        charges = (store.get("charge", ident) for ident in self.charges)
        return [charge for charge in charges if not charge["disputed"] and not charge["refunded"]]

    def refund(self, full: bool) -> None:
        candidates = self.refundable()
        if not candidates:
            return
        charge = self.rng.choice(candidates[-40:])
        left = charge["amount"] - charge["amount_refunded"]
        params: Obj = {"charge": charge["id"], "reason": "requested_by_customer"}
        if not full and left > 1:
            params["amount"] = self.rng.randint(1, left - 1)
        self.account.refund(params)
        self.result.count("refunds")
        if "amount" in params:
            self.result.count("refunds_partial")

    def credit_note(self) -> None:
        invoice = self.account.store.get("invoice", self.rng.choice(self.invoices[-30:]))
        amount = max(1, invoice["total"] // self.rng.choice((4, 5, 10)))
        self.account.create_credit_note({"invoice": invoice["id"], "amount": amount,
                                         "reason": "order_change", "memo": "Goodwill credit"})
        self.result.count("credit_notes")

    def open_dispute(self, day: int, won: bool) -> None:
        candidates = self.refundable()
        if not candidates:
            return
        charge = self.rng.choice(candidates[-20:])
        reason = self.rng.choice(("fraudulent", "product_not_received"))
        dispute = self.account.dispute(charge["id"], reason)
        self.open_disputes.append((min(day + 7, self.days - 1), dispute["id"], won))
        self.result.count("disputes")

    def close_disputes(self, day: int) -> None:
        for due, ident, won in list(self.open_disputes):
            if due <= day:
                self.account.close_dispute(ident, won=won)
                self.open_disputes.remove((due, ident, won))
                self.result.count("disputes_won" if won else "disputes_lost")

    def day_net(self, day: int) -> int:
        """The net of the day's payments, refunds and disputes: what its payout will pay."""
        since = self.start + day * DAY
        return sum(txn["net"] for txn in self.account.ledger.transactions()
                   if since <= txn["created"] < since + DAY
                   and txn["type"] not in ("payout", "payout_failure"))

    def business_day(self, day: int) -> None:
        """Customers, payments, refunds, credit notes and disputes, spread over the day."""
        for _ in range(8 if day == 0 else self.rng.randint(0, 2)):
            self.at(day, 8 * 3600)
            self.new_customer()
        count = 3 if day == self.bad_day else 11 + self.rng.randint(0, 2)
        for n in range(count):
            self.at(day, 9 * 3600 + n * 1800 + self.rng.randint(0, 1700))
            self.payment()
        self.at(day, 16 * 3600)
        if day > 0:
            self.refund(full=day % 2 == 0)
        if day % 3 == 2:
            self.at(day, 17 * 3600)
            self.credit_note()
        if day in self.dispute_days:
            self.at(day, 18 * 3600)
            self.open_dispute(day, self.dispute_days[day])
        self.at(day, 18 * 3600 + 1800)
        self.close_disputes(day)  # a dispute won today is reinstated before the bad day's sums
        if day == self.bad_day:
            self.at(day, 19 * 3600)
            self.open_dispute(day, False)
            while self.day_net(day) >= 0 and self.refundable():
                self.refund(full=True)

    # --- money out ----------------------------------------------------------------------
    def payout_day(self, day: int) -> None:
        """Pay out what became available, then settle the payouts arriving now."""
        ledger = self.account.ledger
        self.at(day, 3600)
        if sum(txn["net"] for txn in ledger.unpaid()) != 0:
            payout = ledger.payout({"description": "STRIPE PAYOUT"}, automatic=True)
            if len(self.result.payouts) == self.failed_payout:
                self.failed_id = payout["id"]
            self.pending_payouts.append(payout["id"])
            self.result.count("payouts")
            self.result.payouts.append({"id": payout["id"], "amount": payout["amount"],
                                        "balance": ledger.balance()})
        self.at(day, 3600 + 60)
        for ident in list(self.pending_payouts):
            if self.account.store.get("payout", ident)["arrival_date"] <= self.start + day * DAY + 3600:
                failed = ident == self.failed_id
                ledger.settle(ident, failed=failed)
                self.pending_payouts.remove(ident)
                self.result.count("payouts_failed" if failed else "payouts_paid")

    def run(self) -> Simulation:
        for day in range(self.days + 2):
            self.at(day, 0)
            if self.on_day is not None:
                self.on_day(day)
            self.payout_day(day)
            if day < self.days:
                self.business_day(day)
                self.at(day, 20 * 3600)
                self.close_disputes(day)  # the bad day's dispute, lost, on a short range
        day = self.days + 2
        while self.pending_payouts:  # the last payouts arrive in the bank
            self.at(day, 0)
            if self.on_day is not None:
                self.on_day(day)
            self.payout_day(day)
            day += 1
        for row in self.result.payouts:
            row["status"] = self.account.store.get("payout", row["id"])["status"]
        return self.result


def simulate(account: Account, seed: str, start: int | None = None, days: int = 30,
             on_day: Callable[[int], None] | None = None) -> Simulation:
    """Generate ``days`` days of business from ``start`` (Unix time; the clock's day by
    default) on ``account``; ``ValueError`` for a range that is not ahead of the clock.
    ``on_day(day)`` runs at midnight of each day (0, 1, …, the last payout's day), before
    anything of that day happens: what a client polling the account once a day sees."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise ValueError("days must be an integer from 1 to 366")
    now = int(account.clock.wall())
    first = now - now % DAY if start is None else start
    if isinstance(first, bool) or not isinstance(first, int) or first < now - now % DAY:
        raise ValueError("start must be a Unix time no earlier than the sandbox clock's day")
    first -= first % DAY
    return _Business(account, str(seed), first, days,
                     failed_payout=_failed_payout(days), on_day=on_day).run()


def _failed_payout(days: int) -> int:
    """Which payout fails (-1: none). Its amount comes back on its arrival date, two days
    later, and is paid out the next day: never by the negative payout, which pays out the
    bad day."""
    return -1 if days < 6 else 0 if days < 12 else days // 3 - 1


__all__ = ["Simulation", "simulate"]
