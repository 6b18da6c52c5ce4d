"""The expression language: each operator, modifier, and failure message."""

from decimal import Decimal

import pytest

from ledgerlink.testing.expressions import compile_expr, evaluate
from ledgerlink.errors import MappingError
from ledgerlink.recipes.paths import MISSING

DOC = {
    "event": {
        "id": "evt_1",
        "data": {"object": {
            "id": "in_1", "total": 1050, "currency": "usd", "number": None, "customer": "cus_1",
            "created": 1700000000, "note": "hello",
            "lines": {"data": [
                {"amount": 700, "description": "A", "quantity": 1},
                {"amount": 350, "description": "B", "quantity": 2},
                {"amount": 0, "description": "free", "quantity": 1},
            ]},
        }},
    },
    "steps": {"first": {"id": "42"}},
    "lookups": {},
    "recipe": {"id": "r", "version": 3},
}


def test_literals_mean_themselves():
    assert evaluate({"a": 1, "b": [True, None, "x"], "c": {"d": Decimal("1.50")}}, DOC) == \
        {"a": 1, "b": [True, None, "x"], "c": {"d": Decimal("1.50")}}


def test_path_single_and_multi():
    assert evaluate({"v": {"$path": "$.event.data.object.total"}}, DOC) == {"v": 1050}
    assert evaluate({"v": {"$path": "$.event.data.object.lines.data[1].description"}}, DOC) == {"v": "B"}
    assert evaluate({"v": {"$path": "$.event.data.object.lines.data[*].amount"}}, DOC) == {"v": [700, 350, 0]}
    assert evaluate({"v": {"$path": "$.event.data.object.lines.data[?(@.amount > 100)].description"}}, DOC) == \
        {"v": ["A", "B"]}
    assert evaluate({"v": {"$path": "$.steps.first.id"}}, DOC, steps=["first"]) == {"v": "42"}
    assert evaluate({"v": {"$path": "$.recipe.version"}}, DOC) == {"v": 3}


def test_missing_path_names_recipe_step_pointer_and_path():
    fn, problems = compile_expr({"x": {"y": {"$path": "$.event.data.object.nope"}}})
    assert problems == []
    with pytest.raises(MappingError) as info:
        fn(DOC)
    err = info.value
    assert (err.recipe, err.step, err.pointer, err.path) == ("r", "s", "/steps/0/input/x/y", "$.event.data.object.nope")
    text = str(err)
    for part in ("'r'", "'s'", "/steps/0/input/x/y", "$.event.data.object.nope", "$default"):
        assert part in text


def test_default_and_optional():
    assert evaluate({"n": {"$path": "$.event.data.object.number", "$default": "none"}}, DOC) == {"n": "none"}
    assert evaluate({"n": {"$path": "$.event.data.object.missing", "$default": {"$path": "$.event.id"}}}, DOC) == {"n": "evt_1"}
    assert evaluate({"n": {"$path": "$.event.data.object.number", "$optional": True}, "k": 1}, DOC) == {"k": 1}
    assert evaluate({"n": {"$path": "$.event.nothing", "$optional": True}}, DOC) == {}
    # null without default or optional is kept: null is a value
    assert evaluate({"n": {"$path": "$.event.data.object.number"}}, DOC) == {"n": None}


def test_lookup():
    lookups = {"accounts": {"ar": "84", "bank": "35"}, "tax": {"usd": "TAX", "eur": "VAT"}}
    doc = {**DOC, "lookups": lookups}
    assert evaluate({"a": {"$lookup": "accounts", "key": "ar"}}, doc, lookups=lookups) == {"a": "84"}
    assert evaluate({"t": {"$lookup": "tax", "key": {"$path": "$.event.data.object.currency"}}}, doc,
                    lookups=lookups) == {"t": "TAX"}
    fn, _ = compile_expr({"t": {"$lookup": "tax", "key": {"$path": "$.event.data.object.note"}}}, lookups=lookups)
    with pytest.raises(MappingError) as info:
        fn(doc)
    assert "has no key 'hello'" in str(info.value) and "/lookups/tax" in str(info.value)
    assert info.value.pointer == "/steps/0/input/t/key"
    assert evaluate({"t": {"$lookup": "tax", "key": "gbp", "$default": "NONE"}}, doc, lookups=lookups) == {"t": "NONE"}


def test_concat():
    assert evaluate({"c": {"$concat": ["Invoice ", {"$path": "$.event.data.object.id"}, " / ",
                                        {"$path": "$.event.data.object.total"}]}}, DOC) == {"c": "Invoice in_1 / 1050"}
    assert evaluate({"c": {"$concat": ["a", {"$path": "$.event.data.object.number"}, "b"], "separator": "-"}}, DOC) == {"c": "a-b"}


def test_concat_joins_the_elements_of_a_list_part():
    lines = {"$each": "$.event.data.object.lines.data[*]",
             "map": {"$concat": [{"$path": "$.item.description"}, {"$path": "$.item.amount"}], "separator": ": "}}
    assert evaluate({"c": {"$concat": ["Lines:", lines], "separator": "\n"}}, DOC) == {"c": "Lines:\nA: 700\nB: 350\nfree: 0"}
    with pytest.raises(MappingError) as info:  # a list of objects is not text
        evaluate({"c": {"$concat": [{"$path": "$.event.data.object.lines.data"}]}}, DOC)
    assert "can join only strings and numbers (or lists of them), got a dict" in str(info.value)


def test_each_with_item_index_and_filter():
    template = {"lines": {"$each": "$.event.data.object.lines.data[*]",
                          "filter": {"path": "$.item.amount", "gt": 0},
                          "map": {"n": {"$path": "$.index"}, "text": {"$path": "$.item.description"},
                                  "amount": {"$path": "$.item.amount", "$as": "money", "currency": "USD"}}}}
    assert evaluate(template, DOC) == {"lines": [
        {"n": 0, "text": "A", "amount": Decimal("7.00")},
        {"n": 1, "text": "B", "amount": Decimal("3.50")},
    ]}


def test_if():
    template = {"kind": {"$if": {"path": "$.event.data.object.total", "gte": 1000}, "then": "big", "else": "small"},
                "flag": {"$if": {"path": "$.event.data.object.total", "lt": 0}, "then": "negative"}}
    assert evaluate(template, DOC) == {"kind": "big"}


def test_value_escapes_dollar_keys_and_takes_transforms():
    assert evaluate({"v": {"$value": {"$path": "not an expression"}}}, DOC) == {"v": {"$path": "not an expression"}}
    assert evaluate({"v": {"$value": "usd", "$as": "upper"}}, DOC) == {"v": "USD"}


def test_transform_chain_and_parameters_as_expressions():
    assert evaluate({"v": {"$path": "$.event.data.object.total", "$as": ["money", "string"],
                           "currency": {"$path": "$.event.data.object.currency"}}}, DOC) == {"v": "10.50"}


def test_transform_failure_names_where():
    fn, _ = compile_expr({"amount": {"$path": "$.event.data.object.note", "$as": "money", "currency": "USD"}})
    with pytest.raises(MappingError) as info:
        fn(DOC)
    assert "transform 'money'" in str(info.value)
    assert info.value.pointer == "/steps/0/input/amount"
    assert info.value.path == "$.event.data.object.note"


def test_date_uses_recipe_timezone():
    # 1700000000 is 2023-11-14T22:13:20Z: still the 14th in New York, already the 15th in Tokyo
    t = {"d": {"$path": "$.event.data.object.created", "$as": "date"}}
    assert evaluate(t, DOC, timezone="America/New_York") == {"d": "2023-11-14"}
    assert evaluate(t, DOC, timezone="Asia/Tokyo") == {"d": "2023-11-15"}
    t2 = {"d": {"$path": "$.event.data.object.created", "$as": "date", "timezone": "Asia/Tokyo"}}
    assert evaluate(t2, DOC, timezone="UTC") == {"d": "2023-11-15"}


def test_compiled_once_applied_many_times():
    fn, problems = compile_expr({"v": {"$path": "$.event.data.object.total"}})
    assert not problems
    for total in range(5):
        doc = {"event": {"data": {"object": {"total": total}}}}
        assert fn(doc) == {"v": total}


@pytest.mark.parametrize("template, pointer, words", [
    ({"v": {"$path": "$.event[?(@.x >"}}, "/steps/0/input/v/$path", "does not parse"),
    ({"v": {"$path": "event.id"}}, "/steps/0/input/v/$path", "starting with"),
    ({"v": {"$path": "$.evnt.id"}}, "/steps/0/input/v/$path", 'did you mean "event"'),
    ({"v": {"$path": "$.item.id"}}, "/steps/0/input/v/$path", "only inside"),
    ({"v": {"$path": "$.steps.later.id"}}, "/steps/0/input/v/$path", "unknown step"),
    ({"v": {"$path": "$.steps.s.id"}}, "/steps/0/input/v/$path", "itself"),
    ({"v": {"$pth": "$.event.id"}}, "/steps/0/input/v/$pth", 'did you mean "$path"'),
    ({"v": {"$path": "$.event.id", "$lookup": "x"}}, "/steps/0/input/v", "exactly one"),
    ({"v": {"$path": "$.event.id", "$as": "monee"}}, "/steps/0/input/v/$as", 'did you mean "money"'),
    ({"v": {"$path": "$.event.id", "$as": "money"}}, "/steps/0/input/v", "needs the parameter 'currency'"),
    ({"v": {"$path": "$.event.id", "curency": "USD", "$as": "money"}}, "/steps/0/input/v/curency", 'did you mean "currency"'),
    ({"v": {"$lookup": "acounts", "key": "x"}}, "/steps/0/input/v/$lookup", 'did you mean "accounts"'),
    ({"v": {"$lookup": "accounts", "key": "recievable"}}, "/steps/0/input/v/key", 'did you mean "receivable"'),
    ({"v": {"$each": "$.event.lines[*]"}}, "/steps/0/input/v", "needs a \"map\""),
    ({"v": {"$if": {"path": "$.event.id", "eqq": 1}, "then": 1}}, "/steps/0/input/v/$if/eqq", 'did you mean "eq"'),
    ({"v": {"$concat": "abc"}}, "/steps/0/input/v/$concat", "list"),
])
def test_compile_problems_name_pointer_and_fix(template, pointer, words):
    _, problems = compile_expr(template, lookups={"accounts": {"receivable": "84"}})
    assert problems, "expected a problem"
    assert any(p.pointer == pointer and words in p.message for p in problems), [str(p) for p in problems]


def test_no_eval_anywhere():
    # an expression that would run code in an eval-based engine is only a string here
    payload = "__import__('os').system('echo pwned')"
    assert evaluate({"v": {"$concat": [payload]}}, DOC) == {"v": payload}
    _, problems = compile_expr({"v": {"$path": payload}})
    assert problems


def test_missing_sentinel_is_falsey_and_private():
    assert not MISSING
