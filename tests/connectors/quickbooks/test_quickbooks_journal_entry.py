"""quickbooks.create_journal_entry, driven by hand: no HTTP, every request checked against the XSD;
at the end, foreign-currency entries against the loopback sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema
import pytest

import ledgerlink_quickbooks
from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.errors import ConfigError, InputError, UnbalancedEntryError, VendorError
from ledgerlink.testing import Script, drive, first_request, over_http
from ledgerlink_quickbooks import api, journal_entry
from ledgerlink_sandboxes.quickbooks import DEFAULT_REALM, xsd
from vendor_files import QUICKBOOKS


KEY = "0b8e2d1c-5f4e-4a57-9e0e-6f1d8c2b9a10"
SETTINGS = {"base_url": "http://127.0.0.1:8766", "realm_id": "9130347596979486"}
URL = "http://127.0.0.1:8766/v3/company/9130347596979486/journalentry"


def ctx(key: str = KEY, settings: dict | None = None, home: str | None = None) -> ActionContext:
    """A context; ``home``: the company's home currency (connection setting home_currency)."""
    settings = dict(settings or SETTINGS)
    if home is not None:
        settings["home_currency"] = home
    return ActionContext(connection=Connection("books", "quickbooks", settings),
                         idempotency_key=key, recipe_id="r", recipe_version=1, step_id="entry",
                         event_id="evt_1")


def request_for(data: dict[str, Any], context: ActionContext | None = None) -> Request:
    """The one request perform yields, after checking it against the XSDs (shipped and vendor)."""
    request = first_request(journal_entry.perform(data, context or ctx()))
    assert isinstance(request, Request)
    assert xsd.check("JournalEntry", request.json) == []
    return request


def run(data: dict[str, Any], response: Response, context: ActionContext | None = None) -> dict[str, Any]:
    """The output of perform, its one request answered with ``response``."""
    return drive(journal_entry.perform(data, context or ctx()), Script(response)).value


def created(**entry: Any) -> Response:
    body = {"Id": "228", "SyncToken": "0", "TotalAmt": Decimal("125.00"), **entry}
    return Response(status=200, json={"JournalEntry": body, "time": "2024-03-15T09:12:44.512-07:00"})


def validate_input(data: dict[str, Any]) -> list[jsonschema.ValidationError]:
    return list(jsonschema.Draft202012Validator(journal_entry.INPUT_SCHEMA).iter_errors(data))


SHORTHAND = {"Amount": Decimal("125.00"), "DebitAccount": "4", "CreditAccount": "84"}


def lines(*items: tuple[str, Any, str]) -> dict[str, Any]:
    return {"Lines": [{"PostingType": side, "Amount": amount, "AccountRef": account}
                      for side, amount, account in items]}


def line_body(side: str, amount: Decimal, account: str, **extra: Any) -> dict[str, Any]:
    detail = {"PostingType": side, **extra.pop("detail", {}), "AccountRef": {"value": account}}
    return {**extra, "Amount": amount, "DetailType": "JournalEntryLineDetail",
            "JournalEntryLineDetail": detail}


# --- the request ----------------------------------------------------------------------

def test_shorthand_becomes_two_lines_and_the_request_is_exact():
    data = {**SHORTHAND, "TxnDate": "2024-03-15", "DocNumber": "INV-0042",
            "PrivateNote": "paid", "CurrencyRef": "usd", "Description": "Stripe invoice paid",
            "CreditEntity": {"Type": "Customer", "EntityRef": "1"}}
    assert validate_input(data) == []
    request = request_for(data)
    assert request.method == "POST"
    assert request.url == URL
    assert request.params == {"minorversion": "75", "requestid": KEY}
    assert request.headers == {"Accept": "application/json", "Content-Type": "application/json"}
    assert request.json == {
        "TxnDate": "2024-03-15", "DocNumber": "INV-0042", "PrivateNote": "paid",
        "CurrencyRef": {"value": "USD"},
        "Line": [
            line_body("Debit", Decimal("125.00"), "4", Description="Stripe invoice paid"),
            line_body("Credit", Decimal("125.00"), "84", Description="Stripe invoice paid",
                      detail={"Entity": {"Type": "Customer", "EntityRef": {"value": "1"}}}),
        ],
    }


def test_optional_fields_are_left_out():
    assert request_for(SHORTHAND).json == {"Line": [line_body("Debit", Decimal("125.00"), "4"),
                                                   line_body("Credit", Decimal("125.00"), "84")]}


def test_lines_form_with_every_line_field():
    data = {"ExchangeRate": "1.0825", "CurrencyRef": "EUR", "Lines": [
        {"PostingType": "Debit", "Amount": "100.00", "AccountRef": {"value": "4", "name": "Undeposited Funds"},
         "Description": "gross", "ClassRef": "7", "DepartmentRef": {"value": "2"}},
        {"PostingType": "Debit", "Amount": 3, "AccountRef": "58", "Description": "fee",
         "Entity": {"Type": "Vendor", "EntityRef": {"value": "56", "name": "Stripe"}}},
        {"PostingType": "Credit", "Amount": Decimal("103.00"), "AccountRef": "84",
         "Entity": {"Type": "Customer", "EntityRef": "1"}},
    ]}
    assert validate_input(data) == []
    body = request_for(data).json
    assert body == {
        "CurrencyRef": {"value": "EUR"}, "ExchangeRate": Decimal("1.0825"),
        "Line": [
            {"Description": "gross", "Amount": Decimal("100.00"), "DetailType": "JournalEntryLineDetail",
             "JournalEntryLineDetail": {"PostingType": "Debit",
                                        "AccountRef": {"value": "4", "name": "Undeposited Funds"},
                                        "ClassRef": {"value": "7"}, "DepartmentRef": {"value": "2"}}},
            {"Description": "fee", "Amount": Decimal("3"), "DetailType": "JournalEntryLineDetail",
             "JournalEntryLineDetail": {"PostingType": "Debit",
                                        "Entity": {"Type": "Vendor",
                                                   "EntityRef": {"value": "56", "name": "Stripe"}},
                                        "AccountRef": {"value": "58"}}},
            line_body("Credit", Decimal("103.00"), "84",
                      detail={"Entity": {"Type": "Customer", "EntityRef": {"value": "1"}}}),
        ],
    }


def test_amounts_are_exact_decimals_never_floats():
    data = lines(("Debit", Decimal("0.10"), "1"), ("Debit", "0.20", "2"), ("Credit", Decimal("0.30"), "3"))
    assert 0.1 + 0.2 != 0.3  # what a float would have done to this entry
    body = request_for(data).json
    amounts = [line["Amount"] for line in body["Line"]]
    assert amounts == [Decimal("0.10"), Decimal("0.20"), Decimal("0.30")]
    assert all(type(a) is Decimal for a in amounts)
    assert '"Amount":0.10,' in jsonio.dumps(body)


@pytest.mark.parametrize("amount", [Decimal("1500"), "1500.00", Decimal("1.5E+3")])
def test_jpy_amounts_keep_zero_decimals(amount):
    data = {"Amount": amount, "DebitAccount": "4", "CreditAccount": "84", "CurrencyRef": "jpy"}
    body = request_for(data, ctx(home="JPY")).json  # a company keeping its books in yen
    assert body["CurrencyRef"] == {"value": "JPY"}
    assert "ExchangeRate" not in body
    assert [str(line["Amount"]) for line in body["Line"]] == ["1500"] * 2
    text = jsonio.dumps(body)
    assert '"Amount":1500,' in text
    assert "1500.0" not in text


def test_kwd_amounts_keep_three_decimals():
    data = {"CurrencyRef": "KWD", **lines(("Debit", Decimal("5.120"), "4"), ("Credit", Decimal("2.005"), "84"),
                                          ("Credit", "3.115", "85"))}
    body = request_for(data, ctx(home="KWD")).json
    assert [str(line["Amount"]) for line in body["Line"]] == ["5.120", "2.005", "3.115"]
    text = jsonio.dumps(body)
    assert '"Amount":5.120,' in text
    assert "5.12," not in text


def test_kwd_amounts_with_fewer_decimals_are_written_with_three():
    data = {"CurrencyRef": "KWD", **lines(("Debit", "5.12", "4"), ("Credit", Decimal("5.1"), "84"),
                                          ("Credit", "0.02", "85"))}
    body = request_for(data, ctx(home="KWD")).json
    assert [str(line["Amount"]) for line in body["Line"]] == ["5.120", "5.100", "0.020"]


@pytest.mark.parametrize("amount, sent", [
    (Decimal("12.50"), Decimal("12.50")), ("12.50", Decimal("12.50")), (" 7.5 ", Decimal("7.50")),
    (12, Decimal("12.00")), (Decimal("1E+3"), Decimal("1000.00")), ("12.340", Decimal("12.34")),
])
def test_amount_forms(amount, sent):
    """Every amount is written with exactly the currency's decimals (USD, the home currency: 2)."""
    body = request_for({"Amount": amount, "DebitAccount": "1", "CreditAccount": "2"}).json
    assert body["Line"][0]["Amount"] == sent
    assert str(body["Line"][0]["Amount"]) == str(sent)


@pytest.mark.parametrize("amount, needle", [
    (12.5, "is the float 12.5; floats lose cents"),
    (Decimal("NaN"), "is not a finite number"),
    (Decimal("Infinity"), "is not a finite number"),
    ("Infinity", "is not a finite number"),
    (Decimal("-5.00"), "must be greater than 0, got -5.00"),
    ("-5", "must be greater than 0, got -5"),
    (0, "must be greater than 0, got 0"),
    (Decimal("0.00"), "must be greater than 0, got 0.00"),
    ("1e3", "must be written as a plain decimal"),
    ("twelve", "is not a number"),
    (True, "got the boolean true"),
    (None, "got null"),
])
def test_bad_amounts_are_refused_naming_the_line(amount, needle):
    data = lines(("Debit", Decimal("1.00"), "1"), ("Credit", amount, "2"))
    with pytest.raises(InputError) as info:
        drive(journal_entry.perform(data, ctx()), Script())
    message = str(info.value)
    assert "/Lines/1/Amount: " in message
    assert needle in message
    assert info.value.details["problems"][0].startswith("/Lines/1/Amount")


def test_every_input_problem_is_reported_at_once():
    data = {"TxnDate": "2024-02-30", "DocNumber": "X" * 22, "CurrencyRef": "XYZ", "Colour": "red",
            "Lines": [{"PostingType": "Debet", "Amount": 1.5, "AccountRef": ""},
                      {"PostingType": "Credit", "Amount": "1.50", "AccountRef": 84},
                      {"PostingType": "Credit", "Amount": "1", "AccountRef": "3", "Memo": "x"},
                      {"PostingType": "Credit", "Amount": "1", "AccountRef": "3",
                       "Entity": {"Type": "Job", "EntityRef": "1"}}]}
    with pytest.raises(InputError) as info:
        next(journal_entry.perform(data, ctx()))
    assert info.value.details["problems"] == [
        "/Colour: unknown input 'Colour'; the inputs are Lines, Amount, DebitAccount, CreditAccount, "
        "Description, DebitEntity, CreditEntity, TxnDate, DocNumber, PrivateNote, CurrencyRef, ExchangeRate",
        '/Lines/0/PostingType: must be "Debit" or "Credit", got str \'Debet\'',
        "/Lines/0/Amount: the amount is the float 1.5; floats lose cents, so pass a Decimal or a decimal "
        "string such as \"12.50\" (a recipe's \"$as\": \"decimal\" or \"money\" gives one, as does "
        "the source system's own money transform)",
        '/Lines/0/AccountRef: the account is empty; give the QuickBooks Id, e.g. "84"',
        '/Lines/1/AccountRef: the account must be a QuickBooks Id string such as "84" or '
        '{"value": "84", "name": "…"}, got int 84',
        "/Lines/2: line 2 has unknown key(s) 'Memo'; a line takes PostingType, Amount, AccountRef, "
        "Description, Entity, ClassRef, DepartmentRef",
        "/Lines/3/Entity/Type: must be one of Customer, Vendor, Employee, got str 'Job'",
        "/TxnDate: '2024-02-30' is not a calendar date",
        "/DocNumber: DocNumber is 22 characters long; QuickBooks keeps at most 21, so shorten it",
        "/CurrencyRef: 'XYZ' is not an ISO 4217 currency; use a code such as USD, EUR, JPY",
    ]


@pytest.mark.parametrize("data, needle", [
    ({"TxnDate": "2024-03-15"}, "give either Lines (the entry line by line) or the shorthand Amount + "
                                "DebitAccount + CreditAccount"),
    ({"Amount": "1", "DebitAccount": "4"}, "CreditAccount missing (or give Lines instead)"),
    ({**SHORTHAND, **lines(("Debit", "1", "1"), ("Credit", "1", "2"))},
     "Amount, DebitAccount, CreditAccount cannot be used together with Lines"),
    (lines(("Debit", "1", "1")), "holds 1 line(s); a journal entry needs at least one Debit and one Credit"),
    ({"Lines": "all of them"}, "/Lines: must be an array of lines"),
    ({**SHORTHAND, "PrivateNote": "x" * 4001}, "PrivateNote is 4001 characters long; QuickBooks keeps at most 4000"),
    ({**SHORTHAND, "DebitEntity": {"Type": "Customer"}}, "/DebitEntity/EntityRef: EntityRef must be"),
    ({**SHORTHAND, "ExchangeRate": 1.1}, "/ExchangeRate: ExchangeRate is the float 1.1"),
    ({**SHORTHAND, "CurrencyRef": "US"}, '/CurrencyRef: must be a 3-letter ISO 4217 code such as "USD"'),
    ({**SHORTHAND, "TxnDate": "15/03/2024"}, "/TxnDate: must be a date written YYYY-MM-DD"),
])
def test_input_mistakes_say_what_to_fix(data, needle):
    with pytest.raises(InputError) as info:
        next(journal_entry.perform(data, ctx()))
    assert needle in str(info.value)
    if not isinstance(data.get("ExchangeRate"), float):  # JSON Schema cannot tell a float from a Decimal
        assert validate_input(data), "the input schema must refuse what perform refuses"


# --- balance --------------------------------------------------------------------------

def test_unbalanced_entry_is_refused_before_any_request():
    data = lines(("Debit", Decimal("100.00"), "4"), ("Debit", Decimal("0.01"), "5"),
                 ("Credit", Decimal("100.00"), "84"))
    data["CurrencyRef"] = "USD"
    assert validate_input(data) == []  # the schema cannot see the balance; perform must
    with pytest.raises(UnbalancedEntryError) as info:
        drive(journal_entry.perform(data, ctx()), Script())  # nothing answered: nothing may be sent
    message = str(info.value)
    assert "debits total 100.01 USD" in message
    assert "credits total 100.00 USD" in message
    assert "debits exceed credits by 0.01 USD" in message
    assert info.value.details == {"debits": "100.01", "credits": "100.00", "difference": "0.01"}


def test_credits_exceeding_debits_are_named_too():
    data = lines(("Debit", "0.10", "4"), ("Debit", "0.20", "4"), ("Credit", "0.31", "84"))
    with pytest.raises(UnbalancedEntryError) as info:
        next(journal_entry.perform(data, ctx()))
    # no CurrencyRef: the home currency (USD), named in the message
    assert "debits total 0.30 USD, credits total 0.31 USD, credits exceed debits by 0.01 USD" in str(info.value)


def test_all_debit_entry_is_unbalanced():
    with pytest.raises(UnbalancedEntryError):
        next(journal_entry.perform(lines(("Debit", "5", "1"), ("Debit", "5", "2")), ctx()))


def test_equal_values_with_different_scales_balance():
    body = request_for(lines(("Debit", Decimal("5.1"), "1"), ("Credit", Decimal("5.100"), "2"))).json
    assert [str(line["Amount"]) for line in body["Line"]] == ["5.10", "5.10"]  # USD: two decimals


# --- accounts that need a name: A/R a Customer, A/P a Vendor ---------------------------------

RECEIVABLE = {"value": "84", "name": "Accounts Receivable (A/R)", "AccountType": "Accounts Receivable"}
PAYABLE = {"value": "33", "AccountType": "Accounts Payable"}


@pytest.mark.parametrize("data, pointer, needle", [
    ({"Amount": "125.00", "DebitAccount": "4", "CreditAccount": RECEIVABLE},
     "/CreditEntity", "without a Customer"),
    ({"Lines": [{"PostingType": "Debit", "Amount": "125.00", "AccountRef": "4"},
                {"PostingType": "Credit", "Amount": "125.00", "AccountRef": RECEIVABLE}]},
     "/Lines/1/Entity", "without a Customer"),
    ({"Lines": [{"PostingType": "Debit", "Amount": "9.00", "AccountRef": PAYABLE},
                {"PostingType": "Credit", "Amount": "9.00", "AccountRef": "35"}]},
     "/Lines/0/Entity", "without a Vendor"),
    ({"Lines": [{"PostingType": "Debit", "Amount": "9.00", "AccountRef": PAYABLE,
                 "Entity": {"Type": "Customer", "EntityRef": "1"}},
                {"PostingType": "Credit", "Amount": "9.00", "AccountRef": "35"}]},
     "/Lines/0/Entity/Type", "is Customer; QuickBooks refuses a line on an Accounts Payable account"),
])
def test_a_declared_receivable_or_payable_line_without_its_name_is_refused_before_any_request(
        data, pointer, needle):
    assert validate_input(data) == []  # the schema cannot tie a line's entity to its account
    yielded = []
    with pytest.raises(InputError) as info:
        yielded.append(next(journal_entry.perform(data, ctx())))
    assert yielded == []
    message = str(info.value)
    assert f"{pointer}: " in message and needle in message
    if needle == "without a Customer":
        assert "quickbooks.find_or_create_customer" in message  # where a customer comes from


def test_a_declared_account_type_is_checked_and_never_sent():
    entity = {"Type": "Customer", "EntityRef": "1"}
    body = request_for({"Amount": "125.00", "DebitAccount": "4", "CreditAccount": RECEIVABLE,
                        "CreditEntity": entity}).json
    credit = body["Line"][1]["JournalEntryLineDetail"]
    assert credit["AccountRef"] == {"value": "84", "name": "Accounts Receivable (A/R)"}
    assert credit["Entity"] == {"Type": "Customer", "EntityRef": {"value": "1"}}
    # an account whose type needs no name, declared or not, needs none
    body = request_for({"Lines": [
        {"PostingType": "Debit", "Amount": "1", "AccountRef": {"value": "4", "AccountType": "Other Current Asset"}},
        {"PostingType": "Credit", "Amount": "1", "AccountRef": "84"}]}).json
    assert "Entity" not in body["Line"][1]["JournalEntryLineDetail"]
    bad = {"Amount": "1", "DebitAccount": "4", "CreditAccount": {"value": "84", "AccountType": "Receivable"}}
    assert validate_input(bad)
    with pytest.raises(InputError) as info:
        next(journal_entry.perform(bad, ctx()))
    assert "/CreditAccount/AccountType: must be a QuickBooks account type (Bank, Accounts Receivable" in str(info.value)


# --- currency: never a rate QuickBooks picks, never an amount QuickBooks rounds -------------

def no_request(data: dict[str, Any], context: ActionContext | None = None) -> InputError:
    """The InputError perform raises for ``data`` before yielding any request."""
    with pytest.raises(InputError) as info:
        drive(journal_entry.perform(data, context or ctx()), Script())
    return info.value


def without_rate(code: str, home: str = "USD") -> str:
    return (f"/ExchangeRate: CurrencyRef is {code}, not the company's home currency {home} "
            f"(connection setting home_currency), so give ExchangeRate: how many {home} one {code} "
            f"is worth on the transaction date (e.g. the exchange_rate of the Stripe balance "
            f"transaction); without it QuickBooks would book the amounts at a rate of its own "
            f"choosing, such as 1:1")


@pytest.mark.parametrize("currency, amount", [("EUR", "99.90"), ("jpy", "12000"), ("KWD", "5.120")])
def test_a_foreign_currency_without_an_exchange_rate_is_refused_before_any_request(currency, amount):
    data = {"CurrencyRef": currency, **lines(("Debit", amount, "4"), ("Credit", amount, "84"))}
    assert validate_input(data) == []  # the schema cannot know the company's home currency
    assert no_request(data).details["problems"] == [without_rate(currency.upper())]
    shorthand = {**SHORTHAND, "Amount": amount, "CurrencyRef": currency}
    assert no_request(shorthand).details["problems"] == [without_rate(currency.upper())]


def test_the_home_currency_is_the_connections():
    # a company keeping its books in euros: a USD entry is the foreign one
    assert no_request({**SHORTHAND, "CurrencyRef": "USD"}, ctx(home="EUR")).details["problems"] == [
        without_rate("USD", "EUR")]
    assert request_for({**SHORTHAND, "CurrencyRef": "eur"}, ctx(home="EUR")).json["CurrencyRef"] == {"value": "EUR"}
    assert "CurrencyRef" not in request_for(SHORTHAND, ctx(home="EUR")).json  # left out: the home currency
    with pytest.raises(ConfigError) as info:
        next(journal_entry.perform(SHORTHAND, ctx(home="euro")))
    assert "home_currency must be the company's home currency as an ISO 4217 code" in str(info.value)


@pytest.mark.parametrize("data, rate", [
    ({**SHORTHAND, "ExchangeRate": "1.0825"}, "1.0825"),
    ({**SHORTHAND, "CurrencyRef": "usd", "ExchangeRate": Decimal("0.99")}, "0.99"),
])
def test_an_exchange_rate_other_than_1_for_the_home_currency_is_refused(data, rate):
    assert no_request(data).details["problems"] == [
        f"/ExchangeRate: ExchangeRate is {rate}, but USD is the company's home currency (connection "
        f"setting home_currency), whose rate is 1; leave ExchangeRate out or check CurrencyRef and "
        f"home_currency"]


def test_an_exchange_rate_of_1_for_the_home_currency_is_accepted():
    body = request_for({**SHORTHAND, "CurrencyRef": "USD", "ExchangeRate": "1.000"}).json
    assert body["CurrencyRef"] == {"value": "USD"} and "ExchangeRate" not in body


def too_many(amount: str, code: str, places: int) -> str:
    return (f"Amount {amount} has more decimals than {code} has ({places}); QuickBooks would round "
            f"it, so round it yourself (a recipe's \"$as\": \"round\") or check the currency")


@pytest.mark.parametrize("home, extra, amounts, code, places", [
    ("USD", {}, ("12.345", "12.000", "0.345"), "USD", 2),
    ("JPY", {"CurrencyRef": "JPY"}, ("1500.5", "1500", "0.5"), "JPY", 0),
    ("KWD", {}, ("5.1205", "5.12", "0.0005"), "KWD", 3),
    # the decimals are the entry's currency's, not the home currency's
    ("USD", {"CurrencyRef": "JPY", "ExchangeRate": "0.0067"}, ("1500.50", "1500", "0.50"), "JPY", 0),
    ("USD", {"CurrencyRef": "KWD", "ExchangeRate": "3.2515"}, ("5.1205", "5.120", "0.0005"), "KWD", 3),
])
def test_an_amount_with_more_decimals_than_its_currency_is_refused_not_rounded(home, extra, amounts, code,
                                                                                places):
    debit, credit, rest = amounts
    data = {**extra, **lines(("Debit", debit, "4"), ("Credit", credit, "84"), ("Credit", rest, "85"))}
    assert no_request(data, ctx(home=home)).details["problems"] == [
        f"/Lines/0/Amount: {too_many(debit, code, places)}",
        f"/Lines/2/Amount: {too_many(rest, code, places)}",
    ]
    shorthand = {**extra, **SHORTHAND, "Amount": debit}
    assert no_request(shorthand, ctx(home=home)).details["problems"] == [
        f"/Amount: {too_many(debit, code, places)}"]


def test_every_currency_problem_is_reported_with_the_others():
    data = {"CurrencyRef": "EUR", "TxnDate": "2024-02-30",
            **lines(("Debit", "10.005", "4"), ("Credit", "10.005", "84"))}
    assert no_request(data).details["problems"] == [
        "/TxnDate: '2024-02-30' is not a calendar date",
        without_rate("EUR"),
        f"/Lines/0/Amount: {too_many('10.005', 'EUR', 2)}",
        f"/Lines/1/Amount: {too_many('10.005', 'EUR', 2)}",
    ]


def test_a_foreign_entry_with_an_exchange_rate_is_sent_with_it():
    data = {"CurrencyRef": "jpy", "ExchangeRate": "0.0067", **lines(("Debit", "12000", "4"),
                                                                     ("Credit", "12000", "84"))}
    body = request_for(data).json
    assert body["CurrencyRef"] == {"value": "JPY"}
    assert body["ExchangeRate"] == Decimal("0.0067") and str(body["ExchangeRate"]) == "0.0067"
    assert '"ExchangeRate":0.0067' in jsonio.dumps(body)


# --- idempotency key and settings -------------------------------------------------------

def test_requestid_is_the_context_key():
    assert request_for(SHORTHAND, ctx(key="k" * 50)).params["requestid"] == "k" * 50


@pytest.mark.parametrize("key, needle", [("k" * 51, "51 characters long"), ("", "no idempotency key")])
def test_bad_idempotency_keys_are_refused(key, needle):
    with pytest.raises(InputError) as info:
        next(journal_entry.perform(SHORTHAND, ctx(key=key)))
    assert needle in str(info.value)


def test_missing_realm_id_is_a_config_error_before_any_request():
    with pytest.raises(ConfigError) as info:
        next(journal_entry.perform(SHORTHAND, ctx(settings={"base_url": "https://x.example"})))
    assert "realm_id" in str(info.value)


def test_default_settings_give_the_production_url_with_a_placeholder():
    connector = ledgerlink_quickbooks.CONNECTOR
    request = request_for(SHORTHAND, ctx(settings=dict(connector.default_settings)))
    assert request.url == "https://quickbooks.api.intuit.com/v3/company/REALM_ID/journalentry"


# --- the answer -----------------------------------------------------------------------

def test_success_returns_the_output():
    out = run({**SHORTHAND, "CurrencyRef": "USD"},
              created(DocNumber="INV-0042", TxnDate="2024-03-15", SyncToken="3",
                      CurrencyRef={"value": "USD", "name": "United States Dollar"}))
    assert out == {"id": "228", "sync_token": "3", "doc_number": "INV-0042", "txn_date": "2024-03-15",
                   "total": Decimal("125.00"), "currency": "USD"}
    assert type(out["total"]) is Decimal
    assert list(jsonschema.Draft202012Validator(journal_entry.OUTPUT_SCHEMA).iter_errors(out)) == []


def test_output_total_falls_back_to_the_debit_total():
    data = {"CurrencyRef": "KWD", **lines(("Debit", Decimal("5.120"), "4"), ("Credit", Decimal("5.120"), "84"))}
    out = run(data, Response(status=200, json={"JournalEntry": {"Id": "9", "SyncToken": "0"}}),
              ctx(home="KWD"))
    assert out == {"id": "9", "sync_token": "0", "total": Decimal("5.120"), "currency": "KWD"}
    assert str(out["total"]) == "5.120"


def test_output_total_from_a_float_body_is_read_from_its_text():
    out = run(SHORTHAND, created(TotalAmt=125.1))
    assert out["total"] == Decimal("125.1")


def test_2xx_without_journal_entry_is_an_unknown_outcome():
    with pytest.raises(VendorError) as info:
        drive(journal_entry.perform(SHORTHAND, ctx()), Script({"time": "2024-03-15T09:12:44.512-07:00"}))
    assert info.value.kind == "unknown"  # the entry may exist: looked up before any resend


def fault(path: str) -> dict:
    return jsonio.loads((QUICKBOOKS / path).read_bytes())


@pytest.mark.parametrize("response, kind, retry_after", [
    (Response(status=400, json=fault("exquickbooks-fixtures/sales_receipt/create_sales_receipt_error.json")),
     "permanent", None),
    (Response(status=400, json=fault("exquickbooks-fixtures/item/read_item_error.json")), "permanent", None),
    (Response(status=401, json={"fault": {"error": [{"message": "AuthenticationFailed", "code": "3200"}],
                                          "type": "AuthenticationFault"}}), "reauth", None),
    (Response(status=429, headers={"Retry-After": "5"},
              json={"Fault": {"Error": [{"Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                                         "Detail": "The request limit was reached.  Try again later",
                                         "code": "3001"}], "type": "SERVICE"}}), "retry", 5.0),
    (Response(status=500, json={"Fault": {"Error": [{"Message": "An application error has occurred",
                                                     "code": "10000"}], "type": "SystemFault"}}), "retry", None),
])
def test_vendor_faults_become_vendor_errors(response, kind, retry_after):
    with pytest.raises(VendorError) as info:
        drive(journal_entry.perform(SHORTHAND, ctx()), Script(response))
    assert (info.value.kind, info.value.retry_after) == (kind, retry_after)


def test_validation_fault_message_carries_qbo_text():
    with pytest.raises(VendorError) as info:
        drive(journal_entry.perform(SHORTHAND, ctx()),
              Script(Response(status=400, json=fault("exquickbooks-fixtures/sales_receipt/create_sales_receipt_error.json"))))
    assert str(info.value) == (
        "QuickBooks rejected the request (HTTP 400 ValidationFault): code 2020: Required param missing, "
        "need to supply the required value for the API: Required parameter Line.DetailType is missing "
        "in the request (element Line.DetailType)")


# --- the action as registered ---------------------------------------------------------

def test_sample_and_sample_response_agree_with_the_schemas_and_each_other():
    action = journal_entry.ACTION
    assert validate_input(action.sample) == []
    request = request_for(action.sample)
    response = action.sample_response_for(request)
    assert response.status == 200
    entry = response.json["JournalEntry"]
    # the sample answer is a real-shaped QBO body and echoes what the sample sends
    assert xsd.check("IntuitResponse", response.json) == []
    assert xsd.check("JournalEntry", entry) == []
    sent = request.json
    assert (entry["DocNumber"], entry["TxnDate"], entry["PrivateNote"]) == \
        (sent["DocNumber"], sent["TxnDate"], sent["PrivateNote"])
    assert entry["CurrencyRef"]["value"] == sent["CurrencyRef"]["value"]
    for got, want in zip(entry["Line"], sent["Line"], strict=True):
        assert {k: v for k, v in got.items() if k != "Id"} == want
    debits = sum(line["Amount"] for line in sent["Line"]
                 if line["JournalEntryLineDetail"]["PostingType"] == "Debit")
    assert entry["TotalAmt"] == debits
    output = drive(action.perform(action.sample, ctx()), Script(response)).value
    assert list(jsonschema.Draft202012Validator(action.output_schema).iter_errors(output)) == []
    assert output == {"id": "228", "sync_token": "0", "doc_number": "INV-0042", "txn_date": "2024-03-15",
                      "total": Decimal("125.00"), "currency": "USD"}


def test_sample_response_has_the_shape_of_the_vendor_fixture():
    fixture = jsonio.loads((QUICKBOOKS / "quickbooks-go-fixtures" / "journal-entry.json").read_bytes())
    sample = journal_entry.SAMPLE_RESPONSE
    assert set(sample) == set(fixture) == {"JournalEntry", "time"}
    assert set(fixture["JournalEntry"]) <= set(sample["JournalEntry"])
    assert all(type(line["Amount"]) is Decimal for line in sample["JournalEntry"]["Line"])


def test_schemas_declare_2020_12():
    """(Valid schemas with every property described: the conformance suite.)"""
    for schema in (journal_entry.INPUT_SCHEMA, journal_entry.OUTPUT_SCHEMA,
                   ledgerlink_quickbooks.CONNECTOR.settings_schema):
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_input_schema_refuses_an_input_with_neither_form_clearly():
    errors = validate_input({"TxnDate": "2024-03-15", "DocNumber": "1"})
    assert len(errors) == 1
    best = jsonschema.exceptions.best_match(errors[0].context)
    assert best.message == "'Amount' is a required property"
    assert "either" in best.schema["description"] and "Lines" in best.schema["description"]


def test_input_schema_names_the_field_that_mixes_forms():
    data = {"Description": "x", **lines(("Debit", "1", "1"), ("Credit", "1", "2"))}
    [error] = validate_input(data)
    assert list(error.absolute_path) == ["Description"]
    assert "put the description on each line" in error.schema["description"]


def test_input_schema_accepts_both_forms_and_decimal_amounts():
    assert validate_input({"Amount": Decimal("0.01"), "DebitAccount": {"value": "1"}, "CreditAccount": "2"}) == []
    assert validate_input(lines(("Debit", 1, "1"), ("Credit", "1.00", "2"))) == []
    assert validate_input({**SHORTHAND, "Amount": Decimal("-1")})
    assert validate_input({**SHORTHAND, "Amount": "-1"})


# --- registration through the real hooks ---------------------------------------------------

def test_registration_through_the_hooks():
    catalog = Catalog()
    ledgerlink_quickbooks.ledgerlink_register_connectors(catalog.registrar("connector", "quickbooks"))
    ledgerlink_quickbooks.ledgerlink_register_actions(catalog.registrar("action", "quickbooks"))
    catalog.check()
    connector = catalog.connectors["quickbooks"]
    assert connector.plugin == "quickbooks"
    assert connector.secret_settings == ("client_secret", "access_token", "refresh_token", "webhook_verifier_token")
    assert connector.default_settings == {"base_url": "https://quickbooks.api.intuit.com",
                                          "realm_id": "REALM_ID"}
    assert connector.settings_schema["properties"]["base_url"]["default"] == api.DEFAULT_BASE_URL
    action = catalog.actions["quickbooks.create_journal_entry"]
    assert (action.plugin, action.status, action.idempotency) == ("quickbooks", "stable", "key")
    assert action.perform is journal_entry.perform
    assert connector.auth is api.auth_headers
    listed = catalog.as_json()["connectors"][0]
    assert "quickbooks.create_journal_entry" in [a["name"] for a in listed["actions"]]


def test_settings_schema_accepts_defaults_and_config_and_catches_typos():
    validator = jsonschema.Draft202012Validator(ledgerlink_quickbooks.CONNECTOR.settings_schema)
    assert list(validator.iter_errors(dict(ledgerlink_quickbooks.CONNECTOR.default_settings))) == []
    config = {"base_url": "https://sandbox-quickbooks.api.intuit.com", "realm_id": "9130347596979486",
              "client_id": "ABcd", "client_secret": "${QBO_CLIENT_SECRET}"}
    assert list(validator.iter_errors(config)) == []
    # realm_id is not required: `ledgerlink connect` learns it from the consent redirect
    assert [e.message for e in validator.iter_errors({"realmId": "1"})] == [
        "Additional properties are not allowed ('realmId' was unexpected)"]


def test_the_host_loads_the_plugin_through_its_entry_point():
    from ledgerlink.connectors.manager import build_plugin_manager, load_catalog

    catalog = load_catalog(build_plugin_manager(only="quickbooks"))
    assert catalog.connectors["quickbooks"].plugin == "quickbooks"
    assert catalog.actions["quickbooks.create_journal_entry"].plugin == "quickbooks"


# --- against the loopback sandbox: a foreign entry with its rate, exact --------------------------

AUTH = {"Authorization": "Bearer sandbox-access-token"}


def fits_xsd(request: Request) -> None:
    if request.method == "POST":
        assert xsd.check("JournalEntry", request.json) == []


def live(steps) -> Any:
    """Run perform (or find_existing) against the sandbox over HTTP; every POST fits the XSD."""
    return over_http(steps, AUTH, check=fits_xsd).value


@pytest.mark.parametrize("currency, rate, debits, credits", [
    ("EUR", "1.0825", ["99.90", "0.10"], ["100.00"]),
    ("jpy", "0.0067", ["12000"], ["11999", "1"]),
    ("KWD", "3.2515", ["5.120"], ["5.115", "0.005"]),
])
def test_a_foreign_entry_with_an_exchange_rate_is_booked_exactly(qbo, currency, rate, debits, credits):
    qbo.sandbox.reset()
    qbo.sandbox.preferences(multicurrency=True)  # a USD company booking other currencies
    note = f"Stripe invoice in_{currency} paid"
    data = {"CurrencyRef": currency, "ExchangeRate": rate, "PrivateNote": note, "TxnDate": "2024-03-15",
            "Lines": [{"PostingType": "Debit", "Amount": a, "AccountRef": "4"} for a in debits]
            + [{"PostingType": "Credit", "Amount": a, "AccountRef": "1"} for a in credits]}  # Services
    context = ctx(settings={"base_url": qbo.url, "realm_id": DEFAULT_REALM})  # a USD company
    output = live(journal_entry.perform(data, context))
    [entry] = qbo.sandbox.entities(DEFAULT_REALM, "journalentry")
    assert entry["Id"] == output["id"]
    assert entry["CurrencyRef"]["value"] == currency.upper() == output["currency"]
    assert str(entry["ExchangeRate"]) == rate
    assert [str(line["Amount"]) for line in entry["Line"]] == debits + credits  # digit for digit
    assert str(entry["TotalAmt"]) == str(output["total"]) == str(sum(Decimal(a) for a in debits))
    # the answer was lost: the entry is found again, the same one
    assert live(journal_entry.find_existing(data, context)) == output
    assert qbo.sandbox.stats()["created"][DEFAULT_REALM] == {"journalentry": 1}


def test_a_foreign_entry_without_a_rate_never_reaches_the_sandbox(qbo):
    qbo.sandbox.reset()
    data = {"CurrencyRef": "EUR", **lines(("Debit", "99.90", "4"), ("Credit", "99.90", "1"))}
    context = ctx(settings={"base_url": qbo.url, "realm_id": DEFAULT_REALM})
    with pytest.raises(InputError):
        live(journal_entry.perform(data, context))
    assert qbo.sandbox.entities(DEFAULT_REALM, "journalentry") == []
    assert qbo.sandbox.requests() == []


def test_the_receivable_rule_is_quickbooks_own(qbo):
    """What the action refuses up front is what the sandbox, like QuickBooks, refuses: the same
    entry with the account's type not declared reaches it and comes back as error 6000."""
    qbo.sandbox.reset()
    context = ctx(settings={"base_url": qbo.url, "realm_id": DEFAULT_REALM})
    declared = {"TxnDate": "2024-03-15", "PrivateNote": "evt_ar", "Amount": "125.00",
                "DebitAccount": "4", "CreditAccount": RECEIVABLE}
    with pytest.raises(InputError):
        live(journal_entry.perform(declared, context))
    assert qbo.sandbox.requests() == []
    with pytest.raises(VendorError) as info:
        live(journal_entry.perform({**declared, "CreditAccount": "84"},
                                    ctx("ar-undeclared", context.connection.settings)))
    assert info.value.vendor_code == "6000" and info.value.kind == "permanent"
    assert "When you use Accounts Receivable, you must choose a customer in the Name field." in str(info.value)
    output = live(journal_entry.perform({**declared, "CreditEntity": {"Type": "Customer", "EntityRef": "1"}},
                                         ctx("ar-with-customer", context.connection.settings)))
    [entry] = qbo.sandbox.entities(DEFAULT_REALM, "journalentry")
    assert entry["Id"] == output["id"]
    assert entry["Line"][1]["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"] == "1"
