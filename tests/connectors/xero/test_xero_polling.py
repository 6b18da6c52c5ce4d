"""The poll without webhooks: Invoices, Contacts and CreditNotes read with If-Modified-Since
from a cursor per list, each record the event its trigger would carry once fetched."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema
import pytest

import ledgerlink_xero
from ledgerlink.contract import Response
from ledgerlink.errors import ConfigError, VendorError
from ledgerlink.testing import drive
from ledgerlink.testing.actions import context, poll
from ledgerlink_xero import polling, triggers

TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
SETTINGS = {"tenant_id": TENANT, "api_base": "http://127.0.0.1:8767/api.xro/2.0"}
CONNECTOR = ledgerlink_xero.CONNECTOR
#: 2026-11-24T17:30:00.123Z and a minute later, as Xero writes dates in JSON
CHANGED, XERO_NOW = "/Date(1795541400123+0000)/", "/Date(1795541460000)/"


def invoice(n: int, updated: str = CHANGED) -> dict:
    return {"InvoiceID": f"00000000-0000-0000-0000-{n:012d}", "Type": "ACCREC", "Status": "AUTHORISED",
            "Total": Decimal("10.00"), "AmountPaid": Decimal("0.00"), "UpdatedDateUTC": updated}


def listing(collection: str, records: list[dict]) -> dict:
    return {"Id": "516f400a-b764-4c88-831b-12d2b210fa24", "Status": "OK", "ProviderName": "ledgerlink",
            "DateTimeUTC": XERO_NOW, collection: records}


def test_the_first_poll_only_sets_the_cursor_unless_told_where_to_start():
    events, cursor, done = poll(CONNECTOR, None, context("xero", SETTINGS), [])
    assert (events, done.requests) == ([], [])
    assert sorted(json.loads(cursor)) == ["CONTACT", "CREDITNOTE", "INVOICE"]


def test_a_poll_from_poll_since_lists_each_collection_and_its_records_are_events():
    contact = {"ContactID": "430fa14a-f945-44d3-9f97-5df5e28441b8", "Name": "Liam Gallagher",
               "UpdatedDateUTC": CHANGED}
    ctx = context("xero", {**SETTINGS, "poll_since": "2026-11-24T00:00:00Z"})
    events, cursor, done = poll(CONNECTOR, None, ctx, [listing("Invoices", [invoice(1)]),
                                                       listing("Contacts", [contact]), listing("CreditNotes", [])])
    assert [r.url.rsplit("/", 1)[1] for r in done.requests] == ["Invoices", "Contacts", "CreditNotes"]
    for request in done.requests:
        assert request.method == "GET" and request.headers["If-Modified-Since"] == "2026-11-24T00:00:00+00:00"
        assert {k: v for k, v in request.params.items() if k != "unitdp"} == {"order": "UpdatedDateUTC ASC",
                                                                             "page": "1"}
    assert [r.params.get("unitdp") for r in done.requests] == ["4", None, "4"]  # where Xero takes it
    assert [(e.trigger, e.tenant, e.payload["via"]) for e in events] == [
        ("xero.invoice.updated", TENANT, "poll"), ("xero.contact.updated", TENANT, "poll")]
    assert events[0].id == f"{TENANT}:INVOICE:{invoice(1)['InvoiceID']}:UPDATE:2026-11-24T17:30:00.123Z"
    assert events[0].payload["data"] == invoice(1)
    for event in events:  # what the trigger's fetch would have made of a webhook's event
        registered = next(t for t in triggers.TRIGGERS if t.name == event.trigger)
        jsonschema.Draft202012Validator(registered.event_schema).validate(event.payload)
        assert drive(registered.fetch(event.payload, ctx), []).value == event.payload  # nothing left to read
    # each list asks next from a minute before Xero's clock (DateTimeUTC 17:31:00)
    assert json.loads(cursor) == {c: {"from": "2026-11-24T17:30:00.000Z", "page": 1} for c in polling.POLLED}


def cursor_at(moment: str, page: int = 1) -> str:
    return json.dumps({c: {"from": moment, "page": page} for c in polling.POLLED})


def test_the_next_poll_asks_as_its_cursor_says_and_a_record_seen_again_is_the_same_event():
    cursor = cursor_at("2026-11-24T17:30:00.000Z")
    ctx = context("xero", SETTINGS)
    first, _, done = poll(CONNECTOR, cursor, ctx, [listing("Invoices", [invoice(1)]), listing("Contacts", []),
                                                   listing("CreditNotes", [])])
    assert {r.headers["If-Modified-Since"] for r in done.requests} == {"2026-11-24T17:30:00+00:00"}
    again, _, _ = poll(CONNECTOR, cursor, ctx, [listing("Invoices", [invoice(1)]), listing("Contacts", []),
                                                listing("CreditNotes", [])])
    assert [e.id for e in again] == [e.id for e in first]


def test_a_full_page_moves_the_cursor_to_its_newest_change_so_the_next_poll_goes_on():
    full = [invoice(n, f"/Date({1795541405000 + n}+0000)/") for n in range(polling.PAGE_SIZE)]
    cursor = cursor_at("2026-11-24T17:29:00.000Z")
    ctx = context("xero", SETTINGS)
    events, following, _ = poll(CONNECTOR, cursor, ctx, [listing("Invoices", full), listing("Contacts", []),
                                                         listing("CreditNotes", [])])
    assert len(events) == polling.PAGE_SIZE
    _, _, done = poll(CONNECTOR, following, ctx, [listing("Invoices", []), listing("Contacts", []),
                                                  listing("CreditNotes", [])])
    # the next poll asks from the page's newest change (17:30:05.099, to the second below), not
    # from Xero's clock
    assert done.requests[0].headers["If-Modified-Since"] == "2026-11-24T17:30:05+00:00"
    assert done.requests[1].headers["If-Modified-Since"] == "2026-11-24T17:30:00+00:00"  # Xero's clock - 1 min


def test_a_full_page_within_the_second_asked_from_reads_on_to_the_next_page():
    same_second = [invoice(n, f"/Date({1795541400000 + n}+0000)/") for n in range(polling.PAGE_SIZE)]
    ctx = context("xero", SETTINGS)
    _, following, _ = poll(CONNECTOR, cursor_at("2026-11-24T17:30:00.000Z"), ctx, [
        listing("Invoices", same_second), listing("Contacts", []), listing("CreditNotes", [])])
    assert json.loads(following)["INVOICE"] == {"from": "2026-11-24T17:30:00.000Z", "page": 2}
    _, after, done = poll(CONNECTOR, following, ctx, [listing("Invoices", [invoice(100)]), listing("Contacts", []),
                                                      listing("CreditNotes", [])])
    assert (done.requests[0].params["page"], done.requests[0].headers["If-Modified-Since"]) == (
        "2", "2026-11-24T17:30:00+00:00")
    assert json.loads(after)["INVOICE"] == {"from": "2026-11-24T17:30:00.000Z", "page": 1}  # Xero's clock - 1 min


def test_a_throttled_poll_fails_and_keeps_its_cursor_and_a_poll_needs_its_organisation():
    cursor = cursor_at("2026-11-24T17:30:00.000Z")
    throttled = Response(429, headers={"Retry-After": "30", "X-Rate-Limit-Problem": "minute"})
    with pytest.raises(VendorError) as later:
        poll(CONNECTOR, cursor, context("xero", SETTINGS), [throttled])
    assert later.value.kind == "retry"
    with pytest.raises(ConfigError, match="no tenant_id"):
        poll(CONNECTOR, cursor, context("xero", {"api_base": SETTINGS["api_base"]}), [])


def test_xero_dates_are_read_to_the_millisecond():
    assert polling.ms_date("/Date(1551981568133+0000)/", "x").isoformat() == "2019-03-07T17:59:28.133000+00:00"
    assert polling.ms_date("/Date(1551981658323)/", "x").isoformat() == "2019-03-07T18:00:58.323000+00:00"


def test_the_listings_here_are_xeros_own_shapes():
    from ledgerlink_sandboxes.xero import spec

    body = {k: v for k, v in listing("Invoices", [invoice(1), invoice(2)]).items()
            if k not in ("Id", "Status", "ProviderName", "DateTimeUTC")}
    assert spec.problems("Invoices", body) == []


def test_a_state_delivered_and_polled_is_one_occurrence_and_two_invoices_are_two():
    from ledgerlink.engine.occurrence import occurrence_key
    from ledgerlink_xero import webhook

    cursor = cursor_at("2026-11-24T17:30:00.000Z")
    ctx = context("xero", SETTINGS)
    polled, _, _ = poll(CONNECTOR, cursor, ctx, [listing("Invoices", [invoice(1), invoice(2)]),
                                                 listing("Contacts", []), listing("CreditNotes", [])])
    body = json.dumps({"events": [{
        "resourceUrl": "u", "resourceId": invoice(1)["InvoiceID"], "eventDateUtc": "2026-11-24T17:30:00.456",
        "eventType": "UPDATE", "eventCategory": "INVOICE", "tenantId": TENANT, "tenantType": "ORGANISATION"}],
        "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "E"}).encode()
    (delivered,) = webhook.parse({}, body)
    fetched = drive(triggers.fetch(delivered.payload, ctx), [listing("Invoices", [invoice(1)])]).value
    updated = next(t for t in triggers.TRIGGERS if t.name == "xero.invoice.updated")
    assert delivered.id != polled[0].id  # two events ...
    assert occurrence_key(updated, fetched) == occurrence_key(updated, polled[0].payload) == (
        f"xero.invoice.updated:{invoice(1)['InvoiceID']}@2026-11-24T17:30:00.123Z")  # ... one occurrence
    assert occurrence_key(updated, polled[1].payload) != occurrence_key(updated, polled[0].payload)
    changed = drive(triggers.fetch(delivered.payload, ctx),
                    [listing("Invoices", [invoice(1, "/Date(1795541500000+0000)/")])]).value
    assert occurrence_key(updated, changed) != occurrence_key(updated, fetched)  # a later state runs again
    created = next(t for t in triggers.TRIGGERS if t.name == "xero.invoice.created")
    assert occurrence_key(created, fetched) == f"xero.invoice.created:{invoice(1)['InvoiceID']}"


def test_a_full_page_of_one_whole_second_reads_on_so_the_records_of_that_exact_millisecond_are_not_lost():
    # Xero lists what changed strictly after the second asked: records at 17:30:00.000 beyond
    # a full page would be lost by asking from 17:30:00, so the poll reads that second's next page
    at_zero = [invoice(n, "/Date(1795541400000+0000)/") for n in range(polling.PAGE_SIZE)]
    ctx = context("xero", SETTINGS)
    _, following, _ = poll(CONNECTOR, cursor_at("2026-11-24T17:29:59.000Z"), ctx, [
        listing("Invoices", at_zero), listing("Contacts", []), listing("CreditNotes", [])])
    assert json.loads(following)["INVOICE"] == {"from": "2026-11-24T17:29:59.000Z", "page": 2}


# --- the past, for ledgerlink backfill (the same listing, from --since to --until) ------------------

SINCE, UNTIL = 1795541400.0, 1795541460.0  # 17:30:00 and 17:31:00 on 2026-11-24


def test_a_history_page_is_each_trigger_s_event_from_since_and_stops_at_until():
    history = next(t for t in triggers.TRIGGERS if t.name == "xero.invoice.updated").history
    records = [invoice(1), invoice(2, "/Date(1795541460000+0000)/")]  # the second changed at --until
    done = drive(history(SINCE, UNTIL, None, context("xero", SETTINGS)),
                 lambda request: Response(200, {}, listing("Invoices", records)))
    [request] = done.requests
    assert (request.headers["If-Modified-Since"], request.params["page"], request.params["order"]) == (
        "2026-11-24T17:30:00+00:00", "1", "UpdatedDateUTC ASC")
    page = done.value
    assert page.cursor is None and page.progress == 1.0
    [event] = page.events
    assert (event.trigger, event.payload["via"], event.payload["data"]["InvoiceID"]) == (
        "xero.invoice.updated", "backfill", invoice(1)["InvoiceID"])
    polled, _, _ = poll(CONNECTOR, cursor_at("2026-11-24T17:29:00.000Z"), context("xero", SETTINGS), [
        listing("Invoices", [invoice(1)]), listing("Contacts", []), listing("CreditNotes", [])])
    assert event.id == polled[0].id  # the poll's id for the same state: stored once


def test_a_full_history_page_goes_on_from_just_before_its_newest_change():
    history = next(t for t in triggers.TRIGGERS if t.name == "xero.invoice.created").history
    full = [invoice(n, f"/Date({1795541405000 + n}+0000)/") for n in range(polling.PAGE_SIZE)]
    ctx = context("xero", SETTINGS)
    page = drive(history(SINCE, UNTIL, None, ctx), lambda request: Response(200, {}, listing("Invoices", full))).value
    assert {e.trigger for e in page.events} == {"xero.invoice.created"} and len(page.events) == polling.PAGE_SIZE
    assert json.loads(page.cursor) == {"from": "2026-11-24T17:30:05.098000+00:00", "page": 1}
    assert 0 < page.progress < 1
    following = drive(history(SINCE, UNTIL, page.cursor, ctx),
                      lambda request: Response(200, {}, listing("Invoices", [])))
    assert following.requests[0].headers["If-Modified-Since"] == "2026-11-24T17:30:05+00:00"
    assert following.value.cursor is None
