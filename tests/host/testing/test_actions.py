"""ledgerlink.testing.actions: driving generators by hand and reading deliveries as the host does."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from flask import Flask, request

from ledgerlink.contract import Connector, IncomingEvent, LinkQuery, Poll, Request, Response, Webhook
from ledgerlink.errors import PluginError, SignatureError
from ledgerlink.testing import (Driven, HttpSender, LinkTable, Script, context, drive, first_request,
                                over_http, poll, read_webhook, response_of, signed_headers)
from ledgerlink.web.servers import background

CTX = context("acme", {"base_url": "http://127.0.0.1:9"}, key="key-1", step_id="s")


def create_or_reuse(value: Mapping[str, Any], ctx):
    """An action as connectors write them: ask the links table, else look up, else create."""
    linked = yield LinkQuery(source_id=value["source"], target_type="Thing")
    if linked.json["target_id"] is not None:
        return {"id": linked.json["target_id"]}
    found = yield Request("GET", f"{ctx.connection.settings['base_url']}/things",
                          params={"name": value["name"]})
    if found.json["things"]:
        return {"id": found.json["things"][0]["id"]}
    made = yield Request("POST", f"{ctx.connection.settings['base_url']}/things",
                         headers={"Idempotency-Key": ctx.idempotency_key}, json={"name": value["name"]})
    if made.status != 201:
        raise RuntimeError(f"refused: {made.status}")
    return {"id": made.json["id"], "link": {"source_id": value["source"], "target_type": "Thing"}}


def test_drive_answers_in_order_and_collects_requests_and_link_queries():
    driven = drive(create_or_reuse({"source": "cus_1", "name": "Ada"}, CTX),
                   Script({"things": []}, Response(201, json={"id": "7"})))
    assert driven.value == {"id": "7", "link": {"source_id": "cus_1", "target_type": "Thing"}}
    assert [(r.method, r.url) for r in driven.requests] == [("GET", "http://127.0.0.1:9/things"),
                                                            ("POST", "http://127.0.0.1:9/things")]
    assert driven.requests[1].headers == {"Idempotency-Key": "key-1"}
    assert driven.link_queries == [LinkQuery("cus_1", "Thing")]


def test_a_plain_list_scripts_too_and_a_callable_sees_each_request():
    assert drive(create_or_reuse({"source": "c", "name": "Ada"}, CTX),
                 [{"things": [{"id": "3"}]}]).value == {"id": "3"}
    seen = []

    def answer(req: Request) -> Response:
        seen.append(req.method)
        return Response(200, json={"things": []}) if req.method == "GET" else Response(201, json={"id": "9"})

    assert drive(create_or_reuse({"source": "c", "name": "Ada"}, CTX), answer).value["id"] == "9"
    assert seen == ["GET", "POST"]


def test_a_request_past_the_script_fails_naming_it():
    script = Script({"things": []})
    with pytest.raises(AssertionError, match="one request more than the script answers: POST http://127.0.0.1:9/things"):
        drive(create_or_reuse({"source": "c", "name": "Ada"}, CTX), script)
    assert script.left == []


def test_links_table_answers_what_an_earlier_run_recorded():
    links = LinkTable()
    first = drive(create_or_reuse({"source": "cus_1", "name": "Ada"}, CTX),
                  Script({"things": []}, Response(201, json={"id": "7"})), links=links)
    links.record(first.value)
    links.record({"id": "8", "link": {"source_id": "cus_1", "target_type": "Thing"}})  # first link wins
    again = drive(create_or_reuse({"source": "cus_1", "name": "Ada"}, CTX), Script(), links=links)
    assert again.value == {"id": "7"} and again.requests == []
    assert links.asked == [LinkQuery("cus_1", "Thing")] * 2


def test_before_send_runs_before_each_answer_and_errors_propagate_keeping_what_was_sent():
    order = []
    sent = Driven()
    with pytest.raises(RuntimeError, match="refused: 409"):
        drive(create_or_reuse({"source": "c", "name": "Ada"}, CTX),
              lambda req: order.append("answer") or (Response(200, json={"things": []})
                                                      if req.method == "GET" else Response(409)),
              before_send=lambda req: order.append(f"before {req.method}"), into=sent)
    assert order == ["before GET", "answer", "before POST", "answer"]
    assert [r.method for r in sent.requests] == ["GET", "POST"] and sent.value is None


def test_first_request_is_not_answered():
    assert first_request(create_or_reuse({"source": "c", "name": "Ada"}, CTX)) == LinkQuery("c", "Thing")

    def nothing_to_send(value, ctx):
        return {}
        yield  # a generator that returns at once

    with pytest.raises(AssertionError, match="without yielding"):
        first_request(nothing_to_send({}, CTX))


def test_over_http_sends_as_the_host_builds_requests():
    app = Flask("things")
    made: list[dict[str, Any]] = []

    @app.get("/things")
    def things():
        return {"things": []}

    @app.post("/things")
    def create():
        made.append({"body": request.get_json(), "auth": request.headers.get("Authorization"),
                     "key": request.headers.get("Idempotency-Key")})
        return {"id": "11"}, 201

    with background(app) as running:
        ctx = context("acme", {"base_url": running.url}, key="key-2")
        checked = []
        driven = over_http(create_or_reuse({"source": "c", "name": "Ada"}, ctx),
                           auth={"Authorization": "Bearer t"}, check=checked.append)
        assert driven.value["id"] == "11"
        assert made == [{"body": {"name": "Ada"}, "auth": "Bearer t", "key": "key-2"}]
        assert checked == driven.requests
        with httpx.Client() as client:
            sender = HttpSender(client)
            assert sender(Request("GET", f"{running.url}/things")).json == {"things": []}
            assert sender(Request("GET", f"{running.url}/nothing")).status == 404
            assert [r.status_code for r in sender.sent] == [200, 404]


def test_response_of_keeps_an_unreadable_body_as_text():
    answer = response_of(httpx.Response(502, text="<html>bad gateway</html>"))
    assert (answer.status, answer.json, answer.text) == (502, None, "<html>bad gateway</html>")


# --- triggers ------------------------------------------------------------------------------

def _sign(body: bytes, secrets: Mapping[str, Any], now: float) -> Mapping[str, str]:
    digest = hmac.new(secrets["secret"].encode(), f"{int(now)}.".encode() + body, hashlib.sha256)
    return {"X-Acme-Signature": f"t={int(now)},v1={digest.hexdigest()}"}


def _verify(headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any], now: float) -> None:
    given = headers.get("x-acme-signature", "")
    stamp = given.partition(",")[0].removeprefix("t=")
    if not stamp.isdigit() or not hmac.compare_digest(dict(_sign(body, secrets, int(stamp)))["X-Acme-Signature"], given):
        raise SignatureError("signature does not verify")
    if abs(now - int(stamp)) > 300:
        raise SignatureError("signature too old")


def _parse(headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    data = json.loads(body)
    return [IncomingEvent(id=e["id"], trigger=f"acme.{e['type']}", payload=e) for e in data["events"]]


def _poll(cursor: str | None, ctx):
    page = yield Request("GET", "http://127.0.0.1:9/changes", params={"after": cursor or "0"})
    return [IncomingEvent(id=e["id"], trigger="acme.thing.changed", payload=e) for e in page.json["changes"]], \
        page.json["cursor"]


ACME = Connector(name="acme", summary="A vendor of things",
                 webhook=Webhook(verify=_verify, parse=_parse, sign=_sign),
                 poll=Poll(summary="changes since the cursor", poll=_poll))


def test_read_webhook_verifies_with_headers_in_any_case_then_parses():
    body = json.dumps({"events": [{"id": "e1", "type": "thing.made"}]}).encode()
    headers = signed_headers(ACME, body, {"secret": "s3"}, now=1_700_000_000)
    lower = {name.lower(): value for name, value in headers.items()}
    [event] = read_webhook(ACME, body, lower, secrets={"secret": "s3"}, now=1_700_000_010)
    assert (event.id, event.trigger) == ("e1", "acme.thing.made")
    with pytest.raises(SignatureError, match="does not verify"):
        read_webhook(ACME, body, headers, secrets={"secret": "other"}, now=1_700_000_010)
    with pytest.raises(SignatureError, match="too old"):
        read_webhook(ACME, body, headers, secrets={"secret": "s3"}, now=1_700_001_000)
    assert [e.id for e in read_webhook(ACME, body)] == ["e1"]  # without secrets: parsing alone


def test_poll_returns_events_cursor_and_requests():
    events, cursor, driven = poll(ACME, "41", CTX, [{"changes": [{"id": "c42"}], "cursor": "42"}])
    assert ([e.id for e in events], cursor) == (["c42"], "42")
    assert driven.requests[0].params == {"after": "41"}
    with pytest.raises(AssertionError, match="does not poll"):
        poll(Connector(name="quiet", summary="No polls"), None, CTX, [])


def _warning_poll(cursor: str | None, ctx):
    page = yield Request("GET", "http://127.0.0.1:9/changes", params={"after": cursor or "0"})
    return [], page.json["cursor"], page.json["warnings"]


def test_poll_takes_warnings_beside_the_cursor_as_the_host_does():
    warned = Connector(name="acme", summary="A vendor that warns",
                       poll=Poll(summary="changes since the cursor", poll=_warning_poll))
    events, cursor, driven = poll(warned, "41", CTX, [{"cursor": "41", "warnings": ["history is 30 days"]}])
    assert (events, cursor, driven.warnings) == ([], "41", ["history is 30 days"])
    assert poll(ACME, "41", CTX, [{"changes": [], "cursor": "42"}])[2].warnings == []
    with pytest.raises(PluginError, match="not a list of sentences"):
        poll(warned, None, CTX, [{"cursor": "1", "warnings": [30]}])
