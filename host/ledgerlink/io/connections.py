"""Connections: the one place that turns a connection name into a way to send.

A connection is configured in ``ledgerlink.toml`` (settings, secrets as ``${ENV_VAR}``);
an OAuth connection adds what its consent told (a tenant id) and its tokens, stored
encrypted (:class:`ledgerlink.io.secrets.SecretBox`) and refreshed by
:mod:`ledgerlink.io.oauth`. :meth:`Connections.transport` is how a worker sends: through
the governor, authenticated, with secrets redacted from what is recorded;
:meth:`Connections.sender` is how a command sends outside a run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import httpx

from ledgerlink import jsonio
from ledgerlink.config import Config
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.contract import Connection, FileEffect, FileResult, Limits, LinkQuery, Request, Response
from ledgerlink.contract.mail import MailResult, SendMail
from ledgerlink.contract import reports
from ledgerlink.contract.reports import RunsQuery
from ledgerlink.errors import NotSent, OutcomeUnknown, VendorError
from ledgerlink.io import files, mail, outbound
from ledgerlink.contract.reconcile import ReconcileQuery
from ledgerlink.io.governor import Governor, heed
from ledgerlink.io.http_pool import HttpPool
from ledgerlink.io.secrets import SecretBox
from ledgerlink.store import Store

#: ``send(request) -> response``: a Request goes to the vendor, a LinkQuery to the links table,
#: a FileEffect to :mod:`ledgerlink.io.files`, a SendMail to :mod:`ledgerlink.io.mail`, a RunsQuery to the run store
Transport = Callable[[Request | LinkQuery | RunsQuery | FileEffect | SendMail], Response | FileResult | MailResult]
#: ``send(request) -> response`` outside a run: a Request to the vendor, a FileEffect to its
#: file, a SendMail to its SMTP server
Sender = Callable[[Request | FileEffect | SendMail], Response | FileResult | MailResult]


class Counters(Protocol):
    """Where counters for /metrics are added (:class:`ledgerlink.engine.counters.Metrics`)."""

    def add(self, name: str, amount: float) -> None: ...


class Connections:
    """Connection settings, secrets, credentials and senders, by connection name.

    ``wake`` is called when a connection's paused runs may go on again (it was connected
    again); the runtime hands in the call that wakes its workers.
    """

    def __init__(self, catalog: Catalog, config: Config, store: Store, client: httpx.Client,
                 governor: Governor, metrics: Counters, wake: Callable[[], None],
                 max_governor_wait: float = 10.0, pool: HttpPool | None = None) -> None:
        self.catalog = catalog
        self.config = config
        self.store = store
        #: for what is not an action's request (an OAuth token endpoint's form)
        self.client = client
        #: the kept-alive connections every action's request goes out on
        self.pool = pool if pool is not None else outbound.new_pool()
        self.governor = governor
        self.metrics = metrics
        self.wake = wake
        #: how long a request may wait for a governor slot before Throttled is raised
        self.max_governor_wait = max_governor_wait
        self.secret_box = SecretBox(store)
        #: the wall clock OAuth tokens expire by (tests give a simulated one)
        self.clock: Callable[[], float] = time.time
        #: ``reconciler(query) -> report``: runs a reconciliation an action asked for
        #: (:class:`~ledgerlink.contract.reconcile.ReconcileQuery`); set by the runtime
        self.reconciler: Callable[[ReconcileQuery], Any] | None = None
        self._connections: dict[str, Connection] = {}

    def connection(self, name: str) -> Connection:
        """The connection's settings: ledgerlink.toml, then what its OAuth consent told (realm),
        stored with the tokens of its token set."""
        connection = self._connections.get(name)
        if connection is None:
            from ledgerlink.io.oauth import learned_settings, token_set

            connection = self.config.connection(name, self.catalog)
            connector = self.catalog.connectors[connection.connector]
            if connector.oauth is not None and self.secret_box.enabled:
                owner = token_set(self, name)
                learned = learned_settings(self.secret_box.get(owner), name, owner)
                if learned:
                    connection = replace(connection, settings={**connection.settings, **learned})
            self._connections[name] = connection
        return connection

    def forget(self, name: str) -> None:
        """Drop what is cached about a connection and the others on its token set (after it
        was connected again)."""
        from ledgerlink.io.oauth import sharing

        for each in sharing(self, name) + [name]:
            self._connections.pop(each, None)

    def secrets(self, name: str) -> dict[str, Any]:
        """Configured secrets (from the environment) overlaid with stored tokens, refreshed
        when they are about to expire. Raises NeedsReauth for a connection that must be
        connected again."""
        from ledgerlink.io.tokens import fresh_secrets

        values = self.config.secrets(name, self.catalog) if name in self.config.connections else {}
        if not self.secret_box.enabled:
            return values
        connector = self.catalog.connectors[self.connection(name).connector]
        if connector.oauth is not None:
            return fresh_secrets(self, name, values)
        values.update(self.secret_box.get(name))
        return values

    def expire(self, name: str) -> bool:
        """The vendor refused the access token of connection ``name``: refresh its stored
        token before the next request. False (nothing stored to refresh) when no secret key
        is set."""
        if not self.secret_box.enabled:
            return False
        from ledgerlink.io.tokens import expire

        expire(self, name)
        return True

    def credentials(self, name: str) -> tuple[dict[str, str], list[str]]:
        """The headers that authenticate a request on connection ``name``, and every secret
        value to redact from what is logged of it."""
        secrets = self.secrets(name)
        connector = self.catalog.connectors[self.connection(name).connector]
        auth = dict(connector.auth(self._with_auth_settings(name, secrets))) if connector.auth else {}
        return auth, [v for v in secrets.values() if isinstance(v, str)]

    def _with_auth_settings(self, name: str, secrets: dict[str, Any]) -> dict[str, Any]:
        """``secrets`` and the settings the connector's ``auth_settings`` names (not secret)."""
        connection = self.connection(name)
        connector = self.catalog.connectors[connection.connector]
        settings = {key: connection.settings[key] for key in connector.auth_settings
                    if key in connection.settings}
        return {**secrets, **settings}

    def limits(self, name: str) -> Limits | None:
        """The vendor's limits for connection ``name``: the connector's, or those its
        ``limits_for`` gives for the connection's credentials (``[connections.NAME.limits]``
        in the configuration overrides either, see :meth:`Config.limits`)."""
        connector = self.catalog.connectors[self.connection(name).connector]
        if connector.limits_for is None:
            return connector.limits
        return connector.limits_for(self._with_auth_settings(name, self.secrets(name)))

    def transport(self, name: str, sent: list[outbound.Sent] | None = None) -> Transport:
        """``send(request) -> response`` on connection ``name`` as a worker sends: through the
        governor, authenticated, a ``LinkQuery`` answered from the links table, a file effect
        performed by :mod:`ledgerlink.io.files`, a ``SendMail`` sent (governed) by :mod:`ledgerlink.io.mail`; each request's redacted record is appended to ``sent``. Raises Throttled when no slot
        frees within ``max_governor_wait``. Each answer is heeded (:func:`ledgerlink.io.governor.heed`):
        a 429 pauses the connection, the allowance the vendor says is left narrows the governor's counts."""
        connection = self.connection(name)
        auth, secret_values = self.credentials(name)
        connector = self.catalog.connectors[connection.connector]
        governor_key = f"{connection.connector}:{connection.name}"
        limits = self.config.limits(connection.name, self.limits(name))
        records = sent if sent is not None else []
        sign = self.signer(name)

        def send(request: Request | LinkQuery | RunsQuery | FileEffect | SendMail) -> Response | FileResult | MailResult:
            if isinstance(request, LinkQuery):
                target = self.store.linked_target(connection.name, request.source_id, request.target_type)
                return Response(status=200, json={"target_id": target})
            if isinstance(request, RunsQuery):  # the host's own record, read-only
                return Response(status=200, json=self.runs_window(request))
            if isinstance(request, ReconcileQuery) and self.reconciler is not None:  # the host's own work
                return Response(status=200, json=self.reconciler(request))
            if isinstance(request, FileEffect):  # not HTTP: the host writes the file, ungoverned
                return files.perform_logged(request, connection.settings, secret_values, records)
            if isinstance(request, SendMail):  # not HTTP: the host sends the message over SMTP
                with self.governor.slot(governor_key, limits, max_wait=self.max_governor_wait):
                    return mail.perform_logged(request, connection.settings, self.secrets(name), records)
            request = self.addressed(name, request)
            # the governor also holds back a connector without published limits after a Retry-After
            with self.governor.slot(governor_key, limits, max_wait=self.max_governor_wait):
                try:
                    response, record = outbound.send(self.pool, request, auth, secret_values, sign,
                                                     connector.signed_headers)
                except (NotSent, OutcomeUnknown) as exc:
                    if exc.sent is not None:
                        records.append(exc.sent)  # the run log shows what was attempted
                    raise
            records.append(record)
            self.metrics.add("requests_sent", 1)
            if heed(self.governor, governor_key, limits, response.status, response.headers,
                    connector.read_remaining):
                self.metrics.add("responses_throttled", 1)
            return response

        return send

    def runs_window(self, query: RunsQuery) -> dict[str, Any]:
        """The answer to a :class:`RunsQuery`: the window's runs, and the latest reconciliation."""
        latest = self.store.cursor(reports.LATEST_RECONCILIATION)
        return {**self.store.window(query.since, query.until, reports.MAX_FAILURES),
                "reconciliation": reports.reconciliation_summary(jsonio.loads(latest)) if latest else None}

    def sender(self, name: str) -> Sender:
        """``send(request) -> response`` on connection ``name``, for requests (and file
        effects) outside a run (``ledgerlink check``, ``runs undo``)."""
        auth, values = self.credentials(name)
        settings = self.connection(name).settings
        sign = self.signer(name)

        def send(request: Request | FileEffect | SendMail) -> Response | FileResult | MailResult:
            if isinstance(request, FileEffect):
                return files.perform(request, settings)
            if isinstance(request, SendMail):
                return mail.perform(request, settings, self.secrets(name))
            return outbound.send(self.pool, self.addressed(name, request), auth, values, sign)[0]

        return send

    def addressed(self, name: str, request: Request) -> Request:
        """``request`` sent to the secret address it names (``Request.url_secret``), if any;
        the address is among the secrets redacted from what is logged."""
        if not request.url_secret:
            return request
        address = self.secrets(name).get(request.url_secret)
        if not isinstance(address, str) or not address.startswith(("https://", "http://")):
            raise VendorError(f"connection {name!r} sets no address in its secret {request.url_secret!r}; "
                              f"write it as ${{ENV_VAR}} in ledgerlink.toml and set that variable to the "
                              f"https:// address to send to")
        return replace(request, url=address)

    def signer(self, name: str) -> outbound.Signer | None:
        """``sign(body) -> headers`` for connection ``name`` when its connector signs its
        requests' bodies (``Connector.sign_request``), else None."""
        connector = self.catalog.connectors[self.connection(name).connector]
        if connector.sign_request is None:
            return None
        secrets = self._with_auth_settings(name, self.secrets(name))
        sign_request = connector.sign_request
        return lambda body: sign_request(body, secrets)

    def polled(self) -> list[str]:
        """Configured connections that poll (``poll_seconds`` set, connector with a poll)."""
        out = []
        for name, raw in self.config.connections.items():
            connector = self.catalog.connectors.get(raw.get("connector", ""))
            if connector is not None and connector.poll is not None and self.config.poll_seconds(name):
                out.append(name)
        return out
