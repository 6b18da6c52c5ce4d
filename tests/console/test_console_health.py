"""The health page over HTTP (Flask's test client on ``serve``'s app, a real SQLite database):
the runs-per-hour chart as inline SVG without a style attribute and the same figures as a
table, webhook deliveries refused (by connection and reason, last day and week) counted from
real refused deliveries, the queue now with the longest wait, and paused / failed counts.
The host's clock is fixed, so every window is exact."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from console_helpers import QBO_SECRET
from ledgerlink.engine.health_series import HOURS, record_rejection, window
from ledgerlink.store.schema import runs
from ledgerlink_console.health import wait_text
from runtime_fixtures import signed
from stripe_events import invoice_paid_event
from test_console_pages import bench, store_of

#: the host's clock in these tests: 2026-05-20 14:25:00 UTC
NOW = 1779287100.0
HOUR = 3600.0


@pytest.fixture
def clocked(app):
    app.config["LEDGERLINK_RUNTIME"].clock = lambda: NOW
    return app


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _cells(html: str, table_class: str) -> list[list[str]]:
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>")[1]
    return [[_text(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _runs_in_window(app) -> dict[str, int]:
    starts = window(NOW, HOURS)
    with store_of(app).engine.connect() as conn:
        rows = conn.execute(sa.select(runs.c.status, sa.func.count())
                            .where(runs.c.created_at >= starts[0], runs.c.created_at < starts[-1] + HOUR)
                            .group_by(runs.c.status)).all()
    return dict(rows)


def test_the_health_page_draws_runs_per_hour_and_gives_the_same_figures_as_a_table(clocked, signed_in):
    bench().fill(str(store_of(clocked).engine.url), 400, end=NOW - 60)  # 30 days: about 93 in the last 7
    answer = signed_in.get("/console/health")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    expected = _runs_in_window(clocked)
    assert 0 < sum(expected.values()) < 400
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "Runs per hour by status, last 7 days" in svg
    assert " style=" not in html and "<style" not in html and "<script>" not in html  # the CSP holds it
    # every run of the window is one unit of a segment: the segments' titles add up
    segments = re.findall(r'<rect class="bar bar-([a-z-]+)"[^>]*><title>[^<]*: (\d+) ([a-z_]+)</title>', svg)
    per_status: dict[str, int] = {}
    for _, count, status in segments:
        per_status[status] = per_status.get(status, 0) + int(count)
    assert per_status == expected
    # the table: one row per hour with runs, a column per status, and the total
    rows = _cells(html, "runs-per-hour")
    header = re.search(r'<table class="runs-per-hour">.*?<thead>(.*?)</thead>', html, re.S).group(1)
    columns = [_text(c).strip() for c in re.findall(r"<th[^>]*>(.*?)</th>", header)]
    assert columns[0] == "Hour" and columns[-1] == "All" and set(columns[1:-1]) == set(expected)
    table = {status: sum(int(row[i]) for row in rows) for i, status in enumerate(columns[1:-1], start=1)}
    assert table == expected and sum(int(row[-1]) for row in rows) == sum(expected.values())
    assert f"Runs created in the last 7 days: {sum(expected.values())}," in html
    assert '<time datetime="2026-05-20T' in html


def test_an_empty_week_says_so(clocked, signed_in):
    html = signed_in.get("/console/health").get_data(as_text=True)
    assert "No runs in these 168 hours" in html and "No run was created in the last 7 days." in html
    assert "No delivery was refused in the last 7 days." in html
    figures = _text(html)
    assert "Runs due 0" in figures and "Waiting longest none waiting" in figures


def test_refused_deliveries_are_counted_by_connection_and_reason_over_a_day_and_a_week(clocked, signed_in):
    client = clocked.test_client()
    body, headers = signed(invoice_paid_event("usd", 1200, event_id="evt_refused_1"), secret="whsec_not_this_one")
    for _ in range(2):  # a secret that is not the connection's: refused, 401
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 401
    refusal = store_of(clocked).rejections_by_reason(0, NOW + HOUR)
    (reason,) = {r for _, _, r, _ in refusal}
    record_rejection(store_of(clocked), "stripe", reason, NOW - 3 * 86400)  # 3 days ago: the week only
    record_rejection(store_of(clocked), "stripe", "an old reason", NOW - 10 * 86400)  # past the week
    html = signed_in.get("/console/health").get_data(as_text=True)
    assert _cells(html, "rejections") == [["stripe", reason, "2", "3"]]
    assert "an old reason" not in html
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 2 and "Webhook deliveries refused per hour" in svgs[1]
    assert 'class="bar bar-stripe"' in svgs[1]


def test_the_queue_its_longest_wait_and_what_needs_a_person(clocked, signed_in):
    bench().fill(str(store_of(clocked).engine.url), 6, end=NOW - 86400)
    with store_of(clocked).engine.begin() as conn:
        conn.execute(sa.update(runs).where(runs.c.id == 1).values(status="pending", due_at=NOW - 2 * HOUR - 600))
        conn.execute(sa.update(runs).where(runs.c.id == 2).values(status="retrying", due_at=NOW - 60))
        conn.execute(sa.update(runs).where(runs.c.id == 3).values(status="retrying", due_at=NOW + 600))
        conn.execute(sa.update(runs).where(runs.c.id == 4).values(status="paused"))
        conn.execute(sa.update(runs).where(runs.c.id == 5).values(status="failed", created_at=NOW - HOUR))
        conn.execute(sa.update(runs).where(runs.c.id == 6).values(status="awaiting_review"))
    html = signed_in.get("/console/health").get_data(as_text=True)
    figures = _text(html)
    assert "Runs due 2" in figures and "Scheduled later 1" in figures and "Awaiting review 1" in figures
    assert "Waiting longest 2 h 10 min" in figures
    assert "Runs paused 1" in figures and "Runs failed or dead 1 (1 of the runs created in the last 24 hours)" \
        in figures
    assert "Connections not connected 1 ok 1 " in figures  # quickbooks (OAuth, never connected), stripe
    assert QBO_SECRET not in html


def test_the_health_page_is_in_the_nav_and_needs_a_session(app, signed_in):
    assert app.test_client().get("/console/health").status_code == 303
    html = signed_in.get("/console/").get_data(as_text=True)
    assert '<a href="/console/health">Health</a>' in html
    assert '<a href="/console/health" aria-current="page">Health</a>' in signed_in.get("/console/health").get_data(
        as_text=True)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0 s"), (59.9, "59 s"), (60, "1 min"), (3599, "59 min"),
                                                (3600, "1 h"), (7800, "2 h 10 min"), (86400, "1 d"),
                                                (93600, "1 d 2 h"), (-5, "0 s")])
def test_a_wait_reads_at_a_glance(seconds, text):
    assert wait_text(seconds) == text
