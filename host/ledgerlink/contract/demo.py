"""What ``ledgerlink demo`` asks of a connector that keeps the books.

The demo starts the loopback sandbox of every connector that keeps the books — one that
declares :class:`Demo` (``Connector.demo``) and has a registered sandbox — configures a
connection to each, sends the source connectors' example webhooks and prints what reached
the ledger. :class:`Demo` says what the host needs to know of the vendor: the settings a connection needs against that
sandbox, what the table calls the entity a run booked, and how much a refused input was to
book.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Demo:
    """A connector's part in ``ledgerlink demo``."""

    #: the settings a connection needs against the connector's own loopback sandbox, besides
    #: ``address_setting`` (the demo fills in the sandbox's address). A secret one (named in
    #: ``Connector.secret_settings``) reaches the connection as an ``${ENV}`` reference, never
    #: written into the configuration file
    settings: Mapping[str, str] = field(default_factory=dict)
    #: the setting that holds the vendor's API address
    address_setting: str = "base_url"
    #: the title of the table's column that shows the id of what a run booked
    entry_title: str = "entry"
    #: ``amount(input) -> (total, currency)``: what an action's mapped input was to book,
    #: shown for a run refused before anything was sent; None when the input says neither
    amount: Callable[[Mapping[str, Any]], tuple[Decimal, str] | None] | None = None
