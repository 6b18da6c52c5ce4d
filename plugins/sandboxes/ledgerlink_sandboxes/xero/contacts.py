"""Contacts: create, update, read, find (https://developer.xero.com/documentation/api/accounting/contacts).

A contact needs a ``Name`` unique among active contacts (Xero's message when it is taken); an
update (``POST`` with ``ContactID``) changes only the fields sent. ``IsCustomer`` turns true
once an ACCREC invoice names the contact (:mod:`.invoices`).
"""

from __future__ import annotations

from typing import Any

from .entities import Kind, register
from .org import Organisation

#: what a new contact holds besides what was sent
DEFAULTS: dict[str, Any] = {"ContactStatus": "ACTIVE", "IsSupplier": False, "IsCustomer": False,
                            "Addresses": [], "Phones": [], "ContactGroups": [], "ContactPersons": [],
                            "HasAttachments": False, "HasValidationErrors": False}
#: fields Xero computes; a client's value is ignored
READ_ONLY = ("IsSupplier", "IsCustomer", "HasAttachments", "HasValidationErrors", "UpdatedDateUTC",
             "StatusAttributeString", "ValidationErrors", "Balances")


def check(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    name = element.get("Name", existing.get("Name") if existing else None)
    if not isinstance(name, str) or not name.strip():
        return ["The contact name must be specified."] if existing is None else []
    taken = next((contact for contact in org.all("Contacts")
                  if contact is not existing and contact.get("ContactStatus") == "ACTIVE"
                  and contact.get("Name", "").strip().lower() == name.strip().lower()), None)
    if taken is not None:
        return [f"The contact name {name} is already assigned to another contact. "
                "The contact name must be unique across all active contacts."]
    return []


def save(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    sent = {key: value for key, value in element.items() if key not in READ_ONLY}
    if existing is not None:
        existing.update(sent)
        existing["UpdatedDateUTC"] = org.now()
        return dict(existing)
    contact = {**DEFAULTS, **sent, "UpdatedDateUTC": org.now()}
    return dict(org.add("Contacts", contact, "ContactID"))


CONTACTS = register(Kind("Contacts", "Contact", "ContactID", check, save))

__all__ = ["CONTACTS", "check", "save"]
