"""The FreshBooks sandbox's invoices and payments over loopback HTTP: lines and their
arithmetic, include[], statuses, payments moving what is outstanding, deletion."""

from __future__ import annotations

import json

import pytest

from fb_sandbox import call, result, served, shape_of
from vendor_files import FRESHBOOKS

JAVA = FRESHBOOKS / "freshbooks-java-sdk-fixtures"


def recorded(name: str) -> dict:
    return json.loads((JAVA / name).read_text("utf-8"))["response"]["result"]


def client(loop, currency: str = "USD") -> dict:
    return result(call(loop, "POST", "users/clients",
                       {"client": {"email": f"{currency}@example.com", "currency_code": currency}}))["client"]


def invoice(loop, customer: dict, lines: list[dict], **fields) -> dict:
    body = {"invoice": {"customerid": customer["id"], "create_date": "2026-11-30", "lines": lines, **fields}}
    return result(call(loop, "POST", "invoices/invoices", body, params={"include[]": "lines"}))["invoice"]


def line(qty: str, cost: str, code: str | None = None, **tax) -> dict:
    unit = {"amount": cost} if code is None else {"amount": cost, "code": code}
    return {"type": 0, "name": "Subscription", "qty": qty, "unit_cost": unit, **tax}


def pay(loop, bill: dict, amount: str, **extra):
    return call(loop, "POST", "payments/payments", {"payment": {
        "invoiceid": bill["id"], "amount": {"amount": amount}, "date": "2026-12-01", "type": "Credit Card", **extra}})


@pytest.mark.parametrize("currency, lines, total", [
    ("USD", [line("2", "10.00", "USD", taxName1="HST", taxAmount1="13"), line("1", "4.99")], "27.59"),
    ("JPY", [line("3", "1000", "JPY", taxName1="GST", taxAmount1="5")], "3150"),
    # FreshBooks keeps any amount to two places: 12.35 + 1.6055 → 1.61 + 0.505 → 0.51
    ("KWD", [line("1", "12.35", "KWD", taxName1="HST", taxAmount1="13"), line("0.5", "1.01")], "14.47"),
])
def test_an_invoice_is_its_lines_and_their_taxes_to_the_currency_s_places(currency, lines, total):
    with served() as (loop, _clock):
        bill = invoice(loop, client(loop, currency), lines)
        assert bill["currency_code"] == currency and bill["amount"] == {"amount": total, "code": currency}
        assert bill["outstanding"] == bill["amount"] and bill["status"] == 1 and bill["v3_status"] == "draft"
        assert all(entry["unit_cost"]["code"] == currency for entry in bill["lines"])


def test_a_discount_and_too_many_decimal_places():
    with served() as (loop, _clock):
        customer = client(loop)
        bill = invoice(loop, customer, [line("1", "100.00")], discount_value="10")
        assert bill["discount_total"] == {"amount": "-10.00", "code": "USD"} and bill["amount"]["amount"] == "90.00"
        refused = call(loop, "POST", "invoices/invoices", {"invoice": {
            "customerid": customer["id"], "create_date": "2026-11-30", "lines": [line("1", "1.005")]}})
        assert refused.status_code == 400
        assert refused.json()["response"]["errors"][0]["field"] == "lines.0.unit_cost.amount"
        other = call(loop, "POST", "invoices/invoices", {"invoice": {
            "customerid": customer["id"], "create_date": "2026-11-30", "lines": [line("1", "1.00", "EUR")]}})
        assert other.status_code == 400


def test_a_dinar_is_kept_to_two_places_as_every_amount_freshbooks_keeps():
    """A third decimal (a fils) is refused in a line, a payment, an expense; what arithmetic
    makes of a dinar amount is rounded to two places, as FreshBooks keeps amounts."""
    with served() as (loop, _clock):
        customer = client(loop, "KWD")
        refused = call(loop, "POST", "invoices/invoices", {"invoice": {
            "customerid": customer["id"], "create_date": "2026-11-30", "lines": [line("1", "12.345", "KWD")]}})
        assert refused.status_code == 400
        error = refused.json()["response"]["errors"][0]
        assert error["field"] == "lines.0.unit_cost.amount" and "2 decimal places" in error["message"]
        bill = invoice(loop, customer, [line("3", "0.33", "KWD", taxName1="GST", taxAmount1="5")])
        assert bill["amount"] == {"amount": "1.04", "code": "KWD"}  # 0.99 + 0.0495 → 0.05
        assert bill["lines"][0]["amount"] == {"amount": "0.99", "code": "KWD"}
        assert pay(loop, bill, "0.333").status_code == 400
        paid = result(pay(loop, bill, "1.04"))["payment"]
        assert paid["amount"] == {"amount": "1.04", "code": "KWD"}


def test_lines_are_answered_only_when_included_and_the_answer_has_freshbooks_shape():
    with served() as (loop, _clock):
        bill = invoice(loop, client(loop), [line("4", "5.00", "USD", taxName1="HST", taxAmount1="13")])
        plain = result(call(loop, "GET", f"invoices/invoices/{bill['id']}"))["invoice"]
        assert "lines" not in plain
        listed = result(call(loop, "GET", "invoices/invoices"))["invoices"]
        assert "lines" not in listed[0]
        full = result(call(loop, "GET", f"invoices/invoices/{bill['id']}", params={"include[]": "lines"}))["invoice"]
        want = recorded("get_invoice_response.json")["invoice"]
        assert set(want) - set(full) == set()
        assert shape_of(full["lines"][0]) == {**shape_of(want["lines"][0]),
                                              **{k: shape_of(full["lines"][0])[k] for k in ("date", "retainer_id",
                                                 "retainer_period_id", "modern_project_id", "taxNumber1",
                                                 "taxNumber2", "taxName2")}}
        for key in ("amount", "outstanding", "paid", "status", "invoiceid", "customerid", "currency_code"):
            assert shape_of(full[key]) == shape_of(want[key]), key


def test_a_client_the_business_does_not_have_or_a_misspelt_field_is_refused():
    with served() as (loop, _clock):
        missing = call(loop, "POST", "invoices/invoices", {"invoice": {"customerid": 999, "create_date": "2026-11-30"}})
        assert missing.status_code == 400 and missing.json()["response"]["errors"][0]["errno"] == 1012
        misspelt = call(loop, "POST", "invoices/invoices", {"invoice": {
            "customerId": client(loop)["id"], "create_date": "2026-11-30"}})
        assert misspelt.status_code == 400
        assert {e["message"] for e in misspelt.json()["response"]["errors"]} == {
            "Additional properties are not allowed ('customerId' was unexpected)", "'customerid' is a required property"}


def test_mark_as_sent_then_payments_move_outstanding_and_status_and_deleting_one_moves_them_back():
    with served() as (loop, _clock):
        bill = invoice(loop, client(loop), [line("1", "100.00")])
        sent = result(call(loop, "PUT", f"invoices/invoices/{bill['id']}", {"invoice": {"action_mark_as_sent": True}}))
        assert (sent["invoice"]["status"], sent["invoice"]["v3_status"]) == (2, "sent")
        first = result(pay(loop, bill, "40.00"))["payment"]
        want = recorded("get_payment_response.json")["payment"]
        assert set(first) == set(want) and first["amount"] == {"amount": "40.00", "code": "USD"}
        now = result(call(loop, "GET", f"invoices/invoices/{bill['id']}"))["invoice"]
        assert (now["status"], now["payment_status"], now["outstanding"]["amount"]) == (8, "partial", "60.00")
        over = pay(loop, bill, "60.01")
        assert over.status_code == 400 and over.json()["response"]["errors"][0]["field"] == "amount.amount"
        result(pay(loop, bill, "60.00"))
        paid = result(call(loop, "GET", f"invoices/invoices/{bill['id']}"))["invoice"]
        assert (paid["status"], paid["v3_status"], paid["outstanding"]["amount"], paid["date_paid"]) == (
            4, "paid", "0.00", "2026-12-01")
        refused = call(loop, "DELETE", f"invoices/invoices/{bill['id']}")
        assert refused.status_code == 400
        result(call(loop, "PUT", f"payments/payments/{first['id']}", {"payment": {"vis_state": 1}}))
        back = result(call(loop, "GET", f"invoices/invoices/{bill['id']}"))["invoice"]
        assert (back["status"], back["outstanding"]["amount"], back["paid"]["amount"]) == (8, "40.00", "60.00")


def test_a_payment_needs_a_live_invoice_an_amount_a_date_and_a_known_type():
    with served() as (loop, _clock):
        bill = invoice(loop, client(loop), [line("1", "10.00")])
        wrong = pay(loop, bill, "5.00", type="Bitcoin")
        assert wrong.status_code == 400 and wrong.json()["response"]["errors"][0]["field"] == "type"
        other_currency = call(loop, "POST", "payments/payments", {"payment": {
            "invoiceid": bill["id"], "amount": {"amount": "5.00", "code": "EUR"}, "date": "2026-12-01", "type": "Cash"}})
        assert other_currency.status_code == 400
        undated = call(loop, "POST", "payments/payments", {"payment": {
            "invoiceid": bill["id"], "amount": {"amount": "5.00"}, "type": "Cash"}})
        assert undated.status_code == 400
        result(call(loop, "DELETE", f"invoices/invoices/{bill['id']}"))
        gone = pay(loop, bill, "5.00")
        assert gone.status_code == 400 and gone.json()["response"]["errors"][0]["field"] == "invoiceid"
        assert result(call(loop, "GET", f"invoices/invoices/{bill['id']}"))["invoice"]["vis_state"] == 1
        assert loop.sandbox.businesses["6BApk"].all("payments") == []
