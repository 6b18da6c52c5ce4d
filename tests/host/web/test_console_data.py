"""The console's data through the API: a run's links, the health series (a refused delivery
counted in its hour), a recipe's versions and the diff between two, and each connection's
state and rate-limit headroom."""

import json

import pytest

from runtime_fixtures import ADMIN_TOKEN, signed
from stripe_events import invoice_paid_event

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
RECIPE = "stripe-invoice-paid-to-quickbooks-journal"


@pytest.fixture
def client(app):
    return app.test_client()


def runtime(app):
    return app.config["LEDGERLINK_RUNTIME"]


def test_a_runs_links_name_its_source_and_an_unknown_run_is_a_404(client):
    event = invoice_paid_event("usd", 1000, event_id="evt_console_1")
    event["livemode"] = True
    body, headers = signed(event)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    answer = client.get("/api/runs/1/links", headers=AUTH)
    assert answer.status_code == 200
    (source,) = answer.get_json()["links"]
    invoice = event["data"]["object"]["id"]
    assert source == {"role": "source", "label": f"stripe: invoice {invoice}", "connection": "stripe",
                      "url": f"https://dashboard.stripe.com/invoices/{invoice}", "kind": "invoice", "id": invoice,
                      "step_id": None}
    assert client.get("/api/runs/99/links", headers=AUTH).status_code == 404
    assert client.get("/api/runs/1/links").status_code == 401


def test_the_health_series_counts_runs_and_a_refused_delivery_in_the_current_hour(client):
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_console_2"))
    client.post("/webhooks/stripe", data=body, headers=headers)
    refused = client.post("/webhooks/stripe", data=body, headers={**headers, "Stripe-Signature": "t=1,v1=00"})
    assert refused.status_code == 401
    series = client.get("/api/health/series?hours=24", headers=AUTH).get_json()
    assert len(series["hours"]) == 24
    assert series["runs"] == {"pending": [0] * 23 + [1]}
    assert series["rejections"] == {"stripe": [0] * 23 + [1]} and series["rejected_total"][-1] == 1
    assert series["queue"] == {"due": 1, "scheduled": 0, "running": 0, "awaiting_review": 0}
    (reason,) = series["reasons"]
    assert reason["connection"] == "stripe" and reason["day"] == reason["week"] == 1 and reason["reason"]
    assert series["oldest_due"] == runtime(client.application).store.run(1)["due_at"]
    for bad in ("0", "169", "x", "-1"):
        assert client.get(f"/api/health/series?hours={bad}", headers=AUTH).status_code == 400


def test_a_recipes_versions_and_the_diff_between_two(app, client):
    rt = runtime(app)
    path = rt.registry.directory / f"{RECIPE}.json"
    recipe = json.loads(path.read_text())
    first = recipe["version"]
    recipe["version"] = first + 1
    recipe["description"] = "Booked as a journal entry, now described."
    path.write_text(json.dumps(recipe))
    rt.registry.reload()
    versions = client.get(f"/api/recipes/{RECIPE}/versions", headers=AUTH).get_json()["versions"]
    assert [v["version"] for v in versions] == [first + 1, first]
    diff = client.get(f"/api/recipes/{RECIPE}/diff", headers=AUTH).get_json()
    assert (diff["from"], diff["to"]) == (first, first + 1)
    changed = [line for line in diff["diff"].splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert f'+  "version": {first + 1},' in changed and any("now described" in line for line in changed)
    same = client.get(f"/api/recipes/{RECIPE}/diff?from={first}&to={first}", headers=AUTH).get_json()
    assert same["diff"] == ""
    assert client.get(f"/api/recipes/{RECIPE}/diff?from=999", headers=AUTH).status_code == 404
    assert client.get("/api/recipes/no-such-recipe/versions", headers=AUTH).status_code == 404
    assert client.get(f"/api/recipes/{RECIPE}/diff?to=x", headers=AUTH).status_code == 400


def test_each_connection_has_a_state_and_its_rate_limit_headroom_as_the_governor_counts_it(app, client):
    def rows():
        answer = client.get("/api/connections", headers=AUTH).get_json()["connections"]
        return {row["name"]: row for row in answer}

    before = rows()
    assert before["quickbooks"]["state"] == "not_connected"  # OAuth, and never connected
    assert before["stripe"]["state"] == "ok"
    qbo = before["quickbooks"]["headroom"]
    assert qbo["limits"]["requests"] == 500 and qbo["limits"]["concurrent"] == 10 and qbo["budget"] == 490
    assert (qbo["used"], qbo["remaining"], qbo["in_flight"], qbo["paused"]) == (0, 490, 0, False)
    rt = runtime(app)
    limits = rt.connections.limits("quickbooks")
    with rt.governor.slot("quickbooks:quickbooks", limits), rt.governor.slot("quickbooks:quickbooks", limits):
        during = rows()["quickbooks"]["headroom"]
    assert (during["used"], during["remaining"], during["in_flight"]) == (2, 488, 2)
    rt.governor.pause("quickbooks:quickbooks", 60.0)
    paused = rows()["quickbooks"]
    assert paused["headroom"]["paused"] is True and paused["state"] == "not_connected"
    stripe = rows()["stripe"]
    assert stripe["headroom"]["counted_by"] == paused["headroom"]["counted_by"]
