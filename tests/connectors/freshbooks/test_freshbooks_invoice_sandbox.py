"""create_invoice and mark_invoice_sent against the FreshBooks sandbox on loopback: the invoice
FreshBooks works out (taxes, totals in USD, JPY and KWD), a lost answer looked up and not made
twice, marked sent once, undone by DELETE."""

from __future__ import annotations

import pytest

from fb_connector import context, objects, sandbox
from ledgerlink.errors import OutcomeUnknown
from ledgerlink.testing import drive
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT
from ledgerlink_freshbooks.invoice import CREATE_INVOICE, MARK_INVOICE_SENT


def a_client(loop, send, currency: str) -> str:
    data = {"source_id": f"cus_{currency}", "organization": f"Client {currency}", "currency_code": currency}
    return drive(FIND_OR_CREATE_CLIENT.perform(data, context(loop)), send).value["id"]


@pytest.mark.parametrize("currency, cost, percent, total", [
    ("USD", "49.50", "8.875", "107.79"),   # 99.00 + 8.79 (8.78625 rounded)
    ("JPY", "1500", "10", "3300"),
    ("KWD", "1.21", "5", "2.54"),          # 2.42 + 0.121 → 0.12: FreshBooks keeps two decimals of any amount
])
def test_an_invoice_is_created_once_with_freshbooks_totals(currency, cost, percent, total):
    with sandbox() as (loop, _, send):
        client = a_client(loop, send, currency)
        data = {"source_id": f"in_{currency}", "customerid": client, "create_date": "2026-11-30",
                "currency_code": currency,
                "lines": [{"name": "Plan", "qty": "2", "unit_cost": cost, "taxes": [{"name": "Tax", "percent": percent}]}]}
        made = drive(CREATE_INVOICE.perform(data, context(loop)), send).value
        assert (made["amount"], made["currency_code"], made["status"]) == (total, currency, "draft")
        (stored,) = [i for i in objects(loop, "invoices") if i["po_number"] == f"in_{currency}"]
        assert str(stored["id"]) == made["id"] and stored["lines"][0]["unit_cost"]["code"] == currency
        assert drive(CREATE_INVOICE.find_existing(data, context(loop)), send).value == made


def test_a_lost_answer_is_looked_up_and_not_sent_again():
    with sandbox() as (loop, _, send):
        client = a_client(loop, send, "USD")
        data = {"source_id": "in_lost", "customerid": client, "create_date": "2026-11-30", "currency_code": "USD",
                "lines": [{"name": "Plan", "unit_cost": "10.00"}]}

        def lost(request):  # FreshBooks commits the invoice; its answer never arrives
            send(request)
            raise OutcomeUnknown("the answer was lost")

        with pytest.raises(OutcomeUnknown):
            drive(CREATE_INVOICE.perform(data, context(loop)), lost)
        found = drive(CREATE_INVOICE.find_existing(data, context(loop)), send)
        assert found.value is not None and [r.method for r in found.requests] == ["GET"]
        assert [str(i["id"]) for i in objects(loop, "invoices") if i["po_number"] == "in_lost"] == [found.value["id"]]


def test_marked_sent_once_and_undone_by_delete():
    with sandbox() as (loop, _, send):
        client = a_client(loop, send, "USD")
        data = {"source_id": "in_sent", "customerid": client, "create_date": "2026-11-30", "currency_code": "USD",
                "lines": [{"name": "Plan", "unit_cost": "10.00"}]}
        made = drive(CREATE_INVOICE.perform(data, context(loop)), send).value
        first = drive(MARK_INVOICE_SENT.perform({"invoiceid": made["id"]}, context(loop)), send).value
        again = drive(MARK_INVOICE_SENT.perform({"invoiceid": made["id"]}, context(loop)), send)
        assert first == {"id": made["id"], "status": "sent", "changed": True}
        assert again.value["changed"] is False and [r.method for r in again.requests] == ["GET"]
        assert drive(CREATE_INVOICE.undo(made["id"], context(loop)), send).value["status"] == "deleted"
        assert drive(CREATE_INVOICE.undo(made["id"], context(loop)), send).value["status"] == "already gone"
        assert drive(CREATE_INVOICE.find_existing(data, context(loop)), send).value is None
