"""The check before a later step of an approved run: the earlier answers its mapping read are
recorded as shown (``answers_read``), and the step is sent when its input, mapped with those
answers as shown, is the reviewed one, whatever expression used them; anything else that
changed shows the step again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ledgerlink import jsonio
from ledgerlink.engine.review_steps import ShownAgain, answers_used, step_check
from ledgerlink.recipes.paths import ANSWERS_READ
from ledgerlink.testing.expressions import compile_expr

LOOKUPS = {"terms": {"58": "net 30", "71": "net 60"}}
INPUT = {
    "customer": {"$path": "$.steps.customer.id"},
    "memo": {"$concat": ["Customer ", {"$path": "$.steps.customer.id"}, " paid ", {"$path": "$.event.total"}]},
    "terms": {"$lookup": "terms", "key": {"$path": "$.steps.customer.id"}},
    "tier": {"$if": {"path": "$.steps.customer.vip", "eq": True}, "then": "gold", "else": "standard"},
}


def step():
    evaluate, problems = compile_expr(INPUT, lookups=LOOKUPS, steps=("customer",))
    assert problems == []
    return SimpleNamespace(id="entry", when=None, input=evaluate)


def doc(customer: dict, total: int = 2500) -> dict:
    return {"event": {"total": total}, "steps": {"customer": customer}, "lookups": LOOKUPS, "linked": {}}


def reviewed(entry) -> str:
    """The plan of a review: the entry mapped with the sample answer, the answers it read recorded."""
    sample = doc({"id": "58", "vip": False})
    sample[ANSWERS_READ] = {}
    shown = entry.input(sample)
    read = sample.pop(ANSWERS_READ)
    assert read == {"$.steps.customer.id": "58", "$.steps.customer.vip": False}
    assert shown == {"customer": "58", "memo": "Customer 58 paid 2500", "terms": "net 30", "tier": "standard"}
    return jsonio.dumps({"steps": [{"id": "customer"},
                                   {"id": "entry", "input": shown, "answers_read": read}]})


def test_answers_used_through_any_expression_are_compared_with_the_real_ones():
    entry = step()
    check = step_check(reviewed(entry), None)
    check(entry, doc({"id": "71", "vip": True}))  # other id, other terms, other tier: sent


def test_a_change_that_is_not_an_answer_shows_the_step_again():
    entry = step()
    check = step_check(reviewed(entry), None)
    with pytest.raises(ShownAgain) as again:
        check(entry, doc({"id": "71", "vip": True}, total=2600))  # the event changed since the review
    assert again.value.step_id == "entry" and again.value.live_input["memo"] == "Customer 71 paid 2600"


def test_a_plan_without_the_answers_read_shows_the_step_again():
    entry = step()
    plan = jsonio.loads(reviewed(entry))
    del plan["steps"][1]["answers_read"]  # nothing says the id was a placeholder
    with pytest.raises(ShownAgain):
        step_check(jsonio.dumps(plan), None)(entry, doc({"id": "71", "vip": False}))


def test_the_places_an_answer_makes_are_marked_whole_or_within_their_expression():
    assert answers_used(INPUT) == [
        {"at": ["customer"], "from": "$.steps.customer.id"},
        {"at": ["memo"], "from": "$.steps.customer.id", "within": "$concat"},
        {"at": ["terms"], "from": "$.steps.customer.id", "within": "$lookup"},
        {"at": ["tier"], "from": "$.steps.customer.vip", "within": "$if"}]
