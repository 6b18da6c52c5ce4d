"""FreshBooks' triggers and poll against the FreshBooks sandbox over loopback HTTP: an object read
whole by id (an invoice with its lines), gone when FreshBooks no longer has it, and the poll's
listings by day and page from a cursor; the change time of each event, read in US/Eastern."""

from __future__ import annotations

from datetime import datetime

import httpx
import jsonschema
import pytest

import ledgerlink_freshbooks
from fb_sandbox import ACCOUNT, TOKEN, call, result, served
from ledgerlink.contract import Response
from ledgerlink.errors import EventError
from ledgerlink.testing import HttpSender, drive
from ledgerlink.testing.actions import context, poll
from ledgerlink_freshbooks import polling, triggers, webhook

CONNECTOR = ledgerlink_freshbooks.CONNECTOR
SCHEMAS = {t.name: t.event_schema for t in triggers.TRIGGERS}


@pytest.fixture
def sandbox():
    with served(rate_limit=False) as (loop, clock):
        yield loop, clock


@pytest.fixture
def send():
    with httpx.Client() as client:
        yield HttpSender(client, CONNECTOR.auth({"access_token": TOKEN}))


def ctx_of(loop, **settings):
    return context("freshbooks", {"account_id": ACCOUNT, "api_base": loop.url, **settings})


def make(loop, path: str, key: str, body: dict) -> dict:
    return result(call(loop, "POST", path, {key: body}, params={"include[]": "lines"}))[key]


def business(loop) -> tuple[dict, dict, dict]:
    client = make(loop, "users/clients", "client", {"email": "buyer@example.com", "organization": "Acme"})
    invoice = make(loop, "invoices/invoices", "invoice", {
        "customerid": client["id"], "create_date": "2026-11-30",
        "lines": [{"type": 0, "name": "Plan", "qty": "2", "unit_cost": {"amount": "10.00"}}]})
    payment = make(loop, "payments/payments", "payment", {
        "invoiceid": invoice["id"], "amount": {"amount": "19.98"}, "date": "2026-12-01", "type": "Check"})
    return client, invoice, payment


def called_back(name: str, object_id) -> dict:
    body = f"name={name}&object_id={object_id}&account_id={ACCOUNT}&business_id=6543&identity_id=1&user_id=1"
    (event,) = webhook.parse({}, body.encode())
    return event


def test_each_object_a_callback_names_is_read_whole_and_fits_its_trigger(sandbox, send):
    loop, _ = sandbox
    client, invoice, payment = business(loop)
    for name, found in (("client.create", client), ("invoice.update", invoice), ("payment.create", payment)):
        event = called_back(name, found["id"])
        fetched = drive(triggers.fetch(event.payload, ctx_of(loop)), send).value
        assert fetched["data"]["id"] == found["id"] and fetched["version"] == f"{found['id']}@{found['updated']}"
        jsonschema.Draft202012Validator(SCHEMAS[event.trigger]).validate(fetched)
    read = drive(triggers.fetch(called_back("invoice.update", invoice["id"]).payload, ctx_of(loop)), send).value
    assert [line["unit_cost"] for line in read["data"]["lines"]] == [{"amount": "10.00", "code": "USD"}]
    assert send.sent[-1].request.url.params.get("include[]") == "lines"  # without it, no lines


def test_an_object_freshbooks_no_longer_has_is_gone(sandbox, send):
    loop, _ = sandbox
    _, _, payment = business(loop)
    assert drive(triggers.fetch(called_back("payment.create", 424242).payload, ctx_of(loop)), send).value is None
    result(call(loop, "PUT", f"payments/payments/{payment['id']}", {"payment": {"vis_state": 1}}))
    assert drive(triggers.fetch(called_back("payment.create", payment["id"]).payload, ctx_of(loop)), send).value is None


def test_an_event_of_another_business_is_not_read_on_this_connection(sandbox, send):
    loop, _ = sandbox
    event = called_back("payment.create", 1)
    with pytest.raises(Exception, match="configure a FreshBooks connection for that business"):
        drive(triggers.fetch(event.payload, ctx_of(loop, account_id="OTHER1")), send)


#: the sandbox starts just after midnight UTC on 2026-11-30, still the 29th in US/Eastern where
#: FreshBooks dates its changes: these tests move on to the 30th's midday, on the 30th in both zones
MIDDAY = 12 * 3600


def test_the_poll_starts_on_freshbooks_day_of_a_poll_since_time():
    assert polling._eastern_day("2026-11-30T00:30:00Z", "s") == "2026-11-29"  # 19:30 EST on the 29th
    assert polling._eastern_day("2026-07-01T03:59:00+00:00", "s") == "2026-06-30"  # EDT: UTC-4
    assert polling._eastern_day("2026-07-01T04:00:00+00:00", "s") == "2026-07-01"
    assert polling._eastern_day("2026-11-30", "s") == polling._eastern_day("2026-11-30T00:30:00", "s") == "2026-11-30"


def test_the_poll_reads_a_day_of_changes_whole_page_by_page_and_then_only_later_days(sandbox, send, monkeypatch):
    loop, clock = sandbox
    clock.now += MIDDAY
    ctx = ctx_of(loop, poll_since="2026-11-30T12:00:00Z")  # 07:00 on the 30th in US/Eastern
    # 150 clients changed within one second: two pages of 100 at most
    made = {make(loop, "users/clients", "client", {"email": f"c{n}@example.com"})["id"] for n in range(150)}
    monkeypatch.setattr(polling, "MAX_PAGES", 1)  # one page a poll: the cursor carries the rest
    first, cursor, done = poll(CONNECTOR, None, ctx, send)
    assert [r.params["search[updated_min]"] for r in done.requests] == ["2026-11-30"] * 3
    assert all(r.params["per_page"] == "100" for r in done.requests)
    assert {e.trigger for e in first} == {"freshbooks.client.updated"} and len(first) == 100
    second, cursor, _ = poll(CONNECTOR, cursor, ctx, send)
    assert {int(e.payload["object_id"]) for e in first + second} == made
    again, _, _ = poll(CONNECTOR, cursor, ctx, send)  # the newest day is listed again: the same events
    assert {e.id for e in again} <= {e.id for e in first + second}

    clock.now += 2 * 86400  # two days later, one client changes
    some = next(iter(made))
    result(call(loop, "PUT", f"users/clients/{some}", {"client": {"organization": "Renamed"}}))
    monkeypatch.setattr(polling, "MAX_PAGES", 10)
    _, cursor, _ = poll(CONNECTOR, cursor, ctx, send)
    later, _, done = poll(CONNECTOR, cursor, ctx, send)
    # the clients from the day of the newest change; the lists with none from the day before
    # FreshBooks' own (its Date header's, 2026-12-02)
    assert [(r.url.rsplit("/", 1)[1], r.params["search[updated_min]"]) for r in done.requests] == [
        ("payments", "2026-12-01"), ("invoices", "2026-12-01"), ("clients", "2026-12-02")]
    assert [(e.payload["object_id"], e.payload["data"]["organization"]) for e in later] == [(str(some), "Renamed")]


def test_a_list_without_changes_advances_by_freshbooks_clock_and_loses_no_change_of_that_day(sandbox, send):
    loop, clock = sandbox
    clock.now += MIDDAY
    ctx = ctx_of(loop, poll_since="2026-11-30")
    _, cursor, _ = poll(CONNECTOR, None, ctx, send)
    clock.now += 5 * 86400  # nothing changes for five days: FreshBooks' clock says 2026-12-05
    _, cursor, done = poll(CONNECTOR, cursor, ctx, send)
    assert {r.params["search[updated_min]"] for r in done.requests} == {"2026-11-30"}
    clock.now += 600  # a client made that day, after FreshBooks answered
    made = make(loop, "users/clients", "client", {"email": "late@example.com"})
    assert made["updated"].startswith("2026-12-05")
    events, cursor, done = poll(CONNECTOR, cursor, ctx, send)
    assert {r.params["search[updated_min]"] for r in done.requests} == {"2026-12-04"}
    assert [e.payload["object_id"] for e in events] == [str(made["id"])]
    _, _, done = poll(CONNECTOR, cursor, ctx, send)  # listed again from its day, not from the start
    assert [r.params["search[updated_min]"] for r in done.requests] == ["2026-12-04", "2026-12-04", "2026-12-05"]


@pytest.mark.parametrize("date, asked", [
    ("Sat, 05 Dec 2026 00:20:00 GMT", "2026-12-04"),  # 19:20 on the 4th in US/Eastern, where FreshBooks dates
    ("Sat, 05 Dec 2026 23:59:00 GMT", "2026-12-04"),
    (None, "2026-11-30"),                              # no Date header: the cursor stays
    ("whenever", "2026-11-30"),
])
def test_the_day_asked_next_is_the_day_before_the_date_header_s(date, asked):
    ctx = context("freshbooks", {"account_id": ACCOUNT, "api_base": "https://api.freshbooks.example"})
    empty = {"response": {"result": {"clients": [], "invoices": [], "payments": [], "page": 1, "pages": 1,
                                     "per_page": 100, "total": 0}}}
    answer = Response(status=200, headers={"Date": date} if date else {}, json=empty)
    _, cursor, _ = poll(CONNECTOR, None, context("freshbooks", {**ctx.connection.settings,
                                                                "poll_since": "2026-11-30"}), [answer] * 3)
    _, _, done = poll(CONNECTOR, cursor, ctx, [answer] * 3)
    assert {r.params["search[updated_min]"] for r in done.requests} == {asked}


def test_a_polled_payment_is_the_event_its_callback_brings(sandbox, send):
    loop, clock = sandbox
    clock.now += MIDDAY
    _, _, payment = business(loop)
    events, _, _ = poll(CONNECTOR, None, ctx_of(loop, poll_since="2026-11-30"), send)
    polled = next(e for e in events if e.trigger == "freshbooks.payment.created")
    assert polled.id == called_back("payment.create", payment["id"]).id
    jsonschema.Draft202012Validator(SCHEMAS[polled.trigger]).validate(polled.payload)


@pytest.mark.parametrize("cursor", ["not json", "{}", '{"payment": {"day": "2026-11-30", "page": 0}, '
                                    '"invoice": {"day": "x", "page": 1}, "client": {"day": "x", "page": 1}}'])
def test_a_cursor_the_poll_did_not_write_is_refused(cursor):
    with pytest.raises(EventError, match="cursor"):
        poll(CONNECTOR, cursor, context("freshbooks", {"account_id": ACCOUNT}), [])


def test_the_payments_past_is_listed_by_date_as_the_events_their_callbacks_bring(sandbox, send):
    from datetime import datetime, timezone

    from ledgerlink.contract import Response
    from ledgerlink_freshbooks.history import payment_history

    loop, _ = sandbox
    client, invoice, _ = business(loop)  # one payment dated 2026-12-01
    for day in ("2026-11-28", "2026-12-03"):
        make(loop, "payments/payments", "payment", {"invoiceid": invoice["id"], "amount": {"amount": "0.01"},
                                                    "date": day, "type": "Cash"})
    since, until = (datetime(2026, 11, 29, tzinfo=timezone.utc).timestamp(),
                    datetime(2026, 12, 3, tzinfo=timezone.utc).timestamp())  # up to the end of Dec 2
    page = drive(payment_history(since, until, None, ctx_of(loop)), send).value
    assert [e.payload["data"]["date"] for e in page.events] == ["2026-12-01"] and page.cursor is None
    (event,) = page.events
    assert event.id == called_back("payment.create", event.payload["object_id"]).id
    jsonschema.Draft202012Validator(SCHEMAS[event.trigger]).validate(event.payload)

    full = {"response": {"result": {"payments": [{"id": n, "date": "2026-12-01", "updated": "2026-12-01 10:00:00"}
                                                 for n in range(1, 101)], "page": 1, "pages": 2}}}
    first = drive(payment_history(since, until, None, ctx_of(loop)), [Response(200, json=full)]).value
    assert (len(first.events), first.cursor, first.progress) == (100, "2", 0.5)
    with pytest.raises(EventError, match="cursor"):
        drive(payment_history(since, until, "x", ctx_of(loop)), [])


@pytest.mark.parametrize("updated, utc", [
    ("2026-11-29 19:30:00", "2026-11-30T00:30:00+00:00"),  # EST, UTC-5
    ("2026-07-01 09:00:00", "2026-07-01T13:00:00+00:00"),  # EDT, UTC-4
    ("2026-11-01 01:30:00", "2026-11-01T05:30:00+00:00"),  # the hour repeated: its first (EDT)
    ("", None), ("2026-11-29", None), (None, None),
])
def test_an_events_change_time_is_its_updated_read_in_us_eastern(updated, utc):
    from ledgerlink_freshbooks.webhook import changed_at

    assert changed_at({"updated": updated}) == utc


def test_a_fetched_event_says_when_its_object_changed_as_the_sandbox_dates_it(sandbox, send):
    loop, clock = sandbox
    _, _, payment = business(loop)
    fetched = drive(triggers.fetch(called_back("payment.create", payment["id"]).payload, ctx_of(loop)), send).value
    changed = datetime.fromisoformat(fetched["changed_at"]).timestamp()
    assert abs(changed - clock.wall()) < 2  # the sandbox writes US/Eastern as FreshBooks does; read back as UTC
