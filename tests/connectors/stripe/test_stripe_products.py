"""Stripe products: the sandbox's ``/v1/products`` read by the official ``stripe`` SDK, the
``product.created`` / ``product.updated`` events it sends (in Stripe's shape, validated by the
triggers' schemas and Stripe's spec), and ``stripe.retrieve_product`` against it over loopback."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest
import stripe

import ledgerlink_stripe
from ledgerlink.errors import InputError, VendorError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe import api
from ledgerlink_stripe.actions import ACTIONS
from ledgerlink_stripe.products import RETRIEVE_PRODUCT
import test_stripe_sandbox

KEY = "sk_test_sandbox"
spec_errors = test_stripe_sandbox.spec_errors  # the fixture: an object's errors against Stripe's spec


@pytest.fixture
def served():
    app = create_sandbox(seed="products", rate_limit=False)
    with running(app) as loopback:
        yield loopback
    app.sandbox.stop()


def _trigger_errors(event: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(ledgerlink_stripe.event_schema(event["type"]))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(event)]


def test_stripe_python_creates_updates_retrieves_and_lists_products(served, spec_errors):
    client = stripe.StripeClient(KEY, base_addresses={"api": served.url}, max_network_retries=0)
    made = client.v1.products.create({"name": "Bird food", "description": "Seeds, 1 kg",
                                      "metadata": {"sku": "BF-1"}})
    assert (made.name, made.description, made.active, made.metadata["sku"]) == ("Bird food", "Seeds, 1 kg", True, "BF-1")
    served.sandbox.clock.advance(60)
    renamed = client.v1.products.update(made.id, {"name": "Bird seed", "active": False})
    assert (renamed.name, renamed.description, renamed.active) == ("Bird seed", "Seeds, 1 kg", False)
    assert renamed.updated == made.updated + 60
    assert client.v1.products.retrieve(made.id).name == "Bird seed"
    other = client.v1.products.create({"name": "Nest box"})
    assert [p.id for p in client.v1.products.list({"active": False}).data] == [made.id]
    assert [p.id for p in client.v1.products.list().auto_paging_iter()] == [other.id, made.id]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.products.create({"description": "no name"})
    assert refused.value.param == "name"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.retrieve("prod_missing")
    assert missing.value.code == "resource_missing"

    events = {e.type: e for e in client.v1.events.list({"type": "product.*"}).data if e.data.object.id == made.id}
    created, updated = (events[k].to_dict() for k in ("product.created", "product.updated"))
    assert updated["data"]["previous_attributes"] == {"name": "Bird food", "active": True, "updated": made.updated}
    for event in (created, updated):
        assert _trigger_errors(event) == []
        assert spec_errors("event", event) == spec_errors("product", event["data"]["object"]) == []
    assert spec_errors("product", client.v1.products.retrieve(other.id).to_dict()) == []


def test_retrieve_product_reads_the_product_and_refuses_an_id_that_is_none(served):
    assert RETRIEVE_PRODUCT in ACTIONS
    product = served.sandbox.account.create_product({"name": "Bird food", "description": "Seeds"})
    with httpx.Client(timeout=10) as client:
        send = HttpSender(client, api.auth({"api_key": KEY}))
        ctx = context("stripe", {"api_base": served.url})
        read = drive(RETRIEVE_PRODUCT.perform({"product": product["id"]}, ctx), send).value
        assert (read["id"], read["name"], read["description"], read["active"]) == (product["id"], "Bird food", "Seeds", True)
        with pytest.raises(VendorError) as gone:
            drive(RETRIEVE_PRODUCT.perform({"product": "prod_missing"}, ctx), send)
        assert gone.value.kind == "permanent" and "prod_missing" in gone.value.message
        with pytest.raises(InputError) as refused:
            drive(RETRIEVE_PRODUCT.perform({"product": "price_1"}, ctx), send)
        assert "prod_" in str(refused.value)
