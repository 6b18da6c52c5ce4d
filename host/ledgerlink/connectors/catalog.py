"""The catalog: every connector, trigger, action and transform that plugins registered.

Plugins hand the host instances of the classes below through the ``register`` callback
of each hook (see :mod:`ledgerlink.contract.hookspecs`). The host checks each one when it arrives:
its type, its name, that its schemas are valid JSON Schema (2020-12) and that its sample
validates against its schema. Every problem names the plugin that supplied the thing.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ledgerlink.errors import PluginError, quoted

STATUSES = ("stable", "beta")
_DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_CONNECTOR = re.compile(r"^[a-z][a-z0-9_]*$")
_TRANSFORM = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


# --- what actions yield and receive -------------------------------------------------------

@dataclass(frozen=True)
class Request:
    """A request an action wants sent. The host adds authentication and sends it.

    ``json`` may hold ``Decimal`` values; they are sent as exact JSON numbers.
    """

    method: str
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None


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


@dataclass(frozen=True)
class Connection:
    """A configured connection: which connector, and its non-secret settings."""

    name: str
    connector: str
    settings: Mapping[str, Any]
    #: True when no configuration named this connection and the connector's defaults are used
    implicit: bool = False


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


@dataclass(frozen=True)
class Poll:
    """A cursor-based trigger source, for vendors (or setups) without webhooks.

    ``poll(cursor, ctx)`` is a generator like an action's ``perform``: it yields Requests
    (sent governed and authenticated on ``ctx.connection``), and returns ``(events,
    new_cursor)``. ``cursor`` is what the last successful poll returned, or None the first
    time. The host stores the events and the new cursor in one transaction, and a poll
    fires once across every process sharing the database. A connection polls when its
    ``[connections.NAME]`` table sets ``poll_seconds``.
    """

    summary: str
    poll: Callable[[str | None, "ActionContext"], Generator[Request, Response, tuple[list[IncomingEvent], str]]]
    #: the shortest interval the vendor tolerates, in seconds
    min_seconds: float = 1.0


@dataclass(frozen=True)
class OAuth2:
    """A connector's OAuth 2.0 authorization-code flow (the host runs it).

    The URLs are defaults; a connection may override them with the settings
    ``authorize_url`` and ``token_url`` (a sandbox on loopback in tests). The client is
    ``client_id`` (setting) and ``client_secret`` (secret setting).
    """

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    #: "basic": client id and secret in an HTTP Basic header; "body": in the form
    client_auth: str = "basic"
    #: ``settings_from_callback(query) -> settings``: what the consent redirect tells about
    #: the connection (QuickBooks: ``realmId`` → ``realm_id``)
    settings_from_callback: Callable[[Mapping[str, str]], Mapping[str, Any]] | None = None


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
    #: the vendor's published per-tenant limits (one connection = one tenant); the host's
    #: governor keeps every connection of this connector inside them
    limits: Any = None
    #: ``check_references(entity, ids, connection, declared=…)``: a read-only generator (like
    #: an action) returning ``{id: "does not exist" | "is inactive" | …}`` for ``ledgerlink
    #: check``. ``declared`` (given only when a recipe declares something) maps an id to what
    #: the recipe says about the object beside its id, ``{key: value or None}`` for the keys its
    #: reference field takes (e.g. an account's type); a verdict on that reads "is …; what to fix"
    check_references: Callable[..., Generator[Request, Response, Mapping[str, str]]] | None = None
    #: how a connection obtains and refreshes its tokens (``ledgerlink connect NAME``)
    oauth: OAuth2 | None = None
    #: seconds the vendor remembers an idempotency key; past it, a write whose outcome was
    #: unknown is first looked up (``Action.find_existing``) instead of resent. None: forever.
    idempotency_key_lifetime: float | None = None
    #: ``sandbox(**options) -> WSGI app`` imitating the vendor on loopback, served by
    #: ``ledgerlink sandbox NAME``; for tests, demos and integrators
    sandbox: Callable[..., Any] | None = None
    #: ``examples() -> [(label, raw body), ...]``: realistic webhook deliveries for
    #: ``ledgerlink demo`` (several currencies, a duplicate, a refund …)
    examples: Callable[[], list[tuple[str, bytes]]] | None = None
    #: a cursor-based source of events (QuickBooks: change data capture)
    poll: Poll | None = None
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
    plugin: str = ""

    @property
    def connector(self) -> str:
        return self.name.split(".", 1)[0]


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
    #: "lookup" (the action looks the entity up first) or "none" (reads only)
    idempotency: str = "key"
    #: ``undo(target_id, ctx)``: a generator like ``perform`` that voids or deletes the entity
    #: this action created (``ledgerlink runs undo``); it returns normally when the entity is
    #: already gone. None: this action's entities cannot be undone by ledgerlink.
    undo: Callable[[str, ActionContext], Generator[Request, Response, Any]] | None = None
    #: ``find_existing(input, ctx)``: a generator like ``perform`` that only reads and returns
    #: the output of an entity this step already created (or None). Used when a write's
    #: outcome was unknown and its idempotency key may have expired at the vendor.
    find_existing: Callable[[Mapping[str, Any], ActionContext], Generator[Request, Response, Mapping[str, Any] | None]] | None = None
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


KINDS: dict[str, type] = {
    "connector": Connector, "trigger": Trigger, "action": Action, "transform": Transform,
}


@functools.lru_cache(maxsize=512)
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled so that ``$`` means what it means in ECMAScript, the dialect of
    JSON Schema's ``pattern``: the end of the string. Python's ``$`` also matches before a
    final newline, so ``^[a-z]+$`` would accept ``"name\\n"``; here it becomes ``\\Z``."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{quoted(instance)} does not match {pattern!r}")


#: the JSON Schema (2020-12) validator every schema of the host and its plugins is checked
#: with: jsonschema's, whose ``pattern`` follows ECMAScript's ``$`` as JSON Schema says (and
#: as jsonschema-rs does), so no pattern anchored with ``$`` accepts a trailing newline
Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})

_CHECKED_SCHEMAS: set[str] = set()


def _check_schema(schema: Any, what: str, plugin: str) -> None:
    # checking against the 2020-12 meta-schema is slow; a schema seen once need not be seen again
    key = json.dumps(schema, sort_keys=True, default=str)
    if key in _CHECKED_SCHEMAS:
        return
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise PluginError(f"plugin {plugin!r}: {what} is not a valid JSON Schema: {exc.message}") from None
    _CHECKED_SCHEMAS.add(key)


def _check_sample(schema: Mapping[str, Any], sample: Any, what: str, plugin: str) -> None:
    error = jsonschema.exceptions.best_match(
        Validator(schema).iter_errors(sample))
    if error is not None:
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        raise PluginError(f"plugin {plugin!r}: {what} does not validate against its own schema "
                          f"at {where}: {error.message}")


class Catalog:
    """Everything registered, by kind and name. Built by :func:`ledgerlink.connectors.manager.load_catalog`."""

    def __init__(self) -> None:
        self.connectors: dict[str, Connector] = {}
        self.triggers: dict[str, Trigger] = {}
        self.actions: dict[str, Action] = {}
        self.transforms: dict[str, Transform] = {}

    def _table(self, kind: str) -> dict[str, Any]:
        return {"connector": self.connectors, "trigger": self.triggers,
                "action": self.actions, "transform": self.transforms}[kind]

    def registrar(self, kind: str, plugin: str) -> Callable[[Any], None]:
        """The ``register`` callback handed to one plugin's implementation of one hook."""
        expected = KINDS[kind]

        def register(thing: Any) -> None:
            if not isinstance(thing, expected):
                raise PluginError(
                    f"plugin {plugin!r} registered {thing!r} as a {kind}; "
                    f"register only ledgerlink.connectors.catalog.{expected.__name__} objects from this hook")
            self.add(kind, thing, plugin)

        return register

    def add(self, kind: str, thing: Any, plugin: str) -> None:
        name = thing.name
        pattern = {"connector": _CONNECTOR, "transform": _TRANSFORM}.get(kind, _DOTTED)
        if not isinstance(name, str) or not pattern.fullmatch(name):
            raise PluginError(f"plugin {plugin!r}: {kind} name {name!r} must match {pattern.pattern}")
        if not isinstance(thing.summary, str) or not thing.summary.strip():
            raise PluginError(f"plugin {plugin!r}: {kind} {name!r} needs a one-line summary")
        status = getattr(thing, "status", "stable")
        if status not in STATUSES:
            raise PluginError(f"plugin {plugin!r}: {kind} {name!r} has status {status!r}; "
                              f"use one of {', '.join(STATUSES)}")
        table = self._table(kind)
        if name in table:
            raise PluginError(f"{kind} {name!r} is registered by both plugin {table[name].plugin!r} "
                              f"and plugin {plugin!r}; uninstall one of them or rename its {kind}")
        if kind == "trigger":
            _check_schema(thing.event_schema, f"trigger {name!r} event_schema", plugin)
            _check_sample(thing.event_schema, thing.sample, f"trigger {name!r} sample", plugin)
            if thing.fetch is not None and not callable(thing.fetch):
                raise PluginError(f"plugin {plugin!r}: trigger {name!r} fetch must be callable or None")
        elif kind == "action":
            _check_schema(thing.input_schema, f"action {name!r} input_schema", plugin)
            _check_schema(thing.output_schema, f"action {name!r} output_schema", plugin)
            _check_sample(thing.input_schema, thing.sample, f"action {name!r} sample", plugin)
            if not callable(thing.perform):
                raise PluginError(f"plugin {plugin!r}: action {name!r} perform must be callable")
            if thing.idempotency not in ("key", "lookup", "none"):
                raise PluginError(f"plugin {plugin!r}: action {name!r} idempotency must be "
                                  f"'key', 'lookup' or 'none'")
        elif kind == "transform":
            _check_schema(thing.params_schema, f"transform {name!r} params_schema", plugin)
            if not callable(thing.apply):
                raise PluginError(f"plugin {plugin!r}: transform {name!r} apply must be callable")
        elif kind == "connector":
            _check_schema(thing.settings_schema, f"connector {name!r} settings_schema", plugin)
            if thing.poll is not None and not (isinstance(thing.poll, Poll) and callable(thing.poll.poll)):
                raise PluginError(f"plugin {plugin!r}: connector {name!r} poll must be a "
                                  f"ledgerlink.connectors.catalog.Poll with a callable poll")
        table[name] = _with_plugin(thing, plugin)

    def check(self) -> None:
        """Cross-checks once every plugin has registered."""
        for kind, table in (("trigger", self.triggers), ("action", self.actions)):
            for name, thing in table.items():
                if thing.connector not in self.connectors:
                    raise PluginError(
                        f"plugin {thing.plugin!r}: {kind} {name!r} belongs to connector "
                        f"{thing.connector!r}, which no plugin registers; register it with "
                        f"ledgerlink_register_connectors")

    def as_json(self) -> dict[str, Any]:
        """The catalog as served by ``ledgerlink connectors --json`` and ``GET /api/connectors``."""
        out = []
        for cname, conn in sorted(self.connectors.items()):
            out.append({
                "name": cname, "summary": conn.summary, "version": conn.version,
                "status": conn.status, "plugin": conn.plugin,
                "webhooks": conn.webhook is not None,
                "polls": conn.poll is not None,
                "settings_schema": conn.settings_schema,
                "triggers": [
                    {"name": t.name, "summary": t.summary, "status": t.status, "plugin": t.plugin,
                     "fetches": t.fetch is not None, "event_schema": t.event_schema, "sample": t.sample}
                    for t in sorted(self.triggers.values(), key=lambda t: t.name)
                    if t.connector == cname],
                "actions": [
                    {"name": a.name, "summary": a.summary, "status": a.status, "plugin": a.plugin,
                     "idempotency": a.idempotency, "input_schema": a.input_schema,
                     "output_schema": a.output_schema, "sample": a.sample}
                    for a in sorted(self.actions.values(), key=lambda a: a.name)
                    if a.connector == cname],
            })
        transforms = [{"name": t.name, "summary": t.summary, "plugin": t.plugin,
                       "params_schema": t.params_schema}
                      for t in sorted(self.transforms.values(), key=lambda t: t.name)]
        return {"connectors": out, "transforms": transforms}


def _with_plugin(thing: Any, plugin: str) -> Any:
    from dataclasses import replace
    return replace(thing, plugin=plugin)
