"""One sandbox company (realm): its seeded lists, its entities, and QBO's write rules.

Nothing here locks or does I/O; :class:`~.state.Sandbox` holds the lock around every call.
A write is checked in QBO's order and stops at the first failing stage, answering with
that stage's :class:`~.faults.QboFault`:

0. the body is first read the lenient way QBO reads JSON (:func:`_as_qbo_reads`): amounts
   as strings (``"25.50"``), ``SyncToken`` as a number, ``""`` for an optional date or
   number, ``LineNum`` 0 — what real clients such as python-quickbooks send;
1. the body against Intuit's XSD (:func:`ledgerlink_sandboxes.quickbooks.xsd.check`) → 2010,
   one ``Error`` per problem;
2. required elements (``Line``, ``Line.DetailType``, ``CustomerRef``, …) → 2020;
3. references (``…AccountRef``, ``CustomerRef``, ``ItemRef``, ``VendorRef``,
   ``TaxCodeRef``, a line's ``Entity``) to ids the company lacks → 2500, or to a list
   entity made inactive → 2500 "Something you're trying to use has been made inactive";
4. business rules → 6000: a JournalEntry's debits must equal its credits (Decimal), a
   line on Accounts Receivable needs a Customer ``Entity``, one on Accounts Payable a
   Vendor; a transaction's amounts have at most its currency's decimals (10.001 USD is
   refused); a Payment applies to an invoice at most the invoice's open balance;
5. a ``DocNumber`` already used by the same entity type → 6140; a name already used
   (customer ``DisplayName``, item or account ``Name``, any case, inactive ones included)
   → 6240.

An Item of ``Type`` Service or NonInventory (Service when no Type is given) needs an
``IncomeAccountRef``, an Inventory item its income, expense and asset accounts (2020).

A body with an ``Id`` is an update: the entity must exist (610) and the ``SyncToken``
must be the current one (5010); ``"sparse": true`` keeps the fields not sent, otherwise
the body replaces the entity (``Line`` is always replaced whole).

``POST …/invoice?operation=void`` with ``{Id, SyncToken}`` voids an invoice as QBO does:
it stays, with every amount and quantity zeroed (``TotalAmt`` and ``Balance`` 0), its
lines' descriptions and items kept, and ``"Voided"`` put before its ``PrivateNote``. A
second void (with the current SyncToken) is accepted and changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

import babel.numbers

from . import xsd
from . import faults
from .notify import Change

# --- what the sandbox serves ------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """An entity type: its XSD name, whether it is a transaction, and whether it is writable."""

    name: str
    transaction: bool = False
    writable: bool = True
    #: how a duplicate-number fault names the type (``TxnType=Journal Entry``)
    label: str = ""


KINDS: dict[str, Kind] = {k.name.lower(): k for k in (
    Kind("JournalEntry", transaction=True, label="Journal Entry"),
    Kind("Invoice", transaction=True, label="Invoice"),
    Kind("Payment", transaction=True, label="Payment"),
    Kind("CreditMemo", transaction=True, label="Credit Memo"),
    Kind("RefundReceipt", transaction=True, label="Refund Receipt"),
    Kind("Deposit", transaction=True, label="Deposit"),
    Kind("Customer"),
    Kind("Item"),
    Kind("Account"),
    Kind("Vendor", writable=False),
    Kind("TaxCode", writable=False),
)}

#: entities the sandbox creates (the lower-case endpoint names)
WRITABLE = tuple(name for name, kind in KINDS.items() if kind.writable)

USD = {"value": "USD", "name": "United States Dollar"}

_REQUIRED: dict[str, tuple[str, ...]] = {
    "JournalEntry": ("Line",),
    "Invoice": ("CustomerRef", "Line"),
    "CreditMemo": ("CustomerRef", "Line"),
    "RefundReceipt": ("DepositToAccountRef", "Line"),
    "Payment": ("CustomerRef", "TotalAmt"),
    "Deposit": ("DepositToAccountRef", "Line"),
    "Item": ("Name",),
    "Account": ("Name",),
}

_CLASSIFICATION = {
    "Bank": "Asset", "Accounts Receivable": "Asset", "Other Current Asset": "Asset",
    "Fixed Asset": "Asset", "Other Asset": "Asset", "Accounts Payable": "Liability",
    "Credit Card": "Liability", "Other Current Liability": "Liability",
    "Long Term Liability": "Liability", "Equity": "Equity", "Income": "Revenue",
    "Other Income": "Revenue", "Cost of Goods Sold": "Expense", "Expense": "Expense",
    "Other Expense": "Expense",
}

#: sales-form line types that add to the total, and the one that subtracts
_ADDING_LINES = ("SalesItemLineDetail", "GroupLineDetail")
_DISCOUNT_LINE = "DiscountLineDetail"
_ITEM_LINES = ("SalesItemLineDetail", "GroupLineDetail", "ItemBasedExpenseLineDetail")

#: the accounts an item of each Type needs (QBO: an income account for what it sells)
_ITEM_ACCOUNTS = {
    "Service": ("IncomeAccountRef",),
    "NonInventory": ("IncomeAccountRef",),
    "Inventory": ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"),
}

#: entities QBO can void (the sandbox voids invoices; QBO also voids payments and receipts)
VOIDABLE = ("invoice",)


def _account(id_: str, name: str, account_type: str, sub_type: str, number: str,
             active: bool = True) -> dict[str, Any]:
    return {"Name": name, "SubAccount": False, "FullyQualifiedName": name, "Active": active,
            "Classification": _CLASSIFICATION[account_type], "AccountType": account_type,
            "AccountSubType": sub_type, "AcctNum": number, "CurrentBalance": 0,
            "CurrentBalanceWithSubAccounts": 0, "CurrencyRef": dict(USD), "Id": id_}


def _item(id_: str, name: str, item_type: str, income_account: str, price: str = "0",
          active: bool = True) -> dict[str, Any]:
    return {"Name": name, "Active": active, "FullyQualifiedName": name, "Taxable": False,
            "UnitPrice": Decimal(price), "Type": item_type,
            "IncomeAccountRef": {"value": income_account, "name": "Services"}, "PurchaseCost": 0,
            "TrackQtyOnHand": False, "Id": id_}


def _customer(id_: str, name: str) -> dict[str, Any]:
    return {"Taxable": False, "Job": False, "BillWithParent": False, "Balance": 0,
            "BalanceWithJobs": 0, "CurrencyRef": dict(USD), "PreferredDeliveryMethod": "Print",
            "FullyQualifiedName": name, "CompanyName": name, "DisplayName": name,
            "PrintOnCheckName": name, "Active": True, "Id": id_}


def seed() -> dict[str, list[dict[str, Any]]]:
    """The lists every sandbox company starts with (ids are strings, as in QBO)."""
    return {
        "account": [
            _account("1", "Services", "Income", "ServiceFeeIncome", "4000"),
            _account("4", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "1200"),
            _account("33", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable",
                     "2000"),
            _account("35", "Checking", "Bank", "Checking", "1000"),
            _account("62", "Bank Charges", "Expense", "BankCharges", "6100"),
            _account("84", "Accounts Receivable (A/R)", "Accounts Receivable",
                     "AccountsReceivable", "1100"),
            _account("90", "Sales Returns", "Income", "DiscountsRefundsGiven", "4900"),
            # inactive: a query names Active to see it (QBO answers active list entities only)
            _account("91", "Old Merchant Clearing", "Other Current Asset", "OtherCurrentAssets",
                     "1290", active=False),
        ],
        "customer": [
            _customer("1", "Amy's Bird Sanctuary"),
            _customer("2", "Bill's Windsurf Shop"),
            _customer("3", "Cool Cars"),
        ],
        "item": [
            _item("1", "Services", "Service", "1"),
            _item("2", "Hours", "Service", "1"),
            _item("3", "Design", "Service", "1", "75.00"),
            _item("4", "Gadget", "NonInventory", "1", "12.50"),
            _item("5", "Retired Plan", "Service", "1", active=False),
        ],
        "vendor": [
            {"Balance": 0, "Vendor1099": False, "CurrencyRef": dict(USD),
             "CompanyName": "Bob's Burger Joint", "DisplayName": "Bob's Burger Joint",
             "PrintOnCheckName": "Bob's Burger Joint", "Active": True, "Id": "56"},
        ],
        "taxcode": [
            {"Name": "TAX", "Description": "TAX", "Active": True, "Taxable": True,
             "TaxGroup": False, "Id": "TAX"},
            {"Name": "NON", "Description": "NON", "Active": True, "Taxable": False,
             "TaxGroup": False, "Id": "NON"},
        ],
    }


# --- the company ----------------------------------------------------------------------

class Company:
    """One realm's entities and id counters."""

    def __init__(self, realm: str, now: str) -> None:
        self.realm = realm
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in KINDS}
        self.next_id: dict[str, int] = {name: 1 for name in KINDS}
        self.next_doc_number = 1001
        #: per entity: DocNumber → Id (transactions), lower-cased name → Id (lists)
        self.doc_numbers: dict[str, dict[str, str]] = {name: {} for name in KINDS}
        self.names: dict[str, dict[str, str]] = {name: {} for name in KINDS}
        #: per entity: the ids voided (``operation=void``)
        self.voided: dict[str, set[str]] = {name: set() for name in KINDS}
        #: every create, update, void and delete since the company was seeded (change data
        #: capture reads it; ``listener(change)`` is told of each, e.g. a webhook emitter)
        self.changes: list[Change] = []
        self.listener: Callable[[Change], None] | None = None
        for name, rows in seed().items():
            for row in rows:
                row.update({"domain": "QBO", "sparse": False, "SyncToken": "0",
                            "MetaData": {"CreateTime": now, "LastUpdatedTime": now}})
                self._store(name, row, None)
                if row["Id"].isdigit():
                    self.next_id[name] = max(self.next_id[name], int(row["Id"]) + 1)

    def _changed(self, entity: str, entity_id: str, operation: str, now: str) -> None:
        change = Change(self.realm, KINDS[entity].name, entity_id, operation, now)
        self.changes.append(change)
        if self.listener is not None:
            self.listener(change)

    def _store(self, entity: str, row: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Keep ``row`` and the DocNumber and name indexes."""
        for index, key in ((self.doc_numbers[entity], "DocNumber"), (self.names[entity], _NAME_KEY)):
            if old is not None and isinstance(old.get(_key(entity, key)), str):
                index.pop(_index_key(key, old[_key(entity, key)]), None)
            if isinstance(row.get(_key(entity, key)), str) and row[_key(entity, key)]:
                index[_index_key(key, row[_key(entity, key)])] = row["Id"]
        self.tables[entity][row["Id"]] = row

    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        return self.tables[entity].get(entity_id)

    def all(self, entity: str) -> list[dict[str, Any]]:
        return list(self.tables[entity].values())

    def _new_id(self, entity: str) -> str:
        table = self.tables[entity]
        while str(self.next_id[entity]) in table:
            self.next_id[entity] += 1
        new = str(self.next_id[entity])
        self.next_id[entity] += 1
        return new

    def _new_doc_number(self, name: str) -> str:
        used = self.doc_numbers[name.lower()]
        while str(self.next_doc_number) in used:
            self.next_doc_number += 1
        number = str(self.next_doc_number)
        self.next_doc_number += 1
        return number

    # --- writing --------------------------------------------------------------------
    def delete(self, entity: str, body: Any, now: str | None = None) -> dict[str, Any]:
        """``POST …/<entity>?operation=delete`` with ``{Id, SyncToken}``: QBO's delete of a
        transaction. Raises Object Not Found (610) when it is not there (any more) and Stale
        Object (5010) on an old SyncToken."""
        kind = KINDS[entity]
        if not isinstance(body, dict) or body.get("Id") is None:
            raise faults.required("Id")
        body = _as_qbo_reads(kind.name, body)
        _check_xsd(kind.name, body)
        existing = self.tables[entity].get(str(body["Id"]))
        if existing is None:
            raise faults.not_found(kind.name, str(body["Id"]))
        if body.get("SyncToken") is None:
            raise faults.required("SyncToken")
        if str(body["SyncToken"]) != existing["SyncToken"]:
            raise faults.validation("Stale Object Error", "5010",
                                    f"Stale Object Error : SyncToken {body['SyncToken']} sent, "
                                    f"{existing['SyncToken']} current", "")
        for index, key in ((self.doc_numbers[entity], "DocNumber"), (self.names[entity], _NAME_KEY)):
            if isinstance(existing.get(_key(entity, key)), str):
                index.pop(_index_key(key, existing[_key(entity, key)]), None)
        del self.tables[entity][existing["Id"]]
        self.voided[entity].discard(existing["Id"])
        self._changed(entity, existing["Id"], "Delete", now or existing["MetaData"]["LastUpdatedTime"])
        return {"Id": existing["Id"], "status": "Deleted", "domain": "QBO"}

    def void(self, entity: str, body: Any, now: str) -> dict[str, Any]:
        """``POST …/invoice?operation=void`` with ``{Id, SyncToken}``: QBO's void. The invoice
        stays, its amounts and quantities zeroed, ``"Voided"`` before its PrivateNote. A
        second void (current SyncToken) changes nothing. Raises 610 when it is not there,
        5010 on an old SyncToken, 2010 when the body does not fit the XSD."""
        kind = KINDS[entity]
        if not isinstance(body, dict):
            raise faults.validation("Request has invalid or unsupported property", "2010",
                                    f"Property Name:the request body must be a {kind.name} "
                                    f"JSON object specified is unsupported or invalid", "")
        body = _as_qbo_reads(kind.name, body)
        _check_xsd(kind.name, body)
        if body.get("Id") is None:
            raise faults.required("Id")
        existing = self.tables[entity].get(str(body["Id"]))
        if existing is None:
            raise faults.not_found(kind.name, str(body["Id"]))
        if body.get("SyncToken") is None:
            raise faults.required("SyncToken")
        _check_sync_token(body, existing)
        if existing["Id"] in self.voided[entity]:
            return existing  # voided already: accepted, nothing changes
        voided = copy.deepcopy(existing)
        for line in voided.get("Line") or []:
            line["Amount"] = Decimal(0)
            for detail in line.values():
                if isinstance(detail, dict):
                    # a zero amount keeps no quantity or rate (as QBO answers a void)
                    detail.pop("Qty", None)
                    detail.pop("UnitPrice", None)
        voided["TotalAmt"] = voided["Balance"] = Decimal(0)
        for key in ("HomeTotalAmt", "HomeBalance", "Deposit"):
            if key in voided:
                voided[key] = Decimal(0)
        if isinstance(voided.get("TxnTaxDetail"), dict):
            voided["TxnTaxDetail"]["TotalTax"] = Decimal(0)
        note = existing.get("PrivateNote")
        voided["PrivateNote"] = f"Voided - {note}" if isinstance(note, str) and note else "Voided"
        voided["SyncToken"] = str(int(existing["SyncToken"]) + 1)
        voided["MetaData"] = {"CreateTime": existing["MetaData"]["CreateTime"], "LastUpdatedTime": now}
        self._store(entity, voided, existing)
        self.voided[entity].add(voided["Id"])
        self._changed(entity, voided["Id"], "Void", now)
        return voided

    def write(self, entity: str, body: Any, now: str, today: str) -> tuple[dict[str, Any], bool]:
        """Create (no ``Id``) or update (``Id``) an ``entity``; returns (stored, created).

        Raises :class:`~.faults.QboFault` when QBO would refuse the body.
        """
        kind = KINDS[entity]
        if not isinstance(body, dict):
            raise faults.validation("Request has invalid or unsupported property", "2010",
                                    f"Property Name:the request body must be a {kind.name} "
                                    f"JSON object specified is unsupported or invalid", "")
        body = _as_qbo_reads(kind.name, body)
        _check_xsd(kind.name, body)
        existing = None
        if body.get("Id") is not None:
            existing = self.tables[entity].get(str(body["Id"]))
            if existing is None:
                raise faults.not_found(kind.name, str(body["Id"]))
            if body.get("SyncToken") is None:
                raise faults.required("SyncToken")
            _check_sync_token(body, existing)
            if body.get("sparse") is True:
                merged = {**copy.deepcopy(existing), **body}
            else:
                merged = body
        else:
            merged = body  # freshly parsed: the sandbox owns it
        self._check(kind, merged, existing)
        stored = self._complete(kind, merged, existing, now, today)
        self._store(entity, stored, existing)
        self._changed(entity, stored["Id"], "Create" if existing is None else "Update", now)
        if existing is not None and "Line" in body:
            self.voided[entity].discard(stored["Id"])  # new lines: not void any more
        return stored, existing is None

    def _check(self, kind: Kind, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
        _check_required(kind, body)
        self._check_references(body)
        if kind.name == "JournalEntry":
            self._check_journal_entry(body)
        if kind.transaction:
            _check_currency_places(kind, body)
        if kind.name == "Payment":
            self._check_payment_applied(body, existing)
        self._check_duplicates(kind, body, existing)

    def _check_references(self, body: Mapping[str, Any]) -> None:
        for path, key, ref in _references(body):
            element = ".".join(path + (key,))
            if key == "Entity" and ("Type" in ref or "EntityRef" in ref):
                # JournalEntryLineDetail.Entity: {"Type": "Customer", "EntityRef": {...}}
                entity_type = str(ref.get("Type") or "Customer")
                table = entity_type.lower()
                ref_value = ref.get("EntityRef")
                element += ".EntityRef"
            elif key == "Entity":  # DepositLineDetail.Entity: {"value", "type"}
                entity_type = str(ref.get("type") or "Customer")
                table = entity_type.lower()
                ref_value = ref
            else:
                table = _ref_table(key)
                entity_type = KINDS[table].name
                ref_value = ref
            ref_id = ref_value.get("value") if isinstance(ref_value, Mapping) else None
            if ref_id is None:
                raise faults.required(element + ".value")
            target = self.tables.get(table, {}).get(str(ref_id))
            if target is None:
                raise faults.invalid_reference(element, entity_type, ref_id)
            if target.get("Active") is False:
                raise _inactive_reference(element, entity_type, target)
            name = target.get("DisplayName") or target.get("Name")
            if isinstance(ref_value, dict) and name:
                ref_value["name"] = name

    def _check_journal_entry(self, body: Mapping[str, Any]) -> None:
        debits = credits = Decimal(0)
        with localcontext() as ctx:
            ctx.prec = 1000
            for line in body.get("Line") or []:
                detail = line.get("JournalEntryLineDetail") or {}
                amount = _amount(line.get("Amount"))
                if detail.get("PostingType") == "Debit":
                    debits += amount
                else:
                    credits += amount
                account = self.tables["account"].get(str((detail.get("AccountRef") or {}).get("value")))
                account_type = account.get("AccountType") if account else None
                entity = detail.get("Entity") or {}
                entity_type = entity.get("Type") if isinstance(entity, Mapping) else None
                # QBO's own words, as a recorded answer shows them (finoptimal/fo_qbo,
                # fo_qbo/errors.py: code 6000, Detail "Business Validation Error: When you use
                # Accounts Receivable, you must choose a customer in the Name field."); the
                # Accounts Payable twin is worded alike (not seen in a recorded answer)
                if account_type == "Accounts Receivable" and entity_type != "Customer":
                    raise faults.business("When you use Accounts Receivable, you must choose a "
                                          "customer in the Name field.",
                                          "Line.JournalEntryLineDetail.Entity")
                if account_type == "Accounts Payable" and entity_type != "Vendor":
                    raise faults.business("When you use Accounts Payable, you must choose a "
                                          "vendor in the Name field.",
                                          "Line.JournalEntryLineDetail.Entity")
            if debits != credits:
                raise faults.business(
                    f"Journal Entry must be balanced: debits total {debits}, credits total "
                    f"{credits}; the difference is {abs(debits - credits)}", "Line")

    def _check_payment_applied(self, body: Mapping[str, Any],
                               existing: Mapping[str, Any] | None) -> None:
        """A Payment may apply to an invoice at most the invoice's open balance: its Balance
        less what the company's other payments apply to it. QBO, like QuickBooks itself,
        never lets a payment take an invoice below zero; the surplus of a payment stays
        unapplied (``UnappliedAmt``) instead. The rule is the product's (QuickBooks "Receive
        payment" caps each invoice's payment at its open balance); the API's fault text is
        not published, so the 6000 business fault here is inferred. Invoices the company
        does not have are not checked here."""
        applied: dict[str, Decimal] = {}
        with localcontext() as ctx:
            ctx.prec = 1000
            for line in body.get("Line") or []:
                for txn_id in _linked_invoices(line):
                    applied[txn_id] = applied.get(txn_id, Decimal(0)) + _amount(line.get("Amount"))
        own_id = existing["Id"] if existing else None
        for txn_id, amount in applied.items():
            invoice = self.tables["invoice"].get(txn_id)
            if invoice is None:
                continue
            with localcontext() as ctx:
                ctx.prec = 1000
                taken = sum((_amount(line.get("Amount"))
                             for payment in self.tables["payment"].values()
                             if payment["Id"] != own_id
                             for line in payment.get("Line") or []
                             if txn_id in _linked_invoices(line)), Decimal(0))
                open_balance = _amount(invoice.get("Balance")) - taken
            if amount > open_balance:
                raise faults.business(
                    f"The payment applies {amount} to Invoice {txn_id} (DocNumber "
                    f"{invoice.get('DocNumber')}), more than its open balance of {open_balance}; "
                    f"apply at most the open balance and leave the rest unapplied", "Line.Amount")

    def _check_duplicates(self, kind: Kind, body: Mapping[str, Any],
                          existing: dict[str, Any] | None) -> None:
        own_id = existing["Id"] if existing else None
        entity = kind.name.lower()
        doc_number = body.get("DocNumber")
        if kind.transaction and isinstance(doc_number, str) and doc_number:
            other = self.doc_numbers[entity].get(doc_number)
            if other is not None and other != own_id:
                raise faults.validation(
                    "Duplicate Document Number Error", "6140",
                    f"Duplicate Document Number Error : You must specify a different number. "
                    f"This number has already been used. DocNumber={doc_number} is "
                    f"assigned to TxnType={kind.label} with TxnId={other}", "DocNumber")
        if not kind.transaction:
            name_key = _key(entity, _NAME_KEY)
            name = _display_name(body) if kind.name == "Customer" else body.get(name_key)
            # customers and vendors share one name space in QBO
            tables = ("customer", "vendor") if kind.name == "Customer" else (entity,)
            for table in tables:
                other = self.names[table].get(_index_key(_NAME_KEY, name)) if name else None
                if other is not None and not (table == entity and other == own_id):
                    raise faults.validation(
                        "Duplicate Name Exists Error", "6240",
                        f"Duplicate Name Exists Error : The name supplied already exists. : "
                        f"Id={other}", name_key)

    def _complete(self, kind: Kind, body: dict[str, Any], existing: dict[str, Any] | None,
                  now: str, today: str) -> dict[str, Any]:
        """The entity as stored: ids, sync token, metadata and the totals QBO computes."""
        entity = body
        if kind.name != "Payment":  # QBO computes the total; a Payment states it
            entity.pop("TotalAmt", None)
        if existing is None:
            entity["Id"] = self._new_id(kind.name.lower())
            entity["SyncToken"] = "0"
            entity["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
        else:
            entity["Id"] = existing["Id"]
            entity["SyncToken"] = str(int(existing["SyncToken"]) + 1)
            entity["MetaData"] = {"CreateTime": existing["MetaData"]["CreateTime"],
                                  "LastUpdatedTime": now}
        entity["domain"] = "QBO"
        entity["sparse"] = False
        if kind.transaction:
            entity.setdefault("TxnDate", today)
            entity.setdefault("CurrencyRef", dict(USD))
            if entity["CurrencyRef"].get("value") == "USD":
                entity["CurrencyRef"].setdefault("name", USD["name"])
            if kind.name in ("Invoice", "CreditMemo", "RefundReceipt") and not entity.get("DocNumber"):
                entity["DocNumber"] = self._new_doc_number(kind.name)
            lines = entity.get("Line") or []
            first = 0 if kind.name == "JournalEntry" else 1
            for index, line in enumerate(lines):
                if line.get("DetailType") != "SubTotalLineDetail":
                    line["Id"] = str(first + index)
            with localcontext() as ctx:
                ctx.prec = 1000
                total = _total(kind.name, entity)
            if kind.name == "JournalEntry":
                entity.setdefault("Adjustment", False)
                entity.setdefault("TxnTaxDetail", {})
            if kind.name == "Payment":
                applied = sum((_amount(line.get("Amount")) for line in lines), Decimal(0))
                entity["TotalAmt"] = total
                entity["UnappliedAmt"] = total - applied
            else:
                entity["TotalAmt"] = total
            if kind.name == "Invoice":
                entity["Balance"] = total
            elif kind.name == "CreditMemo":
                entity["Balance"] = total
                entity["RemainingCredit"] = total
            elif kind.name == "RefundReceipt":
                entity["Balance"] = Decimal(0)
        elif kind.name == "Customer":
            name = _display_name(entity)
            entity["DisplayName"] = name
            entity.setdefault("FullyQualifiedName", name)
            entity.setdefault("PrintOnCheckName", name)
            entity.setdefault("Active", True)
            entity.setdefault("Balance", 0)
            entity.setdefault("BalanceWithJobs", 0)
            entity.setdefault("CurrencyRef", dict(USD))
        elif kind.name == "Item":
            entity["FullyQualifiedName"] = self._qualified_name("item", entity, "SubItem")
            entity.setdefault("Active", True)
            entity.setdefault("Type", "Service")
        elif kind.name == "Account":
            entity["FullyQualifiedName"] = self._qualified_name("account", entity, "SubAccount")
            entity.setdefault("Active", True)
            entity.setdefault("SubAccount", False)
            account_type = entity.get("AccountType")
            if account_type in _CLASSIFICATION:
                entity.setdefault("Classification", _CLASSIFICATION[account_type])
            entity.setdefault("CurrentBalance", 0)
            entity.setdefault("CurrentBalanceWithSubAccounts", 0)
            entity.setdefault("CurrencyRef", dict(USD))
        return entity


    def _qualified_name(self, table: str, entity: Mapping[str, Any], flag: str) -> str:
        """``Parent:Child`` for a sub-account or sub-item (``ParentRef`` and ``SubAccount`` /
        ``SubItem`` true), else the Name; QBO computes it, whatever the body says."""
        parent_ref = entity.get("ParentRef")
        if entity.get(flag) is not True or not isinstance(parent_ref, Mapping):
            return entity["Name"]
        parent = self.tables[table].get(str(parent_ref.get("value")))
        if parent is None:
            raise faults.invalid_reference("ParentRef", KINDS[table].name, parent_ref.get("value"))
        return f"{parent.get('FullyQualifiedName') or parent['Name']}:{entity['Name']}"


# --- the checks -------------------------------------------------------------------------

def _check_sync_token(body: Mapping[str, Any], existing: Mapping[str, Any]) -> None:
    if str(body["SyncToken"]) != existing["SyncToken"]:
        raise faults.validation(
            "Stale Object Error", "5010",
            f"Stale Object Error : You and another user were working on this at the same "
            f"time. The other user finished before you did, so your work was not saved. "
            f"(SyncToken {body['SyncToken']} sent, {existing['SyncToken']} current)", "")


def _check_xsd(name: str, body: Mapping[str, Any]) -> None:
    problems = xsd.check(name, body)
    if not problems:
        return
    errors = []
    for problem in problems[:10]:
        pointer, _, _ = problem.partition(": ")
        element = ".".join(part for part in pointer.strip("/").split("/") if not part.isdigit())
        errors.append(faults.error("Request has invalid or unsupported property", "2010",
                                   f"Property Name:{problem} specified is unsupported or invalid",
                                   element))
    raise faults.QboFault(400, "ValidationFault", errors)


def _as_qbo_reads(name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as QBO reads a request before validating it (a copy).

    - Leaves are read leniently, as QBO's JSON reader does: numbers sent as strings, strings
      sent as numbers, empty strings for optional dates, numbers, booleans and enumerations
      (:func:`ledgerlink_sandboxes.quickbooks.xsd.coerce` gives each rule and its source).
    - A line's ``LineNum`` of 0 is no line number: QBO numbers the lines itself. Source:
      python-quickbooks' ``DetailLine`` defaults ``LineNum`` to 0 and its integration tests
      create deposits and refund receipts with it against an Intuit sandbox company; the
      XSD's ``positiveInteger`` still refuses a negative one.
    """
    read = xsd.coerce(name, body)
    lines = read.get("Line")
    for line in lines if isinstance(lines, list) else []:
        number = line.get("LineNum") if isinstance(line, dict) else None
        if number == 0 and not isinstance(number, bool):
            del line["LineNum"]
    return read


def _inactive_reference(element: str, kind: str, target: Mapping[str, Any]) -> faults.QboFault:
    """HTTP 400 code 2500: a reference to a list entity (account, customer, item …) made
    inactive. Code, Message and the Detail's words are QBO's own, from a real response quoted
    in intuit/QuickBooks-V3-PHP-SDK issue 110 and Intuit's "Handling common errors" page
    (developer.intuit.com …/troubleshooting/handling-common-errors: "usually caused by
    references to inactive name list objects … in transaction requests"); the entity named
    in parentheses is the sandbox's addition."""
    name = target.get("DisplayName") or target.get("Name")
    return faults.validation(
        "Invalid Reference Id", "2500",
        f"Invalid Reference Id : Something you're trying to use has been made inactive. Check "
        f"the fields with accounts, customers, items, vendors or employees. ({kind} "
        f"{name!r} Id={target['Id']} is inactive)", element)


def _check_currency_places(kind: Kind, body: Mapping[str, Any]) -> None:
    """Every line ``Amount`` (and a Payment's ``TotalAmt``) has at most the decimals of the
    transaction's currency (ISO 4217 through CLDR: USD 2, JPY 0, KWD 3); the company's home
    currency, USD, when no ``CurrencyRef`` is given. QBO keeps amounts in the currency's
    minor unit, so 10.001 USD cannot be booked; the code (6000) and wording are inferred,
    as Intuit publishes no fault for it. Trailing zeros are fine (10.000 USD is 10.00)."""
    currency_ref = body.get("CurrencyRef")
    code = currency_ref.get("value") if isinstance(currency_ref, Mapping) else None
    code = code.upper() if isinstance(code, str) and code else USD["value"]
    places = babel.numbers.get_currency_precision(code)
    amounts = [(f"Line {index} Amount", "Line.Amount", line.get("Amount"))
               for index, line in enumerate(body.get("Line") or []) if isinstance(line, Mapping)]
    if kind.name == "Payment":
        amounts.append(("TotalAmt", "TotalAmt", body.get("TotalAmt")))
    for what, element, value in amounts:
        if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
            continue
        amount = Decimal(value)
        if amount.is_finite() and _decimal_places(amount) > places:
            raise faults.business(f"{what} {amount} has more decimal places than {code} has "
                                  f"({places}); round it to the currency's minor unit", element)


def _decimal_places(amount: Decimal) -> int:
    """The decimals ``amount`` really has: 10.000 has none, 10.001 three (no arithmetic, so
    no context limits even for 1E+2000)."""
    sign, digits, exponent = amount.as_tuple()
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing == len(digits):
        return 0  # zero
    return max(0, -(exponent + trailing))


def _linked_invoices(line: Any) -> list[str]:
    """The ids of the invoices a Payment line applies to (its ``LinkedTxn`` of type Invoice)."""
    if not isinstance(line, Mapping) or not isinstance(line.get("LinkedTxn"), list):
        return []
    return [str(txn.get("TxnId")) for txn in line["LinkedTxn"]
            if isinstance(txn, Mapping) and txn.get("TxnType") == "Invoice"]


_NAME_KEY = "name"


def _key(entity: str, key: str) -> str:
    """The field holding ``key``: a list entity's name is ``DisplayName`` or ``Name``."""
    if key != _NAME_KEY:
        return key
    return "DisplayName" if entity in ("customer", "vendor") else "Name"


def _index_key(key: str, value: str) -> str:
    """Names are unique regardless of case; document numbers exactly."""
    return value.lower() if key == _NAME_KEY else value


def _display_name(body: Mapping[str, Any]) -> str:
    if isinstance(body.get("DisplayName"), str) and body["DisplayName"].strip():
        return body["DisplayName"]
    parts = [body.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return name or (body.get("CompanyName") or "")


def _check_required(kind: Kind, body: Mapping[str, Any]) -> None:
    for key in _REQUIRED.get(kind.name, ()):
        value = body.get(key)
        if value is None or value == [] or value == "":
            raise faults.required(key)
    if kind.name == "Customer" and not _display_name(body):
        raise faults.required("DisplayName")
    if kind.name == "Account" and not (body.get("AccountType") or body.get("AccountSubType")):
        raise faults.required("AccountType")
    if kind.name == "Item":
        for key in _ITEM_ACCOUNTS.get(body.get("Type") or "Service", ()):
            if not body.get(key):
                raise faults.required(key)
    for line in body.get("Line") or []:
        detail_type = line.get("DetailType")
        if not detail_type and kind.name != "Payment":  # a Payment line is Amount + LinkedTxn
            raise faults.required("Line.DetailType")
        if line.get("Amount") is None and detail_type not in ("SubTotalLineDetail",
                                                               "DescriptionOnly"):
            raise faults.required("Line.Amount")
        if kind.name == "JournalEntry":
            if detail_type != "JournalEntryLineDetail":
                raise faults.validation(
                    "Request has invalid or unsupported property", "2010",
                    f"Property Name:Line.DetailType {detail_type} specified is unsupported or "
                    f"invalid; a JournalEntry line is a JournalEntryLineDetail", "Line.DetailType")
            detail = line.get("JournalEntryLineDetail")
            if not isinstance(detail, Mapping):
                raise faults.required("Line.JournalEntryLineDetail")
            for key in ("PostingType", "AccountRef"):
                if not detail.get(key):
                    raise faults.required(f"Line.JournalEntryLineDetail.{key}")
        elif detail_type == "SalesItemLineDetail" and kind.name in ("Invoice", "CreditMemo",
                                                                    "RefundReceipt"):
            detail = line.get("SalesItemLineDetail")
            if not isinstance(detail, Mapping) or not detail.get("ItemRef"):
                raise faults.required("Line.SalesItemLineDetail.ItemRef")


def _ref_table(key: str) -> str:
    if key.endswith("AccountRef"):
        return "account"
    return {"CustomerRef": "customer", "ItemRef": "item", "VendorRef": "vendor",
            "TaxCodeRef": "taxcode"}[key]


_REF_KEYS = ("CustomerRef", "ItemRef", "VendorRef", "TaxCodeRef")


def _references(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """Every (path, key, reference) in ``value`` that points at a list entity."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item, path)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key.endswith("AccountRef") or key in _REF_KEYS or (
                key == "Entity" and isinstance(item, Mapping)):
            yield path, key, item
        elif isinstance(item, (dict, list)):
            yield from _references(item, path + (key,))


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        return Decimal(0)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    return Decimal(str(value))


def _total(name: str, entity: Mapping[str, Any]) -> Decimal:
    lines = entity.get("Line") or []
    if name == "JournalEntry":
        return sum((_amount(line.get("Amount")) for line in lines
                    if (line.get("JournalEntryLineDetail") or {}).get("PostingType") == "Debit"),
                   Decimal(0))
    if name == "Payment":
        return _amount(entity.get("TotalAmt"))
    if name == "Deposit":
        return sum((_amount(line.get("Amount")) for line in lines), Decimal(0))
    total = Decimal(0)
    for line in lines:
        if line.get("DetailType") in _ADDING_LINES:
            total += _amount(line.get("Amount"))
        elif line.get("DetailType") == _DISCOUNT_LINE:
            total -= _amount(line.get("Amount"))
    return total


__all__ = ["Company", "KINDS", "Kind", "VOIDABLE", "WRITABLE", "seed"]
