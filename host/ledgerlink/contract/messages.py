"""What an action's generator yields and receives: :class:`Request` (or :class:`LinkQuery`)
out, :class:`Response` back. Re-exported by :mod:`ledgerlink.contract.components` and
:mod:`ledgerlink.contract`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LinkQuery", "Request", "Response"]


@dataclass(frozen=True)
class Request:
    """A request an action wants sent. The host adds authentication and sends it.

    ``json`` may hold ``Decimal`` values; they are sent as exact JSON numbers. ``form`` is a
    body sent as ``application/x-www-form-urlencoded`` instead (the name/value pairs in
    order, a name repeated as often as it appears: ``expand[]=a&expand[]=b``); a request
    carries at most one of the two.
    """

    method: str
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    form: Sequence[tuple[str, str]] | None = None
    #: the secret setting whose value is the whole address to send to, for an address that is
    #: itself a credential (a chat's incoming-webhook URL): the host sends there and shows
    #: ``url`` (a label) with the address redacted. Empty: ``url`` is the address.
    url_secret: str = ""


@dataclass(frozen=True)
class LinkQuery:
    """Yielded by an action instead of a Request: "which entity of ``target_type`` did this
    connection create (or find) for ``source_id``?" The host answers from its links table
    with ``Response(200, json={"target_id": "…" | None})`` — no I/O in the action."""

    source_id: str
    target_type: str


@dataclass(frozen=True)
class Response:
    """The vendor's answer, given back to the action generator."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    text: str = ""
