"""notify.webhook through the host's own sender (governed, authenticated, logged) to a real
receiver on loopback: the JSON or Slack body as mapped, the address kept secret when it is a
credential, the body signed, and every answer classified (2xx ok, 429/5xx retry, else fail)."""

from __future__ import annotations

import json

import pytest
from receiver import create_app

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import ActionContext
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import InputError, VendorError
from ledgerlink.io.outbound import Sent
from ledgerlink.recipes.recipe import load_recipe
from ledgerlink.store import Store
from ledgerlink.testing import drive
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink_notify.signing import HEADER, verify
from ledgerlink_notify.webhook_action import WEBHOOK

SIGNING_SECRET = "notify-signing-secret-5b2e"
SLACK = {"format": "slack", "text": "*3 runs failed*", "details": {"Recipe": "qbo-journal", "Runs": 3}}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A receiver, and a runtime with two notify connections to it: ``hook`` (a plain address,
    signed) and ``slack`` (the address a secret)."""
    with running(create_app()) as receiver:
        monkeypatch.setenv("LL_NOTIFY_SIGNING", SIGNING_SECRET)
        monkeypatch.setenv("LL_SLACK_URL", f"{receiver.url}/hooks/T000/B000/XXXXSECRETXXXX")
        config = tmp_path / "ledgerlink.toml"
        config.write_text(f'[connections.hook]\nconnector = "notify"\nurl = "{receiver.url}/hooks/ops"\n'
                          'signing_secret = "${LL_NOTIFY_SIGNING}"\n\n'
                          '[connections.slack]\nconnector = "notify"\nsecret_url = "${LL_SLACK_URL}"\n')
        catalog = load_catalog()
        runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)))
        try:
            yield runtime, receiver
        finally:
            runtime.close()


def post(runtime: Runtime, connection: str, data: dict, records: list[Sent] | None = None) -> dict:
    ctx = ActionContext(connection=runtime.connections.connection(connection), idempotency_key="run-3-step-hook")
    return drive(WEBHOOK.perform(data, ctx), runtime.connections.transport(connection, records)).value


def test_a_json_body_is_posted_signed_with_the_runs_key(world):
    runtime, receiver = world
    output = post(runtime, "hook", {"body": {"recipe": "qbo-journal", "failed": 3, "amount": "12.50"}})
    [(headers, body)] = receiver.sandbox.posts
    assert json.loads(body) == {"recipe": "qbo-journal", "failed": 3, "amount": "12.50"}
    assert headers["Idempotency-Key"] == "run-3-step-hook"
    assert verify(headers, body, SIGNING_SECRET) and not verify(headers, body + b" ", SIGNING_SECRET)
    assert output == {"status": 200, "answer": "ok"}


def test_the_slack_format_is_slacks_incoming_webhook_body(world):
    runtime, receiver = world
    post(runtime, "slack", SLACK)
    [(headers, body)] = receiver.sandbox.posts
    assert json.loads(body) == {"text": "*3 runs failed*", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*3 runs failed*"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Recipe*\nqbo-journal"},
                                       {"type": "mrkdwn", "text": "*Runs*\n3"}]}]}
    assert HEADER not in headers  # no signing secret on this connection


def test_a_secret_address_is_sent_to_and_never_logged_or_shown(world, tmp_path):
    runtime, receiver = world
    records: list[Sent] = []
    post(runtime, "slack", SLACK, records)
    assert len(receiver.sandbox.posts) == 1
    assert "XXXXSECRETXXXX" not in json.dumps(records[0].request)
    assert "[REDACTED]" in records[0].request["url"]
    hook = post_recorded(runtime)
    assert SIGNING_SECRET not in json.dumps(hook.request) and header(hook.request, HEADER) == "[REDACTED]"


def header(shown: dict, name: str) -> str | None:
    return next((v for k, v in shown["headers"].items() if k.lower() == name.lower()), None)


def post_recorded(runtime: Runtime) -> Sent:
    records: list[Sent] = []
    post(runtime, "hook", {"body": {"a": 1}}, records)
    return records[0]


@pytest.mark.parametrize("status, kind", [(500, "retry"), (503, "retry"), (429, "retry"), (404, "permanent"),
                                          (401, "permanent"), (400, "permanent"), (302, "permanent")])
def test_answers_are_classified_retry_later_or_fail(world, status, kind):
    runtime, receiver = world
    receiver.sandbox.answers.append((status, {"Retry-After": "7"} if status == 429 else {}))
    with pytest.raises(VendorError) as refused:
        post(runtime, "hook", {"body": {"a": 1}})
    assert refused.value.kind == kind and refused.value.http_status == status
    if status == 429:
        assert refused.value.retry_after == 7


def test_every_input_problem_is_named_at_once(world):
    runtime, _ = world
    with pytest.raises(InputError) as bad:
        post(runtime, "slack", {"format": "slack", "text": 5, "details": {str(i): i for i in range(11)}, "body": {}})
    for pointer in ("/text", "/details", "/body"):
        assert pointer in str(bad.value)
    with pytest.raises(InputError) as json_bad:
        post(runtime, "hook", {"format": "xml", "text": "a"})
    for pointer in ("/format", "/body", "/text"):
        assert pointer in str(json_bad.value)


def test_a_connection_with_no_address_fails_naming_the_setting(tmp_path, monkeypatch):
    config = tmp_path / "ledgerlink.toml"
    config.write_text('[connections.slack]\nconnector = "notify"\n')
    catalog = load_catalog()
    runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)))
    try:
        with pytest.raises(VendorError) as missing:
            post(runtime, "slack", SLACK)
        assert "'secret_url'" in missing.value.message and missing.value.kind == "permanent"
    finally:
        runtime.close()


def test_dry_run_shows_the_exact_body_and_neither_the_address_nor_the_signature(world, tmp_path):
    runtime, _ = world
    recipe_file = tmp_path / "alert.json"
    recipe_file.write_text(json.dumps({
        "id": "alert", "version": 1, "description": "a test alert",
        "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
        "steps": [{"id": "slack", "action": "notify.webhook", "connection": "slack", "input": SLACK},
                  {"id": "hook", "action": "notify.webhook", "connection": "hook", "input": {"body": {"a": 1}}}]}))
    recipe = load_recipe(recipe_file, runtime.catalog, runtime.config)
    report = dry_run(recipe, runtime.catalog, runtime.config)
    slack, hook = (step["request"] for step in report["steps"])
    shown = json.dumps(report)
    assert "XXXXSECRETXXXX" not in shown and SIGNING_SECRET not in shown
    assert slack["url"].startswith("[REDACTED]") and slack["body"]["text"] == "*3 runs failed*"
    assert header(hook, HEADER) == "[REDACTED]" and hook["body"] == {"a": 1}
