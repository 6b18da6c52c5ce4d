"""The QuickBooks sales, payment and deposit actions driven by hand: no HTTP.

quickbooks.create_invoice, create_payment, create_credit_memo, create_refund_receipt and
create_deposit: every request they yield is checked against Intuit's XSD (the shipped copy
and the vendor's), amounts are exact in USD, EUR, JPY and KWD, mistakes are refused before
any request exists, and find_existing finds what perform created.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema
import pytest

import ledgerlink_quickbooks
from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.errors import ConfigError, InputError, VendorError
from ledgerlink.testing import Script, drive, first_request
from ledgerlink_quickbooks import deposit, fields, payment, sales_forms
from ledgerlink_sandboxes.quickbooks import xsd


KEY = "7d0c7a8e-1f1e-4c55-9a57-0c0e1d5b6a21"
BASE = "http://127.0.0.1:8766"
REALM = "9130347596979486"
SETTINGS = {"base_url": BASE, "realm_id": REALM}

INVOICE = sales_forms.CREATE_INVOICE
CREDIT_MEMO = sales_forms.CREATE_CREDIT_MEMO
REFUND_RECEIPT = sales_forms.CREATE_REFUND_RECEIPT
PAYMENT = payment.ACTION
DEPOSIT = deposit.ACTION
NEW = (INVOICE, PAYMENT, CREDIT_MEMO, REFUND_RECEIPT, DEPOSIT)
ENTITY = {INVOICE.name: ("Invoice", "invoice"), PAYMENT.name: ("Payment", "payment"),
          CREDIT_MEMO.name: ("CreditMemo", "creditmemo"),
          REFUND_RECEIPT.name: ("RefundReceipt", "refundreceipt"),
          DEPOSIT.name: ("Deposit", "deposit")}
IDS = [a.name.split(".")[1] for a in NEW]


def ctx(key: str = KEY, **settings: Any) -> ActionContext:
    return ActionContext(connection=Connection("books", "quickbooks", {**SETTINGS, **settings}),
                         idempotency_key=key, recipe_id="r", recipe_version=1, step_id="s",
                         event_id="evt_1")


def xsd_problems(action, body) -> list[str]:
    entity = ENTITY[action.name][0]
    return xsd.check(entity, body)


def request_for(action, data, context: ActionContext | None = None) -> Request:
    """The one request perform yields, after checking it against both copies of the XSD."""
    request = first_request(action.perform(data, context or ctx()))
    assert isinstance(request, Request)
    assert xsd_problems(action, request.json) == []
    return request


def run(action, data, response: Response, context: ActionContext | None = None) -> dict:
    """The output of perform, its one request answered with ``response``."""
    return drive(action.perform(data, context or ctx()), Script(response)).value


def refused(action, data, context: ActionContext | None = None) -> InputError:
    """The InputError perform raises before yielding anything (the script answers nothing)."""
    with pytest.raises(InputError) as info:
        drive(action.perform(data, context or ctx()), Script())
    return info.value


def validate_input(action, data) -> list[jsonschema.ValidationError]:
    return list(jsonschema.Draft202012Validator(action.input_schema).iter_errors(data))


def item(amount=None, item_ref="1", **extra) -> dict:
    line = {"ItemRef": item_ref, **extra}
    if amount is not None:
        line["Amount"] = amount
    return line


def sales_line(amount: Decimal, item_ref: str = "1", **detail: Any) -> dict:
    description = detail.pop("Description", None)
    line = {"Description": description} if description is not None else {}
    line.update({"Amount": amount, "DetailType": "SalesItemLineDetail",
                 "SalesItemLineDetail": {"ItemRef": {"value": item_ref}, **detail}})
    return line


# minimal valid inputs, one per action, in the home currency (USD)
MINIMAL = {
    INVOICE.name: {"CustomerRef": "1", "Lines": [item("10.00")]},
    CREDIT_MEMO.name: {"CustomerRef": "1", "Lines": [item("10.00")]},
    REFUND_RECEIPT.name: {"DepositToAccountRef": "4", "Lines": [item("10.00")]},
    PAYMENT.name: {"CustomerRef": "1", "TotalAmt": "10.00", "InvoiceId": "130"},
    DEPOSIT.name: {"DepositToAccountRef": "35", "Amount": "10.00", "FromAccountRef": "4"},
}


def with_amount(action, amount, **extra) -> dict:
    """The minimal input of ``action`` with its one amount replaced."""
    data = jsonio.loads(jsonio.dumps(MINIMAL[action.name]))
    if action in (INVOICE, CREDIT_MEMO, REFUND_RECEIPT):
        data["Lines"][0]["Amount"] = amount
    elif action is PAYMENT:
        data["TotalAmt"] = amount
    else:
        data["Amount"] = amount
    data.update(extra)
    return data


def sent_amount(action, body) -> Decimal:
    if action is PAYMENT:
        assert body["Line"][0]["Amount"] == body["TotalAmt"]
        return body["TotalAmt"]
    return body["Line"][0]["Amount"]


# --- the registered actions, their schemas and samples ---------------------------------------

@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_action_is_registered_stable_and_keyed(action, catalog):
    registered = catalog.actions[action.name]
    assert (registered.plugin, registered.status, registered.idempotency) == ("quickbooks", "stable", "key")
    assert registered.perform is action.perform
    assert callable(registered.find_existing)
    assert registered.sample_response is not None


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_schemas_declare_2020_12_and_the_one_output_shape(action):
    """(Valid schemas with every property described: the conformance suite.)"""
    for schema in (action.input_schema, action.output_schema):
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(action.output_schema["properties"]) == {"id", "sync_token", "doc_number", "txn_date",
                                                       "total", "currency"}


REFERENCES = {
    INVOICE.name: {"CustomerRef": "Customer", "DefaultTaxCodeRef": "TaxCode"},
    CREDIT_MEMO.name: {"CustomerRef": "Customer", "DefaultTaxCodeRef": "TaxCode"},
    REFUND_RECEIPT.name: {"CustomerRef": "Customer", "DepositToAccountRef": "Account"},
    PAYMENT.name: {"CustomerRef": "Customer", "DepositToAccountRef": "Account"},
    DEPOSIT.name: {"DepositToAccountRef": "Account", "FromAccountRef": "Account", "Entity": "Entity"},
}


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_reference_fields_are_annotated_for_ledgerlink_check(action):
    properties = action.input_schema["properties"]
    for key, entity in REFERENCES[action.name].items():
        assert properties[key]["x-ledgerlink-ref"] == entity, key
    line = action.input_schema["$defs"].get("line", {}).get("properties", {})
    for key, entity in {"ItemRef": "Item", "TaxCodeRef": "TaxCode", "AccountRef": "Account",
                        "DiscountAccountRef": "Account", "ClassRef": "Class"}.items():
        if key in line:
            assert line[key]["x-ledgerlink-ref"] == entity, key


def test_home_currency_is_a_described_setting_with_default_usd():
    schema = ledgerlink_quickbooks.CONNECTOR.settings_schema
    prop = schema["properties"]["home_currency"]
    assert prop["default"] == "USD" and "ExchangeRate" in prop["description"]
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors({"realm_id": "1", "home_currency": "GBP"})) == []
    assert list(validator.iter_errors({"realm_id": "1", "home_currency": "pounds"}))
    assert fields.home_currency(ctx()) == "USD"
    assert fields.home_currency(ctx(home_currency="gbp")) == "GBP"
    with pytest.raises(ConfigError) as info:
        next(INVOICE.perform(MINIMAL[INVOICE.name], ctx(home_currency="XYZ")))
    assert "home_currency" in str(info.value)


def strip_answer_only(line: dict) -> dict:
    return {k: v for k, v in line.items() if k not in ("Id", "LineNum")}


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_sample_sample_response_and_output_agree(action):
    entity, endpoint = ENTITY[action.name]
    assert validate_input(action, action.sample) == []
    request = request_for(action, action.sample)
    assert request.method == "POST"
    assert request.url == f"{BASE}/v3/company/{REALM}/{endpoint}"
    assert request.params == {"minorversion": "75", "requestid": KEY}
    assert request.headers == {"Accept": "application/json", "Content-Type": "application/json"}
    response = action.sample_response_for(request)
    assert response.status == 200
    assert xsd.check("IntuitResponse", response.json) == []
    stored = response.json[entity]
    assert xsd_problems(action, stored) == []
    # the sample answer echoes what the sample sends
    sent = request.json
    for key, value in sent.items():
        if key == "Line":
            continue
        assert stored[key] == value or stored[key] == {**value, "name": stored[key].get("name")}, key
    kept = [strip_answer_only(line) for line in stored["Line"]
            if line.get("DetailType") != "SubTotalLineDetail"]
    assert kept == sent["Line"]
    output = run(action, action.sample, response)
    assert list(jsonschema.Draft202012Validator(action.output_schema).iter_errors(output)) == []
    assert output["id"] == stored["Id"] and output["total"] == stored["TotalAmt"]
    assert type(output["total"]) is Decimal


# --- the invoice request ---------------------------------------------------------------------

def test_invoice_request_is_exact():
    data = {
        "CustomerRef": {"value": "1", "name": "Amy's Bird Sanctuary"},
        "TxnDate": "2024-03-15", "DueDate": "2024-04-14", "DocNumber": "INV-7",
        "PrivateNote": "Stripe invoice in_1", "CustomerMemo": "Thanks", "CurrencyRef": "usd",
        "DefaultTaxCodeRef": "TAX", "GlobalTaxCalculation": "TaxExcluded",
        "Lines": [
            item("59.97", Qty=3, UnitPrice="19.99", Description="Widgets", TaxCodeRef="NON",
                 ClassRef="7", ServiceDate="2024-03-01"),
            item(Decimal("-5.00"), "2", Qty=1, Description="Proration credit"),
            item(None, "2", Qty="0.5", UnitPrice="40"),
            {"DetailType": "DiscountLineDetail", "Amount": "4.97", "DiscountAccountRef": "90",
             "Description": "Coupon"},
        ],
        "Total": "70.00",
    }
    assert validate_input(INVOICE, data) == []
    request = request_for(INVOICE, data)
    assert request.url == f"{BASE}/v3/company/{REALM}/invoice"
    assert request.json == {
        "CurrencyRef": {"value": "USD"},
        "CustomerRef": {"value": "1", "name": "Amy's Bird Sanctuary"},
        "TxnDate": "2024-03-15", "DocNumber": "INV-7", "PrivateNote": "Stripe invoice in_1",
        "DueDate": "2024-04-14", "CustomerMemo": {"value": "Thanks"},
        "GlobalTaxCalculation": "TaxExcluded",
        "Line": [
            sales_line(Decimal("59.97"), Description="Widgets", ClassRef={"value": "7"},
                       ServiceDate="2024-03-01", UnitPrice=Decimal("19.99"), Qty=3,
                       TaxCodeRef={"value": "NON"}),
            sales_line(Decimal("-5.00"), "2", Description="Proration credit",
                       UnitPrice=Decimal("-5.00"), Qty=1, TaxCodeRef={"value": "TAX"}),
            sales_line(Decimal("20.00"), "2", UnitPrice=Decimal("40"), Qty=Decimal("0.5"),
                       TaxCodeRef={"value": "TAX"}),
            {"Description": "Coupon", "Amount": Decimal("4.97"), "DetailType": "DiscountLineDetail",
             "DiscountLineDetail": {"PercentBased": False, "DiscountAccountRef": {"value": "90"}}},
        ],
    }
    # Qty × UnitPrice was derived or checked exactly
    for line in request.json["Line"][:3]:
        detail = line["SalesItemLineDetail"]
        assert detail["Qty"] * detail["UnitPrice"] == line["Amount"]


def test_discount_shorthand_adds_a_list_of_amounts_into_one_line():
    data = {"CustomerRef": "1", "Lines": [item("100.00"), item("20.00")],
            "Discount": {"Amount": ["5.00", Decimal("2.50"), 0], "DiscountAccountRef": "90"},
            "Total": "112.50"}
    body = request_for(INVOICE, data).json
    assert body["Line"][-1] == {"Amount": Decimal("7.50"), "DetailType": "DiscountLineDetail",
                                "DiscountLineDetail": {"PercentBased": False,
                                                       "DiscountAccountRef": {"value": "90"}}}
    # no discount, no line
    for nothing in ([], 0, "0.00"):
        body = request_for(INVOICE, {**data, "Discount": {"Amount": nothing}, "Total": "120.00"}).json
        assert [line["DetailType"] for line in body["Line"]] == ["SalesItemLineDetail"] * 2


@pytest.mark.parametrize("line, qty, price", [
    (item("10.00", Qty=4), Decimal("4"), Decimal("2.50")),
    (item("10.00", UnitPrice="2.5"), Decimal("4"), Decimal("2.5")),
    (item("0.00", Qty=0), Decimal("0"), None),
    (item("1000", UnitPrice="0.5"), Decimal("2000"), Decimal("0.5")),
    (item(None, Qty=3, UnitPrice="3.33"), Decimal("3"), Decimal("3.33")),
])
def test_the_missing_one_of_amount_qty_and_price_is_derived_exactly(line, qty, price):
    body = request_for(INVOICE, {"CustomerRef": "1", "Lines": [line]}).json
    detail = body["Line"][0]["SalesItemLineDetail"]
    assert detail.get("Qty") == qty and detail.get("UnitPrice") == price
    if price is not None:
        assert detail["Qty"] * detail["UnitPrice"] == body["Line"][0]["Amount"]
    assert "E" not in jsonio.dumps(body)


def test_an_amount_alone_is_sent_alone():
    body = request_for(INVOICE, {"CustomerRef": "1", "Lines": [item("12.00")]}).json
    assert body["Line"][0]["SalesItemLineDetail"] == {"ItemRef": {"value": "1"}}


# --- exact money in four currencies -----------------------------------------------------------

# (currency, home currency, ExchangeRate, amount given, exact amount sent)
CURRENCIES = [
    ("USD", "USD", None, "1234.56", "1234.56"),
    ("USD", "USD", None, Decimal("10"), "10.00"),
    ("EUR", "USD", "1.0825", "0.10", "0.10"),
    # Stripe's exchange_rate of a EUR charge settled in USD, sent digit for digit
    ("EUR", "USD", "1.082512345678", "25.00", "25.00"),
    ("EUR", "EUR", None, "99.90", "99.90"),
    ("JPY", "USD", "0.0067", "123456", "123456"),
    ("JPY", "USD", "0.0067", "1500.00", "1500"),
    ("KWD", "USD", "3.2531", "123.450", "123.450"),
    ("KWD", "USD", "3.2531", "5.12", "5.120"),
]


@pytest.mark.parametrize("action", NEW, ids=IDS)
@pytest.mark.parametrize("code, home, rate, given, exact", CURRENCIES,
                         ids=[f"{c[0]}-{c[3]}-home-{c[1]}" for c in CURRENCIES])
def test_amounts_are_exact_with_the_currency_precision(action, code, home, rate, given, exact):
    extra = {"CurrencyRef": code.lower()}
    if rate is not None:
        extra["ExchangeRate"] = rate
    data = with_amount(action, given, **extra)
    assert validate_input(action, data) == []
    body = request_for(action, data, ctx(home_currency=home)).json
    amount = sent_amount(action, body)
    assert type(amount) is Decimal and str(amount) == exact
    assert body["CurrencyRef"] == {"value": code}
    if rate is None:
        assert "ExchangeRate" not in body
    else:
        assert body["ExchangeRate"] == Decimal(rate) and str(body["ExchangeRate"]) == rate
    text = jsonio.dumps(body)
    assert f'"Amount":{exact}' in text
    if rate is not None:
        assert f'"ExchangeRate":{rate}' in text


def test_floats_would_have_lost_cents_and_decimals_do_not():
    data = {"CustomerRef": "1", "Lines": [item(Decimal("0.10")), item("0.20")], "Total": "0.30"}
    assert 0.1 + 0.2 != 0.3
    body = request_for(INVOICE, data).json
    assert [line["Amount"] for line in body["Line"]] == [Decimal("0.10"), Decimal("0.20")]


@pytest.mark.parametrize("action", NEW, ids=IDS)
@pytest.mark.parametrize("code, given", [("USD", "12.345"), ("JPY", "1500.5"), ("KWD", "5.1234"),
                                         ("USD", "0.001")])
def test_more_decimals_than_the_currency_has_are_refused_not_rounded(action, code, given):
    extra = {"CurrencyRef": code} if code == "USD" else {"CurrencyRef": code, "ExchangeRate": "2"}
    error = refused(action, with_amount(action, given, **extra))
    assert f"has more decimals than {code} has" in str(error)


# --- refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_a_float_amount_is_refused(action):
    error = refused(action, with_amount(action, 12.5))
    assert "is the float 12.5; floats lose cents" in str(error)
    assert error.details["problems"][0].startswith(
        {PAYMENT.name: "/TotalAmt", DEPOSIT.name: "/Amount"}.get(action.name, "/Lines/0/Amount"))


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_a_float_exchange_rate_is_refused(action):
    error = refused(action, with_amount(action, "1.00", CurrencyRef="EUR", ExchangeRate=1.08))
    assert "/ExchangeRate: ExchangeRate is the float 1.08" in str(error)


@pytest.mark.parametrize("action", NEW, ids=IDS)
@pytest.mark.parametrize("code, home", [("EUR", "USD"), ("usd", "GBP"), ("JPY", "USD")])
def test_a_foreign_currency_without_exchange_rate_is_refused(action, code, home):
    data = with_amount(action, "10", CurrencyRef=code)
    assert validate_input(action, data) == []  # only the connection knows the home currency
    error = refused(action, data, ctx(home_currency=home))
    message = str(error)
    assert f"CurrencyRef is {code.upper()}, not the company's home currency {home}" in message
    assert "give ExchangeRate" in message and "1:1" in message
    assert error.details["problems"][0].startswith("/ExchangeRate: ")


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_a_rate_other_than_1_for_the_home_currency_is_refused(action):
    error = refused(action, with_amount(action, "10", CurrencyRef="USD", ExchangeRate="1.1"))
    assert "ExchangeRate is 1.1, but USD is the company's home currency" in str(error)
    # a rate of 1 is harmless and left out
    body = request_for(action, with_amount(action, "10", ExchangeRate="1")).json
    assert "ExchangeRate" not in body


@pytest.mark.parametrize("action", (INVOICE, CREDIT_MEMO, REFUND_RECEIPT), ids=IDS[:1] + IDS[2:4])
@pytest.mark.parametrize("line, needle", [
    (item("10.00", Qty=3, UnitPrice="3.33"), "Amount 10.00 is not Qty 3 × UnitPrice 3.33 = 9.99"),
    (item("10.00", Qty="2", UnitPrice="5.01"), "Amount 10.00 is not Qty 2 × UnitPrice 5.01 = 10.02"),
    (item("10.00", Qty=3), "Amount 10.00 ÷ Qty 3 is not an exact decimal"),
    (item("10.00", UnitPrice="3"), "Amount 10.00 ÷ UnitPrice 3 is not an exact, non-negative quantity"),
    (item("5.00", Qty=0), "Qty is 0 but Amount is 5.00"),
    (item(None, Qty=3, UnitPrice="3.333"), "Qty × UnitPrice 9.999 has more decimals than USD has (2)"),
    (item(None, Qty=3), "the line has no Amount and no UnitPrice"),
    ({"Amount": "1.00"}, "the line has no ItemRef"),
    (item("1.00", Qty="-1"), "Qty must not be negative"),
])
def test_qty_times_unit_price_must_be_the_amount_exactly(action, line, needle):
    data = with_amount(action, "1")
    data["Lines"] = [line]
    error = refused(action, data)
    assert needle in str(error)


@pytest.mark.parametrize("action", (INVOICE, CREDIT_MEMO, REFUND_RECEIPT), ids=IDS[:1] + IDS[2:4])
def test_lines_must_add_up_to_the_total_given(action):
    data = with_amount(action, "1")
    data["Lines"] = [item("100.00"), item("20.00")]
    data["Discount"] = {"Amount": "5.00"}
    assert request_for(action, {**data, "Total": "115.00"}).json
    error = refused(action, {**data, "Total": "115.01"})
    assert str(error).endswith(
        "/Total: the lines add up to 115.00 USD (items 120.00 − discount 5.00), but Total is "
        "115.01 USD: the lines are 0.01 USD short; a line or the discount is missing or wrong")
    error = refused(action, {**data, "Total": "114"})
    assert "the lines are 1.00 USD over" in str(error)


def test_a_negative_total_and_two_discounts_are_refused():
    data = {"CustomerRef": "1", "Lines": [item("5.00"), item("-6.00")]}
    assert "cannot have a negative total" in str(refused(INVOICE, data))
    data = {"CustomerRef": "1", "Discount": {"Amount": "1.00"},
            "Lines": [item("5.00"), {"DetailType": "DiscountLineDetail", "Amount": "1.00"}]}
    assert "/Discount: a QuickBooks invoice takes one discount, and the input gives 2" in str(refused(INVOICE, data))


def test_every_invoice_problem_is_reported_at_once():
    data = {"CustomerRef": 1, "TxnDate": "2024-02-30", "DocNumber": "X" * 22, "Colour": "red",
            "CurrencyRef": "EUR", "GlobalTaxCalculation": "Sometimes",
            "Lines": [item(1.5), {"ItemRef": "1", "Amount": "1", "Memo": "x"},
                      {"DetailType": "GroupLineDetail"}, "line"]}
    error = refused(INVOICE, data)
    assert error.details["problems"] == [
        "/Colour: unknown input 'Colour'; inputs are CustomerRef, Lines, Discount, DefaultTaxCodeRef, "
        "GlobalTaxCalculation, Total, TxnDate, DocNumber, PrivateNote, CustomerMemo, CurrencyRef, "
        "ExchangeRate, DueDate",
        "/ExchangeRate: CurrencyRef is EUR, not the company's home currency USD (connection setting "
        "home_currency), so give ExchangeRate: how many USD one EUR is worth on the transaction date "
        "(e.g. the exchange_rate of the Stripe balance transaction); without it QuickBooks would book "
        "the amounts at a rate of its own choosing, such as 1:1",
        '/CustomerRef: CustomerRef must be a QuickBooks Id string such as "1" or {"value": "1", '
        '"name": "…"}, got int 1',
        "/TxnDate: '2024-02-30' is not a calendar date",
        "/DocNumber: DocNumber is 22 characters long; QuickBooks keeps at most 21, so shorten it",
        "/GlobalTaxCalculation: must be one of TaxExcluded, TaxInclusive, NotApplicable, got str 'Sometimes'",
        "/Lines/0/Amount: Amount is the float 1.5; floats lose cents, so pass a Decimal or a decimal "
        "string such as \"12.50\" or \"-12.50\" (a recipe's \"$as\": \"money\" or \"decimal\" gives "
        "one, as does the source system's own money transform)",
        "/Lines/1/Memo: unknown item line key 'Memo'; item line keys are DetailType, ItemRef, "
        "Description, Qty, UnitPrice, Amount, TaxCodeRef, ClassRef, ServiceDate",
        '/Lines/2/DetailType: must be "SalesItemLineDetail" (the default) or "DiscountLineDetail", '
        "got str 'GroupLineDetail'",
        "/Lines/3: line 3 must be an object with ItemRef and Amount, got str 'line'",
    ]
    assert validate_input(INVOICE, {k: v for k, v in data.items() if k != "Lines"})


@pytest.mark.parametrize("action, data, needle", [
    (INVOICE, {"Lines": [item("1")]}, "/CustomerRef: missing"),
    (INVOICE, {"CustomerRef": "1", "Lines": []}, "/Lines: is empty"),
    (CREDIT_MEMO, {"CustomerRef": "1"}, "/Lines: missing"),
    (REFUND_RECEIPT, {"Lines": [item("1")]}, "/DepositToAccountRef: missing; the account the refund is paid from"),
    (INVOICE, {"CustomerRef": "1", "Lines": [{"DetailType": "DiscountLineDetail", "Amount": "1",
                                             "ItemRef": "1"}]}, "unknown discount line key 'ItemRef'"),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "1"}, "/InvoiceId: missing; give the invoice the payment pays"),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "1", "InvoiceId": "1",
               "Lines": [{"InvoiceId": "1", "Amount": "1"}]}, "InvoiceId cannot be used together with Lines"),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "1", "InvoiceId": 130}, "InvoiceId must be the QuickBooks Id"),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "10.00", "Lines": [{"InvoiceId": "1", "Amount": "6"},
                                                                  {"InvoiceId": "2", "Amount": "4.01"}]},
     "the lines apply 10.01 USD, more than TotalAmt 10.00 USD"),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "10.00", "Lines": [{"InvoiceId": "1", "Amount": "1"},
                                                                  {"InvoiceId": "1", "Amount": "1"}]},
     "invoice 1 is already paid by line 0"),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "0", "InvoiceId": "1"}, "TotalAmt must be greater than 0"),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "1", "InvoiceId": "1", "PaymentRefNum": "P" * 22},
     "PaymentRefNum is 22 characters long"),
    (DEPOSIT, {"DepositToAccountRef": "35"}, "give either the shorthand Amount + FromAccountRef"),
    (DEPOSIT, {"DepositToAccountRef": "35", "Amount": "1"}, "/FromAccountRef: missing"),
    (DEPOSIT, {"DepositToAccountRef": "35", "Amount": "1", "FromAccountRef": "35"},
     "the money would come from account 35, the account it is deposited to"),
    (DEPOSIT, {"DepositToAccountRef": "35", "Amount": "1", "FromAccountRef": "4",
               "Lines": [{"Amount": "1", "AccountRef": "4"}]}, "Amount, FromAccountRef cannot be used together with Lines"),
    (DEPOSIT, {"DepositToAccountRef": "35", "Lines": [{"Amount": "5", "AccountRef": "4"},
                                                       {"Amount": "-6", "AccountRef": "62"}]},
     "the lines add up to -1.00 USD; a deposit must add up to more than 0"),
    (DEPOSIT, {"DepositToAccountRef": "35", "Lines": [{"Amount": "0", "AccountRef": "4"}]}, "Amount is 0"),
    (DEPOSIT, {"DepositToAccountRef": "35", "Amount": "10.00", "FromAccountRef": "4", "Total": "10.01"},
     "the lines add up to 10.00 USD, but Total is 10.01 USD: the lines are 0.01 USD short"),
    (DEPOSIT, {"DepositToAccountRef": "35", "Amount": "1", "FromAccountRef": "4",
               "Entity": {"Type": "Job", "EntityRef": "1"}}, "/Entity/Type: must be one of Customer, Vendor, Employee"),
])
def test_input_mistakes_say_what_to_fix(action, data, needle):
    assert needle in str(refused(action, data))


@pytest.mark.parametrize("action, data", [
    (INVOICE, {"Lines": [item("1")]}),
    (INVOICE, {"CustomerRef": "1", "Lines": [{"Amount": "1"}]}),
    (INVOICE, {"CustomerRef": "1", "Lines": [item(None, Qty=1)]}),
    (INVOICE, {"CustomerRef": "1", "Lines": [{"DetailType": "DiscountLineDetail", "Amount": "1", "Qty": 1}]}),
    (REFUND_RECEIPT, {"Lines": [item("1")]}),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "1"}),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "1", "InvoiceId": "1", "Lines": [{"InvoiceId": "1", "Amount": "1"}]}),
    (PAYMENT, {"CustomerRef": "1", "TotalAmt": "-1", "InvoiceId": "1"}),
    (DEPOSIT, {"DepositToAccountRef": "35"}),
    (DEPOSIT, {"DepositToAccountRef": "35", "Amount": "1", "FromAccountRef": "4",
               "Lines": [{"Amount": "1", "AccountRef": "4"}]}),
])
def test_the_input_schema_refuses_what_perform_refuses(action, data):
    assert validate_input(action, data)
    refused(action, data)


def test_deposit_lines_with_a_negative_fee_line():
    data = {"DepositToAccountRef": {"value": "35", "name": "Checking"}, "Total": "97.10",
            "Lines": [{"Amount": "100.00", "AccountRef": "4", "Description": "gross",
                       "Entity": {"Type": "Customer", "EntityRef": {"value": "1", "name": "Amy"}},
                       "PaymentMethodRef": "3", "CheckNum": "po_1", "ClassRef": "7"},
                      {"Amount": "-2.90", "AccountRef": "62", "Description": "Stripe fees"}]}
    assert validate_input(DEPOSIT, data) == []
    body = request_for(DEPOSIT, data).json
    assert body == {
        "DepositToAccountRef": {"value": "35", "name": "Checking"},
        "Line": [
            {"Description": "gross", "Amount": Decimal("100.00"), "DetailType": "DepositLineDetail",
             "DepositLineDetail": {"Entity": {"value": "1", "name": "Amy", "type": "CUSTOMER"},
                                   "AccountRef": {"value": "4"}, "PaymentMethodRef": {"value": "3"},
                                   "ClassRef": {"value": "7"}, "CheckNum": "po_1"}},
            {"Description": "Stripe fees", "Amount": Decimal("-2.90"), "DetailType": "DepositLineDetail",
             "DepositLineDetail": {"AccountRef": {"value": "62"}}},
        ],
    }


def test_payment_lines_apply_to_several_invoices():
    data = {"CustomerRef": "1", "TotalAmt": "30.00",
            "Lines": [{"InvoiceId": "130", "Amount": "20.00"}, {"InvoiceId": "131", "Amount": "5.00"}]}
    body = request_for(PAYMENT, data).json
    assert body == {"CustomerRef": {"value": "1"}, "TotalAmt": Decimal("30.00"), "Line": [
        {"Amount": Decimal("20.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
        {"Amount": Decimal("5.00"), "LinkedTxn": [{"TxnId": "131", "TxnType": "Invoice"}]}]}


@pytest.mark.parametrize("action", NEW, ids=IDS)
@pytest.mark.parametrize("key, needle", [("k" * 51, "51 characters long"), ("", "no idempotency key")])
def test_bad_idempotency_keys_are_refused(action, key, needle):
    with pytest.raises(InputError) as info:
        next(action.perform(action.sample, ctx(key=key)))
    assert needle in str(info.value)


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_requestid_is_the_step_key_and_realm_id_is_checked(action):
    assert request_for(action, action.sample, ctx(key="k" * 50)).params["requestid"] == "k" * 50
    with pytest.raises(ConfigError):
        next(action.perform(action.sample, ActionContext(
            connection=Connection("q", "quickbooks", {"base_url": BASE}), idempotency_key=KEY)))


# --- the answer -----------------------------------------------------------------------------------

@pytest.mark.parametrize("action", NEW, ids=IDS)
@pytest.mark.parametrize("response, kind", [
    (Response(status=400, json={"Fault": {"Error": [{"Message": "Invalid Reference Id", "Detail":
                                                     "Invalid Reference Id : Item assigned to this "
                                                     "transaction has been deleted", "code": "2500",
                                                     "element": "Line.SalesItemLineDetail.ItemRef"}],
                                          "type": "ValidationFault"}}), "permanent"),
    (Response(status=429, json={"Fault": {"Error": [{"Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                                                     "code": "3001"}], "type": "SERVICE"}}), "retry"),
    (Response(status=401, json={"fault": {"error": [{"message": "AuthenticationFailed", "code": "3200"}],
                                          "type": "AuthenticationFault"}}), "reauth"),
    # a success answer without the entity: it may have been created, so it is looked up
    (Response(status=200, json={"time": "2024-03-15T09:12:44.512-07:00"}), "unknown"),
])
def test_faults_become_vendor_errors(action, response, kind):
    with pytest.raises(VendorError) as info:
        drive(action.perform(action.sample, ctx()), Script(response))
    assert info.value.kind == kind


def test_output_total_is_qbo_total_with_tax_or_the_lines_total():
    data = {"CustomerRef": "1", "Lines": [item("100.00", TaxCodeRef="TAX")]}
    out = run(INVOICE, data, Response(status=200, json={"Invoice": {
        "Id": "9", "SyncToken": "0", "TotalAmt": Decimal("108.25"), "DocNumber": "1001",
        "TxnDate": "2024-03-15", "CurrencyRef": {"value": "USD", "name": "United States Dollar"}}}))
    assert out == {"id": "9", "sync_token": "0", "doc_number": "1001", "txn_date": "2024-03-15",
                   "total": Decimal("108.25"), "currency": "USD"}
    out = run(INVOICE, {**data, "CurrencyRef": "KWD", "ExchangeRate": "3.25", "Lines": [item("5.12")]},
              Response(status=200, json={"Invoice": {"Id": 9}}))
    assert out == {"id": "9", "sync_token": "0", "total": Decimal("5.120"), "currency": "KWD"}


# --- find_existing ---------------------------------------------------------------------------------

def drive_find(action, data, found: list[dict], context: ActionContext | None = None):
    """Run find_existing, answering its one query with ``found``; returns (request, result)."""
    entity = ENTITY[action.name][0]
    driven = drive(action.find_existing(data, context or ctx()),
                   Script({"QueryResponse": {entity: found, "startPosition": 1, "maxResults": len(found)},
                           "time": "2024-03-15T09:12:45.000-07:00"}))
    return driven.requests[0], driven.value


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_find_existing_finds_what_perform_created(action):
    entity = ENTITY[action.name][0]
    request = request_for(action, action.sample)
    response = action.sample_response_for(request)
    created = run(action, action.sample, response)
    stored = response.json[entity]
    # another transaction of the same day that is not this step's
    other = jsonio.loads(jsonio.dumps(stored))
    other.update({"Id": "999", "PrivateNote": "another event"})
    query, found = drive_find(action, action.sample, [other, stored])
    assert found == created
    assert query.method == "GET"
    assert query.url == f"{BASE}/v3/company/{REALM}/query"
    assert set(query.params) == {"minorversion", "query"}  # reads carry no requestid
    text = query.params["query"]
    assert text.startswith(f"SELECT * FROM {entity} WHERE ") and text.endswith(" MAXRESULTS 1000")
    assert f"TxnDate = '{action.sample['TxnDate']}'" in text
    if action is not DEPOSIT:
        assert f"CustomerRef = '{action.sample['CustomerRef']['value']}'" in text
    if "DocNumber" in action.sample:
        assert f"DocNumber = '{action.sample['DocNumber']}'" in text
    # nothing of this step's: None
    assert drive_find(action, action.sample, [other])[1] is None
    assert drive_find(action, action.sample, [])[1] is None


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_find_existing_does_not_take_an_entity_with_other_amounts(action):
    entity = ENTITY[action.name][0]
    stored = jsonio.loads(jsonio.dumps(action.sample_response[entity]))
    first = next(line for line in stored["Line"] if line.get("DetailType") != "SubTotalLineDetail")
    first["Amount"] += Decimal("0.01")
    if action is PAYMENT:
        stored["TotalAmt"] += Decimal("0.01")
    assert drive_find(action, action.sample, [stored])[1] is None


def test_find_existing_quotes_query_literals():
    data = {**MINIMAL[INVOICE.name], "DocNumber": "O'Brien\\1"}
    query, _ = drive_find(INVOICE, data, [])
    assert "DocNumber = 'O\\'Brien\\\\1'" in query.params["query"]


def test_find_existing_refuses_bad_input_before_reading():
    with pytest.raises(InputError):
        next(INVOICE.find_existing({"CustomerRef": "1", "Lines": [item(1.5)]}, ctx()))


def test_huge_amounts_stay_exact_and_are_never_written_with_an_exponent():
    big = "1234567890123456789012345678901234567890.12"  # 42 digits: beyond Decimal's default 28
    data = {"CustomerRef": "1", "Lines": [item(big), item("0.01")],
            "Total": "1234567890123456789012345678901234567890.13"}
    body = request_for(INVOICE, data).json
    assert str(body["Line"][0]["Amount"]) == big
    with pytest.raises(InputError) as info:
        next(INVOICE.perform({**data, "Total": "1234567890123456789012345678901234567890.12"}, ctx()))
    assert "the lines are 0.01 USD over" in str(info.value)
    body = request_for(DEPOSIT, {"DepositToAccountRef": "35", "FromAccountRef": "4",
                                 "Amount": Decimal("1E+30")}).json
    assert str(body["Line"][0]["Amount"]) == "1" + "0" * 30 + ".00"
    assert "E+" not in jsonio.dumps(body)
