"""The Stripe connector's webhook callbacks: verify the signature, then parse the event.

The host calls :func:`verify_webhook` with the raw body before anything else, then
:func:`parse_webhook`. A Stripe webhook body holds exactly one event (a "snapshot" event:
``{"id": "evt_…", "object": "event", "type": "invoice.paid", "data": {"object": {…}}}``).
Its trigger is ``"stripe." + type``; events of types no trigger is registered for still
parse: the host stores and acknowledges them, starts no run, and answers with the reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import IncomingEvent
from ledgerlink.errors import ConfigError, EventError, SignatureError

from . import signature

#: secret settings that hold signing secrets
SECRET_KEYS = ("webhook_secret", "webhook_secrets")
_ENV_REF = re.compile(r"^\$\{[^}]*\}$")
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def header_value(headers: Mapping[str, Any], name: str) -> str | None:
    """``headers[name]`` looked up without regard to case, for any mapping (``None`` if absent)."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == wanted:
                value = candidate
                break
    if isinstance(value, (list, tuple)):  # a multi-value mapping: Stripe sends one header
        value = value[0] if len(value) == 1 else ",".join(str(v) for v in value)
    return value


def signing_secrets(secrets: Mapping[str, Any]) -> list[str]:
    """The signing secrets of a connection: ``webhook_secret`` then ``webhook_secrets``.

    Empty values are dropped. Raises :class:`~ledgerlink.errors.SignatureError` when none
    is left (an unsigned Stripe webhook is never accepted) and
    :class:`~ledgerlink.errors.ConfigError` when a value is not a string or is an
    unresolved ``${ENV_VAR}`` reference.
    """
    found: list[str] = []
    for key in SECRET_KEYS:
        value = secrets.get(key)
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for i, item in enumerate(values):
            where = key if key == "webhook_secret" else f"{key}[{i}]"
            if not isinstance(item, str):
                raise ConfigError(f"the Stripe connection's {where} must be a string "
                                  f"(the endpoint's signing secret, whsec_…), "
                                  f"not {type(item).__name__}")
            item = item.strip()
            if _ENV_REF.fullmatch(item):
                raise ConfigError(f"the Stripe connection's {where} is still the reference {item}; "
                                  f"it was not read from the environment")
            if item and item not in found:
                found.append(item)
    if not found:
        raise SignatureError("this Stripe connection has no webhook signing secret, and unsigned "
                             "Stripe webhooks are never accepted; set webhook_secret = "
                             "\"${STRIPE_WEBHOOK_SECRET}\" on the connection and export the "
                             "endpoint's signing secret (whsec_…) in that variable")
    return found


def tolerance_from(settings: Mapping[str, Any]) -> int:
    """``tolerance_seconds`` from the connection's settings (default 300)."""
    value = settings.get("tolerance_seconds", signature.DEFAULT_TOLERANCE)
    if value is None:
        return signature.DEFAULT_TOLERANCE
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"the Stripe connection's tolerance_seconds must be a positive whole "
                          f"number of seconds, not {value!r}")
    return value


def verify_webhook(headers: Mapping[str, Any], body: bytes, secrets: Mapping[str, Any],
                   now: float) -> None:
    """The connector's ``Webhook.verify``: raise SignatureError unless Stripe signed ``body``.

    ``secrets`` is the connection's resolved secret settings (``webhook_secret`` and/or
    ``webhook_secrets``); ``tolerance_seconds`` is read from it too when present.
    """
    header = header_value(headers, signature.HEADER)
    signature.verify(header, body, signing_secrets(secrets), tolerance=tolerance_from(secrets),
                     now=now)


def _load(body: bytes | str) -> Any:
    try:
        return jsonio.loads(body)
    except UnicodeDecodeError as exc:
        raise EventError(f"the Stripe webhook body is not UTF-8 text (byte {exc.start} cannot be "
                         f"decoded); Stripe sends JSON in UTF-8") from None
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"the Stripe webhook body is not valid JSON: {exc.msg} at line "
                         f"{exc.line}, column {exc.column}", line=exc.line,
                         column=exc.column) from None


def event_from_payload(payload: Any) -> IncomingEvent:
    """An :class:`IncomingEvent` from a decoded Stripe event object; EventError if it is not one."""
    if not isinstance(payload, dict):
        raise EventError(f"a Stripe webhook body must be a JSON object (an event), "
                         f"not a JSON {_json_type(payload)}")
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise EventError(f"a Stripe event needs an \"id\" string starting with \"evt_\", "
                         f"got {_short(event_id)}")
    event_type = payload.get("type")
    if not isinstance(event_type, str) or not _TYPE.fullmatch(event_type):
        raise EventError(f"Stripe event {event_id} needs a \"type\" such as \"invoice.paid\", "
                         f"got {_short(event_type)}")
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise EventError(f"Stripe event {event_id} ({event_type}) needs \"data\": {{\"object\": "
                         f"{{…}}}} holding the object the event is about")
    return IncomingEvent(id=event_id, trigger=f"stripe.{event_type}", payload=payload)


def parse_webhook(headers: Mapping[str, Any], body: bytes) -> list[IncomingEvent]:
    """The connector's ``Webhook.parse``: the one event in a Stripe webhook body.

    Raises :class:`~ledgerlink.errors.EventError` when the body is not UTF-8 JSON (the
    message gives the line and column) or not a Stripe event.
    """
    event = event_from_payload(_load(body))
    # the body is this one event: the host may store Stripe's own bytes instead of re-encoding
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    return [dataclasses.replace(event, raw=raw)]


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _short(value: Any) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


__all__ = ["event_from_payload", "header_value", "parse_webhook", "signing_secrets",
           "tolerance_from", "verify_webhook"]
