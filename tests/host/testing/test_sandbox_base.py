"""The sandbox base (ledgerlink.testing.sandbox*): one test per feature, over real loopback HTTP
where the feature is HTTP, against a tiny vendor built here on the base."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable

import httpx
import pytest
from flask import Flask, Response, request

from ledgerlink.testing.sandbox import (FaultScript, IdempotencyKeys, RateWindow, Reply, SandboxClock,
                                        Scripted, retry_after_header, running)
from ledgerlink.testing.sandbox_oauth import OAuthServer, pkce_challenge
from ledgerlink.testing.sandbox_webhooks import WebhookEmitter, hmac_signature
from ledgerlink.web import servers
from vendor_files import QUICKBOOKS, STRIPE

BASIC = ("acme-client", "acme-secret")


class Acme:
    """A vendor sandbox in miniature: POST /things with an Idempotency-Key, rate limited,
    faults scripted, bearer tokens from its OAuth server."""

    def __init__(self, now: list[float]) -> None:
        self.clock = SandboxClock(lambda: now[0], lambda: 1_700_000_000.0 + now[0])
        self.rates = RateWindow(self.clock, requests=2, window=10.0, concurrent=5)
        self.keys = IdempotencyKeys(compare_bodies=True)
        self.faults: FaultScript[int] = FaultScript()
        self.oauth = OAuthServer(self.clock, *BASIC, static_tokens=("static",), prefix="acme")
        self.created = 0

    def things(self, tenant: str, key: str | None, body: bytes, authorization: str | None) -> Reply:
        token = (authorization or "").removeprefix("Bearer ")
        if self.oauth.access_problem(token or None) is not None:
            return Reply.json(401, {"error": "unauthorized"})
        if not self.rates.admit(tenant):
            return Reply.json(429, {"error": "slow down"}, {"Retry-After": retry_after_header(2.5)})
        try:
            fault = self.faults.take({"tenant": tenant, "method": "POST"})
            if fault is not None:
                return Reply.json(fault.answer, {"error": "scripted"})
            if key is not None:
                kept = self.keys.lookup(tenant, key, body)
                if kept is not None:
                    return kept.reply or Reply.json(409, {"error": "key reused with another body"})
            self.created += 1
            reply = Reply.json(201, {"id": self.created, "thing": json.loads(body)})
            if key is not None:
                self.keys.remember(tenant, key, body, reply)
            return reply
        finally:
            self.rates.release(tenant)


def create_acme(now: list[float]) -> Flask:
    acme = Acme(now)
    app = Flask("acme")
    app.sandbox = acme  # type: ignore[attr-defined]

    def send(reply: Reply) -> Response:
        return Response(reply.body, status=reply.status, content_type=reply.content_type,
                        headers=reply.headers)

    @app.post("/<tenant>/things")
    def things(tenant: str) -> Response:
        return send(acme.things(tenant, request.headers.get("Idempotency-Key"), request.get_data(),
                                request.headers.get("Authorization")))

    @app.post("/token")
    def token() -> Response:
        return send(acme.oauth.token_endpoint(request.form.to_dict(), request.headers.get("Authorization")))

    return app


@pytest.fixture
def now() -> list[float]:
    return [100.0]


@pytest.fixture
def acme(now):
    with running(create_acme(now)) as served:
        yield served


def post(acme, tenant: str = "t1", body: dict | None = None, key: str | None = None,
         token: str = "static") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{acme.url}/{tenant}/things", content=json.dumps(body or {"n": 1}), headers=headers)


def test_running_serves_on_a_free_loopback_port_and_stop_frees_it(now):
    with running(create_acme(now)) as served:
        assert served.url.startswith("http://127.0.0.1:") and not served.url.endswith("/")
        assert isinstance(served.sandbox, Acme)
        assert post(served).status_code == 201
    with pytest.raises(httpx.ConnectError):
        post(served)


def test_rate_window_answers_429_with_retry_after_and_slides(acme, now):
    assert [post(acme).status_code for _ in range(3)] == [201, 201, 429]
    throttled = post(acme)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"  # 2.5 s rounded up
    assert post(acme, tenant="t2").status_code == 201  # a window per tenant
    now[0] += 10.0  # the first two left the window
    assert [post(acme).status_code for _ in range(3)] == [201, 201, 429]
    rates = acme.sandbox.rates
    assert rates.throttled == 3 and rates.per_window_max == {"t1": 2, "t2": 1}


def test_rate_window_limits_requests_in_progress_and_measures_when_not_enforcing():
    clock = SandboxClock(lambda: 0.0)
    window = RateWindow(clock, requests=100, window=1.0, concurrent=2)
    assert [window.admit("k") for _ in range(3)] == [True, True, False]
    window.release("k")
    assert window.admit("k") and window.in_progress() == {"k": 2}
    measuring = RateWindow(clock, requests=1, window=1.0, concurrent=1, enforce=False)
    assert all(measuring.admit("k") for _ in range(4))
    assert measuring.max_concurrent_seen == {"k": 4} and measuring.per_window_max == {"k": 4}
    assert measuring.throttled == 0


def test_idempotency_key_replays_the_same_body_and_refuses_another(acme):
    acme.sandbox.rates.enforce = False
    first = post(acme, body={"n": 1}, key="k-1")
    again = post(acme, body={"n": 1}, key="k-1")
    assert first.status_code == again.status_code == 201 and again.content == first.content
    other = post(acme, body={"n": 2}, key="k-1")
    assert other.status_code == 409 and "another body" in other.text
    assert post(acme, body={"n": 1}, key="k-1", tenant="t2").json()["id"] == 2  # keys per tenant
    assert acme.sandbox.created == 2 and acme.sandbox.keys.replayed == 1


def test_idempotency_keys_without_body_comparison_replay_whatever_the_body():
    keys = IdempotencyKeys(compare_bodies=False)
    keys.remember("realm", "r-1", b"{}", Reply.json(400, {"Fault": "kept"}))
    kept = keys.lookup("realm", "r-1", b'{"other": true}')
    assert kept is not None and kept.reply is not None and kept.reply.parsed() == {"Fault": "kept"}
    assert keys.lookup("realm", "r-2", b"{}") is None and keys.known("realm", "r-1")


def test_scripted_faults_answer_the_next_n_matching_requests(acme):
    acme.sandbox.rates.enforce = False
    faults = acme.sandbox.faults
    assert faults.add([Scripted(503, {"tenant": "t1"}, times=2, spec={"status": 503, "times": 2})]) == 1
    assert post(acme, tenant="t2").status_code == 201  # does not match: untouched
    assert faults.pending() == [{"status": 503, "times": 2}]
    assert [post(acme).status_code for _ in range(2)] == [503, 503]
    now_free = post(acme)
    assert now_free.status_code == 201 and faults.pending() == [] and faults.injected == 2
    with pytest.raises(ValueError, match="times must be an integer of at least 1"):
        faults.add([Scripted(500, times=0)])


def basic(pair: tuple[str, str] = BASIC) -> str:
    import base64
    return "Basic " + base64.b64encode(":".join(pair).encode()).decode()


def token(acme, **form: str) -> httpx.Response:
    return httpx.post(f"{acme.url}/token", data=form, headers={"Authorization": basic()})


def test_oauth_code_is_single_use_and_bound_to_its_redirect_uri(acme):
    acme.sandbox.rates.enforce = False
    oauth = acme.sandbox.oauth
    code = oauth.authorize("https://app.example/callback")
    wrong = token(acme, grant_type="authorization_code", code=code, redirect_uri="https://evil.example/")
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_grant"}
    code = oauth.authorize("https://app.example/callback")
    issued = token(acme, grant_type="authorization_code", code=code, redirect_uri="https://app.example/callback")
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    body = issued.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert post(acme, token=body["access_token"]).status_code == 201
    reused = token(acme, grant_type="authorization_code", code=code, redirect_uri="https://app.example/callback")
    assert reused.json() == {"error": "invalid_grant"}
    client = httpx.post(f"{acme.url}/token", data={"grant_type": "authorization_code"},
                        headers={"Authorization": basic(("acme-client", "wrong"))})
    assert client.status_code == 401 and client.headers["WWW-Authenticate"].startswith("Basic")


def test_oauth_refresh_rotates_and_tokens_expire(acme, now):
    code = acme.sandbox.oauth.authorize()
    first = token(acme, grant_type="authorization_code", code=code, redirect_uri="https://x/").json()
    second = token(acme, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    again = token(acme, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}  # rotated away
    now[0] += 3600.0
    assert post(acme, token=second["access_token"]).status_code == 401  # expired
    assert token(acme, grant_type="password").json() == {"error": "unsupported_grant_type"}


def test_oauth_pkce_needs_the_verifier_of_the_challenge(acme):
    oauth = acme.sandbox.oauth
    verifier = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert len(pkce_challenge(verifier)) == 43 and "=" not in pkce_challenge(verifier)  # 32 bytes, base64url
    assert pkce_challenge(verifier, "plain") == verifier
    code = oauth.authorize("https://x/", code_challenge=pkce_challenge(verifier))
    refused = token(acme, grant_type="authorization_code", code=code, redirect_uri="https://x/",
                    code_verifier="not-the-verifier")
    assert refused.json() == {"error": "invalid_grant"}
    code = oauth.authorize("https://x/", code_challenge=pkce_challenge(verifier))
    assert token(acme, grant_type="authorization_code", code=code, redirect_uri="https://x/",
                 code_verifier=verifier).status_code == 200


def test_oauth_revoking_a_grant_revokes_all_its_tokens(acme):
    acme.sandbox.rates.enforce = False
    oauth = acme.sandbox.oauth
    issued = token(acme, grant_type="authorization_code", code=oauth.authorize(), redirect_uri="https://x/").json()
    assert oauth.revoke(issued["refresh_token"], grant=True)
    assert post(acme, token=issued["access_token"]).status_code == 401
    assert not oauth.revoke("static") and post(acme).status_code == 201


def test_hmac_signature_matches_the_vendors_published_vectors():
    stripe = json.loads((STRIPE / "webhook-signature-vectors.json").read_text("utf-8"))["vectors"][0]
    signed = (stripe["signed_payload_prefix"] + stripe["payload"]).encode("utf-8")
    assert hmac_signature(stripe["secret"], signed) == stripe["expected_v1_hex"]
    intuit = json.loads((QUICKBOOKS / "webhook-signature-vectors.json").read_text("utf-8"))["vectors"][0]
    assert hmac_signature(intuit["verifier_token"], intuit["payload"].encode("utf-8"),
                          "base64") == intuit["intuit_signature"]


class Receiver:
    """A webhook endpoint on loopback: answers the scripted statuses, then 200; keeps what came."""

    def __init__(self, statuses: Iterable[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Event()

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        self.received.append((body, headers))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.arrived.set()
        start_response(f"{status} X", [("Content-Length", "0")])
        return [b""]


def test_webhook_emitter_signs_posts_in_order_and_retries_until_acknowledged():
    receiver = Receiver([500])
    with servers.background(receiver) as server:
        emitter: WebhookEmitter[str] = WebhookEmitter(
            server.url + "/hook", lambda events: json.dumps(events).encode(),
            lambda body: {"x-signature": hmac_signature("s3cret", body)}, batch=10, retry_schedule=(0.01,))
        try:
            emitter.notify("first")
            assert receiver.arrived.wait(5)
            receiver.arrived.clear()
            emitter.notify("second")
            assert receiver.arrived.wait(5)
        finally:
            emitter.stop()
    bodies = [body for body, _ in receiver.received]
    assert bodies == [b'["first"]', b'["first"]', b'["second"]']  # retried, then the next one
    for body, headers in receiver.received:
        assert headers["x-signature"] == hmac_signature("s3cret", body)
        assert headers["content-type"] == "application/json"
    assert emitter.stats == {"posts": 3, "acknowledged": 2, "failed_attempts": 1, "notified": 2}
    assert emitter.pending() == 0


def test_rate_window_says_what_remains_and_when_a_slot_frees():
    now = [0.0]
    window = RateWindow(SandboxClock(lambda: now[0]), requests=3, window=60.0, concurrent=9)
    assert window.remaining("k") == 3 and window.retry_in("k") == 0.0
    for at in (0.0, 10.0, 20.0):
        now[0] = at
        assert window.admit("k")
        window.release("k")
    assert window.remaining("k") == 0 and window.retry_in("k") == 40.0  # the first leaves at 60
    assert not window.admit("k")
    now[0] = 60.0
    assert window.remaining("k") == 1 and window.retry_in("k") == 0.0 and window.remaining("other") == 3


def test_idempotency_keys_with_a_ttl_forget_a_key_when_its_time_is_up():
    now = [0.0]
    keys = IdempotencyKeys(ttl=360.0, clock=SandboxClock(lambda: now[0]))
    keys.remember("tenant", "k", b"{}", Reply.json(200, {"n": 1}))
    now[0] = 359.0
    kept = keys.lookup("tenant", "k", b"{}")
    assert kept is not None and kept.reply is not None and kept.reply.parsed() == {"n": 1}
    now[0] = 360.0
    assert keys.lookup("tenant", "k", b"{}") is None and not keys.known("tenant", "k")
    keys.remember("tenant", "k", b"{}", Reply.json(200, {"n": 2}))  # the key is new again
    assert keys.lookup("tenant", "k", b"{}").reply.parsed() == {"n": 2}
    with pytest.raises(ValueError, match="ttl and clock go together"):
        IdempotencyKeys(ttl=1.0)


def test_oauth_refresh_grace_keeps_a_rotated_token_usable_for_a_while(now):
    oauth = OAuthServer(SandboxClock(lambda: now[0]), *BASIC, refresh_grace_seconds=1800.0)
    first = json.loads(oauth.token_endpoint({"grant_type": "authorization_code", "code": oauth.authorize(),
                                             "redirect_uri": "https://x/"}, basic()).body)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = oauth.token_endpoint(refresh, basic()).parsed()
    now[0] += 1799.0  # the answer was lost: the old token still works within the grace
    third = oauth.token_endpoint(refresh, basic()).parsed()
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
    now[0] += 2.0
    assert oauth.token_endpoint(refresh, basic()).parsed() == {"error": "invalid_grant"}
    assert oauth.token_endpoint({"grant_type": "refresh_token", "refresh_token": third["refresh_token"]},
                                basic()).status == 200


def test_oauth_client_credentials_issue_an_access_token_without_refresh_token_when_allowed(now):
    clock = SandboxClock(lambda: now[0])
    closed = OAuthServer(clock, *BASIC)
    assert closed.token_endpoint({"grant_type": "client_credentials"}, basic()).parsed() == \
        {"error": "unsupported_grant_type"}
    oauth = OAuthServer(clock, *BASIC, client_credentials=True)
    issued = oauth.token_endpoint({"grant_type": "client_credentials"}, basic()).parsed()
    assert "refresh_token" not in issued and oauth.access_problem(issued["access_token"]) is None
    assert oauth.token_endpoint({"grant_type": "client_credentials"}, None).status == 401


def test_requests_with_one_key_are_handled_one_at_a_time_so_a_retry_meanwhile_is_replayed():
    """A retry sent while the first request with its key is still handled waits for it and gets
    its answer: the handler runs once (without ``held`` both would find the key new)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    keys = IdempotencyKeys(compare_bodies=True)
    handled: list[str] = []

    def handle(key: str) -> Reply:
        with keys.held("acct_1", key):
            kept = keys.lookup("acct_1", key, b"amount=100")
            if kept is not None and kept.reply is not None:
                return kept.reply
            handled.append(key)
            time.sleep(0.2)  # the vendor still working on it when the retry arrives
            reply = Reply.json(200, {"id": f"obj_{key}_{handled.count(key)}"})
            keys.remember("acct_1", key, b"amount=100", reply)
            return reply

    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(handle, ["k-1", "k-1", "k-2"]))
    assert sorted(handled) == ["k-1", "k-2"]
    assert replies[0].parsed() == replies[1].parsed() != replies[2].parsed()
    with keys.held("acct_1", None):  # a request without a key waits for nobody
        assert keys.lookup("acct_1", "k-1", b"amount=100") is not None
