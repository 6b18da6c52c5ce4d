"""The short WSGI path for webhook deliveries answers exactly as the Flask view does."""

import logging

import pytest
from werkzeug.test import Client

from ledgerlink import jsonio
from ledgerlink.web.webhooks import WebhookPath
from runtime_fixtures import signed
from stripe_events import invoice_paid_event, sign

HEADERS = ("Content-Type", "Content-Length", "X-Content-Type-Options", "Cache-Control")


def deliveries(n):
    """(name, body, headers) of every kind of answer a delivery can get; ``n`` keeps ids apart."""
    body, headers = signed(invoice_paid_event("usd", 1000, event_id=f"evt_path_{n}"))
    broken = b'{"id": "evt_1", "type": '
    return [
        ("stored", "stripe", body, headers),
        ("bad signature", "stripe", body, {**headers, "Stripe-Signature": "t=1,v1=00"}),
        ("media type", "stripe", body, {**headers, "Content-Type": "text/plain"}),
        ("json with parameters", "stripe", body + b" ", {**headers, "Content-Type": "application/json; charset=utf-8"}),
        ("too large", "stripe", b"x" * 1_000_001, headers),
        ("broken json", "stripe", broken, {"Stripe-Signature": sign(broken), "Content-Type": "application/json"}),
        ("unknown connection", "nope", body, headers),
    ]


@pytest.fixture
def short_path(app):
    """The app's WSGI callable, counting the requests it handed to Flask."""
    path = app.wsgi_app
    assert isinstance(path, WebhookPath)
    flask_wsgi = path.wsgi_app
    handed = []

    def counted(environ, start_response):
        handed.append(environ["PATH_INFO"])
        return flask_wsgi(environ, start_response)

    path.wsgi_app = counted
    yield path, flask_wsgi, handed
    path.wsgi_app = flask_wsgi


def answer(wsgi, connection, body, headers):
    response = Client(wsgi).post(f"/webhooks/{connection}", data=body, headers=headers)
    return response.status_code, jsonio.loads(response.data) if response.data else None, \
        {name: response.headers.get(name) for name in HEADERS}


def test_every_kind_of_delivery_is_answered_alike_by_both_paths(app, short_path):
    path, flask_wsgi, handed = short_path
    statuses = []
    for (name, connection, body, headers), (_, _, flask_body, flask_headers) in zip(deliveries(1), deliveries(2)):
        short = answer(path, connection, body, headers)
        assert short == answer(flask_wsgi, connection, flask_body, flask_headers), name
        statuses.append(short[0])
    assert statuses == [200, 401, 415, 401, 413, 400, 404]
    assert handed == []  # the short path answered every delivery itself
    assert app.config["LEDGERLINK_RUNTIME"].store.count_events() == 2  # one per path, nothing refused stored


def test_everything_else_goes_to_flask(app, short_path):
    path, _, handed = short_path
    client = Client(path)
    assert client.get("/healthz").status_code == 200
    wrong = client.get("/webhooks/stripe")
    assert wrong.status_code == 405 and jsonio.loads(wrong.data)["error"]["status"] == 405
    assert client.post("/webhooks/stripe/extra", data=b"{}").status_code == 404
    assert handed == ["/healthz", "/webhooks/stripe", "/webhooks/stripe/extra"]


def test_a_request_hook_a_plugin_adds_is_never_skipped(app, short_path):
    path, _, handed = short_path
    seen = []
    app.before_request(lambda: seen.append("hook") and None)
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_path_hooked"))
    assert Client(path).post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    assert seen == ["hook"] and handed == ["/webhooks/stripe"]


def test_an_unexpected_error_is_a_logged_500_in_the_one_shape(app, short_path, monkeypatch, caplog):
    path, _, handed = short_path
    store = app.config["LEDGERLINK_RUNTIME"].store

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "ingest", broken)
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_path_500"))
    with caplog.at_level(logging.ERROR):
        status, error, _ = answer(path, "stripe", body, headers)
    assert status == 500 and error == {"error": {"status": 500, "code": "internal_error",
                                                 "message": "internal error; the server log has the details"}}
    assert "disk on fire" in caplog.text and "whsec" not in caplog.text and handed == []
