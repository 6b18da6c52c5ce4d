"""What happens in a Stripe account, as Python methods: the sandbox's state.

:class:`Account` is driven in-process (a simulated business generator calls its methods
directly) and over HTTP (:mod:`.api` calls the same methods with the request's
parameters, as Stripe's form-decoded strings)::

    account = create_sandbox().sandbox.account
    cus = account.create_customer({"name": "Ada", "email": "ada@example.com"})
    inv = account.create_invoice({"customer": cus["id"], "currency": "eur"})
    account.create_invoice_item({"customer": cus["id"], "invoice": inv["id"], "amount": "1250"})
    account.pay_invoice(inv["id"])              # a card payment: charge, fee, exchange rate
    account.refund({"charge": inv["charge"], "amount": "250"})
    dispute = account.dispute(inv["charge"])    # funds withdrawn with the dispute fee
    account.close_dispute(dispute["id"], won=True)
    account.clock.advance(3 * 86400)            # the funds become available
    payout = account.ledger.payout({}, automatic=True)
    account.ledger.settle(payout["id"])         # payout.paid

Parameters are Stripe's (https://docs.stripe.com/api); amounts are integer minor units,
given as strings or ints. Every change records its Event (:meth:`.store.Store.emit`).
"""

from __future__ import annotations

import copy
from typing import Any

from ledgerlink.testing.sandbox import SandboxClock

from . import money, objects, wire
from .ledger import Ledger
from .store import Store

Obj = dict[str, Any]


def _amount(params: Obj, name: str = "amount") -> int:
    value = params.get(name)
    value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    number = wire.integer({name: value}, name, minimum=1)
    if number is None:
        raise wire.invalid(f"Missing required param: {name}.", name, "parameter_missing")
    return number


def _flag(params: Obj, name: str) -> bool | None:
    """A boolean parameter: a bool (driven in-process) or Stripe's ``true``/``false``."""
    value = params.get(name)
    return value if isinstance(value, bool) else wire.boolean(params, name)


def _currency(params: Obj, default: str | None) -> str:
    currency = params.get("currency") or default
    if not isinstance(currency, str) or not money.supported(currency):
        raise wire.invalid(f"Invalid currency: {currency}.", "currency")
    return currency.lower()


class Account:
    """One Stripe account in test mode: its objects, ledger and events."""

    def __init__(self, seed: str, clock: SandboxClock, settlement: str = "usd") -> None:
        self.clock = clock
        self.store = Store(seed, clock)
        self.settlement = settlement
        self.ledger = Ledger(self.store, settlement)
        self._numbers = 0

    def _changed(self, kind: str, obj: Obj, before: Obj) -> Obj:
        previous = {key: before[key] for key in before if before[key] != obj.get(key)}
        self.store.emit(kind, obj, previous)
        return obj

    # --- customers ----------------------------------------------------------------------
    def create_customer(self, params: Obj) -> Obj:
        with self.store.lock:
            obj = objects.customer(self.store.new_id("cus"), self.store.now(), params)
            self.store.add(obj)
            self.store.emit("customer.created", obj)
            return obj

    def update_customer(self, ident: str, params: Obj) -> Obj:
        with self.store.lock:
            obj = self.store.get("customer", ident)
            before = copy.deepcopy(obj)
            for field in ("name", "email", "description"):
                if field in params:
                    obj[field] = params[field] or None
            if params.get("metadata") is not None:
                obj["metadata"] = _merged(obj["metadata"], params["metadata"])
            return self._changed("customer.updated", obj, before)

    # --- products -----------------------------------------------------------------------
    def create_product(self, params: Obj) -> Obj:
        with self.store.lock:
            if not params.get("name"):
                raise wire.invalid("Missing required param: name.", "name", "parameter_missing")
            active = _flag(params, "active")
            obj = objects.product(self.store.new_id("prod"), self.store.now(),
                                  {**params, "active": True if active is None else active})
            self.store.add(obj)
            self.store.emit("product.created", obj)
            return obj

    def update_product(self, ident: str, params: Obj) -> Obj:
        with self.store.lock:
            obj = self.store.get("product", ident)
            before = copy.deepcopy(obj)
            if "name" in params and not params["name"]:
                raise wire.invalid("You must provide a non-empty name.", "name")
            for field in ("name", "description"):
                if field in params:
                    obj[field] = params[field] or None
            if _flag(params, "active") is not None:
                obj["active"] = _flag(params, "active")
            if params.get("metadata") is not None:
                obj["metadata"] = _merged(obj["metadata"], params["metadata"])
            if obj != before:
                obj["updated"] = self.store.now()
            return self._changed("product.updated", obj, before)

    # --- invoices -----------------------------------------------------------------------
    def create_invoice_item(self, params: Obj) -> Obj:
        with self.store.lock:
            customer = self.store.get("customer", params.get("customer"), "customer")
            invoice = None
            if params.get("invoice"):
                invoice = self.store.get("invoice", params["invoice"], "invoice")
                if invoice["status"] != "draft":
                    raise wire.invalid("You can only add invoice items to draft invoices.", "invoice")
            currency = _currency(params, invoice["currency"] if invoice else customer["currency"])
            item = objects.invoice_item(self.store.new_id("ii"), self.store.now(), params,
                                        _amount(params), currency)
            self.store.add(item)
            if invoice is not None:
                self._add_line(invoice, item)
            return item

    def _add_line(self, invoice: Obj, item: Obj) -> None:
        if item["currency"] != invoice["currency"]:
            raise wire.invalid("The currency of the invoice item must match the invoice's.", "currency")
        item["invoice"] = invoice["id"]
        lines = invoice["lines"]
        lines["data"].append(objects.line_item(self.store.new_id("il"), item))
        lines["total_count"] = len(lines["data"])
        total = sum(line["amount"] for line in lines["data"])
        invoice.update(subtotal=total, subtotal_excluding_tax=total, total=total,
                       total_excluding_tax=total, amount_due=total, amount_remaining=total)

    def create_invoice(self, params: Obj) -> Obj:
        with self.store.lock:
            customer = self.store.get("customer", params.get("customer"), "customer")
            currency = _currency(params, customer["currency"] or self.settlement)
            obj = objects.invoice(self.store.new_id("in"), self.store.now(), params, customer, currency)
            if params.get("auto_advance") is not None:
                obj["auto_advance"] = params["auto_advance"] == "true"
            self.store.add(obj)
            if params.get("pending_invoice_items_behavior") == "include":
                for item in list(self.store.objects["invoiceitem"].values()):
                    if item["customer"] == customer["id"] and item["invoice"] is None \
                            and item["currency"] == currency:
                        self._add_line(obj, item)
            self.store.emit("invoice.created", obj)
            return obj

    def update_invoice(self, ident: str, params: Obj) -> Obj:
        with self.store.lock:
            obj = self.store.get("invoice", ident)
            before = copy.deepcopy(obj)
            if "description" in params:
                if obj["status"] != "draft":
                    raise wire.invalid("Finalized invoices can't be updated in this way",
                                       "description")
                obj["description"] = params["description"] or None
            if params.get("metadata") is not None:
                obj["metadata"] = _merged(obj["metadata"], params["metadata"])
            return self._changed("invoice.updated", obj, before)

    def finalize_invoice(self, ident: str) -> Obj:
        with self.store.lock:
            obj = self.store.get("invoice", ident)
            if obj["status"] != "draft":
                raise wire.invalid("This invoice is already finalized, you can't re-finalize a "
                                   "non-draft invoice.", None, "invoice_not_editable")
            before = copy.deepcopy(obj)
            customer = self.store.get("customer", obj["customer"])
            now = self.store.now()
            obj.update(status="open", number=f"{customer['invoice_prefix']}-"
                       f"{customer['next_invoice_sequence']:04d}", effective_at=now,
                       period_end=now, ending_balance=0)
            customer["next_invoice_sequence"] += 1
            obj["status_transitions"]["finalized_at"] = now
            self._changed("invoice.finalized", obj, before)
            return obj

    def pay_invoice(self, ident: str, paid_out_of_band: bool = False) -> Obj:
        """Pay an open invoice by card (a draft one is finalized first) or out of band."""
        with self.store.lock:
            obj = self.store.get("invoice", ident)
            if obj["status"] == "draft":
                self.finalize_invoice(ident)
            if obj["status"] == "paid":
                raise wire.invalid("Invoice is already paid", None, "invoice_already_paid")
            if obj["status"] not in ("open", "uncollectible"):
                raise wire.invalid(f"You cannot pay an invoice with status {obj['status']}.", None,
                                   "invoice_not_payable")
            before = copy.deepcopy(obj)
            if not paid_out_of_band and obj["amount_due"] > 0:
                paid = self.create_payment({"amount": obj["amount_due"], "currency": obj["currency"],
                                            "customer": obj["customer"]}, invoice=obj["id"])
                obj.update(charge=paid["latest_charge"], payment_intent=paid["id"])
            now = self.store.now()
            obj.update(status="paid", paid=True, paid_out_of_band=paid_out_of_band,
                       amount_paid=obj["amount_due"], amount_remaining=0, attempted=True,
                       attempt_count=0 if paid_out_of_band else 1)
            obj["status_transitions"]["paid_at"] = now
            if not paid_out_of_band:
                self.store.emit("invoice.payment_succeeded", obj, None)
            return self._changed("invoice.paid", obj, before)

    def _close_invoice(self, ident: str, status: str, stamp: str, kind: str) -> Obj:
        with self.store.lock:
            obj = self.store.get("invoice", ident)
            if obj["status"] not in ("open", "uncollectible") or obj["status"] == status:
                raise wire.invalid(f"You can only {kind.split('.')[1].replace('_', ' ')} an open "
                                   f"invoice; this one is {obj['status']}.", None,
                                   "invoice_not_editable")
            before = copy.deepcopy(obj)
            obj["status"] = status
            obj["status_transitions"][stamp] = self.store.now()
            if status == "void":
                obj["amount_remaining"] = 0
            return self._changed(kind, obj, before)

    def void_invoice(self, ident: str) -> Obj:
        return self._close_invoice(ident, "void", "voided_at", "invoice.voided")

    def mark_uncollectible(self, ident: str) -> Obj:
        return self._close_invoice(ident, "uncollectible", "marked_uncollectible_at",
                                   "invoice.marked_uncollectible")

    # --- payments -----------------------------------------------------------------------
    def create_payment(self, params: Obj, invoice: str | None = None) -> Obj:
        """A succeeded card payment: its PaymentIntent, Charge and balance transaction."""
        with self.store.lock:
            customer = params.get("customer")
            if customer:
                self.store.get("customer", customer, "customer")
            amount, currency = _amount(params), _currency(params, None)
            now = self.store.now()
            intent = objects.payment_intent(self.store.new_id("pi"), now, amount, currency,
                                            customer or None, invoice, params)
            charge_id = self.store.new_id("ch")
            txn = self.ledger.charge(charge_id, amount, currency)
            charge = objects.charge(charge_id, now, intent, txn["id"])
            intent["latest_charge"] = charge_id
            self.store.add(intent)
            self.store.add(charge)
            self.store.emit("payment_intent.succeeded", intent)
            self.store.emit("charge.succeeded", charge)
            return intent

    def create_payment_intent(self, params: Obj) -> Obj:
        """``POST /v1/payment_intents``: with ``confirm=true`` and a test payment method
        (``pm_card_visa``) it succeeds at once; otherwise it waits for a payment method or
        its confirmation (the sandbox does not confirm later)."""
        method = params.get("payment_method")
        if wire.boolean(params, "confirm"):
            if not method:
                raise wire.invalid("You cannot confirm this PaymentIntent because it's missing a "
                                   "payment method.", "payment_method",
                                   "payment_intent_unexpected_state")
            return self.create_payment(params)
        with self.store.lock:
            amount, currency = _amount(params), _currency(params, None)
            if params.get("customer"):
                self.store.get("customer", params["customer"], "customer")
            intent = objects.payment_intent(self.store.new_id("pi"), self.store.now(), amount,
                                            currency, params.get("customer") or None, None, params)
            intent.update(amount_received=0, payment_method=method or None, latest_charge=None,
                          status="requires_confirmation" if method else "requires_payment_method")
            self.store.add(intent)
            self.store.emit("payment_intent.created", intent)
            return intent

    def create_charge(self, params: Obj) -> Obj:
        """``POST /v1/charges`` with a test ``source`` (``tok_visa``): a succeeded charge."""
        if not params.get("source") and not params.get("customer"):
            raise wire.invalid("Must provide source or customer.", "source", "parameter_missing")
        intent = self.create_payment(params)
        return self.store.get("charge", intent["latest_charge"])

    def refund(self, params: Obj) -> Obj:
        """A full (no ``amount``) or partial refund of a charge."""
        with self.store.lock:
            charge = self.store.get("charge", params.get("charge"), "charge")
            left = charge["amount"] - charge["amount_refunded"]
            amount = _amount(params) if params.get("amount") is not None else left
            if charge["disputed"]:
                raise wire.invalid(f"Charge {charge['id']} has been charged back; cannot issue a "
                                   "refund.", "charge", "charge_disputed")
            if amount > left:
                raise wire.invalid(f"Refund amount ({amount}) is greater than unrefunded amount "
                                   f"on charge ({left})", "amount", "amount_too_large")
            refund_id = self.store.new_id("re")
            charge_txn = self.store.get("balance_transaction", charge["balance_transaction"])
            txn = self.ledger.refund(refund_id, amount, charge_txn, charge["currency"])
            obj = self.store.add(objects.refund(refund_id, self.store.now(), charge, amount,
                                                txn["id"], params))
            before = copy.deepcopy(charge)
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            self.store.emit("charge.refunded", charge, {key: before[key] for key in
                                                         ("amount_refunded", "refunded")
                                                         if before[key] != charge[key]})
            self.store.emit("refund.created", obj)
            return obj

    def dispute(self, charge_id: str, reason: str = "fraudulent") -> Obj:
        """The cardholder disputes the whole charge: funds withdrawn with the dispute fee."""
        with self.store.lock:
            charge = self.store.get("charge", charge_id, "charge")
            if charge["disputed"]:
                raise wire.invalid(f"Charge {charge_id} is already disputed.", "charge")
            obj = objects.dispute(self.store.new_id("dp"), self.store.now(), charge, reason)
            charge_txn = self.store.get("balance_transaction", charge["balance_transaction"])
            txn = self.ledger.dispute(obj["id"], charge["amount"], charge_txn, charge["currency"], True)
            obj["balance_transactions"].append(txn)
            charge["disputed"] = True
            self.store.add(obj)
            self.store.emit("charge.dispute.created", obj)
            self.store.emit("charge.dispute.funds_withdrawn", obj)
            return obj

    def close_dispute(self, ident: str, won: bool) -> Obj:
        """The dispute ends: won (funds reinstated, the fee kept by Stripe) or lost."""
        with self.store.lock:
            obj = self.store.get("dispute", ident)
            if obj["status"] in ("won", "lost"):
                raise wire.invalid(f"Dispute {ident} is already closed.", "dispute")
            before = copy.deepcopy(obj)
            if won:
                charge = self.store.get("charge", obj["charge"])
                charge_txn = self.store.get("balance_transaction", charge["balance_transaction"])
                txn = self.ledger.dispute(ident, obj["amount"], charge_txn, obj["currency"], False)
                obj["balance_transactions"].append(txn)
                self.store.emit("charge.dispute.funds_reinstated", obj)
            obj["status"] = "won" if won else "lost"
            return self._changed("charge.dispute.closed", obj, before)

    def create_credit_note(self, params: Obj) -> Obj:
        with self.store.lock:
            invoice = self.store.get("invoice", params.get("invoice"), "invoice")
            if invoice["status"] not in ("open", "paid"):
                raise wire.invalid("You can only create a credit note for an open or paid "
                                   "invoice.", "invoice")
            amount = _amount(params)
            if amount > invoice["total"]:
                raise wire.invalid("The credit note amount exceeds the invoice total.", "amount")
            self._numbers += 1
            obj = objects.credit_note(self.store.new_id("cn"), self.store.now(), invoice, amount,
                                      f"{invoice['number']}-CN-{self._numbers:02d}",
                                      self.store.new_id("cnli"), params)
            self.store.add(obj)
            self.store.emit("credit_note.created", obj)
            return obj


def _merged(current: Obj, update: Obj) -> Obj:
    """Stripe's metadata update: keys set, ``""`` unsets, the rest kept."""
    merged = dict(current) if update else {}
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


__all__ = ["Account"]
