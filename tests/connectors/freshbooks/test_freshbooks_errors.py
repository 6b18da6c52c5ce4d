"""FreshBooks' answers read into the host's kinds: its three error shapes element by element
(field and message named), 401 a refresh, 408/429/5xx retried (Retry-After obeyed), 404 gone."""

from __future__ import annotations

import pytest

from ledgerlink.contract import Response
from ledgerlink_freshbooks.errors import classify, gone

#: the shapes of the official SDKs' recorded answers (get_client_response__not_found_old/new,
#: create_callback_response__validation_error, get_client_response__no_auth)
LEGACY = {"response": {"errors": [
    {"errno": 1012, "field": "userid", "message": "Client not found.", "object": "client", "value": "12345"}]}}
GRPC = {"code": 5, "message": "Request failed with status_code: 404", "details": [
    {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "1012", "domain": "accounting.api.freshbooks.com",
     "metadata": {"object": "client", "message": "Client not found.", "value": "12345", "field": "userid"}}]}
EVENTS = {"errno": 422, "message": "The request was well-formed but was unable to be followed due to semantic errors.",
          "details": ["event: Value error, Unrecognized event.",
                      "uri: Input should be a valid URL, relative URL without a base"]}
NO_AUTH = {"code": 16, "message": "Request failed with status_code: 401", "details": [
    {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "1003", "domain": "accounting.api.freshbooks.com",
     "metadata": {"object": "", "message": "The server could not verify that you are authorized to access the URL "
                                           "requested.", "value": "", "field": ""}}]}


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
