"""``ledgerlink backfill``'s engine: a recipe's past occurrences paged from the vendor over
loopback and planned once each, whatever else planned them and however often it is run.

The connector is ``tally`` (tests/history_connector.py): two invoices a page.
"""

from __future__ import annotations

import time

import pytest

from history_connector import recipe
from ledgerlink.engine import backfill as engine
from ledgerlink.errors import LedgerlinkError, NeedsNewKey, NotFound
from ledgerlink.io import keys
from ledgerlink.io.governor.local import LocalGovernor
from runtime_fixtures import working
from simulated_clock import FakeClock
from tally_fixtures import DAY0, delivery, world

SINCE, UNTIL = DAY0, DAY0 + 86400


@pytest.fixture
def tally(tmp_path, monkeypatch):
    yield from world(tmp_path, monkeypatch)


def run(runtime, name="notes", dry=False, **options):
    pages = []
    progress = engine.backfill(runtime, name, SINCE, UNTIL, dry=dry,
                               on_page=lambda p: pages.append((p.pages, p.objects, p.fraction)), **options)
    return progress, pages


def test_pages_through_the_history_and_plans_one_run_each(tally):
    tally.invoices(5)
    tally.state.add("in_late", UNTIL + 10, 1)  # outside the range
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    progress, pages = run(runtime)
    assert (progress.objects, progress.planned, progress.already_planned, progress.pages) == (5, 5, 0, 3)
    assert progress.done
    assert [page[:2] for page in pages] == [(1, 2), (2, 4), (3, 5)]
    fractions = [page[2] for page in pages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 < fractions[0] < 1
    assert [r[1:] for r in tally.runs()] == [(f"invoice.sent:in_{i}", f"tally.invoice.sent:in_{i}") for i in range(5)]
    listings = [r for r in tally.state.requests if r.startswith("GET /invoices")]
    assert len(listings) == 3
    # the stored events are shaped as delivered ones, and the workers perform the runs
    with working(runtime):
        deadline = time.monotonic() + 30
        while runtime.store.counts().get("succeeded") != 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert runtime.store.counts() == {"succeeded": 5}
    assert sorted(note["invoice"] for note in tally.state.notes) == [f"in_{i}" for i in range(5)]


def test_the_filter_applies_and_other_recipes_get_nothing(tally):
    tally.invoices(4, amount=100)  # amounts 100..103
    tally.write(recipe("notes", min_amount=102), recipe("other"))
    progress, _ = run(tally.runtime())
    assert (progress.objects, progress.planned, progress.filtered_out) == (4, 2, 2)
    assert [r[0] for r in tally.runs()] == ["notes", "notes"]


def test_running_it_again_plans_nothing_new(tally):
    tally.invoices(3)
    tally.write(recipe("notes"), recipe("other"))
    runtime = tally.runtime()
    run(runtime)
    again, _ = run(runtime)
    assert (again.objects, again.planned, again.already_planned) == (3, 0, 3)
    # another recipe's backfill plans on the events the first one stored
    other, _ = run(runtime, "other")
    assert (other.planned, other.already_planned) == (3, 0)
    assert tally.rows()["events"] == 3 and tally.rows()["runs"] == 6


def test_interrupted_then_run_again_plans_each_object_once(tally):
    tally.invoices(5)
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    tally.state.faults["/invoices"] = []

    def stop_after_two(progress):
        if progress.pages == 2:
            tally.state.faults["/invoices"] = [(400, {})]  # the third page is refused

    with pytest.raises(LedgerlinkError, match="tally answered 400"):
        engine.backfill(runtime, "notes", SINCE, UNTIL, on_page=stop_after_two)
    assert len(tally.runs()) == 4  # two pages committed

    class Killed(BaseException):
        pass

    def kill(progress):
        raise Killed()  # as a kill would: mid-way, after the first page

    with pytest.raises(Killed):
        engine.backfill(runtime, "notes", SINCE, UNTIL, on_page=kill)
    progress, _ = run(runtime)
    assert (progress.planned, progress.already_planned) == (1, 4)
    assert [r[1] for r in tally.runs()] == [f"invoice.sent:in_{i}" for i in range(5)]


def test_a_webhook_before_and_after_the_backfill_makes_one_run(tally):
    ids = tally.invoices(3)
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    before = runtime.inbox.receive("tally", *delivery("evt_before", "invoice.sent", tally.state.invoices[0]))
    assert before["runs_planned"] == 1
    progress, _ = run(runtime)
    assert (progress.planned, progress.already_planned) == (2, 1)
    after = runtime.inbox.receive("tally", *delivery("evt_after", "invoice.sent", tally.state.invoices[2]))
    assert after["runs_planned"] == 0 and after["runs_deduplicated"] == 1
    assert sorted(r[2] for r in tally.runs()) == [f"tally.invoice.sent:{i}" for i in ids]
    assert tally.rows()["events"] == 5


def test_each_occurrence_is_fetched_before_it_is_planned(tally):
    tally.invoices(3)
    del tally.state.fees["in_1"]  # gone by the time it is fetched
    tally.write(recipe("paid-notes", trigger="tally.invoice.paid"))
    runtime = tally.runtime()
    progress, _ = run(runtime, "paid-notes")
    assert (progress.objects, progress.planned, progress.skipped) == (3, 2, 1)
    assert "in_1 no longer exists" in progress.warnings[0]
    claimed = runtime.store.claim("w", 60, limit=5)
    assert sorted(c.event_id for c in claimed) == ["invoice.paid:in_0", "invoice.paid:in_2"]
    assert all('"fee":' in c.payload for c in claimed)
    assert tally.state.requests.count("GET /invoices/in_0/fee") == 1


def test_dry_run_writes_nothing_and_shows_the_first_request(tally):
    tally.invoices(5)
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    runtime.inbox.receive("tally", *delivery("evt_1", "invoice.sent", tally.state.invoices[1]))
    before = tally.rows()
    progress, _ = run(runtime, dry=True)
    assert tally.rows() == before
    assert (progress.objects, progress.planned, progress.already_planned) == (5, 4, 1)
    request = progress.first["steps"][0]["request"]
    assert request["method"] == "POST" and request["url"] == f"{tally.url}/notes"
    assert request["body"] == {"invoice": "in_0", "text": "amount 100"}
    assert {k.lower(): v for k, v in request["headers"].items()}["authorization"] == "Bearer [REDACTED]"
    assert "tally_key_5ecret" not in str(progress.first)
    assert tally.state.notes == []


def test_a_429_waits_as_told_and_asks_for_the_page_again(tally):
    tally.invoices(3)
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    clock = FakeClock()
    governor = LocalGovernor(clock=clock, sleep=clock.sleep, wall_clock=clock.wall)
    runtime.connections.governor = governor
    tally.state.faults["/invoices"] = [(429, {"Retry-After": "7"})]
    progress, _ = run(runtime, sleep=clock.sleep)
    assert progress.planned == 3
    assert clock.now >= 1000.0 + 7
    assert [r for r in tally.state.requests if r.startswith("GET /invoices")][:2] == ["GET /invoices"] * 2


def test_a_refused_key_stops_it_and_pauses_the_connection(tally):
    tally.invoices(3)
    tally.write(recipe("notes"))
    runtime = tally.runtime()
    tally.state.key = "rolled"
    with pytest.raises(NeedsNewKey, match="connection 'tally' needs a new key.*ledgerlink connect tally"):
        run(runtime)
    assert keys.status(runtime.connections, "tally")[0] == keys.NEEDS_NEW_KEY
    tally.state.requests.clear()
    with pytest.raises(NeedsNewKey):  # refused before anything is sent
        run(runtime)
    assert tally.state.requests == []


@pytest.mark.parametrize("name, since, until, error, words", [
    ("customers", SINCE, UNTIL, LedgerlinkError, "trigger 'tally.customer.updated' (recipe 'customers') cannot "
                                                  "be back-filled"),
    ("notes", UNTIL, SINCE, LedgerlinkError, "must be before --until"),
    ("nope", SINCE, UNTIL, NotFound, "no active recipe 'nope' in the recipe folder (known: customers, notes)"),
])
def test_what_cannot_be_back_filled_is_refused_in_words(tally, name, since, until, error, words):
    tally.write(recipe("notes"), recipe("customers", trigger="tally.customer.updated"))
    with pytest.raises(error) as info:
        engine.backfill(tally.runtime(), name, since, until)
    assert words in info.value.message
    assert tally.state.requests == []


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01", DAY0), ("2026-03-01T00:00:00", DAY0), ("2026-03-01T01:00:00+01:00", DAY0),
    ("2026-03-01T00:00:00Z", DAY0),
])
def test_dates_are_iso_and_utc_unless_they_say(text, expected):
    assert engine.parse_when(text) == expected


def test_a_date_that_is_not_iso_is_refused():
    with pytest.raises(ValueError, match="'03/01/2026' is not an ISO date"):
        engine.parse_when("03/01/2026")
