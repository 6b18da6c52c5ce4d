"""FreshBooks' refusals over loopback, as the connector reads them: a 429 waits its
Retry-After, the SDK's retry set (408, 5xx, a gateway's HTML page) is retried later, a 401 asks
for a refresh, and a refused body names each field FreshBooks named."""

from __future__ import annotations

import pytest

from fb_connector import context, sandbox
from ledgerlink.errors import VendorError
from ledgerlink.testing import drive
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT
from ledgerlink_freshbooks.invoice import CREATE_INVOICE
from ledgerlink_freshbooks.payment import CREATE_PAYMENT
from ledgerlink_sandboxes.freshbooks import faults

INVOICE = {"source_id": "in_f", "customerid": "1", "create_date": "2026-11-30", "currency_code": "USD",
           "lines": [{"name": "Plan", "unit_cost": "10.00"}]}


@pytest.mark.parametrize("fault, kind, wait", [
    ({"status": 429, "retry_after": 7}, "retry", 7.0),
    ({"status": 408}, "retry", None),
    ({"status": 500}, "retry", None),
    ({"status": 503}, "retry", None),
    ({"status": 401}, "reauth", None),
])
def test_each_refusal_is_read_into_what_the_host_does(fault, kind, wait):
    with sandbox() as (loop, _, send):
        loop.sandbox.faults.add(faults.parse([{**fault, "match": {"method": "POST", "resource": "invoices/invoices"}}]))
        with pytest.raises(VendorError) as error:
            drive(CREATE_INVOICE.perform(INVOICE, context(loop)), send)
    assert (error.value.kind, error.value.retry_after) == (kind, wait), error.value.message
    assert error.value.http_status == fault["status"]


def test_a_body_freshbooks_refuses_names_each_field():
    with sandbox() as (loop, _, send):
        with pytest.raises(VendorError) as error:
            drive(CREATE_INVOICE.perform({**INVOICE, "customerid": "999999"}, context(loop)), send)
        assert error.value.kind == "permanent" and "customerid: Client not found." in error.value.message
        client = drive(FIND_OR_CREATE_CLIENT.perform({"source_id": "cus_f", "organization": "F"}, context(loop)),
                       send).value
        invoice = drive(CREATE_INVOICE.perform({**INVOICE, "customerid": client["id"]}, context(loop)), send).value
        with pytest.raises(VendorError) as error:
            drive(CREATE_PAYMENT.perform({"source_id": "ch_f", "invoiceid": invoice["id"], "amount": "10.01",
                                          "currency_code": "USD", "date": "2026-11-30"}, context(loop)), send)
    assert error.value.kind == "permanent"
    assert "amount.amount: The payment is more than the invoice's outstanding amount." in error.value.message
