"""The Xero sandbox's manual journals, bank transactions, bank transfers and credit notes over
loopback HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from test_xero_sandbox_api import api
from test_xero_sandbox_invoices import amounts, contact, invoice


@pytest.fixture
def xero():
    with running(create_sandbox(clock=lambda: 1000.0, wall_clock=lambda: 1_790_000_000.0)) as served:
        yield served


def errors_of(response) -> list[str]:
    assert response.status_code == 400, response.text
    return [e["Message"] for e in response.json()["Elements"][0]["ValidationErrors"]]


def test_a_balanced_manual_journal_is_posted_and_an_unbalanced_one_refused_with_xeros_message(xero):
    lines = [{"LineAmount": 100.00, "AccountCode": "610", "Description": "payout"},
             {"LineAmount": -97.10, "AccountCode": "200"}, {"LineAmount": -2.90, "AccountCode": "404"}]
    posted = amounts(api(xero, "PUT", "ManualJournals", {"ManualJournals": [
        {"Narration": "Stripe payout po_1", "Date": "2026-11-03", "Status": "POSTED", "JournalLines": lines}]}))
    journal = posted["ManualJournals"][0]
    assert journal["Status"] == "POSTED" and [line["LineAmount"] for line in journal["JournalLines"]] == [
        Decimal("100.00"), Decimal("-97.10"), Decimal("-2.90")]
    unbalanced = api(xero, "PUT", "ManualJournals", {"ManualJournals": [
        {"Narration": "x", "JournalLines": [{"LineAmount": 100, "AccountCode": "610"},
                                            {"LineAmount": -10, "AccountCode": "200"}]}]})
    assert errors_of(unbalanced) == ["The total debits (100.00) must equal total credits (-10.00)"]
    one_line = api(xero, "PUT", "ManualJournals", {"ManualJournals": [
        {"Narration": "x", "JournalLines": [{"LineAmount": 0, "AccountCode": "610"}]}]})
    assert errors_of(one_line) == ["The journal must contain at least two individual JournalLine sub-elements"]
    tracked = [{"Name": f"T{n}", "Option": "a"} for n in range(3)]
    too_many = api(xero, "PUT", "ManualJournals", {"ManualJournals": [
        {"Narration": "x", "JournalLines": [{"LineAmount": 1, "AccountCode": "610", "Tracking": tracked},
                                            {"LineAmount": -1, "AccountCode": "999"}]}]})
    assert errors_of(too_many) == ["A journal line can have at most two tracking categories",
                                   "Account code '999' is not a valid code for this document."]
    on_the_bank = api(xero, "PUT", "ManualJournals", {"ManualJournals": [
        {"Narration": "x", "JournalLines": [{"LineAmount": 1, "AccountCode": "090"},
                                            {"LineAmount": -1, "AccountCode": "200"}]}]})
    assert errors_of(on_the_bank) == [  # https://help.xero.com/nz/Q_JournalBankAcc
        "Account code '090' is a bank account: a manual journal cannot be posted to a bank account."]
    voided = api(xero, "POST", f"ManualJournals/{journal['ManualJournalID']}", {"Status": "VOIDED"})
    assert amounts(voided)["ManualJournals"][0]["Status"] == "VOIDED"


def test_a_fee_is_spent_from_a_bank_account_and_a_payout_transferred_between_bank_accounts(xero):
    fee = amounts(api(xero, "PUT", "BankTransactions", {"BankTransactions": [
        {"Type": "SPEND", "Contact": {"Name": "Stripe"}, "BankAccount": {"Code": "090"}, "Date": "2026-11-03",
         "LineAmountTypes": "NoTax", "LineItems": [{"Description": "Stripe fees", "UnitAmount": 2.90,
                                                    "AccountCode": "404"}]}]}))["BankTransactions"][0]
    assert (fee["Type"], fee["Total"], fee["CurrencyCode"]) == ("SPEND", Decimal("2.90"), "USD")
    assert amounts(api(xero, "GET", "Contacts", where='Name=="Stripe"'))["Contacts"][0]["Name"] == "Stripe"
    wrong = api(xero, "PUT", "BankTransactions", {"Type": "SPEND", "Contact": {"Name": "Stripe"},
                                                  "BankAccount": {"Code": "404"}, "LineItems": [
                                                      {"Description": "x", "UnitAmount": 1, "AccountCode": "404"}]})
    assert errors_of(wrong) == ["A valid bank account must be specified"]
    assert api(xero, "PUT", "Accounts", {"Code": "095", "Name": "Stripe EUR", "Type": "BANK",
                                         "BankAccountNumber": "STRIPE-EUR", "CurrencyCode": "EUR"}).status_code == 200
    moved = amounts(api(xero, "PUT", "BankTransfers", {"BankTransfers": [
        {"FromBankAccount": {"Code": "095"}, "ToBankAccount": {"Code": "091"}, "Amount": 50.00,
         "Date": "2026-11-04"}]}))["BankTransfers"][0]
    assert (moved["Amount"], moved["FromBankAccount"]["Code"], moved["ToBankAccount"]["Code"]) == (
        Decimal("50.00"), "095", "091")
    # between currencies Xero takes its own rate of the day, which the sandbox does not keep
    across = api(xero, "PUT", "BankTransfers", {"FromBankAccount": {"Code": "091"}, "ToBankAccount": {"Code": "090"},
                                                "Amount": 5})
    assert errors_of(across)[0].startswith("A transfer from EUR into USD would be booked at Xero's rate of the day")
    xero.sandbox.orgs[DEFAULT_TENANT].set_lock_dates("2026-11-30", None)
    locked = api(xero, "PUT", "BankTransfers", {"FromBankAccount": {"Code": "091"}, "ToBankAccount": {"Code": "095"},
                                                "Amount": 5, "Date": "/Date(1793750400000+0000)/"})
    assert errors_of(locked) == ["The document date cannot be before the period lock date, currently set at 30-Nov-2026"]
    assert {entry["status"] for entry in xero.sandbox.requests()} == {200, 400}


def test_a_credit_note_allocated_to_an_invoice_reduces_what_is_due_on_both(xero):
    acme = contact(xero)
    owed = invoice(xero, acme)  # 100.02 due
    note = amounts(api(xero, "PUT", "CreditNotes", {"CreditNotes": [
        {"Type": "ACCRECCREDIT", "Contact": {"ContactID": acme}, "Status": "AUTHORISED", "Date": "2026-11-06",
         "LineItems": [{"Description": "Refund", "UnitAmount": 30.00, "AccountCode": "200", "TaxType": "NONE"}]}]}))[
        "CreditNotes"][0]
    assert (note["CreditNoteNumber"], note["Total"], note["RemainingCredit"]) == ("CN-0001", Decimal("30.00"),
                                                                                 Decimal("30.00"))
    too_much = api(xero, "PUT", f"CreditNotes/{note['CreditNoteID']}/Allocations", {"Allocations": [
        {"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Amount": 30.01, "Date": "2026-11-06"}]})
    assert errors_of(too_much) == ["The amount allocated must be more than zero and no more than the credit "
                                   "remaining and the amount due on the invoice"]
    allocated = amounts(api(xero, "PUT", f"CreditNotes/{note['CreditNoteID']}/Allocations", {"Allocations": [
        {"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Amount": 30.00, "Date": "2026-11-06"}]}))
    assert allocated["Allocations"][0]["Amount"] == Decimal("30.00")
    after = amounts(api(xero, "GET", f"Invoices/{owed['InvoiceID']}"))["Invoices"][0]
    assert (after["AmountCredited"], after["AmountDue"], after["Status"]) == (Decimal("30.00"), Decimal("70.02"),
                                                                             "AUTHORISED")
    spent = amounts(api(xero, "GET", f"CreditNotes/{note['CreditNoteID']}"))["CreditNotes"][0]
    assert (spent["RemainingCredit"], spent["Status"]) == (Decimal("0.00"), "PAID")
    assert {entry["status"] for entry in xero.sandbox.requests()} == {200, 400}
