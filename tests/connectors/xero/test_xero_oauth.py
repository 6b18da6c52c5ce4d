"""Xero's consent: PKCE and offline_access, the organisation chosen from GET /connections,
the headers of every request and the limits of each connection."""

from __future__ import annotations

import pytest

from ledgerlink.contract import Connection, Response
from ledgerlink.errors import ConfigError, VendorError
from ledgerlink.testing import Script, drive
from ledgerlink_xero import CONNECTOR
from ledgerlink_xero.limits import limits_for
from ledgerlink_xero.oauth import SCOPES, auth_headers, learn_tenant

DEMO = {"id": "7cb59f93-2964-421d-bb5e-a0f7a4572a44", "authEventId": "d99ecdfe-3a5a-4a1c-9c85-2f7c2b1bdb69",
        "tenantId": "fe79f7dd-b6d4-4a92-ba7b-538af6289c58", "tenantName": "Demo Company (NZ)",
        "tenantType": "ORGANISATION", "createdDateUtc": "2019-12-07T18:46:19.5165400",
        "updatedDateUtc": "2019-12-07T18:46:19.5187840"}
OTHER = {**DEMO, "id": "1", "tenantId": "3a4c1a27-0000-4000-8000-000000000002", "tenantName": "Acme Ltd"}
PRACTICE = {**DEMO, "id": "2", "tenantId": "9d1e5a10-0000-4000-8000-000000000003",
            "tenantName": "Acme Practice", "tenantType": "PRACTICE"}


def connection(**settings) -> Connection:
    return Connection("books", "xero", {"connections_url": "http://127.0.0.1:9/connections", **settings})


def test_the_consent_asks_for_pkce_offline_access_and_granular_accounting_scopes():
    oauth = CONNECTOR.oauth
    assert oauth.pkce is True and oauth.client_auth == "basic"
    assert oauth.authorize_url == "https://login.xero.com/identity/connect/authorize"
    assert oauth.token_url == "https://identity.xero.com/connect/token"
    assert "offline_access" in SCOPES  # without it Xero issues no refresh token
    assert {"accounting.contacts", "accounting.invoices", "accounting.payments",
            "accounting.manualjournals", "accounting.banktransactions", "accounting.settings"} <= set(SCOPES)
    assert "accounting.transactions" not in SCOPES  # refused to apps created since March 2026


def test_the_only_organisation_is_learned_from_the_connections_with_a_read():
    driven = drive(learn_tenant({"code": "c", "state": "s"}, connection()), Script([DEMO, PRACTICE]))
    assert driven.value == {"tenant_id": DEMO["tenantId"]}  # a practice tenant is not an organisation
    (request,) = driven.requests
    assert (request.method, request.url) == ("GET", "http://127.0.0.1:9/connections")


def test_several_organisations_take_the_configured_one_or_fail_listing_them():
    chosen = drive(learn_tenant({}, connection(tenant_id=OTHER["tenantId"])), Script([DEMO, OTHER]))
    assert chosen.value == {"tenant_id": OTHER["tenantId"]}
    with pytest.raises(ConfigError) as listed:
        drive(learn_tenant({}, connection()), Script([DEMO, OTHER]))
    assert f"{DEMO['tenantId']} (Demo Company (NZ))" in str(listed.value)
    assert f"{OTHER['tenantId']} (Acme Ltd)" in str(listed.value) and "set tenant_id" in str(listed.value)
    with pytest.raises(ConfigError, match="covers only"):
        drive(learn_tenant({}, connection(tenant_id=PRACTICE["tenantId"])), Script([DEMO, PRACTICE]))


def test_a_refused_token_or_an_unreadable_list_is_an_error_not_an_empty_consent():
    refused = Response(status=401, headers={"Content-Type": "application/json"},
                       json={"Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"})
    with pytest.raises(VendorError) as error:
        drive(learn_tenant({}, connection()), Script(refused))
    assert error.value.kind == "reauth" and "AuthenticationUnsuccessful" in str(error.value)
    with pytest.raises(VendorError) as error:
        drive(learn_tenant({}, connection()), Script({"not": "a list"}))
    assert error.value.kind == "retry"


def test_every_request_carries_the_bearer_and_the_tenant_and_the_tenant_is_not_a_secret():
    assert auth_headers({"access_token": "tok", "tenant_id": "org-1"}) == {
        "Authorization": "Bearer tok", "xero-tenant-id": "org-1"}
    assert auth_headers({}) == {}  # Xero answers 401, which asks for a refresh or a reconnect
    assert "tenant_id" in CONNECTOR.auth_settings and "tenant_id" not in CONNECTOR.secret_settings
    assert {"client_secret", "access_token", "refresh_token"} <= set(CONNECTOR.secret_settings)


@pytest.mark.parametrize("setting, daily", [(5000, 5000), (1000, 1000), (None, 5000), ("1000", 5000)])
def test_limits_are_xeros_per_organisation_with_the_connection_daily_limit(setting, daily):
    values = {} if setting is None else {"daily_limit": setting}
    limits = limits_for(values)
    assert (limits.requests, limits.per_seconds, limits.concurrent, limits.daily) == (60, 60.0, 5, daily)


def test_the_daily_limit_setting_is_xeros_two_tiers_only():
    schema = CONNECTOR.settings_schema["properties"]["daily_limit"]
    assert schema["enum"] == [5000, 1000] and schema["default"] == 5000
