"""Where a person sees a Xero entity: its page at go.xero.com (``Connector.entity_url``,
:mod:`ledgerlink.contract.deeplinks`).

With the organisation's short code (``short_code``: ``ShortCode`` in GET /Organisation, e.g.
``!xkY1b``) the address opens that organisation, as Xero's own deep links do; without it, the
page opens in the organisation the person last used.
"""

from __future__ import annotations

from urllib.parse import quote

from ledgerlink.contract.deeplinks import EntityRef

APP = "https://go.xero.com"

#: per kind: the page with the organisation's short code, and the page without it
PAGES = {
    "Invoice": ("/app/{short}/invoicing/view/{id}", "/AccountsReceivable/View.aspx?InvoiceID={id}"),
    "Contact": ("/app/{short}/contacts/contact/{id}", "/Contacts/View/{id}"),
    "CreditNote": ("/organisationlogin/default.aspx?shortcode={short}&redirecturl="
                   "/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}",
                   "/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}"),
    "Payment": ("/organisationlogin/default.aspx?shortcode={short}&redirecturl="
                "/Bank/ViewTransaction.aspx?bankTransactionID={id}",
                "/Bank/ViewTransaction.aspx?bankTransactionID={id}"),
    "ManualJournal": ("/organisationlogin/default.aspx?shortcode={short}&redirecturl="
                      "/Journal/View.aspx?invoiceID={id}", "/Journal/View.aspx?invoiceID={id}"),
}


#: the actions that declare no ``entity``: the kind of the id their step ends with
ACTION_KINDS = {"xero.create_manual_journal": "ManualJournal", "xero.find_contact": "Contact",
                "xero.find_or_create_contact": "Contact", "xero.create_bank_transaction": "BankTransaction"}
PAGES["BankTransaction"] = PAGES["Payment"]


def entity_url(ref: EntityRef) -> str | None:
    """The go.xero.com page of ``ref``, or None for a kind Xero has no page for."""
    pages = PAGES.get(ACTION_KINDS.get(ref.kind, ref.kind))
    if pages is None or not ref.id:
        return None
    short = ref.settings.get("short_code")
    with_code, without = pages
    entity = quote(ref.id, safe="")
    if isinstance(short, str) and short:
        return APP + with_code.format(short=quote(short, safe="!"), id=entity)
    return APP + without.format(id=entity)
