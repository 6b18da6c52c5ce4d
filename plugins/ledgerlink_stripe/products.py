"""``stripe.retrieve_product``: a Stripe product, read — what a recipe compares with the
ledger's item when Stripe is the items' source of truth (a person's edit, made in the ledger,
of a field Stripe owns is then reported as a conflict, not overwritten)."""

from __future__ import annotations

from .retrieve import described as _d, retrieve_action

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


RETRIEVE_PRODUCT = retrieve_action(
    noun="product", prefix="prod", objects="products",
    summary="Reads a Stripe product (name, description, active, metadata).", output=OUTPUT, sample=SAMPLE)
