"""The server-side SVG charts: well-formed, drawn to scale, labels escaped, empty data handled.

Geometry of the defaults, counted by hand: the bar chart is 560 wide with 150 for the labels and 60
for the percentages, so a bar of 100 % is 350 long. The line chart's plot spans x 48..528 (480
wide) and y 12..180 (168 high, 100 % at the top).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from app.web.charts import bar_chart, line_chart, percent

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>&科'


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    return root


def texts(root: ET.Element) -> list[str | None]:
    return [t.text for t in root.iter(f"{NS}text")]


def test_bars_are_proportional_and_labelled_with_percentages() -> None:
    rows = [("医务科", 0.5), ("药剂科", 0.25), ("财务科", 1.0)]
    root = parse(bar_chart(rows, title="各科室销号率"))
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]
    assert [float(r.get("width", "")) for r in bars] == [175.0, 87.5, 350.0]
    assert [float(r.get("y", "")) for r in bars] == [8, 34, 60]  # 18 high, 8 apart
    assert texts(root) == ["医务科", "50.0%", "药剂科", "25.0%", "财务科", "100.0%"]
    assert root.get("aria-label") == root.findtext(f"{NS}title") == "各科室销号率"
    tooltips = [g.findtext(f"{NS}title") for g in root.iter(f"{NS}g")]
    assert tooltips == ["医务科：50.0%", "药剂科：25.0%", "财务科：100.0%"]


def test_bar_shares_outside_zero_to_one_are_clamped() -> None:
    root = parse(bar_chart([("甲", -0.2), ("乙", 1.5)]))
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]
    assert [float(r.get("width", "")) for r in bars] == [0.0, 350.0]
    assert texts(root)[1::2] == ["0.0%", "100.0%"]


def test_labels_and_titles_are_escaped() -> None:
    for markup in (bar_chart([(EVIL, 0.5)], title=EVIL), line_chart([(EVIL, 0.5)], title=EVIL)):
        assert "<script>" not in markup and "&lt;script&gt;" in markup
        root = parse(markup)
        assert EVIL in texts(root) and root.get("aria-label") == EVIL and root.findtext(f"{NS}title") == EVIL


def test_the_line_goes_through_each_point() -> None:
    root = parse(line_chart([("W37", 0.0), ("W38", 0.5), ("W39", 1.0)], title="累计销号率"))
    points = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in root.iter(f"{NS}circle")]
    assert points == [(48.0, 180.0), (288.0, 96.0), (528.0, 12.0)]
    line = root.find(f"{NS}polyline")
    assert line is not None and line.get("points") == "48.0,180.0 288.0,96.0 528.0,12.0"
    assert {"W37", "W38", "W39", "100.0%", "0%", "50%", "100%"} <= set(texts(root))
    tooltips = [g.findtext(f"{NS}title") for g in root.iter(f"{NS}g")]
    assert tooltips == ["W37：0.0%", "W38：50.0%", "W39：100.0%"]


def test_one_point_sits_in_the_middle() -> None:
    root = parse(line_chart([("2026-W38", 0.25)]))
    (point,) = root.iter(f"{NS}circle")
    assert (point.get("cx"), point.get("cy")) == ("288.0", "138.0")


def test_many_points_label_every_few_weeks() -> None:
    root = parse(line_chart([(f"W{k}", k / 20) for k in range(1, 21)]))
    assert len(list(root.iter(f"{NS}circle"))) == 20
    # 20 points: every third label counted back from the last one, W20.
    weeks = [t for t in texts(root) if t and t.startswith("W")]
    assert weeks == ["W2", "W5", "W8", "W11", "W14", "W17", "W20"]


def test_no_data_draws_a_note_not_an_empty_axis() -> None:
    for markup in (bar_chart([]), line_chart([])):
        root = parse(markup)
        assert texts(root) == ["暂无数据"]
        assert root.find(f"{NS}rect") is None and root.find(f"{NS}polyline") is None


def test_percent_has_one_decimal() -> None:
    shares = (0.6667, 0.5, 1.0, 0.0, 0.3333)
    assert [percent(v) for v in shares] == ["66.7%", "50.0%", "100.0%", "0.0%", "33.3%"]
