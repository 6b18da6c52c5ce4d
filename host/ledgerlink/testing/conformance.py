"""The conformance suite: what every connector promises the host, checked with one class.

A connector's tests run it by subclassing::

    from ledgerlink.testing import ConnectorConformance

    class TestConformance(ConnectorConformance):
        connector = "acme"

and, when the connector has actions, by declaring the vendor's schema for requests as a
``request_schema`` fixture in its conftest (``request_schema(request) -> [problem, …]``,
empty when the vendor would accept the request). The suite checks, one test per trigger
or action, each test id naming it:

- the plugin registers the connector, and every trigger and action belongs to it;
- every trigger's event schema is a valid JSON Schema (2020-12) and its sample fits it;
- every action's input and output schemas are valid and its sample fits the input schema;
- every property of those schemas, and of the connector's settings, has a description;
- every action's sample dry-runs through the host's dry-run path (no network) and yields
  requests (or file effects), and its sample output fits the output schema;
- every request of that dry-run fits the vendor's schema;
- every action that writes and creates declares its ``undo``, and ``find_existing`` when
  it relies on the vendor's idempotency key;
- every example delivery the connector ships parses into events of its own triggers that
  fit their schemas (a notification its trigger fetches before planning: what it carries);
- a ``check_credentials`` (the key check of ``ledgerlink connect``) yields one read-only
  request, and fits the vendor's schema; a ``check_company`` (``ledgerlink check``'s note
  about the company) starts with a read-only request;
- an ``entity_url`` answers, for every kind its actions and triggers name (and their names),
  an ``https://`` address with the id encoded in it, or None, and never raises.

The checks read the plugin's registrations directly (not through a catalog, which stops at
the first broken one), so every broken trigger or action fails on its own.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, ClassVar

import jsonschema
import pytest

from ledgerlink.config import Config
from ledgerlink.connectors.catalog import Catalog, Validator
from ledgerlink.connectors.manager import GROUP, HOOKS
from ledgerlink.contract import (Action, ActionContext, Connection, Connector, FileEffect, IncomingEvent,
                                 Request, Response, RunsQuery, Transform, Trigger)
from ledgerlink.contract.deeplinks import EntityRef, usable_url
from ledgerlink.contract.mail import SendMail
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.recipes import transforms
from ledgerlink.recipes.recipe import Recipe, Step

#: ``request_schema(request) -> problems``: the vendor's verdict on one request (or file
#: effect: for a file connector, the verdict of the program that opens the file)
RequestSchema = Callable[[Request | FileEffect | SendMail | RunsQuery], Iterable[str]]


@dataclass
class Registered:
    """Everything one plugin registers, by kind, in registration order."""

    connector: list[Connector] = field(default_factory=list)
    trigger: list[Trigger] = field(default_factory=list)
    action: list[Action] = field(default_factory=list)
    transform: list[Transform] = field(default_factory=list)


def registered(plugin: object) -> Registered:
    """Call each registration hook ``plugin`` implements, keeping what it registers."""
    found = Registered()
    for hook, kind in HOOKS.items():
        implementation = getattr(plugin, hook, None)
        if implementation is not None:
            implementation(register=getattr(found, kind).append)
    return found


def installed_plugin(name: str) -> ModuleType:
    """The plugin installed under ``name`` in the ``ledgerlink`` entry-point group."""
    for entry in entry_points(group=GROUP):
        if entry.name == name:
            return entry.load()
    raise AssertionError(f"no installed package provides the ledgerlink plugin {name!r}; install "
                         f"the connector (pip install -e .) or set `plugin` on the conformance class")


def schema_problems(schema: Mapping[str, Any], instance: Any) -> list[str]:
    """Every way ``instance`` breaks ``schema``, each with its JSON pointer (as the host checks)."""
    errors = sorted(Validator(schema).iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in errors]


def invalid_schema(schema: Any) -> str | None:
    """Why ``schema`` is not a valid JSON Schema (2020-12), or None."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"{exc.message} (at /{'/'.join(str(p) for p in exc.absolute_path)})"
    return None


def undescribed(schema: Any, where: str = "") -> list[str]:
    """The JSON pointers of the properties in ``schema`` (at any depth) without a description:
    the catalog, dry-run and the recipe editor show an integrator these words."""
    missing = []
    if isinstance(schema, Mapping):
        for name, sub in (schema.get("properties") or {}).items():
            if not isinstance(sub, Mapping) or not str(sub.get("description", "")).strip():
                missing.append(f"{where}/properties/{name}")
        for key, sub in schema.items():
            missing += undescribed(sub, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, sub in enumerate(schema):
            missing += undescribed(sub, f"{where}/{index}")
    return missing


def _named(request: Request | FileEffect | SendMail) -> str:
    """``POST https://…`` for a request, ``append books/x.csv`` for a file effect, ``send
    a@example.com`` for an email."""
    if isinstance(request, Request):
        return f"{request.method} {request.url}"
    if isinstance(request, SendMail):
        return f"send {', '.join(request.recipients)}"
    return f"{request.mode} {request.path}"


def recording(perform: Callable[..., Generator[Any, Response, Any]],
              into: list[Request | FileEffect | SendMail | RunsQuery]) -> Callable[..., Generator[Any, Response, Any]]:
    """``perform`` that also appends every Request, file effect, mail and runs query it yields to ``into``."""

    def perform_and_record(value: Any, ctx: ActionContext) -> Generator[Any, Response, Any]:
        steps = perform(value, ctx)
        try:
            request = next(steps)
            while True:
                if isinstance(request, (Request, FileEffect, SendMail, RunsQuery)):
                    into.append(request)
                request = steps.send((yield request))
        except StopIteration as done:
            return done.value

    return perform_and_record


@dataclass
class DryRun:
    """One action's sample dry-run: the host's report of the step and the requests it yielded."""

    step: Mapping[str, Any]
    requests: list[Request | FileEffect | SendMail | RunsQuery]


def dry_run_sample(connector: Connector, action: Action, plugin: str) -> DryRun:
    """Dry-run ``action.sample`` as the only step of a recipe, through the host's dry-run path.

    The connection is the connector's implicit one (its default settings); link queries are
    answered "nothing linked" and every request after a step's first with the action's sample
    response, as ``ledgerlink dry-run`` does.
    """
    requests: list[Request | FileEffect | SendMail | RunsQuery] = []
    catalog = Catalog()
    transforms.ledgerlink_register_transforms(catalog.registrar("transform", "core"))
    catalog.add("connector", connector, plugin)
    catalog.add("action", replace(action, perform=recording(action.perform, requests)), plugin)
    sample = action.sample
    trigger = Trigger(name=f"{connector.name}.conformance", summary="the sample's occasion",
                      event_schema={"type": "object"}, sample={"id": "evt_conformance"})
    step = Step(id="sample", action=catalog.actions[action.name], connection=connector.name,
                input=lambda doc: copy.deepcopy(dict(sample)), when=None, pointer="/steps/0")
    recipe = Recipe(id=f"conformance-{action.name.replace('.', '-')}", version=1,
                    description=f"the sample of {action.name}", file="<conformance>", trigger=trigger,
                    connection=connector.name, filter=None, lookups={}, steps=[step])
    event = IncomingEvent(id="evt_conformance", trigger=trigger.name, payload=trigger.sample)
    report = dry_run(recipe, catalog, Config(), event)
    return DryRun(step=report["steps"][0], requests=requests)


class ConnectorConformance:
    """Subclass it as ``Test…`` and set :attr:`connector`; see the module docstring."""

    #: the connector's name (and the name of its entry point, unless :attr:`plugin` is set)
    connector: ClassVar[str] = ""
    #: the plugin (module or object with hook implementations); default: the installed one
    plugin: ClassVar[object | None] = None
    #: actions that write but only change or void existing entities: they create nothing to undo
    changes_only: ClassVar[frozenset[str]] = frozenset()
    #: actions that create what cannot be undone, each with the reason (the vendor's documentation)
    cannot_undo: ClassVar[Mapping[str, str]] = {}

    #: by plugin object (kept alive here, so an identity is never reused for another plugin)
    _registrations: ClassVar[dict[object, Registered]] = {}
    _dry_runs: ClassVar[dict[tuple[object, str], DryRun]] = {}

    @classmethod
    def _plugin(cls) -> object:
        plugin = inspect.getattr_static(cls, "plugin")
        return plugin if plugin is not None else installed_plugin(cls.connector)

    @classmethod
    def _registered(cls) -> Registered:
        plugin = cls._plugin()
        if plugin not in cls._registrations:
            cls._registrations[plugin] = registered(plugin)
        return cls._registrations[plugin]

    @classmethod
    def pytest_generate_tests(cls, metafunc: pytest.Metafunc) -> None:
        """One test per trigger and per action, its id the component's name."""
        found = cls._registered()
        names = {"trigger": [t.name for t in found.trigger],
                 "action": [a.name for a in found.action],
                 "writing_action": [a.name for a in found.action
                                    if a.idempotency != "none" and a.name not in cls.changes_only]}
        for argument, values in names.items():
            if argument not in metafunc.fixturenames:
                continue
            if values:
                metafunc.parametrize(argument, values, ids=values)
            else:
                what = argument.replace("_", " ")
                metafunc.parametrize(argument, [pytest.param(None, id=f"no {what}", marks=pytest.mark.skip(
                    reason=f"connector {cls.connector!r} registers no {what}"))])

    # --- lookups ------------------------------------------------------------------------

    def _connector(self) -> Connector:
        found = [c for c in self._registered().connector if c.name == self.connector]
        assert found, (f"the plugin registers no connector named {self.connector!r} "
                       f"(it registers {[c.name for c in self._registered().connector]})")
        return found[0]

    def _trigger(self, name: str) -> Trigger:
        return next(t for t in self._registered().trigger if t.name == name)

    def _action(self, name: str) -> Action:
        return next(a for a in self._registered().action if a.name == name)

    def _dry_run(self, name: str) -> DryRun:
        key = (self._plugin(), name)
        if key not in self._dry_runs:
            self._dry_runs[key] = dry_run_sample(self._connector(), self._action(name), self.connector)
        return self._dry_runs[key]

    # --- the checks ---------------------------------------------------------------------

    def test_plugin_registers_the_connector_and_only_its_components(self) -> None:
        connector = self._connector()
        assert invalid_schema(connector.settings_schema) is None, \
            f"settings_schema: {invalid_schema(connector.settings_schema)}"
        assert undescribed(connector.settings_schema) == [], \
            f"settings_schema: properties without a description: {undescribed(connector.settings_schema)}"
        found = self._registered()
        strays = [thing.name for thing in [*found.trigger, *found.action]
                  if thing.connector != self.connector]
        assert strays == [], f"registered under another connector's name: {strays}"

    def test_trigger_schema_and_sample(self, trigger: str) -> None:
        registered_trigger = self._trigger(trigger)
        problem = invalid_schema(registered_trigger.event_schema)
        assert problem is None, f"{trigger}: event_schema is not a valid JSON Schema: {problem}"
        missing = undescribed(registered_trigger.event_schema)
        assert missing == [], f"{trigger}: event_schema properties without a description: {missing}"
        problems = schema_problems(registered_trigger.event_schema, registered_trigger.sample)
        assert problems == [], f"{trigger}: the sample does not fit event_schema: {problems}"

    def test_action_schemas_and_sample(self, action: str) -> None:
        registered_action = self._action(action)
        for which in ("input_schema", "output_schema"):
            problem = invalid_schema(getattr(registered_action, which))
            assert problem is None, f"{action}: {which} is not a valid JSON Schema: {problem}"
            missing = undescribed(getattr(registered_action, which))
            assert missing == [], f"{action}: {which} properties without a description: {missing}"
        problems = schema_problems(registered_action.input_schema, registered_action.sample)
        assert problems == [], f"{action}: the sample does not fit input_schema: {problems}"

    def test_action_sample_dry_runs_to_requests(self, action: str) -> None:
        result = self._dry_run(action)
        assert result.step["status"] == "would_run", f"{action}: the sample's step did not run: {result.step}"
        assert result.step["request"] is not None and result.requests, \
            f"{action}: the sample dry-runs to no request"
        problems = schema_problems(self._action(action).output_schema, result.step["sample_output"])
        assert problems == [], f"{action}: the output of the sample does not fit output_schema: {problems}"

    def test_action_requests_fit_the_vendor_schema(self, action: str,
                                                   request_schema: RequestSchema | None) -> None:
        if request_schema is None:
            pytest.skip("the connector's tests declare no vendor schema: define a request_schema fixture")
        problems = [f"request {index} ({_named(request)}): {problem}"
                    for index, request in enumerate(self._dry_run(action).requests)
                    for problem in request_schema(request)]
        assert problems == [], f"{action}: the vendor would refuse: {problems}"

    def test_writing_action_declares_undo_and_find_existing(self, writing_action: str) -> None:
        registered_action = self._action(writing_action)
        if writing_action in self.cannot_undo:
            assert registered_action.undo is None, \
                f"{writing_action} declares an undo now: drop it from cannot_undo"
        else:
            assert registered_action.undo is not None, \
                (f"{writing_action} creates and declares no undo: add one, or list it in "
                 f"changes_only (it creates nothing) or cannot_undo (with the vendor's reason)")
        if registered_action.idempotency == "key":
            assert registered_action.find_existing is not None, \
                (f"{writing_action} relies on the idempotency key but declares no find_existing: "
                 f"a write whose outcome is unknown after the key expired could not be found")

    def test_example_deliveries_parse_into_its_own_events(self) -> None:
        connector = self._connector()
        if connector.examples is None or connector.webhook is None:
            pytest.skip("the connector ships no example deliveries")
        triggers = {t.name: t for t in self._registered().trigger}
        # as a connection configured with nothing but its webhook's secret receives them
        bare = Connection(name=connector.name, connector=connector.name, settings={})
        problems = []
        for label, body in connector.examples():
            for event in connector.webhook.parse({}, body):
                if event.trigger not in triggers:
                    problems.append(f"{label}: event of unknown trigger {event.trigger!r}")
                    continue
                trigger = triggers[event.trigger]
                schema, payload = trigger.event_schema, event.payload
                if trigger.fetches(bare) and isinstance(payload, Mapping):
                    # a notification (ids only): what it carries fits, what it lacks the fetch adds
                    schema = {k: v for k, v in schema.items() if k != "required"}
                    payload = {k: v for k, v in payload.items() if v is not None}
                problems += [f"{label}: {p}" for p in schema_problems(schema, payload)]
        assert problems == [], f"example deliveries the connector cannot take itself: {problems}"

    def test_key_check_is_one_read_only_request(self, request_schema: RequestSchema | None) -> None:
        connector = self._connector()
        if connector.check_credentials is None:
            pytest.skip("the connector declares no check_credentials: `ledgerlink connect` resumes the "
                        "runs paused on a refused key unchecked")
        connection = Connection(f"{self.connector}-conformance", self.connector, dict(connector.default_settings))
        request = next(connector.check_credentials(ActionContext(connection=connection, idempotency_key="")), None)
        if request is None:
            pytest.skip("check_credentials has nothing to check with the default settings")
        if isinstance(request, SendMail):  # a mail connector checks its server and AUTH, sending nothing
            assert request.mode == "check", f"check_credentials must yield CheckMail, never a message: {request!r}"
            return
        assert isinstance(request, Request) and request.method in ("GET", "HEAD"), \
            f"check_credentials must yield one read-only Request, not {request!r}"
        problems = list(request_schema(request)) if request_schema is not None else []
        assert problems == [], f"the vendor would refuse the key check: {problems}"

    def test_company_check_reads_only(self) -> None:
        connector = self._connector()
        if connector.check_company is None:
            pytest.skip("the connector declares no check_company: `ledgerlink check` prints nothing "
                        "about the company")
        connection = Connection(f"{self.connector}-conformance", self.connector, dict(connector.default_settings))
        request = next(connector.check_company(connection))
        assert isinstance(request, Request) and request.method in ("GET", "HEAD"), \
            f"check_company must only read, not send {request!r}"

    def test_entity_links_are_web_addresses_or_none(self) -> None:
        connector = self._connector()
        if connector.entity_url is None:
            pytest.skip("the connector declares no entity_url: the console shows no links into it")
        found = self._registered()
        kinds = {c.entity for c in [*found.action, *found.trigger] if c.entity} | {
            c.name for c in [*found.action, *found.trigger]}
        odd = "conformance 1/?#&"
        problems = []
        for kind in sorted(kinds):
            for event in (None, {"id": "evt_conformance", "livemode": False}):
                url = connector.entity_url(EntityRef(kind, odd, dict(connector.default_settings), event))
                if url is None:
                    continue
                if usable_url(url) != url or not url.startswith("https://"):
                    problems.append(f"{kind}: {url!r} is not an https:// address")
                elif odd in url:
                    problems.append(f"{kind}: the id is not encoded in {url!r}")
        assert problems == [], f"entity_url answers a page could not link to: {problems}"
