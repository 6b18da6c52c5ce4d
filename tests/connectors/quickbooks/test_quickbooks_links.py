"""QuickBooks deep links: each kind's page in the QuickBooks web app, production or sandbox
by the connection's API root, and a page for every kind the connector writes or hears of."""

import pytest

from ledgerlink.contract import EntityRef
from ledgerlink_quickbooks import ACTIONS, CONNECTOR
from ledgerlink_quickbooks.links import PAGES

PRODUCTION = {"base_url": "https://quickbooks.api.intuit.com", "realm_id": "9130350000000000"}
SANDBOX = {"base_url": "https://sandbox-quickbooks.api.intuit.com", "realm_id": "9130350000000000"}


@pytest.mark.parametrize("kind, page", [
    ("Invoice", "/app/invoice?txnId=145"), ("Payment", "/app/recvpayment?txnId=145"),
    ("JournalEntry", "/app/journal?txnId=145"), ("Deposit", "/app/deposit?txnId=145"),
    ("Customer", "/app/customerdetail?nameId=145"), ("Item", "/app/items"),
    ("RefundReceipt", "/app/refundreceipt?txnId=145"), ("CreditMemo", "/app/creditmemo?txnId=145"),
    ("Purchase", "/app/expense?txnId=145"), ("SalesReceipt", "/app/salesreceipt?txnId=145"),
    ("Transfer", "/app/transfer?txnId=145"),
])
def test_each_kind_links_to_its_page_in_the_environment_of_the_connection(kind, page):
    assert CONNECTOR.entity_url(EntityRef(kind, "145", PRODUCTION)) == "https://app.qbo.intuit.com" + page
    assert CONNECTOR.entity_url(EntityRef(kind, "145", SANDBOX)) == "https://sandbox.qbo.intuit.com" + page


def test_a_loopback_sandbox_links_to_the_sandbox_site_and_an_unknown_kind_to_nothing():
    loopback = {"base_url": "http://127.0.0.1:8766"}
    assert CONNECTOR.entity_url(EntityRef("Invoice", "9", loopback)) == "https://sandbox.qbo.intuit.com/app/invoice?txnId=9"
    assert CONNECTOR.entity_url(EntityRef("Bill", "9", PRODUCTION)) is None
    assert CONNECTOR.entity_url(EntityRef("quickbooks.create_invoice", "9", PRODUCTION)) is None


def test_every_kind_the_connector_writes_or_hears_of_has_a_page():
    from ledgerlink.connectors.manager import load_catalog

    catalog = load_catalog()
    kinds = {c.entity for c in [*catalog.actions.values(), *catalog.triggers.values()]
             if c.entity and c.connector == "quickbooks"}
    assert {a.entity for a in ACTIONS if a.entity} <= kinds
    assert kinds and kinds <= set(PAGES), kinds - set(PAGES)


def test_a_step_of_an_action_that_finds_is_linked_by_the_kind_it_finds():
    from ledgerlink.connectors.manager import load_catalog
    from ledgerlink_quickbooks.links import ACTION_KINDS

    actions = load_catalog().actions
    assert all(name in actions and not actions[name].entity for name in ACTION_KINDS)
    assert CONNECTOR.entity_url(EntityRef("quickbooks.find_or_create_customer", "58", PRODUCTION)) \
        == "https://app.qbo.intuit.com/app/customerdetail?nameId=58"
    assert CONNECTOR.entity_url(EntityRef("quickbooks.find_account", "35", SANDBOX)) \
        == "https://sandbox.qbo.intuit.com/app/register?accountId=35"
