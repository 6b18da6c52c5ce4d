"""FreshBooks' official Python SDK (freshbooks-sdk) and the connector agree: every lookup the
connector sends is the query the SDK's own builders make, and what the connector's bodies
created in the sandbox the SDK reads back, exact to the last digit."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from freshbooks import Client, FilterBuilder, IncludesBuilder, PaginateBuilder

from fb_answers import ctx
from fb_connector import context, sandbox
from fb_sandbox import ACCOUNT, TOKEN
from ledgerlink.contract import Response
from ledgerlink.testing import LinkTable, drive
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT
from ledgerlink_freshbooks.credit_note import CREATE_CREDIT_NOTE
from ledgerlink_freshbooks.expense import CREATE_EXPENSE
from ledgerlink_freshbooks.invoice import CREATE_INVOICE
from ledgerlink_freshbooks.payment import CREATE_PAYMENT


def sdk_query(*builders) -> dict[str, str]:
    return dict(parse_qsl("".join(builder.build("AccountingResource") for builder in builders).lstrip("&")))


#: an empty page of every list the lookups read
NOTHING = {"response": {"result": {**{plural: [] for plural in ("clients", "invoices", "credit_notes", "payments",
                                                                 "expenses")}, "page": 1, "pages": 1}}}


def our_query(steps) -> dict[str, str]:
    (request,) = drive(steps, lambda request: Response(status=200, json=NOTHING)).requests
    assert request.method == "GET"
    return dict(request.params)


def filtered(method: str, *args) -> FilterBuilder:
    builder = FilterBuilder()
    getattr(builder, method)(*args)
    return builder


@pytest.mark.parametrize("steps, builders", [
    (lambda: FIND_OR_CREATE_CLIENT.find_existing({"source_id": "cus_1", "organization": "A"}, ctx()),
     lambda: [filtered("like", "note_like", "ledgerlink source cus_1")]),
    (lambda: CREATE_INVOICE.find_existing(CREATE_INVOICE.sample, ctx()),
     lambda: [filtered("equals", "customerid", 73625)]),
    (lambda: CREATE_CREDIT_NOTE.find_existing(CREATE_CREDIT_NOTE.sample, ctx()),
     lambda: [filtered("equals", "clientid", 73625)]),
    (lambda: CREATE_PAYMENT.find_existing(CREATE_PAYMENT.sample, ctx()),
     lambda: [filtered("equals", "invoiceid", 987654)]),
    (lambda: CREATE_EXPENSE.find_existing(CREATE_EXPENSE.sample, ctx()),
     lambda: [filtered("between", "date", "2026-11-30", "2026-11-30")]),
], ids=["client", "invoice", "credit_note", "payment", "expense"])
def test_each_lookup_is_the_query_the_sdk_builds(steps, builders):
    assert our_query(steps()) == sdk_query(*builders(), PaginateBuilder(1, 100))


def test_what_the_connector_created_the_sdk_reads_exactly(monkeypatch):
    with sandbox() as (loop, _, send):
        monkeypatch.setenv("FRESHBOOKS_API_URL", loop.url)
        fb = Client(client_id="freshbooks-sandbox-client", access_token=TOKEN, auto_retry=False)
        links = LinkTable()
        client = drive(FIND_OR_CREATE_CLIENT.perform({"source_id": "cus_k", "organization": "Kuwait Co",
                                                      "currency_code": "KWD"}, context(loop)), send).value
        invoice = drive(CREATE_INVOICE.perform({
            "source_id": "in_k", "customerid": client["id"], "create_date": "2026-11-30", "currency_code": "KWD",
            "lines": [{"name": "Plan", "qty": "3", "unit_cost": "0.20", "taxes": [{"name": "VAT", "percent": "5"}]}]},
            context(loop)), send).value
        links.record(invoice)
        payment = drive(CREATE_PAYMENT.perform({"source_id": "ch_k", "invoice_source_id": "in_k", "amount": "0.63",
                                                "currency_code": "KWD", "date": "2026-11-30"}, context(loop)),
                        send, links).value
        read = fb.invoices.get(ACCOUNT, int(invoice["id"]), includes=IncludesBuilder().include("lines"))
        assert read.po_number == "in_k" and read.currency_code == "KWD"
        assert Decimal(read.lines[0].unit_cost.amount) == Decimal("0.20") and read.lines[0].unit_cost.code == "KWD"
        assert Decimal(read.amount.amount) == Decimal(invoice["amount"]) == Decimal("0.63")  # 0.60 + 5%
        assert read.v3_status == "paid" and Decimal(read.outstanding.amount) == 0
        (paid,) = fb.payments.list(ACCOUNT, builders=[filtered("equals", "invoiceid", int(invoice["id"]))])
        assert str(paid.id) == payment["id"] and paid.note == "ledgerlink source ch_k"
        (found,) = fb.clients.list(ACCOUNT, builders=[filtered("like", "note_like", "ledgerlink source cus_k")])
        assert str(found.id) == client["id"] and found.currency_code == "KWD"
