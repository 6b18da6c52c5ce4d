"""The FreshBooks sandbox's clients over loopback HTTP: create, read, search, pages, deletion."""

from __future__ import annotations

import json

from fb_sandbox import call, result, served, shape_of
from vendor_files import FRESHBOOKS

JAVA = FRESHBOOKS / "freshbooks-java-sdk-fixtures"


def recorded(name: str) -> dict:
    return json.loads((JAVA / name).read_text("utf-8"))


def create(loop, **fields) -> dict:
    return result(call(loop, "POST", "users/clients", {"client": fields}))["client"]


def test_a_created_client_is_answered_and_read_in_freshbooks_shape():
    with served() as (loop, _clock):
        client = create(loop, email="john.doe@abcorp.com", organization="ABCorp", currency_code="cad")
        want = recorded("create_client_response.json")["response"]["result"]["client"]
        assert set(client) == set(want)
        assert client["id"] == client["userid"] and client["currency_code"] == "CAD"
        assert client["accounting_systemid"] == "6BApk" and client["vis_state"] == 0
        read = result(call(loop, "GET", f"users/clients/{client['id']}"))["client"]
        assert read == client
        # every field FreshBooks sends as a string or a number is one here too
        typed = {key: kind for key, kind in shape_of(want).items() if kind is not None}
        assert {key: shape_of(client)[key] for key in typed} == typed


def test_a_client_freshbooks_would_refuse_is_refused_with_every_problem_named():
    with served() as (loop, _clock):
        misspelt = call(loop, "POST", "users/clients", {"client": {"emial": "x@example.com", "fname": 7}})
        assert misspelt.status_code == 400
        errors = misspelt.json()["response"]["errors"]
        assert len(errors) == 2 and {e["errno"] for e in errors} == {1002}
        assert any("emial" in e["message"] for e in errors) and any(e["field"] == "client.fname" for e in errors)
        nameless = call(loop, "POST", "users/clients", {"client": {"note": "who?"}})
        assert nameless.status_code == 400 and nameless.json()["response"]["errors"][0]["field"] == "organization"
        assert call(loop, "POST", "users/clients", {"clients": {"email": "x@example.com"}}).status_code == 400
        assert loop.sandbox.businesses["6BApk"].all("clients") == []


def test_not_found_in_either_shape_is_the_shape_freshbooks_answers():
    with served() as (loop, _clock):
        old = call(loop, "GET", "users/clients/12345")
        assert old.status_code == 404 and old.json() == recorded("get_client_response__not_found_old.json")
    with served(error_shape="new") as (loop, _clock):
        new = call(loop, "GET", "users/clients/12345")
        assert new.status_code == 404 and new.json() == recorded("get_client_response__not_found_new.json")


def test_search_filters_keep_what_they_name_and_a_misspelt_filter_is_refused():
    with served() as (loop, _clock):
        first = create(loop, email="ann@example.com", organization="Ann's Bakery")
        second = create(loop, email="bob@example.com", organization="Bob's Garage")
        third = create(loop, email="cid@example.com", organization="Cid Bakers")

        def ids(**params) -> list[int]:
            return [c["id"] for c in result(call(loop, "GET", "users/clients", params=params))["clients"]]

        assert ids(**{"search[email]": "BOB@example.com"}) == [second["id"]]
        assert ids(**{"search[organization_like]": "bak"}) == [first["id"], third["id"]]
        assert ids(**{"search[userids][]": [str(first["id"]), str(third["id"])]}) == [first["id"], third["id"]]
        refused = call(loop, "GET", "users/clients", params={"search[emial]": "ann@example.com"})
        assert refused.status_code == 400 and "emial" in refused.json()["response"]["errors"][0]["message"]


def test_updated_min_keeps_what_changed_since_the_time_given():
    with served() as (loop, clock):
        old = create(loop, email="old@example.com")
        clock.now += 3600
        new = create(loop, email="new@example.com")
        since = new["updated"]
        listed = result(call(loop, "GET", "users/clients", params={"search[updated_min]": since}))["clients"]
        assert [c["id"] for c in listed] == [new["id"]]
        clock.now += 3600
        result(call(loop, "PUT", f"users/clients/{old['id']}", {"client": {"note": "changed"}}))
        later = result(call(loop, "GET", "users/clients", params={"search[updated_min]": since.replace(" ", "T")}))
        assert sorted(c["id"] for c in later["clients"]) == sorted([old["id"], new["id"]])


def test_pages_hold_at_most_a_hundred_and_say_how_many_there_are():
    with served(rate_limit=False) as (loop, _clock):
        for index in range(103):
            create(loop, email=f"c{index}@example.com")
        first = result(call(loop, "GET", "users/clients", params={"per_page": "500"}))
        assert (len(first["clients"]), first["per_page"], first["pages"], first["total"]) == (100, 100, 2, 103)
        last = result(call(loop, "GET", "users/clients", params={"per_page": "100", "page": "2"}))
        assert [c["email"] for c in last["clients"]] == ["c100@example.com", "c101@example.com", "c102@example.com"]
        default = result(call(loop, "GET", "users/clients"))
        assert (len(default["clients"]), default["per_page"], default["pages"]) == (15, 15, 7)
        assert call(loop, "GET", "users/clients", params={"page": "0"}).status_code == 400


def test_a_deleted_client_leaves_the_list_stays_readable_and_comes_back_when_undeleted():
    with served() as (loop, _clock):
        client = create(loop, email="gone@example.com")
        deleted = result(call(loop, "PUT", f"users/clients/{client['id']}", {"client": {"vis_state": 1}}))["client"]
        assert deleted["vis_state"] == 1
        assert result(call(loop, "GET", "users/clients"))["clients"] == []
        assert result(call(loop, "GET", "users/clients", params={"search[vis_state]": "1"}))["total"] == 1
        assert result(call(loop, "GET", f"users/clients/{client['id']}"))["client"]["vis_state"] == 1
        result(call(loop, "PUT", f"users/clients/{client['id']}", {"client": {"vis_state": 0}}))
        assert [c["id"] for c in result(call(loop, "GET", "users/clients"))["clients"]] == [client["id"]]
