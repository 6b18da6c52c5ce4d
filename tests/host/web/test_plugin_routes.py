"""``ledgerlink_register_routes``: a plugin's blueprint is served under the host's error
shape, headers and admin token, described in /openapi.json, and never shadows a route."""

from __future__ import annotations

import httpx
import pytest
from flask import Blueprint
from openapi_spec_validator import validate

from ledgerlink import hookimpl
from ledgerlink.connectors.manager import build_plugin_manager
from ledgerlink.engine.operations import build_runtime
from ledgerlink.errors import ConfigError, PluginError
from ledgerlink.web.app import create_app
from ledgerlink.web.responses import json_response
from ledgerlink.web.routes import ApiBlueprint
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, write_config
from ledgerlink.testing.databases import migrated_db

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def panel_blueprint() -> ApiBlueprint:
    """What a web panel registers: a public page, an admin view, an undeclared view."""
    panel = ApiBlueprint("panel", __name__, url_prefix="/panel")

    @panel.operation("/hello", ("GET",), "A page anyone may see.", admin=False, uses_store=False,
                       responses={200: "a greeting"})
    def hello():
        return json_response({"hello": "panel"})

    @panel.operation("/broken", ("POST",), "Refuses what it is sent.", responses={400: "refused"})
    def broken():
        raise ConfigError("the panel is not configured")

    @panel.route("/raw")
    def raw():
        return json_response({"raw": True})

    return panel


class Panel:
    @hookimpl
    def ledgerlink_register_routes(self, register):
        register(panel_blueprint())


class Blueprints:
    """A plugin that registers the blueprints it is given."""

    def __init__(self, *blueprints):
        self.blueprints = blueprints

    @hookimpl
    def ledgerlink_register_routes(self, register):
        for blueprint in self.blueprints:
            register(blueprint)


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    rt = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                       config_file=str(write_config(tmp_path)))
    yield rt
    rt.close()


def app_with(runtime, *plugins):
    pm = build_plugin_manager(extra=[(f"plugin{i}" if not isinstance(p, tuple) else p[0],
                                      p[1] if isinstance(p, tuple) else p) for i, p in enumerate(plugins)])
    return create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime, plugins=pm)


def test_a_plugins_routes_are_served_by_the_host_its_way(runtime):
    app = app_with(runtime, ("panel", Panel()))
    with background(app) as running:
        hello = httpx.get(f"{running.url}/panel/hello", timeout=10)
        assert hello.status_code == 200 and hello.json() == {"hello": "panel"}
        assert hello.headers["X-Content-Type-Options"] == "nosniff" and hello.headers["Cache-Control"] == "no-store"
        for method, path in (("POST", "/panel/broken"), ("GET", "/panel/raw")):  # admin-only by default
            denied = httpx.request(method, f"{running.url}{path}", timeout=10)
            assert denied.status_code == 401 and denied.headers["WWW-Authenticate"] == "Bearer"
            assert denied.json()["error"]["code"] == "unauthorized"
        raw = httpx.get(f"{running.url}/panel/raw", headers=AUTH, timeout=10)
        assert raw.status_code == 200 and raw.json() == {"raw": True}
        broken = httpx.post(f"{running.url}/panel/broken", headers=AUTH, timeout=10)
        assert broken.status_code == 400
        assert broken.json()["error"] == {"status": 400, "code": "config_error",
                                          "message": "the panel is not configured"}
        missing = httpx.get(f"{running.url}/panel/nope", timeout=10)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert httpx.get(f"{running.url}/healthz", timeout=10).json() == {"status": "ok"}  # the host's still


def test_declared_plugin_routes_are_described_in_openapi(runtime):
    document = app_with(runtime, ("panel", Panel())).test_client().get("/openapi.json").get_json()
    validate(document)
    hello, broken = document["paths"]["/panel/hello"]["get"], document["paths"]["/panel/broken"]["post"]
    assert hello["operationId"] == "panel_hello_get" and "security" not in hello
    assert set(hello["responses"]) == {"200"}
    assert broken["security"] == [{"bearer": []}] and set(broken["responses"]) == {"400", "401", "503"}
    assert "/panel/raw" not in document["paths"]  # not declared, so not described
    assert document["paths"]["/api/runs"]["get"]["operationId"] == "list_runs_get"


@pytest.mark.parametrize("rule, method, shadowed", [
    ("/api/runs/<name>", "GET", "/api/runs/<int(max=2147483647):run_id>"),
    ("/webhooks/panel", "POST", "/webhooks/<connection>"),
    ("/healthz", "GET", "/healthz"),
    ("/<path:anything>", "POST", "/webhooks/<connection>"),
])
def test_a_plugin_route_cannot_shadow_a_host_route(runtime, rule, method, shadowed):
    greedy = Blueprint("greedy", __name__)
    greedy.add_url_rule(rule, "view", lambda **kw: json_response({}), methods=[method])
    with pytest.raises(PluginError, match=r"plugin 'greedy'") as refused:
        app_with(runtime, ("greedy", Blueprints(greedy)))
    assert rule in str(refused.value) and shadowed in str(refused.value) and "the host" in str(refused.value)


def test_a_route_on_a_free_path_or_method_is_not_a_clash(runtime):
    extra = Blueprint("extra", __name__)
    extra.add_url_rule("/api/runs/<int:run_id>/notes", "notes", lambda run_id: json_response({"run": run_id}))
    app = app_with(runtime, ("extra", Blueprints(extra)))
    assert app.test_client().get("/api/runs/7/notes", headers=AUTH).get_json() == {"run": 7}


def test_plugins_cannot_shadow_each_other_or_share_a_blueprint_name(runtime):
    first, second = Blueprint("first", __name__), Blueprint("second", __name__)
    for blueprint in (first, second):
        blueprint.add_url_rule("/panel/page", "page", lambda: json_response({}))
    with pytest.raises(PluginError, match=r"plugin 'two'.*/panel/page of plugin 'one'"):
        app_with(runtime, ("one", Blueprints(first)), ("two", Blueprints(second)))
    with pytest.raises(PluginError, match=r"plugin 'two': a blueprint named 'panel' is already mounted"):
        app_with(runtime, ("one", Panel()), ("two", Panel()))


def test_only_a_blueprint_can_be_registered(runtime):
    class Wrong:
        @hookimpl
        def ledgerlink_register_routes(self, register):
            register({"/panel": "not a blueprint"})

    with pytest.raises(PluginError, match=r"plugin 'wrong': .* must register a flask.Blueprint, not dict"):
        app_with(runtime, ("wrong", Wrong()))


def test_a_page_blueprint_is_guarded_by_its_own_guard_and_not_described(runtime):
    """Pages for a browser: not behind the bearer token, not in /openapi.json; every view but
    the open ones answers what the guard says when it refuses."""
    from flask import request

    from ledgerlink.store import RunFilter
    from ledgerlink.web.operator import operator
    from ledgerlink.web.routes import PageBlueprint

    def guard():
        return None if request.cookies.get("signed") == "yes" else json_response({"sign": "in"}, 401)

    pages = PageBlueprint("pages", __name__, url_prefix="/pages", guard=guard, open_views=("door",))
    pages.add_url_rule("/door", "door", lambda: json_response({"door": "open"}))
    pages.add_url_rule("/room", "room", lambda: json_response({"runs": operator().status_counts(RunFilter())}))
    app = app_with(runtime, ("pages", Blueprints(pages)))
    client = app.test_client()
    assert client.get("/pages/door").get_json() == {"door": "open"}
    refused = client.get("/pages/room", headers=AUTH)  # the admin token is not what guards pages
    assert refused.status_code == 401 and refused.get_json() == {"sign": "in"}
    client.set_cookie("signed", "yes")
    assert client.get("/pages/room").get_json() == {"runs": {}}
    assert not [p for p in client.get("/openapi.json").get_json()["paths"] if p.startswith("/pages")]
