"""Xero's official Python SDK (``xero-python``) as a reader of the bodies the connector builds.

Not a test module. :func:`sdk_reads` hands a request body to the SDK's own deserialiser
(its ``accounting`` models): a wrong type or an enum value Xero does not have fails there.
The SDK drops a field its model lacks without a word, so the model is serialised back and
every field of the body must survive. One pinned difference: the SDK reads a date field
only as Xero answers it (``/Date(ms+0000)/``) — it takes a full ``YYYY-MM-DD`` for a
``YYYY-MM`` month and fails (:func:`test_the_sdk_reads_dates_only_as_xero_answers_them` in
``test_xero_actions.py`` pins this) — so each date the connector sends as ``YYYY-MM-DD``
(what Xero's documentation shows) is given to it as the same day at midnight UTC.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from typing import Any

from xero_python.api_client import ModelFinder
from xero_python.api_client.deserializer import deserialize
from xero_python.api_client.serializer import serialize

FINDER = ModelFinder(importlib.import_module("xero_python.accounting.models"))
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def as_answered(value: Any) -> Any:
    """``value`` with every ``YYYY-MM-DD`` string as Xero answers that day (``/Date(ms+0000)/``)."""
    if isinstance(value, dict):
        return {key: as_answered(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_answered(item) for item in value]
    if isinstance(value, str) and _ISO_DATE.match(value):
        day = dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)
        return f"/Date({int(day.timestamp() * 1000)}+0000)/"
    return value


def _kept(sent: Any, back: Any, where: str) -> list[str]:
    """Where a field of ``sent`` is missing from ``back`` (the SDK dropped it)."""
    lost = []
    if isinstance(sent, dict):
        for key, value in sent.items():
            if not isinstance(back, dict) or key not in back:
                lost.append(f"{where}/{key}")
            else:
                lost += _kept(value, back[key], f"{where}/{key}")
    elif isinstance(sent, list) and isinstance(back, list):
        for index, (one, other) in enumerate(zip(sent, back)):
            lost += _kept(one, other, f"{where}/{index}")
    return lost


def sdk_reads(model: str, body: dict[str, Any]) -> Any:
    """The SDK's ``model`` (``"Invoices"``, ``"Contacts"`` …) read from ``body``; raises
    ValueError when the SDK cannot read it or drops one of its fields."""
    read = deserialize(model, as_answered(body), FINDER)
    lost = _kept(as_answered(body), serialize(read), "")
    if lost:
        raise ValueError(f"xero-python's {model} has no field {', '.join(lost)}")
    return read


__all__ = ["FINDER", "as_answered", "sdk_reads"]
