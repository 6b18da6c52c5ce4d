"""Which payloads the inbox refuses for a character no database can store, and where it is."""

from collections import OrderedDict

import pytest

from ledgerlink.engine.inbox import _unstorable_text


@pytest.mark.parametrize("payload, found", [
    ({"a": [1, "x", {"b": None}], "c": 2.5}, None),
    ({"a": [1, "x", {"b": "y\x00"}]}, ("/a/2/b", "\x00")),
    ({"a": {"k\x00/~": 1}}, ("/a/k\x00~1~0", "\x00")),
    (OrderedDict(a=["\ud800"]), ("/a/0", "\ud800")),
    ("plain \udfff", ("", "\udfff")),
    ([[[[["deep"]]]]] * 3, None),
])
def test_the_first_unstorable_character_and_its_pointer(payload, found):
    assert _unstorable_text(payload) == found


def test_nesting_depth_costs_no_stack():
    deep: object = "\x00"
    for _ in range(100_000):
        deep = {"a": [deep]}
    pointer, char = _unstorable_text(deep)
    assert char == "\x00" and pointer.startswith("/a/0/a/0") and len(pointer) == 100_000 * 4
