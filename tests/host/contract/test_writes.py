"""Create once, find what was created, undo, links (ledgerlink.contract.writes).

A small "Acme" ledger is declared with the kit and its generators are driven by hand:
each yielded request is answered as the vendor would.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.contract import (ActionContext, Built, Connection, CreateSteps, LinkQuery,
                                 Request, Response, Schemas, amount, begin, classify,
                                 create_action, linked_target, read_then_delete,
                                 unreadable_write)
from ledgerlink.errors import InputError, VendorError

BASE = "https://acme.invalid/v1"


def _build(input: Mapping[str, Any], ctx: ActionContext) -> Built:
    problems = begin("acme.create_invoice", "an invoice", input, ("Customer", "Total"))
    value = amount(input.get("Total"), "/Total", "Total", problems)
    problems.raise_if_any()
    return Built({"customer": input["Customer"], "total": value}, value)


def _request(built: Built, ctx: ActionContext) -> Request:
    return Request("POST", f"{BASE}/invoices", headers={"Idempotency-Key": ctx.idempotency_key},
                   json=built.body)


def _acme_classify(response: Response) -> VendorError | None:
    return classify(response, vendor="Acme")


def _read(response: Response, built: Built) -> dict[str, Any]:
    if not isinstance(response.json, Mapping) or "id" not in response.json:
        raise unreadable_write(response, "Acme", "invoice")
    return {"id": response.json["id"], "total": built.total}


def _lookup(built: Built, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    answer = yield Request("GET", f"{BASE}/invoices", params={"customer": built.body["customer"]})
    return list(answer.json["invoices"])


def _matches(stored: Mapping[str, Any], built: Built, ctx: ActionContext) -> bool:
    return Decimal(stored["total"]) == built.total


STEPS = CreateSteps(build=_build, request=_request, classify=_acme_classify, read=_read,
                    read_stored=lambda stored, built: {"id": stored["id"], "total": built.total},
                    lookup=_lookup, matches=_matches)

UNDO = read_then_delete(
    read=lambda target, ctx: Request("GET", f"{BASE}/invoices/{target}"),
    delete=lambda target, current, ctx: Request(
        "DELETE", f"{BASE}/invoices/{target}", headers={"If-Match": current.json["version"]}),
    gone=lambda response: response.status == 404, classify=_acme_classify,
    name="undo_invoice")

ACTION = create_action(name="acme.create_invoice", summary="Creates an invoice.",
                       what="an invoice", lookup_keys="customer",
                       schemas=Schemas(input={"type": "object"}, output={"type": "object"},
                                       sample={"Customer": "c1", "Total": "10.00"},
                                       sample_response={"id": "inv_1"}),
                       steps=STEPS, undo=UNDO)

CTX = ActionContext(connection=Connection("books", "acme", {}), idempotency_key="key-1")


def drive(generator: Generator[Any, Response, Any], *answers: Response) -> tuple[list[Any], Any]:
    """Send ``answers`` in turn; the requests yielded and the value returned."""
    sent = [next(generator)]
    for answer in answers:
        try:
            sent.append(generator.send(answer))
        except StopIteration as stop:
            return sent, stop.value
    raise AssertionError(f"the generator wants more answers after {sent}")


def test_the_action_declares_create_once():
    assert (ACTION.idempotency, ACTION.undo, ACTION.status) == ("key", UNDO, "stable")
    assert ACTION.perform.__name__ == "perform_create_invoice"
    assert ACTION.find_existing.__name__ == "find_existing_create_invoice"
    assert "the entities of the same customer" in ACTION.find_existing.__doc__
    assert ACTION.sample_response_for(_request(Built({}, Decimal(0)), CTX)).json == {"id": "inv_1"}


def test_perform_yields_one_keyed_request_and_reads_the_answer():
    sent, output = drive(ACTION.perform({"Customer": "c1", "Total": "10.00"}, CTX),
                         Response(201, json={"id": "inv_9"}))
    assert sent == [Request("POST", f"{BASE}/invoices", headers={"Idempotency-Key": "key-1"},
                            json={"customer": "c1", "total": Decimal("10.00")})]
    assert output == {"id": "inv_9", "total": Decimal("10.00")}


def test_input_problems_raise_before_any_request():
    with pytest.raises(InputError, match="/Total: Total is the float 1.5") as caught:
        next(ACTION.perform({"Customer": "c1", "Total": 1.5, "Extra": 1}, CTX))
    assert len(caught.value.details["problems"]) == 2


def test_a_refusal_raises_the_classified_error():
    generator = ACTION.perform({"Customer": "c1", "Total": "10.00"}, CTX)
    next(generator)
    with pytest.raises(VendorError) as caught:
        generator.send(Response(429, headers={"Retry-After": "2"}))
    assert (caught.value.kind, caught.value.retry_after) == ("retry", 2.0)


def test_an_unreadable_answer_is_an_unknown_outcome():
    generator = ACTION.perform({"Customer": "c1", "Total": "10.00"}, CTX)
    next(generator)
    with pytest.raises(VendorError) as caught:
        generator.send(Response(200, text="<html>", headers={"Content-Type": "text/html"}))
    assert caught.value.kind == "unknown"


def test_find_existing_matches_what_the_step_sends():
    input = {"Customer": "c1", "Total": "10.00"}
    stored = {"invoices": [{"id": "inv_1", "total": "9.00"}, {"id": "inv_2", "total": "10.00"}]}
    sent, output = drive(ACTION.find_existing(input, CTX), Response(200, json=stored))
    assert sent == [Request("GET", f"{BASE}/invoices", params={"customer": "c1"})]
    assert output == {"id": "inv_2", "total": Decimal("10.00")}
    _, nothing = drive(ACTION.find_existing(input, CTX), Response(200, json={"invoices": []}))
    assert nothing is None


def test_undo_reads_then_deletes():
    sent, output = drive(UNDO("inv_2", CTX), Response(200, json={"version": "v3"}),
                         Response(204))
    assert [(r.method, r.url, dict(r.headers)) for r in sent] == [
        ("GET", f"{BASE}/invoices/inv_2", {}),
        ("DELETE", f"{BASE}/invoices/inv_2", {"If-Match": "v3"})]
    assert output == {"id": "inv_2", "status": "deleted"}
    assert UNDO.__name__ == "undo_invoice"


@pytest.mark.parametrize("answers", [
    [Response(404)],
    [Response(200, json={"version": "v3"}), Response(404)],
])
def test_undo_of_an_entity_already_gone_is_done(answers):
    _, output = drive(UNDO("inv_2", CTX), *answers)
    assert output == {"id": "inv_2", "status": "already gone"}


def test_undo_raises_a_refusal():
    generator = UNDO("inv_2", CTX)
    next(generator)
    with pytest.raises(VendorError, match="refused the credentials"):
        generator.send(Response(401))


@pytest.mark.parametrize("answer, target", [
    ({"target_id": "42"}, "42"), ({"target_id": 42}, "42"), ({"target_id": None}, None),
    (None, None),
])
def test_linked_target_asks_the_links_table(answer, target):
    sent, found = drive(linked_target("in_1", "acme.customer"), Response(200, json=answer))
    assert sent == [LinkQuery(source_id="in_1", target_type="acme.customer")]
    assert found == target
