"""Stripe's API client: the key, the headers, the exact form encoding (against stripe-python's),
list pages, and every class of Stripe error."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from ledgerlink.contract import Response
from ledgerlink.errors import ActionError, ConfigError
from ledgerlink.io import outbound
from ledgerlink.testing import Script, drive
from ledgerlink.testing.actions import context
from ledgerlink_stripe import LIMITS, SETTINGS_SCHEMA, api

SETTINGS = {"api_base": "http://127.0.0.1:12111", "api_version": "2023-08-16"}


def ctx(key: str = "run-1-step-a", **settings: str):
    return context("stripe", {**SETTINGS, **settings}, key=key)


# --- the key ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_51H0abc", "rk_test_51H0x_y",
                                 "rk_live_abcDEF123"])
def test_secret_and_restricted_keys_are_sent_as_a_bearer(key):
    assert api.auth({"api_key": key}) == {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("key, says", [
    ("pk_test_TYooMQauvdEDq54NiTphI7jx", "publishable key"),
    ("whsec_abc", "does not start with sk_live_"),
    ("sk_prod_abc", "does not start with sk_live_"),
    ("Bearer sk_test_abc", "does not start with sk_live_"),
])
def test_other_keys_are_refused_naming_the_setting_never_the_key(key, says):
    with pytest.raises(ConfigError) as refused:
        api.auth({"api_key": key})
    assert "api_key setting" in refused.value.message and says in refused.value.message
    assert key not in refused.value.message


def test_a_missing_key_names_the_setting():
    with pytest.raises(ConfigError, match="no api_key setting"):
        api.auth({})


def test_the_host_redacts_the_key_in_what_it_shows():
    key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
    request = api.post(ctx(), "/v1/invoices/{}/pay", "in_1", params={"paid_out_of_band": True})
    http = outbound.build(request, api.auth({"api_key": key}))
    shown = outbound.describe(http, outbound.shown_body(request), secret_headers=["Authorization"],
                              secrets=[key])
    assert shown["headers"]["authorization"] == "Bearer [REDACTED]" and key not in str(shown)


def test_the_settings_schema_documents_version_account_and_the_live_rate_limit():
    properties = SETTINGS_SCHEMA["properties"]
    assert properties["api_version"]["default"] == api.DEFAULT_API_VERSION
    assert "Stripe-Account" in properties["stripe_account"]["description"]
    assert "[connections.NAME.limits]" in properties["api_key"]["description"]
    assert (LIMITS.requests, LIMITS.per_seconds) == (25, 1.0)   # Stripe's test-mode limit


def test_a_live_key_is_governed_at_stripes_live_limit_and_any_other_key_at_test_modes():
    """docs.stripe.com/rate-limits: live mode 100 requests a second (per kind), test mode 25."""
    for key, expected in (("sk_live_51Abc", 100), ("rk_live_51Abc", 100), ("sk_test_51Abc", 25),
                          ("rk_test_51Abc", 25), ("", 25), (None, 25)):
        limits = api.limits_for({"api_key": key} if key is not None else {})
        assert (limits.requests, limits.per_seconds) == (expected, 1.0), key


def test_the_host_governs_a_connection_by_the_limits_its_key_gets(tmp_path, monkeypatch, catalog):
    from ledgerlink.config import load_config
    from ledgerlink.engine.runtime import Runtime
    from ledgerlink.store import Store
    from ledgerlink.testing.databases import migrated_db

    (tmp_path / "recipes").mkdir()
    (tmp_path / "ledgerlink.toml").write_text(
        '[connections.live]\nconnector = "stripe"\napi_key = "${LIVE_KEY}"\n'
        '[connections.test]\nconnector = "stripe"\napi_key = "${TEST_KEY}"\n'
        '[connections.capped]\nconnector = "stripe"\napi_key = "${LIVE_KEY}"\n'
        '[connections.capped.limits]\nrequests = 40\nper_seconds = 1.0\n')
    monkeypatch.setenv("LIVE_KEY", "sk_live_51Abc")
    monkeypatch.setenv("TEST_KEY", "sk_test_51Abc")
    config = load_config(tmp_path / "ledgerlink.toml", catalog)
    runtime = Runtime(catalog, config, Store(migrated_db(tmp_path)), tmp_path / "recipes")
    try:
        connections = runtime.connections
        assert connections.limits("live").requests == 100
        assert connections.limits("test").requests == 25
        assert config.limits("capped", connections.limits("capped")).requests == 40
    finally:
        runtime.close()


# --- headers and URLs ---------------------------------------------------------------------

def test_a_post_carries_the_steps_key_the_pinned_version_and_the_connected_account():
    request = api.post(ctx("run-9-step-pay", stripe_account="acct_1Nv0FGQ9RKHgCVdK"),
                       "/v1/invoices/{}/pay", "in_1", params={"paid_out_of_band": True})
    assert request.url == "http://127.0.0.1:12111/v1/invoices/in_1/pay"
    assert request.headers == {"Stripe-Version": "2023-08-16", "Stripe-Account": "acct_1Nv0FGQ9RKHgCVdK",
                               "Idempotency-Key": "run-9-step-pay"}


def test_a_get_carries_no_idempotency_key_and_the_default_version():
    request = api.get(context("stripe", {}), "/v1/invoices/{}", "in_1")
    assert request.url == "https://api.stripe.com/v1/invoices/in_1"
    assert request.headers == {"Stripe-Version": api.DEFAULT_API_VERSION}


def test_an_id_is_escaped_as_one_path_segment():
    assert api.url(ctx(), "/v1/invoices/{}", "in_1/../../v1/charges").endswith("/v1/invoices/in_1%2F..%2F..%2Fv1%2Fcharges")


# --- form encoding ------------------------------------------------------------------------

def test_the_form_encoding_stripe_documents():
    pairs = api.encode({"metadata": {"note": "paid & booked", "old": ""}, "expand": ["payment_intent", "charge"],
                        "paid_out_of_band": True, "forgive": False, "amount": 1250,
                        "rate": Decimal("1.0850"), "lines": [{"amount": 100, "tax": {"code": "x"}}],
                        "skipped": None})
    assert pairs == [("metadata[note]", "paid & booked"), ("metadata[old]", ""),
                     ("expand[]", "payment_intent"), ("expand[]", "charge"),
                     ("paid_out_of_band", "true"), ("forgive", "false"), ("amount", "1250"),
                     ("rate", "1.0850"), ("lines[0][amount]", "100"), ("lines[0][tax][code]", "x")]
    body = outbound.build(api.post(ctx(), "/v1/invoices/{}", "in_1", params={"metadata": {"a": "1"},
                                                                           "expand": ["x", "y"]})).content
    assert body == b"metadata%5Ba%5D=1&expand%5B%5D=x&expand%5B%5D=y"


def test_a_decimal_is_never_written_in_exponent_form_and_a_float_never_sent():
    assert api.encode({"rate": Decimal("1E+2")}) == [("rate", "100")]
    with pytest.raises(ActionError, match="float"):
        api.encode({"amount": 12.5})
    with pytest.raises(ActionError, match="NaN"):
        api.encode({"amount": Decimal("NaN")})


PARAMETERS = [
    {"metadata": {"ledgerlink_note": "Paid by bank transfer", "order": "A-17"}, "expand": ["payment_intent", "charge"]},
    {"paid_out_of_band": True, "expand": ["customer"]},
    {"created": {"gte": 1693526400, "lt": 1696118400}, "payout": "po_1", "type": "charge", "limit": 100},
    {"metadata": {"unset": ""}, "lines": [{"amount": 100, "description": "a"}, {"amount": 5}]},
]


@pytest.mark.parametrize("params", PARAMETERS)
def test_our_encoding_is_stripe_pythons(params):
    """stripe-python writes arrays of strings indexed (expand[0]=a), we write expand[]=a:
    Stripe reads both as the same array; with the index in place the bodies are identical."""
    sdk = urlencode([(k, str(v)) for k, v in _api_encode(params)])
    assert urlencode(list(api.query(params).items())) == sdk
    indexed, seen = [], {}
    for name, value in api.encode(params):
        if name.endswith("[]"):
            seen[name] = seen.get(name, -1) + 1
            name = f"{name[:-2]}[{seen[name]}]"
        indexed.append((name, value))
    assert urlencode(indexed) == sdk


def test_a_query_indexes_arrays():
    assert api.query({"expand": ["data.source", "data.source.customer"], "created": {"gte": 5}}) == {
        "expand[0]": "data.source", "expand[1]": "data.source.customer", "created[gte]": "5"}


# --- pages --------------------------------------------------------------------------------

def page(ids, more):
    return {"object": "list", "url": "/v1/balance_transactions", "has_more": more,
            "data": [{"id": i, "object": "balance_transaction", "amount": 100} for i in ids]}


def test_pages_are_followed_with_starting_after_until_has_more_is_false():
    done = drive(api.pages(ctx(), "/v1/balance_transactions", {"payout": "po_1"}),
                 Script(page(["txn_1", "txn_2"], True), page(["txn_3", "txn_4"], True), page(["txn_5"], False)))
    assert [item["id"] for item in done.value] == ["txn_1", "txn_2", "txn_3", "txn_4", "txn_5"]
    assert [r.params for r in done.requests] == [
        {"payout": "po_1", "limit": "100"},
        {"payout": "po_1", "limit": "100", "starting_after": "txn_2"},
        {"payout": "po_1", "limit": "100", "starting_after": "txn_4"}]
    assert all(r.method == "GET" and "Idempotency-Key" not in r.headers for r in done.requests)


def test_an_empty_list_is_one_request():
    done = drive(api.pages(ctx(), "/v1/balance_transactions"), Script(page([], False)))
    assert done.value == [] and len(done.requests) == 1


def test_a_page_without_data_is_retried_not_read_as_the_end():
    with pytest.raises(ActionError) as error:
        drive(api.pages(ctx(), "/v1/balance_transactions"), Script({"object": "list"}))
    assert error.value.kind == "retry"


def test_an_error_on_a_later_page_is_raised():
    with pytest.raises(ActionError) as error:
        drive(api.pages(ctx(), "/v1/balance_transactions"),
              Script(page(["txn_1"], True), Response(500, json={"error": {"type": "api_error", "message": "x"}})))
    assert error.value.kind == "retry"


# --- errors -------------------------------------------------------------------------------

def stripe_error(status, headers=None, **error):
    return Response(status, headers=headers or {}, json={"error": error})


def test_an_invalid_request_is_permanent_with_stripes_message_and_param():
    error = api.stripe_classify(stripe_error(400, type="invalid_request_error", code="parameter_unknown",
                                             param="colour", message="Received unknown parameter: colour"))
    assert error.kind == "permanent" and error.vendor_code == "parameter_unknown"
    assert "Received unknown parameter: colour (param: colour)" in error.message
    assert "invalid_request_error/parameter_unknown" in error.message


def test_a_card_error_is_permanent():
    error = api.stripe_classify(stripe_error(402, type="card_error", code="card_declined",
                                             decline_code="insufficient_funds", message="Your card has insufficient funds."))
    assert error.kind == "permanent" and "insufficient funds" in error.message


def test_a_429_is_retried_after_retry_after():
    error = api.stripe_classify(stripe_error(429, {"Retry-After": "3"}, type="invalid_request_error",
                                             code="rate_limit", message="Too many requests"))
    assert (error.kind, error.retry_after) == ("retry", 3.0)


def test_a_429_without_retry_after_waits_a_second():
    error = api.stripe_classify(stripe_error(429, type="invalid_request_error", code="rate_limit", message="x"))
    assert (error.kind, error.retry_after) == ("retry", 1.0)


def test_a_lock_timeout_is_retried_whatever_its_status():
    error = api.stripe_classify(stripe_error(400, type="invalid_request_error", code="lock_timeout",
                                             message="This object cannot be accessed right now"))
    assert error.kind == "retry"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retried(status):
    assert api.stripe_classify(stripe_error(status, type="api_error", message="oops")).kind == "retry"
    assert api.stripe_classify(Response(status, text="<html>bad gateway</html>")).kind == "retry"


def test_a_401_asks_for_a_new_key():
    error = api.stripe_classify(stripe_error(401, type="invalid_request_error",
                                             message="Invalid API Key provided: sk_test_****abcd"))
    assert error.kind == "reauth"


def test_a_403_to_a_restricted_key_names_the_missing_permission():
    error = api.stripe_classify(stripe_error(
        403, type="invalid_request_error",
        message="The provided key 'rk_test_****4c5d' does not have the required permissions for this "
                "endpoint on account 'acct_1Nv0FGQ9RKHgCVdK'. Having the 'rak_invoice_write' permission "
                "would allow this request to continue."))
    assert error.kind == "permanent" and "lacks the permission rak_invoice_write" in error.message


def test_a_403_without_a_named_permission_is_permanent_with_stripes_message():
    error = api.stripe_classify(stripe_error(403, type="invalid_request_error", message="Forbidden here"))
    assert error.kind == "permanent" and "Forbidden here" in error.message


def test_an_idempotency_conflict_is_permanent():
    error = api.stripe_classify(stripe_error(400, type="idempotency_error",
                                             message="Keys for idempotent requests can only be used with the same parameters"))
    assert error.kind == "permanent" and "same parameters" in error.message


def test_a_success_is_no_error():
    assert api.stripe_classify(Response(200, json={"id": "in_1", "object": "invoice"})) is None
