"""One sandbox company (realm): its entities, written under QBO's write rules.

Nothing here locks or does I/O; :class:`~.state.Sandbox` holds the lock around every call.
:class:`Company` keeps the tables, their DocNumber and name indexes, the id counters and the
change log, and completes what it stores (ids, SyncToken, metadata, the totals QBO
computes). A write is checked in QBO's order and stops at the first failing stage,
answering with that stage's :class:`~.faults.QboFault`; stages 0, 1 and the SyncToken are
:mod:`.rules`, stages 2 to 5 :func:`.company_checks.check_write`:

0. the body is first read the lenient way QBO reads JSON (:func:`as_qbo_reads`): amounts
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
   → 6240;
6. money (:mod:`.books`): a transaction dated in the closed period → 6200; its currency
   and exchange rate (multicurrency, the customer's currency) → 2020 / 6000; a transfer's
   and an expense's business rules → 6000; then the ledger (:mod:`.ledger`) plans its
   postings, refusing an account in a third currency (6000).

Once stored, the transaction's postings replace what it posted before (a void or a
delete posts nothing): ``Account.CurrentBalance`` follows.

An Item of ``Type`` Service or NonInventory (Service when no Type is given) needs an
``IncomeAccountRef``, an Inventory item its income, expense and asset accounts (2020).

A body with an ``Id`` is an update: the entity must exist (610) and the ``SyncToken``
must be the current one (5010); ``"sparse": true`` keeps the fields not sent, otherwise
the body replaces the entity (``Line`` is always replaced whole).

``POST …/invoice?operation=void`` (or ``payment``, ``salesreceipt``) with ``{Id,
SyncToken}`` voids it as QBO does: it stays, with every amount and quantity zeroed
(``TotalAmt`` and ``Balance`` 0), its lines' descriptions and items kept, and ``"Voided"`` put before its ``PrivateNote``. A
second void (with the current SyncToken) is accepted and changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from decimal import Decimal, localcontext
from typing import Any

from . import books, faults
from .company_checks import check_write
from .entities import CLASSIFICATION, KINDS, USD, Kind, currency_ref, preferences, seed
from .ledger import Ledger, rounded
from .notify import Change
from .rules import (NAME_KEY, as_qbo_reads, check_sync_token, check_xsd, display_name, entity_key,
                    entity_total, index_key, to_amount)

def _read_body(entity: str, body: object) -> tuple[Kind, dict[str, Any]]:
    """The entity's kind and ``body`` as QBO reads it (types coerced), or the fault QBO
    answers for a body that is not an object (2010) or does not fit the XSD."""
    kind = KINDS[entity]
    if not isinstance(body, dict):
        raise faults.validation("Request has invalid or unsupported property", "2010",
                                f"Property Name:the request body must be a {kind.name} "
                                f"JSON object specified is unsupported or invalid", "")
    body = as_qbo_reads(kind.name, body)
    check_xsd(kind.name, body)
    return kind, body


# --- the company ----------------------------------------------------------------------

class Company:
    """One realm's entities and id counters."""

    def __init__(self, realm: str, now: str, *, home_currency: str = "USD",
                 multicurrency: bool = False, book_close_date: str | None = None,
                 currency_rules: bool = True) -> None:
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
        self._now = now
        #: the general ledger: every posted transaction's effect on the accounts
        self.ledger = Ledger(self.tables, home_currency, self._new_account, strict=currency_rules)
        lists = seed(home_currency, multicurrency)
        lists["preferences"] = [preferences(home_currency, multicurrency, book_close_date)]
        for name, rows in lists.items():
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
        for index, key in ((self.doc_numbers[entity], "DocNumber"), (self.names[entity], NAME_KEY)):
            if old is not None and isinstance(old.get(entity_key(entity, key)), str):
                index.pop(index_key(key, old[entity_key(entity, key)]), None)
            if isinstance(row.get(entity_key(entity, key)), str) and row[entity_key(entity, key)]:
                index[index_key(key, row[entity_key(entity, key)])] = row["Id"]
        self.tables[entity][row["Id"]] = row

    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        return self.tables[entity].get(entity_id)

    def all(self, entity: str) -> list[dict[str, Any]]:
        return list(self.tables[entity].values())

    def _current(self, entity: str, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        """The stored entity ``body`` (with an Id) changes, once its SyncToken is the current
        one: 610 when there is none, 5010 on an old SyncToken."""
        existing = self.tables[entity].get(str(body["Id"]))
        if existing is None:
            raise faults.not_found(kind.name, str(body["Id"]))
        if body.get("SyncToken") is None:
            raise faults.required("SyncToken")
        check_sync_token(body, existing)
        return existing

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
        body = as_qbo_reads(kind.name, body)
        check_xsd(kind.name, body)
        existing = self.tables[entity].get(str(body["Id"]))
        if existing is None:
            raise faults.not_found(kind.name, str(body["Id"]))
        if body.get("SyncToken") is None:
            raise faults.required("SyncToken")
        if str(body["SyncToken"]) != existing["SyncToken"]:
            raise faults.validation("Stale Object Error", "5010",
                                    f"Stale Object Error : SyncToken {body['SyncToken']} sent, "
                                    f"{existing['SyncToken']} current", "")
        if kind.transaction:
            books.check_open(self.tables, existing.get("TxnDate"))
        for index, key in ((self.doc_numbers[entity], "DocNumber"), (self.names[entity], NAME_KEY)):
            if isinstance(existing.get(entity_key(entity, key)), str):
                index.pop(index_key(key, existing[entity_key(entity, key)]), None)
        del self.tables[entity][existing["Id"]]
        self.ledger.post(entity, existing["Id"], "", [])
        self.voided[entity].discard(existing["Id"])
        self._changed(entity, existing["Id"], "Delete", now or existing["MetaData"]["LastUpdatedTime"])
        return {"Id": existing["Id"], "status": "Deleted", "domain": "QBO"}

    def void(self, entity: str, body: Any, now: str) -> dict[str, Any]:
        """``POST …/<entity>?operation=void`` with ``{Id, SyncToken}``: QBO's void. The
        transaction stays, its amounts and quantities zeroed, ``"Voided"`` before its PrivateNote. A
        second void (current SyncToken) changes nothing. Raises 610 when it is not there,
        5010 on an old SyncToken, 2010 when the body does not fit the XSD, 6200 when it is
        dated in the closed period."""
        kind, body = _read_body(entity, body)
        if body.get("Id") is None:
            raise faults.required("Id")
        existing = self._current(entity, kind, body)
        if existing["Id"] in self.voided[entity]:
            return existing  # voided already: accepted, nothing changes
        books.check_open(self.tables, existing.get("TxnDate"))
        voided = copy.deepcopy(existing)
        for line in voided.get("Line") or []:
            line["Amount"] = Decimal(0)
            for detail in line.values():
                if isinstance(detail, dict):
                    # a zero amount keeps no quantity or rate (as QBO answers a void)
                    detail.pop("Qty", None)
                    detail.pop("UnitPrice", None)
        voided["TotalAmt"] = Decimal(0)
        for key in ("Balance", "UnappliedAmt", "HomeTotalAmt", "HomeBalance", "Deposit"):
            if key in voided:
                voided[key] = Decimal(0)
        if isinstance(voided.get("TxnTaxDetail"), dict):
            voided["TxnTaxDetail"]["TotalTax"] = Decimal(0)
        note = existing.get("PrivateNote")
        voided["PrivateNote"] = f"Voided - {note}" if isinstance(note, str) and note else "Voided"
        voided["SyncToken"] = str(int(existing["SyncToken"]) + 1)
        voided["MetaData"] = {"CreateTime": existing["MetaData"]["CreateTime"], "LastUpdatedTime": now}
        self._store(entity, voided, existing)
        self.ledger.post(entity, voided["Id"], "", [])  # a void takes back all it posted
        self.voided[entity].add(voided["Id"])
        self._changed(entity, voided["Id"], "Void", now)
        return voided

    def write(self, entity: str, body: Any, now: str, today: str) -> tuple[dict[str, Any], bool]:
        """Create (no ``Id``) or update (``Id``) an ``entity``; returns (stored, created).

        Raises :class:`~.faults.QboFault` when QBO would refuse the body.
        """
        kind, body = _read_body(entity, body)
        self._now = now
        existing = None
        if body.get("Id") is not None:
            existing = self._current(entity, kind, body)
            if body.get("sparse") is True:
                merged = {**copy.deepcopy(existing), **body}
            else:
                merged = body
        else:
            merged = body  # freshly parsed: the sandbox owns it
        check_write(kind, merged, existing, tables=self.tables, doc_numbers=self.doc_numbers,
                    names=self.names)
        postings = []
        if kind.transaction:
            books.check_open(self.tables, merged.get("TxnDate") or today,
                             existing.get("TxnDate") if existing else None)
            books.prepare_transaction(kind, merged, self.tables, strict=self.ledger.strict)
        elif self.ledger.strict:
            books.check_list_currency(kind, merged, self.tables, existing)
        stored = self._complete(kind, merged, existing, now, today)
        if kind.transaction:
            postings = self.ledger.plan(kind.name, stored)
        if existing is not None and kind.name == "Account":
            # QBO computes an account's balance: a write cannot set it
            for key in ("CurrentBalance", "CurrentBalanceWithSubAccounts"):
                stored[key] = existing.get(key, 0)
        self._store(entity, stored, existing)
        if kind.transaction:
            self.ledger.post(entity, stored["Id"], stored["TxnDate"], postings,
                             books.currency_of(stored, self.ledger.home))
        self._changed(entity, stored["Id"], "Create" if existing is None else "Update", now)
        if existing is not None and "Line" in body:
            self.voided[entity].discard(stored["Id"])  # new lines: not void any more
        return stored, existing is None

    def _complete(self, kind: Kind, body: dict[str, Any], existing: dict[str, Any] | None,
                  now: str, today: str) -> dict[str, Any]:
        """The entity as stored: ids, sync token, metadata and the totals QBO computes."""
        entity = body
        if kind.name != "Payment":  # QBO computes the total; a Payment states it
            entity.pop("TotalAmt", None)
        if kind.name == "Account" and existing is None:
            entity["CurrentBalance"] = entity["CurrentBalanceWithSubAccounts"] = 0
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
            if not entity.get("TxnDate"):
                entity["TxnDate"] = today
            entity.setdefault("CurrencyRef", dict(USD))
            if kind.name in ("Invoice", "CreditMemo", "RefundReceipt") and not entity.get("DocNumber"):
                entity["DocNumber"] = self._new_doc_number(kind.name)
            lines = entity.get("Line") or []
            first = 0 if kind.name == "JournalEntry" else 1
            for index, line in enumerate(lines):
                if line.get("DetailType") != "SubTotalLineDetail":
                    line["Id"] = str(first + index)
            with localcontext() as ctx:
                ctx.prec = 1000
                total = entity_total(kind.name, entity)
            if kind.name == "JournalEntry":
                entity.setdefault("Adjustment", False)
                entity.setdefault("TxnTaxDetail", {})
            if kind.name == "Payment":
                applied = sum((to_amount(line.get("Amount")) for line in lines), Decimal(0))
                entity["TotalAmt"] = total
                entity["UnappliedAmt"] = total - applied
            elif kind.name != "Transfer":  # a Transfer has only its Amount
                entity["TotalAmt"] = total
            if "ExchangeRate" in entity and kind.name != "Transfer":
                entity["HomeTotalAmt"] = rounded(total * to_amount(entity["ExchangeRate"]),
                                                 self.ledger.home)
            if kind.name == "Invoice":
                entity["Balance"] = total
            elif kind.name == "CreditMemo":
                entity["Balance"] = total
                entity["RemainingCredit"] = total
            elif kind.name == "RefundReceipt":
                entity["Balance"] = Decimal(0)
        elif kind.name in ("Customer", "Vendor"):
            name = display_name(entity)
            entity["DisplayName"] = name
            entity.setdefault("FullyQualifiedName", name)
            entity.setdefault("PrintOnCheckName", name)
            entity.setdefault("Active", True)
            entity.setdefault("Balance", 0)
            if kind.name == "Customer":
                entity.setdefault("BalanceWithJobs", 0)
            entity.setdefault("CurrencyRef", currency_ref(self.ledger.home))
        elif kind.name == "Item":
            entity["FullyQualifiedName"] = self._qualified_name("item", entity, "SubItem")
            entity.setdefault("Active", True)
            entity.setdefault("Type", "Service")
        elif kind.name == "Account":
            entity["FullyQualifiedName"] = self._qualified_name("account", entity, "SubAccount")
            entity.setdefault("Active", True)
            entity.setdefault("SubAccount", False)
            account_type = entity.get("AccountType")
            if account_type in CLASSIFICATION:
                entity.setdefault("Classification", CLASSIFICATION[account_type])
            entity.setdefault("CurrentBalance", 0)
            entity.setdefault("CurrentBalanceWithSubAccounts", 0)
            entity.setdefault("CurrencyRef", currency_ref(self.ledger.home))
        return entity

    def _new_account(self, row: dict[str, Any]) -> str:
        """Store an account the ledger opens (a receivable in a new currency); its Id."""
        row.update({"Id": self._new_id("account"), "domain": "QBO", "sparse": False,
                    "SyncToken": "0", "Active": True, "SubAccount": False,
                    "FullyQualifiedName": row["Name"],
                    "Classification": CLASSIFICATION[row["AccountType"]],
                    "CurrentBalance": 0, "CurrentBalanceWithSubAccounts": 0,
                    "MetaData": {"CreateTime": self._now, "LastUpdatedTime": self._now}})
        self._store("account", row, None)
        self._changed("account", row["Id"], "Create", self._now)
        return row["Id"]

    def set_preferences(self, **changes: Any) -> dict[str, Any]:
        """Change the company's Preferences (:func:`.books.set_preferences`)."""
        return books.set_preferences(self, **changes)

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


__all__ = ["Company"]
