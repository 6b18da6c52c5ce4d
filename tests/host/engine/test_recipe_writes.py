"""Changing recipes over the API: a change that fails, for any reason, leaves the folder and
the served recipes exactly as they were, and ``serve`` still starts on that folder."""

import json

import pytest

from ledgerlink.web.app import create_app
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, write_config
from ledgerlink.testing.databases import migrated_db

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BASE = "stripe-invoice-paid-to-quickbooks-journal"


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    return {"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
            "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN}


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.config["LEDGERLINK_RUNTIME"].close()


def folder(app) -> dict[str, bytes]:
    directory = app.config["LEDGERLINK_RUNTIME"].registry.directory
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def served(app) -> dict[str, int]:
    return {rid: r.version for rid, r in app.config["LEDGERLINK_RUNTIME"].registry.active().items()}


def recipe(app, **changes) -> dict:
    directory = app.config["LEDGERLINK_RUNTIME"].registry.directory
    return {**json.loads((directory / f"{BASE}.json").read_text()), **changes}


def assert_serve_starts(settings, expected: dict[str, int]) -> None:
    """What ``serve`` does first: build the runtime and load every recipe of the folder."""
    again = create_app(settings)
    try:
        assert served(again) == expected
    finally:
        again.config["LEDGERLINK_RUNTIME"].close()


@pytest.mark.parametrize("version", [10**30, 2**63, 2**31])
def test_a_version_too_large_for_the_database_is_refused_and_leaves_nothing(app, settings, version):
    client = app.test_client()
    before, active = folder(app), served(app)
    response = client.put("/api/recipes/huge", data=json.dumps(recipe(app, id="huge", version=version)),
                          headers=AUTH)
    assert response.status_code == 422, response.get_data()
    [problem] = response.get_json()["error"]["details"]
    assert problem["pointer"] == "/version" and "2147483647" in problem["message"]
    assert folder(app) == before and served(app) == active
    # later changes and reloads still work, and so does a fresh start on the folder
    assert client.post("/api/recipes/reload", headers=AUTH).status_code == 200
    put = client.put("/api/recipes/fine", data=json.dumps(recipe(app, id="fine", version=2**31 - 1)),
                     headers=AUTH)
    assert put.status_code == 200, put.get_data()
    assert_serve_starts(settings, {**active, "fine": 2**31 - 1})


def test_a_put_that_fails_for_any_reason_puts_the_folder_back(app, settings):
    """The database refuses the reload (here: its table is away) — not a recipe problem."""
    client = app.test_client()
    store = app.config["LEDGERLINK_RUNTIME"].store
    created = client.put("/api/recipes/copy", data=json.dumps(recipe(app, id="copy", version=1)), headers=AUTH)
    assert created.status_code == 200
    before, active = folder(app), served(app)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE recipe_versions RENAME TO recipe_versions_away")
    try:
        for rid, version in (("copy", 2), ("new-one", 1)):  # a replacement and a new file
            response = client.put(f"/api/recipes/{rid}", data=json.dumps(recipe(app, id=rid, version=version)),
                                  headers=AUTH)
            assert response.status_code == 503, response.get_data()
            assert response.get_json()["error"]["code"] == "database_unavailable"
            assert folder(app) == before and served(app) == active
        deleted = client.delete("/api/recipes/copy", headers=AUTH)
        assert deleted.status_code == 503, deleted.get_data()
        assert folder(app) == before and served(app) == active
    finally:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE recipe_versions_away RENAME TO recipe_versions")
    assert_serve_starts(settings, active)


def test_an_id_that_is_not_a_plain_file_name_is_refused(app):
    client = app.test_client()
    before = folder(app)
    for rid, url in (("x\n", "/api/recipes/x%0A"), ("..", "/api/recipes/.."), (".x", "/api/recipes/.x")):
        response = client.put(url, data=json.dumps(recipe(app, id=rid)), headers=AUTH)
        assert response.status_code in (404, 422), (rid, response.get_data())
        assert response.get_json()["error"]["status"] == response.status_code
    assert folder(app) == before


def test_a_recipe_is_replaced_in_its_own_file(app, settings):
    client = app.test_client()
    directory = app.config["LEDGERLINK_RUNTIME"].registry.directory
    (directory / "hand-named.json").write_text(json.dumps(recipe(app, id="other-id", version=1)))
    assert client.post("/api/recipes/reload", headers=AUTH).status_code == 200
    put = client.put("/api/recipes/other-id", data=json.dumps(recipe(app, id="other-id", version=2)), headers=AUTH)
    assert put.status_code == 200, put.get_data()
    assert json.loads((directory / "hand-named.json").read_text())["version"] == 2
    assert not (directory / "other-id.json").exists()
    assert_serve_starts(settings, {**served(app)})
