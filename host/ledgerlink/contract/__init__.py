"""The connector contract: everything a connector package imports from the host.

A connector is a pluggy plugin (:data:`hookimpl`, the hooks in :mod:`ledgerlink.contract.hookspecs`)
that registers the components below.
"""

from ledgerlink import hookimpl
from ledgerlink.contract.limits import Limits
from ledgerlink.contract.components import (Request, LinkQuery, Response, Connection, ActionContext,
                                            IncomingEvent, Webhook, Poll, OAuth2, Connector,
                                            Trigger, Action, Transform, Sandbox)

__all__ = ["hookimpl", "Limits", "Request", "LinkQuery", "Response", "Connection", "ActionContext",
           "IncomingEvent", "Webhook", "Poll", "OAuth2", "Connector", "Trigger", "Action", "Transform",
           "Sandbox"]
