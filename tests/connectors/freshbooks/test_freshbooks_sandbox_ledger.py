"""The FreshBooks sandbox's books over loopback HTTP: credit notes, expenses, other incomes,
taxes and items in FreshBooks' shapes, a ledger that balances, the profit and loss report."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from fb_sandbox import ACCOUNT, call, result, served, shape_of
from vendor_files import FRESHBOOKS

JAVA = FRESHBOOKS / "freshbooks-java-sdk-fixtures"


def recorded(name: str) -> dict:
    return json.loads((JAVA / name).read_text("utf-8"))["response"]["result"]


def create(loop, path: str, singular: str, **fields) -> dict:
    return result(call(loop, "POST", path, {singular: fields}))[singular]


def balances(loop) -> dict:
    return {account: {code: Decimal(str(amount)) for code, amount in by_code.items()}
            for account, by_code in httpx.get(f"{loop.url}/__sandbox/balances/{ACCOUNT}").json().items()}


def category(loop, name: str) -> int:
    found = result(call(loop, "GET", "expenses/categories", params={"search[category]": name}))["categories"]
    return found[0]["id"]


def month(loop) -> None:
    """An invoice of 100.00 + 13 % HST, sent and paid in full, a credit note of 20.00 + HST,
    a Stripe fee of 3.20 and 5.00 of other income with 0.50 of tax."""
    customer = create(loop, "users/clients", "client", email="buyer@example.com")
    bill = create(loop, "invoices/invoices", "invoice", customerid=customer["id"], create_date="2026-11-02",
                  lines=[{"name": "Plan", "qty": "1", "unit_cost": {"amount": "100.00"}, "taxName1": "HST",
                          "taxAmount1": "13"}])
    result(call(loop, "PUT", f"invoices/invoices/{bill['id']}", {"invoice": {"action_mark_as_sent": True}}))
    result(call(loop, "POST", "payments/payments", {"payment": {"invoiceid": bill["id"], "amount": {"amount": "113.00"},
                                                               "date": "2026-11-03", "type": "Credit Card"}}))
    create(loop, "credit_notes/credit_notes", "credit_note", clientid=customer["id"], create_date="2026-11-04",
           lines=[{"name": "Refund", "qty": "1", "unit_cost": {"amount": "20.00"}, "taxName1": "HST", "taxAmount1": "13"}])
    create(loop, "expenses/expenses", "expense", categoryid=category(loop, "Merchant Fees"), staffid=1,
           amount={"amount": "3.20"}, date="2026-11-03", vendor="Stripe", notes="fee of ch_1")
    create(loop, "other_incomes/other_incomes", "other_income", amount={"amount": "5.00", "code": "USD"},
           category_name="online_sales", date="2026-11-05", payment_type="Credit Card", source="Stripe",
           taxes=[{"name": "HST", "amount": "0.50"}])


def test_the_ledger_moves_receivable_cash_sales_tax_fees_and_other_income_and_balances():
    with served() as (loop, _clock):
        month(loop)
        books = balances(loop)
        assert books == {
            "Accounts Receivable": {"USD": Decimal("-22.60")}, "Cash": {"USD": Decimal("114.80")},
            "Merchant Fees": {"USD": Decimal("3.20")}, "Other Income": {"USD": Decimal("-4.50")},
            "Sales": {"USD": Decimal("-80.00")}, "Sales Tax": {"USD": Decimal("-10.90")}}
        assert sum(by_code["USD"] for by_code in books.values()) == 0


def test_a_draft_invoice_posts_nothing_and_a_deleted_document_moves_its_postings_back():
    with served() as (loop, _clock):
        customer = create(loop, "users/clients", "client", email="buyer@example.com")
        bill = create(loop, "invoices/invoices", "invoice", customerid=customer["id"], create_date="2026-11-02",
                      lines=[{"name": "Plan", "qty": "1", "unit_cost": {"amount": "50.00"}}])
        assert balances(loop) == {}
        result(call(loop, "PUT", f"invoices/invoices/{bill['id']}", {"invoice": {"action_mark_as_sent": True}}))
        assert balances(loop)["Accounts Receivable"] == {"USD": Decimal("50.00")}
        fee = create(loop, "expenses/expenses", "expense", categoryid=category(loop, "Bank Fees"), staffid=1,
                     amount={"amount": "1.00"}, date="2026-11-03")
        result(call(loop, "PUT", f"expenses/expenses/{fee['id']}", {"expense": {"vis_state": 1}}))
        result(call(loop, "DELETE", f"invoices/invoices/{bill['id']}"))
        assert all(amount == 0 for by_code in balances(loop).values() for amount in by_code.values())


def test_the_profit_and_loss_report_has_freshbooks_shape_and_the_ledger_s_figures():
    with served() as (loop, _clock):
        month(loop)
        report = result(call(loop, "GET", "reports/accounting/profitloss",
                             params={"start_date": "2026-11-01", "end_date": "2026-11-30"}))["profitloss"]
        want = recorded("report_profit_and_loss.json")["profitloss"]
        assert set(report) == set(want)
        assert shape_of(report["net_profit"]) == shape_of(want["net_profit"])
        assert shape_of(report["expenses"][0]["children"][0]) == shape_of(want["expenses"][0]["children"][0]["children"][0])
        assert report["total_income"]["total"] == {"amount": "84.50", "code": "USD"}   # 100 - 20 + 4.50
        assert report["total_expenses"]["total"] == {"amount": "3.20", "code": "USD"}
        assert report["net_profit"]["total"] == {"amount": "81.30", "code": "USD"}
        december = result(call(loop, "GET", "reports/accounting/profitloss",
                               params={"start_date": "2026-12-01", "end_date": "2026-12-31"}))["profitloss"]
        assert december["net_profit"]["total"]["amount"] == "0.00"
        assert call(loop, "GET", "reports/accounting/profitloss", params={"start_date": "Nov 1"}).status_code == 400


def test_expenses_other_incomes_taxes_and_items_are_answered_in_freshbooks_shape():
    with served() as (loop, _clock):
        month(loop)
        for path, singular, fixture in (("expenses/expenses", "expense", "get_expense_response.json"),
                                        ("other_incomes/other_incomes", "other_income", "get_other_income_response.json"),
                                        ("taxes/taxes", "tax", "get_tax_response.json"),
                                        ("items/items", "item", "get_item_response.json")):
            listed = call(loop, "GET", path).json()["response"]["result"]
            key = "other_income" if singular == "other_income" else path.split("/")[1]
            first = listed[key][0]
            want = recorded(fixture)[singular]
            ours = shape_of(first)
            shared = {name: kind for name, kind in shape_of(want).items() if name in ours and kind is not None
                      and ours[name] is not None}
            assert {name: ours[name] for name in shared} == shared, singular
            assert len(shared) >= min(8, len(want) - 3), singular
        assert recorded("list_other_incomes_response.json").keys() >= {"other_income"}


def test_other_incomes_and_taxes_are_deleted_by_delete_and_an_unknown_category_is_refused():
    with served() as (loop, _clock):
        income = create(loop, "other_incomes/other_incomes", "other_income", amount={"amount": "5.00"},
                        category_name="online_sales", date="2026-11-05")
        result(call(loop, "DELETE", f"other_incomes/other_incomes/{income['id']}"))
        assert result(call(loop, "GET", "other_incomes/other_incomes"))["other_income"] == []
        wrong = call(loop, "POST", "other_incomes/other_incomes", {"other_income": {
            "amount": {"amount": "5.00"}, "category_name": "gifts", "date": "2026-11-05"}})
        assert wrong.status_code == 400
        fee = call(loop, "POST", "expenses/expenses", {"expense": {"categoryid": 1, "staffid": 1,
                                                                  "amount": {"amount": "1.00"}, "date": "2026-11-03"}})
        assert fee.status_code == 400 and fee.json()["response"]["errors"][0]["field"] == "categoryid"
        tax = create(loop, "taxes/taxes", "tax", name="VAT", amount="20")
        result(call(loop, "DELETE", f"taxes/taxes/{tax['id']}"))
        assert [t["name"] for t in result(call(loop, "GET", "taxes/taxes"))["taxes"]] == ["HST", "GST"]
