"""``stripe.retrieve_product``: a Stripe product, read — what a recipe compares with the
ledger's item when Stripe is the items' source of truth (a person's edit, made in the ledger,
of a field Stripe owns is then reported as a conflict, not overwritten)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext
from ledgerlink.contract.problems import begin, show

from . import api

PRODUCT_ID = re.compile(r"^prod_[A-Za-z0-9]+$")


def _d(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, **schema}


INPUT = _d("The product to read.", type="object", required=["product"], additionalProperties=False,
           properties={"product": _d("The Stripe product's id (prod_…).", type="string",
                                     pattern=PRODUCT_ID.pattern)})
OUTPUT = _d("The product as Stripe returns it (docs.stripe.com/api/products/object).", type="object",
            required=["id", "name", "active"], properties={
                "id": _d("The product's id.", type="string"),
                "name": _d("The product's name, meant to be displayable to the customer.", type="string"),
                "description": _d("The product's description.", type=["string", "null"]),
                "active": _d("Whether the product is currently available for purchase.", type="boolean"),
                "default_price": _d("The id of the product's default price, if any.", type=["string", "null"]),
                "metadata": _d("The product's metadata.", type="object")})
SAMPLE = {"id": "prod_Oaxlh23kWPWslc", "object": "product", "active": True, "name": "T-shirt",
          "description": "Comfortable gray cotton t-shirt", "default_price": "price_1NnlpWGPxmnHQRkJyLCdZtRh",
          "metadata": {}, "created": 1234567890, "updated": 1234567890, "livemode": False}


def retrieve_product(data: Mapping[str, Any], ctx: ActionContext):
    """GET /v1/products/{id}."""
    problems = begin("stripe.retrieve_product", "a Stripe product read", data, INPUT["properties"])
    product = data.get("product")
    if not isinstance(product, str) or not PRODUCT_ID.match(product):
        problems.add("/product", f"product must be a Stripe product id (prod_…), got {show(product)}")
    problems.raise_if_any()
    return api.checked((yield api.get(ctx, "/v1/products/{}", str(product))))


RETRIEVE_PRODUCT = Action(
    name="stripe.retrieve_product", summary="Reads a Stripe product (name, description, active, metadata).",
    input_schema=INPUT, output_schema=OUTPUT, sample={"product": "prod_Oaxlh23kWPWslc"},
    sample_response=SAMPLE, perform=retrieve_product, idempotency="none")
