"""A Request's form body is sent as application/x-www-form-urlencoded, its pairs in order."""

import pytest

from ledgerlink.contract import Request
from ledgerlink.errors import ActionError
from ledgerlink.io import outbound
from ledgerlink.web import servers


def test_a_form_is_encoded_in_order_with_repeated_names():
    request = Request("POST", "http://127.0.0.1:1/v1/things",
                      form=[("metadata[note]", "paid & booked"), ("expand[]", "a"), ("expand[]", "b.c")])
    http = outbound.build(request, {"Authorization": "Bearer k"})
    assert http.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert http.content == b"metadata%5Bnote%5D=paid+%26+booked&expand%5B%5D=a&expand%5B%5D=b.c"
    assert outbound.shown_body(request) == http.content.decode()


def test_an_empty_form_is_an_empty_body_of_that_type():
    http = outbound.build(Request("POST", "http://127.0.0.1:1/v1/x", form=[]))
    assert http.content == b"" and http.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_form_and_a_json_body_together_are_refused():
    with pytest.raises(ActionError, match="not both"):
        outbound.build(Request("POST", "http://127.0.0.1:1/v1/x", json={"a": 1}, form=[("a", "1")]))


def test_a_form_is_sent_over_loopback_as_built():
    seen = []

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        seen.append((environ["CONTENT_TYPE"], environ["wsgi.input"].read(length)))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok": true}']

    pool = outbound.new_pool()
    with servers.background(app) as served:
        response, sent = outbound.send(pool, Request("POST", f"{served.url}/v1/x",
                                                     form=[("paid_out_of_band", "true")]), {}, [])
    pool.close()
    assert seen == [("application/x-www-form-urlencoded", b"paid_out_of_band=true")]
    assert response.json == {"ok": True} and sent.request["body"] == "paid_out_of_band=true"
