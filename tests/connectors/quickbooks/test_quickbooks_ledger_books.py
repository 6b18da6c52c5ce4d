"""The sandbox's ledger in a multicurrency company, and its closed books date, over loopback
HTTP: foreign amounts on foreign accounts, home amounts on home accounts, exchange
differences to "Exchange Gain or Loss", a trial balance in the home currency that
balances, and what QBO refuses.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink_sandboxes.quickbooks import create_sandbox
from test_quickbooks_ledger import (AUTH, CHECKING, MV, REALM, SERVICES, V3, D, account, balance,
                                    balances, delete, fault, invoice, made, payment, post,
                                    sale_lines, tb_rows, transfer, trial_balance, void)

#: a multicurrency company at home in USD, as QBO's own sandbox companies are
QBO_SANDBOX = {"rate_limit": False, "multicurrency": True}
EXCHANGE = "9100"


@pytest.fixture
def client(qbo, sandbox):
    with httpx.Client(base_url=qbo.url, headers=AUTH, timeout=5) as c:
        yield c


def customer(client, name: str, currency: str) -> str:
    return made(client, "customer", {"DisplayName": name, "CurrencyRef": {"value": currency}})["Id"]


def accounts_named(client) -> dict[str, dict]:
    answer = client.get(f"{V3}/query", params={**MV, "query": "select * from Account"})
    return {a["Name"]: a for a in jsonio.loads(answer.content)["QueryResponse"]["Account"]}


def test_foreign_invoices_paid_at_other_rates_book_the_difference_and_the_trial_balance_ties(client):
    euro, yen, dinar = (customer(client, "Euro GmbH", "EUR"), customer(client, "Yen KK", "JPY"),
                        customer(client, "Dinar Co", "KWD"))
    banks = {code: account(client, f"Stripe {code}", "Bank", code) for code in ("EUR", "JPY", "KWD")}

    sale = invoice(client, "60.00", "40.00", customer=euro, ExchangeRate=D("1.10"))
    # the customer's currency and the rate, as QBO fills them; HomeTotalAmt = 100.00 x 1.10
    assert (sale["CurrencyRef"]["value"], sale["ExchangeRate"], sale["HomeTotalAmt"]) == ("EUR", D("1.10"), D("110.00"))
    receivable = accounts_named(client)["Accounts Receivable (A/R) - EUR"]  # opened by QBO for EUR
    assert (receivable["CurrencyRef"]["value"], receivable["CurrentBalance"]) == ("EUR", D("100.00"))
    assert balance(client, SERVICES) == D("110.00")  # income is kept in the home currency
    payment(client, {sale["Id"]: "100.00"}, "100.00", customer=euro, ExchangeRate=D("1.15"),
            DepositToAccountRef={"value": banks["EUR"]})
    assert balances(client, receivable["Id"], banks["EUR"], EXCHANGE) == [D("0.00"), D("100.00"), D("-5.00")]

    sale = invoice(client, "12345", customer=yen, ExchangeRate=D("0.0067"))  # 82.7115 -> 82.71
    payment(client, {sale["Id"]: "12345"}, "12345", customer=yen, ExchangeRate=D("0.0065"),
            DepositToAccountRef={"value": banks["JPY"]})  # 80.2425 -> 80.24: a loss of 2.47
    sale = invoice(client, "1.234", customer=dinar, ExchangeRate=D("3.2531"))  # 4.0143254 -> 4.01
    payment(client, {sale["Id"]: "1.000"}, "1.000", customer=dinar, ExchangeRate=D("3.30"),
            DepositToAccountRef={"value": banks["KWD"]})  # 3.30 for what was booked at 3.25
    made(client, "transfer", transfer(banks["EUR"], CHECKING, "50.00", CurrencyRef={"value": "EUR"},
                                      ExchangeRate=D("1.20")))

    named = accounts_named(client)
    # each account in its own currency, to its own decimals
    assert {name: (a["CurrencyRef"]["value"], str(a["CurrentBalance"])) for name, a in named.items()
            if a["CurrentBalance"]} == {
        "Stripe EUR": ("EUR", "50.00"), "Stripe JPY": ("JPY", "12345"), "Stripe KWD": ("KWD", "1.000"),
        "Accounts Receivable (A/R) - KWD": ("KWD", "0.234"), "Checking": ("USD", "60.00"),
        "Services": ("USD", "196.72"), "Exchange Gain or Loss": ("USD", "-2.58")}
    # the accountant's view: every account in USD at the rates it was booked at, and it ties
    report = trial_balance(client)
    assert report["Header"]["Currency"] == "USD" and report["Header"]["ReportName"] == "TrialBalance"
    assert tb_rows(report) == {
        "Stripe EUR": ("55.00", ""), "Stripe JPY": ("80.24", ""), "Stripe KWD": ("3.30", ""),
        "Checking": ("60.00", ""), "Accounts Receivable (A/R) - KWD": ("0.76", ""),
        "Services": ("", "196.72"), "Exchange Gain or Loss": ("", "2.58")}
    assert report["Rows"]["Row"][-1]["Summary"]["ColData"][1]["value"] == "199.30"


def test_the_trial_balance_stops_at_its_end_date(client):
    made(client, "transfer", transfer(CHECKING, "4", "10.00", TxnDate="2026-10-31"))
    made(client, "transfer", transfer(CHECKING, "4", "5.00", TxnDate="2026-11-02"))
    assert tb_rows(trial_balance(client, end_date="2026-10-31")) == {
        "Undeposited Funds": ("10.00", ""), "Checking": ("", "10.00")}
    assert tb_rows(trial_balance(client)) == {"Undeposited Funds": ("15.00", ""), "Checking": ("", "15.00")}
    answer = client.get(f"{V3}/reports/TrialBalance", params={**MV, "end_date": "31/10/2026"})
    assert answer.status_code == 400


@pytest.mark.parametrize("case", ["customer-currency", "no-rate", "rate-at-home", "third-currency",
                                  "transfer-third-currency", "foreign-income", "currency-fixed"])
def test_what_a_multicurrency_company_refuses(client, sandbox, case):
    euro = customer(client, "Euro GmbH", "EUR")
    pound_bank = account(client, "Bank GBP", "Bank", "GBP")
    if case == "customer-currency":  # a EUR customer's invoice in USD
        error = fault(client, "invoice", {"CustomerRef": {"value": euro}, "CurrencyRef": {"value": "USD"},
                                          "Line": sale_lines("1.00")})
    elif case == "no-rate":  # the sandbox has no rate table: a foreign transaction states its rate
        error = fault(client, "invoice", {"CustomerRef": {"value": euro}, "Line": sale_lines("1.00")})
    elif case == "rate-at-home":
        error = fault(client, "invoice", {"CustomerRef": {"value": "1"}, "ExchangeRate": D("1.5"),
                                          "Line": sale_lines("1.00")})
    elif case == "third-currency":  # a EUR payment into a GBP account
        error = fault(client, "salesreceipt", {"CustomerRef": {"value": euro}, "ExchangeRate": D("1.1"),
                                               "DepositToAccountRef": {"value": pound_bank},
                                               "Line": sale_lines("1.00")})
    elif case == "transfer-third-currency":  # EUR into a GBP account: neither home nor EUR
        euro_bank = account(client, "Bank EUR", "Bank", "EUR")
        error = fault(client, "transfer", transfer(euro_bank, pound_bank, "5.00", CurrencyRef={"value": "EUR"},
                                                   ExchangeRate=D("1.1")))
    elif case == "foreign-income":
        error = fault(client, "account", {"Name": "Sales EUR", "AccountType": "Income",
                                          "CurrencyRef": {"value": "EUR"}})
    else:  # a customer's currency is fixed once it has transactions
        invoice(client, "1.00", customer=euro, ExchangeRate=D("1.1"))
        row = jsonio.loads(client.get(f"{V3}/customer/{euro}", params=MV).content)["Customer"]
        error = fault(client, "customer", {**row, "CurrencyRef": {"value": "GBP"}})
    expected = {"no-rate": ("2020", "ExchangeRate"), "rate-at-home": ("6000", "ExchangeRate")}
    assert (error["code"], error["element"]) == expected.get(case, ("6000", "CurrencyRef")), error
    if case != "currency-fixed":
        assert [sandbox.entities(REALM, name) for name in ("invoice", "salesreceipt", "transfer")] == [[]] * 3
        assert tb_rows(trial_balance(client)) == {}


def test_without_multicurrency_only_the_home_currency_is_accepted():
    """A company without multicurrency (the default) refuses every other currency."""
    from ledgerlink.testing.sandbox import running
    with running(create_sandbox(rate_limit=False)) as served, \
            httpx.Client(base_url=served.url, headers=AUTH, timeout=5) as plain:
        prefs = jsonio.loads(plain.get(f"{V3}/preferences", params=MV).content)["Preferences"]
        assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}}
        for entity, body in (("account", {"Name": "Stripe EUR", "AccountType": "Bank", "CurrencyRef": {"value": "EUR"}}),
                             ("invoice", {"CustomerRef": {"value": "1"}, "CurrencyRef": {"value": "EUR"},
                                          "ExchangeRate": D("1.1"), "Line": sale_lines("1.00")})):
            error = fault(plain, entity, body)
            assert (error["code"], error["element"]) == ("6000", "CurrencyRef")
            assert "Multicurrency is not turned on" in error["Detail"]
        assert "Exchange Gain or Loss" not in accounts_named(plain)


# --- the closed books date -----------------------------------------------------------------

def test_a_write_dated_in_the_closed_period_is_refused_as_qbo_refuses_it(qbo, client, sandbox):
    old = made(client, "transfer", transfer(CHECKING, "4", "10.00", TxnDate="2026-10-15"))
    sale = invoice(client, "20.00", TxnDate="2026-10-20")
    answer = httpx.post(f"{qbo.url}/__sandbox/preferences", json={"book_close_date": "2026-10-31"})
    assert answer.json()["AccountingInfoPrefs"]["BookCloseDate"] == "2026-10-31"
    # read as QBO serves it: GET …/preferences and a query
    prefs = jsonio.loads(client.get(f"{V3}/preferences", params=MV).content)["Preferences"]
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == "2026-10-31"
    queried = client.get(f"{V3}/query", params={**MV, "query": "select * from Preferences"})
    assert jsonio.loads(queried.content)["QueryResponse"]["Preferences"] == [prefs]

    refused = [fault(client, "invoice", {"CustomerRef": {"value": "1"}, "TxnDate": "2026-10-31",
                                         "Line": sale_lines("5.00")}),  # on the closing date
               fault(client, "transfer", {**old, "Amount": D("11.00")}),  # changing a closed one
               fault(client, "transfer", {**transfer(CHECKING, "4", "1.00"), "Id": made(
                   client, "transfer", transfer(CHECKING, "4", "1.00"))["Id"], "SyncToken": "0",
                   "TxnDate": "2026-09-30"}),  # moving an open one into the closed period
               fault(client, "invoice", {"Id": sale["Id"], "SyncToken": sale["SyncToken"]}, operation="void"),
               fault(client, "transfer", {"Id": old["Id"], "SyncToken": old["SyncToken"]}, operation="delete")]
    for error in refused:
        assert (error["Message"], error["code"]) == ("Account Period Closed, Cannot Update Through Services API",
                                                     "6200"), error
        assert "The account period has closed" in error["Detail"]
    assert tb_rows(trial_balance(client, end_date="2026-10-31")) == {
        "Accounts Receivable (A/R)": ("20.00", ""), "Undeposited Funds": ("10.00", ""),
        "Checking": ("", "10.00"), "Services": ("", "20.00")}
    # the day after is open
    made(client, "invoice", {"CustomerRef": {"value": "1"}, "TxnDate": "2026-11-01", "Line": sale_lines("5.00")})
    # reopened: the old transfer can be deleted again
    httpx.post(f"{qbo.url}/__sandbox/preferences", json={"book_close_date": None})
    assert delete(client, "transfer", old).status_code == 200


def test_the_closed_books_date_and_currencies_are_sandbox_options():
    for bad in ({"book_close_date": "yesterday"}, {"home_currency": "XYZ"}, {"multicurrency": "yes"}):
        with pytest.raises(ValueError):
            create_sandbox(**bad)
    app = create_sandbox(home_currency="EUR", book_close_date="2025-12-31")
    [prefs] = app.sandbox.entities(REALM, "preferences")
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == "2025-12-31"
    assert prefs["CurrencyPrefs"]["HomeCurrency"] == {"value": "EUR"}
    assert {a["CurrencyRef"]["value"] for a in app.sandbox.entities(REALM, "account")} == {"EUR"}
    with pytest.raises(ValueError):  # never turned off again, as in QuickBooks
        app.sandbox.preferences(multicurrency=True)
        app.sandbox.preferences(multicurrency=False)


def test_a_voided_foreign_payment_takes_back_its_exchange_difference(client):
    euro = customer(client, "Euro GmbH", "EUR")
    bank = account(client, "Stripe EUR", "Bank", "EUR")
    sale = invoice(client, "10.00", customer=euro, ExchangeRate=D("1.10"))
    paid = payment(client, {sale["Id"]: "10.00"}, "10.00", customer=euro, ExchangeRate=D("1.00"),
                   DepositToAccountRef={"value": bank})
    assert balances(client, bank, EXCHANGE) == [D("10.00"), D("1.00")]  # a loss of 1.00
    void(client, "payment", paid)
    assert balances(client, bank, EXCHANGE) == [D("0.00"), D("0.00")]
    assert tb_rows(trial_balance(client)) == {"Accounts Receivable (A/R) - EUR": ("11.00", ""),
                                              "Services": ("", "11.00")}
    assert post(client, "invoice", {"Id": sale["Id"]}).status_code == 400  # no SyncToken
    assert Decimal(0) == balance(client, EXCHANGE)


def test_a_foreign_fee_is_paid_to_a_vendor_in_its_currency(client):
    """Stripe's EUR fee out of the EUR clearing account, to the expense account in USD."""
    bank = account(client, "Stripe EUR", "Bank", "EUR")
    stripe = made(client, "vendor", {"DisplayName": "Stripe (EUR)", "CurrencyRef": {"value": "EUR"}})
    assert stripe["CurrencyRef"] == {"value": "EUR", "name": "Euro"} and stripe["Active"] is True
    fee = {"PaymentType": "Cash", "AccountRef": {"value": bank}, "ExchangeRate": D("1.0825"),
           "Line": [{"Amount": D("0.59"), "DetailType": "AccountBasedExpenseLineDetail",
                     "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "62"}}}]}
    assert fault(client, "purchase", {**fee, "EntityRef": {"value": "56", "type": "Vendor"}})["code"] == "6000"
    paid = made(client, "purchase", {**fee, "EntityRef": {"value": stripe["Id"], "type": "Vendor"}})
    assert (paid["CurrencyRef"]["value"], paid["HomeTotalAmt"]) == ("EUR", D("0.64"))  # 0.638675
    assert balances(client, bank, "62") == [D("-0.59"), D("0.64")]
    # customers and vendors share one name space
    assert fault(client, "vendor", {"DisplayName": "Amy's Bird Sanctuary"})["code"] == "6240"
    assert fault(client, "vendor", {"CompanyName": ""})["code"] == "2020"


def test_a_deposit_of_foreign_payments_clears_undeposited_funds_at_their_rates(client):
    euro = customer(client, "Euro GmbH", "EUR")
    bank = account(client, "Bank EUR", "Bank", "EUR")
    sale = invoice(client, "100.00", customer=euro, ExchangeRate=D("1.10"))
    paid = payment(client, {sale["Id"]: "100.00"}, "100.00", customer=euro, ExchangeRate=D("1.10"))
    assert balance(client, "4") == D("110.00")  # Undeposited Funds is kept in USD
    made(client, "deposit", {"DepositToAccountRef": {"value": bank}, "CurrencyRef": {"value": "EUR"},
                             "ExchangeRate": D("1.12"), "Line": [
        {"Amount": D("100.00"), "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Payment", "TxnLineId": "0"}]}]})
    assert balances(client, "4", bank, EXCHANGE) == [D("0.00"), D("100.00"), D("-2.00")]
    assert tb_rows(trial_balance(client)) == {"Bank EUR": ("112.00", ""), "Services": ("", "110.00"),
                                              "Exchange Gain or Loss": ("", "2.00")}
