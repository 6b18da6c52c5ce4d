"""FreshBooks' official Python SDK (freshbooks-sdk) drives the FreshBooks sandbox over loopback:
the sandbox answers what FreshBooks' own client sends, and the client reads what it answers."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from freshbooks import Client, FilterBuilder, FreshBooksError, IncludesBuilder, PaginateBuilder

from fb_sandbox import ACCOUNT, served

REDIRECT = "https://127.0.0.1:9/freshbooks/callback"


@pytest.fixture
def sdk(monkeypatch):
    """The SDK pointed at the sandbox (the SDK reads its hosts from the environment), logged in
    through the consent screen and the token endpoint as an app does."""
    with served() as (loop, clock):
        monkeypatch.setenv("FRESHBOOKS_API_URL", loop.url)
        monkeypatch.setenv("FRESHBOOKS_AUTH_URL", loop.url)
        client = Client(client_id="freshbooks-sandbox-client", client_secret="freshbooks-sandbox-secret",
                        redirect_uri=REDIRECT, auto_retry=False)
        consent = httpx.get(client.get_auth_request_url(["user:profile:read", "user:invoices:write"]))
        assert consent.status_code == 302
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        client.get_access_token(code)
        yield client, loop


def test_the_sdk_logs_in_finds_the_business_and_refreshes_once(sdk):
    client, _loop = sdk
    identity = client.current_user()
    accounts = [m.business.account_id for m in identity.business_memberships]
    assert accounts[0] == ACCOUNT and identity.identity_id == 1234
    old = client.refresh_token
    renewed = client.refresh_access_token()
    assert renewed.refresh_token != old and renewed.access_token_expires_at is not None
    with pytest.raises(FreshBooksError) as refused:
        client.refresh_access_token(old)
    assert refused.value.status_code == 400 and "invalid" in str(refused.value)


def test_the_sdk_creates_a_client_an_invoice_and_a_payment_then_reads_and_lists_them(sdk):
    fb, _loop = sdk
    customer = fb.clients.create(ACCOUNT, {"email": "sdk@example.com", "organization": "SDK Ltd",
                                          "currency_code": "USD"})
    assert customer.id == customer.userid and customer.organization == "SDK Ltd"
    lines = IncludesBuilder().include("lines")
    invoice = fb.invoices.create(ACCOUNT, {
        "customerid": customer.id, "create_date": "2026-11-30", "po_number": "in_1SDK",
        "lines": [{"type": 0, "name": "Plan", "qty": 1, "unit_cost": {"amount": "100.00", "code": "USD"},
                   "taxName1": "HST", "taxAmount1": "13"}]}, includes=lines)
    # money stays a decimal string end to end, as FreshBooks writes it
    assert invoice.amount.amount == "113.00" and invoice.lines[0].unit_cost.amount == "100.00"
    fb.invoices.update(ACCOUNT, invoice.id, {"action_mark_as_sent": True})
    payment = fb.payments.create(ACCOUNT, {"invoiceid": invoice.id, "amount": {"amount": "113.00"},
                                           "date": "2026-12-01", "type": "Credit Card", "note": "ch_1SDK"})
    assert payment.amount.code == "USD" and payment.invoiceid == invoice.id

    read = fb.invoices.get(ACCOUNT, invoice.id)
    assert read.v3_status == "paid" and Decimal(read.outstanding.amount) == 0
    assert "lines" not in read.data
    assert fb.payments.get(ACCOUNT, payment.id).note == "ch_1SDK"
    found = fb.invoices.list(ACCOUNT, builders=[FilterBuilder().equals("po_number", "in_1SDK"),
                                                PaginateBuilder(1, 100), lines])
    assert [i.id for i in found] == [invoice.id] and found.pages.total == 1 and len(found[0].lines) == 1
    by_email = fb.clients.list(ACCOUNT, builders=[FilterBuilder().like("email_like", "sdk@")])
    assert [c.id for c in by_email] == [customer.id]
    paid = fb.payments.list(ACCOUNT, builders=[FilterBuilder().in_list("invoiceid", [invoice.id])])
    assert [p.id for p in paid] == [payment.id]


def test_the_sdk_reads_freshbooks_errors_and_deletes_as_freshbooks_does(sdk):
    fb, loop = sdk
    with pytest.raises(FreshBooksError) as missing:
        fb.clients.get(ACCOUNT, 12345)
    assert (missing.value.status_code, missing.value.error_code, str(missing.value)) == (404, 1012, "Client not found.")
    customer = fb.clients.create(ACCOUNT, {"email": "gone@example.com"})
    fb.clients.delete(ACCOUNT, customer.id)                      # PUT {"client": {"vis_state": 1}}
    assert fb.clients.get(ACCOUNT, customer.id).vis_state == 1
    tax = fb.taxes.create(ACCOUNT, {"name": "VAT", "amount": "20"})
    fb.taxes.delete(ACCOUNT, tax.id)                             # DELETE
    assert [t.name for t in fb.taxes.list(ACCOUNT)] == ["HST", "GST"]
    with pytest.raises(FreshBooksError) as refused:
        fb.callbacks.create(ACCOUNT, {"event": "invoice.explode", "uri": "/relative"})
    assert refused.value.status_code == 422 and refused.value.error_code == 422
    callback = fb.callbacks.create(ACCOUNT, {"event": "invoice.create", "uri": "http://127.0.0.1:9/hook"})
    assert callback.verified is False
    verifier = httpx.get(f"{loop.url}/__sandbox/callbacks/{callback.callbackid}/verifier").json()["verifier"]
    assert fb.callbacks.verify(ACCOUNT, callback.callbackid, verifier).verified is True
    fb.callbacks.delete(ACCOUNT, callback.callbackid)
    assert list(fb.callbacks.list(ACCOUNT)) == []
