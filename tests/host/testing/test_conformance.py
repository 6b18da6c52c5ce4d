"""ledgerlink.testing.conformance fails, naming the trigger or action, on a broken connector,
and passes a sound one. Both are in-test plugins run by an inner pytest session."""

from __future__ import annotations

import pytest

PLUGIN = '''
from ledgerlink import hookimpl
import json

from ledgerlink.contract import Action, Connector, IncomingEvent, Request, Trigger, Webhook, url_table

OBJECT = {"type": "object"}
THING = {"type": "object", "required": ["name"],
         "properties": {"name": {"type": "string", "description": "What the thing is called."}}}


def create(value, ctx):
    made = yield Request("POST", "https://api.acme.example/things", json={"name": value["name"]})
    return {"id": made.json["id"]}


def create_nameless(value, ctx):
    made = yield Request("POST", "https://api.acme.example/things", json={"title": value["name"]})
    return {"id": made.json["id"]}


def create_nothing(value, ctx):
    return {"id": "1"}
    yield


def undo(target_id, ctx):
    yield Request("DELETE", f"https://api.acme.example/things/{target_id}")


def find_existing(value, ctx):
    found = yield Request("GET", "https://api.acme.example/things", params={"name": value["name"]})
    return found.json


def action(name, perform=create, sample={"name": "Ada"}, **kw):
    kw = {"undo": undo, "find_existing": find_existing, **kw}
    return Action(name=f"acme.{name}", summary="Creates a thing", input_schema=THING,
                  output_schema=OBJECT, sample=sample, perform=perform,
                  sample_response={"id": "1"}, **kw)


def parse(headers, body):
    event = json.loads(body)
    return [IncomingEvent(id=event["id"], trigger=f"acme.{event['type']}", payload=event["thing"])]


def examples():
    made = [("a thing made", b'{"id": "e1", "type": "thing.made", "thing": {"name": "Ada"}}')]
    return made + ([("a thing gone", b'{"id": "e2", "type": "thing.gone", "thing": {}}')] if BROKEN else [])


def raw_url(ref):
    return "https://app.acme.example/things/" + ref.id  # the id not encoded: it may break out


ENTITY_URL = raw_url if BROKEN else url_table(lambda ref: "https://app.acme.example",
                                              {"acme.thing.made": "/things/{id}"})


@hookimpl
def ledgerlink_register_connectors(register):
    register(Connector(name="acme", summary="Things, made elsewhere", examples=examples,
                       webhook=Webhook(verify=lambda headers, body, secrets, now: None, parse=parse),
                       entity_url=ENTITY_URL))


@hookimpl
def ledgerlink_register_triggers(register):
    register(Trigger(name="acme.thing.made", summary="A thing was made", event_schema=THING,
                     sample={"name": "Ada"}))
    if BROKEN:
        register(Trigger(name="acme.thing.lost", summary="A thing was lost",
                         event_schema={"type": "thing"}, sample={}))


@hookimpl
def ledgerlink_register_actions(register):
    register(action("create_thing"))
    register(action("read_thing", idempotency="none", undo=None, find_existing=None))
    if BROKEN:
        register(action("create_from_bad_sample", sample={"name": 7}))
        register(action("create_without_undo", undo=None, find_existing=None))
        register(action("create_without_request", perform=create_nothing))
        register(action("create_nameless_thing", perform=create_nameless))
'''

CONFTEST = '''
import pytest

pytest_plugins = ["ledgerlink.testing.fixtures"]


@pytest.fixture
def request_schema():
    """The vendor wants every POST to name its thing."""
    return lambda request: [] if request.method != "POST" or "name" in request.json else ["/name: required"]
'''

SUITE = '''
import acme_{kind}
from ledgerlink.testing import ConnectorConformance


class Test{name}(ConnectorConformance):
    connector = "acme"
    plugin = acme_{kind}
'''


@pytest.fixture
def outcomes(pytester: pytest.Pytester) -> dict[str, set[str]]:
    pytester.makepyfile(acme_sound="BROKEN = False\n" + PLUGIN, acme_broken="BROKEN = True\n" + PLUGIN,
                        test_sound=SUITE.format(kind="sound", name="Sound"),
                        test_broken=SUITE.format(kind="broken", name="Broken"))
    pytester.makeconftest(CONFTEST)
    recorder = pytester.inline_run("-p", "no:cacheprovider")
    passed, skipped, failed = recorder.listoutcomes()
    names = {"passed": passed, "skipped": skipped, "failed": failed}
    return {key: {r.nodeid.split("::", 1)[1] for r in reports} for key, reports in names.items()}


def test_a_sound_connector_passes_every_check(outcomes):
    sound = {name for names in outcomes.values() for name in names if name.startswith("TestSound")}
    # it declares no key check (an OAuth or keyless vendor) and nothing to say about the
    # company: those checks are skipped, saying so
    skipped = {"TestSound::test_key_check_is_one_read_only_request",
               "TestSound::test_company_check_reads_only"}
    assert {name for name in outcomes["skipped"] if name.startswith("TestSound")} == skipped
    assert {name for name in outcomes["passed"] if name.startswith("TestSound")} == sound - skipped
    assert "TestSound::test_action_requests_fit_the_vendor_schema[acme.create_thing]" in sound
    assert "TestSound::test_writing_action_declares_undo_and_find_existing[acme.create_thing]" in sound
    # a read writes nothing: nothing to undo
    assert not any("declares_undo" in name and "read_thing" in name for name in sound)


def test_each_broken_component_fails_on_its_own_test_named_after_it(outcomes):
    assert {name for name in outcomes["failed"] if name.startswith("TestBroken")} == {
        "TestBroken::test_trigger_schema_and_sample[acme.thing.lost]",
        "TestBroken::test_action_schemas_and_sample[acme.create_from_bad_sample]",
        "TestBroken::test_action_sample_dry_runs_to_requests[acme.create_from_bad_sample]",
        "TestBroken::test_action_requests_fit_the_vendor_schema[acme.create_from_bad_sample]",
        "TestBroken::test_writing_action_declares_undo_and_find_existing[acme.create_without_undo]",
        "TestBroken::test_action_sample_dry_runs_to_requests[acme.create_without_request]",
        "TestBroken::test_action_requests_fit_the_vendor_schema[acme.create_nameless_thing]",
        "TestBroken::test_example_deliveries_parse_into_its_own_events",
        "TestBroken::test_entity_links_are_web_addresses_or_none",
    }
    # the sound components of the broken plugin still pass
    assert "TestBroken::test_action_sample_dry_runs_to_requests[acme.create_thing]" in outcomes["passed"]
    assert "TestBroken::test_trigger_schema_and_sample[acme.thing.made]" in outcomes["passed"]


def test_the_failure_says_what_to_fix(pytester: pytest.Pytester):
    pytester.makepyfile(acme_broken="BROKEN = True\n" + PLUGIN,
                        test_broken=SUITE.format(kind="broken", name="Broken"))
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for line in ("acme.create_without_undo creates and declares no undo: add one, or list it in changes_only",
                 "acme.create_nameless_thing: the vendor would refuse: "
                 "['request 0 (POST https://api.acme.example/things): /name: required']",
                 "a thing gone: event of unknown trigger 'acme.thing.gone'"):
        assert line in result.stdout.str()


def test_a_property_without_a_description_is_named_by_its_pointer():
    from ledgerlink.testing.conformance import undescribed

    schema = {"type": "object", "properties": {
        "name": {"type": "string", "description": "Its name."},
        "lines": {"type": "array", "description": "Its lines.",
                  "items": {"type": "object", "properties": {"amount": {"type": "string"},
                                                             "memo": {"description": " "}}}}}}
    assert undescribed(schema) == ["/properties/lines/items/properties/amount",
                                   "/properties/lines/items/properties/memo"]
    assert undescribed({"anyOf": [{"properties": {"x": True}}]}) == ["/anyOf/0/properties/x"]


def test_a_file_effect_counts_as_a_request_of_the_sample_dry_run():
    """A file connector's actions yield file effects, not HTTP requests: the suite records
    them for its checks (and hands them to the request_schema fixture) all the same."""
    from ledgerlink.contract import Action, AppendFile, Connector
    from ledgerlink.testing.conformance import _named, dry_run_sample

    def append(value, ctx):
        result = yield AppendFile("books/ledger.csv", value["line"] + "\n", ctx.idempotency_key)
        return {"status": result.status}

    connector = Connector(name="drop", summary="Files", default_settings={"folder": "books"})
    action = Action(name="drop.append_line", summary="Appends a line", input_schema={"type": "object"},
                    output_schema={"type": "object"}, sample={"line": "evt_1,10.00"}, perform=append)
    result = dry_run_sample(connector, action, "drop")
    assert result.step["status"] == "would_run" and result.step["sample_output"] == {"status": "appended"}
    assert [_named(effect) for effect in result.requests] == ["append books/ledger.csv"]
