"""FreshBooks' callbacks: the handshake, the signature over re-serialised form fields, the events.

FreshBooks calls its webhooks *callbacks* (https://www.freshbooks.com/api/webhooks):

- **Form fields, not JSON.** A delivery is a POST of ``application/x-www-form-urlencoded``
  fields: ``name`` (the event, e.g. ``payment.create``), ``object_id`` (the object's id),
  ``account_id``, ``business_id``, ``identity_id`` and ``user_id``. Ids only: the triggers
  fetch the object (:mod:`.triggers`).
- **The handshake.** Creating a callback makes FreshBooks POST a verification code
  (``verifier``) and the callback's id (``object_id``) to its address; the callback delivers
  nothing until the code is sent back (``PUT …/callbacks/{id}``, :mod:`.callbacks`). That code
  is the callback's signing secret from then on. The host keeps it pending
  (:mod:`ledgerlink.contract.subscriptions`); ``ledgerlink webhooks register`` confirms it and
  only then does it sign anything.
- **The signature.** ``X-FreshBooks-Hmac-SHA256`` is base64(HMAC-SHA256(key = the callback's
  verifier, message = Python's ``json.dumps`` of the form fields, in the order received, every
  value a string, default separators ``", "`` and ``": "``, non-ASCII escaped)). It is *not*
  computed over the raw body: the fields are decoded and serialised again exactly so. Each
  callback has its own verifier; a delivery is accepted when one of the connection's
  confirmed verifiers signs it.
- **Routing.** Every event names its business's ``account_id``: it is stored on the
  connection whose ``account_id`` setting is that one (``Webhook.tenant_setting``).

**Event ids.** FreshBooks gives a delivery no id. A creation is one event per object
(``{account_id}:{name}:{object_id}``): a redelivery is stored once. An update carries nothing
that tells two updates of one object apart, so each delivery is an event of its own (its id
ends with when it was read); the triggers make one occurrence of each *state* read
(``version``), so a redelivered update plans no second run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo
from urllib.parse import parse_qsl

from ledgerlink.contract import Handshake, IncomingEvent, Webhook, signing_secrets
from ledgerlink.errors import EventError, SignatureError

from .callbacks import SUBSCRIPTIONS

#: the header FreshBooks signs deliveries in
HEADER = "X-FreshBooks-Hmac-SHA256"
#: how FreshBooks sends deliveries
FORM = "application/x-www-form-urlencoded"
#: the connection setting naming the business a connection books into (its accounting id)
TENANT_SETTING = "account_id"
#: FreshBooks' objects with triggers → the trigger's word
OBJECTS = {"payment": "payment", "invoice": "invoice", "client": "client"}
#: FreshBooks' event verbs → the word used in trigger names and events (deletions are stored
#: and start nothing: no trigger is registered for them)
OPERATIONS = {"create": "created", "update": "updated", "delete": "deleted"}
#: what every event delivery carries
_REQUIRED = ("name", "object_id", "account_id")


def fields(body: bytes) -> list[tuple[str, str]]:
    """The form fields of a delivery, in the order sent; EventError when it is not a form."""
    try:
        text = bytes(body).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise EventError("a FreshBooks callback is form-encoded UTF-8 fields (name=…&object_id=…)") from None
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise EventError(f"a FreshBooks callback names each field once; {', '.join(repeated)} repeated")
    return pairs


def signed_text(pairs: list[tuple[str, str]]) -> str:
    """What FreshBooks signs: ``json.dumps`` of the fields, as Python writes it by default."""
    return json.dumps({name: str(value) for name, value in pairs})


def signature(pairs: list[tuple[str, str]], verifier: str) -> str:
    """The ``X-FreshBooks-Hmac-SHA256`` of the fields ``pairs`` under ``verifier``."""
    digest = hmac.new(verifier.encode("utf-8"), signed_text(pairs).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any], now: float) -> None:
    """Raise SignatureError unless a confirmed verifier of the connection signed the fields."""
    verifiers = signing_secrets(secrets)
    if not verifiers:
        raise SignatureError("this FreshBooks connection has no confirmed callback to check signatures "
                             "with; run `ledgerlink webhooks register NAME URL` while the server runs")
    given = headers.get(HEADER)
    if not given:
        raise SignatureError(f"no {HEADER} header; FreshBooks signs every callback delivery")
    pairs = fields(body)
    sent = given.strip().encode("ascii", "replace")
    matched = [hmac.compare_digest(sent, signature(pairs, v).encode("ascii")) for v in verifiers.values()]
    if not any(matched):
        raise SignatureError(f"the {HEADER} header matches none of the connection's callbacks; was the "
                             f"callback registered by another installation?")


def sign(body: bytes, secrets: Mapping[str, Any], now: float) -> dict[str, str]:
    """The headers FreshBooks would send with ``body`` (the first confirmed verifier signs)."""
    verifier = next(iter(signing_secrets(secrets).values()))
    return {HEADER: signature(fields(body), verifier), "Content-Type": FORM}


def handshake(headers: Mapping[str, str], body: bytes) -> Handshake | None:
    """The verification a new callback sends (``verifier`` and the callback's ``object_id``)."""
    try:
        found = dict(fields(body))
    except EventError:
        return None  # parse() says what is wrong with it
    verifier, callback = found.get("verifier", ""), found.get("object_id", "")
    if not verifier:
        return None
    if not callback.isdigit():
        raise EventError("a FreshBooks callback verification names its callback's id in object_id")
    return Handshake(subscription=callback, secret=verifier)


def version(data: Mapping[str, Any]) -> str | None:
    """``{id}@{updated}``: one state of one object, whoever read it; None without ``updated``."""
    if data.get("id") is None or not data.get("updated"):
        return None
    return f"{data['id']}@{data['updated']}"


#: the zone of FreshBooks' accounting times (``updated``): US/Eastern, written with no offset
#: ("for historical reasons, many resources in the FreshBooks API (mostly accounting-related)
#: return date/times in US/Eastern", the FreshBooks SDKs' data field notes,
#: https://freshbooks.github.io/freshbooks-nodejs-sdk/pages/guide/data_fields.html)
EASTERN = ZoneInfo("America/New_York")


def changed_at(data: Mapping[str, Any]) -> str | None:
    """When the object last changed (its ``updated``, US/Eastern) as ISO 8601 in UTC, or None
    without a readable ``updated``: the time the host compares with its own writes (an echo)."""
    try:
        wall = datetime.strptime(str(data.get("updated") or ""), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return wall.replace(tzinfo=EASTERN).astimezone(timezone.utc).isoformat()


def trigger_name(obj: str, operation: str) -> str:
    """``freshbooks.payment.created`` for (payment, created)."""
    return f"freshbooks.{OBJECTS.get(obj, obj)}.{operation}"


def notice(account: str, obj: str, object_id: str, operation: str, via: str,
           delivery: Mapping[str, str] | None = None, data: Any = None,
           received: float | None = None) -> IncomingEvent:
    """The event of one object created or updated, whichever way it was learned."""
    payload: dict[str, Any] = {"account_id": account, "object": obj, "object_id": object_id,
                               "operation": operation, "via": via, "data": data}
    if isinstance(data, Mapping):
        payload["changed_at"] = changed_at(data)
    if delivery is not None:
        payload["delivery"] = dict(delivery)
    verb = next(k for k, v in OPERATIONS.items() if v == operation)
    event_id = f"{account}:{obj}.{verb}:{object_id}"
    if operation == "updated":
        event_id += f"@{int((time.time() if received is None else received) * 1000)}"
    return IncomingEvent(id=event_id, trigger=trigger_name(obj, operation), payload=payload, tenant=account)


def parse(headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    """The one event of a (verified) delivery."""
    found = dict(fields(body))
    for name in _REQUIRED:
        if not found.get(name):
            raise EventError(f"a FreshBooks callback carries {name}; this one has none", pointer=f"/{name}")
    obj, _, verb = found["name"].rpartition(".")
    if not obj or not obj.replace("_", "").isalpha() or verb not in OPERATIONS:
        raise EventError(f"name {found['name']!r} is not a FreshBooks event (object.create|update|delete)",
                         pointer="/name")
    if not found["object_id"].isdigit():
        raise EventError(f"object_id {found['object_id']!r} is not a FreshBooks id", pointer="/object_id")
    return [notice(found["account_id"], obj, found["object_id"], OPERATIONS[verb], "callback", delivery=found)]


WEBHOOK = Webhook(verify=verify, parse=parse, sign=sign, tenant_setting=TENANT_SETTING,
                  content_types=(FORM,), handshake=handshake, subscriptions=SUBSCRIPTIONS)
