"""The catalog's check of a plugin's schemas: jsonschema-rs's quick "valid?" and Python's
regular expressions first, jsonschema (the judge, whose words the error keeps) whenever the
quick look does not plainly pass. The two must never let through what jsonschema refuses."""

from __future__ import annotations

import types

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink.connectors import catalog
from ledgerlink.connectors.catalog import _check_schema, _plainly_valid
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.errors import PluginError

#: schemas jsonschema refuses, and what its message says
REFUSED = [
    ({"type": "strang"}, "is not valid under any of the given schemas"),
    ({"properties": 3}, "is not of type 'object'"),
    ({"minimum": "3"}, "is not of type 'number'"),
    ({"required": ["a", "a"]}, "has non-unique elements"),
    # a regular expression Python cannot compile: jsonschema-rs's meta check does not look
    ({"pattern": "(unclosed"}, "is not a 'regex'"),
    ({"properties": {"a": {"pattern": r"\p{L}"}}}, "is not a 'regex'"),
    ({"patternProperties": {"[": {}}}, "is not a 'regex'"),
    # what jsonschema-rs cannot read goes to jsonschema, which takes only JSON's types
    (types.MappingProxyType({"type": "string"}), "is not of type 'object', 'boolean'"),
]

#: schemas jsonschema takes
TAKEN = [
    True,
    {},
    {"type": "object", "properties": {"pattern": {"type": "string", "pattern": "^[a-z]+$"}},
     "required": ["pattern"]},
    {"$defs": {"money": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}}, "$ref": "#/$defs/money"},
    # data that looks like a bad pattern is only data: the quick look sends it to jsonschema
    {"enum": [{"pattern": "("}]},
    {"type": "string", "x-vendor": "anything"},
    # another draft declared: jsonschema checks it against 2020-12 anyway, and so the quick look
    # leaves it to jsonschema
    {"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"},
]


@pytest.mark.parametrize("schema, words", REFUSED)
def test_what_jsonschema_refuses_is_refused_in_its_words(schema, words):
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema(schema)
    assert not _plainly_valid(schema)
    with pytest.raises(PluginError) as refused:
        _check_schema(schema, "trigger 'acme.x' event_schema", "acme")
    assert refused.value.message.startswith("plugin 'acme': trigger 'acme.x' event_schema is not a valid "
                                            "JSON Schema: ")
    assert words in refused.value.message


@pytest.mark.parametrize("schema", TAKEN, ids=range(len(TAKEN)))
def test_what_jsonschema_takes_is_taken(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    _check_schema(schema, "action 'acme.x' input_schema", "acme")


def test_every_built_in_schema_is_plainly_valid(monkeypatch):
    """The quick look is what the built-in connectors get at every start: jsonschema's
    meta-schema check is not run on any of them."""
    checked: list[object] = []
    monkeypatch.setattr(catalog, "_CHECKED_SCHEMAS", set())
    monkeypatch.setattr(jsonschema.Draft202012Validator, "check_schema",
                        classmethod(lambda cls, schema, *a, **k: checked.append(schema)))
    load_catalog()
    assert checked == []
    assert len(catalog._CHECKED_SCHEMAS) > 100


#: regular expressions Python and ECMAScript read alike, and some only one of them reads
_REGEXES = st.sampled_from(["^[a-z]+$", r"^\d{4}-\d{2}$", "(", "[", r"\p{L}", "(?P<x>a)", "a{2,1}", "*", "^$"])
_NAMES = st.sampled_from(["id", "amount", "pattern", "type", "^x", "("])


def _schemas(inner):
    """Schema-shaped objects, mostly valid, each keyword's value sometimes of the wrong kind."""
    keyword_values = {
        "type": st.sampled_from(["string", "object", "integer", "strang"]) | st.lists(
            st.sampled_from(["string", "null", "string"]), max_size=3),
        "pattern": _REGEXES | st.integers(0, 2),
        "patternProperties": st.dictionaries(_REGEXES, inner, max_size=2),
        "properties": st.dictionaries(_NAMES, inner, max_size=3) | st.just(3),
        "items": inner,
        "required": st.lists(_NAMES, max_size=3),
        "minimum": st.integers(-2, 2) | st.sampled_from(["3", None]),
        "maxLength": st.integers(-1, 3),
        "enum": st.lists(st.integers(0, 2) | st.just({"pattern": "("}), max_size=3),
        "additionalProperties": inner,
        "allOf": st.lists(inner, max_size=2),
        "$ref": st.sampled_from(["#", "#/$defs/x", "#/properties/id"]),
        "format": st.sampled_from(["date", "email", "x-unknown"]) | st.just(5),
        "uniqueItems": st.booleans() | st.just("yes"),
    }
    return st.fixed_dictionaries({}, optional=keyword_values)


_SCHEMA = st.recursive(st.booleans() | st.fixed_dictionaries({}), _schemas, max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(_SCHEMA)
def test_the_quick_look_never_passes_what_jsonschema_refuses(schema):
    if _plainly_valid(schema):
        jsonschema.Draft202012Validator.check_schema(schema)
