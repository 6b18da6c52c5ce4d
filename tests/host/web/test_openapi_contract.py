"""``/openapi.json`` is a valid OpenAPI 3.1 document, and the API keeps to it.

openapi-spec-validator checks the document as tools read it (every ``$ref`` resolves from
the document's root). schemathesis then generates requests from the served document (valid
and invalid bodies, parameters, headers and methods) against the app served by waitress on
loopback, with the admin token, and checks every answer: never a 5xx, only documented
statuses, content types, headers and bodies, invalid input refused, 405 with a true
``Allow``. It is bounded by a fixed number of examples per operation and a fixed seed, so a
run is repeatable and takes seconds.
"""

import subprocess
import sys

from openapi_spec_validator import validate

from ledgerlink.web.app import host_routes
from ledgerlink.web.openapi import openapi_document
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN, signed
from stripe_events import invoice_paid_event

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_the_document_is_valid_openapi():
    validate(openapi_document(host_routes()))


def test_the_embedded_recipe_schema_resolves_from_the_root():
    document = openapi_document(host_routes())
    refs = []

    def walk(node):
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert "#/components/schemas/RecipeCondition" in refs and "#/components/schemas/RecipeStep" in refs
    for ref in refs:
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]  # a KeyError names the reference that points nowhere


def test_documented_answers_the_api_gives(app):
    client = app.test_client()
    document = openapi_document(host_routes())
    not_allowed = client.post("/api/recipes", headers=AUTH)
    assert not_allowed.status_code == 405 and not_allowed.get_json()["error"]["code"] == "method_not_allowed"
    assert set(not_allowed.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    denied = client.get("/api/runs")
    assert denied.status_code == 401 and denied.headers["WWW-Authenticate"] == "Bearer"
    # a run id beyond what the database holds is no run, not a database error
    for path in ("/api/runs/99999999999999999999999", "/api/runs/2147483648/replay"):
        response = client.get(path, headers=AUTH) if "replay" not in path else client.post(path, headers=AUTH)
        assert response.status_code == 404, response.get_data()
    for query in ("after=99999999999999999999999", "after=-1", "limit=0", "limit=501", "limit=x",
                  "since=nan", "until=inf", "status=lost", "recipe=a%0A"):
        response = client.get(f"/api/runs?{query}", headers=AUTH)
        assert response.status_code == 400, (query, response.get_data())
        assert response.get_json()["error"]["code"] == "invalid_request"
    # a state ledgerlink never issued is refused before the database sees it (PostgreSQL refuses NUL)
    for state in ("a%00b", "x" * 300, ""):
        response = client.get(f"/oauth/callback?state={state}&code=c")
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "config_error", state
    runs = document["paths"]["/api/runs"]["get"]
    schemas = {p["name"]: p["schema"] for p in runs["parameters"]}
    assert {name: schema.get("type") for name, schema in schemas.items()} == {
        "status": None, "recipe": "string", "since": "number", "until": "number", "limit": "integer",
        "after": "integer"}
    assert "dead" in schemas["status"]["enum"] and schemas["limit"]["maximum"] == 500
    assert set(runs["responses"]) == {"200", "400", "401", "503"}
    put = document["paths"]["/api/recipes/{recipe_id}"]["put"]
    assert set(put["responses"]) == {"200", "400", "401", "404", "413", "422", "503"}


def test_the_api_keeps_to_its_document(app, tmp_path):
    client = app.test_client()
    for i in range(3):  # runs for the run routes to find
        body, headers = signed(invoice_paid_event("usd", 1000 + i, event_id=f"evt_contract_{i}"))
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    with background(app, threads=4) as running:
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{running.url}/openapi.json",
             "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
             "--checks", "all",
             # a request the schema allows may still be refused for what only the server knows
             # (an unknown trigger or connection, an OAuth state it never issued): not a defect
             "--exclude-checks", "positive_data_acceptance",
             "--phases", "examples,coverage,fuzzing", "--max-examples", "30", "--seed", "20261130",
             "--workers", "1", "--generation-database", "none", "--request-timeout", "30",
             "--no-color"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)  # its cache stays out of the repo
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "27 selected / 27 total" in result.stdout
