"""What an HTTP answer means: success, permanent, retry later, reauth, unknown (ledgerlink.contract.http)."""

from __future__ import annotations

import pytest

from ledgerlink.contract import (ErrorReading, Response, answered_at, classify, describe_body, header,
                                 retry_after, status_kind, unreadable_query, unreadable_write)


@pytest.mark.parametrize("status, kind", [
    (200, None), (201, None), (304, None), (400, "permanent"), (401, "reauth"), (403, "permanent"),
    (404, "permanent"), (408, "retry"), (409, "permanent"), (422, "permanent"), (429, "retry"),
    (500, "retry"), (502, "retry"), (503, "retry"), (599, "retry"),
])
def test_status_kind(status, kind):
    assert status_kind(status) == kind


def test_a_success_is_no_error():
    assert classify(Response(status=200, json={"id": "1"}), vendor="Acme") is None


def test_401_asks_for_a_reconnect():
    error = classify(Response(status=401, text="expired"), vendor="Acme")
    assert (error.kind, error.http_status) == ("reauth", 401)
    assert str(error) == ("Acme refused the credentials (HTTP 401): expired; reconnect the "
                          "connection (ledgerlink connect NAME)")


def test_429_waits_retry_after_else_the_throttle_wait():
    error = classify(Response(status=429, headers={"retry-after": "7"}), vendor="Acme",
                     throttle_wait=60)
    assert (error.kind, error.retry_after) == ("retry", 7.0)
    assert classify(Response(status=429), vendor="Acme", throttle_wait=60).retry_after == 60
    assert classify(Response(status=429), vendor="Acme").retry_after is None


def test_5xx_waits_only_what_the_vendor_said():
    headers = {"Date": "Fri, 15 Mar 2024 16:00:00 GMT", "Retry-After": "Fri, 15 Mar 2024 16:00:30 GMT"}
    error = classify(Response(status=503, headers=headers, text="down"), vendor="Acme",
                     throttle_wait=60)
    assert (error.kind, error.retry_after) == ("retry", 30.0)
    assert classify(Response(status=502), vendor="Acme", throttle_wait=60).retry_after is None
    assert str(classify(Response(status=502), vendor="Acme")) == \
        "Acme could not process the request now (HTTP 502): no body; it is retried"


def test_other_4xx_is_permanent_with_the_start_of_the_body():
    error = classify(Response(status=422, text="x" * 600), vendor="Acme")
    assert error.kind == "permanent"
    assert str(error) == "Acme rejected the request (HTTP 422): " + "x" * 500


def _acme_reader(response: Response) -> ErrorReading | None:
    """An error body {"error": {"code", "message", "type"}}; "rate_limited" is a throttle."""
    body = response.json.get("error") if isinstance(response.json, dict) else None
    if not isinstance(body, dict):
        return None
    return ErrorReading(detail=body["message"], vendor_code=body["code"],
                        codes=frozenset({body["code"]}), label=body["type"],
                        throttled=body["type"] == "rate_limited",
                        kind="retry" if body["type"] == "server" else None)


def test_the_vendor_error_body_reader_specialises_it():
    throttled = Response(status=403, json={"error": {"code": "E1", "message": "slow down",
                                                     "type": "rate_limited"}})
    error = classify(throttled, vendor="Acme", read_error=_acme_reader, throttle_wait=5)
    assert (error.kind, error.retry_after, error.vendor_code) == ("retry", 5, "E1")
    assert str(error).startswith("Acme could not process the request now (HTTP 403 rate_limited)")

    in_a_200 = Response(status=200, json={"error": {"code": "E2", "message": "bad", "type": "v"}})
    assert classify(in_a_200, vendor="Acme", read_error=_acme_reader).kind == "permanent"

    server = Response(status=400, json={"error": {"code": "E3", "message": "oops", "type": "server"}})
    error = classify(server, vendor="Acme", read_error=_acme_reader, throttle_wait=5)
    assert (error.kind, error.retry_after) == ("retry", None)


def test_the_vendor_words_the_message():
    def explain(kind, reading, response, wait):
        return f"{kind}/{reading.detail}/{response.status}/{wait}"

    error = classify(Response(status=429, text="busy"), vendor="Acme", explain=explain,
                     throttle_wait=3)
    assert str(error) == "retry/busy/429/3"


def test_an_unreadable_success_answer_to_a_write_is_an_unknown_outcome():
    error = unreadable_write(Response(status=200, headers={"Content-Type": "text/html"},
                                      text="<html>proxy</html>"), "Acme", "Invoice")
    assert (error.kind, error.http_status) == ("unknown", 200)
    assert "an HTML page (text/html, 18 characters)" in str(error)
    assert "the Invoice may have been created, so it is looked up" in str(error)


def test_an_unreadable_query_answer_is_retried_never_read_as_nothing_found():
    error = unreadable_query(Response(status=200, json={"other": 1}, text='{"other": 1}'),
                             "Acme", "Invoice", expected="a list")
    assert error.kind == "retry"
    assert "JSON with other instead of a list" in str(error)


@pytest.mark.parametrize("response, described", [
    (Response(status=200), "an empty body"),
    (Response(status=200, text='{"Inv'), "a body that is not JSON, or is cut short (5 characters)"),
    (Response(status=200, json=[1], text="[1]"), "JSON with no object"),
])
def test_describe_body(response, described):
    assert describe_body(response) == described


def test_header_and_retry_after():
    assert header({"Retry-After": "3"}, "retry-after") == "3"
    assert header({}, "Retry-After") is None
    assert retry_after({"Retry-After": "nonsense"}, 9.0) == 9.0
    assert retry_after({}, None) is None


def test_answered_at_is_the_server_s_date_header_in_utc():
    from datetime import datetime, timezone

    assert answered_at({"date": "Fri, 15 Mar 2024 23:30:00 GMT"}) == datetime(2024, 3, 15, 23, 30,
                                                                            tzinfo=timezone.utc)
    assert answered_at({"Date": "Fri, 15 Mar 2024 19:30:00 -0400"}) == datetime(2024, 3, 15, 23, 30,
                                                                              tzinfo=timezone.utc)
    assert answered_at({}) is None and answered_at({"Date": "yesterday"}) is None
