"""freshbooks.find_or_create_client against the FreshBooks sandbox on loopback: created once,
found again by its note, a race's twin deleted, undone the FreshBooks way."""

from __future__ import annotations

from fb_connector import context, objects, sandbox
from ledgerlink.testing import LinkTable, drive
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT, TARGET_TYPE

INPUT = {"source_id": "cus_Sbx1", "organization": "Ridgeway University", "email": "ap@ridgeway.example",
         "currency_code": "EUR"}


def active(loop) -> list[dict]:
    return [c for c in objects(loop, "clients") if c.get("vis_state") == 0 and "cus_Sbx1" in str(c.get("note"))]


def test_a_client_is_created_once_and_found_again_by_its_note_then_by_its_link():
    with sandbox() as (loop, _, send):
        links = LinkTable()
        created = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, context(loop)), send, links).value
        assert created["found_by"] == "created"
        (client,) = active(loop)
        assert str(client["id"]) == created["id"] and client["currency_code"] == "EUR"
        assert client["note"] == "ledgerlink source cus_Sbx1"
        again = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, context(loop, key="run-2-step")), send, links).value
        assert again == {**created, "found_by": "note"} and len(active(loop)) == 1
        links.record(created)
        linked = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, context(loop, key="run-3-step")), send, links)
        assert linked.value["found_by"] == "link" and [r.method for r in linked.requests] == ["GET"]


def test_two_runs_racing_leave_one_client_and_both_take_it():
    with sandbox() as (loop, _, send):
        rival: dict = {}

        def meanwhile(request):  # the other run creates its client between our search and our create
            if request.method == "POST" and not rival:
                rival.update(drive(FIND_OR_CREATE_CLIENT.perform(INPUT, context(loop, key="rival")), send).value)

        ours = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, context(loop)), send, before_send=meanwhile).value
        assert rival["found_by"] == "created" and ours["id"] == rival["id"] and ours["found_by"] == "note"
        (client,) = active(loop)
        assert str(client["id"]) == ours["id"]
        twins = [c for c in objects(loop, "clients") if c.get("vis_state") == 1]
        assert len(twins) == 1 and twins[0]["note"] == client["note"]  # the loser's, deleted


def test_undo_deletes_the_client_and_a_later_run_makes_a_new_one():
    with sandbox() as (loop, _, send):
        links = LinkTable()
        created = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, context(loop)), send, links).value
        links.record(created)
        assert drive(FIND_OR_CREATE_CLIENT.undo(created["id"], context(loop)), send).value["status"] == "deleted"
        assert drive(FIND_OR_CREATE_CLIENT.undo(created["id"], context(loop)), send).value["status"] == "already gone"
        assert active(loop) == []
        later = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, context(loop, key="later")), send, links).value
        assert later["found_by"] == "created" and later["id"] != created["id"]
        assert links.rows[("cus_Sbx1", TARGET_TYPE)] == created["id"]  # the link still names the deleted one
