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
