"""Example FreshBooks callback deliveries, as FreshBooks posts them (https://www.freshbooks.com/api/webhooks).

Each is the form FreshBooks sends: ``name`` (``object.verb``), ``object_id``, ``account_id``,
``business_id``, ``identity_id`` and ``user_id``, in that order, URL-encoded; ids only (the
triggers read the object before any run is planned). The business is FreshBooks' example one
(``account_id`` ``ACM123``, as in the triggers' samples, which the SDKs' recorded answers
carry): a client created, its invoice created and updated, a payment on it, the payment's
callback delivered again (FreshBooks retries a delivery it holds unanswered). They are what
the conformance suite parses; ``ledgerlink demo`` sends only deliveries that carry their events
whole, which these do not.
"""

from __future__ import annotations

from urllib.parse import urlencode

#: FreshBooks' example business (the triggers' samples): accounting id and business id
ACCOUNT_ID = "ACM123"
BUSINESS_ID = 77128
#: the user whose action made the change (the ids every delivery ends with)
IDENTITY_ID, USER_ID = 3145722, 1
#: the example objects' ids (the triggers' samples)
CLIENT_ID, INVOICE_ID, PAYMENT_ID = 12345, 987654, 235435


def delivery(name: str, object_id: int, account_id: str = ACCOUNT_ID, business_id: int = BUSINESS_ID) -> bytes:
    """The form FreshBooks posts for event ``name`` (``payment.create``) of ``object_id``."""
    return urlencode([("name", name), ("object_id", str(object_id)), ("account_id", account_id),
                      ("business_id", str(business_id)), ("identity_id", str(IDENTITY_ID)),
                      ("user_id", str(USER_ID))]).encode("ascii")


def examples() -> list[tuple[str, bytes]]:
    """(label, raw body) pairs, in the order FreshBooks would post them."""
    payment = delivery("payment.create", PAYMENT_ID)
    return [
        ("client created", delivery("client.create", CLIENT_ID)),
        ("invoice created", delivery("invoice.create", INVOICE_ID)),
        ("invoice updated (sent)", delivery("invoice.update", INVOICE_ID)),
        ("payment recorded on the invoice", payment),
        ("the payment's callback delivered again (stored once)", payment),
        ("invoice updated (paid)", delivery("invoice.update", INVOICE_ID)),
        ("client updated", delivery("client.update", CLIENT_ID)),
    ]


__all__ = ["ACCOUNT_ID", "BUSINESS_ID", "delivery", "examples"]
