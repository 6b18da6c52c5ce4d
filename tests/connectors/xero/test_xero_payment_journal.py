"""xero.create_payment and xero.create_manual_journal: bodies Xero's spec and SDK accept,
money exact, journals balanced (debits positive, credits negative), found again after the
key expired, undone by status."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.errors import InputError
from ledgerlink.testing import Script, context, drive
from ledgerlink_xero.manual_journal import ACTION as JOURNAL
from ledgerlink_xero.manual_journal import SAMPLE as JOURNAL_SAMPLE
from ledgerlink_xero.manual_journal import SAMPLE_RESPONSE as JOURNAL_RESPONSE
from ledgerlink_xero.payment import ACTION as PAYMENT
from ledgerlink_xero.payment import SAMPLE as PAYMENT_SAMPLE
from ledgerlink_xero.payment import SAMPLE_RESPONSE as PAYMENT_RESPONSE
from xero_openapi_requests import problems
from xero_sdk import sdk_reads

CTX = context("xero", {"api_base": "http://127.0.0.1:9/api.xro/2.0", "base_currency": "USD"}, key="run-4-step-3")
KWD_CTX = context("xero", {"api_base": "http://127.0.0.1:9/api.xro/2.0", "base_currency": "KWD"}, key="k")
PAYMENT_ID = "0d1b2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
JOURNAL_ID = "4c8d2e1f-6a7b-4c9d-8e0f-1a2b3c4d5e6f"


def sent(action, data, answer, ctx=CTX, model=None):
    driven = drive(action.perform(data, ctx), Script(answer))
    (request,) = driven.requests
    assert problems(request) == [] and request.headers["Idempotency-Key"] == ctx.idempotency_key
    sdk_reads(model, request.json)
    return request, driven.value


def test_a_payment_is_one_keyed_put_against_the_invoice_into_the_bank_account():
    request, output = sent(PAYMENT, PAYMENT_SAMPLE, PAYMENT_RESPONSE, model="Payments")
    assert request.params == {"summarizeErrors": "false"}
    assert request.json == {"Payments": [{"Invoice": {"InvoiceID": PAYMENT_SAMPLE["InvoiceID"]},
                                          "Account": {"Code": "090"}, "Date": "2026-11-30",
                                          "Amount": Decimal("49.00"), "Reference": PAYMENT_SAMPLE["Reference"]}]}
    assert output == {"id": PAYMENT_ID, "amount": "49.00", "status": "AUTHORISED"}


def test_a_foreign_payment_carries_xeros_rate_and_its_amount_is_exact_in_its_currency():
    data = {**PAYMENT_SAMPLE, "CurrencyCode": "JPY", "Amount": "5000", "exchange_rate": "0.0064"}
    request, _ = sent(PAYMENT, data, PAYMENT_RESPONSE, model="Payments")
    assert request.json["Payments"][0]["CurrencyRate"] == Decimal("156.250000")  # JPY per USD
    with pytest.raises(InputError, match="has more decimals than JPY"):
        drive(PAYMENT.perform({**data, "Amount": "5000.5"}, CTX), Script())


def test_a_payment_is_found_again_by_reference_and_undone_by_deleting_it():
    stored = {"PaymentID": PAYMENT_ID, "Invoice": {"InvoiceID": PAYMENT_SAMPLE["InvoiceID"]}, "Amount": 49.0,
              "Date": "/Date(1795996800000+0000)/", "Status": "AUTHORISED"}
    driven = drive(PAYMENT.find_existing(PAYMENT_SAMPLE, CTX), Script({"Payments": [stored]}))
    assert problems(driven.requests[0]) == [] and driven.value["id"] == PAYMENT_ID
    assert driven.requests[0].params["where"] == f'Reference=="{PAYMENT_SAMPLE["Reference"]}"'
    for other in ({"Status": "DELETED"}, {"Amount": 48.0}, {"Invoice": {"InvoiceID": "x"}}):
        assert drive(PAYMENT.find_existing(PAYMENT_SAMPLE, CTX), Script({"Payments": [{**stored, **other}]})).value \
            is None
    undone = drive(PAYMENT.undo(PAYMENT_ID, CTX), Script({"Payments": [stored]},
                                                         {"Payments": [{**stored, "Status": "DELETED"}]}))
    write = undone.requests[1]
    assert (write.method, write.json, undone.value["status"]) == ("POST", {"Status": "DELETED"}, "deleted")
    assert problems(write) == []


def test_a_journal_sends_debits_positive_and_credits_negative():
    request, output = sent(JOURNAL, JOURNAL_SAMPLE, JOURNAL_RESPONSE, model="ManualJournals")
    journal = request.json["ManualJournals"][0]
    assert [line["LineAmount"] for line in journal["JournalLines"]] == \
        [Decimal("96.80"), Decimal("3.20"), Decimal("-100.00")]
    assert sum(line["LineAmount"] for line in journal["JournalLines"]) == 0
    assert (journal["Status"], journal["LineAmountTypes"], output["total"]) == ("POSTED", "NoTax", "100.00")


@pytest.mark.parametrize("lines, message", [
    ([{"AccountCode": "090", "Debit": "100.00"}, {"AccountCode": "610", "Credit": "10.00"}],
     "the total debits (100.00) must equal the total credits (10.00)"),
    ([{"AccountCode": "090", "Debit": "1.00"}], "at least two lines"),
    ([{"AccountCode": "090", "Debit": "1.00", "Credit": "1.00"}, {"AccountCode": "610", "Credit": "1.00"}],
     "exactly one of Debit and Credit"),
    ([{"AccountCode": "090", "Debit": "1.005"}, {"AccountCode": "610", "Credit": "1.005"}],
     "has more decimals than USD"),
    ([{"AccountCode": "090", "Debit": "1.00", "Tracking": [{"Name": "a", "Option": "1"}] * 3},
      {"AccountCode": "610", "Credit": "1.00"}], "at most 2"),
    ([{"AccountCode": "090", "Debit": "-1.00"}, {"AccountCode": "610", "Credit": "-1.00"}], "greater than 0"),
])
def test_a_journal_xero_would_refuse_is_refused_before_a_request(lines, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        drive(JOURNAL.perform({**JOURNAL_SAMPLE, "JournalLines": lines}, CTX), Script())


def test_a_kwd_journal_is_exact_in_xeros_two_places_with_tracking():
    lines = [{"AccountCode": "090", "Debit": "1.120", "Tracking": [{"Name": "Region", "Option": "Kuwait"}]},
             {"AccountCode": "610", "Credit": "1.120"}]
    request, _ = sent(JOURNAL, {**JOURNAL_SAMPLE, "JournalLines": lines}, JOURNAL_RESPONSE, ctx=KWD_CTX,
                      model="ManualJournals")
    assert request.json["ManualJournals"][0]["JournalLines"][1]["LineAmount"] == Decimal("-1.12")
    three = [{"AccountCode": "090", "Debit": "1.125"}, {"AccountCode": "610", "Credit": "1.125"}]
    with pytest.raises(InputError, match="2 decimal places Xero keeps"):
        drive(JOURNAL.perform({**JOURNAL_SAMPLE, "JournalLines": three}, KWD_CTX), Script())


def test_a_journal_is_found_again_by_narration_and_lines_and_undone_by_voiding():
    stored = {"ManualJournalID": JOURNAL_ID, "Status": "POSTED", "Narration": JOURNAL_SAMPLE["Narration"], "Date": "/Date(1795996800000+0000)/",
              "JournalLines": [{"AccountCode": "610", "LineAmount": 96.8}, {"AccountCode": "404", "LineAmount": 3.2},
                               {"AccountCode": "200", "LineAmount": -100.0}]}
    driven = drive(JOURNAL.find_existing(JOURNAL_SAMPLE, CTX), Script({"ManualJournals": [stored]}))
    assert problems(driven.requests[0]) == [] and driven.value["id"] == JOURNAL_ID
    changed = {**stored, "JournalLines": stored["JournalLines"][:2] + [{"AccountCode": "404", "LineAmount": 3.3}]}
    assert drive(JOURNAL.find_existing(JOURNAL_SAMPLE, CTX), Script({"ManualJournals": [changed]})).value is None
    undone = drive(JOURNAL.undo(JOURNAL_ID, CTX), Script({"ManualJournals": [stored]},
                                                         {"ManualJournals": [{**stored, "Status": "VOIDED"}]}))
    assert undone.requests[1].json == {"ManualJournals": [{"ManualJournalID": JOURNAL_ID, "Status": "VOIDED",
                                                           "Narration": JOURNAL_SAMPLE["Narration"]}]}
    assert undone.value["status"] == "voided" and problems(undone.requests[1]) == []
