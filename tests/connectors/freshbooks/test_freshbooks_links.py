"""FreshBooks deep links: my.freshbooks.com pages; an invoice's names the business's
account id, so a connection that has not learned it yet gets no invoice link."""

import pytest

from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import EntityRef
from ledgerlink_freshbooks import CONNECTOR
from ledgerlink_freshbooks.links import PAGES
from ledgerlink_freshbooks.settings import ACCOUNT_PLACEHOLDER

CONNECTED = {"account_id": "Xb2mQ", "business_id": "77"}


@pytest.mark.parametrize("kind, url", [
    ("invoice", "https://my.freshbooks.com/#/invoice/Xb2mQ-3021"),
    ("client", "https://my.freshbooks.com/#/client/3021"),
    ("expense", "https://my.freshbooks.com/#/expense/3021"),
])
def test_each_kind_with_a_page_links_to_it(kind, url):
    assert CONNECTOR.entity_url(EntityRef(kind, "3021", CONNECTED)) == url


@pytest.mark.parametrize("settings", [{}, {"account_id": ACCOUNT_PLACEHOLDER}, {"account_id": ""}])
def test_an_invoice_of_a_connection_without_its_account_id_has_no_link(settings):
    assert CONNECTOR.entity_url(EntityRef("invoice", "3021", settings)) is None
    assert CONNECTOR.entity_url(EntityRef("client", "3021", settings)) == "https://my.freshbooks.com/#/client/3021"


def test_payments_have_no_page_of_their_own_and_every_other_kind_has_one():
    assert CONNECTOR.entity_url(EntityRef("payment", "5", CONNECTED)) is None
    catalog = load_catalog()
    kinds = {c.entity for c in [*catalog.actions.values(), *catalog.triggers.values()]
             if c.entity and c.connector == "freshbooks"}
    assert kinds - set(PAGES) == {"payment"}


def test_a_step_of_an_action_without_an_entity_is_linked_by_the_kind_of_its_id():
    from ledgerlink_freshbooks.links import ACTION_KINDS

    actions = load_catalog().actions
    assert all(name in actions and not actions[name].entity for name in ACTION_KINDS)
    assert CONNECTOR.entity_url(EntityRef("freshbooks.create_expense", "88", CONNECTED)) \
        == "https://my.freshbooks.com/#/expense/88"
    assert CONNECTOR.entity_url(EntityRef("freshbooks.create_other_income", "88", CONNECTED)) is None
