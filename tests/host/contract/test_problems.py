"""Collecting an action's input problems with JSON pointers (ledgerlink.contract.problems)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.contract import Problems, begin, date, line_objects, show, text, unknown_keys
from ledgerlink.errors import InputError


@pytest.mark.parametrize("value, shown", [
    (True, "the boolean true"), (None, "null"), (1.5, "the float 1.5"), ("12", "str '12'"),
    (7, "int 7"), (Decimal("1.0"), "Decimal Decimal('1.0')"), ([1], "list [1]"),
])
def test_show_names_a_value_with_its_type(value, shown):
    assert show(value) == shown


def test_problems_are_collected_once_each_and_raised_together():
    problems = Problems("acme.create_invoice", "an invoice")
    problems.raise_if_any()  # none yet: nothing raised
    problems.add("/Date", "must be a date")
    problems.add("", "the input is empty")
    problems.add("/Date", "must be a date")
    assert problems.count() == 2
    with pytest.raises(InputError) as caught:
        problems.raise_if_any()
    assert str(caught.value) == ("acme.create_invoice: the input cannot become an invoice: "
                                 "/Date: must be a date; /: the input is empty")
    assert caught.value.details["problems"] == ["/Date: must be a date", "/: the input is empty"]


def test_begin_refuses_what_is_not_an_object_at_once():
    with pytest.raises(InputError, match="the input must be an object, got list"):
        begin("acme.create_invoice", "an invoice", [1], ("Date",))


def test_begin_reports_every_unknown_key():
    problems = begin("acme.create_invoice", "an invoice", {"Date": 1, "Dtae": 2, "memo": 3},
                     ("Date", "Memo"))
    assert problems.items == ["/Dtae: unknown input 'Dtae'; inputs are Date, Memo",
                              "/memo: unknown input 'memo'; inputs are Date, Memo"]
    assert begin("acme.x", "x", {"anything": 1}, None).items == []


def test_unknown_keys_sorts_keys_of_any_type():
    problems = Problems("a.b", "c")
    unknown_keys({"b": 1, "a": 2, "ok": 3}, ("ok",), "/Lines/0", "line key", problems)
    assert problems.items == ["/Lines/0/a: unknown line key 'a'; line keys are ok",
                              "/Lines/0/b: unknown line key 'b'; line keys are ok"]


def test_line_objects_yields_only_good_lines_and_reports_the_others():
    problems = Problems("a.b", "c")
    lines = [{"Amount": "1"}, "x", {"Amount": "2", "Extra": 1}, {}, {"Amount": "3"}]
    good = list(line_objects(lines, ("Amount",), ("Amount",), problems,
                             array_of="lines", line_is="an object with Amount"))
    assert [(index, where) for index, where, _ in good] == [(0, "/Lines/0"), (4, "/Lines/4")]
    assert problems.items == [
        "/Lines/1: line 1 must be an object with Amount, got str 'x'",
        "/Lines/2/Extra: unknown line key 'Extra'; line keys are Amount",
        "/Lines/3: line 3 lacks Amount",
    ]


@pytest.mark.parametrize("raw", [None, [], "lines", {}])
def test_line_objects_needs_a_non_empty_array(raw):
    problems = Problems("a.b", "c")
    assert list(line_objects(raw, (), (), problems, array_of="entries", line_is="x",
                             field="Entries")) == []
    assert problems.items == [f"/Entries: must be a non-empty array of entries, got {show(raw)}"]


def test_text_names_who_keeps_only_so_many_characters():
    problems = Problems("a.b", "c")
    assert text("ok", "/Memo", "Memo", 2, problems, keeper="Acme") == "ok"
    assert text("long", "/Memo", "Memo", 2, problems, keeper="Acme") is None
    assert text(12, "/Memo", "Memo", 2, problems, keeper="Acme") is None
    assert problems.items == ["/Memo: Memo is 4 characters long; Acme keeps at most 2, so shorten it",
                              "/Memo: Memo must be a string, got int 12"]


@pytest.mark.parametrize("value, message", [
    ("2024-02-30", "'2024-02-30' is not a calendar date"),
    ("2024-2-3", "must be a date written YYYY-MM-DD, got str '2024-2-3'"),
    ("2024-02-03\n", "must be a date written YYYY-MM-DD, got str '2024-02-03\\n'"),
    (20240203, "must be a date written YYYY-MM-DD, got int 20240203"),
])
def test_date_refuses_what_is_not_a_calendar_date(value, message):
    problems = Problems("a.b", "c")
    assert date(value, "/Date", problems) is None
    assert problems.items == [f"/Date: {message}"]
    assert date("2024-02-29", "/Date", problems) == "2024-02-29"
