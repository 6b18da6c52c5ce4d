"""`ledgerlink validate` refuses a `$.event…` path the trigger's event cannot have.

The connector ``closed`` (defined here) has two triggers whose event schemas are closed at
the top (``additionalProperties: false``): ``closed.payment.made`` carries an enrichment
(``balance_transaction``) and ``closed.refund.made`` does not. Its schema uses what real
vendor schemas use: ``$ref`` into ``$defs``, arrays of closed objects, ``anyOf`` with null,
``prefixItems``, ``patternProperties``, free-form maps and open objects.
"""

from __future__ import annotations

import copy
import json

import pytest

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.contract import Action, Connector, Trigger
from ledgerlink.recipes.recipe import validate

LINE = {"type": "object", "additionalProperties": False,
        "properties": {"amount": {"type": "integer"}, "currency": {"type": "string"}}}
PAYMENT = {
    "type": "object", "additionalProperties": False, "required": ["id"],
    "properties": {
        "id": {"type": "string"}, "amount": {"type": "integer"},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "source": {"anyOf": [{"type": "null"},
                             {"type": "object", "additionalProperties": False, "properties": {"card": {"type": "object"}}},
                             {"type": "object", "additionalProperties": False,
                              "properties": {"bank": {"type": "object", "properties": {"last4": {"type": "string"}}}}}]},
        "raw": {"type": "object"},
    },
}
BALANCE_TRANSACTION = {"anyOf": [{"type": "null"}, {
    "type": "object", "additionalProperties": False,
    "properties": {"fee": {"type": "integer"}, "net": {"type": "integer"}, "exchange_rate": {"type": ["number", "null"]}}}]}


def event_schema(enriched: bool) -> dict:
    properties = {
        "id": {"type": "string"}, "type": {"type": "string"},
        "data": {"type": "object", "additionalProperties": False, "properties": {"object": {"$ref": "#/$defs/payment"}}},
        "tags": {"type": "array", "prefixItems": [{"type": "object", "additionalProperties": False,
                                                   "properties": {"name": {"type": "string"}}}]},
    }
    if enriched:
        properties["balance_transaction"] = BALANCE_TRANSACTION
    return {"type": "object", "additionalProperties": False, "required": ["id", "type", "data"],
            "properties": properties, "patternProperties": {"^x_": {}},
            "$defs": {"payment": PAYMENT, "line": LINE}}


SAMPLE = {"id": "evt_1", "type": "payment.made", "data": {"object": {"id": "py_1", "amount": 100}}}


class Closed:
    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(name="closed", summary="Closed event schemas (tests)"))

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(Trigger(name="closed.payment.made", summary="A payment, enriched with its balance transaction",
                         event_schema=event_schema(enriched=True), sample=SAMPLE))
        register(Trigger(name="closed.refund.made", summary="A refund, not enriched",
                         event_schema=event_schema(enriched=False), sample=SAMPLE))
        register(Trigger(name="closed.anything", summary="An open event", event_schema={"type": "object"},
                         sample=SAMPLE))

    @hookimpl
    def ledgerlink_register_actions(self, register):
        register(Action(name="closed.note", summary="Notes a value", sample={"value": 1},
                        input_schema={"type": "object", "properties": {"value": {}}},
                        output_schema={"type": "object"}, perform=lambda value, ctx: iter(())))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    catalog = load_catalog(build_plugin_manager(extra=[("closed", Closed())]))
    folder = tmp_path_factory.mktemp("closed")
    (folder / "ledgerlink.toml").write_text('[connections.closed]\nconnector = "closed"\n')
    return catalog, load_config(str(folder / "ledgerlink.toml"), catalog), folder


def recipe(path: str, trigger: str = "closed.payment.made") -> dict:
    return {"id": "closed-note", "version": 1, "description": "Notes one value of the event.",
            "trigger": {"event": trigger, "connection": "closed"},
            "steps": [{"id": "note", "action": "closed.note", "connection": "closed",
                       "input": {"value": {"$path": path}}}]}


def problems(setup, raw: dict) -> list:
    catalog, config, folder = setup
    file = folder / "recipe.json"
    file.write_text(json.dumps(raw))
    return validate([file], catalog, config)[1]


@pytest.mark.parametrize("path", [
    "$.event", "$.event.id", "$.event.data.object.amount", "$.event.data.object.lines[0].amount",
    "$.event.data.object.lines[*].currency", "$.event.data.object.lines[?(@.amount > 1)].amount",
    "$.event.data.object.metadata.order_id",          # a free-form map of strings
    "$.event.data.object.source.card.brand",          # one anyOf branch has it; card is open
    "$.event.data.object.source.bank.last4", "$.event.data.object.raw.any.depth",
    "$.event.balance_transaction.fee", "$.event.balance_transaction.exchange_rate",
    "$.event.tags[0].name", "$.event.x_custom.y",      # prefixItems; patternProperties
    "$.event.data.object.lines.`len`",               # a segment the walk does not follow
    "$.event.data.object.amount.value",               # beneath a number: not a closed object's business
])
def test_paths_the_event_can_have_are_valid(setup, path):
    assert problems(setup, recipe(path)) == []


@pytest.mark.parametrize("path, name, where, hint", [
    ("$.event.balance_transactions.fee", "balance_transactions", "$.event", 'did you mean "balance_transaction"?'),
    ("$.event.data.obj.id", "obj", "$.event.data", 'did you mean "object"?'),
    ("$.event.data.object.lines[0].amt", "amt", "$.event.data.object.lines[0]", 'did you mean "amount"?'),
    ("$.event.data.object.lines[*].fx", "fx", "$.event.data.object.lines[*]", "known: amount, currency"),
    ("$.event.data.object.source.wire", "wire", "$.event.data.object.source", "known: bank, card"),
    ("$.event.balance_transaction.fees", "fees", "$.event.balance_transaction", 'did you mean "fee"?'),
    ("$.event.tags[0].label", "label", "$.event.tags[0]", "known: name"),
    ("$.event['id','kind']", "kind", "$.event", 'did you mean "id"?'),
])
def test_a_field_a_closed_object_does_not_list_is_refused_with_file_pointer_trigger_and_fix(setup, path, name,
                                                                                            where, hint):
    [problem] = problems(setup, recipe(path))
    assert problem.file.endswith("recipe.json") and problem.pointer == "/steps/0/input/value/$path"
    assert f"the event of trigger 'closed.payment.made' has no field {name!r} at {where}" in problem.message
    assert hint in problem.message and "event schema" in problem.message


def test_an_enrichment_path_on_a_trigger_without_that_enrichment_is_refused_by_name(setup):
    path = "$.event.balance_transaction.fee"
    assert problems(setup, recipe(path, "closed.payment.made")) == []
    [problem] = problems(setup, recipe(path, "closed.refund.made"))
    assert problem.pointer == "/steps/0/input/value/$path"
    assert "the event of trigger 'closed.refund.made' has no field 'balance_transaction' at $.event" in problem.message
    assert "known: data, id, tags, type" in problem.message


def test_filters_conditions_and_every_expression_are_checked_each_at_its_own_pointer(setup):
    raw = recipe("$.event.data.object.id")
    raw["trigger"]["filter"] = {"path": "$.event.data.object.amout", "gt": 0}
    raw["steps"][0]["when"] = {"path": "$.event.balance_transaction.net", "gt": 0}
    raw["steps"][0]["input"]["value"] = {"$concat": [{"$path": "$.event.id"}, {"$path": "$.event.kind"}]}
    found = {p.pointer: p.message for p in problems(setup, raw)}
    assert set(found) == {"/trigger/filter/path", "/steps/0/input/value/$concat/1/$path"}
    assert 'did you mean "amount"?' in found["/trigger/filter/path"]
    assert "'kind' at $.event" in found["/steps/0/input/value/$concat/1/$path"]


def test_an_open_event_schema_accepts_any_path(setup):
    assert problems(setup, recipe("$.event.whatever.it.is", "closed.anything")) == []


def test_a_reference_that_leads_nowhere_or_in_a_loop_accepts_beneath_it():
    from ledgerlink.recipes.event_fields import missing_field
    import jsonpath_ng.ext

    looped = {"type": "object", "additionalProperties": False,
              "properties": {"self": {"$ref": "#"}, "away": {"$ref": "other.json#/x"}, "lost": {"$ref": "#/$defs/none"}}}
    for text in ("$.event.self.self.self.away.x", "$.event.away.anything", "$.event.lost.anything"):
        assert missing_field(jsonpath_ng.ext.parse(text), looped) is None
    unknown = missing_field(jsonpath_ng.ext.parse("$.event.self.self.nope"), copy.deepcopy(looped))
    assert (unknown.name, unknown.where) == ("nope", "$.event.self.self")
