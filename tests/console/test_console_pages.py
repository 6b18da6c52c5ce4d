"""The console over HTTP (Flask's test client on the app ``serve`` runs): signing in, the
cookie's attributes, CSRF, the security headers, the sync log's filters, counts and keyset
pages, dates in the operator's time zone, amounts to their currency's decimals, and no secret
on any page. The browser tests (test_console_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

from html import unescape
import importlib.util
import re
import time

import sqlalchemy as sa

from console_helpers import QBO_SECRET, csrf_of, sign_in
from ledgerlink import jsonio
from ledgerlink.store.schema import run_steps, runs
from runtime_fixtures import ADMIN_TOKEN
from vendor_files import REPO


def bench():
    """bench/console_synclog.py, whose ``fill`` stores runs as a busy installation has them."""
    spec = importlib.util.spec_from_file_location("console_synclog", REPO / "bench" / "console_synclog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def store_of(app):
    return app.config["LEDGERLINK_RUNTIME"].store


def run_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td><a href="/console/runs/(\d+)">', html)]


def test_every_page_but_login_needs_a_session(app):
    client = app.test_client()
    for path in ("/console/", "/console/runs/1", "/console/runs/1/replay", "/console/counts",
                 "/console/runs/1/status"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/console/login?next=/console/")
    assert client.post("/console/runs/1/replay", data={"csrf": "x"}).status_code == 401
    assert client.get("/console/login").status_code == 200
    assert client.get("/console/static/console.css").status_code == 200  # the login page's style


def test_signing_in_with_the_admin_token_gives_a_strict_httponly_cookie(app):
    client = app.test_client()
    wrong = sign_in(client, "not-the-token")
    assert wrong.status_code == 401 and "not the admin token" in wrong.get_data(as_text=True)
    answer = sign_in(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    assert ADMIN_TOKEN not in cookie
    assert client.get("/console/").status_code == 200


def test_the_cookie_is_secure_when_the_request_came_over_tls(app):
    client = app.test_client()
    form = client.get("/console/login", base_url="https://localhost")
    answer = client.post("/console/login", base_url="https://localhost",
                         data={"csrf": csrf_of(form.get_data(as_text=True)), "token": ADMIN_TOKEN})
    assert answer.status_code == 303 and "; Secure" in answer.headers["Set-Cookie"]


def test_a_post_without_its_csrf_token_is_refused(signed_in):
    for data in ({}, {"csrf": "forged"}):
        refused = signed_in.post("/console/logout", data=data)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    login_without = signed_in.post("/console/login", data={"token": ADMIN_TOKEN})
    assert login_without.status_code == 403
    page = signed_in.get("/console/").get_data(as_text=True)
    out = signed_in.post("/console/logout", data={"csrf": csrf_of(page)})
    assert out.status_code == 303 and signed_in.get("/console/").status_code == 303  # signed out


def test_a_new_admin_token_ends_every_session(make_app):
    client = make_app().test_client()
    sign_in(client)
    cookie = client.get_cookie("ledgerlink_console", path="/console").value
    same = make_app().test_client()  # another server with the same token takes the cookie
    same.set_cookie("ledgerlink_console", cookie, path="/console")
    assert same.get("/console/").status_code == 200
    other = make_app(admin_token="another-admin-token-77").test_client()
    other.set_cookie("ledgerlink_console", cookie, path="/console")
    assert other.get("/console/").status_code == 303  # to the login page


def test_every_console_answer_has_the_security_headers(signed_in):
    for path in ("/console/", "/console/login", "/console/runs/999", "/console/static/console.css"):
        headers = signed_in.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(signed_in):
    html = signed_in.get("/console/").get_data(as_text=True)
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert '<script src="/console/static/console.js" defer></script>' in html  # the one script, a file
    assert "http://" not in html and "https://" not in html  # no CDN: every asset is served here


def test_the_json_api_still_takes_the_bearer_token_only(signed_in):
    assert signed_in.get("/api/runs").status_code == 401  # the console's cookie is not the API's key
    assert signed_in.get("/api/runs", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200


def test_the_sync_log_pages_by_keyset_with_filters_and_counts(app, signed_in):
    url = str(store_of(app).engine.url)
    bench().fill(url, 230, end=time.time())
    first = signed_in.get("/console/").get_data(as_text=True)
    ids = run_ids(first)
    assert ids == list(range(230, 180, -1))
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', first).group(1).replace("&amp;", "&")
    assert older == "/console/?after=181"
    second = signed_in.get(older).get_data(as_text=True)
    assert run_ids(second) == list(range(180, 130, -1)) and ">Newest<" in second
    counts = store_of(app).counts()
    assert f'all <b data-status="">{sum(counts.values())}</b>' in first
    for status, n in counts.items():
        assert f'>{status} <b data-status="{status}">{n}</b>' in first
    failed = signed_in.get("/console/?status=failed").get_data(as_text=True)
    assert run_ids(failed) and all(store_of(app).run(i)["status"] == "failed" for i in run_ids(failed))
    by_recipe = signed_in.get("/console/?recipe=stripe-payout-to-quickbooks-deposit&connection=stripe_eu")
    rows = [store_of(app).run(i) for i in run_ids(by_recipe.get_data(as_text=True))]
    assert rows and all(r["recipe_id"] == "stripe-payout-to-quickbooks-deposit" and r["connection"] == "stripe_eu"
                        for r in rows)
    assert run_ids(signed_in.get("/console/?source=evt_bench_77").get_data(as_text=True)) == [77]


def test_the_counts_a_sync_log_keeps_live_are_its_filters_counts_as_json(app, signed_in):
    url = str(store_of(app).engine.url)
    bench().fill(url, 120, end=time.time())
    page = unescape(signed_in.get("/console/?recipe=stripe-payout-to-quickbooks-deposit").get_data(as_text=True))
    live = re.search(r'data-live="([^"]+)"', page).group(1)
    assert live == "/console/counts?recipe=stripe-payout-to-quickbooks-deposit"
    answer = signed_in.get(live)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    body = answer.get_json()
    with store_of(app).engine.connect() as conn:
        stored = dict(conn.execute(sa.select(runs.c.status, sa.func.count()).where(
            runs.c.recipe_id == "stripe-payout-to-quickbooks-deposit").group_by(runs.c.status)).all())
    assert body["counts"] == stored and body["total"] == sum(stored.values()) < 120
    for status, n in body["counts"].items():
        assert f'>{status} <b data-status="{status}">{n}</b>' in page
        assert body["links"][status] == f"/console/?status={status}&recipe=stripe-payout-to-quickbooks-deposit"
    bad = signed_in.get("/console/counts?status=nonsense")
    assert bad.status_code == 400 and "is not one of" in bad.get_json()["error"]


def test_a_run_page_follows_its_run_only_while_it_can_still_change(app, signed_in):
    _run_with_step(app, {"amount": "1.00"}, status="retrying")
    page = signed_in.get("/console/runs/1").get_data(as_text=True)
    assert 'data-watch="/console/runs/1/status" data-status="retrying"' in page
    assert signed_in.get("/console/runs/1/status").get_json() == {"id": 1, "status": "retrying"}
    with store_of(app).engine.begin() as conn:
        conn.execute(sa.update(runs).values(status="succeeded"))
    assert signed_in.get("/console/runs/1/status").get_json()["status"] == "succeeded"
    assert "data-watch" not in signed_in.get("/console/runs/1").get_data(as_text=True)
    missing = signed_in.get("/console/runs/999/status")
    assert missing.status_code == 404 and missing.get_json() == {"error": "no run 999"}


def test_a_date_range_is_days_of_the_operators_time_zone(make_app):
    app = make_app(console='timezone = "Asia/Kolkata"')
    client = app.test_client()
    sign_in(client)
    # 2026-03-01 20:00 UTC is 2026-03-02 01:30 in Kolkata: a run of the 2nd there, not of the 1st
    at = 1772395200.0
    bench().fill(str(store_of(app).engine.url), 1, end=at)
    second = client.get("/console/?from=2026-03-02&to=2026-03-02").get_data(as_text=True)
    assert run_ids(second) == [1]
    assert '<time datetime="2026-03-01T20:00:00Z" title="2026-03-01 20:00:00 UTC">2026-03-02 01:30:00 IST</time>' in second
    assert run_ids(client.get("/console/?from=2026-03-01&to=2026-03-01").get_data(as_text=True)) == []
    wrong = client.get("/console/?from=2026-13-01&status=nope")
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert "write it as YYYY-MM-DD" in text and "is not one of" in text


def _run_with_step(app, step_input, output=None, status="failed", error=None):
    """Run 1 (filled) with one step attempt logged as given."""
    store = store_of(app)
    bench().fill(str(store.engine.url), 1)
    with store.engine.begin() as conn:
        conn.execute(sa.update(runs).values(status=status, last_error=error))
        conn.execute(run_steps.insert().values(run_id=1, step_id="entry", attempt=1, status=status,
                                               input=jsonio.dumps(step_input),
                                               output=jsonio.dumps(output) if output else None,
                                               idempotency_key="ledgerlink-1-entry-0", started_at=time.time(),
                                               finished_at=time.time(), error=error))


def test_the_run_page_shows_no_secret_even_one_in_a_steps_input(app, signed_in):
    _run_with_step(app, {"Memo": f"token {QBO_SECRET} pasted by mistake", "Amount": "12.50"},
                   error=f"QuickBooks refused {QBO_SECRET}; fix the token and replay the run")
    html = signed_in.get("/console/runs/1").get_data(as_text=True)
    assert QBO_SECRET not in html and "token [REDACTED] pasted by mistake" in html
    assert "QuickBooks refused [REDACTED]; fix the token and replay the run" in html
    assert "ledgerlink-1-entry-0" in html  # the idempotency key
    assert QBO_SECRET not in signed_in.get("/console/").get_data(as_text=True)


def test_an_amount_is_shown_to_its_currencys_decimals(app, signed_in):
    _run_with_step(app, {}, output={"id": "JE-7", "total": "5.12", "currency": "KWD"}, status="succeeded")
    html = signed_in.get("/console/runs/1").get_data(as_text=True)
    assert "JE-7: 5.120 KWD" in html


def test_an_action_is_confirmed_first_and_refused_when_it_does_not_apply(app, signed_in):
    _run_with_step(app, {}, status="succeeded")
    page = signed_in.get("/console/runs/1").get_data(as_text=True)
    assert 'href="/console/runs/1/undo"' in page and 'href="/console/runs/1/replay"' not in page
    confirm = signed_in.get("/console/runs/1/undo").get_data(as_text=True)
    assert "voided or deleted in the target system" in confirm and 'action="/console/runs/1/undo"' in confirm
    refused = signed_in.get("/console/runs/1/approve")
    assert refused.status_code == 409 and "awaiting_review" in refused.get_data(as_text=True)
    replay = signed_in.post("/console/runs/1/replay", data={"csrf": csrf_of(confirm)})
    assert replay.status_code == 409 and "run 1 is succeeded" in replay.get_data(as_text=True)
    assert store_of(app).run(1)["status"] == "succeeded"
    assert signed_in.get("/console/runs/12345").status_code == 404


def _awaiting_review(app, runs_count: int) -> None:
    """``runs_count`` runs awaiting review, each showing one request."""
    store = store_of(app)
    bench().fill(str(store.engine.url), runs_count)
    plan = {"steps": [{"step": "entry", "requests": [{"method": "POST", "url": "https://ledger.example/entry",
                                                      "body": {"Amount": "12.50", "CurrencyRef": "USD"}}]}]}
    with store.engine.begin() as conn:
        conn.execute(sa.update(runs).values(status="awaiting_review", review_plan=jsonio.dumps(plan),
                                            review_digest="d" * 64))


def test_the_review_queue_approves_and_rejects_many_runs_at_once(app, signed_in):
    _awaiting_review(app, 3)
    queue = signed_in.get("/console/review").get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r'name="run" value="(\d+)"', queue)) == [1, 2, 3]
    assert '"CurrencyRef": "USD"' in unescape(queue)  # the exact request each would send
    confirm = signed_in.get("/console/review/confirm?action=approve&run=1&run=3")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Approve 2 run(s)?" in text and "Run 1:" in text and "Run 2:" not in text
    assert signed_in.post("/console/review/approve", data={"run": ["1", "3"]}).status_code == 403  # no CSRF token
    done = signed_in.post("/console/review/approve", data={"run": ["1", "3"], "csrf": csrf_of(text)})
    assert done.status_code == 303 and done.headers["Location"] == "/console/review?approved=2&left=0"
    statuses = {i: store_of(app).run(i)["status"] for i in (1, 2, 3)}
    assert statuses[2] == "awaiting_review" and statuses[1] != "awaiting_review" and statuses[3] != "awaiting_review"
    again = signed_in.post("/console/review/reject", data={"run": ["1", "2"], "reason": "a test entry",
                                                            "csrf": csrf_of(text)})
    assert again.headers["Location"] == "/console/review?rejected=1&left=1"  # run 1 had left the queue
    assert store_of(app).run(2)["status"] == "rejected" and store_of(app).run(2)["review_note"] == "a test entry"
    assert "1 run(s) rejected; 1 had already left the queue" in signed_in.get(again.headers["Location"]).get_data(as_text=True)
    for bad in ("/console/review/confirm?action=approve", "/console/review/confirm?action=send&run=1",
                "/console/review/confirm?action=approve&run=x"):
        assert signed_in.get(bad).status_code == 400


def test_replay_on_the_latest_version_is_offered_only_when_a_later_version_is_loaded(app, signed_in):
    _run_with_step(app, {}, status="failed", error="QuickBooks answered 400")  # run 1 ran version 1
    latest = app.config["LEDGERLINK_RUNTIME"].registry.active()["stripe-invoice-paid-to-quickbooks-journal"].version
    assert latest != 1
    page = signed_in.get("/console/runs/1").get_data(as_text=True)
    assert 'href="/console/runs/1/replay-latest"' in page and 'href="/console/runs/1/replay"' in page
    confirm = signed_in.get("/console/runs/1/replay-latest").get_data(as_text=True)
    assert f"version {latest} (the version loaded now; run 1 ran version 1)" in confirm
    # the filled event has no invoice in it: the latest version's filter cannot read it, and
    # the page says so, with nothing planned
    refused = signed_in.post("/console/runs/1/replay-latest", data={"csrf": csrf_of(confirm)})
    assert refused.status_code in (409, 422) and 'class="problem"' in refused.get_data(as_text=True)
    assert store_of(app).counts() == {"failed": 1}
    with store_of(app).engine.begin() as conn:
        conn.execute(sa.update(runs).values(recipe_version=latest))
    assert 'replay-latest"' not in signed_in.get("/console/runs/1").get_data(as_text=True)
    assert signed_in.get("/console/runs/1/replay-latest").status_code == 409
