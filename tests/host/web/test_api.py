"""The HTTP API through Flask's test client: thin views, one error shape, admin auth."""

import json
import re

import pytest

from ledgerlink import jsonio
from ledgerlink.web.app import create_app
from ledgerlink.web.routes import PageBlueprint
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, signed, write_config
from ledgerlink.testing.databases import migrated_db
from stripe_events import credit_note_created_event, invoice_paid_event

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def client(app):
    return app.test_client()


def assert_error(response, status, code=None):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def runtime(app):
    return app.config["LEDGERLINK_RUNTIME"]


def test_webhook_stored_then_acknowledged_and_duplicates_create_nothing(app, client):
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_api_1"))
    first = client.post("/webhooks/stripe", data=body, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"received": 1, "stored": 1, "duplicates": 0, "runs_planned": 1}
    again = client.post("/webhooks/stripe", data=body, headers=headers)
    assert again.get_json() == {"received": 1, "stored": 0, "duplicates": 1, "runs_planned": 0}
    store = runtime(app).store
    assert store.count_events() == 1 and store.counts() == {"pending": 1}


def test_a_webhook_while_the_database_is_away_is_a_503_and_resent_later(app, client, monkeypatch):
    import sqlalchemy as sa

    store = runtime(app).store
    original = store.ingest

    def away(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO events …", {}, ConnectionRefusedError("server restarting"))

    monkeypatch.setattr(store, "ingest", away)
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_api_away"))
    error = assert_error(client.post("/webhooks/stripe", data=body, headers=headers), 503, "database_unavailable")
    assert "nothing was stored" in error["message"] and "INSERT" not in error["message"]
    monkeypatch.setattr(store, "ingest", original)  # back: the vendor's resend is stored
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    assert store.count_events() == 1


@pytest.mark.parametrize("mutate, status, code", [
    (lambda b, h: (b, {**h, "Stripe-Signature": "t=1,v1=00"}), 401, "invalid_signature"),
    (lambda b, h: (b, {"Content-Type": "application/json"}), 401, "invalid_signature"),
    (lambda b, h: (b + b" ", h), 401, "invalid_signature"),
    (lambda b, h: (b, {**h, "Content-Type": "text/plain"}), 415, "unsupported_media_type"),
    (lambda b, h: (b"x" * 1_000_001, h), 413, "body_too_large"),
])
def test_bad_webhooks_store_nothing(app, client, mutate, status, code):
    body, headers = mutate(*signed(invoice_paid_event("usd", 1000)))
    response = client.post("/webhooks/stripe", data=body, headers=headers)
    assert_error(response, status, code)
    assert runtime(app).store.count_events() == 0
    assert client.get("/healthz").status_code == 200  # still serving


def test_signed_broken_json_is_a_400(app, client):
    from stripe_events import sign
    body = b'{"id": "evt_1", "type": '
    response = client.post("/webhooks/stripe", data=body,
                           headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"})
    assert "line 1" in assert_error(response, 400, "invalid_event")["message"]
    assert runtime(app).store.count_events() == 0


def test_unknown_connection(client):
    body, headers = signed(invoice_paid_event("usd", 1000))
    assert_error(client.post("/webhooks/nope", data=body, headers=headers), 404, "unknown_connection")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN_TOKEN},
                                     {"Authorization": "Basic " + ADMIN_TOKEN}])
def test_admin_routes_need_the_token(client, headers):
    for path in ("/api/recipes", "/api/runs", "/api/connectors"):
        assert_error(client.get(path, headers=headers), 401, "unauthorized")
    assert_error(client.post("/api/recipes/reload", headers=headers), 401, "unauthorized")


def test_recipes_list_get_and_catalog(client):
    listed = client.get("/api/recipes", headers=AUTH).get_json()
    assert [r["id"] for r in listed["recipes"]] == ["stripe-credit-note-to-quickbooks-journal",
                                                    "stripe-invoice-paid-to-quickbooks-journal"]
    one = client.get("/api/recipes/stripe-invoice-paid-to-quickbooks-journal", headers=AUTH).get_json()
    assert one["body"]["trigger"]["event"] == "stripe.invoice.paid"
    assert_error(client.get("/api/recipes/nope", headers=AUTH), 404, "not_found")
    catalog = client.get("/api/connectors", headers=AUTH).get_json()
    assert {c["name"] for c in catalog["connectors"]} >= {"stripe", "quickbooks"}


def test_reload_is_atomic(app, client, tmp_path):
    rt = runtime(app)
    generation = rt.registry.generation
    directory = rt.registry.directory
    good = json.loads((directory / "stripe-invoice-paid-to-quickbooks-journal.json").read_text())
    bad = dict(good, id="second", version=0, trigger=dict(good["trigger"], event="stripe.invoice.payed"))
    (directory / "second.json").write_text(json.dumps(bad))
    response = client.post("/api/recipes/reload", headers=AUTH)
    error = assert_error(response, 422, "invalid_recipe")
    pointers = {d["pointer"] for d in error["details"]}
    assert {"/version", "/trigger/event"} <= pointers  # every problem, not the first
    assert rt.registry.generation == generation and "second" not in rt.registry.active()
    bad.update(version=1, trigger=good["trigger"])
    (directory / "second.json").write_text(json.dumps(bad))
    ok = client.post("/api/recipes/reload", headers=AUTH)
    assert ok.status_code == 200 and rt.registry.generation == generation + 1
    assert "second" in rt.registry.active()


def test_put_and_delete_recipe(app, client):
    rt = runtime(app)
    recipe = json.loads((rt.registry.directory / "stripe-invoice-paid-to-quickbooks-journal.json").read_text())
    recipe.update(id="copy", version=3)
    put = client.put("/api/recipes/copy", data=json.dumps(recipe), headers=AUTH)
    assert put.status_code == 200, put.get_json()
    assert rt.registry.active()["copy"].version == 3
    assert (rt.registry.directory / "copy.json").exists()
    broken = dict(recipe, steps=[])
    assert_error(client.put("/api/recipes/copy", data=json.dumps(broken), headers=AUTH), 422, "invalid_recipe")
    assert rt.registry.active()["copy"].version == 3
    assert client.delete("/api/recipes/copy", headers=AUTH).status_code == 200
    assert "copy" not in rt.registry.active() and not (rt.registry.directory / "copy.json").exists()


def test_dry_run_routes(client):
    event = credit_note_created_event("usd", 123450)
    response = client.post("/api/recipes/stripe-credit-note-to-quickbooks-journal/dry-run",
                           data=jsonio.dumps({"event": event}), headers=AUTH)
    report = jsonio.loads(response.get_data())
    assert str(report["steps"][-1]["request"]["body"]["Line"][0]["Amount"]) == "1234.50"
    # the company keeps its books in USD: a KWD credit note without an ExchangeRate is refused
    # before anything is sent, never booked at a rate QuickBooks picks
    refused = client.post("/api/recipes/stripe-credit-note-to-quickbooks-journal/dry-run",
                          data=jsonio.dumps({"event": credit_note_created_event("kwd", 123450)}), headers=AUTH)
    error = assert_error(refused, 422, "invalid_input")
    assert "/ExchangeRate: CurrencyRef is KWD, not the company's home currency USD" in error["message"]
    recipe = client.get("/api/recipes/stripe-invoice-paid-to-quickbooks-journal", headers=AUTH).get_json()["body"]
    report = client.post("/api/dry-run", data=jsonio.dumps({"recipe": recipe}), headers=AUTH).get_json()
    assert report["matched"] is True and report["sent"] is False
    assert report["steps"][-1]["request"]["headers"]["authorization"] == "Bearer [REDACTED]"
    assert "qbo-token-never-shown" not in json.dumps(report)
    broken = dict(recipe, version="x")
    assert_error(client.post("/api/dry-run", data=jsonio.dumps({"recipe": broken}), headers=AUTH), 422)


def test_dry_run_route_for_a_company_keeping_its_books_in_kwd(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    config = write_config(tmp_path)
    with config.open("a") as f:
        f.write('home_currency = "KWD"\n')  # the [connections.quickbooks] table is the last one
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path), "config": str(config),
                      "admin_token": ADMIN_TOKEN})
    try:
        event = credit_note_created_event("kwd", 123450)
        response = app.test_client().post("/api/recipes/stripe-credit-note-to-quickbooks-journal/dry-run",
                                          data=jsonio.dumps({"event": event}), headers=AUTH)
        assert response.status_code == 200, response.get_json()
        body = jsonio.loads(response.get_data())["steps"][-1]["request"]["body"]
        assert [str(line["Amount"]) for line in body["Line"]] == ["123.450", "123.450"]  # three decimals
        assert body["CurrencyRef"] == {"value": "KWD"} and "ExchangeRate" not in body
    finally:
        app.config["LEDGERLINK_RUNTIME"].close()


def test_runs_list_detail_and_replay_dry_run(app, client):
    for i in range(3):
        body, headers = signed(invoice_paid_event("usd", 1000 + i, event_id=f"evt_list_{i}"))
        client.post("/webhooks/stripe", data=body, headers=headers)
    page = client.get("/api/runs?limit=2&status=pending", headers=AUTH).get_json()
    assert len(page["runs"]) == 2 and page["next"] is not None
    rest = client.get(f"/api/runs?limit=2&after={page['next']}", headers=AUTH).get_json()
    assert len(rest["runs"]) == 1 and rest["next"] is None
    run_id = page["runs"][0]["id"]
    detail = client.get(f"/api/runs/{run_id}", headers=AUTH).get_json()
    assert detail["status"] == "pending" and detail["steps"] == []
    replay = client.post(f"/api/runs/{run_id}/replay", data=json.dumps({"dry_run": True}), headers=AUTH)
    assert replay.status_code == 200 and replay.get_json()["report"]["matched"] is True
    conflict = client.post(f"/api/runs/{run_id}/replay", data=json.dumps({"version": "own"}), headers=AUTH)
    assert_error(conflict, 409, "conflict")
    assert_error(client.get("/api/runs/999999", headers=AUTH), 404)
    assert_error(client.get("/api/runs?since=yesterday", headers=AUTH), 400)


def test_health_metrics_openapi_and_unknown_routes(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    health = client.get("/healthz", headers=AUTH).get_json()
    assert health["status"] == "ok" and health["recipes"] == 2
    metrics = client.get("/metrics", headers=AUTH)
    assert metrics.status_code == 200 and "ledgerlink_runs_planned_total" in metrics.get_data(as_text=True)
    spec = client.get("/openapi.json").get_json()
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
        if rule.endpoint == "static" or isinstance(blueprint, PageBlueprint):
            continue  # browser pages (the console) are not part of the JSON API's description
        path = re.sub(r"<(?:[^:>]*:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in described, (path, method)
    assert_error(client.get("/nope"), 404)
    assert_error(client.delete("/healthz"), 405)


def test_a_connector_that_wants_an_empty_answer_gets_a_200_with_no_body(app, client, monkeypatch):
    from dataclasses import replace

    connectors = runtime(app).catalog.connectors
    stripe = connectors["stripe"]
    monkeypatch.setitem(connectors, "stripe", replace(stripe, webhook=replace(stripe.webhook, empty_answer=True)))
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_api_empty"))
    answer = client.post("/webhooks/stripe", data=body, headers=headers)
    assert (answer.status_code, answer.get_data(), answer.headers.get("Set-Cookie")) == (200, b"", None)
    assert runtime(app).store.count_events() == 1  # stored before the empty acknowledgement
    headers["Stripe-Signature"] = headers["Stripe-Signature"].replace("v1=", "v1=0")
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 401
