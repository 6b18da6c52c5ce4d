"""The inbox refuses an event holding text no database column can hold (NUL, a lone
surrogate) and names its place; the common answer, none, comes from one pass of the C JSON
encoder. Checked here against a plain recursive reading of every key and string, on any
JSON-like value: Decimals (as jsonio reads numbers), characters beyond U+FFFF (written as a
surrogate pair by the encoder, yet storable), NUL and lone surrogates in keys and strings,
nesting deeper than the encoder's recursion.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from ledgerlink.contract import IncomingEvent
from ledgerlink.engine.inbox import _unstorable_text, check_storable
from ledgerlink.errors import EventError

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_texts(value: Any) -> bool:
    """Whether any key or string of ``value`` holds NUL or a surrogate (the plain reading)."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(unstorable_texts(k) or unstorable_texts(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable_texts(item) for item in value)
    return False


TEXT = st.text(st.characters(codec=None, exclude_categories=()) | st.sampled_from(["\x00", "\ud800", "\udfff", "😀"]),
               max_size=8)
SCALAR = (TEXT | st.integers() | st.decimals(allow_nan=False, allow_infinity=False) | st.booleans() | st.none())
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                     max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(VALUE)
def test_the_fast_answer_agrees_with_reading_every_key_and_string(value):
    found = _unstorable_text(value)
    assert (found is not None) == unstorable_texts(value)
    if found is not None:
        assert UNSTORABLE.fullmatch(found[1])


def test_storable_text_beyond_the_basic_plane_and_decimals_are_not_refused():
    assert _unstorable_text({"name": "Café 😀", "amount": Decimal("12.50"), "lines": [{"n": 1}]}) is None


def test_the_place_is_named_in_keys_strings_and_below_the_encoders_recursion():
    assert _unstorable_text({"a": [{"b": "x\x00"}], "amount": Decimal("1.5")}) == ("/a/0/b", "\x00")
    assert _unstorable_text({"k\ud800": 1}) == ("/k\ud800", "\ud800")
    deep: Any = "\udc00"
    for _ in range(5000):
        deep = [deep]
    assert _unstorable_text(deep) == ("/0" * 5000, "\udc00")


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


@settings(max_examples=300, deadline=None)
@given(VALUE, st.booleans())
def test_an_event_delivered_with_its_json_text_is_refused_exactly_when_its_payload_holds_one(value, ascii_only):
    """The one scan of the delivered text (``raw``) agrees with reading the payload, whether
    the sender escaped every non-ASCII character or wrote them as themselves."""
    raw = json.dumps(value, ensure_ascii=ascii_only, default=str)
    event = IncomingEvent(id="evt_1", trigger="stripe.invoice.paid", payload=value, raw=raw)
    if unstorable_texts(value):
        with pytest.raises(EventError):
            check_storable("stripe", event)
    else:
        check_storable("stripe", event)


@pytest.mark.parametrize("raw, payload", [
    ('{"note": "a\\\\u0000b"}', {"note": "a\\u0000b"}),  # an escaped backslash, then u0000: storable
    ('{"note": "\\ud83d\\ude00"}', {"note": "😀"}),  # a surrogate pair: one character, storable
])
def test_text_that_only_looks_unstorable_is_read_the_long_way_and_stored(raw, payload):
    assert json.loads(raw) == payload
    check_storable("stripe", IncomingEvent(id="evt_1", trigger="stripe.invoice.paid", payload=payload, raw=raw))


def test_a_nul_escaped_in_the_delivered_text_is_named_at_its_pointer():
    raw = '{"data": {"object": {"memo": "x\\u0000"}}}'
    event = IncomingEvent(id="evt_1", trigger="stripe.invoice.paid", payload=json.loads(raw), raw=raw)
    with pytest.raises(EventError) as caught:
        check_storable("stripe", event)
    assert caught.value.details["pointer"] == "/data/object/memo"
