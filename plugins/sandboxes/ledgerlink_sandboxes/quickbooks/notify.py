"""What the sandbox tells about changes: change data capture and webhook notifications.

Every create, update, void and delete is recorded in the company's change log (a
:class:`Change`). From it:

- :func:`cdc` answers ``GET /v3/company/<realm>/cdc?entities=…&changedSince=…`` as QBO does
  (Intuit docs: change data capture): the entities changed since then, whole, a deleted one
  as ``{"Id", "status": "Deleted", "MetaData"}``; at most 1,000 objects (the oldest changes
  first);
  ``changedSince`` more than 30 days back is refused; entities CDC does not serve
  (TaxCode, …) are refused.
- :func:`emitter` POSTs signed webhook notifications (Intuit docs: webhooks) to a configured
  URL, through the sandbox base's :class:`~ledgerlink.testing.sandbox_webhooks.WebhookEmitter`:
  ``intuit-signature`` = base64(HMAC-SHA256(verifier token, body)), in the legacy
  ``eventNotifications`` format (one POST may hold several companies) or as a CloudEvents
  array (at most 100 events a POST). Like QBO it holds later notifications until the
  first is acknowledged with a 2xx within 3 seconds, and retries a delivery on the
  schedule 0 s, 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h (which a
  test may compress).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ledgerlink.testing.sandbox_webhooks import WebhookEmitter, hmac_signature

from . import faults

#: QBO's retry schedule for a webhook that was not acknowledged (seconds after the failure)
RETRY_SCHEDULE = (0.0, 10.0, 20.0, 30.0, 300.0, 1200.0, 7200.0, 14400.0, 21600.0)
#: a notification must be acknowledged within this many seconds
ACK_SECONDS = 3.0
#: CloudEvents per POST
MAX_EVENTS = 100
#: objects per CDC answer
CDC_MAX = 1000
#: entities change data capture does not serve
CDC_UNSUPPORTED = ("JournalCode", "TaxAgency", "TimeActivity", "TaxCode", "TaxRate")
#: legacy operation → CloudEvents verb
VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided",
         "Merge": "merged", "Emailed": "emailed"}


@dataclass(frozen=True)
class Change:
    """One change in one company: an entity (QBO's name), its Id, the operation, when."""

    realm: str
    entity: str
    id: str
    operation: str
    at: str


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def cdc(company: Any, changes: list[Change], entities_arg: str | None, since_arg: str | None,
        now: datetime, kinds: dict[str, Any]) -> dict[str, Any]:
    """The body of a CDC answer. Raises a ``QboFault`` for a request QBO would refuse."""
    if not entities_arg:
        raise faults.validation("Request has invalid or unsupported property", "2010",
                                "Property Name:entities specified is unsupported or invalid: "
                                "name the entities, e.g. entities=Invoice,Payment", "entities")
    if not since_arg:
        raise faults.validation("Request has invalid or unsupported property", "2010",
                                "Property Name:changedSince specified is unsupported or invalid: "
                                "give an ISO 8601 time", "changedSince")
    try:
        since = _moment(since_arg.replace(" ", "+"))
    except ValueError:
        raise faults.validation("Request has invalid or unsupported property", "2010",
                                f"Property Name:changedSince {since_arg!r} is not an ISO 8601 time",
                                "changedSince") from None
    if since < now - timedelta(days=30):
        raise faults.validation("Request has invalid or unsupported property", "2010",
                                "Property Name:changedSince cannot be more than 30 days in the past",
                                "changedSince")
    names = []
    for raw in entities_arg.split(","):
        kind = kinds.get(raw.strip().lower())
        if kind is None or kind.name in CDC_UNSUPPORTED:
            raise faults.validation("Request has invalid or unsupported property", "2010",
                                    f"Property Name:entities {raw.strip()!r} is not supported by "
                                    f"change data capture", "entities")
        names.append(kind.name)
    found: list[tuple[datetime, str, dict[str, Any]]] = []
    for name in names:
        for row in company.all(name.lower()):
            changed = _moment(row["MetaData"]["LastUpdatedTime"])
            if changed >= since:
                found.append((changed, name, row))
        gone = {c.id: c for c in changes if c.entity == name and c.operation == "Delete" and _moment(c.at) >= since}
        for change in gone.values():
            if company.get(name.lower(), change.id) is None:
                found.append((_moment(change.at), name, {"domain": "QBO", "status": "Deleted", "Id": change.id,
                                                         "MetaData": {"LastUpdatedTime": change.at}}))
    found.sort(key=lambda item: item[0])
    found = found[:CDC_MAX]
    blocks = []
    for name in names:
        rows = [row for _, entity, row in found if entity == name]
        blocks.append({name: rows, "startPosition": 1, "maxResults": len(rows)})
    return {"CDCResponse": [{"QueryResponse": blocks}]}


# --- webhooks ---------------------------------------------------------------------------------

def signature(body: bytes, token: str) -> str:
    """``intuit-signature``: base64 of HMAC-SHA256 over the body, keyed with the verifier token."""
    return hmac_signature(token, body, "base64")


def legacy_body(changes: list[Change]) -> bytes:
    by_realm: dict[str, list[dict[str, str]]] = {}
    for change in changes:
        by_realm.setdefault(change.realm, []).append(
            {"name": change.entity, "id": change.id, "operation": change.operation,
             "lastUpdated": _moment(change.at).strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    return json.dumps({"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": entities}}
                                              for realm, entities in by_realm.items()]},
                      separators=(",", ":")).encode("utf-8")


def cloudevents_body(changes: list[Change]) -> bytes:
    return json.dumps([{
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "intuit.sandbox",
        "type": f"qbo.{change.entity.lower()}.{VERBS.get(change.operation, change.operation.lower())}.v1",
        "datacontenttype": "application/json", "time": _moment(change.at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "intuitentityid": change.id, "intuitaccountid": change.realm, "data": {}} for change in changes],
        separators=(",", ":")).encode("utf-8")


FORMATS = {"legacy": (legacy_body, "application/json"),
           "cloudevents": (cloudevents_body, "application/cloudevents+json")}


def emitter(url: str, verifier_token: str, format: str = "legacy", batch: int = 30,
            retry_schedule: tuple[float, ...] = RETRY_SCHEDULE) -> WebhookEmitter[Change]:
    """A started emitter of change notifications to ``url`` in ``format``, signed with
    ``verifier_token``, at most ``batch`` changes a POST (100 at most, as QBO sends)."""
    if format not in FORMATS:
        raise ValueError(f"webhook format must be 'legacy' or 'cloudevents', got {format!r}")
    render, content_type = FORMATS[format]
    return WebhookEmitter(url, render, lambda body: {"intuit-signature": signature(body, verifier_token)},
                          content_type=content_type, batch=max(1, min(int(batch), MAX_EVENTS)),
                          retry_schedule=retry_schedule, ack_seconds=ACK_SECONDS)


__all__ = ["Change", "FORMATS", "cdc", "cloudevents_body", "emitter", "legacy_body", "signature"]
