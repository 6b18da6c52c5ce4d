"""Example Xero webhook deliveries, as Xero posts them
(https://developer.xero.com/documentation/webhooks/overview, /webhooks/configuring-your-server).

Each is the JSON body Xero sends: ``events`` (ids only: ``resourceUrl``, ``resourceId``,
``eventDateUtc`` in UTC without an offset, ``eventType`` CREATE or UPDATE, ``eventCategory``,
``tenantId``, ``tenantType``), ``firstEventSequence``, ``lastEventSequence`` and ``entropy``.
The organisation and entities are those of the triggers' samples (Xero's OpenAPI response
examples): a contact created, an invoice created then updated (paid), a credit note created,
one batch carrying changes of two organisations (each stored on its own connection), the
invoice's delivery sent again (stored once), and the Intent to Receive (an empty batch:
nothing stored). They are what the conformance suite parses; ``ledgerlink demo`` sends only
deliveries that carry their events whole, which these do not.
"""

from __future__ import annotations

from typing import Any

from ledgerlink import jsonio

#: the organisations of the examples (the first is the triggers' samples')
TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
OTHER_TENANT = "4a3b8e71-0c6f-4f1e-9d2a-7b5c3e9f1a20"
#: the entities of the triggers' samples
CONTACT_ID = "430fa14a-f945-44d3-9f97-5df5e28441b8"
INVOICE_ID = "a03ffcd2-5d91-4c7e-b483-318584e9e439"
CREDIT_NOTE_ID = "55d84274-a3da-4829-a7c0-0cab601b95cc"
#: category → the API collection its resourceUrl names
_COLLECTIONS = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}
_API = "https://api.xero.com/api.xro/2.0"


def event(category: str, resource_id: str, event_type: str, when: str, tenant: str = TENANT) -> dict[str, Any]:
    """One event of a delivery: ``category`` (INVOICE …) ``resource_id`` was ``event_type``."""
    return {"resourceUrl": f"{_API}/{_COLLECTIONS[category]}/{resource_id}", "resourceId": resource_id,
            "eventDateUtc": when, "eventType": event_type, "eventCategory": category, "tenantId": tenant,
            "tenantType": "ORGANISATION"}


def delivery(events: list[dict[str, Any]], first: int, entropy: str) -> bytes:
    """The body Xero posts for ``events``, numbered from ``first``."""
    last = first + len(events) - 1 if events else first
    return jsonio.dumps({"events": events, "firstEventSequence": first, "lastEventSequence": last,
                         "entropy": entropy}).encode("utf-8")


def examples() -> list[tuple[str, bytes]]:
    """(label, raw body) pairs, in the order Xero would post them."""
    invoice_paid = delivery([event("INVOICE", INVOICE_ID, "UPDATE", "2026-11-24T17:31:02.114")], 4,
                            "QWXKJBQMNDVTYOMPZRGH")
    return [
        ("Intent to Receive (an empty batch)", delivery([], 0, "TSDPUHXDRNWGGVHNRGZV")),
        ("contact created", delivery([event("CONTACT", CONTACT_ID, "CREATE", "2026-11-24T17:30:00.000")], 1,
                                     "KYTCHEAAXNOUDPCHWHSO")),
        ("invoice created", delivery([event("INVOICE", INVOICE_ID, "CREATE", "2026-11-24T17:30:12.503")], 2,
                                     "GRZMNBPEDXKSZQRIHDYA")),
        ("credit note created", delivery([event("CREDITNOTE", CREDIT_NOTE_ID, "CREATE",
                                                "2026-11-24T17:30:48.000")], 3, "LJHVYEBBWRCSXBNTAUCQ")),
        ("invoice updated (paid)", invoice_paid),
        ("the paid invoice's delivery sent again (stored once)", invoice_paid),
        ("one batch, two organisations (each on its own connection)", delivery([
            event("CONTACT", CONTACT_ID, "UPDATE", "2026-11-24T17:32:00.000"),
            event("INVOICE", "7d1c2f0a-3b4e-4c5d-8e6f-9a0b1c2d3e4f", "CREATE", "2026-11-24T17:32:00.250",
                  tenant=OTHER_TENANT)], 5, "ZNBWRQEAHVTMXPCJYGKD")),
    ]


__all__ = ["OTHER_TENANT", "TENANT", "delivery", "event", "examples"]
