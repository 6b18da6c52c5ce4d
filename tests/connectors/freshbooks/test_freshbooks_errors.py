"""FreshBooks' answers read into the host's kinds: its three error shapes element by element
(field and message named), 401 a refresh, 408/429/5xx retried (Retry-After obeyed), 404 gone."""

from __future__ import annotations

import json

import pytest

from ledgerlink.contract import Response
from ledgerlink_freshbooks.errors import classify, gone
from vendor_files import FRESHBOOKS

JAVA = FRESHBOOKS / "freshbooks-java-sdk-fixtures"
PYTHON = FRESHBOOKS / "freshbooks-python-sdk-fixtures"


def recorded(folder, name: str) -> dict:
    """One of the official SDKs' recorded FreshBooks answers (tests/vendor/freshbooks)."""
    return json.loads((folder / f"{name}.json").read_text("utf-8"))


LEGACY = recorded(JAVA, "get_client_response__not_found_old")
GRPC = recorded(JAVA, "get_client_response__not_found_new")
EVENTS = recorded(PYTHON, "create_callback_response__validation_error")
NO_AUTH = recorded(JAVA, "get_client_response__no_auth")
LEDGER = recorded(PYTHON, "create_ledger_account_response__validation_errors")
PROJECT = recorded(PYTHON, "create_project__validation_errors")


def test_a_legacy_error_names_each_field_its_message_and_value():
    two = {"response": {"errors": [LEGACY["response"]["errors"][0],
                                   {"errno": 2001, "field": "create_date", "message": "This field is required.",
                                    "object": "invoice", "value": None}]}}
    error = classify(Response(status=400, json=two))
    assert error.kind == "permanent" and error.vendor_code == "1012"
    assert "userid: Client not found. (value '12345'; errno 1012)" in error.message
    assert "create_date: This field is required. (errno 2001)" in error.message


def test_the_grpc_shape_reads_its_error_info_metadata():
    error = classify(Response(status=404, json=GRPC))
    assert error.kind == "permanent" and error.vendor_code == "1012"
    assert "userid: Client not found." in error.message


def test_the_events_shape_names_every_detail():
    error = classify(Response(status=422, json=EVENTS))
    assert error.kind == "permanent" and error.vendor_code == "422"
    assert "event: Value error, Unrecognized event." in error.message
    assert "uri: Input should be a valid URL" in error.message


def test_an_error_in_a_success_status_is_still_an_error():
    assert classify(Response(status=200, json=LEGACY)).kind == "permanent"
    assert classify(Response(status=200, json={"response": {"result": {"client": {"id": 1}}}})) is None


def test_401_asks_for_a_refresh():
    error = classify(Response(status=401, json=NO_AUTH))
    assert error.kind == "reauth" and "could not verify that you are authorized" in error.message


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_the_sdks_retry_set_is_retried_later(status):
    error = classify(Response(status=status, headers={"Retry-After": "7"}, text="busy"))
    assert error.kind == "retry" and error.retry_after == 7.0


def test_a_429_without_retry_after_waits_a_minute():
    error = classify(Response(status=429, text=""))
    assert error.kind == "retry" and error.retry_after == 60.0 and "too many requests" in error.message


def test_404_and_the_not_found_errno_are_gone_other_errors_are_not():
    assert gone(Response(status=404, json={"error": "Requested resource could not be found."}))
    assert gone(Response(status=400, json=LEGACY)) and gone(Response(status=404, json=GRPC))
    assert not gone(Response(status=422, json=EVENTS)) and not gone(Response(status=200, json={"response": {}}))


def test_the_other_services_shapes_are_read_too():
    ledger = classify(Response(status=400, json=LEDGER))
    assert ledger.kind == "permanent"
    assert all(f"{field}: This field is required." in ledger.message for field in ("name", "sub_type", "parent_account"))
    project = classify(Response(status=400, json=PROJECT))
    assert project.kind == "permanent" and "field required" in project.message and project.vendor_code == "2001"
