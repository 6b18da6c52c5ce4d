"""Where a person sees a FreshBooks entity: its page at my.freshbooks.com
(``Connector.entity_url``, :mod:`ledgerlink.contract.deeplinks`).

An invoice's page names the business's ``account_id`` beside the invoice's id
(``#/invoice/<account_id>-<id>``); clients and expenses are addressed by their id alone.
Payments have no page of their own (they show on their invoice): no link.
"""

from __future__ import annotations

from ledgerlink.contract.deeplinks import EntityRef, url_table

from .settings import ACCOUNT_PLACEHOLDER

APP = "https://my.freshbooks.com"

#: the page of each kind the actions and triggers name (``Action.entity``, ``Trigger.entity``)
PAGES = {
    "invoice": "/#/invoice/{account_id}-{id}",
    "client": "/#/client/{id}",
    "expense": "/#/expense/{id}",
}
#: the actions that declare no ``entity``: the kind of the id their step ends with
ACTION_KINDS = {"freshbooks.create_expense": "expense", "freshbooks.find_or_create_client": "client"}
PAGES.update({action: PAGES[kind] for action, kind in ACTION_KINDS.items()})


def app_address(ref: EntityRef) -> str | None:
    """my.freshbooks.com, once the connection knows its business (an invoice's page needs it)."""
    if ref.kind == "invoice" and ref.settings.get("account_id") in (None, "", ACCOUNT_PLACEHOLDER):
        return None
    return APP


entity_url = url_table(app_address, PAGES)
