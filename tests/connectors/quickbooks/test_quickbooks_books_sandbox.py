"""Transfers, expenses and sales receipts against the loopback sandbox's ledger.

A Stripe day booked per transaction through a clearing account in a multicurrency company
at home in USD: a charge without an invoice (sales receipt into "Stripe <CUR>"), its fees
(an expense out of it), the payout (a transfer to the bank) — after which the clearing
account is back at 0, the bank holds the payout, in USD and in EUR at Stripe's rate. Every
request is sent as the host sends it (``ledgerlink.testing.HttpSender``) and is a valid QBO
body; python-quickbooks reads back what was created. A step sent twice with its key creates
once; find_existing finds it; undo deletes it. In the closed period a write fails with the
closed books date named.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Connection, Request
from ledgerlink.errors import VendorError
from ledgerlink.testing import HttpSender, drive
from ledgerlink_quickbooks import books, purchase, sales_receipt, transfer
from ledgerlink_sandboxes.quickbooks import xsd
from test_quickbooks_ledger import AUTH, CHECKING, REALM, account, balance, made

#: a multicurrency company at home in USD, as QBO's own sandbox companies are
QBO_SANDBOX = {"rate_limit": False, "multicurrency": True}
ENTITIES = {"transfer": "Transfer", "purchase": "Purchase", "salesreceipt": "SalesReceipt"}


@pytest.fixture
def client(qbo, sandbox):
    with httpx.Client(base_url=qbo.url, headers=AUTH, timeout=5) as c:
        yield c


def context(qbo, key: str = "") -> ActionContext:
    return ActionContext(connection=Connection("qbo", "quickbooks",
                                               {"base_url": qbo.url, "realm_id": REALM}),
                         idempotency_key=key)


def fits_xsd(request: Request) -> None:
    if request.method == "POST" and request.params.get("operation") != "delete":
        entity = ENTITIES[request.url.rsplit("/", 1)[1]]
        assert xsd.check(entity, request.json) == []


def live(steps) -> tuple[Any, list[httpx.Response]]:
    with httpx.Client(timeout=10) as http:
        sender = HttpSender(http, AUTH, check=fits_xsd)
        return drive(steps, sender).value, sender.sent


def served(client, entity: str, ident: str) -> dict:
    """The entity as QuickBooks serves it: ``GET …/<entity>/<id>``."""
    answer = client.get(f"/v3/company/{REALM}/{entity}/{ident}", params={"minorversion": "75"})
    assert answer.status_code == 200, answer.text
    return jsonio.loads(answer.content)[ENTITIES[entity]]


def book(qbo, action, data: dict, key: str) -> dict:
    """Perform ``action`` twice with one key (a retry): one entity, the same output."""
    first, _ = live(action.perform(data, context(qbo, key)))
    again, _ = live(action.perform(data, context(qbo, key)))
    assert again == first
    assert live(action.find_existing(data, context(qbo, key)))[0] == first
    return first


@pytest.fixture
def chart(client) -> dict[str, str]:
    """The accounts of mode 1: a clearing account per settlement currency, a EUR bank, fees."""
    return {"Stripe USD": account(client, "Stripe USD", "Bank", "USD"),
            "Stripe EUR": account(client, "Stripe EUR", "Bank", "EUR"),
            "Bank EUR": account(client, "Bank EUR", "Bank", "EUR"),
            "Stripe fees": account(client, "Stripe fees", "Expense")}


@pytest.mark.parametrize("currency, rate, gross, fees, home_gross", [
    ("USD", None, "100.00", ("2.90", "0.30"), "100.00"),
    # 50.00 EUR × 1.082512 = 54.1256 USD, kept by QuickBooks to the cent
    ("EUR", "1.082512", "50.00", ("1.20", "0.25"), "54.13"),
], ids=["USD", "EUR"])
def test_a_charge_its_fees_and_the_payout_leave_the_clearing_account_at_zero(
        qbo, client, chart, currency, rate, gross, fees, home_gross):
    clearing = chart[f"Stripe {currency}"]
    bank = CHECKING if currency == "USD" else chart["Bank EUR"]
    fx = {"CurrencyRef": currency, "ExchangeRate": rate} if rate else {}
    customer = "1" if currency == "USD" else made(
        client, "customer", {"DisplayName": "Eurostar GmbH", "CurrencyRef": {"value": "EUR"}})["Id"]
    bank_before = balance(client, bank)
    sale = book(qbo, sales_receipt.ACTION, {
        "CustomerRef": customer, "TxnDate": "2026-11-02", "PrivateNote": "ch_1",
        "DepositToAccountRef": {"value": clearing, "CurrencyRef": currency},
        "Lines": [{"ItemRef": "1", "Amount": gross}], "Total": gross, **fx}, "sr-ch_1")
    assert balance(client, clearing) == Decimal(gross)
    fee = book(qbo, purchase.ACTION, {
        "AccountRef": {"value": clearing, "CurrencyRef": currency}, "TxnDate": "2026-11-02",
        "PrivateNote": "fees of ch_1",
        "Lines": [{"Amount": amount, "AccountRef": chart["Stripe fees"]} for amount in fees],
        "Total": str(sum(Decimal(a) for a in fees)), **fx}, "fee-ch_1")
    net = Decimal(gross) - sum(Decimal(a) for a in fees)
    assert fee["total"] == sum(Decimal(a) for a in fees)
    payout = book(qbo, transfer.ACTION, {
        "FromAccountRef": {"value": clearing, "CurrencyRef": currency},
        "ToAccountRef": {"value": bank, "CurrencyRef": currency}, "Amount": str(net),
        "TxnDate": "2026-11-04", "PrivateNote": "po_1", **fx}, "po_1")
    assert balance(client, clearing) == 0
    assert balance(client, bank) - bank_before == net
    # one of each, read back over HTTP by python-quickbooks' objects
    for entity, created in (("salesreceipt", sale), ("purchase", fee), ("transfer", payout)):
        assert [row["Id"] for row in qbo.sandbox.entities(REALM, entity)] == [created["id"]]
    from quickbooks.objects.purchase import Purchase
    from quickbooks.objects.salesreceipt import SalesReceipt
    from quickbooks.objects.transfer import Transfer
    read = Transfer.from_json(served(client, "transfer", payout["id"]))
    assert (read.FromAccountRef.value, read.ToAccountRef.value) == (clearing, bank)
    assert Decimal(str(read.Amount)) == net
    expense = Purchase.from_json(served(client, "purchase", fee["id"]))
    assert (expense.PaymentType, expense.AccountRef.value) == ("Cash", clearing)
    receipt = served(client, "salesreceipt", sale["id"])
    assert SalesReceipt.from_json(receipt).DepositToAccountRef.value == clearing
    # the home-currency value went through at Stripe's rate, never one QuickBooks picked
    assert str(receipt.get("ExchangeRate", "1")) == (rate or "1")
    assert receipt.get("HomeTotalAmt", receipt["TotalAmt"]) == Decimal(home_gross)

def test_a_negative_payout_moves_money_back_and_undo_deletes_it(qbo, client, chart):
    clearing = chart["Stripe USD"]
    before = balance(client, CHECKING)
    back = book(qbo, transfer.ACTION, {"FromAccountRef": clearing, "ToAccountRef": CHECKING,
                                       "Amount": "-25.00", "TxnDate": "2026-11-05"}, "po_neg")
    assert (balance(client, clearing), balance(client, CHECKING) - before) == (Decimal("25.00"), Decimal("-25.00"))
    assert live(transfer.ACTION.undo(back["id"], context(qbo)))[0]["status"] != "already gone"
    assert (balance(client, clearing), balance(client, CHECKING)) == (0, before)
    assert qbo.sandbox.entities(REALM, "transfer") == []


def test_a_write_in_the_closed_period_names_the_closed_books_date(qbo, client, chart):
    httpx.post(f"{qbo.url}/__sandbox/preferences", json={"book_close_date": "2026-10-31"},
               timeout=5).raise_for_status()
    data = {"FromAccountRef": chart["Stripe USD"], "ToAccountRef": CHECKING, "Amount": "10.00",
            "TxnDate": "2026-10-15", "PrivateNote": "po_late"}
    with pytest.raises(VendorError) as info:
        live(transfer.ACTION.perform(data, context(qbo, "po_late")))
    assert str(info.value).startswith("QuickBooks' books are closed through 2026-10-31; the entry is "
                                      "dated 2026-10-15: ")
    assert info.value.kind == "permanent"
    assert qbo.sandbox.entities(REALM, "transfer") == []
    # what ledgerlink check says about the company
    lines, _ = live(books.check_company(context(qbo).connection))
    assert lines[0].startswith("the books are closed through 2026-10-31 (Preferences BookCloseDate)")
    # the day after the closed books date is open
    assert live(transfer.ACTION.perform({**data, "TxnDate": "2026-11-01"}, context(qbo, "po_ok")))[0]["id"]


def test_a_recipe_run_in_the_closed_period_fails_with_both_dates(qbo, client, catalog):
    """A shipped recipe (the payout's deposit) run for an event the company's books are
    closed for: the run fails with QuickBooks' closed books date and the entry's date,
    not QuickBooks' generic refusal, and nothing is booked."""
    from runtime_fixtures import RECIPES
    from ledgerlink.config import Config
    from ledgerlink.contract import IncomingEvent
    from ledgerlink.engine.runner import run as run_recipe
    from ledgerlink.recipes.recipe import load_recipe

    httpx.post(f"{qbo.url}/__sandbox/preferences", json={"book_close_date": "2099-12-31"},
               timeout=5).raise_for_status()
    recipe = load_recipe(RECIPES / "stripe-payout-paid-to-quickbooks-deposit.json", catalog, Config())
    event = dict(recipe.trigger.sample)
    with httpx.Client(timeout=10) as http, pytest.raises(VendorError) as info:
        sender = HttpSender(http, AUTH)
        run_recipe(recipe, IncomingEvent(id=event["id"], trigger=recipe.trigger.name, payload=event),
                   lambda name: Connection(name, "quickbooks", {"base_url": qbo.url, "realm_id": REALM}),
                   lambda step, action, ctx, request: sender(request))
    message = str(info.value)
    assert message.startswith("QuickBooks' books are closed through 2099-12-31; the entry is dated 20")
    assert "Account Period Closed" in message
    assert qbo.sandbox.entities(REALM, "deposit") == []
