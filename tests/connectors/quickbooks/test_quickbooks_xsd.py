"""The XSD checker of QuickBooks JSON bodies, against Intuit's XSDs and real QBO JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink import jsonio
from ledgerlink_sandboxes.quickbooks import xsd
from vendor_files import QUICKBOOKS, REPO, pinned_files

GOOD_ENTRY = {
    "TxnDate": "2024-03-15",
    "DocNumber": "INV-0042",
    "PrivateNote": "note",
    "CurrencyRef": {"value": "USD"},
    "ExchangeRate": Decimal("1"),
    "Line": [
        {"Description": "d", "Amount": Decimal("25.54"), "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": "65"},
                                    "Entity": {"Type": "Customer", "EntityRef": {"value": "1"}},
                                    "ClassRef": {"value": "5"}, "DepartmentRef": {"value": "2"}}},
        {"Amount": 25, "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": "44", "name": "Notes"}}},
    ],
}


def test_shipped_xsds_are_byte_for_byte_the_vendor_files():
    shipped = Path(xsd.XSD_DIR)
    # the Intuit files pinned in tests/vendor/SHA256SUMS (tests/host/test_vendor_files.py checks the
    # bytes); EntitlementsResponse.xsd is left out: unused, and its header claims confidentiality
    folder = shipped.relative_to(REPO).as_posix() + "/"
    pinned = sorted(path[len(folder):] for path in pinned_files() if path.startswith(folder))
    shipped_names = sorted(p.name for p in shipped.iterdir() if p.suffix in (".xsd", ".txt"))
    assert shipped_names == pinned
    assert "LICENSE.QuickBooks-V3-Java-SDK.Apache-2.0.txt" in shipped_names
    assert "Finance.xsd" in shipped_names


def test_good_entry_passes():
    assert xsd.check("JournalEntry", GOOD_ENTRY) == []
    assert xsd.check("JournalEntry", GOOD_ENTRY, xsd_dir=xsd.XSD_DIR) == []


def test_loaded_schema_is_cached():
    assert xsd.load() is xsd.load()
    assert xsd.load(Path(xsd.XSD_DIR)) is xsd.load(str(xsd.XSD_DIR))


def test_real_journal_entry_fixture_passes():
    body = jsonio.loads((QUICKBOOKS / "quickbooks-go-fixtures" / "journal-entry.json").read_bytes())
    assert xsd.check("JournalEntry", body["JournalEntry"]) == []
    # the whole response, "time" attribute included
    assert xsd.check("IntuitResponse", body) == []


def test_real_fixture_parsed_with_floats_is_refused():
    body = json.loads((QUICKBOOKS / "quickbooks-go-fixtures" / "journal-entry.json").read_text("utf-8"))
    problems = xsd.check("JournalEntry", body["JournalEntry"])
    assert problems == [
        "/Line/0/Amount: the float 25.54 is not allowed for xs:decimal; send a Decimal or an int so no digit is lost",
        "/Line/1/Amount: the float 25.54 is not allowed for xs:decimal; send a Decimal or an int so no digit is lost",
    ]


@pytest.mark.parametrize("path", sorted((QUICKBOOKS / "exquickbooks-fixtures").rglob("*.json"))
                         + [QUICKBOOKS / "quickbooks-go-fixtures" / "account.json",
                            QUICKBOOKS / "quickbooks-ruby-fixtures" / "json" / "tax_service_error_dup.json"],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_qbo_json_response_passes_as_intuit_response(path):
    # Item, SalesReceipt, Preferences, QueryResponse, Account and Fault bodies: the checker is general
    assert xsd.check("IntuitResponse", jsonio.loads(path.read_bytes())) == []


def test_deliberately_wrong_body_gives_every_problem():
    body = {
        "TxnDate": "2024-02-30",
        "Line": {"Amount": Decimal("1.00"), "DetailType": "JournalEntryLineDetail",
                 "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": "1"}}},
    }
    assert xsd.check("JournalEntry", body) == [
        "/TxnDate: '2024-02-30' is not a calendar date",
        "/Line: Line repeats in the XSD (maxOccurs > 1) and must be a JSON array, got an object",
    ]
    body = {"Line": [
        {"Amount": 12.5, "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetial": {"PostingType": "Debit"}},
        {"Amount": Decimal("12.5"), "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debet", "AccountRef": "84"}},
    ]}
    assert xsd.check("JournalEntry", body) == [
        "/Line/0/Amount: the float 12.5 is not allowed for xs:decimal; send a Decimal or an int so no digit is lost",
        "/Line/0/JournalEntryLineDetial: Line has no element or attribute 'JournalEntryLineDetial'; "
        "did you mean 'JournalEntryLineDetail'?",
        "/Line/1/JournalEntryLineDetail/PostingType: 'Debet' is not one of Credit, Debit",
        "/Line/1/JournalEntryLineDetail/AccountRef: AccountRef must be a JSON object (ReferenceType), "
        "got the string '84'",
    ]


@pytest.mark.parametrize("body, problem", [
    ({"Adjustment": "false"}, "/Adjustment: expected true or false (xs:boolean), got the string 'false'"),
    ({"TotalAmt": True}, "/TotalAmt: expected a number (xs:decimal), got the boolean true"),
    ({"TotalAmt": "12.00"}, "/TotalAmt: expected a number (xs:decimal), got the string '12.00'"),
    ({"TotalAmt": Decimal("NaN")}, "/TotalAmt: NaN is not a finite number (xs:decimal)"),
    ({"TxnDate": "15/03/2024"}, "/TxnDate: '15/03/2024' is not a date; write YYYY-MM-DD"),
    ({"TxnDate": "2024-03-15T10:00:00"}, "/TxnDate: '2024-03-15T10:00:00' is not a date; write YYYY-MM-DD"),
    ({"MetaData": {"CreateTime": "yesterday"}},
     "/MetaData/CreateTime: 'yesterday' is not a valid xs:dateTime: not an ISO 8601 date-time such as "
     "2024-03-15T10:30:00-07:00"),
    ({"CurrencyRef": {"value": "USD", "nam": "US Dollar"}},
     "/CurrencyRef/nam: ReferenceType has no element or attribute 'nam'; did you mean 'name'?"),
    ({"CurrencyRef": {"value": 840}}, "/CurrencyRef/value: expected a string (id), got int 840"),
    ({"DocNumber": ["1", "2"]},
     "/DocNumber: DocNumber occurs at most once in the XSD and must not be a JSON array; send the single value"),
    ({"DocNumber": None}, "/DocNumber: DocNumber may not be null; leave it out instead"),
    ({"sparse": "yes"}, "/sparse: expected true or false (xs:boolean), got the string 'yes'"),
    ({"status": "Gone"}, "/status: 'Gone' is not one of Deleted, Voided, Draft, Pending, InTransit, Synchronized, SyncError"),
    ({"Line": [{"LineNum": 0}]}, "/Line/0/LineNum: '0' is not a valid xs:positiveInteger: value must be positive"),
    ({"Line": [{"LineNum": Decimal("1.5")}]}, "/Line/0/LineNum: expected an integer (xs:positiveInteger), got Decimal Decimal('1.5')"),
    ({"Line": [{"JournalEntryLineDetail": {}, "SalesItemLineDetail": {}}]},
     "/Line/0: SalesItemLineDetail, JournalEntryLineDetail are alternatives in Line; keep only one of them"),
    ({"a/b~c": 1}, "/a~1b~0c: JournalEntry has no element or attribute 'a/b~c'; allowed: Adjustment, "
                   "AttachableRef, CurrencyRef, CustomField, DepartmentRef, DocNumber, EnteredInHomeCurrency, "
                   "ExchangeRate, GlobalTaxCalculation, HomeCurrencyAdjustment, HomeTotalAmt, HomeTotalCostAmount, "
                   "… (36 in all)"),
])
def test_single_problems(body, problem):
    assert xsd.check("JournalEntry", body) == [problem]


def test_body_must_be_an_object():
    assert xsd.check("JournalEntry", [1]) == ["/: JournalEntry must be a JSON object (JournalEntry), got an array"]


def test_extension_slots_accept_anything():
    assert xsd.check("JournalEntry", {"JournalEntryEx": {"Any": [{"Name": "x", "Value": "y"}]}}) == []


def test_unknown_entity_is_a_lookup_error():
    with pytest.raises(LookupError) as info:
        xsd.check("JournalEntri", {})
    assert "JournalEntry" in str(info.value)


@pytest.mark.parametrize("entity, body", [
    ("Invoice", {"CustomerRef": {"value": "1"}, "TxnDate": "2024-03-15", "Line": [
        {"Amount": Decimal("100.00"), "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"}, "Qty": 2,
                                 "UnitPrice": Decimal("50.00")}}]}),
    ("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": Decimal("100.00"), "Line": [
        {"Amount": Decimal("100.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]}),
    ("Customer", {"DisplayName": "Amy's Bird Sanctuary", "PrimaryEmailAddr": {"Address": "amy@example.com"},
                  "BillAddr": {"Line1": "4581 Finch St.", "City": "Bayshore", "PostalCode": "94326"},
                  "Active": True}),
    ("Deposit", {"DepositToAccountRef": {"value": "35"}, "Line": [
        {"Amount": Decimal("20.00"), "DetailType": "DepositLineDetail",
         "DepositLineDetail": {"AccountRef": {"value": "87"}}}]}),
    ("CreditMemo", {"CustomerRef": {"value": "1"}, "Line": [
        {"Amount": Decimal("5.00"), "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}),
])
def test_other_entities(entity, body):
    assert xsd.check(entity, body) == []


def test_other_entities_catch_mistakes():
    assert xsd.check("Invoice", {"CustomerRef": "1", "Line": [{"DetailType": "SalesLine"}]}) == [
        "/CustomerRef: CustomerRef must be a JSON object (ReferenceType), got the string '1'",
        "/Line/0/DetailType: 'SalesLine' is not one of PaymentLineDetail, DiscountLineDetail, TaxLineDetail, "
        "SalesItemLineDetail, ItemBasedExpenseLineDetail, AccountBasedExpenseLineDetail, DepositLineDetail, "
        "PurchaseOrderItemLineDetail, ItemReceiptLineDetail, JournalEntryLineDetail, GroupLineDetail, "
        "DescriptionOnly, SubTotalLineDetail, SalesOrderItemLineDetail, TDSLineDetail, ReimburseLineDetail, "
        "ItemAdjustmentLineDetail",
    ]


def test_fault_response_shape_is_checked_too():
    fault = {"Fault": {"Error": [{"Message": "m", "Detail": "d", "code": "6000", "element": ""}],
                       "type": "ValidationFault"}, "time": "2024-03-15T09:12:44.512-07:00"}
    assert xsd.check("IntuitResponse", fault) == []
    fault["Fault"]["Error"] = fault["Fault"]["Error"][0]
    assert xsd.check("IntuitResponse", fault) == [
        "/Fault/Error: Error repeats in the XSD (maxOccurs > 1) and must be a JSON array, got an object"]


def test_coerce_reads_a_body_as_leniently_as_qbo_does():
    sent = {"SyncToken": 0, "TxnDate": "", "DueDate": "", "TotalAmt": "", "PrivateNote": "",
            "ApplyTaxAfterDiscount": "true", "CustomerRef": {"value": 1, "name": ""},
            "Line": [{"Amount": "25.50", "LineNum": "2", "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": "1E+1",
                                              "ServiceDate": ""}},
                     {"Amount": "ten", "DetailType": "DescriptionOnly"}]}
    before = jsonio.dumps(sent)
    read = xsd.coerce("Invoice", sent)
    assert jsonio.dumps(sent) == before  # a copy: the body given is kept
    assert read == {
        "SyncToken": "0", "PrivateNote": "", "ApplyTaxAfterDiscount": True,
        "CustomerRef": {"value": "1", "name": ""},
        "Line": [{"Amount": Decimal("25.50"), "LineNum": 2, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": Decimal("1E+1")}},
                 {"Amount": "ten", "DetailType": "DescriptionOnly"}]}
    assert str(read["Line"][0]["Amount"]) == "25.50"  # digit for digit
    # what no reading makes right is still left for check() to name
    assert xsd.check("Invoice", read) == [
        "/Line/1/Amount: expected a number (xs:decimal), got the string 'ten'"]
    assert xsd.check("Invoice", xsd.coerce("Invoice", {"TxnDate": 20240315})) == [
        "/TxnDate: expected a string (xs:date), got int 20240315"]
    unknown, single = xsd.check("Invoice", xsd.coerce("Invoice", {"Foo": "1", "Line": {"Amount": "1"}}))
    assert unknown.startswith("/Foo: Invoice has no element or attribute 'Foo'")
    assert single == "/Line: Line repeats in the XSD (maxOccurs > 1) and must be a JSON array, got an object"
