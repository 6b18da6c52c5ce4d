"""A source customer's Xero contact: linked first, then by ContactNumber (never by name),
created only when neither finds it, and never two for one source id."""

from __future__ import annotations

import pytest

from ledgerlink.contract import LinkQuery, Response
from ledgerlink.errors import InputError, VendorError
from ledgerlink.testing import LinkTable, Script, context, drive
from ledgerlink_xero.contacts import FIND_CONTACT, FIND_OR_CREATE_CONTACT, SAMPLE
from xero_openapi_requests import problems
from xero_sdk import sdk_reads

CTX = context("xero", {"api_base": "http://127.0.0.1:9/api.xro/2.0", "tenant_id": "org-1"}, key="run-3-step-1")
CONTACT_ID = "bd2270c3-8706-4c11-9cfb-000b551c3f51"
FOUND = {"Contacts": [{"ContactID": CONTACT_ID, "ContactNumber": SAMPLE["source_id"], "Name": "Ridgeway U",
                       "ContactStatus": "ACTIVE"}]}
NONE = {"Contacts": []}
CREATED = {"Contacts": [{"ContactID": CONTACT_ID, "ContactNumber": SAMPLE["source_id"], "Name": SAMPLE["Name"],
                         "StatusAttributeString": "OK"}]}
NAME_TAKEN = {"Contacts": [{"Name": SAMPLE["Name"], "StatusAttributeString": "ERROR", "ValidationErrors": [
    {"Message": "The contact name Ridgeway University is already assigned to another contact. The contact "
                "name must be unique across all active contacts."}]}]}


def checked(request):
    """Every request held to Xero's spec before it is answered."""
    assert problems(request) == []


def test_a_linked_contact_costs_no_request():
    links = LinkTable({(SAMPLE["source_id"], "xero.contact"): CONTACT_ID})
    driven = drive(FIND_OR_CREATE_CONTACT.perform(SAMPLE, CTX), Script(), links=links)
    assert driven.value["id"] == CONTACT_ID and driven.value["found_by"] == "link" and driven.requests == []
    assert driven.link_queries == [LinkQuery(source_id=SAMPLE["source_id"], target_type="xero.contact")]


def test_a_contact_is_found_by_its_contact_number_never_by_name():
    driven = drive(FIND_OR_CREATE_CONTACT.perform(SAMPLE, CTX), Script(FOUND), before_send=checked)
    assert driven.value == {"id": CONTACT_ID, "name": "Ridgeway U", "found_by": "contact_number",
                            "link": {"source_id": SAMPLE["source_id"], "target_type": "xero.contact"}}
    (request,) = driven.requests
    assert request.method == "GET" and request.url.endswith("/api.xro/2.0/Contacts")
    assert request.params == {"where": f'ContactNumber=="{SAMPLE["source_id"]}"', "includeArchived": "true"}
    assert "Name" not in request.params["where"]


def test_none_found_creates_one_keyed_with_the_source_id_as_its_contact_number():
    driven = drive(FIND_OR_CREATE_CONTACT.perform(SAMPLE, CTX), Script(NONE, CREATED), before_send=checked)
    assert driven.value["found_by"] == "created" and driven.value["id"] == CONTACT_ID
    create = driven.requests[1]
    assert (create.method, create.params, create.headers["Idempotency-Key"]) == \
        ("PUT", {"summarizeErrors": "false"}, "run-3-step-1")
    assert create.json == {"Contacts": [{"Name": SAMPLE["Name"], "ContactNumber": SAMPLE["source_id"],
                                         "EmailAddress": SAMPLE["EmailAddress"]}]}
    sdk_reads("Contacts", create.json)


def test_a_run_that_lost_the_race_takes_the_winners_contact():
    driven = drive(FIND_OR_CREATE_CONTACT.perform(SAMPLE, CTX), Script(NONE, NAME_TAKEN, FOUND))
    assert driven.value["id"] == CONTACT_ID and driven.value["found_by"] == "contact_number"
    assert [r.method for r in driven.requests] == ["GET", "PUT", "GET"]


def test_a_name_another_customer_holds_fails_naming_it_and_creates_nothing_else():
    with pytest.raises(VendorError) as error:
        drive(FIND_OR_CREATE_CONTACT.perform(SAMPLE, CTX), Script(NONE, NAME_TAKEN, NONE))
    assert error.value.kind == "permanent"
    assert "/Contacts/0: The contact name Ridgeway University is already assigned" in str(error.value)


def test_an_archived_contact_is_reported_not_replaced():
    archived = {"Contacts": [{**FOUND["Contacts"][0], "ContactStatus": "ARCHIVED"}]}
    with pytest.raises(InputError, match="is archived; restore it"):
        drive(FIND_OR_CREATE_CONTACT.perform(SAMPLE, CTX), Script(archived))


def test_find_contact_only_reads():
    driven = drive(FIND_CONTACT.perform(SAMPLE, CTX), Script(NONE))
    assert driven.value == {"id": None, "name": SAMPLE["Name"], "found_by": "none"}
    assert [r.method for r in driven.requests] == ["GET"]


def test_a_source_id_xero_cannot_filter_on_or_keep_is_refused_before_a_request():
    with pytest.raises(InputError, match="cannot match in a filter"):
        drive(FIND_CONTACT.perform({**SAMPLE, "source_id": 'cus_"1'}, CTX), Script())
    with pytest.raises(InputError, match="Xero keeps at most 50"):
        drive(FIND_OR_CREATE_CONTACT.perform({**SAMPLE, "source_id": "c" * 51}, CTX), Script())


def test_a_list_answer_without_contacts_is_retried_not_read_as_none_found():
    with pytest.raises(VendorError) as error:
        drive(FIND_OR_CREATE_CONTACT.perform(SAMPLE, CTX), Script(Response(status=200, json={"Id": "x"})))
    assert error.value.kind == "retry"
