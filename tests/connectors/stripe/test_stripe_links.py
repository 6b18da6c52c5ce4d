"""Stripe deep links: Dashboard pages, under /test/ for an object its event says is not live
or on a connection pointed at a sandbox; none for a connected account's objects."""

import pytest

from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import EntityRef
from ledgerlink_stripe.links import PAGES


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def entity_url(catalog):
    return catalog.connectors["stripe"].entity_url


@pytest.mark.parametrize("kind, object_id, page", [
    ("invoice", "in_1Nv0Yh2eZvKYlo2C", "/invoices/in_1Nv0Yh2eZvKYlo2C"),
    ("charge", "ch_3Nv0Yh2eZvKYlo2C", "/payments/ch_3Nv0Yh2eZvKYlo2C"),
    ("payout", "po_1Nv0Yh2eZvKYlo2C", "/payouts/po_1Nv0Yh2eZvKYlo2C"),
    ("customer", "cus_Oaxlz8kB0PJWGa", "/customers/cus_Oaxlz8kB0PJWGa"),
    ("product", "prod_Oaxlz8kB0PJWGa", "/products/prod_Oaxlz8kB0PJWGa"),
    ("charge.dispute", "du_1Nv0Yh2eZvKYlo2C", "/disputes/du_1Nv0Yh2eZvKYlo2C"),
])
def test_live_and_test_objects_link_to_their_dashboard_page(entity_url, kind, object_id, page):
    live = EntityRef(kind, object_id, {}, {"id": "evt_1", "livemode": True})
    test = EntityRef(kind, object_id, {}, {"id": "evt_1", "livemode": False})
    assert entity_url(live) == "https://dashboard.stripe.com" + page
    assert entity_url(test) == "https://dashboard.stripe.com/test" + page


def test_an_object_without_an_event_is_live_unless_the_connection_points_at_a_sandbox(entity_url):
    assert entity_url(EntityRef("invoice", "in_1", {})) == "https://dashboard.stripe.com/invoices/in_1"
    assert entity_url(EntityRef("invoice", "in_1", {"api_base": "https://api.stripe.com/"})) \
        == "https://dashboard.stripe.com/invoices/in_1"
    assert entity_url(EntityRef("invoice", "in_1", {"api_base": "http://127.0.0.1:12111"})) \
        == "https://dashboard.stripe.com/test/invoices/in_1"


def test_a_connected_account_or_a_kind_without_a_page_gets_no_link(entity_url):
    assert entity_url(EntityRef("invoice", "in_1", {"stripe_account": "acct_1"})) is None
    assert entity_url(EntityRef("credit_note", "cn_1", {})) is None


def test_every_kind_a_trigger_is_about_has_a_page_but_credit_notes(catalog):
    kinds = {t.entity for t in catalog.triggers.values() if t.connector == "stripe" and t.entity}
    assert kinds - set(PAGES) == {"credit_note"}
