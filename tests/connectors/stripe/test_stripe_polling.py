"""The Stripe poll: ``/v1/events`` read with a cursor, scripted and against the loopback sandbox.

Scripted answers pin what is asked (types, ``created[gte]``, pages) and what the cursor
becomes; the sandbox shows the same over loopback HTTP, with the sandbox clock moved (never
waited for): pages of events of one second, catch-up after downtime, Stripe's 30 days of
events and the warning past them, and an event that arrives by webhook and by poll stored once.
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from typing import Any

import httpx
import jsonschema
import pytest

import ledgerlink_stripe
from ledgerlink import jsonio
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import Response
from ledgerlink.errors import ConfigError, VendorError
from ledgerlink.testing import HttpSender, Script, context, drive, poll as kit_poll
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe import polling
from ledgerlink_stripe.webhook import parse_webhook
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.worker import Worker
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
import stripe_month as month

KEY = "sk_test_sandbox"
AUTH = {"Authorization": f"Bearer {KEY}"}
START = 1693526400  # 2023-09-01T00:00:00Z
DAY = 86400
TYPES = sorted(ledgerlink_stripe.EVENT_TYPES)


STRIPE = load_catalog().connectors["stripe"]
POLL = STRIPE.poll


def ctx(**settings: Any):
    return context("stripe", {"api_key": KEY, **settings}, connection="payments")


def run_poll(cursor: str | None, answer, **settings: Any):
    """One poll: (events, cursor, warnings, requests)."""
    driven = drive(POLL.poll(cursor, ctx(**settings)), answer)
    events, new_cursor, *rest = driven.value
    return events, new_cursor, (rest[0] if rest else []), driven.requests


def event(ident: str, kind: str, created: int, obj_id: str = "in_1") -> dict[str, Any]:
    prefix = {"invoice": "in", "charge": "ch", "payout": "po", "customer": "cus"}
    obj = {"id": obj_id, "object": kind.split(".")[0] if kind.split(".")[0] in prefix else "charge"}
    return {"id": ident, "object": "event", "api_version": "2023-08-16", "created": created,
            "data": {"object": obj}, "livemode": False, "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None}, "type": kind}


def page(*events: dict[str, Any], more: bool = False, now: int = START + DAY) -> Response:
    return Response(200, headers={"date": formatdate(now, usegmt=True)},
                    json={"object": "list", "url": "/v1/events", "has_more": more, "data": list(events)})


def types_of(request) -> list[str]:
    found = {int(name[6:-1]): value for name, value in request.params.items() if name.startswith("types[")}
    return [found[i] for i in sorted(found)]


# --- scripted ------------------------------------------------------------------------------

def test_the_connector_polls_with_a_sensible_interval_and_a_poll_since_setting():
    assert POLL is not None and POLL.min_seconds >= 1
    schema = ledgerlink_stripe.SETTINGS_SCHEMA
    check = jsonschema.Draft202012Validator(schema)
    for good in ("2026-11-01", "2026-11-01T09:00:00Z", "2026-11-01T09:00:00+01:00", "2026-11-01 09:00"):
        assert not list(check.iter_errors({"poll_since": good})), good
    for bad in ("yesterday", "01/11/2026", "2026-11"):
        assert list(check.iter_errors({"poll_since": bad})), bad


def test_the_first_poll_without_poll_since_starts_now_and_replays_nothing():
    old = event("evt_old", "invoice.paid", START)
    events, cursor, warnings, [request] = run_poll(None, Script(page(old, now=START + 3600)))
    assert events == [] and warnings == []
    assert json.loads(cursor) == {"created": START + 3600, "ids": []}
    assert request.params["limit"] == "1" and types_of(request) == TYPES


def test_the_first_poll_from_poll_since_reads_every_page_oldest_first_as_the_webhook_reads_them():
    newest = [event(f"evt_{n}", "invoice.paid", START + 100 - n, f"in_{n}") for n in range(3)]
    older = [event("evt_3", "charge.succeeded", START + 50, "ch_3"), event("evt_4", "customer.created", START + 50)]
    events, cursor, warnings, requests = run_poll(
        None, Script(page(*newest, more=True), page(*older)), poll_since="2023-09-01")
    assert [e.id for e in events] == ["evt_4", "evt_3", "evt_2", "evt_1", "evt_0"]
    first, second = requests
    assert first.url.endswith("/v1/events") and first.params["created[gte]"] == str(START)
    assert first.params["limit"] == "100" and types_of(first) == TYPES and len(TYPES) <= 20
    assert second.params["starting_after"] == "evt_2" and "starting_after" not in first.params
    assert first.headers["Stripe-Version"] == "2023-08-16"
    # the same event as its webhook: same id, trigger and payload, so the host stores it once
    hooked = parse_webhook({}, jsonio.dumps(newest[0]).encode())[0]
    polled = events[-1]
    assert (polled.id, polled.trigger, polled.payload) == (hooked.id, hooked.trigger, hooked.payload)
    # the cursor stays a minute behind the newest event, with the ids it has seen since
    assert json.loads(cursor) == {"created": START + 40, "ids": [f"evt_{n}" for n in range(5)]}
    assert warnings == []


def test_an_event_listed_late_within_the_overlap_is_still_returned_once():
    seen = event("evt_seen", "invoice.paid", START + 100, "in_seen")
    _, cursor, _, _ = run_poll(polling.write_cursor(START, []), Script(page(seen)))
    late = event("evt_late", "invoice.paid", START + 70, "in_late")  # created before, listed after
    events, cursor, _, [request] = run_poll(cursor, Script(page(seen, late)))
    assert request.params["created[gte]"] == str(START + 100 - polling.OVERLAP_SECONDS)
    assert [e.id for e in events] == ["evt_late"]
    assert run_poll(cursor, Script(page(seen, late)))[0] == []


def test_events_of_the_cursors_second_are_listed_again_and_only_new_ones_returned():
    cursor = polling.write_cursor(START + 10, ["evt_a"])
    listed = [event("evt_c", "invoice.paid", START + 10, "in_c"), event("evt_b", "invoice.paid", START + 10, "in_b"),
              event("evt_a", "invoice.paid", START + 10, "in_a")]
    events, new_cursor, driven = kit_poll(STRIPE, cursor, ctx(), Script(page(*listed)))
    [request] = driven.requests
    assert request.params["created[gte]"] == str(START + 10)
    assert [e.id for e in events] == ["evt_b", "evt_c"]  # Stripe lists newest first
    assert json.loads(new_cursor) == {"created": START + 10, "ids": ["evt_a", "evt_b", "evt_c"]}
    nothing, same, _, _ = run_poll(new_cursor, Script(page(*listed)))
    assert nothing == [] and same == new_cursor


def test_a_cursor_older_than_stripes_30_days_warns_with_the_span_and_the_backfill():
    cursor = polling.write_cursor(START, ["evt_a"])
    now = START + 45 * DAY
    recent = event("evt_r", "payout.paid", now - 3 * DAY, "po_1")
    events, new_cursor, warnings, _ = run_poll(cursor, Script(page(recent, now=now)))
    assert [e.id for e in events] == ["evt_r"]
    text = " ".join(warnings)
    assert "2023-09-01T00:00:00Z to 2023-09-16T00:00:00Z may be missing" in text
    assert "ledgerlink backfill RECIPE --since 2023-09-01 --until 2023-09-17" in text
    assert "'payments'" in text and json.loads(new_cursor) == {"created": now - 3 * DAY - 60, "ids": ["evt_r"]}
    # nothing listed at all: the cursor moves to the window's start, so the gap is told once
    _, moved, again, _ = run_poll(cursor, Script(page(now=now)))
    assert again and json.loads(moved) == {"created": now - 30 * DAY, "ids": []}
    assert run_poll(moved, Script(page(now=now)))[2] == []


def test_more_types_than_stripe_takes_in_one_request_are_asked_in_groups():
    many = [f"thing.happened_{n:02d}" for n in range(25)]
    poll = polling.make_poll(lambda: many)
    driven = drive(poll(polling.write_cursor(START, []), ctx()),
                   Script(page(event("evt_1", "thing.happened_00", START + 1)),
                          page(event("evt_1", "thing.happened_00", START + 1), event("evt_2", "thing.happened_24", START + 2))))
    events, _ = driven.value
    assert [len(types_of(r)) for r in driven.requests] == [20, 5]
    assert [e.id for e in events] == ["evt_1", "evt_2"]


@pytest.mark.parametrize("setting", ["last week", "2023-02-30", 7])
def test_a_bad_poll_since_or_cursor_is_a_config_error(setting):
    with pytest.raises(ConfigError, match="poll_since"):
        run_poll(None, Script(), poll_since=setting)
    with pytest.raises(ConfigError, match="cursor"):
        run_poll('{"since": 1}', Script())


def test_a_refused_list_fails_the_poll_with_stripes_reason():
    answer = Response(401, json={"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}})
    with pytest.raises(VendorError) as info:
        run_poll(polling.write_cursor(START, []), Script(answer))
    assert info.value.kind == "reauth"


# --- against the sandbox ---------------------------------------------------------------------

@pytest.fixture
def stripe_api():
    app = create_sandbox(seed="polling", start=START, rate_limit=False)
    with running(app) as served, httpx.Client(timeout=10) as client:
        yield app.sandbox, served.url, HttpSender(client, AUTH)
    app.sandbox.stop()


def sandbox_poll(url: str, send, cursor: str | None, **settings: Any):
    driven = drive(POLL.poll(cursor, ctx(api_base=url, **settings)), send)
    events, new_cursor, *rest = driven.value
    return events, new_cursor, (rest[0] if rest else []), driven.requests


def customers(sandbox, count: int) -> list[str]:
    return [sandbox.account.create_customer({"name": f"Customer {n}"})["id"] for n in range(count)]


def test_sandbox_pages_of_one_second_then_only_what_is_new(stripe_api):
    sandbox, url, send = stripe_api
    made = customers(sandbox, 150)  # one second of the sandbox clock: 150 events
    events, cursor, _, requests = sandbox_poll(url, send, None, poll_since="2023-09-01")
    assert [e.payload["data"]["object"]["id"] for e in events] == made and len(requests) == 2
    assert {e.trigger for e in events} == {"stripe.customer.created"}
    more = customers(sandbox, 3)  # the same second again
    events, cursor, _, _ = sandbox_poll(url, send, cursor)
    assert [e.payload["data"]["object"]["id"] for e in events] == more
    sandbox.clock.advance(5)
    later = customers(sandbox, 1)
    sandbox.account.update_customer(later[0], {"name": "Renamed"})
    events, cursor, _, _ = sandbox_poll(url, send, cursor)
    assert [e.trigger for e in events] == ["stripe.customer.created", "stripe.customer.updated"]
    assert json.loads(cursor)["created"] == START  # a minute behind the newest, START + 5
    assert sandbox_poll(url, send, cursor)[0] == []


def test_sandbox_first_poll_starts_at_stripes_clock(stripe_api):
    sandbox, url, send = stripe_api
    customers(sandbox, 2)
    sandbox.clock.advance(60)
    events, cursor, _, _ = sandbox_poll(url, send, None)
    assert events == [] and json.loads(cursor)["created"] == START + 60
    made = customers(sandbox, 1)
    assert [e.payload["data"]["object"]["id"] for e in sandbox_poll(url, send, cursor)[0]] == made


def test_sandbox_catch_up_after_downtime_then_the_30_day_warning(stripe_api):
    sandbox, url, send = stripe_api
    _, cursor, _, _ = sandbox_poll(url, send, None)
    made = []
    for _ in range(20):  # twenty days down: every event is still listed
        sandbox.clock.advance(DAY)
        made += customers(sandbox, 2)
    events, cursor, warnings, _ = sandbox_poll(url, send, cursor)
    assert [e.payload["data"]["object"]["id"] for e in events] == made and warnings == []
    for _ in range(40):  # forty more: Stripe lists the last thirty days only
        sandbox.clock.advance(DAY)
        made += customers(sandbox, 1)
    events, cursor, warnings, _ = sandbox_poll(url, send, cursor)
    assert [e.payload["data"]["object"]["id"] for e in events] == made[-31:]  # 30 days old: kept
    assert "2023-09-20T23:59:00Z to 2023-10-01T00:00:00Z may be missing" in " ".join(warnings)
    assert sandbox_poll(url, send, cursor)[2] == []


def test_the_sandbox_keeps_30_days_of_events_as_stripe_does(stripe_api):
    sandbox, url, _ = stripe_api
    [old] = customers(sandbox, 1)
    sandbox.clock.advance(31 * DAY)
    [new] = customers(sandbox, 1)
    with httpx.Client(base_url=f"{url}/v1", headers=AUTH) as api:
        listed = api.get("/events", params={"created[gte]": str(START)})
        assert listed.status_code == 200
        assert [e["data"]["object"]["id"] for e in listed.json()["data"]] == [new]
        assert listed.headers["Date"] == formatdate(START + 31 * DAY, usegmt=True)
        events = sandbox.account.store.objects["event"]
        first = next(iter(events))
        gone = api.get(f"/events/{first}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "resource_missing"
        indexed = api.get("/events", params={"types[0]": "invoice.paid", "types[1]": "customer.created"})
        assert [e["type"] for e in indexed.json()["data"]] == ["customer.created"]
        too_many = api.get("/events", params={f"types[{n}]": f"a.b{n}" for n in range(21)})
        assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "types"
    assert old != new


# --- the host: a webhook and a poll of the same event ------------------------------------------

def test_an_event_delivered_by_webhook_and_polled_is_stored_once(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_STRIPE_KEY", KEY)
    monkeypatch.setenv("LL_TEST_STRIPE_WHSEC", month.WHSEC)
    relay = month.Relay(lose_every=10 ** 9)
    with background(relay) as endpoint:
        app = create_sandbox(seed="both-ways", start=START, rate_limit=False, webhook_secret=month.WHSEC,
                             webhook_url=f"{endpoint.url.rstrip('/')}/webhooks/stripe")
        sandbox = app.sandbox
        try:
            with running(app) as stripe:
                config = month.write_config(tmp_path / "ledgerlink.toml", stripe.url, poll_since="2023-09-01")
                runtime = build_runtime(db=migrated_db(tmp_path), recipes=month.write_recipes(tmp_path / "recipes"),
                                        config_file=str(config))
                try:
                    relay.app = create_app(runtime=runtime)
                    customer = sandbox.account.create_customer({"name": "Ada", "metadata": {"currency": "kwd"}})
                    invoice = sandbox.account.create_invoice({"customer": customer["id"], "currency": "kwd"})
                    sandbox.account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"],
                                                         "amount": 12340})
                    sandbox.account.pay_invoice(invoice["id"])
                    wait_for(lambda: sandbox.emitter.pending() == 0)
                    hooked = {row["event_id"] for row in month.stored(runtime)}
                    handled = [e["id"] for e in month.sandbox_events(sandbox) if e["type"] in ledgerlink_stripe.EVENT_TYPES]
                    assert set(handled) <= hooked and len(handled) == 4  # customer, finalized, paid, charge
                    planned = runtime.store.counts()
                    assert planned == {"pending": 2}  # finalized (KWD), customer (KWD)
                    assert runtime.store.fetch_counts() == {"pending": 2}  # paid, charge: enriched first
                    assert Worker(runtime).poll("stripe") == 1
                    assert runtime.metrics.values["events_duplicate"] == len(handled)
                    assert len(month.stored(runtime)) == len(hooked)  # nothing new stored
                    assert runtime.store.counts() == planned  # and nothing planned twice
                    assert runtime.store.fetch_counts() == {"pending": 2}
                    [row] = runtime.store.polls()
                    assert json.loads(row["value"])["ids"] and row["last_error"] is None
                finally:
                    runtime.close()
        finally:
            sandbox.stop()


def wait_for(done, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert done()


def test_after_more_than_30_days_down_the_host_keeps_the_gap_and_connections_shows_it(
        tmp_path, monkeypatch, run_cli):
    """The poll after a 45-day outage stores what Stripe still lists and succeeds, and its
    warning — the span that may be missing and the backfill of each recipe that recovers
    it — is logged, counted, kept on the poll's record and printed by ``ledgerlink
    connections`` until a poll without a gap clears it."""
    monkeypatch.setenv("LL_TEST_STRIPE_KEY", KEY)
    monkeypatch.setenv("LL_TEST_STRIPE_WHSEC", month.WHSEC)
    app = create_sandbox(seed="outage", start=START, rate_limit=False)
    sandbox = app.sandbox
    with running(app) as stripe:
        config = month.write_config(tmp_path / "ledgerlink.toml", stripe.url, poll_since="2023-09-01")
        db = migrated_db(tmp_path)
        recipes = month.write_recipes(tmp_path / "recipes")
        runtime = build_runtime(db=db, recipes=recipes, config_file=str(config))
        try:
            worker = Worker(runtime)
            assert worker.poll("stripe") == 1
            for _ in range(45):  # the host is down; one customer a day
                sandbox.clock.advance(DAY)
                sandbox.account.create_customer({"name": "Outage", "metadata": {"currency": "kwd"}})
            month_force_due(runtime)
            assert worker.poll("stripe") == 1
            [row] = runtime.store.polls()
            assert row["last_error"] is None and len(row["warnings"]) == 1
            [warning] = row["warnings"]
            assert "may be missing" in warning and "ledgerlink backfill" in warning
            assert "for each recipe on connection 'stripe'" in warning and "--since 2023-09-01" in warning
            assert runtime.metrics.values["poll_warnings"] == 1
            stored = [r for r in month.stored(runtime) if r["trigger"] == "stripe.customer.created"]
            assert len(stored) == 31  # Stripe still lists the last 30 days (and the day at its edge)
            code, out, err = run_cli("connections", "--db", db, "--config", str(config))
            assert code == 0, err
            assert "warning:" in out and "may be missing" in out

            sandbox.clock.advance(DAY)
            month_force_due(runtime)
            assert worker.poll("stripe") == 1
            assert runtime.store.polls()[0]["warnings"] == []  # a poll without a gap clears it
        finally:
            runtime.close()
    sandbox.stop()


def month_force_due(runtime) -> None:
    import sqlalchemy as sa

    with runtime.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE cursors SET due_at = 0 WHERE name LIKE 'poll:%'"))
