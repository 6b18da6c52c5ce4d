"""The actions that make the books tie out, driven by hand: no HTTP.

quickbooks.create_transfer (a payout from the clearing account to the bank), create_purchase
(Stripe fees and dispute withdrawals paid from the clearing account) and
create_sales_receipt (a charge without an invoice): every body they yield passes Intuit's
XSD, amounts are exact by their currency's decimals (USD, EUR, JPY, KWD), a body that would
not balance or touches a third currency is refused before any request, naming the field;
find_existing finds what perform created and nothing else; undo deletes with the current
SyncToken.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.errors import InputError
from ledgerlink.testing import Script, drive, first_request
from ledgerlink_quickbooks import deposit, payment, purchase, sales_forms, sales_receipt, transfer
from ledgerlink_sandboxes.quickbooks import xsd

KEY = "5b1f3f7e-4c1d-4a43-8d0e-2f6a4b1f9c11"
BASE = "http://127.0.0.1:8766"
REALM = "9130347596979486"

TRANSFER, PURCHASE, SALES_RECEIPT = transfer.ACTION, purchase.ACTION, sales_receipt.ACTION
ACTIONS = (TRANSFER, PURCHASE, SALES_RECEIPT)
ENTITY = {TRANSFER.name: ("Transfer", "transfer"), PURCHASE.name: ("Purchase", "purchase"),
          SALES_RECEIPT.name: ("SalesReceipt", "salesreceipt")}
IDS = [a.name.split(".")[1] for a in ACTIONS]


def ctx(**settings: Any) -> ActionContext:
    return ActionContext(connection=Connection("books", "quickbooks",
                                               {"base_url": BASE, "realm_id": REALM, **settings}),
                         idempotency_key=KEY, recipe_id="r", recipe_version=1, step_id="s",
                         event_id="evt_1")


def body_of(action, data: dict, context: ActionContext | None = None) -> dict:
    """The body perform sends, after checking it against Intuit's XSD and the input schema."""
    assert list(jsonschema.Draft202012Validator(action.input_schema).iter_errors(data)) == []
    request = first_request(action.perform(data, context or ctx()))
    assert isinstance(request, Request)
    assert request.url == f"{BASE}/v3/company/{REALM}/{ENTITY[action.name][1]}"
    assert request.params == {"minorversion": "75", "requestid": KEY}
    assert xsd.check(ENTITY[action.name][0], request.json) == []
    return request.json


def refused(action, data: dict, context: ActionContext | None = None) -> str:
    """The message of the InputError perform raises before yielding anything."""
    with pytest.raises(InputError) as info:
        drive(action.perform(data, context or ctx()), Script())
    return str(info.value)


@pytest.mark.parametrize("action", ACTIONS, ids=IDS)
def test_sample_round_trip_and_find_existing(action):
    """The sample's body passes the XSD; the sample answer reads into a valid output, and
    find_existing picks exactly that entity out of the day's."""
    entity, _ = ENTITY[action.name]
    body = body_of(action, action.sample)
    assert "CurrencyRef" not in jsonio.dumps({k: v for k, v in body.items() if k != "CurrencyRef"})
    response = Response(status=200, json=jsonio.loads(jsonio.dumps(action.sample_response)))
    assert xsd.check("IntuitResponse", response.json) == []
    output = drive(action.perform(action.sample, ctx()), Script(response)).value
    assert list(jsonschema.Draft202012Validator(action.output_schema).iter_errors(output)) == []
    stored = response.json[entity]
    assert output["id"] == stored["Id"] and type(output["total"]) is Decimal
    other = jsonio.loads(jsonio.dumps(stored))
    other.update({"Id": "999", "PrivateNote": "another event"})
    changed = jsonio.loads(jsonio.dumps(stored))
    changed["Id"] = "998"
    if entity == "Transfer":
        changed["Amount"] += Decimal("0.01")
    else:
        changed["Line"][0]["Amount"] += Decimal("0.01")

    def find(found: list) -> Any:
        driven = drive(action.find_existing(action.sample, ctx()),
                       Script({"QueryResponse": {entity: found}, "time": "2024-03-25T06:30:12-07:00"}))
        query = driven.requests[0].params["query"]
        assert query.startswith(f"SELECT * FROM {entity} WHERE ")
        assert f"TxnDate = '{action.sample['TxnDate']}'" in query
        return driven.value

    assert find([other, changed, stored]) == output
    assert find([other, changed]) is None


@pytest.mark.parametrize("action", ACTIONS, ids=IDS)
def test_undo_deletes_with_the_current_sync_token_and_an_entity_already_gone_is_undone(action):
    entity, endpoint = ENTITY[action.name]
    driven = drive(action.undo("181", ctx()),
                   Script({entity: {"Id": "181", "SyncToken": "3"}}, {entity: {"Id": "181", "status": "Deleted"}}))
    read, delete = driven.requests
    assert read.method == "GET" and read.url == f"{BASE}/v3/company/{REALM}/{endpoint}/181"
    assert delete.method == "POST" and delete.params["operation"] == "delete"
    assert delete.json == {"Id": "181", "SyncToken": "3"}
    gone = {"Fault": {"Error": [{"Message": "Object Not Found", "Detail": "Object Not Found : "
                                 "Something you're trying to use has been made inactive.",
                                 "code": "610"}], "type": "ValidationFault"}}
    assert drive(action.undo("181", ctx()), Script(Response(status=400, json=gone))).value["status"] == \
        "already gone"


# --- create_transfer -----------------------------------------------------------------------

def test_transfer_of_a_payout_and_a_negative_payout():
    payout = {"FromAccountRef": "92", "ToAccountRef": {"value": "35", "name": "Checking"},
              "Amount": "1185.30", "TxnDate": "2024-03-25", "PrivateNote": "po_1"}
    assert body_of(TRANSFER, payout) == {
        "FromAccountRef": {"value": "92"}, "ToAccountRef": {"value": "35", "name": "Checking"},
        "Amount": Decimal("1185.30"), "TxnDate": "2024-03-25", "PrivateNote": "po_1"}
    # a negative payout: Stripe debits the bank, the money goes back to the clearing account
    back = body_of(TRANSFER, {**payout, "Amount": "-42.10"})
    assert back["FromAccountRef"] == {"value": "35", "name": "Checking"}
    assert back["ToAccountRef"] == {"value": "92"} and back["Amount"] == Decimal("42.10")


def test_transfer_in_a_foreign_currency_carries_stripes_rate_exactly():
    data = {"FromAccountRef": {"value": "93", "CurrencyRef": "EUR"},
            "ToAccountRef": {"value": "36", "CurrencyRef": "eur"}, "Amount": "250.00",
            "CurrencyRef": "eur", "ExchangeRate": "1.082512"}
    body = body_of(TRANSFER, data)
    assert body["CurrencyRef"] == {"value": "EUR"} and body["ExchangeRate"] == Decimal("1.082512")
    assert body["FromAccountRef"] == {"value": "93"}  # the declaration is never sent
    assert "/ExchangeRate" in refused(TRANSFER, {k: v for k, v in data.items() if k != "ExchangeRate"})
    # JPY has no decimals, KWD three
    assert body_of(TRANSFER, {**data, "CurrencyRef": "JPY", "ExchangeRate": "0.0067",
                              "FromAccountRef": "94", "ToAccountRef": "37", "Amount": "12500"}
                   )["Amount"] == Decimal("12500")
    assert "/Amount" in refused(TRANSFER, {**data, "CurrencyRef": "JPY", "FromAccountRef": "94",
                                           "ToAccountRef": "37", "Amount": "12500.5"})
    assert body_of(TRANSFER, {**data, "CurrencyRef": "KWD", "ExchangeRate": "3.25",
                              "FromAccountRef": "95", "ToAccountRef": "38", "Amount": "10.125"}
                   )["Amount"] == Decimal("10.125")


def test_transfer_mistakes_are_refused_before_any_request_naming_the_field():
    base = {"FromAccountRef": "92", "ToAccountRef": "35", "Amount": "10.00"}
    assert "/Amount: Amount is 0" in refused(TRANSFER, {**base, "Amount": "0"})
    assert "/ToAccountRef: the money would move from account 92 to itself" in \
        refused(TRANSFER, {**base, "ToAccountRef": "92"})
    assert "/Amount" in refused(TRANSFER, {**base, "Amount": 10.5})  # a float is never money
    third = refused(TRANSFER, {**base, "FromAccountRef": {"value": "96", "CurrencyRef": "GBP"},
                               "ToAccountRef": {"value": "36", "CurrencyRef": "EUR"},
                               "CurrencyRef": "EUR", "ExchangeRate": "1.08"})
    assert "/FromAccountRef/CurrencyRef: the account is in GBP, but a QuickBooks transfer is in EUR " \
           "and the company's home currency is USD; QuickBooks refuses a transaction that touches " \
           "a third currency" in third
    # a EUR account in a transfer written in the home currency
    assert "/ToAccountRef/CurrencyRef: the account is in EUR" in \
        refused(TRANSFER, {**base, "ToAccountRef": {"value": "36", "CurrencyRef": "EUR"}})
    assert "/CurrencyRef: CurrencyRef is EUR, but both accounts are in USD" in \
        refused(TRANSFER, {**base, "FromAccountRef": {"value": "92", "CurrencyRef": "USD"},
                           "ToAccountRef": {"value": "35", "CurrencyRef": "USD"},
                           "CurrencyRef": "EUR", "ExchangeRate": "1.08"})
    everything = refused(TRANSFER, {"Amount": "1.001", "Extra": 1})
    for pointer in ("/FromAccountRef", "/ToAccountRef", "/Amount", "/Extra"):
        assert pointer in everything


# --- create_purchase -----------------------------------------------------------------------

def test_purchase_of_stripe_fees_by_type_balances_exactly():
    data = {"AccountRef": "92", "EntityRef": "57", "TxnDate": "2024-03-22", "DocNumber": "txn_1",
            "Lines": [{"Amount": "0.59", "AccountRef": "94", "Description": "stripe_fee"},
                      {"Amount": "0.30", "AccountRef": "97", "Description": "application_fee"},
                      {"Amount": "0.12", "AccountRef": "95", "Description": "tax", "TaxCodeRef": "NON"}],
            "Total": "1.01"}
    body = body_of(PURCHASE, data)
    assert body["AccountRef"] == {"value": "92"} and body["PaymentType"] == "Cash"
    assert body["EntityRef"] == {"value": "57", "type": "Vendor"}
    assert [(line["Amount"], line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"])
            for line in body["Line"]] == [(Decimal("0.59"), "94"), (Decimal("0.30"), "97"),
                                          (Decimal("0.12"), "95")]
    assert body["Line"][2]["AccountBasedExpenseLineDetail"]["TaxCodeRef"] == {"value": "NON"}
    assert drive(PURCHASE.perform(data, ctx()),
                 Script({"Purchase": {"Id": "7", "SyncToken": "0"}})).value["total"] == Decimal("1.01")
    short = refused(PURCHASE, {**data, "Total": "1.02"})
    assert "/Total: the lines add up to 1.01 USD, but Total is 1.02 USD: the lines are 0.01 USD " \
           "short" in short
    assert "/Lines/1/AccountRef: the expense would go to account 92, the account it is paid from" in \
        refused(PURCHASE, {**data, "Lines": [data["Lines"][0], {"Amount": "0.30", "AccountRef": "92"}]})


def test_purchase_currencies_kwd_and_the_paying_accounts_currency():
    data = {"AccountRef": {"value": "95", "CurrencyRef": "KWD"}, "CurrencyRef": "KWD",
            "ExchangeRate": "3.254117", "Lines": [{"Amount": "0.125", "AccountRef": "94"}]}
    body = body_of(PURCHASE, data)
    assert body["Line"][0]["Amount"] == Decimal("0.125") and body["ExchangeRate"] == Decimal("3.254117")
    assert "/Lines/0/Amount" in refused(PURCHASE, {**data, "Lines": [{"Amount": "0.1255", "AccountRef": "94"}]})
    # paid from a EUR clearing account but written in KWD
    assert "/AccountRef/CurrencyRef: the account the expense is paid from is in EUR, but the " \
           "transaction is in KWD" in refused(PURCHASE, {**data, "AccountRef": {"value": "93", "CurrencyRef": "EUR"}})
    assert "/Lines/0/AccountRef/CurrencyRef: the account is in GBP" in \
        refused(PURCHASE, {**data, "Lines": [{"Amount": "0.125",
                                              "AccountRef": {"value": "96", "CurrencyRef": "GBP"}}]})
    assert "/PaymentType" in refused(PURCHASE, {**data, "PaymentType": "Barter"})


# --- create_sales_receipt ------------------------------------------------------------------

def test_sales_receipt_deposits_a_charge_to_the_clearing_account():
    data = {"DepositToAccountRef": {"value": "93", "CurrencyRef": "EUR"}, "CurrencyRef": "EUR",
            "ExchangeRate": "1.0825", "CustomerRef": "1", "TxnDate": "2024-03-22",
            "Lines": [{"ItemRef": "1", "Qty": 3, "UnitPrice": "19.99"}], "Total": "59.97"}
    body = body_of(SALES_RECEIPT, data)
    assert body["DepositToAccountRef"] == {"value": "93"}
    assert body["Line"][0]["Amount"] == Decimal("59.97") and body["ExchangeRate"] == Decimal("1.0825")
    # a charge without a customer is still a sale
    assert "CustomerRef" not in body_of(SALES_RECEIPT, {k: v for k, v in data.items() if k != "CustomerRef"})
    assert "/Total" in refused(SALES_RECEIPT, {**data, "Total": "60.00"})
    assert "/DepositToAccountRef/CurrencyRef: the account is in GBP, but a QuickBooks sales receipt is in EUR" in \
        refused(SALES_RECEIPT, {**data, "DepositToAccountRef": {"value": "96", "CurrencyRef": "GBP"}})
    assert "/DepositToAccountRef: missing; the account the money is deposited to" in \
        refused(SALES_RECEIPT, {k: v for k, v in data.items() if k != "DepositToAccountRef"})
    assert "/Lines/0/Amount" in refused(SALES_RECEIPT, {**data, "CurrencyRef": "JPY", "Total": "1.5",
                                                        "DepositToAccountRef": "94",
                                                        "Lines": [{"ItemRef": "1", "Amount": "1.5"}]})


def test_check_sees_the_account_currencies_a_recipe_declares():
    """``ledgerlink check`` collects each account reference with what it declares beside its
    id, so the company can confirm the currency (references.py holds it against the account)."""
    from ledgerlink.engine.preflight import declared_references

    found = {(entity, ident): says for action in ACTIONS
             for entity, ident, _, says in declared_references(action.sample, action.input_schema,
                                                               action.input_schema, {}, "/input")}
    assert found[("Account", "92")] == {"CurrencyRef": "USD"}  # the transfer's clearing account
    assert found[("Account", "35")] == {"CurrencyRef": None}  # declared nothing
    assert found[("Account", "93")] == {"CurrencyRef": "EUR"}  # the purchase's, paid from
    assert found[("Account", "94")] == {"CurrencyRef": None}  # an expense line's account
    assert ("Vendor", "57") in found and ("Item", "1") in found


@pytest.mark.parametrize("action, data, keys", [
    (payment.ACTION, {"CustomerRef": "1", "TotalAmt": "10.00", "InvoiceId": "130"}, ("DepositToAccountRef",)),
    (sales_forms.CREATE_REFUND_RECEIPT, {"Lines": [{"ItemRef": "1", "Amount": "10.00"}]}, ("DepositToAccountRef",)),
    (deposit.ACTION, {"Amount": "10.00"}, ("DepositToAccountRef", "FromAccountRef")),
], ids=["payment", "refund_receipt", "deposit"])
def test_the_clearing_account_of_a_payment_refund_or_deposit_may_declare_its_currency(action, data, keys):
    """Mode 1 deposits a payment to the clearing account of its currency, pays a refund out of
    it, and a won dispute back into it: the account may declare its currency there too."""
    eur = {"CurrencyRef": "EUR", "ExchangeRate": "1.0825"}
    accounts = {key: {"value": str(90 + index), "CurrencyRef": "EUR"} for index, key in enumerate(keys)}
    body = first_request(action.perform({**data, **accounts, **eur}, ctx())).json
    assert body["DepositToAccountRef"] == {"value": "90"}  # the declaration is never sent
    if "FromAccountRef" in keys:
        assert body["Line"][0]["DepositLineDetail"]["AccountRef"] == {"value": "91"}
    assert xsd.check({"quickbooks.create_payment": "Payment", "quickbooks.create_refund_receipt": "RefundReceipt",
                      "quickbooks.create_deposit": "Deposit"}[action.name], body) == []
    third = {**accounts, keys[0]: {"value": "96", "CurrencyRef": "GBP"}}
    assert f"/{keys[0]}/CurrencyRef: the account is in GBP, but {action.name.replace('quickbooks.create_', 'a QuickBooks ').replace('_', ' ')} is in EUR" \
        in refused(action, {**data, **third, **eur})
