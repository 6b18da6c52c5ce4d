"""The health page's chart: well-formed SVG a screen reader can name, styled only through
class names, bars stacked in proportion, every text escaped, days labelled in the
operator's zone."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest

from ledgerlink.engine.health_series import window
from ledgerlink.web.chart import class_name, nice_ceiling, stacked_bars, zone_name

SVG = "{http://www.w3.org/2000/svg}"
#: 2026-11-30 14:25 UTC
NOW = 1_796_048_700.0 - (1_796_048_700.0 % 3600) + 25 * 60


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def bars(root):
    return [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_the_chart_is_an_image_with_a_title_and_a_description_and_no_inline_style():
    starts = window(NOW, 48)
    svg = stacked_bars("Runs per hour, 7 days", starts, {"succeeded": [1] * 48, "failed": [0] * 47 + [3]},
                       ident="runs")
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "runs-title runs-desc"
    assert root.find(f"{SVG}title").text == "Runs per hour, 7 days" and root.find(f"{SVG}title").get("id") == "runs-title"
    assert root.find(f"{SVG}desc").text == "51 runs in 48 hours; the busiest hour had 4."
    assert "style" not in svg and all("style" not in el.attrib for el in root.iter())
    assert {el.get("class") for el in root.iter() if el.get("class")} >= {
        "chart", "axis", "gridline", "label", "bar bar-succeeded", "bar bar-failed", "legend", "bars"}


def test_bars_are_stacked_in_order_and_in_proportion_to_the_busiest_hour():
    starts = window(NOW, 3)
    root = parse(stacked_bars("t", starts, {"succeeded": [2, 0, 5], "failed": [0, 0, 5]}))
    drawn = bars(root)
    assert [b.find(f"{SVG}title").text for b in drawn] == [
        "2026-11-30 12:00 UTC: 2 succeeded", "2026-11-30 14:00 UTC: 5 succeeded", "2026-11-30 14:00 UTC: 5 failed"]
    heights = [float(b.get("height")) for b in drawn]
    assert heights[1] == heights[2] == 2.5 * heights[0]  # 10 at most: a full bar is 10
    low, high = drawn[1], drawn[2]  # failed sits on succeeded
    assert float(high.get("y")) + float(high.get("height")) == pytest.approx(float(low.get("y")))
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert {"0", "5", "10"} <= set(labels)


def test_text_is_escaped_and_series_names_become_safe_class_names():
    svg = stacked_bars('<script>"x"</script>', window(NOW, 2), {'a"><img src=x>': [1, 1]})
    root = parse(svg)
    assert root.find(f"{SVG}title").text == '<script>"x"</script>'
    assert "<script>" not in svg and "<img" not in svg
    assert {b.get("class") for b in bars(root)} == {"bar bar-a-img-src-x"}


def test_an_empty_window_says_so_and_days_are_labelled_at_midnight_in_the_operators_zone():
    starts = window(NOW, 48)
    empty = parse(stacked_bars("t", starts, {}))
    assert [t.text for t in empty.iter(f"{SVG}text") if t.get("class") == "empty"] == ["No runs in these 48 hours"]
    utc = [t.text for t in empty.iter(f"{SVG}text") if t.text and t.text[0].isdigit() and " " in t.text]
    assert utc == ["29 Nov", "30 Nov"]
    east = parse(stacked_bars("t", starts, {"succeeded": [1] * 48}, offset=timedelta(hours=10)))
    assert [t.text for t in east.iter(f"{SVG}text") if t.text and " " in t.text and t.text[0].isdigit()] == [
        "30 Nov", "01 Dec"]
    assert bars(east)[0].find(f"{SVG}title").text.endswith("UTC+10:00: 1 succeeded")


@pytest.mark.parametrize("value, ceiling", [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (450, 500), (1000, 1000)])
def test_the_axis_tops_at_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_names_of_zones_and_classes():
    assert zone_name(timedelta(0)) == "UTC" and zone_name(timedelta(hours=-4)) == "UTC-04:00"
    assert zone_name(timedelta(hours=5, minutes=30)) == "UTC+05:30"
    assert class_name("awaiting_review") == "awaiting-review" and class_name("!!") == "other"


def test_a_day_label_near_the_right_edge_ends_at_its_tick_instead_of_being_cut():
    starts = window(NOW, 48)
    last_midnight = max(i for i, start in enumerate(starts) if start % 86400 == 0)
    root = parse(stacked_bars("t", starts[: last_midnight + 2], {}))  # the last midnight 1 hour from the edge
    days = [t for t in root.iter(f"{SVG}text") if t.text and t.text[0].isdigit() and " " in t.text]
    assert days[-1].get("text-anchor") == "end" and days[0].get("text-anchor") is None
