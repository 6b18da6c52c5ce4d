"""Changes made in QuickBooks, as ledgerlink triggers: two ways in, one event shape.

- **Webhooks** (Intuit docs: webhooks). Intuit POSTs to the app's one endpoint, signed with
  ``intuit-signature`` = base64(HMAC-SHA256(key = the app's *verifier token*, msg = the raw
  body)). Two formats: the legacy ``{"eventNotifications": [{"realmId", "dataChangeEvent":
  {"entities": [{"name", "id", "operation", "lastUpdated"}]}}]}`` and the CloudEvents array
  (``specversion``, ``type: qbo.<entity>.<created|updated|…>.v1``, ``intuitentityid``,
  ``intuitaccountid`` = realm, ``time``), told apart by ``specversion``. A delivery may span
  several companies (realms); each event carries its realm, and the host stores it on the
  connection of that realm. Notifications carry ids only, so each trigger *fetches* the entity
  (``GET /v3/company/{realm}/{entity}/{id}``, governed like any request) before the host plans
  runs. Intuit wants a 200 within 3 s: the host acknowledges once it is stored, fetches after.
- **Change data capture** (Intuit docs), the fallback when webhooks are not set up:
  ``GET /v3/company/{realm}/cdc?entities=…&changedSince=…`` polled every ``poll_seconds``
  (a host setting of the connection), returning whole entities, deleted ones as
  ``status: "Deleted"``. The cursor is the server's ``time`` of the previous answer; when
  an answer holds the 1,000-object maximum, the cursor is the newest change in it instead,
  so the next poll continues where this one was cut. QBO looks back at most 30 days.

An event's id is the same whichever way it came — ``{realm}:{Entity}:{id}:{operation}:{UTC
seconds of the change}`` — so a change seen by both a webhook and a poll is stored once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Generator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import (ActionContext, IncomingEvent, Poll, Request, Response, Trigger,
                                 Webhook)
from ledgerlink.errors import ConfigError, EventError, SignatureError

from .api import classify, entity_url, params

log = logging.getLogger("ledgerlink.quickbooks")

#: the header Intuit signs webhook deliveries in
HEADER = "intuit-signature"
#: the secret setting holding the app's webhook verifier token (not the client secret)
VERIFIER_SETTING = "webhook_verifier_token"
#: Intuit's operations (legacy ``operation``) → the word used in trigger names and events
OPERATIONS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Merge": "merged",
              "Void": "voided", "Emailed": "emailed"}
#: entities with triggers: the QBO entity name → its operations that have a trigger
TRIGGERED: dict[str, tuple[str, ...]] = {
    "Payment": ("created", "updated", "deleted"),
    "Invoice": ("created", "updated", "deleted", "voided"),
    "Customer": ("created", "updated", "deleted", "merged"), "Item": ("created", "updated"),
}
#: what a change-data-capture poll asks for
CDC_ENTITIES = tuple(TRIGGERED)
#: QBO answers at most this many objects per CDC request
CDC_MAX_OBJECTS = 1000
#: QBO looks back at most 30 days
CDC_LOOKBACK = timedelta(days=30)
#: a poll asks again for this much before its cursor (events repeat; they are stored once)
CDC_OVERLAP = timedelta(seconds=60)
#: operations whose entity is gone: nothing to fetch
_GONE = ("deleted", "merged")


# --- signatures -------------------------------------------------------------------------------

def signature(body: bytes, token: str) -> str:
    """The ``intuit-signature`` of ``body``: base64 of HMAC-SHA256 keyed by the verifier token."""
    digest = hmac.new(token.encode("utf-8"), bytes(body), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any], now: float) -> None:
    """Raise SignatureError unless ``body`` carries a valid ``intuit-signature``."""
    token = secrets.get(VERIFIER_SETTING)
    if not token:
        raise ConfigError(f"the QuickBooks connection has no {VERIFIER_SETTING}: copy the app's "
                          f"Verifier Token (Intuit developer portal > Webhooks) into an environment "
                          f"variable and set {VERIFIER_SETTING} = \"${{THAT_VARIABLE}}\"")
    given = headers.get(HEADER)
    if not given:
        raise SignatureError(f"no {HEADER} header; QuickBooks signs every webhook delivery")
    if not hmac.compare_digest(given.strip().encode("ascii", "replace"), signature(body, token).encode("ascii")):
        raise SignatureError(f"the {HEADER} header does not match the body; check that "
                             f"{VERIFIER_SETTING} is this app's Verifier Token and that nothing "
                             f"re-encoded the body on its way")


def sign(body: bytes, secrets: Mapping[str, Any], now: float) -> dict[str, str]:
    """The headers Intuit would send with ``body`` (for emitters, demos and tests)."""
    return {HEADER: signature(body, secrets[VERIFIER_SETTING]), "Content-Type": "application/json"}


# --- one event shape for both ways in ---------------------------------------------------------

def _utc(text: Any, where: str) -> datetime:
    if not isinstance(text, str) or not text:
        raise EventError(f"{where}: a change time is required, got {text!r}")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise EventError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise EventError(f"{where}: {text!r} has no UTC offset")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first representable time
        raise EventError(f"{where}: {text!r} is out of range once converted to UTC") from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def trigger_name(entity: str, operation: str) -> str:
    return f"quickbooks.{entity.lower()}.{operation}"


def change(realm: str, entity: str, entity_id: str, operation: str, changed: datetime, via: str,
           data: Any = None, notification_id: str | None = None) -> IncomingEvent:
    """The event for one change, whichever way it arrived."""
    seconds = int(changed.timestamp())
    payload: dict[str, Any] = {
        "realm_id": realm, "entity_type": entity, "entity_id": entity_id, "operation": operation,
        "changed_at": _iso(changed), "via": via, "data": data,
    }
    if notification_id is not None:
        payload["notification_id"] = notification_id
    return IncomingEvent(id=f"{realm}:{entity}:{entity_id}:{operation}:{seconds}",
                         trigger=trigger_name(entity, operation), payload=payload, tenant=realm)


def _legacy(data: Mapping[str, Any]) -> list[IncomingEvent]:
    notifications = data.get("eventNotifications")
    if not isinstance(notifications, list):
        raise EventError("/eventNotifications: a list of notifications is required")
    events = []
    for n, notification in enumerate(notifications):
        where = f"/eventNotifications/{n}"
        if not isinstance(notification, Mapping):
            raise EventError(f"{where}: a notification object is required")
        realm = notification.get("realmId")
        change_event = notification.get("dataChangeEvent")
        entities = change_event.get("entities") if isinstance(change_event, Mapping) else None
        if not isinstance(realm, str) or not realm or not isinstance(entities, list):
            raise EventError(f"{where}: realmId and dataChangeEvent.entities are required")
        for e, entity in enumerate(entities):
            at = f"{where}/dataChangeEvent/entities/{e}"
            if not isinstance(entity, Mapping) or not entity.get("name") or not entity.get("id"):
                raise EventError(f"{at}: name and id are required")
            operation = OPERATIONS.get(str(entity.get("operation")), str(entity.get("operation", "")).lower())
            if not operation.isalpha():
                raise EventError(f"{at}/operation: {entity.get('operation')!r} is not an operation")
            events.append(change(realm, str(entity["name"]), str(entity["id"]), operation,
                                 _utc(entity.get("lastUpdated"), f"{at}/lastUpdated"), "webhook"))
    return events


def _cloudevents(items: list[Any]) -> list[IncomingEvent]:
    events = []
    for n, item in enumerate(items):
        where = f"/{n}"
        if not isinstance(item, Mapping) or item.get("specversion") != "1.0":
            raise EventError(f"{where}: a CloudEvents 1.0 object (specversion \"1.0\") is required")
        kind = str(item.get("type", "")).split(".")
        if len(kind) < 3 or kind[0] != "qbo" or not kind[2].isalpha():
            raise EventError(f"{where}/type: {item.get('type')!r} is not qbo.<entity>.<operation>.v1")
        realm, entity_id = item.get("intuitaccountid"), item.get("intuitentityid")
        if not realm or not entity_id:
            raise EventError(f"{where}: intuitaccountid and intuitentityid are required")
        entity = _ENTITY_NAMES.get(kind[1].lower(), kind[1][:1].upper() + kind[1][1:])
        events.append(change(str(realm), entity, str(entity_id), kind[2].lower(),
                             _utc(item.get("time"), f"{where}/time"), "webhook",
                             notification_id=str(item.get("id")) if item.get("id") else None))
    return events


#: CloudEvents name entities in lower case; QBO's own names have capitals inside
_ENTITY_NAMES = {name.lower(): name for name in (
    "Account", "Bill", "BillPayment", "Budget", "Class", "CreditMemo", "Currency", "Customer",
    "Department", "Deposit", "Employee", "Estimate", "Invoice", "Item", "JournalCode", "JournalEntry",
    "Payment", "PaymentMethod", "Preferences", "Purchase", "PurchaseOrder", "RefundReceipt",
    "SalesReceipt", "TaxAgency", "Term", "TimeActivity", "Transfer", "Vendor", "VendorCredit")}


def parse(headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    """The events in a webhook delivery, legacy or CloudEvents (told apart by ``specversion``)."""
    try:
        data = jsonio.loads(body)
    except UnicodeDecodeError as exc:
        raise EventError(f"the QuickBooks webhook body is not JSON: byte {exc.start} is not UTF-8") from None
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"the QuickBooks webhook body is not JSON: {exc.msg} at line {exc.line}, "
                         f"column {exc.column}", line=exc.line, column=exc.column) from None
    if isinstance(data, list):
        return _cloudevents(data)
    if isinstance(data, Mapping) and "eventNotifications" in data:
        return _legacy(data)
    if isinstance(data, Mapping) and data.get("specversion"):
        return _cloudevents([data])
    raise EventError("not a QuickBooks webhook: expected {\"eventNotifications\": […]} or a "
                     "CloudEvents array")


WEBHOOK = Webhook(verify=verify, parse=parse, sign=sign, tenant_setting="realm_id")


# --- fetching the entity a notification names -------------------------------------------------

def fetch(payload: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, Mapping[str, Any] | None]:
    """Read the entity a notification names; the event then carries it as ``data``.

    A deleted or merged entity has nothing to read (``data`` stays null). An entity that no
    longer exists (QBO fault 610, or HTTP 404) returns None: nothing is planned.
    """
    if payload.get("data") is not None or payload.get("operation") in _GONE:
        return dict(payload)
    realm = str(ctx.connection.settings.get("realm_id", ""))
    if str(payload.get("realm_id")) != realm:
        raise ConfigError(f"a notification for company {payload.get('realm_id')} reached connection "
                          f"{ctx.connection.name!r} (company {realm}); configure a QuickBooks "
                          f"connection with realm_id = \"{payload.get('realm_id')}\"")
    entity = str(payload["entity_type"])
    response = yield Request(method="GET", url=f"{entity_url(ctx.connection.settings, entity.lower())}/"
                                               f"{payload['entity_id']}",
                             params=params(None), headers={"Accept": "application/json"})
    if response.status == 404 or _not_found(response):
        return None
    error = classify(response)
    if error is not None:
        raise error
    body = response.json if isinstance(response.json, Mapping) else {}
    if not isinstance(body.get(entity), Mapping):
        raise EventError(f"QuickBooks answered the read of {entity} {payload['entity_id']} without "
                         f"the {entity} object")
    return {**payload, "data": body[entity]}


def _not_found(response: Response) -> bool:
    fault = response.json.get("Fault") if isinstance(response.json, Mapping) else None
    errors = fault.get("Error", []) if isinstance(fault, Mapping) else []
    return any(str(e.get("code")) == "610" for e in errors if isinstance(e, Mapping))


# --- change data capture --------------------------------------------------------------------

def _cdc_changes(realm: str, body: Mapping[str, Any],
                 since: datetime | None = None) -> tuple[list[IncomingEvent], int, datetime | None]:
    """(events, objects in the answer, the newest change time) of one CDC answer.

    CDC gives an entity's latest state only. One created since ``since`` is a ``created``
    event (timed by its CreateTime, as the webhook's Create is), and also an ``updated``
    one when it changed after (SyncToken past 0); one created before is ``updated``.
    """
    events, count, newest = [], 0, None
    for block in body.get("CDCResponse") or []:
        for query in (block.get("QueryResponse") or []) if isinstance(block, Mapping) else []:
            if not isinstance(query, Mapping):
                continue
            for entity in CDC_ENTITIES:
                for obj in query.get(entity) or []:
                    count += 1
                    where = f"/CDCResponse/{entity}/{obj.get('Id')}"
                    meta = obj.get("MetaData") or {}
                    changed = _utc(meta.get("LastUpdatedTime"), where)
                    newest = changed if newest is None or changed > newest else newest
                    if obj.get("status") == "Deleted":
                        events.append(change(realm, entity, str(obj.get("Id")), "deleted", changed, "cdc"))
                        continue
                    created = _utc(meta["CreateTime"], where) if meta.get("CreateTime") else None
                    if created is not None and (since is None or created >= since):
                        events.append(change(realm, entity, str(obj.get("Id")), "created", created, "cdc", obj))
                        if str(obj.get("SyncToken", "0")) == "0":
                            continue
                    events.append(change(realm, entity, str(obj.get("Id")), "updated", changed, "cdc", obj))
    return events, count, newest


def poll(cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, tuple[list[IncomingEvent], str]]:
    """One change-data-capture request: the changes since ``cursor`` and the next cursor.

    The first poll starts at the ``cdc_since`` setting, or now (history is not replayed into
    the books unless asked for).
    """
    settings = ctx.connection.settings
    realm = str(settings.get("realm_id", ""))
    now = datetime.now(timezone.utc)
    if cursor:
        since = _utc(cursor, "cursor") - CDC_OVERLAP
    elif settings.get("cdc_since"):
        since = _utc(settings["cdc_since"], f"connection {ctx.connection.name!r} setting cdc_since")
    else:
        return [], _iso(now)
    if since < now - CDC_LOOKBACK:
        log.warning("connection %r: changes before %s are older than QuickBooks' 30-day change data "
                    "capture window and cannot be read", ctx.connection.name, _iso(now - CDC_LOOKBACK))
        since = now - CDC_LOOKBACK + timedelta(minutes=1)
    response = yield Request(method="GET", url=entity_url(settings, "cdc"),
                             params={**params(None), "entities": ",".join(CDC_ENTITIES),
                                     "changedSince": _iso(since)},
                             headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    body = response.json if isinstance(response.json, Mapping) else {}
    events, count, newest = _cdc_changes(realm, body, since)
    if count >= CDC_MAX_OBJECTS and newest is not None:
        next_cursor = newest + CDC_OVERLAP  # cut at the maximum: continue from the newest change seen
    else:
        server_time = body.get("time")
        next_cursor = _utc(server_time, "/time") if isinstance(server_time, str) else now
    return events, _iso(next_cursor)


POLL = Poll(summary="change data capture (/cdc) of invoices, payments and customers, with a stored cursor",
            poll=poll, min_seconds=10.0)


# --- the triggers -----------------------------------------------------------------------------

_REF = {"type": "object", "description": "A QuickBooks reference.",
        "properties": {"value": {"type": "string", "description": "The referenced entity's Id."},
                       "name": {"type": "string", "description": "Its name, as QuickBooks shows it."}}}


def _schema(entity: str, operation: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "description": f"The {entity} as QuickBooks returns it (read after the notification); "
                       f"null when it was deleted or merged away.",
        "type": ["object", "null"],
        "properties": {"Id": {"type": "string", "description": f"The {entity}'s Id."},
                       "SyncToken": {"type": "string", "description": "Its version (an update sends the latest)."},
                       "MetaData": {"type": "object", "description": "CreateTime and LastUpdatedTime."}},
    }
    if entity in ("Payment", "Invoice"):
        data["properties"].update({
            "TotalAmt": {"type": ["number", "string"], "description": "The total, in CurrencyRef's currency."},
            "CustomerRef": {**_REF, "description": "The customer."}, "TxnDate": {
                "type": "string", "description": "The transaction date (YYYY-MM-DD)."},
            "CurrencyRef": {**_REF, "description": "The currency (its value is the ISO 4217 code)."}})
    if operation not in _GONE:
        data["type"] = "object"
        data["required"] = ["Id"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"QuickBooks {entity} {operation}",
        "type": "object",
        "required": ["realm_id", "entity_type", "entity_id", "operation", "changed_at", "via", "data"],
        "properties": {
            "realm_id": {"type": "string", "description": "The company (realm) the change was made in."},
            "entity_type": {"const": entity, "description": "The QuickBooks entity."},
            "entity_id": {"type": "string", "description": f"The {entity}'s Id."},
            "operation": {"const": operation, "description": "What happened to it."},
            "changed_at": {"type": "string", "description": "When QuickBooks changed it (UTC, ISO 8601)."},
            "via": {"enum": ["webhook", "cdc"], "description": "How ledgerlink learned of it: a webhook or a change data capture poll."},
            "notification_id": {"type": "string", "description": "The CloudEvents id, when delivered in that format."},
            "data": data,
        },
    }


def _sample(entity: str, operation: str) -> dict[str, Any]:
    data = None
    if operation not in _GONE:
        data = {"Id": "131", "SyncToken": "0",
                "MetaData": {"CreateTime": "2026-11-24T09:30:00-08:00", "LastUpdatedTime": "2026-11-24T09:30:00-08:00"}}
        if entity == "Payment":
            data.update({"TotalAmt": 55.0, "CustomerRef": {"value": "1", "name": "Amy's Bird Sanctuary"},
                         "CurrencyRef": {"value": "USD", "name": "United States Dollar"}, "TxnDate": "2026-11-24",
                         "Line": [{"Amount": 55.0, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]})
        elif entity == "Invoice":
            data.update({"TotalAmt": 55.0, "Balance": 55.0, "DocNumber": "1037", "TxnDate": "2026-11-24",
                         "CustomerRef": {"value": "1", "name": "Amy's Bird Sanctuary"},
                         "CurrencyRef": {"value": "USD", "name": "United States Dollar"}})
        elif entity == "Item":
            data.update({"Name": "Bird food", "Type": "Service", "UnitPrice": 10.0, "Active": True})
        else:
            data.update({"DisplayName": "Amy's Bird Sanctuary",
                         "PrimaryEmailAddr": {"Address": "birds@intuit.com"}, "Active": True})
    return {"realm_id": "9130350000000000", "entity_type": entity, "entity_id": "131",
            "operation": operation, "changed_at": "2026-11-24T17:30:00Z", "via": "webhook", "data": data}


def _summary(entity: str, operation: str) -> str:
    article = "An" if entity[0] in "AEIOU" else "A"
    what = {"merged": "merged into another customer"}.get(operation, operation)
    carries = ("the event carries its id only (data is null)" if operation in _GONE
               else f"the event carries the whole {entity}, read after the notification")
    return (f"{article} {entity.lower()} was {what} in QuickBooks (webhook, or the change data "
            f"capture poll); {carries}.")


TRIGGERS = tuple(
    Trigger(name=trigger_name(entity, operation), summary=_summary(entity, operation),
            event_schema=_schema(entity, operation), sample=_sample(entity, operation),
            source_id_path="$.entity_id", fetch=fetch, entity=entity, changed_at_path="$.changed_at")
    for entity, operations in TRIGGERED.items() for operation in operations)
