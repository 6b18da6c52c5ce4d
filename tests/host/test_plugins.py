"""The plugin host: documented hooks, registration checks, subsets, third-party packages."""

import inspect
import subprocess
import sys
import textwrap

import pytest


from ledgerlink import hookimpl, jsonio
from ledgerlink.contract import hookspecs
from ledgerlink.contract import Action, Connector, Sandbox, Transform, Trigger
from ledgerlink.errors import PluginError
from ledgerlink.connectors.manager import HOOKS, build_plugin_manager, load_catalog

HOOK_NAMES = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("ledgerlink_")]


def test_every_hook_is_documented_in_the_pytest_manner():
    assert sorted(HOOK_NAMES) == sorted([*HOOKS, "ledgerlink_register_routes", "ledgerlink_register_commands",
                                         "ledgerlink_run_ended", "ledgerlink_fetch_ended",
                                         "ledgerlink_connection_paused", "ledgerlink_webhook_rejected",
                                         "ledgerlink_reconcile_ended", "ledgerlink_tick"])
    assert len(HOOK_NAMES) <= 13
    for name in HOOK_NAMES:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        # every hook documents each parameter; a hook the catalog does not collect says when it is called
        params = getattr(hookspecs, name).__code__.co_varnames[:getattr(hookspecs, name).__code__.co_argcount]
        sections = [f":param {param}:" for param in params]
        sections += [] if name in HOOKS else ["**When:**"]
        for section in sections + ["**Returns:**", "**How results combine:**", "**Where:**", "**Since:**"]:
            assert section in doc, f"{name} lacks {section}"


def test_every_hook_is_implemented_and_used_by_the_builtins(catalog):
    assert {"stripe", "quickbooks"} <= set(catalog.connectors)
    assert "stripe.invoice.paid" in catalog.triggers
    assert "quickbooks.create_journal_entry" in catalog.actions
    assert "stripe.money" in catalog.transforms and "money" in catalog.transforms
    assert catalog.connectors["stripe"].plugin == "stripe"
    assert catalog.actions["quickbooks.create_journal_entry"].plugin == "quickbooks"
    assert catalog.transforms["money"].plugin == "core"
    assert catalog.sandboxes["quickbooks"].plugin == "sandboxes"


def _connector(name="acme"):
    return Connector(name=name, summary="Acme test system")


def _trigger(name="acme.thing.happened"):
    return Trigger(name=name, summary="A thing happened", event_schema={"type": "object"},
                   sample={"id": "t1"})


def _action(name="acme.create_thing", sample=None):
    def perform(value, ctx):
        yield None
        return {}
    return Action(name=name, summary="Creates a thing", input_schema={"type": "object"},
                  output_schema={"type": "object"}, sample=sample if sample is not None else {},
                  perform=perform)


class Acme:
    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(_connector())

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(_trigger())

    @hookimpl
    def ledgerlink_register_actions(self, register):
        register(_action())


def test_extra_plugin_is_registered_and_recorded():
    catalog = load_catalog(build_plugin_manager(only="stripe", extra=[("acme", Acme())]))
    assert catalog.triggers["acme.thing.happened"].plugin == "acme"
    assert catalog.actions["acme.create_thing"].plugin == "acme"
    assert "quickbooks" not in catalog.connectors


def test_duplicate_name_names_both_plugins():
    class Copycat:
        @hookimpl
        def ledgerlink_register_triggers(self, register):
            register(Trigger(name="stripe.invoice.paid", summary="mine", event_schema={"type": "object"},
                             sample={}))

    with pytest.raises(PluginError) as info:
        load_catalog(build_plugin_manager(only="stripe", extra=[("copycat", Copycat())]))
    message = str(info.value)
    assert "'stripe'" in message and "'copycat'" in message and "stripe.invoice.paid" in message


def test_duplicate_transform_names_both_plugins():
    class Money:
        @hookimpl
        def ledgerlink_register_transforms(self, register):
            register(Transform(name="money", summary="mine", apply=lambda v, p: v))

    with pytest.raises(PluginError) as info:
        load_catalog(build_plugin_manager(only="stripe", extra=[("mymoney", Money())]))
    assert "'core'" in str(info.value) and "'mymoney'" in str(info.value)


@pytest.mark.parametrize("hook, thing, words", [
    ("ledgerlink_register_triggers", _action(), "register only ledgerlink.connectors.catalog.Trigger"),
    ("ledgerlink_register_actions", {"name": "acme.x"}, "register only ledgerlink.connectors.catalog.Action"),
    ("ledgerlink_register_actions", _action(name="Acme Create"), "must match"),
    ("ledgerlink_register_actions", _action(name="acme.other", sample=[1]), "sample does not validate"),
    ("ledgerlink_register_triggers", Trigger(name="acme.x.y", summary="s", event_schema={"type": 5}, sample={}),
     "not a valid JSON Schema"),
    ("ledgerlink_register_triggers", Trigger(name="acme.x.y", summary=" ", event_schema={}, sample={}), "summary"),
    ("ledgerlink_register_triggers", Trigger(name="acme.x.y", summary="s", event_schema={}, sample={}, status="gold"),
     "status"),
    ("ledgerlink_register_triggers", _trigger(name="nobody.x.y"), "no plugin registers"),
    ("ledgerlink_register_triggers", Trigger(name="acme.x.y", summary="s", event_schema={}, sample={},
                                             schedule=lambda now: None), "has schedule but no tick"),
    ("ledgerlink_register_sandboxes", _connector(), "register only ledgerlink.connectors.catalog.Sandbox"),
    ("ledgerlink_register_sandboxes", Sandbox(name="acme", summary="s", factory="app"), "factory must be callable"),
    ("ledgerlink_register_sandboxes", Sandbox(name="acme", summary="s", factory=dict, options={"rate": 1}),
     "options must map each option name"),
    ("ledgerlink_register_sandboxes", Sandbox(name="quickbooks", summary="s", factory=dict),
     "registered by both plugin 'sandboxes' and plugin 'bad'"),
])
def test_registrations_are_type_checked(hook, thing, words):
    class Bad:
        pass

    def impl(self, register):
        register(thing)

    impl.__name__ = hook
    setattr(Bad, hook, hookimpl(impl))
    bad = Bad()
    with pytest.raises(PluginError) as info:
        load_catalog(build_plugin_manager(only="stripe,sandboxes", extra=[("acme", Acme()), ("bad", bad)]))
    assert words in str(info.value)
    assert "'bad'" in str(info.value) or "nobody" in str(info.value)


def test_a_sandbox_is_found_by_the_connector_it_stands_in_for():
    def acme_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"acme"]

    class AcmeSandbox:
        @hookimpl
        def ledgerlink_register_sandboxes(self, register):
            register(Sandbox(name="acme", summary="Acme on loopback", factory=lambda: acme_app))

    catalog = load_catalog(build_plugin_manager(only="stripe", extra=[("acme-sandbox", AcmeSandbox())]))
    assert catalog.sandbox("acme").plugin == "acme-sandbox"
    assert catalog.sandbox("acme").factory() is acme_app
    with pytest.raises(PluginError, match='no sandbox for "acmee"|did you mean "acme"'):
        catalog.sandbox("acmee")
    alone = load_catalog(build_plugin_manager(only="stripe"))
    with pytest.raises(PluginError, match="pip install ledgerlink-sandboxes"):
        alone.sandbox("acme")


def test_misspelled_hook_fails_loudly():
    class Typo:
        @hookimpl
        def ledgerlink_register_action(self, register):  # missing "s"
            pass

    with pytest.raises(PluginError) as info:
        build_plugin_manager(only="stripe", extra=[("typo", Typo())])
    assert "typo" in str(info.value) and "ledgerlink_register_action" in str(info.value)


def test_subset_from_environment(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_PLUGINS", "quickbooks")
    catalog = load_catalog()
    assert set(catalog.connectors) == {"quickbooks"}
    assert "stripe.money" not in catalog.transforms and "money" in catalog.transforms
    monkeypatch.setenv("LEDGERLINK_PLUGINS", "stripe, quickbooks")
    assert set(load_catalog().connectors) == {"stripe", "quickbooks"}


def test_unknown_plugin_in_subset_is_an_error(monkeypatch):
    # a name no connector will take (xero, freshbooks … are connectors)
    monkeypatch.setenv("LEDGERLINK_PLUGINS", "stripe,nosuchledger")
    with pytest.raises(PluginError) as info:
        load_catalog()
    assert "nosuchledger" in str(info.value) and "installed: " in str(info.value)


THIRD_PARTY = '''
from ledgerlink import hookimpl
from ledgerlink.contract import Action, Connector, Trigger


def _perform(value, ctx):
    response = yield None
    return {{}}


@hookimpl
def ledgerlink_register_connectors(register):
    register(Connector(name="acme", summary="Acme invoicing"))


@hookimpl
def ledgerlink_register_triggers(register):
    register(Trigger(name="{trigger}", summary="An Acme invoice was paid",
                     event_schema={{"type": "object", "required": ["id"]}}, sample={{"id": "a1"}}, status="beta"))


@hookimpl
def ledgerlink_register_actions(register):
    register(Action(name="acme.create_note", summary="Adds a note", input_schema={{"type": "object"}},
                    output_schema={{"type": "object"}}, sample={{}}, perform=_perform, idempotency="none"))
'''


def _install(tmp_path, dist, module, trigger):
    src = tmp_path / dist
    (src / module).mkdir(parents=True)
    (src / module / "__init__.py").write_text(THIRD_PARTY.format(trigger=trigger))
    (src / "pyproject.toml").write_text(textwrap.dedent(f'''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "1.0.0"
        dependencies = ["ledgerlink"]

        [project.entry-points.ledgerlink]
        acme = "{module}"

        [tool.setuptools]
        packages = ["{module}"]
    '''))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(target), str(src)],
                   check=True, capture_output=True, timeout=180)
    return target


def test_third_party_package_appears_in_the_catalog(tmp_path, run_subprocess):
    site = _install(tmp_path, "ledgerlink-acme", "ledgerlink_acme", "acme.invoice.paid")
    result = run_subprocess("connectors", "--json", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    catalog = jsonio.loads(result.stdout)
    acme = next(c for c in catalog["connectors"] if c["name"] == "acme")
    assert acme["plugin"] == "acme"
    assert [t["name"] for t in acme["triggers"]] == ["acme.invoice.paid"]
    assert acme["triggers"][0]["status"] == "beta"
    assert [a["name"] for a in acme["actions"]] == ["acme.create_note"]
    text = run_subprocess("connectors", env={"PYTHONPATH": str(site)})
    assert "acme.invoice.paid" in text.stdout
    only = run_subprocess("connectors", "--json", env={"PYTHONPATH": str(site), "LEDGERLINK_PLUGINS": "acme"})
    assert [c["name"] for c in jsonio.loads(only.stdout)["connectors"]] == ["acme"]


def test_third_party_duplicate_is_refused_naming_both(tmp_path, run_subprocess):
    site = _install(tmp_path, "ledgerlink-acme-bad", "ledgerlink_acme_bad", "stripe.invoice.paid")
    result = run_subprocess("connectors", env={"PYTHONPATH": str(site)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "'stripe'" in result.stderr and "'acme'" in result.stderr
