"""Fuzzing recipe changes through the API, over HTTP on loopback.

Hypothesis mutates a real recipe (a value replaced by any JSON, including integers beyond
what the database holds, deep nesting and odd text; a key removed or added) and sends it as
``PUT /api/recipes/<id>`` and as ``POST /api/dry-run``. Whatever it sends: never a 5xx, never
a traceback in the answer, every error in the one JSON error shape; a refused change leaves
the recipes folder and the served recipes exactly as they were, and an accepted one leaves a
folder that reloads. Derandomized and bounded by a fixed number of examples, so it is
repeatable and takes seconds.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ledgerlink import jsonio
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, write_config
from ledgerlink.testing.databases import migrated_db

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BASE = "stripe-invoice-paid-to-quickbooks-journal"
EXAMPLES = 120

EDGE_INTEGERS = st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30, -(10**30)])
EDGE_TEXT = st.sampled_from(["", "reload", "..", "../x", "x\n", "\x00", "é" * 3, "$.event.data.object.id",
                             "$.steps.nope.Id", "$..*", "$[", "a" * 300, "Europe/Paris", "Not/AZone",
                             "stripe.invoice.paid", "quickbooks.create_journal_entry", "quickbooks", "stripe"])
SCALARS = (st.none() | st.booleans() | st.integers() | EDGE_INTEGERS | st.text(max_size=12) | EDGE_TEXT
           | st.decimals(allow_nan=False, allow_infinity=False, places=3))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8) | EDGE_TEXT | st.sampled_from(
                        ["$path", "$lookup", "$concat", "$each", "$if", "$value", "$as", "$default", "path",
                         "eq", "in", "all", "any", "not", "key"]), inner, max_size=3),
                    max_leaves=8)

SAME_KIND = {
    str: EDGE_TEXT | st.text(max_size=12) | st.from_regex(r"\$\.(event|steps)(\.[a-z_]{1,8}|\[\d\]){1,4}", fullmatch=True),
    int: EDGE_INTEGERS | st.integers(),
    bool: st.booleans() | st.none(),
    dict: st.dictionaries(st.sampled_from(["$path", "$lookup", "key", "$default", "$as", "$optional",
                                           "path", "eq", "gt", "in", "exists", "not", "all"]), JSON, max_size=3),
    list: st.lists(JSON, max_size=3),
    jsonio.Decimal: st.decimals(allow_nan=False, allow_infinity=False) | EDGE_INTEGERS,
}


def deep(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = {"$value": value} if level % 2 else [value]
    return value


def pointers(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in ``doc`` as a path of keys and indexes, the root included."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += pointers(value, prefix + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += pointers(value, prefix + (index,))
    return found


@st.composite
def mutated(draw, base: dict) -> dict:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        places = pointers(doc)
        top = [p for p in places if len(p) == 1]  # id, version, trigger…: a quarter of the changes
        where = draw(st.sampled_from(top) if top and draw(st.integers(0, 3)) == 0 else st.sampled_from(places))
        if not where:
            continue
        parent = doc
        for part in where[:-1]:
            parent = parent[part]
        last = where[-1]
        action = draw(st.sampled_from(["tweak"] * 5 + ["replace"] * 2 + ["delete", "add", "deep"]))
        if action == "tweak":  # a value of the same kind: the recipe stays close to valid
            parent[last] = draw(SAME_KIND.get(type(parent[last]), JSON))
        elif action == "replace":
            parent[last] = draw(JSON)
        elif action == "deep":
            parent[last] = deep(draw(st.sampled_from([10, 40])))  # deeper ones: test_bodies_…
        elif action == "delete":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | EDGE_TEXT)] = draw(JSON)
        else:
            parent.insert(last, draw(JSON))
    return doc


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    mp = pytest.MonkeyPatch()
    mp.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    mp.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                      "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    try:
        with background(app, threads=4) as running, httpx.Client(base_url=running.url, headers=AUTH,
                                                                   timeout=30) as client:
            yield app, client
    finally:
        app.config["LEDGERLINK_RUNTIME"].close()
        mp.undo()


def folder(app) -> dict[str, bytes]:
    directory = app.config["LEDGERLINK_RUNTIME"].registry.directory
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def served(app) -> tuple[int, dict[str, int]]:
    registry = app.config["LEDGERLINK_RUNTIME"].registry
    return registry.generation, {rid: r.version for rid, r in registry.active().items()}


def assert_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:2000]
    assert "Traceback" not in response.text and 'File "' not in response.text
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"} and body["error"]["status"] == response.status_code
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def base_recipe(app) -> dict:
    directory = app.config["LEDGERLINK_RUNTIME"].registry.directory
    return {**jsonio.loads((directory / f"{BASE}.json").read_text()), "id": "fuzzed", "version": 7}


def test_mutated_recipes_through_the_api(server):
    app, client = server
    base = base_recipe(app)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(recipe=mutated(base))
    @example(recipe={**base, "version": 10**30})  # beyond any database integer
    @example(recipe={**base, "id": "reload"})
    def check(recipe):
        body = jsonio.dumps(recipe).encode()
        rid = recipe.get("id") if isinstance(recipe, dict) and isinstance(recipe.get("id"), str) else "fuzzed"
        url = "/api/recipes/" + (quote(rid, safe="") or "fuzzed")
        dry = client.post("/api/dry-run", content=b'{"recipe":' + body + b"}",
                          headers={"Content-Type": "application/json"})
        assert_answer(dry)
        before_folder, before_served = folder(app), served(app)
        put = client.put(url, content=body, headers={"Content-Type": "application/json"})
        assert_answer(put)
        if put.status_code != 200:
            assert folder(app) == before_folder and served(app) == before_served, put.text[:500]
        else:
            reloaded = client.post("/api/recipes/reload")
            assert reloaded.status_code == 200, reloaded.text[:2000]

    check()


def nested_recipe(depth: int) -> bytes:
    """The base recipe with a step input nested ``depth`` levels deep, written as text."""
    return (b'{"id": "fuzzed", "version": 1, "description": "nested deeply", '
            b'"trigger": {"event": "stripe.invoice.paid", "connection": "stripe"}, '
            b'"steps": [{"id": "a", "action": "quickbooks.create_journal_entry", "connection": "quickbooks", '
            b'"input": {"Line": ' + b'{"$value": ' * depth + b"1" + b"}" * depth + b"}}]}")


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,                      # deeper than any parser recurses
    nested_recipe(400),
    nested_recipe(990),
    nested_recipe(600).replace(b'{"$value": ', b"[").replace(b"}" * 600, b"]" * 600),
    b'{"id": "fuzzed", "version": 1e400}',
    b'{"id": "fuzzed", "version": ' + b"9" * 5000 + b"}",  # more digits than Python converts
    b'{"id": "fuzzed", "version": NaN}',
    b"\xff\xfe",
], ids=["brackets", "nested-400", "nested-990", "lists-600", "exponent", "digits", "nan", "not-utf8"])
def test_bodies_no_parser_expects(server, body):
    app, client = server
    before_folder, before_served = folder(app), served(app)
    for method, url, payload in (("PUT", "/api/recipes/fuzzed", body),
                                 ("POST", "/api/dry-run", b'{"recipe": ' + body + b"}"),
                                 ("POST", f"/api/recipes/{BASE}/dry-run", b'{"event": ' + body + b"}")):
        response = client.request(method, url, content=payload, headers={"Content-Type": "application/json"})
        assert_answer(response)
        if not payload.startswith(b'{"event"'):  # a deep event is an event; the recipe does not match it
            assert response.status_code in (400, 422), response.text[:500]
    assert folder(app) == before_folder and served(app) == before_served
