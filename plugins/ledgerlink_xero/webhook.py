"""Xero's webhooks: the signature checked before anything is read, Intent to Receive, the events.

Xero POSTs every subscribed organisation's changes to the app's one webhook URL
(https://developer.xero.com/documentation/webhooks/configuring-your-server):

- **Signature.** ``x-xero-signature`` = base64(HMAC-SHA256(key = the app's webhook signing
  key, message = the raw body)). It is checked on the raw bytes, in constant time, before the
  body is parsed: a body that does not verify is never read.
- **Intent to Receive.** When a subscription is created, re-enabled or its URL changes, Xero
  sends a series of deliveries ``{"events": [], "firstEventSequence": 0, "lastEventSequence":
  0, "entropy": "…"}``, some signed correctly and some not; the endpoint answers 200 with an
  empty body (no cookies) to each good one and 401 to each bad one, within 5 seconds. The host
  verifies before it parses, stores before it answers, and answers Xero with an empty body
  (``Webhook.empty_answer``); an empty batch stores nothing. (Xero's description of the body
  says the sequence numbers are at least 1; Intent to Receive sends 0, so they are not
  checked.)
- **Events carry ids only**: ``resourceUrl``, ``resourceId``, ``eventDateUtc``,
  ``eventType`` (CREATE, UPDATE), ``eventCategory`` (INVOICE, CONTACT, CREDITNOTE,
  SUBSCRIPTION), ``tenantId``, ``tenantType``; there is no event id. The triggers fetch the
  entity (:mod:`.triggers`). Each event is stored on the connection whose ``tenant_id`` is
  the event's ``tenantId``.

An event's id is ``{tenantId}:{CATEGORY}:{resourceId}:{CREATE|UPDATE}:{time}`` (the time in
UTC to the millisecond): Xero's redelivery of the same event is stored once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import IncomingEvent, Webhook
from ledgerlink.errors import ConfigError, EventError, SignatureError

#: the header Xero signs deliveries in
HEADER = "x-xero-signature"
#: the secret setting holding the app's webhook signing key (Xero developer portal > Webhooks)
KEY_SETTING = "webhook_key"
#: the connection setting naming the organisation a connection books into
TENANT_SETTING = "tenant_id"
#: Xero's event categories with triggers → (the entity's name in the API, the trigger's word)
CATEGORIES: dict[str, tuple[str, str]] = {
    "INVOICE": ("Invoice", "invoice"),
    "CONTACT": ("Contact", "contact"),
    "CREDITNOTE": ("CreditNote", "credit_note"),
}
#: the API's collection of each entity (``GET {api_base}/{collection}/{id}``)
COLLECTIONS = {"Invoice": "Invoices", "Contact": "Contacts", "CreditNote": "CreditNotes"}
#: the id field of each entity
ID_FIELDS = {"Invoice": "InvoiceID", "Contact": "ContactID", "CreditNote": "CreditNoteID"}
#: Xero's event types → the word used in trigger names and events
OPERATIONS = {"CREATE": "created", "UPDATE": "updated"}
#: Xero's dates in JSON: ``/Date(1551981568133+0000)/`` (milliseconds since 1970, UTC)
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
#: what each event of a delivery must carry (``WebhookEvent`` in Xero's xero-webhooks.yaml)
_REQUIRED = ("resourceUrl", "resourceId", "eventDateUtc", "eventType", "eventCategory", "tenantId",
             "tenantType")


# --- signatures -------------------------------------------------------------------------------

def signature(body: bytes, key: str) -> str:
    """The ``x-xero-signature`` of ``body``: base64 of HMAC-SHA256 keyed by the signing key."""
    digest = hmac.new(key.encode("utf-8"), bytes(body), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any], now: float) -> None:
    """Raise SignatureError unless ``body`` carries a valid ``x-xero-signature``; the body is
    not read before it verifies."""
    key = secrets.get(KEY_SETTING)
    if not key:
        raise ConfigError(f"the Xero connection has no {KEY_SETTING}: copy the app's webhook key "
                          f"(Xero developer portal > your app > Webhooks) into an environment "
                          f"variable and set {KEY_SETTING} = \"${{THAT_VARIABLE}}\"")
    given = headers.get(HEADER)
    if not given:
        raise SignatureError(f"no {HEADER} header; Xero signs every webhook delivery")
    if not hmac.compare_digest(given.strip().encode("ascii", "replace"), signature(body, key).encode("ascii")):
        raise SignatureError(f"the {HEADER} header does not match the body; check that {KEY_SETTING} "
                             f"is this app's webhook key and that nothing re-encoded the body")


def sign(body: bytes, secrets: Mapping[str, Any], now: float) -> dict[str, str]:
    """The headers Xero would send with ``body`` (for emitters, demos and tests)."""
    return {HEADER: signature(body, secrets[KEY_SETTING]), "Content-Type": "application/json"}


# --- one event shape, whether delivered or polled ---------------------------------------------

def iso(moment: datetime) -> str:
    """``moment`` in UTC, to the millisecond, as events and ids write it."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def utc(text: Any, where: str) -> datetime:
    """An ISO 8601 time (Xero's ``eventDateUtc`` has no offset: it is UTC) as an aware datetime."""
    if not isinstance(text, str) or not text:
        raise EventError(f"{where}: a time is required, got {text!r}", pointer=where)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{where}: {text!r} is not an ISO 8601 time", pointer=where) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def ms_date(text: Any, where: str) -> datetime:
    """A Xero ``/Date(ms+0000)/`` (or an ISO 8601 time) as an aware UTC datetime."""
    match = _MS_DATE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return utc(text, where)
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match.group(1)))


def version(entity_id: str, data: Mapping[str, Any]) -> str | None:
    """``{id}@{UpdatedDateUTC}``: one state of one entity, whoever read it (a webhook's fetch or
    a poll); None when Xero gave no time of change."""
    try:
        return f"{entity_id}@{iso(ms_date(data.get('UpdatedDateUTC'), '/data/UpdatedDateUTC'))}"
    except EventError:
        return None


def trigger_name(category: str, operation: str) -> str:
    """``xero.invoice.updated`` for (INVOICE, updated); unknown categories in lower case."""
    word = CATEGORIES[category][1] if category in CATEGORIES else category.lower()
    return f"xero.{word}.{operation}"


def change(tenant: str, category: str, entity_id: str, operation: str, changed: datetime, via: str,
           data: Any = None, notification: Mapping[str, Any] | None = None) -> IncomingEvent:
    """The event for one change of an entity, whichever way it arrived."""
    when = iso(changed)
    payload: dict[str, Any] = {
        "tenant_id": tenant, "entity_type": CATEGORIES.get(category, (category.title(), ""))[0],
        "entity_id": entity_id, "operation": operation, "changed_at": when, "via": via, "data": data,
    }
    if notification is not None:
        payload["notification"] = dict(notification)
    if isinstance(data, Mapping):
        payload["version"] = version(entity_id, data)
    verb = next((k for k, v in OPERATIONS.items() if v == operation), operation.upper())
    return IncomingEvent(id=f"{tenant}:{category}:{entity_id}:{verb}:{when}",
                         trigger=trigger_name(category, operation), payload=payload, tenant=tenant)


def _event(item: Any, where: str) -> IncomingEvent:
    if not isinstance(item, Mapping):
        raise EventError(f"{where}: an event object is required", pointer=where)
    for name in _REQUIRED:
        if not isinstance(item.get(name), str) or not item[name]:
            raise EventError(f"{where}/{name}: Xero sends a non-empty string here, got {item.get(name)!r}",
                             pointer=f"{where}/{name}")
    kind = item["eventType"]
    if kind not in OPERATIONS:
        raise EventError(f"{where}/eventType: {kind!r} is not CREATE or UPDATE", pointer=f"{where}/eventType")
    category = item["eventCategory"]
    if not category.isalpha() or not category.isupper():
        raise EventError(f"{where}/eventCategory: {category!r} is not a Xero event category",
                         pointer=f"{where}/eventCategory")
    return change(item["tenantId"], category, item["resourceId"], OPERATIONS[kind],
                  utc(item["eventDateUtc"], f"{where}/eventDateUtc"), "webhook", notification=item)


def parse(headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    """The events of a (verified) delivery; none for an Intent to Receive."""
    try:
        data = jsonio.loads(body)
    except UnicodeDecodeError as exc:
        raise EventError(f"the Xero webhook body is not JSON: byte {exc.start} is not UTF-8") from None
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"the Xero webhook body is not JSON: {exc.msg} at line {exc.line}, "
                         f"column {exc.column}", line=exc.line, column=exc.column) from None
    if not isinstance(data, Mapping) or not isinstance(data.get("events"), list):
        raise EventError("not a Xero webhook: expected {\"events\": [...], \"firstEventSequence\": …}",
                         pointer="/events")
    return [_event(item, f"/events/{n}") for n, item in enumerate(data["events"])]


WEBHOOK = Webhook(verify=verify, parse=parse, sign=sign, tenant_setting=TENANT_SETTING, empty_answer=True)
