"""Webhooks as a hostile or broken client sends them, through the real Flask app and store.

Every answer is a 2xx only once the event is stored, or a 4xx in the one error shape:
never a 5xx, never a traceback, never an event stored without a valid signature, and
never a correctly signed, well-formed event refused — whatever its object holds (a
trigger filter that cannot be evaluated on it plans a failed run; the webhook is still
acknowledged). A body that cannot be stored or processed at all (nested deeper than
ledgerlink reads, a lone surrogate, a NUL character, an id the inbox cannot hold) is a 400
that says why.

The fixed examples come first; the hypothesis properties after them are derandomized
and bounded, so they run the same examples every time in a few seconds.

The events are built here, not read from vendor files: each is the smallest body the Stripe
connector accepts (``id``, ``type``, ``data.object``).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ledgerlink import jsonio
from ledgerlink.web.app import create_app
from ledgerlink_quickbooks import changes
from ledgerlink_stripe import signature
from runtime_fixtures import ADMIN_TOKEN, RECIPES, WEBHOOK_SECRET, recipes_dir
from ledgerlink.testing.databases import migrated_db

VERIFIER = "qbo-verifier-token-for-fuzzing"
REALM = "9130350000000000"
RECIPE = "stripe-invoice-paid-to-quickbooks-journal"
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fuzz-webhooks")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    monkeypatch.setenv("LL_TEST_QBO_VERIFIER", VERIFIER)
    config = tmp_path / "ledgerlink.toml"
    config.write_text(
        '[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
        f'[connections.quickbooks]\nconnector = "quickbooks"\nbase_url = "http://127.0.0.1:9"\n'
        f'realm_id = "{REALM}"\naccess_token = "${{LL_TEST_QBO_TOKEN}}"\n'
        'webhook_verifier_token = "${LL_TEST_QBO_VERIFIER}"\n\n'
        # a refused delivery stores nothing; the alert a burst of them raises (an event of
        # its own, docs/alerts.md) is tested with the ledgerlink connector, not here
        '[alerts]\nrejected_burst = 1000000\n')
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path, (f"{RECIPE}.json",)),
                      "config": str(config), "admin_token": ADMIN_TOKEN})
    yield app
    app.config["LEDGERLINK_RUNTIME"].close()
    monkeypatch.undo()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def store(app):
    return app.config["LEDGERLINK_RUNTIME"].store


def new_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def event(event_id: str, obj: dict, event_type: str = "invoice.paid") -> dict:
    return {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}


def invoice(**fields) -> dict:
    return {"id": "in_fuzz", "object": "invoice", "currency": "usd", "amount_paid": 1000, **fields}


def stripe_headers(body: bytes, header: str | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "Stripe-Signature": signature.sign(body, WEBHOOK_SECRET) if header is None else header}


def post(client, body: bytes, headers: dict[str, str], connection: str = "stripe"):
    response = client.post(f"/webhooks/{connection}", data=body, headers=headers)
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text
    assert "Traceback" not in text and 'File "' not in text, text
    if response.status_code >= 400:
        body = response.get_json()
        assert set(body) == {"error"} and body["error"]["status"] == response.status_code, text
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], text
    return response


def runs_of(app, event_id: str) -> list[dict]:
    runs = store(app).list_runs(limit=500)
    return [r for r in runs if r.get("event_id") == event_id]


# --- what broke, each once ----------------------------------------------------------------

def test_a_timestamp_of_5000_digits_is_a_401_not_a_500(app, client):
    body = jsonio.dumps(event(new_id(), invoice())).encode()
    before = store(app).count_events()
    response = post(client, body, stripe_headers(body, "t=" + "9" * 5000 + ",v1=00"))
    assert response.status_code == 401
    assert "is not a Unix time" in response.get_json()["error"]["message"]
    assert store(app).count_events() == before


def test_a_signed_event_whose_filter_cannot_be_evaluated_is_stored_with_a_failed_run(app, client):
    event_id = new_id()
    body = jsonio.dumps(event(event_id, invoice(amount_paid="abc"))).encode()
    response = post(client, body, stripe_headers(body))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["stored"] == 1
    (run,) = runs_of(app, event_id)
    assert run["status"] == "failed" and run["attempts"] == 0
    assert "/trigger/filter/gt" in run["last_error"] and RECIPE in run["last_error"]
    assert "replay" in run["last_error"]
    # Stripe's resend is a duplicate: acknowledged, nothing new
    assert post(client, body, stripe_headers(body)).get_json()["duplicates"] == 1


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text, why", [
    ('{"id":"%s","type":"invoice.paid","data":{"object":{"x":' + nested(1000) + '}}}', "nested more than 100"),
    (nested(100_000), "nested more than 100"),
    ('{"id":"evt_\\ud800","type":"invoice.paid","data":{"object":{}}}', "lone UTF-16 surrogate"),
    ('{"id":"%s","type":"invoice.paid","data":{"object":{"number":"\\udc00"}}}', "lone UTF-16 surrogate"),
    ('{"id":"%s","type":"invoice.paid","data":{"object":{"\\ud83d":1}}}', "lone UTF-16 surrogate"),
    ('{"id":"evt_\\u0000","type":"invoice.paid","data":{"object":{}}}', "U+0000"),
    ('{"id":"%s","type":"invoice.paid","data":{"object":{"lines":[{"id":"il_\\u0000"}]}}}', "U+0000 at /data/object/lines/0/id"),
    ('{"id":"evt_' + "x" * 300 + '","type":"invoice.paid","data":{"object":{}}}', "at most 255"),
    ('{"id":"%s","type":"invoice.' + "x" * 300 + '","data":{"object":{}}}', "at most 200"),
    ('{"id":"%s","type":"invoice.paid","data":{"object":{"amount_paid":1' + "0" * 5000 + '}}}', "more digits"),
], ids=["deep-1000", "deep-100000", "surrogate-id", "surrogate-field", "surrogate-key", "nul-id", "nul-field",
        "long-id", "long-type", "5000-digits"])
def test_a_signed_body_that_cannot_be_stored_or_processed_is_a_400_that_says_why(app, client, text, why):
    body = (text.replace("%s", new_id()) if "%s" in text else text).encode()
    before = store(app).count_events()
    response = post(client, body, stripe_headers(body))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert why in response.get_json()["error"]["message"]
    assert store(app).count_events() == before


def qbo_headers(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", changes.HEADER: changes.signature(body, VERIFIER)}


def legacy(entity: dict, realm: str = REALM, **notification) -> dict:
    return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": [entity]},
                                    **notification}]}


@pytest.mark.parametrize("payload, why", [
    (legacy({"name": "Payment", "id": "1", "operation": "Create",
             "lastUpdated": "0001-01-01T00:00:00+01:00"}), "out of range"),
    ({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": [1]}]}, "dataChangeEvent.entities"),
    ('{"eventNotifications": [{"realmId": "%s", "dataChangeEvent": {"entities": [%s]}}]}' % (REALM, nested(1000)),
     "nested more than 100"),
    (legacy({"name": "Payment", "id": "\ud800", "operation": "Create",
             "lastUpdated": "2026-01-01T00:00:00Z"}), "lone UTF-16 surrogate"),
    (legacy({"name": "Payment", "id": "1" * 300, "operation": "Create",
             "lastUpdated": "2026-01-01T00:00:00Z"}), "at most 255"),
], ids=["year-1-in-utc", "change-event-not-an-object", "deep", "surrogate-id", "long-id"])
def test_a_signed_quickbooks_body_that_cannot_be_used_is_a_400(app, client, payload, why):
    body = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
    before = store(app).count_events()
    response = post(client, body, qbo_headers(body), connection="quickbooks")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert why in response.get_json()["error"]["message"]
    assert store(app).count_events() == before


@pytest.mark.parametrize("route, method", [("/api/dry-run", "post"), (f"/api/recipes/{RECIPE}/dry-run", "post"),
                                           (f"/api/recipes/{RECIPE}", "put")])
def test_a_request_body_3000_deep_is_a_400(client, route, method):
    body = '{"recipe":' + nested(3000) + "}"
    response = getattr(client, method)(route, data=body, headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "nested more than 100" in response.get_json()["error"]["message"]


def with_lone_surrogate(value: dict, key: str) -> str:
    """``value`` as JSON text whose ``key`` holds ``"…\\ud800"``: valid JSON, not valid text."""
    return json.dumps({**value, key: "PLACEHOLDER"}).replace("PLACEHOLDER", "lone \\ud800 surrogate")


@pytest.mark.parametrize("route, method, body", [
    ("/api/dry-run", "post", lambda recipe: '{"recipe": %s}' % with_lone_surrogate(recipe, "description")),
    (f"/api/recipes/{RECIPE}/dry-run", "post",
     lambda recipe: '{"event": %s}' % with_lone_surrogate(event(new_id(), invoice()), "id")),
    (f"/api/recipes/{RECIPE}", "put", lambda recipe: with_lone_surrogate(recipe, "description")),
], ids=["dry-run", "recipe-dry-run", "put"])
def test_a_request_body_with_a_lone_surrogate_is_a_400(app, client, route, method, body):

    recipe = json.loads((RECIPES / f"{RECIPE}.json").read_text())
    served = app.config["LEDGERLINK_RUNTIME"].registry.active()[RECIPE].version
    response = getattr(client, method)(route, data=body(recipe), headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "lone UTF-16 surrogate" in response.get_json()["error"]["message"]
    assert app.config["LEDGERLINK_RUNTIME"].registry.active()[RECIPE].version == served


def test_the_served_app_answers_the_same_over_http(app):
    """The same requests through waitress on loopback: what a real client gets."""
    import httpx

    from ledgerlink.web.servers import background

    deep = ('{"id":"%s","type":"invoice.paid","data":{"object":{"x":%s}}}' % (new_id(), nested(1000))).encode()
    usable = jsonio.dumps(event(new_id(), invoice(amount_paid="abc"))).encode()
    with background(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/webhooks/stripe", content=usable,
                         headers=stripe_headers(usable, "t=" + "9" * 5000 + ",v1=00")).status_code == 401
        refused = http.post("/webhooks/stripe", content=deep, headers=stripe_headers(deep))
        assert refused.status_code == 400 and "nested more than 100" in refused.json()["error"]["message"]
        stored = http.post("/webhooks/stripe", content=usable, headers=stripe_headers(usable))
        assert stored.status_code == 200 and stored.json()["stored"] == 1


# --- properties ---------------------------------------------------------------------------

#: text as Stripe sends it: any Unicode character but NUL (no surrogates: Stripe sends UTF-8)
texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)
#: JSON values as a Stripe object may hold them
scalars = (st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30)
           | st.decimals(allow_nan=False, allow_infinity=False, places=4) | texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(texts, inner, max_size=4), max_leaves=20)
objects = st.dictionaries(st.sampled_from(["amount_paid", "currency", "number", "customer", "status",
                                          "status_transitions", "lines", "metadata"]) | texts,
                          values, max_size=6)
event_types = st.one_of(st.just("invoice.paid"), st.sampled_from(
    ["credit_note.created", "charge.refunded", "payout.paid", "customer.created", "invoice.payment_failed"]))


@FUZZ
@given(obj=objects, amount_paid=values, event_type=event_types, indent=st.sampled_from([None, 2]))
@example(obj={}, amount_paid="abc", event_type="invoice.paid", indent=None)
def test_a_correctly_signed_event_is_always_stored_and_acknowledged(app, client, obj, amount_paid,
                                                                     event_type, indent):
    event_id = new_id()
    body = jsonio.dumps(event(event_id, {**obj, "amount_paid": amount_paid}, event_type), indent=indent).encode()
    before = store(app).count_events()
    response = post(client, body, stripe_headers(body))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["stored"] == 1 and store(app).count_events() == before + 1
    for run in runs_of(app, event_id):
        # the filter ran on the event: a run to do, or one that failed naming the filter
        assert run["status"] == "pending" or (
            run["status"] == "failed" and "/trigger/filter" in run["last_error"]), run


def header_parts(body: bytes) -> st.SearchStrategy[str]:
    now = int(time.time())
    good = signature.compute_signature(now, body, WEBHOOK_SECRET)
    timestamps = st.one_of(st.just(str(now)), st.integers(min_value=0, max_value=10**20).map(str),
                           st.sampled_from([13, 4300, 4301, 5000]).map(lambda n: "9" * n),
                           st.text(alphabet="0123456789-+. e٣", max_size=12))
    wrong = good[:-1] + ("1" if good.endswith("0") else "0")
    signatures = st.one_of(st.just(wrong), st.text(alphabet="0123456789abcdefABCDEF", max_size=70),
                           st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=20))
    part = st.one_of(timestamps.map(lambda t: f"t={t}"), signatures.map(lambda s: f"v1={s}"),
                     signatures.map(lambda s: f"v0={s}"),
                     st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters=","),
                             max_size=12))
    return st.one_of(st.builds("t={},v1={}".format, timestamps, signatures), st.lists(part, max_size=6).map(",".join))


bodies = st.one_of(
    st.binary(max_size=200),
    values.map(lambda v: jsonio.dumps(v).encode()),
    objects.map(lambda o: jsonio.dumps(event(new_id(), o)).encode()),
    st.integers(min_value=1, max_value=3000).map(
        lambda d: ('{"id":"evt_deep","type":"invoice.paid","data":{"object":{"x":%s}}}' % nested(d)).encode()),
)


@FUZZ
@given(data=st.data(), body=bodies)
def test_nothing_is_stored_without_a_valid_signature(app, client, data, body):
    header = data.draw(header_parts(body))
    before = store(app).count_events()
    response = post(client, body, stripe_headers(body, header) if header else {"Content-Type": "application/json"})
    assert response.status_code in (400, 401), response.get_data(as_text=True)
    assert store(app).count_events() == before


#: bodies of every malformed kind, each then signed correctly
def malformed(draw_id: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    surrogate = st.integers(min_value=0xD800, max_value=0xDFFF).map(lambda c: f"\\u{c:04x}")
    return st.one_of(
        st.text(max_size=60),
        st.integers(min_value=1, max_value=5000).map(nested),
        st.integers(min_value=90, max_value=3000).map(
            lambda d: '{"id":"%s","type":"invoice.paid","data":{"object":{"x":' + nested(d) + "}}}"),
        st.tuples(surrogate, st.sampled_from(["id", "type", "field", "key"])).map(lambda s: {
            "id": '{"id":"evt_%s","type":"invoice.paid","data":{"object":{}}}' % s[0],
            "type": '{"id":"%%s","type":"invoice.%s","data":{"object":{}}}' % s[0],
            "field": '{"id":"%%s","type":"invoice.paid","data":{"object":{"number":"a%sb"}}}' % s[0],
            "key": '{"id":"%%s","type":"invoice.paid","data":{"object":{"%s":1}}}' % s[0]}[s[1]]),
        st.sampled_from(['{"id":"evt_\\u0000","type":"invoice.paid","data":{"object":{}}}',
                         '{"id":"%s","type":"invoice.paid","data":{"object":{"amount_paid":NaN}}}',
                         '{"id":"%s","type":"invoice.paid","data":{"object":{"amount_paid":1' + "0" * 5000 + "}}}",
                         '{"id":"%s","type":"invoice.paid","data":{"object":[]}}',
                         '{"id":"%s","type":"invoice.paid","data":[]}',
                         '{"id":"%s","type":"","data":{"object":{}}}',
                         '{"id":7,"type":"invoice.paid","data":{"object":{}}}',
                         '{"id":"%s","type":"invoice.paid","data":{"object":{}}} trailing',
                         '[{"id":"%s","type":"invoice.paid","data":{"object":{}}}]']),
        draw_id.map(lambda i: '{"id":"evt_%s","type":"invoice.paid","data":{"object":{}}}' % i),
    )


@FUZZ
@given(text=malformed(st.text(max_size=300)), latin1=st.booleans())
@example(text='{"id":"%s","type":"invoice.paid","data":{"object":{"x":' + nested(1000) + "}}}", latin1=False)
def test_a_signed_malformed_body_is_a_4xx_and_stores_nothing_it_cannot_use(app, client, text, latin1):
    text = text.replace("%s", new_id())
    body = text.encode("latin-1", "replace") if latin1 else text.encode("utf-8", "surrogatepass")
    before = store(app).count_events()
    response = post(client, body, stripe_headers(body))
    if response.status_code == 200:  # it was a usable event after all: stored, once
        answer = response.get_json()
        assert answer["received"] == 1 and store(app).count_events() == before + answer["stored"]
    else:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert store(app).count_events() == before


times = st.one_of(st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]),
                  st.sampled_from(["2026-01-01T00:00:00Z", "2026-13-01", "2026-01-01T00:00:00"]), values)
ids = st.one_of(st.sampled_from(["1", "\x00", "x" * 300]), st.text(max_size=20), values)
#: a valid notification of each format, then some of its fields replaced
CLOUDEVENT = {"specversion": "1.0", "type": "qbo.payment.created.v1", "intuitaccountid": REALM,
              "intuitentityid": "1", "time": "2026-01-01T00:00:00Z", "id": "n-1"}
ENTITY = {"name": "Payment", "id": "1", "operation": "Create", "lastUpdated": "2026-01-01T00:00:00Z"}
cloudevents = st.lists(st.fixed_dictionaries({}, optional={
    "specversion": values, "type": st.one_of(st.sampled_from(["qbo..x", "qbo.a.b", "x", "qbo.payment.9.v1"]), values),
    "intuitaccountid": values, "intuitentityid": ids, "time": times, "id": ids,
}).map(lambda changed: {**CLOUDEVENT, **changed}), max_size=3)
legacy_deliveries = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.sampled_from(["Invoice", "x" * 300]), values), "id": ids,
    "operation": st.one_of(st.sampled_from(["Void", "Merge", "Nope", "9"]), values), "lastUpdated": times,
}).map(lambda changed: legacy({**ENTITY, **changed}))


@settings(FUZZ, max_examples=150)
@given(payload=st.one_of(values, cloudevents, legacy_deliveries))
@example(payload=legacy({**ENTITY, "lastUpdated": "0001-01-01T00:00:00+01:00"}))
@example(payload=[{**CLOUDEVENT, "time": "9999-12-31T23:59:59-01:00"}])
def test_a_signed_quickbooks_delivery_is_never_a_5xx(app, client, payload):
    body = jsonio.dumps(payload).encode()
    before = store(app).count_events()
    response = post(client, body, qbo_headers(body), connection="quickbooks")
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert store(app).count_events() == before
