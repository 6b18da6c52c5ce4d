"""The Xero sandbox's ``GET /Reports/TrialBalance`` over loopback HTTP: Xero's report shape
(validated by the sandbox against the strict spec, and read by xero-python's model), the
balances its ledger moved, as at a date."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from test_xero_sandbox_api import api
from test_xero_sandbox_invoices import amounts, contact
from xero_sdk import sdk_reads


@pytest.fixture
def xero():
    with running(create_sandbox(clock=lambda: 1000.0, wall_clock=lambda: 1_790_000_000.0)) as served:
        yield served


def rows(report: dict) -> dict[str, tuple[str, str, str]]:
    """Account code -> (Debit, Credit, AccountID) of each account row."""
    found = {}
    for section in report["Rows"][1:]:
        for row in section["Rows"]:
            if row["RowType"] == "Row":
                name, debit, credit = (cell["Value"] for cell in row["Cells"][:3])
                found[name.rsplit("(", 1)[1].rstrip(")")] = (debit, credit, row["Cells"][0]["Attributes"][0]["Value"])
    return found


def test_the_trial_balance_reports_each_account_moved_with_equal_totals_as_at_a_date(xero):
    stripe = contact(xero)
    for day, amount in (("2026-11-03", 100), ("2026-11-05", 40.5)):
        amounts(api(xero, "PUT", "BankTransactions", {"BankTransactions": [{
            "Type": "RECEIVE", "Contact": {"ContactID": stripe}, "BankAccount": {"Code": "090"}, "Date": day,
            "LineAmountTypes": "NoTax", "LineItems": [{"Description": "sale", "UnitAmount": amount,
                                                       "AccountCode": "200"}]}]}))
    amounts(api(xero, "PUT", "BankTransactions", {"BankTransactions": [{
        "Type": "SPEND", "Contact": {"ContactID": stripe}, "BankAccount": {"Code": "090"}, "Date": "2026-11-05",
        "LineAmountTypes": "NoTax", "LineItems": [{"Description": "fee", "UnitAmount": 3.2, "AccountCode": "404"}]}]}))
    answer = api(xero, "GET", "Reports/TrialBalance")
    assert answer.status_code == 200, answer.text  # the sandbox checked it against ReportWithRows
    [report] = answer.json()["Reports"]
    assert report["ReportType"] == "TrialBalance" and report["Rows"][0]["RowType"] == "Header"
    assert [cell["Value"] for cell in report["Rows"][0]["Cells"]] == ["Account", "Debit", "Credit", "YTD Debit",
                                                                       "YTD Credit"]
    accounts = {a["Code"]: a["AccountID"] for a in api(xero, "GET", "Accounts").json()["Accounts"]}
    assert rows(report) == {"200": ("", "140.50", accounts["200"]), "404": ("3.20", "", accounts["404"]),
                            "090": ("137.30", "", accounts["090"])}
    assert [s["Title"] for s in report["Rows"][1:]] == ["Revenue", "Expenses", "Assets", ""]
    [total] = report["Rows"][-1]["Rows"]
    assert total["RowType"] == "SummaryRow" and [c["Value"] for c in total["Cells"]] == [
        "Total", "140.50", "140.50", "140.50", "140.50"]
    read = sdk_reads("ReportWithRows", answer.json())  # xero-python reads it as Xero's
    assert read.reports[0].rows[1].rows[0].cells[2].value == "140.50"

    as_at = api(xero, "GET", "Reports/TrialBalance", date="2026-11-04").json()["Reports"][0]
    assert rows(as_at) == {"200": ("", "100.00", accounts["200"]), "090": ("100.00", "", accounts["090"])}
    assert as_at["ReportTitles"][-1] == "As at 4 November 2026"
    assert api(xero, "GET", "Reports/TrialBalance", date="4/11/2026").status_code == 400
    assert Decimal(rows(report)["090"][0]) == Decimal("140.50") - Decimal("3.20")


def test_the_trial_balance_is_the_tenants_and_refuses_the_cash_basis(xero):
    assert api(xero, "GET", "Reports/TrialBalance", tenant=None).status_code == 403
    assert api(xero, "GET", "Reports/TrialBalance", paymentsOnly="true").status_code == 400
    empty = api(xero, "GET", "Reports/TrialBalance", tenant=DEFAULT_TENANT).json()["Reports"][0]
    assert [row["RowType"] for row in empty["Rows"]] == ["Header", "Section"]  # only the totals, of zero
    assert [c["Value"] for c in empty["Rows"][-1]["Rows"][0]["Cells"]][1:] == ["0.00"] * 4
