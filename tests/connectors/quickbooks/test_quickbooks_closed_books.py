"""The company's closed books date, driven by hand: no HTTP.

A write QuickBooks refuses for the closed period fails with the closed-through date, the
entry's date and what to do, after one read of the preferences (and only then); any other
fault reads nothing more. ``ledgerlink check``'s line about the company reports the date.
Account currencies a recipe declares are held against the company's accounts.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledgerlink.contract import ActionContext, Connection, Response
from ledgerlink.errors import VendorError
from ledgerlink.testing import Script, drive
from ledgerlink_quickbooks import CONNECTOR, books, deposit, journal_entry, transfer
from ledgerlink_quickbooks.references import check_references

BASE = "http://127.0.0.1:8766"
REALM = "9130347596979486"
SETTINGS = {"base_url": BASE, "realm_id": REALM}
#: QuickBooks' answer to a write dated in the closed period (Message and Detail as QBO sends
#: them; Intuit does not document the code that comes with it, so none is relied on)
CLOSED = {"Fault": {"Error": [{"Message": "Account Period Closed",
                               "Detail": "The account period has closed and the account books cannot "
                                         "be updated through the QBO Services API. Please use the QBO "
                                         "website to make these changes.",
                               "code": "6200"}], "type": "ValidationFault"},
          "time": "2024-04-02T09:12:45.000-07:00"}


def ctx() -> ActionContext:
    return ActionContext(connection=Connection("books", "quickbooks", SETTINGS),
                         idempotency_key="0f6c2f1e-6d0b-4f7a-9e55-5a8f0c7d1b22", recipe_id="r",
                         recipe_version=1, step_id="s", event_id="evt_1")


def preferences(close_date: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {"TrackDepartments": False}
    if close_date is not None:
        info["BookCloseDate"] = close_date
    return {"Preferences": {"AccountingInfoPrefs": info, "Id": "1", "SyncToken": "0"},
            "time": "2024-04-02T09:12:45.000-07:00"}


TRANSFER_INPUT = {"FromAccountRef": "92", "ToAccountRef": "35", "Amount": "1185.30",
                  "TxnDate": "2024-03-15"}


def failed(action, data: dict, *answers) -> tuple[VendorError, list]:
    """The VendorError perform raises with ``answers``, and the requests it sent."""
    driven_requests: list = []
    script = Script(*answers)

    def answer(request):
        driven_requests.append(request)
        return script(request)

    with pytest.raises(VendorError) as info:
        drive(action.perform(data, ctx()), answer)
    assert script.left == []
    return info.value, driven_requests


@pytest.mark.parametrize("action, data", [
    (transfer.ACTION, TRANSFER_INPUT),
    (deposit.ACTION, {"DepositToAccountRef": "35", "Amount": "10.00", "FromAccountRef": "4",
                      "TxnDate": "2024-03-15"}),
    (journal_entry.ACTION, journal_entry.ACTION.sample | {"TxnDate": "2024-03-15"}),
], ids=["transfer", "deposit", "journal_entry"])
def test_a_write_in_the_closed_period_names_both_dates_and_the_fix(action, data):
    error, requests = failed(action, data, Response(status=400, json=CLOSED), preferences("2024-03-31"))
    message = str(error)
    assert message.startswith("QuickBooks' books are closed through 2024-03-31; the entry is dated "
                              "2024-03-15: QuickBooks refuses to add or change a transaction on or "
                              "before that date through the API. Date the entry after 2024-03-31")
    assert "Settings > Account and settings > Advanced > Accounting > Close the books" in message
    assert "Account Period Closed" in message  # QuickBooks' own words are kept
    assert error.kind == "permanent" and error.vendor_code == "6200"
    write, read = requests
    assert write.method == "POST"
    assert read.method == "GET" and read.url == f"{BASE}/v3/company/{REALM}/preferences"
    assert read.params == {"minorversion": "75"}  # a read carries no requestid


def test_an_entry_without_a_date_and_an_unreadable_date():
    undated = {k: v for k, v in TRANSFER_INPUT.items() if k != "TxnDate"}
    error, _ = failed(transfer.ACTION, undated, Response(status=400, json=CLOSED), preferences("2024-03-31"))
    assert "closed through 2024-03-31; the entry has no TxnDate, so QuickBooks dates it today" in str(error)
    # the preferences cannot be read: QuickBooks' refusal still says what happened
    error, _ = failed(transfer.ACTION, TRANSFER_INPUT, Response(status=400, json=CLOSED),
                      Response(status=503, text="busy"))
    assert "Account Period Closed" in str(error) and "books are closed for the entry's date" in str(error)
    assert error.kind == "permanent"
    # the code QuickBooks sends with it is not relied on, and no stale-SyncToken advice is given
    stale_code = {"Fault": {**CLOSED["Fault"], "Error": [{**CLOSED["Fault"]["Error"][0], "code": "5010"}]}}
    error, _ = failed(transfer.ACTION, TRANSFER_INPUT, Response(status=400, json=stale_code),
                      preferences("2024-03-31"))
    assert "closed through 2024-03-31" in str(error) and "SyncToken" not in str(error)


def test_other_faults_read_nothing_more():
    other = {"Fault": {"Error": [{"Message": "Invalid Reference Id", "Detail": "Account 999",
                                  "code": "2500"}], "type": "ValidationFault"}}
    error, requests = failed(transfer.ACTION, TRANSFER_INPUT, Response(status=400, json=other))
    assert len(requests) == 1 and "closed" not in str(error)
    assert "ledgerlink check" in str(error)


def test_check_reports_the_closed_books_date():
    connection = Connection("books", "quickbooks", SETTINGS)
    assert CONNECTOR.check_company is books.check_company
    closed = drive(books.check_company(connection), Script(preferences("2024-03-31")))
    assert closed.value == [
        "the books are closed through 2024-03-31 (Preferences BookCloseDate): an entry dated on or "
        "before it is refused; reopen the period in QuickBooks (Settings > Account and settings > "
        "Advanced > Accounting > Close the books) or date entries after it"]
    assert closed.requests[0].url == f"{BASE}/v3/company/{REALM}/preferences"
    assert drive(books.check_company(connection), Script(preferences(None))).value == [
        "the books are not closed (Preferences BookCloseDate is not set)"]
    unreadable = drive(books.check_company(connection), Script(Response(status=404, text="no"))).value
    assert len(unreadable) == 1 and unreadable[0].startswith("the closed books date could not be read")


def test_check_holds_declared_account_currencies_against_the_company():
    connection = Connection("books", "quickbooks", SETTINGS)
    rows = {"QueryResponse": {"Account": [
        {"Id": "92", "Active": True, "AccountType": "Bank", "CurrencyRef": {"value": "USD"}},
        {"Id": "93", "Active": True, "AccountType": "Bank", "CurrencyRef": {"value": "EUR"}}]}}
    verdicts = drive(check_references("Account", ["92", "93"], connection,
                                      declared={"92": {"CurrencyRef": "USD"}, "93": {"CurrencyRef": "GBP"}}),
                     Script(rows)).value
    assert verdicts == {"93": "is in EUR (the recipe declares CurrencyRef GBP); correct the declared "
                              "CurrencyRef or the id"}
