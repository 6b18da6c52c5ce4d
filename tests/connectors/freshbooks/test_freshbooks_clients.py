"""freshbooks.find_or_create_client: linked first, then the source id in a client's note, then
created; never two clients for one source id, even when two runs race."""

from __future__ import annotations

import pytest

from fb_answers import BASE, ctx, one, page
from ledgerlink.contract import Response
from ledgerlink.errors import InputError
from ledgerlink.testing import LinkTable, drive
from ledgerlink_freshbooks.api import mark
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT, TARGET_TYPE

INPUT = {"source_id": "cus_1", "organization": "Ridgeway University", "email": "ap@ridgeway.example"}


def client(client_id: int, source: str | None = "cus_1", **fields) -> dict:
    return {"id": client_id, "userid": client_id, "organization": "Ridgeway University",
            "note": mark(source) if source else None, "vis_state": 0, **fields}


def test_a_linked_client_that_is_still_there_is_taken_with_one_read():
    links = LinkTable({("cus_1", TARGET_TYPE): "42"})
    driven = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, ctx()), [one("client", client(42))], links)
    assert driven.value["id"] == "42" and driven.value["found_by"] == "link"
    (request,) = driven.requests
    assert (request.method, request.url) == ("GET", f"{BASE}/users/clients/42")


def test_a_linked_client_deleted_since_is_searched_again_by_its_note():
    links = LinkTable({("cus_1", TARGET_TYPE): "42"})
    driven = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, ctx()),
                   [one("client", client(42, vis_state=1)),
                    page("clients", [client(12, "cus_12"), client(50)])], links)
    assert driven.value["id"] == "50" and driven.value["found_by"] == "note"  # cus_12 is not cus_1
    search = driven.requests[1]
    assert search.params["search[note_like]"] == "ledgerlink source cus_1"
    assert search.params["per_page"] == "100" and search.params["page"] == "1"


def test_a_missing_client_is_created_with_the_source_id_in_its_note():
    driven = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, ctx()),
                   [page("clients", []), one("client", client(77)), page("clients", [client(77)])])
    assert driven.value == {"id": "77", "found_by": "created",
                            "link": {"source_id": "cus_1", "target_type": TARGET_TYPE}}
    create = driven.requests[1]
    assert (create.method, create.url) == ("POST", f"{BASE}/users/clients")
    assert create.json == {"client": {"organization": "Ridgeway University", "email": "ap@ridgeway.example",
                                      "note": "ledgerlink source cus_1"}}


def test_the_loser_of_a_race_deletes_its_twin_and_takes_the_winners_client():
    driven = drive(FIND_OR_CREATE_CLIENT.perform(INPUT, ctx()),
                   [page("clients", []), one("client", client(78)),
                    page("clients", [client(78), client(77)]), one("client", client(78, vis_state=1))])
    assert driven.value["id"] == "77" and driven.value["found_by"] == "note"
    delete = driven.requests[3]
    assert (delete.method, delete.url, delete.json) == ("PUT", f"{BASE}/users/clients/78",
                                                        {"client": {"vis_state": 1}})


def test_a_search_reads_every_page():
    first = page("clients", [client(i, f"cus_x{i}") for i in range(1, 101)], number=1, pages=2)
    driven = drive(FIND_OR_CREATE_CLIENT.find_existing(INPUT, ctx()), [first, page("clients", [client(150)], 2, 2)])
    assert driven.value["id"] == "150"
    assert [r.params["page"] for r in driven.requests] == ["1", "2"]


def test_every_input_problem_is_named_before_a_request():
    with pytest.raises(InputError) as error:
        drive(FIND_OR_CREATE_CLIENT.perform({"source_id": "cus 1", "currency_code": "usd", "color": "red"}, ctx()),
              [])
    message = str(error.value)
    assert "/color: unknown input 'color'" in message and "/currency_code: currency_code must be" in message
    assert "/source_id: source_id must be" in message and "a client needs one of" in message


def test_undo_deletes_the_freshbooks_way_and_a_deleted_client_is_already_gone():
    done = drive(FIND_OR_CREATE_CLIENT.undo("77", ctx()), [one("client", client(77)), one("client", client(77, vis_state=1))])
    assert done.value == {"id": "77", "status": "deleted"}
    assert done.requests[1].json == {"client": {"vis_state": 1}}
    gone = drive(FIND_OR_CREATE_CLIENT.undo("77", ctx()), [Response(status=404, json={"error": "Requested resource could not be found."})])
    assert gone.value == {"id": "77", "status": "already gone"}


def test_a_search_that_does_not_narrow_the_list_is_refused_not_read_for_minutes(monkeypatch):
    from ledgerlink.errors import VendorError
    from ledgerlink_freshbooks import api

    monkeypatch.setattr(api, "MAX_PAGES", 2)
    endless = [page("clients", [client(i, f"cus_x{i}")], number=n, pages=9) for n, i in ((1, 1), (2, 2))]
    with pytest.raises(VendorError, match="more than 200 clients"):
        drive(FIND_OR_CREATE_CLIENT.find_existing(INPUT, ctx()), endless)
