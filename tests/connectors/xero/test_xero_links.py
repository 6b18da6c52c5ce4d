"""Xero deep links: go.xero.com pages per kind, opening the organisation its short code names
when the connection sets one."""

import pytest

from ledgerlink.contract import EntityRef
from ledgerlink_xero import CONNECTOR
from ledgerlink_xero.links import PAGES

ID = "0032cdd7-a3d7-4d2b-9a2c-7a0c5c2c3f11"


@pytest.mark.parametrize("kind, with_code, without", [
    ("Invoice", f"/app/!xkY1b/invoicing/view/{ID}", f"/AccountsReceivable/View.aspx?InvoiceID={ID}"),
    ("Contact", f"/app/!xkY1b/contacts/contact/{ID}", f"/Contacts/View/{ID}"),
    ("CreditNote", "/organisationlogin/default.aspx?shortcode=!xkY1b&redirecturl="
                   f"/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={ID}",
     f"/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={ID}"),
    ("Payment", "/organisationlogin/default.aspx?shortcode=!xkY1b&redirecturl="
                f"/Bank/ViewTransaction.aspx?bankTransactionID={ID}",
     f"/Bank/ViewTransaction.aspx?bankTransactionID={ID}"),
])
def test_each_kind_links_with_and_without_the_short_code(kind, with_code, without):
    assert CONNECTOR.entity_url(EntityRef(kind, ID, {"short_code": "!xkY1b"})) == "https://go.xero.com" + with_code
    assert CONNECTOR.entity_url(EntityRef(kind, ID, {"tenant_id": "t-1"})) == "https://go.xero.com" + without


def test_an_unknown_kind_or_no_id_gives_no_link_and_an_id_cannot_escape_its_place():
    assert CONNECTOR.entity_url(EntityRef("Quote", ID, {})) is None
    assert CONNECTOR.entity_url(EntityRef("Invoice", "", {})) is None
    assert CONNECTOR.entity_url(EntityRef("Contact", "x/../y", {})) == "https://go.xero.com/Contacts/View/x%2F..%2Fy"


def test_every_kind_the_connector_writes_or_hears_of_has_a_page():
    from ledgerlink.connectors.manager import load_catalog

    catalog = load_catalog()
    kinds = {c.entity for c in [*catalog.actions.values(), *catalog.triggers.values()]
             if c.entity and c.connector == "xero"}
    assert kinds and kinds <= set(PAGES), kinds - set(PAGES)


def test_the_short_code_setting_is_declared():
    assert "short_code" in CONNECTOR.settings_schema["properties"]


def test_a_step_of_an_action_without_an_entity_is_linked_by_the_kind_of_its_id():
    from ledgerlink.connectors.manager import load_catalog
    from ledgerlink_xero.links import ACTION_KINDS

    actions = load_catalog().actions
    assert all(name in actions and not actions[name].entity for name in ACTION_KINDS)
    assert CONNECTOR.entity_url(EntityRef("xero.create_manual_journal", ID, {})) \
        == f"https://go.xero.com/Journal/View.aspx?invoiceID={ID}"
    assert CONNECTOR.entity_url(EntityRef("xero.find_or_create_contact", ID, {"short_code": "!xkY1b"})) \
        == f"https://go.xero.com/app/!xkY1b/contacts/contact/{ID}"
    assert CONNECTOR.entity_url(EntityRef("xero.create_bank_transfer", ID, {})) is None
