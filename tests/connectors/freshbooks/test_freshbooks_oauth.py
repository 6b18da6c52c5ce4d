"""FreshBooks' consent: the scopes declared once, the business chosen from users/me (its two
ids), FreshBooks Classic refused, the bearer on every request and the limits of a connection."""

from __future__ import annotations

import copy

import pytest

from ledgerlink.contract import Connection, Response
from ledgerlink.errors import ConfigError, VendorError
from ledgerlink.testing import Script, drive
from ledgerlink_freshbooks import CONNECTOR
from ledgerlink_freshbooks.oauth import SCOPES, auth_headers, learn_tenant, limits_for


def business(business_id: int, account_id: str | None, name: str, membership: int) -> dict:
    return {"id": membership, "role": "owner", "unacknowledged_change": False,
            "business": {"id": business_id, "business_uuid": f"uuid-{business_id}", "name": name,
                         "account_id": account_id, "date_format": "dd/mm/yyyy"}}


#: the shape of users/me in the official SDKs' recorded answer (auth_me_response.json): the
#: membership's own id is neither id a connection needs
ME = {"response": {"id": 12345, "identity_id": 12345, "first_name": "Simon", "last_name": "Kovalic",
                   "email": "skovalic@cis.com",
                   "business_memberships": [business(439000, "ABC123", "Commonwealth of Independent "
                                                                      "Systems", 140130)]}}


def me_with(*memberships: dict) -> dict:
    answer = copy.deepcopy(ME)
    answer["response"]["business_memberships"] = list(memberships)
    return answer


#: the accounting API's answer to the probe of a business it serves
CLIENTS = {"response": {"result": {"clients": [], "page": 1, "pages": 1, "per_page": 1, "total": 0}}}


def connection(**settings) -> Connection:
    return Connection("books", "freshbooks", {"identity_url": "http://127.0.0.1:9/auth/api/v1/users/me",
                                              "api_base": "http://127.0.0.1:9", **settings})


def test_the_consent_is_an_authorization_code_with_every_scope_declared_once():
    oauth = CONNECTOR.oauth
    assert oauth.pkce is False and oauth.client_auth == "body"
    assert oauth.authorize_url == "https://auth.freshbooks.com/service/auth/oauth/authorize"
    assert oauth.token_url == "https://api.freshbooks.com/auth/oauth/token"
    assert len(SCOPES) == len(set(SCOPES))
    for entity in ("clients", "invoices", "payments", "credit_notes", "expenses", "other_income"):
        assert {f"user:{entity}:read", f"user:{entity}:write"} <= set(SCOPES), entity
    assert {"user:profile:read", "user:taxes:read"} <= set(SCOPES)  # users/me; taxes by name


def test_the_only_business_is_learned_with_both_its_ids_once_the_accounting_api_answers_for_it():
    driven = drive(learn_tenant({"code": "c", "state": "s"}, connection()), Script(ME, CLIENTS))
    assert driven.value == {"business_id": 439000, "account_id": "ABC123"}  # not the membership's 140130
    me, probe = driven.requests
    assert (me.method, me.url) == ("GET", "http://127.0.0.1:9/auth/api/v1/users/me")
    assert (probe.method, probe.url) == ("GET", "http://127.0.0.1:9/accounting/account/ABC123/users/clients")
    assert probe.params == {"page": "1", "per_page": "1"}


def test_several_businesses_take_the_configured_one_or_fail_listing_them():
    two = me_with(business(439000, "ABC123", "Commonwealth", 1), business(438000, "XYZ321", "Acme", 2))
    chosen = drive(learn_tenant({}, connection(business_id=438000)), Script(two, CLIENTS))
    assert chosen.value == {"business_id": 438000, "account_id": "XYZ321"}
    with pytest.raises(ConfigError) as listed:
        drive(learn_tenant({}, connection()), Script(two))
    assert "439000 (Commonwealth)" in str(listed.value) and "438000 (Acme)" in str(listed.value)
    assert "set business_id" in str(listed.value)
    with pytest.raises(ConfigError, match="covers only"):
        drive(learn_tenant({}, connection(business_id=1)), Script(two))


def test_a_classic_business_is_refused_with_a_clear_message():
    classic = me_with(business(777, None, "Old Books", 3))
    with pytest.raises(ConfigError) as refused:
        drive(learn_tenant({}, connection()), Script(classic))
    assert "FreshBooks Classic" in str(refused.value) and "777 (Old Books)" in str(refused.value)
    # listed with an account the accounting API refuses
    refusal = Response(status=403, json={"code": 7, "message": "Request failed with status_code: 403", "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "1010", "metadata": {
            "object": "account", "field": "accountid", "value": "Cl4ss1c", "message": "This account uses FreshBooks "
                                                                                      "Classic."}}]})
    with pytest.raises(ConfigError) as refused:
        drive(learn_tenant({}, connection()), Script(me_with(business(6544, "Cl4ss1c", "Old", 4)), refusal))
    assert "FreshBooks Classic" in str(refused.value) and "account Cl4ss1c" in str(refused.value)


def test_no_business_at_all_is_not_taken_for_a_consent():
    with pytest.raises(ConfigError, match="covers no tenant"):
        drive(learn_tenant({}, connection()), Script(me_with()))


def test_a_refused_token_or_an_answer_without_a_user_is_an_error():
    refused = Response(status=401, json={"error": "unauthenticated",
                                         "error_description": "This action requires authentication to continue."})
    with pytest.raises(VendorError) as error:
        drive(learn_tenant({}, connection()), Script(refused))
    assert error.value.kind == "reauth" and "requires authentication" in str(error.value)
    with pytest.raises(VendorError) as error:
        drive(learn_tenant({}, connection()), Script({"not": "a user"}))
    assert error.value.kind == "retry"


def test_every_request_carries_the_bearer_and_the_ids_are_not_secrets():
    assert auth_headers({"access_token": "tok", "requests_per_minute": 30}) == {"Authorization": "Bearer tok"}
    assert auth_headers({}) == {}  # FreshBooks answers 401, which asks for a refresh or a reconnect
    assert {"client_secret", "access_token", "refresh_token"} <= set(CONNECTOR.secret_settings)
    assert not {"business_id", "account_id", "client_id"} & set(CONNECTOR.secret_settings)


@pytest.mark.parametrize("setting, rate", [(None, 60), (30, 30), (120, 120), ("120", 60), (0, 60), (True, 60)])
def test_the_limits_are_the_connections_rate_or_the_conservative_default(setting, rate):
    limits = limits_for({} if setting is None else {"requests_per_minute": setting})
    assert (limits.requests, limits.per_seconds, limits.concurrent) == (rate, 60.0, 3)
    assert (CONNECTOR.limits.requests, CONNECTOR.limits.per_seconds) == (60, 60.0)


def test_the_recorded_users_me_with_two_businesses_is_read_by_their_business_ids():
    import json

    from vendor_files import FRESHBOOKS

    me = json.loads((FRESHBOOKS / "freshbooks-python-sdk-fixtures" / "auth_me_response.json").read_text("utf-8"))
    chosen = drive(learn_tenant({}, connection(business_id=438000)), Script(me, CLIENTS))
    assert chosen.value == {"business_id": 438000, "account_id": "ABC124"}  # not the membership's 140135
    with pytest.raises(ConfigError) as listed:
        drive(learn_tenant({}, connection()), Script(me))
    assert "439000 (Commonwealth of Independent Systems)" in str(listed.value)
    assert "438000 (Bayern Corporation)" in str(listed.value)
