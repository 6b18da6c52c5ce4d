"""The sandbox base's Flask face: a Reply leaves exactly as built; JSON answers stay exact."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink.testing.sandbox import Reply
from ledgerlink.testing.sandbox_flask import json_response, response


def test_a_reply_is_sent_with_its_status_body_type_and_headers():
    sent = response(Reply(429, b"slow down", "text/plain; charset=utf-8", {"Retry-After": "7", "X-A": "b"}))
    assert (sent.status_code, sent.get_data(), sent.content_type) == (429, b"slow down", "text/plain; charset=utf-8")
    assert (sent.headers["Retry-After"], sent.headers["X-A"]) == ("7", "b")


def test_a_json_answer_writes_decimals_exactly():
    sent = json_response({"balance": Decimal("0.10"), "n": [1]}, 201)
    assert (sent.status_code, sent.get_data(), sent.content_type) == (201, b'{"balance":0.10,"n":[1]}',
                                                                       "application/json")


def test_the_clock_routes_move_the_clock_reset_the_state_and_name_a_bad_number():
    from flask import Flask

    from ledgerlink.testing.sandbox_flask import add_clock_routes

    moved: list[float] = []
    forgot: list[bool] = []

    def advance(seconds):
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a non-negative number, got {seconds!r}")
        moved.append(seconds)
        return {"advanced": seconds}

    app = Flask("clock")
    add_clock_routes(app, advance, forgot.append)
    client = app.test_client()
    assert client.post("/__sandbox/advance", json={"seconds": 90}).get_json() == {"advanced": 90}
    bad = client.post("/__sandbox/advance", json={"seconds": -1})
    assert bad.status_code == 400 and "-1" in bad.get_json()["error"] and '{"seconds": n}' in bad.get_json()["error"]
    assert client.post("/__sandbox/reset", json={"tokens": True}).get_json() == {"reset": True}
    assert client.post("/__sandbox/reset", data={"tokens": ""}).get_json() == {"reset": True}  # a form, too
    assert (moved, forgot) == ([90], [True, False])
    without = Flask("no-reset")
    add_clock_routes(without, advance)
    assert without.test_client().post("/__sandbox/reset").status_code == 404
