"""Money movements: card payments, refunds, disputes, payouts and the balance they leave.

Each movement writes Stripe's balance transaction
(https://docs.stripe.com/api/balance_transactions/object): ``amount`` and ``net`` in the
settlement currency, ``fee`` with ``fee_details`` (:mod:`.money` says what the sandbox
charges), ``exchange_rate`` when the payment's currency is not the settlement currency,
``available_on`` two days after the day it was created (Stripe's standard US schedule; a
payout and its failure at once), and
``type`` ``charge``, ``refund``, ``adjustment`` (disputes), ``payout`` or
``payout_failure``. A refund or dispute converts at the rate of the charge it reverses.
An automatic payout (https://docs.stripe.com/payouts) pays out every available balance
transaction of its currency not paid out yet, so its amount is exactly their net sum;
``GET /v1/balance_transactions?payout=`` lists them. When refunds and disputes exceed the
charges, that sum is negative and so is the payout: Stripe debits the bank account
(https://docs.stripe.com/payouts#negative-balances).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from . import money, objects, wire
from .store import Store

Obj = dict[str, Any]
DAY = 86400

#: balance transaction type -> Stripe's reporting category
CATEGORY = {"charge": "charge", "refund": "refund", "adjustment": "dispute",
            "payout": "payout", "payout_failure": "payout_reversal"}


class Ledger:
    """The balance transactions of one account settling in ``settlement``."""

    def __init__(self, store: Store, settlement: str) -> None:
        self.store = store
        self.settlement = settlement
        #: balance transaction id -> the automatic payout that paid it out
        self.payout_of: dict[str, str] = {}

    def record(self, kind: str, source: str, amount: int, fee: int, rate: Decimal | None,
               description: str | None, category: str | None = None,
               fee_description: str = "Stripe processing fees") -> Obj:
        """Write one balance transaction (amounts already in the settlement currency)."""
        created = self.store.now()
        immediate = kind in ("payout", "payout_failure")
        values = {"amount": amount, "fee": fee, "currency": self.settlement, "source": source,
                  "available_on": created if immediate else (created // DAY + 2) * DAY,
                  "type": kind,
                  "exchange_rate": rate, "description": description,
                  "reporting_category": category or CATEGORY[kind],
                  "fee_description": fee_description}
        return self.store.add(objects.balance_transaction(self.store.new_id("txn"), created, values))

    def charge(self, charge_id: str, amount: int, currency: str) -> Obj:
        settled, rate = money.convert(amount, currency, self.settlement)
        fee = money.card_fee(settled, self.settlement, rate is not None)
        return self.record("charge", charge_id, settled, fee, rate, "Payment")

    def refund(self, refund_id: str, amount: int, charge_txn: Obj, currency: str) -> Obj:
        settled = self._at_rate(amount, currency, charge_txn)
        return self.record("refund", refund_id, -settled, 0, charge_txn["exchange_rate"],
                           "REFUND FOR CHARGE")

    def dispute(self, dispute_id: str, amount: int, charge_txn: Obj, currency: str,
                withdrawn: bool) -> Obj:
        settled = self._at_rate(amount, currency, charge_txn)
        if withdrawn:
            return self.record("adjustment", dispute_id, -settled, money.dispute_fee(self.settlement),
                               charge_txn["exchange_rate"], "Chargeback withdrawal for charge",
                               "dispute", "Dispute fee")
        return self.record("adjustment", dispute_id, settled, 0, charge_txn["exchange_rate"],
                           "Chargeback reversal for charge", "dispute_reversal")

    def _at_rate(self, amount: int, currency: str, charge_txn: Obj) -> int:
        rate = charge_txn["exchange_rate"]
        if rate is None:
            return amount
        return money.to_minor(money.to_major(amount, currency) * Decimal(str(rate)), self.settlement)

    # --- the balance and payouts --------------------------------------------------------
    def transactions(self) -> list[Obj]:
        return list(self.store.objects["balance_transaction"].values())

    def balance(self) -> Obj:
        """``GET /v1/balance``: available and pending net amounts per currency."""
        now = self.store.now()
        available: dict[str, int] = defaultdict(int)
        pending: dict[str, int] = defaultdict(int)
        available[self.settlement] = 0
        pending[self.settlement] = 0
        for txn in self.transactions():
            (available if txn["available_on"] <= now else pending)[txn["currency"]] += txn["net"]
        def amounts(table: dict[str, int]) -> list[Obj]:
            return [{"amount": amount, "currency": currency, "source_types": {"card": amount}}
                    for currency, amount in sorted(table.items())]
        return {"object": "balance", "available": amounts(available), "livemode": False,
                "pending": amounts(pending)}

    def unpaid(self) -> list[Obj]:
        """Available balance transactions no automatic payout has paid out yet."""
        now = self.store.now()
        return [txn for txn in self.transactions()
                if txn["available_on"] <= now and txn["id"] not in self.payout_of
                and txn["type"] != "payout"]

    def payout(self, params: Obj, automatic: bool) -> Obj:
        """A payout: automatic (of every unpaid available transaction) or of ``amount``."""
        with self.store.lock:
            currency = params.get("currency", self.settlement)
            if currency != self.settlement:
                raise wire.invalid(f"You have insufficient funds in your Stripe account for this "
                                   f"transfer. Your card balance in {currency} is too low.", "currency",
                                   "balance_insufficient")
            included = self.unpaid() if automatic else []
            if automatic:
                amount = sum(txn["net"] for txn in included)
                if amount == 0:
                    raise wire.invalid("There is nothing to pay out: the available balance "
                                       "transactions add up to zero.", "amount")
            else:
                amount = wire.integer(params, "amount", minimum=1)
                if amount is None:
                    raise wire.invalid("Missing required param: amount.", "amount", "parameter_missing")
                available = sum(row["amount"] for row in self.balance()["available"]
                                if row["currency"] == currency)
                if amount > available:
                    raise wire.invalid("You have insufficient funds in your Stripe account for this "
                                       "transfer.", "amount", "balance_insufficient")
            store = self.store
            paid = store.add(objects.payout(store.new_id("po"), store.now(), amount, currency,
                                            params, automatic))
            txn = self.record("payout", paid["id"], -amount, 0, None, "STRIPE PAYOUT")
            paid["balance_transaction"] = txn["id"]
            for item in included + [txn]:
                self.payout_of[item["id"]] = paid["id"]
            store.emit("payout.created", paid)
            return paid

    def settle(self, payout_id: str, failed: bool = False) -> Obj:
        """The bank answered: ``payout.paid``, or ``payout.failed`` (funds back in balance)."""
        with self.store.lock:
            paid = self.store.get("payout", payout_id)
            if paid["status"] != "pending":
                raise wire.invalid(f"Payout {payout_id} is already {paid['status']}.", "payout")
            previous = {"status": paid["status"]}
            if failed:
                txn = self.record("payout_failure", paid["id"], paid["amount"], 0, None,
                                  "STRIPE PAYOUT FAILURE")
                paid.update(status="failed", failure_code="account_closed",
                            failure_message="The bank account has been closed.",
                            failure_balance_transaction=txn["id"])
                self.store.emit("payout.failed", paid, previous)
            else:
                paid["status"] = "paid"
                self.store.emit("payout.paid", paid, previous)
            return paid

    def in_payout(self, payout_id: str) -> set[str]:
        return {txn for txn, payout in self.payout_of.items() if payout == payout_id}


__all__ = ["Ledger"]
