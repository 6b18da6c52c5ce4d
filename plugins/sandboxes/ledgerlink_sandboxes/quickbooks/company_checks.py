"""The write rules that read what the company holds: references, balances, duplicates.

:func:`check_write` is stages 2–5 of a write (:mod:`.company` lists them): the required
elements (:func:`.rules.check_required`), then references to entities the company has and
that are active (2500), the business rules (6000: a balanced journal entry with the name an
A/R or A/P line needs, the currency's decimals, a payment applying at most an invoice's open
balance), and a DocNumber or name used already (6140, 6240). Each check raises the
:class:`~.faults.QboFault` QBO answers with; none changes the company's tables (a reference
found is given the entity's name in the body, as QBO answers it).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext
from typing import Any

from . import faults
from .entities import KINDS, Kind
from .rules import (NAME_KEY, check_currency_places, check_required, display_name, entity_key,
                    inactive_reference, index_key, linked_invoices, ref_table, references_in,
                    to_amount)

#: a company's entities: table (lower-case entity name) → Id → the stored entity
Tables = Mapping[str, Mapping[str, Mapping[str, Any]]]
#: per table: a DocNumber (transactions) or a lower-cased name (lists) → the Id that holds it
Index = Mapping[str, Mapping[str, str]]


def check_write(kind: Kind, body: dict[str, Any], existing: Mapping[str, Any] | None, *,
                tables: Tables, doc_numbers: Index, names: Index) -> None:
    """Check ``body`` (the entity as it would be stored; ``existing`` is the one it updates)
    against the company's ``tables`` and its DocNumber and name indexes, in QBO's order."""
    check_required(kind, body)
    check_references(tables, body)
    if kind.name == "JournalEntry":
        check_journal_entry(tables, body)
    if kind.transaction:
        # without a CurrencyRef, a transaction is in its customer's currency, else the home one
        currency = tables["preferences"]["1"]["CurrencyPrefs"]["HomeCurrency"]["value"]
        customer = body.get("CustomerRef")
        party = tables["customer"].get(str(customer.get("value"))) if isinstance(customer, Mapping) else None
        if party is not None and isinstance(party.get("CurrencyRef"), Mapping):
            currency = party["CurrencyRef"].get("value") or currency
        check_currency_places(kind, body, currency)
    if kind.name == "Payment":
        check_payment_applied(tables, body, existing)
    check_duplicates(kind, body, existing, doc_numbers, names)


def check_references(tables: Tables, body: Mapping[str, Any]) -> None:
    """Every reference names an entity the company has (2500), and an active one (2500,
    "made inactive"); a reference found gets the entity's name, as QBO answers it."""
    for path, key, ref in references_in(body):
        element = ".".join(path + (key,))
        if key == "Entity" and ("Type" in ref or "EntityRef" in ref):
            # JournalEntryLineDetail.Entity: {"Type": "Customer", "EntityRef": {...}}
            entity_type = str(ref.get("Type") or "Customer")
            table = entity_type.lower()
            ref_value = ref.get("EntityRef")
            element += ".EntityRef"
        elif key in ("Entity", "EntityRef"):
            # DepositLineDetail.Entity, Purchase.EntityRef: {"value", "type"}; an expense's
            # payee is a vendor unless its type says otherwise
            entity_type = str(ref.get("type") or ("Vendor" if key == "EntityRef" else "Customer"))
            table = entity_type.lower()
            ref_value = ref
        else:
            table = ref_table(key)
            entity_type = KINDS[table].name
            ref_value = ref
        ref_id = ref_value.get("value") if isinstance(ref_value, Mapping) else None
        if ref_id is None:
            raise faults.required(element + ".value")
        target = tables.get(table, {}).get(str(ref_id))
        if target is None:
            raise faults.invalid_reference(element, entity_type, ref_id)
        if target.get("Active") is False:
            raise inactive_reference(element, entity_type, target)
        name = target.get("DisplayName") or target.get("Name")
        if isinstance(ref_value, dict) and name:
            ref_value["name"] = name


def check_journal_entry(tables: Tables, body: Mapping[str, Any]) -> None:
    """A journal entry's debits equal its credits (Decimal, 6000); a line on Accounts
    Receivable names a Customer, one on Accounts Payable a Vendor (6000)."""
    debits = credits = Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 1000
        for line in body.get("Line") or []:
            detail = line.get("JournalEntryLineDetail") or {}
            amount = to_amount(line.get("Amount"))
            if detail.get("PostingType") == "Debit":
                debits += amount
            else:
                credits += amount
            account = tables["account"].get(str((detail.get("AccountRef") or {}).get("value")))
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


def check_payment_applied(tables: Tables, body: Mapping[str, Any],
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
            for txn_id in linked_invoices(line):
                applied[txn_id] = applied.get(txn_id, Decimal(0)) + to_amount(line.get("Amount"))
    own_id = existing["Id"] if existing else None
    for txn_id, amount in applied.items():
        invoice = tables["invoice"].get(txn_id)
        if invoice is None:
            continue
        with localcontext() as ctx:
            ctx.prec = 1000
            taken = sum((to_amount(line.get("Amount"))
                         for payment in tables["payment"].values()
                         if payment["Id"] != own_id
                         for line in payment.get("Line") or []
                         if txn_id in linked_invoices(line)), Decimal(0))
            open_balance = to_amount(invoice.get("Balance")) - taken
        if amount > open_balance:
            raise faults.business(
                f"The payment applies {amount} to Invoice {txn_id} (DocNumber "
                f"{invoice.get('DocNumber')}), more than its open balance of {open_balance}; "
                f"apply at most the open balance and leave the rest unapplied", "Line.Amount")


def check_duplicates(kind: Kind, body: Mapping[str, Any], existing: Mapping[str, Any] | None,
                     doc_numbers: Index, names: Index) -> None:
    """A transaction's DocNumber is not used by another of its type (6140); a list entity's
    name is not used by another, any case, inactive ones included (6240; customers and
    vendors share one name space)."""
    own_id = existing["Id"] if existing else None
    entity = kind.name.lower()
    doc_number = body.get("DocNumber")
    if kind.transaction and isinstance(doc_number, str) and doc_number:
        other = doc_numbers[entity].get(doc_number)
        if other is not None and other != own_id:
            raise faults.validation(
                "Duplicate Document Number Error", "6140",
                f"Duplicate Document Number Error : You must specify a different number. "
                f"This number has already been used. DocNumber={doc_number} is "
                f"assigned to TxnType={kind.label} with TxnId={other}", "DocNumber")
    if not kind.transaction:
        name_key = entity_key(entity, NAME_KEY)
        name = display_name(body) if kind.name in ("Customer", "Vendor") else body.get(name_key)
        # customers and vendors share one name space in QBO
        tables = ("customer", "vendor") if kind.name in ("Customer", "Vendor") else (entity,)
        for table in tables:
            other = names[table].get(index_key(NAME_KEY, name)) if name else None
            if other is not None and not (table == entity and other == own_id):
                raise faults.validation(
                    "Duplicate Name Exists Error", "6240",
                    f"Duplicate Name Exists Error : The name supplied already exists. : "
                    f"Id={other}", name_key)


__all__ = ["Index", "Tables", "check_duplicates", "check_journal_entry", "check_payment_applied",
           "check_references", "check_write"]
