"""The FreshBooks sandbox over loopback HTTP: consent, tokens, users/me, the API's door."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fb_sandbox import ACCOUNT, call, result, served, shape_of
from ledgerlink_sandboxes.freshbooks import CLASSIC_ACCOUNT_ID, DEFAULT_BUSINESS_ID
from vendor_files import FRESHBOOKS

REDIRECT = "https://127.0.0.1:9/callback"
CLIENT = {"client_id": "freshbooks-sandbox-client", "client_secret": "freshbooks-sandbox-secret"}


def fixture(name: str) -> dict:
    folder = "freshbooks-java-sdk-fixtures" if (FRESHBOOKS / "freshbooks-java-sdk-fixtures" / name).exists() \
        else "freshbooks-python-sdk-fixtures"
    return json.loads((FRESHBOOKS / folder / name).read_text("utf-8"))


def consent(loop, redirect: str = REDIRECT) -> httpx.Response:
    return httpx.get(f"{loop.url}/service/auth/oauth/authorize",
                     params={"client_id": CLIENT["client_id"], "response_type": "code", "redirect_uri": redirect,
                             "state": "s-1"})


def code_of(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def token(loop, **form) -> httpx.Response:
    # FreshBooks' SDKs post the client's credentials in the form, not as HTTP Basic
    return httpx.post(f"{loop.url}/auth/oauth/token", data={**CLIENT, **form})


def test_code_exchange_gives_a_twelve_hour_token_whose_user_lists_both_ids_of_each_business():
    with served() as (loop, _clock):
        issued = token(loop, grant_type="authorization_code", code=code_of(consent(loop)), redirect_uri=REDIRECT)
        body = issued.json()
        assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
        assert body["token_type"] == "Bearer" and body["expires_in"] == 12 * 3600
        assert set(body) >= set(fixture("auth_token_response.json")) - {"id_token"}
        assert isinstance(body["created_at"], int)
        me = httpx.get(f"{loop.url}/auth/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        memberships = me.json()["response"]["business_memberships"]
        assert [(m["business"]["id"], m["business"]["account_id"]) for m in memberships] == [
            (DEFAULT_BUSINESS_ID, ACCOUNT), (6544, CLASSIC_ACCOUNT_ID)]
        # the membership's own id is neither of the business's two ids
        assert all(m["id"] not in (m["business"]["id"],) for m in memberships)
        recorded = fixture("auth_me_response.json")["response"]
        assert set(recorded["business_memberships"][0]["business"]) <= set(memberships[0]["business"])
        assert {"id", "identity_id", "business_memberships", "roles", "groups"} <= set(me.json()["response"])
        assert call(loop, "GET", "users/clients", token=body["access_token"]).status_code == 200


def test_a_code_is_good_once_and_only_with_its_redirect_uri():
    with served() as (loop, _clock):
        code = code_of(consent(loop))
        refused = token(loop, grant_type="authorization_code", code=code, redirect_uri="https://127.0.0.1:9/other")
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert token(loop, grant_type="authorization_code", code=code, redirect_uri=REDIRECT).status_code == 400
        wrong_secret = httpx.post(f"{loop.url}/auth/oauth/token",
                                  data={**CLIENT, "client_secret": "nope", "grant_type": "authorization_code",
                                        "code": code_of(consent(loop)), "redirect_uri": REDIRECT})
        assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
        assert set(wrong_secret.json()) == {"error", "error_description"}


@pytest.mark.parametrize("redirect", ["https://example.com/cb?x=1", "http://example.com/cb", "not a uri"])
def test_consent_refuses_a_redirect_uri_freshbooks_refuses(redirect):
    with served() as (loop, _clock):
        answer = consent(loop, redirect)
        assert answer.status_code == 400
        assert set(answer.json()) == {"error", "error_description"}


def test_a_refresh_token_is_good_once_even_when_its_answer_was_lost():
    with served() as (loop, _clock):
        first = token(loop, grant_type="authorization_code", code=code_of(consent(loop)), redirect_uri=REDIRECT).json()
        second = token(loop, grant_type="refresh_token", refresh_token=first["refresh_token"], redirect_uri=REDIRECT)
        assert second.status_code == 200
        renewed = second.json()
        assert renewed["refresh_token"] != first["refresh_token"]
        again = token(loop, grant_type="refresh_token", refresh_token=first["refresh_token"], redirect_uri=REDIRECT)
        assert again.status_code == 400
        assert again.json() == {"error": "invalid_grant", "error_description": again.json()["error_description"]}
        assert "invalid" in again.json()["error_description"]
        assert token(loop, grant_type="refresh_token", refresh_token=renewed["refresh_token"],
                     redirect_uri=REDIRECT).status_code == 200


def test_an_expired_token_is_refused_in_each_family_s_own_shape():
    with served() as (loop, clock):
        issued = token(loop, grant_type="authorization_code", code=code_of(consent(loop)), redirect_uri=REDIRECT).json()
        access = issued["access_token"]
        assert call(loop, "GET", "users/clients", token=access).status_code == 200
        clock.now += 12 * 3600
        refused = call(loop, "GET", "users/clients", token=access)
        assert refused.status_code == 401
        assert shape_of(refused.json()) == shape_of(fixture("get_client_response__no_auth.json"))
        assert refused.json()["details"][0]["reason"] == "1003"
        events = call(loop, "GET", "events/callbacks", token=access, family="events")
        assert events.status_code == 401 and events.json() == fixture("get_callback_response__no_auth.json")
        me = httpx.get(f"{loop.url}/auth/api/v1/users/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 401 and me.json() == fixture("auth_me_response__no_auth.json")
        assert call(loop, "GET", "users/clients", token=None).status_code == 401


def test_the_classic_account_is_listed_but_its_use_refused():
    with served() as (loop, _clock):
        refused = call(loop, "GET", "users/clients", account=CLASSIC_ACCOUNT_ID)
        assert refused.status_code == 403
        assert "FreshBooks Classic" in refused.json()["details"][0]["metadata"]["message"]
        assert call(loop, "POST", "users/clients", {"client": {"email": "a@example.com"}},
                    account=CLASSIC_ACCOUNT_ID).status_code == 403
        assert call(loop, "GET", "users/clients", account="NoSuch").status_code == 404


def test_over_the_rate_window_a_429_with_retry_after_creates_nothing_until_the_window_moves():
    with served(minute_limit=3) as (loop, clock):
        for index in range(3):
            result(call(loop, "POST", "users/clients", {"client": {"email": f"c{index}@example.com"}}))
        refused = call(loop, "POST", "users/clients", {"client": {"email": "late@example.com"}})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 60
        assert refused.json()["code"] == 8
        assert len(loop.sandbox.businesses[ACCOUNT].all("clients")) == 3
        clock.now += 60
        assert result(call(loop, "POST", "users/clients", {"client": {"email": "late@example.com"}}))["client"]
        assert loop.sandbox.stats()["throttled"] == 1


def test_the_options_documented_are_the_options_taken_and_bad_values_are_refused():
    import inspect

    from ledgerlink_sandboxes.freshbooks import OPTIONS, Sandbox, create_sandbox

    taken = set(inspect.signature(Sandbox).parameters) - {"clock", "wall_clock"}
    assert taken == set(OPTIONS)
    with pytest.raises(TypeError):
        create_sandbox(no_such_option=1)
    for bad in ({"error_shape": "xml"}, {"minute_limit": 0}, {"account_id": "6B-Apk"}, {"currency": "DOLLARS"},
                {"callback_retry_seconds": [-1]}, {"more_businesses": [{"account_id": "6BApk", "business_id": 7}]},
                {"more_businesses": [{"account_id": "7C-B", "business_id": 7}]}, {"more_businesses": ["7CBqm"]}):
        with pytest.raises(ValueError):
            create_sandbox(**bad)
