"""The built-in Xero connector: an ordinary ledgerlink plugin.

It is listed under the ``ledgerlink`` entry-point group (``xero = "ledgerlink_xero"``) and
registers, through the same hooks a third-party package uses, the ``xero`` connector.

Modules: :mod:`.settings` (a connection's settings and Xero's addresses); :mod:`.webhook`
(signed deliveries, Intent to Receive), :mod:`.triggers` (invoices, contacts and credit
notes created or updated, each fetched whole) and :mod:`.polling` (the same events without
webhooks).
"""

from __future__ import annotations

from ledgerlink import hookimpl
from ledgerlink.contract import Connector, Limits

from .settings import DEFAULT_SETTINGS, SECRET_SETTINGS, SETTINGS_SCHEMA
from . import polling, triggers, webhook

CONNECTOR = Connector(
    name="xero",
    summary="Xero (Accounting API 2.0): one organisation's contacts, invoices, payments and "
            "journals, exact to the last digit.",
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    default_settings=DEFAULT_SETTINGS,
    webhook=webhook.WEBHOOK,
    poll=polling.POLL,
    # Xero's per-organisation limits: 60 calls a minute, 5 in progress at once, 5,000 a day
    # (https://developer.xero.com/documentation/guides/oauth2/limits)
    limits=Limits(60, 60.0, concurrent=5, daily=5000),
)


@hookimpl
def ledgerlink_register_connectors(register):
    """Register the ``xero`` connector."""
    register(CONNECTOR)


#: the triggers register through the hook of their own module
ledgerlink_register_triggers = triggers.ledgerlink_register_triggers
