"""A recipe as text: where a JSON pointer lands (nested objects, arrays, RFC 6901's escaped
``~0``/``~1`` keys, a property the text lacks), and the diff of two stored versions."""

import json

import pytest

from ledgerlink.recipes.text import LineRange, pointer_lines, pretty, version_diff

RECIPE = """{
  "id": "stripe-invoice",
  "version": 3,
  "trigger": {"name": "stripe.invoice.paid", "connection": "stripe"},
  "steps": [
    {
      "id": "customer",
      "input": {"name": "$.event.data.object.customer_name"}
    },
    {
      "id": "entry",
      "input": {
        "a/b": 1,
        "m~n": {"x": [10,
                      20.50]},
        "empty": {},
        "list": []
      }
    }
  ]
}
"""


@pytest.mark.parametrize("pointer, lines", [
    ("", (1, 21)),
    ("/id", (2, 2)),
    ("/trigger/name", (4, 4)),
    ("/steps", (5, 20)),
    ("/steps/0", (6, 9)),
    ("/steps/1/input", (12, 18)),
    ("/steps/1/input/a~1b", (13, 13)),
    ("/steps/1/input/m~0n", (14, 15)),
    ("/steps/1/input/m~0n/x/1", (15, 15)),
    ("/steps/1/input/empty", (16, 16)),
    ("/steps/1/input/list", (17, 17)),
    ("#/steps/0/id", (7, 7)),
])
def test_a_pointer_lands_on_the_lines_of_its_key_and_value(pointer, lines):
    assert pointer_lines(RECIPE, pointer) == LineRange(*lines, exact=True, found=pointer.lstrip("#"))


@pytest.mark.parametrize("pointer, lines, found", [
    ("/steps/1/input/amount", (12, 18), "/steps/1/input"),   # a required property missing
    ("/steps/2", (5, 20), "/steps"),                         # past the end of an array
    ("/steps/01", (5, 20), "/steps"),                        # not an index as RFC 6901 writes one
    ("/id/x", (2, 2), "/id"),                                # inside a string
    ("/steps/1/input/a/b", (12, 18), "/steps/1/input"),      # "a/b" must be written a~1b
])
def test_a_pointer_to_what_the_text_lacks_lands_on_the_nearest_thing_it_holds(pointer, lines, found):
    assert pointer_lines(RECIPE, pointer) == LineRange(*lines, exact=False, found=found)


def test_keys_are_read_as_json_reads_them_escapes_included_and_the_last_of_a_repeated_key_wins():
    text = '{\n"caf\\u00e9": 1,\n"k": 1,\n"k": {"q": "\\"}"}\n}'
    assert pointer_lines(text, "/café") == LineRange(2, 2, True, "/café")
    assert pointer_lines(text, "/k/q") == LineRange(4, 4, True, "/k/q")


def test_text_that_is_not_json_or_a_pointer_that_is_not_one_is_refused():
    with pytest.raises(ValueError):
        pointer_lines('{"a": ', "/a")
    with pytest.raises(ValueError):
        pointer_lines(RECIPE, "steps/0")


def test_pretty_keeps_key_order_and_exact_numbers():
    assert pretty('{"b": 1.10, "a": [1e2]}') == '{\n  "b": 1.10,\n  "a": [\n    1E+2\n  ]\n}\n'


def test_the_diff_of_two_versions_shows_what_changed_not_how_it_was_spaced():
    old = json.dumps({"id": "r", "version": 1, "steps": [{"id": "a", "memo": "x"}]})
    new = json.dumps({"id": "r", "version": 2, "steps": [{"id": "a", "memo": "y"}]}, indent=8)
    diff = version_diff("r", (1, old), (2, new))
    assert diff.startswith("--- r version 1\n+++ r version 2\n@@ ")
    assert [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        '-  "version": 1,', '+  "version": 2,', '-      "memo": "x"', '+      "memo": "y"']
    assert version_diff("r", (1, old), (1, json.dumps(json.loads(old), indent=4))) == ""
