"""Stripe's objects as the sandbox writes them, with the fields of the 2023-08-16 API.

Each builder returns the JSON object Stripe's API reference documents
(https://docs.stripe.com/api/customers/object, …/invoices/object, …/charges/object,
…/payment_intents/object, …/refunds/object, …/disputes/object,
…/balance_transactions/object, …/payouts/object, …/credit_notes/object, …/products/object,
…/events/object), with every field Stripe always sends; fields the sandbox does not
imitate are ``null`` or empty, as Stripe sends them for an account that does not use the
feature. The state (:mod:`.state`) keeps these dicts and changes them in place.
"""

from __future__ import annotations

from typing import Any

API_VERSION = "2023-08-16"

Obj = dict[str, Any]


def customer(ident: str, created: int, params: Obj) -> Obj:
    return {"id": ident, "object": "customer", "address": None, "balance": 0, "created": created,
            "currency": params.get("currency"), "default_source": None, "delinquent": False,
            "description": params.get("description"), "discount": None, "email": params.get("email"),
            "invoice_prefix": ident[4:12].upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                                 "footer": None, "rendering_options": None},
            "livemode": False, "metadata": params.get("metadata") or {},
            "name": params.get("name"), "next_invoice_sequence": 1, "phone": None,
            "preferred_locales": [], "shipping": None, "tax_exempt": "none",
            "test_clock": None}


def product(ident: str, created: int, params: Obj) -> Obj:
    return {"id": ident, "object": "product", "active": params.get("active", True), "created": created,
            "default_price": None, "description": params.get("description") or None, "features": [],
            "images": [], "livemode": False, "metadata": params.get("metadata") or {},
            "name": params["name"], "package_dimensions": None, "shippable": None,
            "statement_descriptor": None, "tax_code": None, "unit_label": None, "updated": created,
            "url": None}


def line_item(ident: str, item: Obj) -> Obj:
    return {"id": ident, "object": "line_item", "amount": item["amount"],
            "amount_excluding_tax": item["amount"], "currency": item["currency"],
            "description": item["description"], "discount_amounts": [], "discountable": True,
            "discounts": [], "invoice_item": item["id"], "livemode": False,
            "metadata": dict(item["metadata"]), "period": dict(item["period"]), "plan": None,
            "price": None, "proration": False, "proration_details": {"credited_items": None},
            "quantity": 1, "subscription": None, "tax_amounts": [], "tax_rates": [],
            "type": "invoiceitem", "unit_amount_excluding_tax": str(item["amount"])}


def invoice_item(ident: str, created: int, params: Obj, amount: int, currency: str) -> Obj:
    return {"id": ident, "object": "invoiceitem", "amount": amount, "currency": currency,
            "customer": params["customer"], "date": created,
            "description": params.get("description"), "discountable": True, "discounts": [],
            "invoice": params.get("invoice"), "livemode": False,
            "metadata": params.get("metadata") or {},
            "period": {"start": created, "end": created}, "plan": None, "price": None,
            "proration": False, "quantity": 1, "subscription": None, "tax_rates": [],
            "test_clock": None, "unit_amount": amount, "unit_amount_decimal": str(amount)}


def invoice(ident: str, created: int, params: Obj, customer_obj: Obj, currency: str) -> Obj:
    method = params.get("collection_method", "charge_automatically")
    return {
        "id": ident, "object": "invoice", "account_country": "US", "account_name": "Sandbox",
        "account_tax_ids": None, "amount_due": 0, "amount_paid": 0, "amount_remaining": 0,
        "amount_shipping": 0, "application": None, "application_fee_amount": None,
        "attempt_count": 0, "attempted": False, "auto_advance": False,
        "automatic_tax": {"enabled": False, "status": None},
        "billing_reason": "manual", "charge": None, "collection_method": method,
        "created": created, "currency": currency, "custom_fields": None,
        "customer": customer_obj["id"], "customer_address": None,
        "customer_email": customer_obj["email"], "customer_name": customer_obj["name"],
        "customer_phone": None, "customer_shipping": None, "customer_tax_exempt": "none",
        "customer_tax_ids": [], "default_payment_method": None, "default_source": None,
        "default_tax_rates": [], "description": params.get("description"), "discount": None,
        "discounts": [], "due_date": None, "effective_at": None, "ending_balance": None,
        "footer": None, "from_invoice": None, "hosted_invoice_url": None, "invoice_pdf": None,
        "last_finalization_error": None, "latest_revision": None,
        "lines": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                  "url": f"/v1/invoices/{ident}/lines"},
        "livemode": False, "metadata": params.get("metadata") or {},
        "next_payment_attempt": None, "number": None, "on_behalf_of": None, "paid": False,
        "paid_out_of_band": False, "payment_intent": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": created, "period_start": created, "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0, "quote": None, "receipt_number": None,
        "rendering": None, "rendering_options": None, "shipping_cost": None,
        "shipping_details": None, "starting_balance": 0, "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None,
                               "paid_at": None, "voided_at": None},
        "subscription": None, "subscription_details": {"metadata": None}, "subtotal": 0,
        "subtotal_excluding_tax": 0, "tax": None, "test_clock": None, "total": 0,
        "total_discount_amounts": [], "total_excluding_tax": 0, "total_tax_amounts": [],
        "transfer_data": None, "webhooks_delivered_at": None,
    }


def payment_intent(ident: str, created: int, amount: int, currency: str, customer_id: str | None,
                   invoice_id: str | None, params: Obj) -> Obj:
    return {"id": ident, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_details": {"tip": {}}, "amount_received": amount, "application": None,
            "application_fee_amount": None, "automatic_payment_methods": None,
            "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic",
            "client_secret": f"{ident}_secret_sandbox", "confirmation_method": "automatic",
            "created": created, "currency": currency, "customer": customer_id,
            "description": params.get("description"), "invoice": invoice_id,
            "last_payment_error": None, "latest_charge": None, "livemode": False,
            "metadata": params.get("metadata") or {}, "next_action": None, "on_behalf_of": None,
            "payment_method": "pm_card_visa", "payment_method_options": {},
            "payment_method_types": ["card"], "processing": None, "receipt_email": None,
            "review": None, "setup_future_usage": None, "shipping": None, "source": None,
            "statement_descriptor": None, "statement_descriptor_suffix": None,
            "status": "succeeded", "transfer_data": None, "transfer_group": None}


def charge(ident: str, created: int, intent: Obj, txn_id: str) -> Obj:
    return {"id": ident, "object": "charge", "amount": intent["amount"],
            "amount_captured": intent["amount"], "amount_refunded": 0, "application": None,
            "application_fee": None, "application_fee_amount": None,
            "balance_transaction": txn_id,
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "calculated_statement_descriptor": "SANDBOX", "captured": True, "created": created,
            "currency": intent["currency"], "customer": intent["customer"],
            "description": intent["description"], "disputed": False,
            "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
            "fraud_details": {}, "invoice": intent["invoice"], "livemode": False,
            "metadata": dict(intent["metadata"]), "on_behalf_of": None,
            "outcome": {"network_status": "approved_by_network", "reason": None,
                        "risk_level": "normal", "risk_score": 20, "seller_message": "Payment complete.",
                        "type": "authorized"},
            "paid": True, "payment_intent": intent["id"], "payment_method": "pm_card_visa",
            "payment_method_details": {"card": {"brand": "visa", "checks": None, "country": "US",
                                                "exp_month": 12, "exp_year": 2034,
                                                "fingerprint": "sandbox", "funding": "credit",
                                                "last4": "4242", "network": "visa",
                                                "three_d_secure": None, "wallet": None},
                                       "type": "card"},
            "receipt_email": None, "receipt_number": None, "receipt_url": None, "refunded": False,
            "review": None, "shipping": None, "source_transfer": None,
            "statement_descriptor": None, "statement_descriptor_suffix": None,
            "status": "succeeded", "transfer_data": None, "transfer_group": None}


def refund(ident: str, created: int, charge_obj: Obj, amount: int, txn_id: str, params: Obj) -> Obj:
    return {"id": ident, "object": "refund", "amount": amount, "balance_transaction": txn_id,
            "charge": charge_obj["id"], "created": created, "currency": charge_obj["currency"],
            "metadata": params.get("metadata") or {}, "payment_intent": charge_obj["payment_intent"],
            "reason": params.get("reason"), "receipt_number": None, "source_transfer_reversal": None,
            "status": "succeeded", "transfer_reversal": None}


def dispute(ident: str, created: int, charge_obj: Obj, reason: str) -> Obj:
    return {"id": ident, "object": "dispute", "amount": charge_obj["amount"],
            "balance_transactions": [], "charge": charge_obj["id"], "created": created,
            "currency": charge_obj["currency"], "evidence": {},
            "evidence_details": {"due_by": created + 7 * 86400, "has_evidence": False,
                                 "past_due": False, "submission_count": 0},
            "is_charge_refundable": False, "livemode": False, "metadata": {},
            "payment_intent": charge_obj["payment_intent"], "reason": reason,
            "status": "needs_response"}


def balance_transaction(ident: str, created: int, values: Obj) -> Obj:
    fee = values["fee"]
    return {"id": ident, "object": "balance_transaction", "amount": values["amount"],
            "available_on": values["available_on"], "created": created,
            "currency": values["currency"], "description": values.get("description"),
            "exchange_rate": values.get("exchange_rate"), "fee": fee,
            "fee_details": ([{"amount": fee, "application": None, "currency": values["currency"],
                              "description": values.get("fee_description", "Stripe processing fees"),
                              "type": "stripe_fee"}] if fee else []),
            "net": values["amount"] - fee, "reporting_category": values["reporting_category"],
            "source": values["source"], "status": "pending", "type": values["type"]}


def payout(ident: str, created: int, amount: int, currency: str, params: Obj, automatic: bool) -> Obj:
    return {"id": ident, "object": "payout", "amount": amount, "arrival_date": created + 2 * 86400,
            "automatic": automatic, "balance_transaction": None, "created": created,
            "currency": currency, "description": params.get("description"),
            "destination": "ba_sandbox", "failure_balance_transaction": None,
            "failure_code": None, "failure_message": None, "livemode": False,
            "metadata": params.get("metadata") or {}, "method": "standard",
            "original_payout": None, "reconciliation_status": "completed",
            "reversed_by": None, "source_type": "card", "statement_descriptor": None,
            "status": "pending", "type": "bank_account"}


def credit_note(ident: str, created: int, invoice_obj: Obj, amount: int, number: str,
                line_id: str, params: Obj) -> Obj:
    return {"id": ident, "object": "credit_note", "amount": amount, "amount_shipping": 0,
            "created": created, "currency": invoice_obj["currency"],
            "customer": invoice_obj["customer"], "customer_balance_transaction": None,
            "discount_amount": 0, "discount_amounts": [], "effective_at": created,
            "invoice": invoice_obj["id"],
            "lines": {"object": "list", "has_more": False, "url": f"/v1/credit_notes/{ident}/lines",
                      "data": [{"id": line_id, "object": "credit_note_line_item", "amount": amount,
                                "amount_excluding_tax": amount, "description": "Credit",
                                "discount_amount": 0, "discount_amounts": [],
                                "livemode": False, "quantity": 1, "tax_amounts": [], "tax_rates": [],
                                "type": "custom_line_item", "unit_amount": amount,
                                "unit_amount_decimal": str(amount),
                                "unit_amount_excluding_tax": str(amount)}]},
            "livemode": False, "memo": params.get("memo"), "metadata": params.get("metadata") or {},
            "number": number, "out_of_band_amount": None,
            "pdf": f"https://pay.stripe.com/credit_notes/sandbox/{ident}/pdf",
            "reason": params.get("reason"), "refund": None, "shipping_cost": None,
            "status": "issued", "subtotal": amount, "subtotal_excluding_tax": amount,
            "tax_amounts": [], "total": amount, "total_excluding_tax": amount,
            "type": "post_payment" if invoice_obj["status"] == "paid" else "pre_payment",
            "voided_at": None}


def event(ident: str, created: int, kind: str, obj: Obj, previous: Obj | None,
          request_id: str | None, idempotency_key: str | None, pending: int) -> Obj:
    data: Obj = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {"id": ident, "object": "event", "api_version": API_VERSION,
            "created": created, "data": data, "livemode": False, "pending_webhooks": pending,
            "request": {"id": request_id, "idempotency_key": idempotency_key}, "type": kind}


__all__ = ["API_VERSION", "balance_transaction", "charge", "credit_note", "customer", "dispute",
           "event", "invoice", "invoice_item", "line_item", "payment_intent", "payout", "refund"]
