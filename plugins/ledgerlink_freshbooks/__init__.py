"""The built-in FreshBooks connector: an ordinary ledgerlink plugin.

It is listed under the ``ledgerlink`` entry-point group (``freshbooks =
"ledgerlink_freshbooks"``) and registers, through the same hooks a third-party package uses,
the ``freshbooks`` connector.

Modules:

- :mod:`.settings` (a connection's settings, FreshBooks' addresses and the default rate).
"""

from __future__ import annotations

from ledgerlink import hookimpl
from ledgerlink.contract import Connector, Limits

from .settings import (DEFAULT_CONCURRENT, DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_SETTINGS,
                       SECRET_SETTINGS, SETTINGS_SCHEMA)

CONNECTOR = Connector(
    name="freshbooks",
    summary="FreshBooks: one business's clients, invoices, payments, credit notes and expenses, "
            "exact to the last digit.",
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    default_settings=DEFAULT_SETTINGS,
    # FreshBooks publishes no limits: a conservative default per business (settings.py)
    limits=Limits(DEFAULT_REQUESTS_PER_MINUTE, 60.0, concurrent=DEFAULT_CONCURRENT),
)


@hookimpl
def ledgerlink_register_connectors(register):
    """Register the ``freshbooks`` connector."""
    register(CONNECTOR)
