"""Reading JSON: only what every later step can store, map and send."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from ledgerlink import jsonio


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_is_read_up_to_the_limit_and_refused_beyond_it_with_where():
    assert jsonio.loads(nested(jsonio.MAX_DEPTH)) is not None
    with pytest.raises(jsonio.JSONDecodeError, match="nested more than 100 deep") as refused:
        jsonio.loads('{"a":\n  ' + nested(jsonio.MAX_DEPTH + 1) + "}")
    assert (refused.value.line, refused.value.column) == (2, 3 + jsonio.MAX_DEPTH - 1)
    with pytest.raises(jsonio.JSONDecodeError, match="nested more than 100 deep"):
        jsonio.loads(nested(100_000))  # far past the recursion limit: still a clear error
    # brackets inside strings, escaped quotes included, are text, not nesting
    assert jsonio.loads('["' + '\\"[{' * 500 + '"]') == ['"[{' * 500]
    assert jsonio.loads(nested(5), max_depth=5) == [[[[[]]]]]


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udc00"', '{"\\uDBFF": 1}', '"\\ud83d\\ud83d\\ude00"',
                                  '"\\ude00\\ud83d"', '["x", "\\\\\\ud800"]'])
def test_a_lone_surrogate_is_refused_with_its_position(text):
    with pytest.raises(jsonio.JSONDecodeError, match="lone UTF-16 surrogate") as refused:
        jsonio.loads(text)
    assert refused.value.line == 1 and text[refused.value.column - 1] == "\\"


def test_surrogate_pairs_and_escaped_backslashes_are_text():
    assert jsonio.loads('"\\ud83d\\ude00 \\uD83D\\uDE00"') == "\U0001F600 \U0001F600"
    assert jsonio.loads('"\\\\ud800"') == "\\ud800"  # a backslash, then the letters ud800
    assert jsonio.loads('"\\u0000"') == "\x00"  # a real (if unusual) character


def test_a_surrogate_in_decoded_text_is_refused():
    with pytest.raises(jsonio.JSONDecodeError, match="U\\+D800"):
        jsonio.loads('"\ud800"')
    with pytest.raises(UnicodeDecodeError):
        jsonio.loads(b'"\xed\xa0\x80"')  # the UTF-8 bytes of U+D800 are not UTF-8


def test_an_integer_too_long_to_convert_is_a_decode_error():
    with pytest.raises(jsonio.JSONDecodeError, match="more digits than can be read"):
        jsonio.loads("1" * 5000)


def test_pathological_text_is_refused_in_linear_time():
    """Unterminated strings full of escapes, and thousands of open strings, are refused in
    milliseconds. A backtracking regular expression would hold the GIL for ages, so the
    texts are read in a child process with a generous liveness bound (not a timing)."""
    import subprocess
    import sys

    code = """if True:
        from ledgerlink import jsonio
        for text in ['"' + "a" * 1_000_000 + "[" * 101, '"' + 'a\\\\"' * 300_000 + "[" * 101,
                     '"' + "\\\\" * 500_001 + "[" * 101, '["' * 200_000]:
            try:
                jsonio.loads(text)
            except jsonio.JSONDecodeError:
                continue
            raise SystemExit("read: " + text[:20])
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def holds_a_surrogate(value) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(holds_a_surrogate(k) or holds_a_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_a_surrogate(v) for v in value)
    return False


#: JSON text built by hand: strings of escapes that matter (escaped quotes and backslashes,
#: brackets, surrogate pairs and lone halves), nested in arrays and objects, then maybe cut short
json_strings = st.lists(st.sampled_from(["a", "[", "{", "]", '\\"', "\\\\", "\\u0041", "\\ud83d\\ude00",
                                         "\\ud800", "\\udc00", "\\\\ud800"]), max_size=4).map(
    lambda parts: '"' + "".join(parts) + '"')
json_texts = st.recursive(
    json_strings | st.sampled_from(["1", "-2.50", "1E+5", "-0.0", "2e-3", "123456789012345678901234567890",
                                    "true", "null"]),
    lambda inner: st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    | st.lists(st.tuples(json_strings, inner), max_size=3).map(
        lambda pairs: "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"),
    max_leaves=12)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(text=json_texts, cut=st.one_of(st.none(), st.integers(min_value=0, max_value=80)))
def test_any_text_is_read_as_the_standard_parser_reads_it_unless_it_holds_a_surrogate(text, cut):
    if cut is not None:
        text = text[:cut]
    try:
        expected = json.loads(text, parse_float=Decimal)
    except ValueError:
        expected = ValueError
    try:
        got = jsonio.loads(text)
    except jsonio.JSONDecodeError:
        got = ValueError
    # every key and value, those of repeated keys too (a later one replaces them in a dict)
    if expected is not ValueError and holds_a_surrogate(json.loads(text, object_pairs_hook=list)):
        assert got is ValueError, text
    else:
        assert got == expected, text


def _simplejson(value, sort_keys=False):
    import simplejson
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False, separators=(",", ":"),
                            sort_keys=sort_keys, default=jsonio._default)


_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63 - 1)
            | st.decimals(allow_nan=False, allow_infinity=False) | st.text())
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.booleans())
def test_compact_json_is_the_text_simplejson_writes_decimals_exact(value, sort_keys):
    expected = _simplejson(value, sort_keys)
    assert jsonio.dumps(value, sort_keys=sort_keys) == expected
    if not sort_keys:
        assert jsonio.dumpb(value) == expected.encode("utf-8")


def test_what_orjson_would_write_its_own_way_is_written_as_before():
    import collections
    import enum

    class Kind(str, enum.Enum):
        PAID = "paid"

    class Level(enum.IntEnum):
        TWO = 2

    class Label(str):
        pass

    value = {"kind": Kind.PAID, "level": Level.TWO, "label": Label("x"), "pair": (1, Decimal("0.10")),
             "set": {3}, "ordered": collections.OrderedDict(b=1, a=2), "big": 10**30, 7: "int key",
             "money": [Decimal("12.50"), Decimal("1E+2"), Decimal("-0.00")]}
    assert jsonio.dumps(value) == _simplejson(value)
    assert jsonio.dumpb(value) == _simplejson(value).encode("utf-8")
    assert jsonio.loads(jsonio.dumps(value, indent=2)) == jsonio.loads(_simplejson(value))


def test_what_json_cannot_hold_is_refused_by_both_writers():
    import dataclasses
    import datetime

    @dataclasses.dataclass
    class Point:
        x: int

    for value in (Point(1), datetime.date(2026, 12, 1), object()):
        with pytest.raises(TypeError):
            jsonio.dumps({"v": value})
        with pytest.raises(TypeError):
            jsonio.dumpb([value])


@pytest.mark.parametrize("text, expected", [
    ('{"amount": 1234, "rate": 1.10, "tiny": 1e-7}', {"amount": 1234, "rate": Decimal("1.10"), "tiny": Decimal("1e-7")}),
    ('[18446744073709551616, -9223372036854775809, 12]', [18446744073709551616, -9223372036854775809, 12]),
    ('{"a": 1, "a": 2, "b": [{"c": [0.5]}]}', {"a": 2, "b": [{"c": [Decimal("0.5")]}]}),
    ('{"id": "evt_1", "n": -0, "ok": true, "none": null}', {"id": "evt_1", "n": 0, "ok": True, "none": None}),
])
def test_numbers_are_exact_whichever_parser_read_them(text, expected):
    value = jsonio.loads(text)
    assert value == expected and json.dumps(value, default=str) == json.dumps(expected, default=str)
    assert not any(isinstance(v, float) for v in _leaves(value))


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
