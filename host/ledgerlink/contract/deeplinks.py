"""Deep links: the web address, in the vendor's own application, of an entity a connector
created or of the source object an event is about (``Connector.entity_url``).

A connector answers ``entity_url(EntityRef) -> str | None``: the page where a person sees
the entity (a QuickBooks invoice, a Stripe payout), or None when its vendor has no such page
for that kind. The host asks it for a run's source object and for every entity the run wrote
(:mod:`ledgerlink.engine.deeplinks`), so a sync log links both ends of each run. The answer
must start with ``https://`` (``http://`` only for a sandbox on loopback); anything else,
and any exception, gives no link. An address is built from the entity's id and the
connection's non-secret settings, never from a secret.

Most connectors need only a table: :func:`url_table` builds ``entity_url`` from a base
address per connection and one path template per kind::

    entity_url=url_table(lambda ref: "https://app.acme.test",
                         {"note": "/notes/{id}", "customer": "/customers/{id}"})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["EntityRef", "EntityUrl", "url_table", "usable_url"]


@dataclass(frozen=True)
class EntityRef:
    """One entity at a vendor, as the host knows it when it asks for its address."""

    #: the kind, as the connector declares it (``Action.entity``, ``Trigger.entity``):
    #: ``"Invoice"``, ``"payout"``; for a source object whose trigger declares none, the
    #: trigger's name (``"acme.payment.received"``)
    kind: str
    #: the entity's id at the vendor
    id: str
    #: the connection's non-secret settings, with what its OAuth consent taught (a realm,
    #: an account id): never a secret
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: the event the object came in, for a run's source object (what the vendor said about
    #: it beyond its id: Stripe's ``livemode``); None for an entity a step wrote
    event: Mapping[str, Any] | None = None


#: what ``Connector.entity_url`` is
EntityUrl = Callable[[EntityRef], "str | None"]


def usable_url(url: Any) -> str | None:
    """``url`` when it is an address a page may link to (``https://``, or ``http://`` for a
    sandbox), else None: a ``javascript:`` or relative answer never becomes a link."""
    if not isinstance(url, str) or any(c in url for c in '\r\n\t "<>\\'):
        return None
    return url if url.startswith(("https://", "http://")) and len(url) > len("https://") else None


def url_table(base: Callable[[EntityRef], str | None], paths: Mapping[str, str]) -> EntityUrl:
    """An ``entity_url`` from ``base(ref)`` (the application's address for the connection,
    no trailing slash; None: no link) and ``paths`` (per kind, a template with ``{id}``, and
    ``{setting}`` for any non-secret setting it names). Values are percent-encoded; a kind
    not in ``paths``, or a template naming a setting the connection lacks, gives None."""
    def entity_url(ref: EntityRef) -> str | None:
        template = paths.get(ref.kind)
        root = base(ref) if template is not None else None
        if template is None or not root or not ref.id:
            return None
        values = {key: quote(str(value), safe="") for key, value in ref.settings.items()
                  if isinstance(value, (str, int)) and not isinstance(value, bool)}
        values["id"] = quote(ref.id, safe="")
        try:
            return root.rstrip("/") + template.format_map(values)
        except (KeyError, IndexError, ValueError):
            return None

    return entity_url
