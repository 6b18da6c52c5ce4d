"""QuickBooks request basics and fault classification, against the vendor's own fault bodies."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from ledgerlink import jsonio
from ledgerlink.contract import Response
from ledgerlink.errors import ConfigError, VendorError
from ledgerlink_quickbooks import api
from vendor_files import QUICKBOOKS

PLUGIN = Path(api.__file__).resolve().parent


def ruby_fault_as_json(name: str) -> dict:
    """The JSON twin of a quickbooks-ruby XML fault fixture, in the shape of QBO's JSON faults."""
    root = ElementTree.parse(QUICKBOOKS / "quickbooks-ruby-fixtures" / name).getroot()
    ns = "{http://schema.intuit.com/finance/v3}"
    fault = root.find(f"{ns}Fault")
    errors = []
    for error in fault.findall(f"{ns}Error"):
        item = {"Message": error.findtext(f"{ns}Message"), "Detail": error.findtext(f"{ns}Detail"),
                "code": error.get("code")}
        if error.get("element") is not None:
            item["element"] = error.get("element")
        errors.append(item)
    return {"Fault": {"Error": errors, "type": fault.get("type")}, "time": root.get("time")}


# --- minor version and URLs -----------------------------------------------------------

def test_minorversion_is_75_and_pinned_in_api_only():
    assert api.MINORVERSION == 75
    assert api.params() == {"minorversion": "75"}
    assert api.params("k-1") == {"minorversion": "75", "requestid": "k-1"}
    for source in PLUGIN.glob("*.py"):
        if source.name == "api.py":
            continue
        assert not re.search(r"\b75\b", source.read_text("utf-8")), \
            f"{source.name} repeats the minor version; use api.MINORVERSION"


@pytest.mark.parametrize("settings, url", [
    ({"base_url": "https://quickbooks.api.intuit.com", "realm_id": "9130347596979486"},
     "https://quickbooks.api.intuit.com/v3/company/9130347596979486/journalentry"),
    ({"base_url": "http://127.0.0.1:8766/", "realm_id": "123"},
     "http://127.0.0.1:8766/v3/company/123/journalentry"),
    ({"realm_id": "42"}, "https://quickbooks.api.intuit.com/v3/company/42/journalentry"),
])
def test_entity_url(settings, url):
    assert api.entity_url(settings, "journalentry") == url


@pytest.mark.parametrize("settings, needle", [
    ({"base_url": "https://quickbooks.api.intuit.com"}, "realm_id is missing"),
    ({"realm_id": ""}, "realm_id is missing"),
    ({"realm_id": "12/../34"}, "may not contain"),
    ({"realm_id": "1", "base_url": "ftp://x"}, "base_url must be an http(s) URL"),
])
def test_entity_url_refuses_bad_settings(settings, needle):
    with pytest.raises(ConfigError) as info:
        api.entity_url(settings, "journalentry")
    assert needle in str(info.value)


def test_auth_headers_send_the_access_token_as_bearer():
    assert api.auth_headers({"access_token": "eyJ.abc", "client_secret": "s"}) == \
        {"Authorization": "Bearer eyJ.abc"}
    assert api.auth_headers({"client_secret": "s"}) == {}
    assert api.auth_headers({"access_token": ""}) == {}


# --- faults: the real JSON fixtures ----------------------------------------------------

ERROR_FIXTURES = sorted((QUICKBOOKS / "exquickbooks-fixtures").rglob("*_error.json")) + \
    [QUICKBOOKS / "quickbooks-ruby-fixtures" / "json" / "tax_service_error_dup.json"]


def test_there_are_error_fixtures():
    assert len(ERROR_FIXTURES) == 8


@pytest.mark.parametrize("path", ERROR_FIXTURES, ids=lambda p: p.name)
def test_validation_faults_are_permanent_with_vendor_text(path):
    body = jsonio.loads(path.read_bytes())
    error = body["Fault"]["Error"][0]
    result = api.classify(Response(status=400, json=body))
    assert isinstance(result, VendorError)
    assert result.kind == "permanent"
    assert result.http_status == 400
    assert result.vendor_code == error["code"]
    assert result.retry_after is None
    text = str(result)
    assert "ValidationFault" in text
    assert f"code {error['code']}" in text
    assert error["Message"] in text
    assert error["Detail"].strip() in text
    if error.get("element"):
        assert f"element {error['element']}" in text


def test_fault_in_a_2xx_body_is_still_an_error():
    body = jsonio.loads((QUICKBOOKS / "exquickbooks-fixtures/item/create_item_error.json").read_bytes())
    result = api.classify(Response(status=200, json=body))
    assert result.kind == "permanent" and result.vendor_code == "2020"


def test_success_is_not_an_error():
    body = jsonio.loads((QUICKBOOKS / "quickbooks-go-fixtures/journal-entry.json").read_bytes())
    assert api.classify(Response(status=200, json=body)) is None
    assert api.classify(Response(status=201, json=None, text="")) is None


# --- faults: the quickbooks-ruby XML fixtures, as JSON -----------------------------------

def test_ruby_xml_to_json_conversion_matches_the_documented_shape():
    body = ruby_fault_as_json("too_many_requests_error.xml")
    assert body == {"Fault": {"Error": [{
        "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "Detail": "The request limit was reached.  Try again later", "code": "3001"}],
        "type": "SERVICE"}, "time": "2016-12-07T15:27:09.527-08:00"}
    # the module's own XML reader agrees with the conversion written here
    xml = (QUICKBOOKS / "quickbooks-ruby-fixtures" / "too_many_requests_error.xml").read_text("utf-8")
    assert api.fault_from_xml(xml) == body


def test_throttle_429_uses_retry_after_header():
    body = ruby_fault_as_json("too_many_requests_error.xml")
    result = api.classify(Response(status=429, json=body, headers={"retry-after": "12"}))
    assert result.kind == "retry"
    assert result.retry_after == 12.0
    assert result.vendor_code == "3001"
    assert "ThrottleExceeded" in str(result)


def test_throttle_429_without_retry_after_waits_60_seconds():
    body = ruby_fault_as_json("too_many_requests_error.xml")
    result = api.classify(Response(status=429, json=body))
    assert (result.kind, result.retry_after) == ("retry", 60.0)


def test_old_throttle_fault_sent_with_403_is_retry_not_reauth():
    body = ruby_fault_as_json("throttle_exceeded_error.xml")
    assert "statusCode=403" in body["Fault"]["Error"][0]["Message"]
    result = api.classify(Response(status=403, json=body))
    assert (result.kind, result.retry_after, result.vendor_code) == ("retry", 60.0, "3001")


def test_429_without_a_body_is_retry():
    result = api.classify(Response(status=429, text="Too Many Requests"))
    assert (result.kind, result.retry_after) == ("retry", 60.0)


@pytest.mark.parametrize("status", [400, 500])
def test_system_fault_is_retry(status):
    body = ruby_fault_as_json("generic_error.xml")
    assert body["Fault"]["type"] == "SystemFault"
    result = api.classify(Response(status=status, json=body))
    assert result.kind == "retry"
    assert result.vendor_code == "10000"
    assert "An application error has occurred" in str(result)


@pytest.mark.parametrize("name, code", [("customer_duplicate_error.xml", "6240"),
                                        ("query_validation_error.xml", "4001")])
def test_ruby_validation_faults_are_permanent(name, code):
    result = api.classify(Response(status=400, json=ruby_fault_as_json(name)))
    assert (result.kind, result.vendor_code) == ("permanent", code)


def test_xml_body_is_read_when_there_is_no_json():
    xml = (QUICKBOOKS / "quickbooks-ruby-fixtures" / "too_many_requests_error.xml").read_text("utf-8")
    result = api.classify(Response(status=429, text=xml))
    assert (result.kind, result.vendor_code) == ("retry", "3001")


def test_xml_with_a_doctype_is_not_parsed():
    xml = '<!DOCTYPE x [<!ENTITY a "aaaa">]><IntuitResponse><Fault type="SERVICE"/></IntuitResponse>'
    assert api.fault_from_xml(xml) is None


# --- faults: authentication, authorization, bare HTTP errors ------------------------------

def test_401_authentication_fault_with_lower_case_keys_is_reauth():
    # QBO answers 401s with lower-case keys; this body is shaped like the third-party example
    # of an AuthenticationFault (code 3200)
    body = {"fault": {"error": [{
        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        "detail": "Token expired: AB11…", "code": "3200"}], "type": "AuthenticationFault"},
        "time": "2024-03-15T09:12:44.512-07:00"}
    result = api.classify(Response(status=401, json=body))
    assert (result.kind, result.vendor_code, result.http_status) == ("reauth", "3200", 401)
    assert "Token expired" in str(result)
    assert "reconnect" in str(result)


def test_401_without_body_is_reauth():
    assert api.classify(Response(status=401)).kind == "reauth"


def test_authorization_fault_is_reauth():
    body = {"Fault": {"Error": [{"Message": "message=ApplicationAuthorizationFailed; "
                                            "errorCode=003100; statusCode=403",
                                 "Detail": "", "code": "3100"}], "type": "AuthorizationFault"}}
    result = api.classify(Response(status=403, json=body))
    assert result.kind == "reauth"
    assert "realm_id" in str(result)


def test_5xx_without_body_is_retry_and_honours_retry_after_date():
    headers = {"Date": "Fri, 15 Mar 2024 16:00:00 GMT", "Retry-After": "Fri, 15 Mar 2024 16:00:30 GMT"}
    result = api.classify(Response(status=503, headers=headers, text="Service Unavailable"))
    assert (result.kind, result.retry_after) == ("retry", 30.0)
    assert api.classify(Response(status=502)).retry_after is None


def test_404_without_fault_points_at_the_settings():
    result = api.classify(Response(status=404, text="Not Found"))
    assert result.kind == "permanent"
    assert "realm_id" in str(result)


import pytest as _pytest

from ledgerlink.contract import Response as _Response
from ledgerlink_quickbooks.api import classify as _classify


def _fault(code, message, detail=""):
    return _Response(status=400, json={"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code}],
                                                 "type": "ValidationFault"}, "time": "2024-01-01T00:00:00Z"})


@_pytest.mark.parametrize("code, message, detail, hint", [
    ("6000", "A business validation error has occurred while processing your request",
     "Business Validation Error: Make sure all your transactions have a VAT rate before you save.", "tax code"),
    ("6140", "Duplicate Document Number Error", "Duplicate Document Number Error : You must specify a different number.",
     "DocNumber is already used"),
    ("5010", "Stale Object Error", "Stale Object Error : You and another user were working on this", "SyncToken"),
    ("2500", "Invalid Reference Id", "Invalid Reference Id : Accounts element id 999 not found", "ledgerlink check"),
])
def test_known_traps_say_what_to_do(code, message, detail, hint):
    error = _classify(_fault(code, message, detail))
    assert error.kind == "permanent" and hint in error.message and message in error.message
