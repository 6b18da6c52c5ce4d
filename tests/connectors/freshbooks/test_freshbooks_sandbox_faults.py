"""Scripted faults in the FreshBooks sandbox: refused requests create nothing, a lost answer's
write is there, a bad script is refused whole."""

from __future__ import annotations

import httpx

from fb_sandbox import ACCOUNT, call, result, served


def script(loop, *faults) -> httpx.Response:
    return httpx.post(f"{loop.url}/__sandbox/faults", json=list(faults))


def test_a_scripted_status_answers_instead_of_the_request_and_creates_nothing():
    with served() as (loop, _clock):
        assert script(loop, {"status": 503, "match": {"method": "POST", "resource": "users/clients"}},
                      {"status": 429, "retry_after": 7}).json() == {"queued": 2}
        listed = call(loop, "GET", "users/clients")            # the 503 matches POSTs only: the 429 takes it
        assert listed.status_code == 429 and listed.headers["Retry-After"] == "7"
        gateway = call(loop, "POST", "users/clients", {"client": {"email": "a@example.com"}})
        assert gateway.status_code == 503 and gateway.headers["content-type"].startswith("text/html")
        assert loop.sandbox.businesses[ACCOUNT].all("clients") == []
        assert result(call(loop, "POST", "users/clients", {"client": {"email": "a@example.com"}}))["client"]
        assert loop.sandbox.stats()["faults_injected"] == 2 and httpx.get(f"{loop.url}/__sandbox/faults").json() == []


def test_a_lost_answer_s_write_is_committed_so_a_client_must_look_before_resending():
    with served() as (loop, _clock):
        script(loop, {"answer": "lost", "match": {"resource": "users/clients"}},
               {"answer": "truncated", "match": {"resource": "users/clients"}})
        lost = call(loop, "POST", "users/clients", {"client": {"email": "once@example.com"}})
        assert lost.status_code == 504
        cut = call(loop, "GET", "users/clients", params={"search[email]": "once@example.com"})
        assert cut.status_code == 200 and not cut.text.endswith("}")
        found = result(call(loop, "GET", "users/clients", params={"search[email]": "once@example.com"}))
        assert found["total"] == 1
        logged = [entry for entry in loop.sandbox.requests() if "fault" in entry]
        assert [entry["committed_status"] for entry in logged] == [200, 200]


def test_a_bad_script_is_refused_whole():
    with served() as (loop, _clock):
        for bad in ([{"status": 400}], [{"status": 500, "timeout": 1}], [{"answer": "late"}],
                    [{"status": 500}, {"status": 500, "times": 0}], [{"status": 500, "match": {"entity": "x"}}]):
            refused = script(loop, *bad)
            assert refused.status_code == 400 and refused.json()["error"].startswith("faults[")
        assert httpx.get(f"{loop.url}/__sandbox/faults").json() == []
