"""``stripe.retrieve_customer``: a Stripe customer, read — what a recipe compares with the
ledger's copy when Stripe is the customers' source of truth (a person's edit of a field
Stripe owns, made in the ledger, is then reported as a conflict, not overwritten)."""

from __future__ import annotations

from .retrieve import described as _d, retrieve_action

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


RETRIEVE_CUSTOMER = retrieve_action(
    noun="customer", prefix="cus", objects="customers",
    summary="Reads a Stripe customer (name, email, phone, metadata).", output=OUTPUT, sample=SAMPLE)
