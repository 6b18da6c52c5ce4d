"""ledgerlink.testing: the kit a connector's tests use, the built-in ones and any other.

- :mod:`.actions`: drive an action's generator (``perform``, ``find_existing``, ``undo``,
  a trigger's ``fetch``, a poll) by hand against scripted answers, a callable or a sandbox
  over HTTP, collecting what it requested; read a webhook delivery as the host does;
- :mod:`.conformance`: :class:`ConnectorConformance`, the checks every connector passes,
  run by subclassing it in one line;
- :mod:`.fixtures`: pytest fixtures, loaded with ``pytest_plugins =
  ["ledgerlink.testing.fixtures"]`` in the top conftest;
- :mod:`.databases`, :mod:`.processes`, :mod:`.expressions`: a migrated database, the CLI and
  the service as subprocesses, recipe expressions compiled outside a recipe;
- :mod:`.sandbox` (with :mod:`.sandbox_oauth`, :mod:`.sandbox_webhooks` and
  :mod:`.sandbox_flask`): the base vendor sandboxes are built on: a loopback server runner,
  rate windows, idempotency-key replay, scripted faults, an OAuth 2.0 token endpoint, a signed
  webhook emitter and the Flask response of a reply.

The host never imports it. Only :mod:`.conformance` and :mod:`.fixtures` need pytest (the
``test`` extra), so :class:`ConnectorConformance` is imported on first use: a sandbox served
outside a test run imports the rest without pytest installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledgerlink.testing.actions import (Driven, HttpSender, LinkTable, Polled, Script, context, drive,
                                        first_request, over_http, poll, read_webhook,
                                        response_of, signed_headers)

if TYPE_CHECKING:
    from ledgerlink.testing.conformance import ConnectorConformance

__all__ = ["ConnectorConformance", "Driven", "HttpSender", "LinkTable", "Polled", "Script", "context", "drive",
           "first_request", "over_http", "poll", "read_webhook", "response_of", "signed_headers"]


def __getattr__(name: str) -> type[ConnectorConformance]:
    if name == "ConnectorConformance":
        from ledgerlink.testing.conformance import ConnectorConformance

        return ConnectorConformance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
