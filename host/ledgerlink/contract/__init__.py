"""The connector contract: everything a connector package imports from the host.

A connector is a pluggy plugin (:data:`hookimpl`, the hooks in :mod:`ledgerlink.contract.hookspecs`)
that registers the components below. An action yields :class:`Request`, :class:`LinkQuery`
or a file effect (:class:`WriteFile`, :class:`AppendFile`) and gets back :class:`Response`
or :class:`FileResult`.
"""

from ledgerlink import hookimpl
from ledgerlink.contract.limits import Limits
from ledgerlink.contract.components import (Request, LinkQuery, Response, Connection, ActionContext,
                                            IncomingEvent, Webhook, Poll, OAuth2, Connector,
                                            Trigger, Action, Transform)
from ledgerlink.contract.effects import AppendFile, FileEffect, FileResult, WriteFile
from ledgerlink.contract.tenants import choose_tenant

__all__ = ["hookimpl", "Limits", "Request", "LinkQuery", "Response", "Connection", "ActionContext",
           "IncomingEvent", "Webhook", "Poll", "OAuth2", "Connector", "Trigger", "Action", "Transform",
           "AppendFile", "FileEffect", "FileResult", "WriteFile", "choose_tenant"]
