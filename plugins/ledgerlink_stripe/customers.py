"""``stripe.retrieve_customer``: a Stripe customer, read — what a recipe compares with the
ledger's copy when Stripe is the customers' source of truth (a person's edit of a field
Stripe owns, made in the ledger, is then reported as a conflict, not overwritten)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext
from ledgerlink.contract.problems import begin, show

from . import api

CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]+$")


def _d(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, **schema}


INPUT = _d("The customer to read.", type="object", required=["customer"], additionalProperties=False,
           properties={"customer": _d("The Stripe customer's id (cus_…).", type="string",
                                      pattern=CUSTOMER_ID.pattern)})
OUTPUT = _d("The customer as Stripe returns it (docs.stripe.com/api/customers/object).", type="object",
            required=["id"], properties={
                "id": _d("The customer's id.", type="string"),
                "name": _d("The customer's full name or business name.", type=["string", "null"]),
                "email": _d("The customer's email address.", type=["string", "null"]),
                "phone": _d("The customer's phone number.", type=["string", "null"]),
                "metadata": _d("The customer's metadata.", type="object")})
SAMPLE = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "Jenny Rosen",
          "email": "jennyrosen@example.com", "phone": None, "currency": "usd", "metadata": {},
          "created": 1680893993, "livemode": False}


def retrieve_customer(data: Mapping[str, Any], ctx: ActionContext):
    """GET /v1/customers/{id}."""
    problems = begin("stripe.retrieve_customer", "a Stripe customer read", data, INPUT["properties"])
    customer = data.get("customer")
    if not isinstance(customer, str) or not CUSTOMER_ID.match(customer):
        problems.add("/customer", f"customer must be a Stripe customer id (cus_…), got {show(customer)}")
    problems.raise_if_any()
    return api.checked((yield api.get(ctx, "/v1/customers/{}", str(customer))))


RETRIEVE_CUSTOMER = Action(
    name="stripe.retrieve_customer", summary="Reads a Stripe customer (name, email, phone, metadata).",
    input_schema=INPUT, output_schema=OUTPUT, sample={"customer": "cus_NffrFeUfNV2Hib"},
    sample_response=SAMPLE, perform=retrieve_customer, idempotency="none")
