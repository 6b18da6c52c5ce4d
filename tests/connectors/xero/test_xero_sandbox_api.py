"""The Xero sandbox over loopback HTTP: identity, the Accounting API's door, Contacts."""

from __future__ import annotations

import base64
import email.utils
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ledgerlink.testing.sandbox import running
from ledgerlink.testing.sandbox_oauth import pkce_challenge
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from ledgerlink_sandboxes.xero import spec

SECOND_TENANT = "0d9b2a1c-53a4-4cf7-a9a3-3b0f6a1d2e4f"
BASIC = "Basic " + base64.b64encode(b"xero-sandbox-client:xero-sandbox-secret").decode()
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def xero(now):
    app = create_sandbox(tenants=[DEFAULT_TENANT, SECOND_TENANT], clock=lambda: now[0],
                         wall_clock=lambda: 1_790_000_000.0 + now[0])
    with running(app) as served:
        yield served


def api(xero, method: str, path: str, body=None, *, tenant: str | None = DEFAULT_TENANT,
        token: str = "xero-sandbox-access-token", key: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if tenant is not None:
        headers["xero-tenant-id"] = tenant
    if key is not None:
        headers["Idempotency-Key"] = key
    content = json.dumps(body) if body is not None else None
    return httpx.request(method, f"{xero.url}/api.xro/2.0/{path}", content=content, headers=headers,
                         params=params)


def consent(xero, verifier: str | None = "a" * 43) -> str:
    params = {"response_type": "code", "client_id": "xero-sandbox-client", "redirect_uri": REDIRECT,
              "scope": "openid offline_access accounting.transactions", "state": "s-1"}
    if verifier is not None:
        params.update(code_challenge=pkce_challenge(verifier), code_challenge_method="S256")
    answer = httpx.get(f"{xero.url}/identity/connect/authorize", params=params)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["s-1"] and answer.headers["location"].startswith(REDIRECT)
    return query["code"][0]


def token(xero, **form) -> httpx.Response:
    return httpx.post(f"{xero.url}/connect/token", data=form, headers={"Authorization": BASIC})


# --- identity -----------------------------------------------------------------------------

def test_code_with_pkce_then_connections_list_every_tenant_of_the_token_set(xero):
    code = consent(xero)
    refused = token(xero, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                    code_verifier="b" * 43)
    assert refused.status_code == 400 and refused.json() == {"error": "invalid_grant"}
    code = consent(xero)
    issued = token(xero, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                   code_verifier="a" * 43).json()
    assert issued["expires_in"] == 1800 and issued["refresh_token"]
    connections = httpx.get(f"{xero.url}/connections",
                            headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert [c["tenantId"] for c in connections.json()] == [DEFAULT_TENANT, SECOND_TENANT]
    assert all(spec.problems("Connection", c, identity=True) == [] for c in connections.json())
    assert len({c["authEventId"] for c in connections.json()}) == 2
    assert api(xero, "GET", "Organisation", token=issued["access_token"], tenant=SECOND_TENANT).status_code == 200


def test_refresh_rotates_and_the_old_token_has_thirty_minutes_of_grace(xero, now):
    code = consent(xero, verifier=None)
    first = token(xero, grant_type="authorization_code", code=code, redirect_uri=REDIRECT).json()
    second = token(xero, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    now[0] += 29 * 60  # the answer was lost: the old one still works
    again = token(xero, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 200
    now[0] += 2 * 60
    late = token(xero, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    assert token(xero, grant_type="refresh_token", refresh_token="nonsense").json() == {"error": "invalid_grant"}
    expired = api(xero, "GET", "Organisation", token=second["access_token"])  # 31 min > 30 min
    assert expired.status_code == 401


def test_client_credentials_reach_one_organisation_and_get_no_refresh_token(xero):
    issued = token(xero, grant_type="client_credentials", scope="accounting.transactions").json()
    assert "refresh_token" not in issued
    connections = httpx.get(f"{xero.url}/connections", headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert [c["tenantId"] for c in connections.json()] == [DEFAULT_TENANT]
    assert api(xero, "GET", "Organisation", token=issued["access_token"], tenant=SECOND_TENANT).status_code == 403
    assert httpx.get(f"{xero.url}/connections", headers={"Authorization": "Bearer nope"}).status_code == 401


# --- the door -----------------------------------------------------------------------------

def test_bearer_token_and_tenant_are_required_in_xeros_shapes(xero):
    unauthorized = api(xero, "GET", "Contacts", token="wrong")
    assert unauthorized.status_code == 401 and unauthorized.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert unauthorized.json()["Detail"] == "AuthenticationUnsuccessful" and unauthorized.json()["Title"] == "Unauthorized"
    for tenant in (None, "not-a-tenant", "11111111-1111-1111-1111-111111111111"):
        forbidden = api(xero, "GET", "Contacts", tenant=tenant)
        assert forbidden.status_code == 403 and forbidden.json()["Title"] == "Forbidden", tenant
    assert api(xero, "GET", "Contacts").status_code == 200


def test_limits_headers_count_down_and_429_names_the_minute_with_retry_after(xero, now):
    first = api(xero, "GET", "Organisation")
    assert (first.headers["X-MinLimit-Remaining"], first.headers["X-DayLimit-Remaining"],
            first.headers["X-AppMinLimit-Remaining"]) == ("59", "4999", "9999")
    for _ in range(59):
        now[0] += 0.5
        assert api(xero, "GET", "Organisation").status_code == 200
    refused = api(xero, "GET", "Organisation")
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["Retry-After"] == "31"  # the first request leaves the window 60 s after it
    assert refused.headers["X-MinLimit-Remaining"] == "0" and "X-DayLimit-Remaining" in refused.headers
    assert api(xero, "GET", "Organisation", tenant=SECOND_TENANT).status_code == 200  # per tenant
    now[0] += 31  # the first two (at 0 s and 0.5 s) have left the window: one is admitted, one remains
    assert api(xero, "GET", "Organisation").headers["X-MinLimit-Remaining"] == "1"


def test_calls_made_elsewhere_count_against_the_organisations_minute_and_day(xero, now):
    """Another installation of the app on the organisation: its calls count as Xero counts them."""
    answer = httpx.post(f"{xero.url}/__sandbox/usage", json={"tenant": DEFAULT_TENANT, "minute": 58, "day": 900,
                                                             "seconds_ago": 3600})
    assert answer.status_code == 200
    first = api(xero, "GET", "Organisation")
    assert (first.headers["X-MinLimit-Remaining"], first.headers["X-DayLimit-Remaining"]) == ("1", "4041")
    assert api(xero, "GET", "Organisation").status_code == 200
    assert api(xero, "GET", "Organisation").headers["X-Rate-Limit-Problem"] == "minute"
    assert api(xero, "GET", "Organisation", tenant=SECOND_TENANT).headers["X-MinLimit-Remaining"] == "59"
    assert httpx.post(f"{xero.url}/__sandbox/usage", json={"day": -1}).status_code == 400


def test_the_daily_limit_answers_day_and_concurrency_is_five_per_tenant(now):
    app = create_sandbox(day_limit=3, clock=lambda: now[0])
    sandbox = app.sandbox
    with running(app) as served:
        assert [api(served, "GET", "Organisation").status_code for _ in range(4)] == [200, 200, 200, 429]
        refused = api(served, "GET", "Organisation")
        assert refused.headers["X-Rate-Limit-Problem"] == "day" and int(refused.headers["Retry-After"]) == 86400
        sandbox.day.reset()
        for _ in range(5):  # five requests held in progress
            assert sandbox.minute.admit(DEFAULT_TENANT)
        busy = api(served, "GET", "Organisation")
        assert busy.status_code == 429 and busy.headers["X-Rate-Limit-Problem"] == "concurrent"
        for _ in range(5):
            sandbox.minute.release(DEFAULT_TENANT)


def test_idempotency_key_replays_errors_too_refuses_another_request_and_expires_after_six_minutes(xero, now):
    body = {"Contacts": [{"Name": "Acme Ltd", "ContactNumber": "cus_1"}]}
    first = api(xero, "PUT", "Contacts", body, key="k-1")
    again = api(xero, "PUT", "Contacts", body, key="k-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    other = api(xero, "PUT", "Contacts", {"Contacts": [{"Name": "Other"}]}, key="k-1")
    assert other.status_code == 400 and "is used with a different request" in other.json()["Message"]
    other_url = api(xero, "POST", "Contacts", body, key="k-1")
    assert other_url.status_code == 400
    duplicate = api(xero, "PUT", "Contacts", body, key="k-2")  # the name is taken: an error, kept
    assert duplicate.status_code == 400
    assert api(xero, "PUT", "Contacts", body, key="k-2").json() == duplicate.json()
    assert len(xero.sandbox.orgs[DEFAULT_TENANT].all("Contacts")) == 1
    now[0] += 360
    assert api(xero, "PUT", "Contacts", body, key="k-1").status_code == 400  # forgotten: created again → taken
    assert xero.sandbox.stats()["idempotent_replays"] == 2


def test_a_retry_sent_while_its_key_is_still_handled_waits_and_gets_the_same_answer(now):
    """A client that gave up waiting retries with the same key while Xero is still handling the
    first request: the retry is answered with the first one's answer, and one contact exists."""
    from concurrent.futures import ThreadPoolExecutor

    app = create_sandbox(clock=lambda: now[0], wall_clock=lambda: 1_790_000_000.0 + now[0], latency=0.3)
    body = {"Contacts": [{"Name": "Acme Ltd", "ContactNumber": "cus_1"}]}
    with running(app) as served, ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: api(served, "PUT", "Contacts", body, key="k-slow"), range(2)))
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert answers[0].json()["Contacts"] == answers[1].json()["Contacts"]
        assert len(served.sandbox.orgs[DEFAULT_TENANT].all("Contacts")) == 1
        assert served.sandbox.stats()["idempotent_replays"] == 1


# --- contacts -----------------------------------------------------------------------------

def test_contacts_are_created_read_updated_and_found_with_where(xero):
    created = api(xero, "PUT", "Contacts", {"Contacts": [
        {"Name": "Acme \"Rockets\" Ltd", "ContactNumber": "cus_1", "EmailAddress": "ap@acme.test"},
        {"Name": "Bolt & Co", "ContactNumber": "cus_2", "EmailAddress": "bills@bolt.test"}]}).json()["Contacts"]
    acme = created[0]
    assert acme["ContactStatus"] == "ACTIVE" and acme["UpdatedDateUTC"].startswith("/Date(")
    assert api(xero, "GET", f"Contacts/{acme['ContactID']}").json()["Contacts"][0]["Name"] == 'Acme "Rockets" Ltd'
    assert api(xero, "GET", "Contacts/7c3c7f3e-0000-4000-8000-000000000000").status_code == 404

    def found(where: str) -> list[str]:
        answer = api(xero, "GET", "Contacts", where=where)
        assert answer.status_code == 200, answer.text
        return [c["ContactNumber"] for c in answer.json()["Contacts"]]

    assert found('ContactNumber=="cus_2"') == ["cus_2"]
    assert found('Name=="Acme \\"Rockets\\" Ltd"') == ["cus_1"]
    assert found('EmailAddress=="AP@ACME.TEST"') == ["cus_1"]  # == ignores case, as Xero's does
    assert found('ContactNumber=="cus_1" OR ContactNumber=="cus_2"') == ["cus_1", "cus_2"]
    assert found('ContactNumber=="cus_1" AND EmailAddress=="bills@bolt.test"') == []
    assert found(f'ContactID==Guid("{acme["ContactID"]}")') == ["cus_1"]
    assert found('Name.StartsWith("bolt")') == ["cus_2"]
    broken = api(xero, "GET", "Contacts", where='ContactNumber=="cus_1')
    assert broken.status_code == 400 and broken.json()["Type"] == "QueryParseException"
    updated = api(xero, "POST", "Contacts", {"Contacts": [{"ContactID": acme["ContactID"], "EmailAddress": "x@acme.test"}]})
    assert updated.json()["Contacts"][0]["EmailAddress"] == "x@acme.test"
    assert updated.json()["Contacts"][0]["Name"] == 'Acme "Rockets" Ltd'


def test_a_misspelt_field_or_a_taken_name_refuses_the_batch_in_xeros_validation_shape(xero):
    refused = api(xero, "PUT", "Contacts", {"Contacts": [{"Name": "A"}, {"Name": "B", "EmailAdress": "b@b.test"}]})
    assert refused.status_code == 400
    body = refused.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert [e.get("ValidationErrors") for e in body["Elements"]] == [
        None, [{"Message": "Contact: Additional properties are not allowed ('EmailAdress' was unexpected)"}]]
    assert api(xero, "GET", "Contacts").json()["Contacts"] == []  # none saved


def test_summarize_errors_false_answers_element_by_element_and_saves_the_good_ones(xero):
    api(xero, "PUT", "Contacts", {"Contacts": [{"Name": "Taken"}]})
    answer = api(xero, "PUT", "Contacts", {"Contacts": [{"Name": "Fresh"}, {"Name": "taken"}, {}]},
                 summarizeErrors="false")
    assert answer.status_code == 200
    elements = answer.json()["Contacts"]
    assert [e["StatusAttributeString"] for e in elements] == ["OK", "ERROR", "ERROR"]
    assert elements[1]["ValidationErrors"][0]["Message"].startswith("The contact name taken is already assigned")
    assert elements[2]["ValidationErrors"] == [{"Message": "The contact name must be specified."}]
    assert sorted(c["Name"] for c in api(xero, "GET", "Contacts").json()["Contacts"]) == ["Fresh", "Taken"]


# --- settings -----------------------------------------------------------------------------

def test_settings_are_seeded_and_every_answer_validates_against_the_strict_spec(xero):
    xero.sandbox.orgs[DEFAULT_TENANT].set_lock_dates("2026-06-30", "2025-12-31")
    organisation = api(xero, "GET", "Organisation").json()["Organisations"][0]
    assert organisation["BaseCurrency"] == "USD" and organisation["PeriodLockDate"].startswith("/Date(")
    assert [c["Code"] for c in api(xero, "GET", "Currencies").json()["Currencies"]] == ["USD", "EUR", "JPY", "KWD"]
    banks = api(xero, "GET", "Accounts", where='Type=="BANK"').json()["Accounts"]
    assert [(a["Code"], a["CurrencyCode"]) for a in banks] == [("090", "USD"), ("091", "EUR"), ("092", "JPY"),
                                                              ("093", "KWD")]
    assert [t["TaxType"] for t in api(xero, "GET", "TaxRates").json()["TaxRates"]] == ["NONE", "OUTPUT"]
    assert api(xero, "GET", "Items", where='Code=="SUB-BASIC"').json()["Items"][0]["SalesDetails"]["AccountCode"] == "200"
    statuses = {entry["status"] for entry in xero.sandbox.requests()}
    assert statuses == {200}  # a 500 would mean an answer Xero's spec refuses


def test_if_modified_since_lists_only_what_changed_after_it_oldest_first(xero, now):
    api(xero, "PUT", "Contacts", {"Name": "Early"})
    now[0] += 10
    late = api(xero, "PUT", "Contacts", {"Name": "Late"}).json()["Contacts"][0]
    now[0] += 10
    api(xero, "POST", "Contacts", {"ContactID": late["ContactID"], "EmailAddress": "x@late.test"})
    between = email.utils.formatdate(1_790_000_000.0 + 1005, usegmt=True)
    headers = {"Authorization": "Bearer xero-sandbox-access-token", "xero-tenant-id": DEFAULT_TENANT,
               "If-Modified-Since": between}
    changed = httpx.get(f"{xero.url}/api.xro/2.0/Contacts", headers=headers, params={"order": "UpdatedDateUTC ASC"})
    assert [c["Name"] for c in changed.json()["Contacts"]] == ["Late"]
    iso = httpx.get(f"{xero.url}/api.xro/2.0/Contacts", headers={**headers, "If-Modified-Since": "2026-01-01T00:00:00"})
    assert [c["Name"] for c in iso.json()["Contacts"]] == ["Early", "Late"]
    bad = httpx.get(f"{xero.url}/api.xro/2.0/Contacts", headers={**headers, "If-Modified-Since": "yesterday"})
    assert bad.status_code == 400


def test_an_account_is_added_to_the_chart_with_a_unique_code_and_name(xero):
    clearing = api(xero, "PUT", "Accounts", {"Code": "095", "Name": "Stripe USD", "Type": "BANK",
                                             "BankAccountNumber": "STRIPE-USD", "CurrencyCode": "USD"})
    assert clearing.status_code == 200, clearing.text
    made = clearing.json()["Accounts"][0]
    assert (made["Class"], made["CurrencyCode"], made["Status"]) == ("ASSET", "USD", "ACTIVE")
    again = api(xero, "PUT", "Accounts", {"Code": "095", "Name": "stripe usd", "Type": "BANK",
                                          "CurrencyCode": "GBP"})
    assert [e["Message"] for e in again.json()["Elements"][0]["ValidationErrors"]] == [
        "Please enter a unique Code.", "Please enter a unique Name.",
        "Please enter a BankAccountNumber for a bank account.", "Organisation is not subscribed to currency GBP"]
    assert api(xero, "GET", "Accounts", where='Name=="Stripe USD"').json()["Accounts"][0]["Code"] == "095"
