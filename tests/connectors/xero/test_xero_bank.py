"""xero.create_bank_transaction (Stripe's fees as spend money) and xero.create_bank_transfer
(a payout: clearing → bank): bodies Xero's spec and SDK accept, found again, undone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.contract import Response
from ledgerlink.errors import InputError
from ledgerlink.testing import Script, context, drive
from ledgerlink_xero.bank import (CREATE_BANK_TRANSACTION, CREATE_BANK_TRANSFER, TRANSACTION_SAMPLE,
                                  TRANSFER_SAMPLE)
from xero_openapi_requests import problems
from xero_sdk import sdk_reads

CTX = context("xero", {"api_base": "http://127.0.0.1:9/api.xro/2.0", "base_currency": "USD"}, key="run-5-step-1")
TRANSACTION_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
TRANSFER_ID = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
NOV_30 = "/Date(1795996800000+0000)/"


def test_fees_are_one_keyed_spend_money_from_the_clearing_account():
    answer = {"BankTransactions": [{"BankTransactionID": TRANSACTION_ID, "Total": 3.2, "Status": "AUTHORISED"}]}
    driven = drive(CREATE_BANK_TRANSACTION.perform(TRANSACTION_SAMPLE, CTX), Script(answer))
    (request,) = driven.requests
    assert problems(request) == [] and request.params == {"summarizeErrors": "false", "unitdp": "4"}
    sdk_reads("BankTransactions", request.json)
    sent = request.json["BankTransactions"][0]
    assert (sent["Type"], sent["BankAccount"], sent["LineAmountTypes"], sent["Status"]) == \
        ("SPEND", {"Code": "610"}, "NoTax", "AUTHORISED")
    assert sent["LineItems"] == [{"Description": "Stripe processing fees", "Quantity": Decimal("1"),
                                  "UnitAmount": Decimal("3.20"), "AccountCode": "404"}]
    assert driven.value == {"id": TRANSACTION_ID, "total": "3.2", "status": "AUTHORISED"}


def test_a_bank_transaction_in_a_foreign_account_carries_xeros_rate():
    data = {**TRANSACTION_SAMPLE, "CurrencyCode": "EUR", "exchange_rate": "1.08"}
    driven = drive(CREATE_BANK_TRANSACTION.perform(data, CTX), Script({"BankTransactions": [
        {"BankTransactionID": TRANSACTION_ID}]}))
    assert driven.requests[0].json["BankTransactions"][0]["CurrencyRate"] == Decimal("0.925926")
    assert problems(driven.requests[0]) == []


def test_a_bank_transaction_is_found_by_type_and_reference_and_undone_by_deleting_it():
    stored = {"BankTransactionID": TRANSACTION_ID, "Type": "SPEND", "Status": "AUTHORISED", "Date": NOV_30,
              "BankAccount": {"Code": "610"}, "LineItems": [{"LineAmount": 3.2}]}
    driven = drive(CREATE_BANK_TRANSACTION.find_existing(TRANSACTION_SAMPLE, CTX), Script({"BankTransactions": [stored]}))
    assert problems(driven.requests[0]) == [] and driven.value["id"] == TRANSACTION_ID
    other = {**stored, "BankAccount": {"Code": "090"}}
    assert drive(CREATE_BANK_TRANSACTION.find_existing(TRANSACTION_SAMPLE, CTX),
                 Script({"BankTransactions": [other]})).value is None
    undone = drive(CREATE_BANK_TRANSACTION.undo(TRANSACTION_ID, CTX),
                   Script({"BankTransactions": [stored]}, {"BankTransactions": [{**stored, "Status": "DELETED"}]}))
    assert undone.requests[1].json == {"BankTransactions": [{
        "BankTransactionID": TRANSACTION_ID, "Type": "SPEND", "BankAccount": {"Code": "610"},
        "LineItems": [{"LineAmount": 3.2}], "Status": "DELETED"}]}
    assert problems(undone.requests[1]) == [] and undone.value["status"] == "deleted"


def test_a_payout_is_one_keyed_transfer_from_clearing_to_bank():
    answer = {"BankTransfers": [{"BankTransferID": TRANSFER_ID, "Amount": 96.8}]}
    driven = drive(CREATE_BANK_TRANSFER.perform(TRANSFER_SAMPLE, CTX), Script(answer))
    (request,) = driven.requests
    assert problems(request) == [] and request.params == {}  # PUT /BankTransfers takes neither parameter
    sdk_reads("BankTransfers", request.json)
    assert request.json == {"BankTransfers": [{"FromBankAccount": {"Code": "610"}, "ToBankAccount": {"Code": "090"},
                                               "Amount": Decimal("96.80"), "Date": "2026-11-30",
                                               "Reference": "po_1QFzvY2eZvKYlo2C"}]}
    assert driven.value == {"id": TRANSFER_ID, "amount": "96.8"}


def test_a_transfer_xero_would_refuse_is_refused_before_a_request():
    with pytest.raises(InputError) as error:
        drive(CREATE_BANK_TRANSFER.perform({**TRANSFER_SAMPLE, "ToBankAccountCode": "610", "Amount": "1.001"}, CTX),
              Script())
    assert "two different accounts" in str(error.value) and "more decimals than USD" in str(error.value)


def test_a_transfer_is_found_by_reference_and_undone_by_deleting_it():
    stored = {"BankTransferID": TRANSFER_ID, "FromBankAccount": {"Code": "610"}, "ToBankAccount": {"Code": "090"},
              "Amount": 96.8, "Date": NOV_30}
    driven = drive(CREATE_BANK_TRANSFER.find_existing(TRANSFER_SAMPLE, CTX), Script({"BankTransfers": [stored]}))
    assert problems(driven.requests[0]) == [] and driven.value["id"] == TRANSFER_ID
    assert drive(CREATE_BANK_TRANSFER.find_existing(TRANSFER_SAMPLE, CTX),
                 Script({"BankTransfers": [{**stored, "Amount": 96.81}]})).value is None
    # not a bank transaction (a transfer between currencies is its SPEND leg): the transfer itself
    undone = drive(CREATE_BANK_TRANSFER.undo(TRANSFER_ID, CTX),
                   Script(Response(404), {"BankTransfers": [stored]},
                          {"BankTransfers": [{**stored, "Status": "DELETED"}]}))
    write = undone.requests[2]
    assert (write.method, write.json, undone.value["status"]) == ("POST", {"Status": "DELETED"}, "deleted")
    assert problems(write) == []
