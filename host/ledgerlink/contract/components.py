"""What a connector hands the host and what it gets back: the component classes.

A plugin registers instances of :class:`Connector`, :class:`Trigger`, :class:`Action` and
:class:`Transform` (and a sandbox package :class:`Sandbox`; a connector's OAuth flows are an
:class:`~ledgerlink.contract.oauth2.OAuth2`) through the hooks of :mod:`ledgerlink.contract.hookspecs`; an action's
generator yields :class:`Request` (or :class:`LinkQuery`) and receives :class:`Response`;
a trigger turns a delivery into :class:`IncomingEvent`. The host checks each component when
it arrives (:mod:`ledgerlink.connectors.catalog`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from wsgiref.types import WSGIApplication

from ledgerlink.contract.demo import Demo, DemoSource
from ledgerlink.contract.limits import Limits, Remaining
from ledgerlink.contract import messages
from ledgerlink.contract.oauth2 import OAuth2
from ledgerlink.contract.subscriptions import Handshake, Subscriptions

if TYPE_CHECKING:
    from ledgerlink.contract.clock import Schedule, Tick
    from ledgerlink.contract.deeplinks import EntityRef
    from ledgerlink.contract.reconcile import Reconcile

STATUSES = ("stable", "beta")
_DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_CONNECTOR = re.compile(r"^[a-z][a-z0-9_]*$")
_TRANSFORM = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


# --- what actions yield and receive (defined in ledgerlink.contract.messages) -------------

Request, LinkQuery, Response = messages.Request, messages.LinkQuery, messages.Response


@dataclass(frozen=True)
class Connection:
    """A configured connection: which connector, and its non-secret settings."""

    name: str
    connector: str
    settings: Mapping[str, Any]
    #: True when no configuration named this connection and the connector's defaults are used
    implicit: bool = False
    #: the names (never the values) of the secret settings configured for this connection,
    #: e.g. ``frozenset({"api_key"})``: what a connector may do with it (``Trigger.fetch_for``)
    configured_secrets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ActionContext:
    """What an action knows besides its input. Never holds a secret."""

    connection: Connection
    #: derived from (recipe id, recipe version, event id, step id); put it where the vendor wants it
    idempotency_key: str
    recipe_id: str = ""
    recipe_version: int = 0
    step_id: str = ""
    event_id: str = ""


@dataclass(frozen=True)
class IncomingEvent:
    """One event parsed from a webhook body or a poll."""

    id: str
    #: the trigger's dotted name, e.g. ``stripe.invoice.paid``
    trigger: str
    payload: Mapping[str, Any]
    #: the payload's JSON text exactly as delivered, when the body is this one event
    #: (stored as is: no re-encoding, and the audit copy is the vendor's own bytes)
    raw: str | None = None
    #: the vendor's tenant the event belongs to (QuickBooks realm, Xero tenant), when one
    #: webhook endpoint serves several; the host stores it on the connection of that tenant
    tenant: str | None = None


# --- the things plugins register -----------------------------------------------------------

@dataclass(frozen=True)
class Webhook:
    """How a connector's webhooks are checked and read.

    ``verify(headers, body, secrets, now)`` raises :class:`ledgerlink.errors.SignatureError`
    unless the raw ``body`` is signed; ``headers`` is a case-insensitive mapping,
    ``secrets`` the connection's resolved secret settings, ``now`` a Unix time.
    ``parse(headers, body)`` returns the :class:`IncomingEvent` list in the body and raises
    :class:`ledgerlink.errors.EventError` when it cannot.
    """

    verify: Callable[[Mapping[str, str], bytes, Mapping[str, Any], float], None]
    parse: Callable[[Mapping[str, str], bytes], list[IncomingEvent]]
    #: ``sign(body, secrets, now) -> headers``: sign a body as the vendor would, for
    #: emitters, demos and tests (optional)
    sign: Callable[[bytes, Mapping[str, Any], float], Mapping[str, str]] | None = None
    #: the connection setting that names a tenant (QuickBooks: ``realm_id``). When set, an
    #: event whose ``tenant`` is another connection's is stored on that connection, since a
    #: vendor sends every tenant's events to the app's one endpoint.
    tenant_setting: str | None = None
    #: True when the vendor wants a stored delivery acknowledged by a 200 with an empty body
    #: (Xero refuses any other answer to its Intent to Receive); False: the host's JSON
    #: summary of what was stored
    empty_answer: bool = False
    #: the media types deliveries come as (``application/x-www-form-urlencoded`` for a vendor
    #: posting form fields); ``+json`` types are accepted with ``application/json``
    content_types: tuple[str, ...] = ("application/json",)
    #: ``handshake(headers, body) -> Handshake | None``: a delivery that carries a new
    #: subscription's secret instead of events (kept pending until confirmed, and answered
    #: 200); None for an ordinary delivery. See :mod:`ledgerlink.contract.subscriptions`.
    handshake: Callable[[Mapping[str, str], bytes], Handshake | None] | None = None
    #: how ``ledgerlink webhooks register`` subscribes a connection to the events it needs
    subscriptions: Subscriptions | None = None


@dataclass(frozen=True)
class Poll:
    """A cursor-based trigger source, for vendors (or setups) without webhooks.

    ``poll(cursor, ctx)`` is a generator like an action's ``perform``: it yields Requests
    (sent governed and authenticated on ``ctx.connection``), and returns ``(events,
    new_cursor)``. ``cursor`` is what the last successful poll returned, or None the first
    time. The host stores the events and the new cursor in one transaction, and a poll
    fires once across every process sharing the database. A connection polls when its
    ``[connections.NAME]`` table sets ``poll_seconds``. A poll may also return ``(events,
    new_cursor, warnings)``: each warning (a list of sentences, e.g. "events older than 30
    days are no longer listed: back-fill from …") is logged, counted and kept with the
    poll's record for ``ledgerlink status``, and the poll still counts as a success.
    """

    summary: str
    poll: Callable[[str | None, "ActionContext"], Generator[Request, Response, tuple[Any, ...]]]
    #: the shortest interval the vendor tolerates, in seconds
    min_seconds: float = 1.0


@dataclass(frozen=True)
class Page:
    """One page of a trigger's past occurrences (:attr:`Trigger.history`)."""

    #: the occurrences on this page, each as the event its trigger would have delivered for
    #: it (shaped like a webhook's, so ``fetch`` and recipes read it the same way). An
    #: event's id is stable: the same object gives the same id on every listing.
    events: list[IncomingEvent]
    #: where the next page starts (given back as ``cursor``); None when this was the last
    cursor: str | None
    #: how far through the range the listing has come, from 0 to 1, for a progress bar
    #: (None when the vendor's listing cannot tell)
    progress: float | None = None


@dataclass(frozen=True)
class Connector:
    name: str
    summary: str
    #: JSON Schema of a connection's settings (secrets included, as ``${ENV}`` references)
    settings_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    #: names of settings that are secret: never logged, never shown
    secret_settings: tuple[str, ...] = ()
    #: settings of the connection a recipe gets when ledgerlink.toml names none
    default_settings: Mapping[str, Any] = field(default_factory=dict)
    webhook: Webhook | None = None
    #: ``auth(secrets) -> headers``: the headers that authenticate a request, given the
    #: connection's secret settings and stored tokens. Their values are always redacted.
    auth: Callable[[Mapping[str, Any]], Mapping[str, str]] | None = None
    #: ``sign_request(body, secrets) -> headers``: headers that sign a request's exact body
    #: (an HMAC of it with a secret), given what ``auth`` is given; added after the body is
    #: encoded, their values redacted like the auth headers'. ``signed_headers`` names them.
    sign_request: Callable[[bytes, Mapping[str, Any]], Mapping[str, str]] | None = None
    signed_headers: tuple[str, ...] = ()
    #: settings that are not secret but that ``auth`` and ``limits_for`` read beside the
    #: secrets (a tenant header every request carries, a plan's daily limit): the host adds
    #: them to what it passes to both, and redacts only the secrets
    auth_settings: tuple[str, ...] = ()
    #: the vendor's published per-tenant limits (one connection = one tenant); the host's
    #: governor keeps every connection of this connector inside them
    limits: Limits | None = None
    #: ``limits_for(secrets) -> Limits | None``: the limits of one connection when they depend
    #: on its credentials (a live key may send more than a test key); ``secrets`` are the
    #: connection's resolved secret settings. None: ``limits`` for every connection.
    limits_for: Callable[[Mapping[str, Any]], Limits | None] | None = None
    #: ``read_remaining(headers) -> Remaining | None``: what an answer's headers say is left of
    #: the tenant's allowance (e.g. ``X-MinLimit-Remaining``); the governor narrows its counts
    #: to it, so calls made on the tenant by someone else are respected. None: not told.
    read_remaining: Callable[[Mapping[str, str]], Remaining | None] | None = None
    #: ``check_references(entity, ids, connection, declared=…)``: a read-only generator (like
    #: an action) returning ``{id: "does not exist" | "is inactive" | …}`` for ``ledgerlink
    #: check``. ``declared`` (given only when a recipe declares something) maps an id to what
    #: the recipe says about the object beside its id, ``{key: value or None}`` for the keys its
    #: reference field takes (e.g. an account's type); a verdict on that reads "is …; what to fix"
    check_references: Callable[..., Generator[Request, Response, Mapping[str, str]]] | None = None
    #: ``check_company(connection)``: a read-only generator returning lines ``ledgerlink check``
    #: prints about the connected company that a recipe's runs depend on (e.g. the date its
    #: books are closed through, before which every write is refused)
    check_company: Callable[[Connection], Generator[Request, Response, list[str]]] | None = None
    #: how a connection obtains and refreshes its tokens (``ledgerlink connect NAME``)
    oauth: OAuth2 | None = None
    #: ``check_credentials(ctx)``: for a connection without OAuth, a read-only generator
    #: yielding one Request that succeeds only with a valid key; ``ledgerlink connect NAME``
    #: sends it before resuming the runs paused because the vendor refused the key
    check_credentials: Callable[["ActionContext"], Generator[Request, Response, Any]] | None = None
    #: seconds the vendor remembers an idempotency key; past it, a write whose outcome was
    #: unknown is first looked up (``Action.find_existing``) instead of resent. None: forever.
    idempotency_key_lifetime: float | None = None
    #: ``examples() -> [(label, raw body), ...]``: realistic webhook deliveries for
    #: ``ledgerlink demo`` (several currencies, a duplicate, a refund …)
    examples: Callable[[], list[tuple[str, bytes]]] | None = None
    #: how ``ledgerlink demo`` configures a connection to ``sandbox`` and shows what it booked
    demo: Demo | None = None
    #: how ``ledgerlink demo`` makes a simulated day of activity on its sandbox (a source)
    demo_source: DemoSource | None = None
    #: a cursor-based source of events (QuickBooks: change data capture)
    poll: Poll | None = None
    #: how ``ledgerlink reconcile`` reads this side: its records of a period, its balance
    #: (:mod:`ledgerlink.contract.reconcile`); None: it is not reconciled
    reconcile: "Reconcile | None" = None
    #: ``entity_url(EntityRef) -> str | None``: the page in the vendor's application of an
    #: entity this connector's actions wrote or its triggers' events are about, for the
    #: console's links (:mod:`ledgerlink.contract.deeplinks`); None: no links
    entity_url: Callable[["EntityRef"], str | None] | None = None
    version: str = "0.1.0"
    status: str = "stable"
    #: filled in by the host: the plugin that registered this
    plugin: str = ""


@dataclass(frozen=True)
class Trigger:
    name: str
    summary: str
    event_schema: Mapping[str, Any]
    sample: Mapping[str, Any]
    status: str = "stable"
    #: JSONPath of the source object's id inside the event, for links and logs
    source_id_path: str = ""
    #: ``fetch(payload, ctx)``: for vendors whose notifications carry ids only. A generator
    #: like an action's ``perform`` (read-only) that returns the complete event payload, or
    #: None when the entity is gone. The host stores the notification, acknowledges it, and
    #: plans runs only once the fetch succeeded, so recipe filters see the whole entity.
    fetch: Callable[[Mapping[str, Any], "ActionContext"], Generator[Request, Response, Mapping[str, Any] | None]] | None = None
    #: ``fetch_for(connection) -> bool``: whether events of this connection are fetched
    #: (e.g. only a connection with an API key can enrich its events); None: always
    fetch_for: Callable[[Connection], bool] | None = None
    #: JSONPath, in the event (as fetched), of what makes one occurrence of this trigger: the
    #: object the event is about when the vendor sends one such event per object (an
    #: invoice is paid once). Events giving the same value, whether delivered, polled or
    #: backfilled under different ids, plan at most one run per recipe. Empty: every event
    #: id is an occurrence of its own (a customer is updated many times).
    occurrence_path: str = ""
    #: ``history(since, until, cursor, ctx)``: a read-only generator (like an action's
    #: ``perform``) returning one :class:`Page` of the occurrences between the Unix times
    #: ``since`` and ``until``, as events; ``cursor`` is None for the first page, then the
    #: page's own. ``ledgerlink backfill`` stores them and plans one run each, as if each
    #: event had arrived. None: this trigger's past cannot be listed.
    history: Callable[[float, float, str | None, "ActionContext"], Generator[Request, Response, "Page"]] | None = None
    #: JSON Schema of a recipe's ``trigger.options`` (a cron expression); None: it takes none
    options_schema: Mapping[str, Any] | None = None
    #: ``check_options(options, timezone) -> [(pointer in the options, message), ...]``
    check_options: Callable[[Mapping[str, Any], str], list[tuple[str, str]]] | None = None
    #: ``tick(Tick) -> [IncomingEvent, ...]``: a recipe's due events (:mod:`ledgerlink.contract.clock`)
    tick: Callable[["Tick"], list[IncomingEvent]] | None = None
    #: ``schedule(Tick) -> Schedule``: a ticking recipe's schedule as people read it (its
    #: expression, zone, last and next tick), for ``ledgerlink schedules``; None: not described
    schedule: Callable[["Tick"], "Schedule"] | None = None
    #: the kind of vendor entity ``source_id_path`` names (e.g. ``"Payment"``), as the actions
    #: that write it declare (:attr:`Action.entity`): an event about an entity ledgerlink
    #: wrote is its echo (:mod:`ledgerlink.engine.echo`). Empty: never taken for an echo.
    entity: str = ""
    #: JSONPath, in the event, of when the vendor made the change (ISO 8601 or Unix seconds)
    changed_at_path: str = ""
    plugin: str = ""

    @property
    def connector(self) -> str:
        return self.name.split(".", 1)[0]

    def fetches(self, connection: Connection) -> bool:
        """Whether this trigger's events on ``connection`` are fetched before their runs are
        planned: it has ``fetch``, and ``fetch_for`` (if any) allows the connection."""
        return self.fetch is not None and (self.fetch_for is None or self.fetch_for(connection))


@dataclass(frozen=True)
class Entry:
    """What a step booked, as ``ledgerlink export`` lists it (:attr:`Action.entry`)."""

    #: the booking's date, YYYY-MM-DD (None: the export uses the day the run was planned)
    date: str | None = None
    #: the amount, exact, in ``currency``
    amount: Decimal | None = None
    #: ISO 4217 code
    currency: str | None = None


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any]
    #: a valid input, shown in the catalog and used by tests
    sample: Mapping[str, Any]
    #: ``perform(input, ctx)`` yields Requests, receives Responses, returns the output
    perform: Callable[[Mapping[str, Any], ActionContext], Generator[Request, Response, Mapping[str, Any]]]
    #: the vendor's answer used by dry-run for requests after the first: a JSON body
    #: (answered with status 200) or ``f(request) -> Response``
    sample_response: Any = None
    status: str = "stable"
    #: how a retried write avoids a twin: "key" (vendor honours the idempotency key),
    #: "lookup" (the vendor keeps no key: the action looks the entity up first, in its
    #: ``perform`` or, declared as ``find_existing``, run by the host before any resend of a
    #: write that may have been done) or "none" (reads only)
    idempotency: str = "key"
    #: ``undo(target_id, ctx)``: a generator like ``perform`` that voids or deletes the entity
    #: this action created (``ledgerlink runs undo``); it returns normally when the entity is
    #: already gone. None: this action's entities cannot be undone by ledgerlink.
    undo: Callable[[str, ActionContext], Generator[Request, Response, Any]] | None = None
    #: ``find_existing(input, ctx)``: a generator like ``perform`` that only reads and returns
    #: the output of an entity this step already created (or None). Used when a write's
    #: outcome was unknown and its idempotency key may have expired at the vendor.
    find_existing: Callable[[Mapping[str, Any], ActionContext], Generator[Request, Response, Mapping[str, Any] | None]] | None = None
    #: ``entry(input, output)``: the date, amount and currency of what a step of this action
    #: booked, read from its logged input and output, for ``ledgerlink export``; None: the
    #: export shows the step without an amount
    entry: Callable[[Mapping[str, Any], Mapping[str, Any]], "Entry | None"] | None = None
    #: the kind of vendor entity whose id the output's ``id`` is (see :attr:`Trigger.entity`);
    #: the host records each write of it, so its echo is recognised. Empty: not recorded.
    entity: str = ""
    #: ``changes(input, output) -> [(entity kind, id), ...]``: the other entities a write of
    #: this action changes (a payment: the invoice it pays), recorded as written too, so the
    #: vendor's event about them is known as the echo as well. None: only ``entity``.
    changes: Callable[[Mapping[str, Any], Mapping[str, Any]], list[tuple[str, str]]] | None = None
    plugin: str = ""

    @property
    def connector(self) -> str:
        return self.name.split(".", 1)[0]

    def sample_response_for(self, request: Request) -> Response:
        if callable(self.sample_response):
            return self.sample_response(request)
        return Response(status=200, json=self.sample_response)


@dataclass(frozen=True)
class Transform:
    name: str
    summary: str
    #: ``apply(value, params) -> value``; raises TransformError
    apply: Callable[[Any, Mapping[str, Any]], Any]
    #: JSON Schema (object) of the parameters written beside ``$as`` in a recipe
    params_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    #: parameters the host fills from the recipe when the expression leaves them out
    recipe_defaults: tuple[str, ...] = ()
    plugin: str = ""


@dataclass(frozen=True)
class Sandbox:
    """An imitation of a vendor's API on loopback, for tests, demos and integrators, registered
    by a package apart from the connector's (``ledgerlink sandbox NAME`` serves it)."""

    #: the connector it stands in for (``"quickbooks"``)
    name: str
    summary: str
    #: ``factory(**options) -> WSGI app``; a bad option value raises ``ValueError``
    factory: Callable[..., WSGIApplication]
    #: the keyword options ``factory`` takes: name -> what it does (and its default)
    options: Mapping[str, str] = field(default_factory=dict)
    #: filled in by the host: the plugin that registered this
    plugin: str = ""


KINDS: dict[str, type] = {
    "connector": Connector, "trigger": Trigger, "action": Action, "transform": Transform,
    "sandbox": Sandbox,
}
