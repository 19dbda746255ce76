"""The plotly builders: reorg dates on every time chart, escaped source text, stable colours."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from report import charts

REORG = [(dt.date(2025, 3, 3), "Squad split")]
WEEKS = pd.to_datetime(["2025-02-24", "2025-03-03", "2025-03-10"])


def reorg_marked(fig) -> bool:
    # a vertical dashed line (a horizontal target line may be dashed too)
    lines = [
        s for s in fig.layout.shapes if s.line.dash == "dash" and s.x0 is not None and s.x0 == s.x1
    ]
    notes = [a.text for a in fig.layout.annotations]
    return len(lines) == 1 and "Squad split" in notes


TIME_CHARTS = {
    "allocation_area": lambda: charts.allocation_area(
        pd.DataFrame({"period": WEEKS, "category": "Infra", "fte": [1.0, 2.0, 1.5]}), "t", REORG
    ),
    "load_chart": lambda: charts.load_chart(
        pd.DataFrame({"week": WEEKS, "load": [1.0, 2.0, 0.2], "state": ["normal", "flood", "drought"]}),
        1.0, 1.5, 0.5, "t", REORG,
    ),
    "state_strip": lambda: charts.state_strip(
        pd.DataFrame({"team": "A", "week": WEEKS, "state": ["normal", "flood", "drought"]}), "t", REORG
    ),
    "scatter_with_percentiles": lambda: charts.scatter_with_percentiles(
        pd.DataFrame({"at": WEEKS, "hours": [24.0, 48.0, 12.0], "key": ["A-1", "A-2", "A-3"]}),
        "t", REORG,
        percentiles=pd.DataFrame({"period": WEEKS.date, "p50": [24.0, 48.0, 12.0], "p85": [30.0, 50.0, 20.0]}),
    ),
    "stacked_bars": lambda: charts.stacked_bars(
        pd.DataFrame({"period": WEEKS, "a": [1, 2, 3], "b": [1, 1, 1]}), "period", ["a", "b"], "t", reorgs=REORG
    ),
    "lines": lambda: charts.lines(
        pd.DataFrame({"week": WEEKS, "v": [1, 2, 3], "team": "A"}), "week", "v", "team", "t", "u", REORG
    ),
    "sla_scatter": lambda: charts.sla_scatter(
        pd.DataFrame({"created_at": WEEKS, "r": [0.5, 2.0, 1.0], "key": ["A-1", "A-2", "A-3"], "serving_team": "A"}),
        "r", "t", REORG,
    ),
    "timeline": lambda: charts.timeline(
        pd.DataFrame({"at": WEEKS, "reason": "OOMKilled", "message": ["m1", "m2", "m3"]}), "t", REORG
    ),
    "heatmap": lambda: charts.heatmap(
        pd.DataFrame({"person": "Ada", "week": WEEKS, "load": [1.0, 2.0, 3.0]}), "person", "week", "load", "t",
        reorgs=REORG,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TIME_CHARTS))
def test_every_time_chart_marks_the_reorg(name):
    assert reorg_marked(TIME_CHARTS[name]())


def test_hover_text_from_jira_and_kubernetes_is_escaped():
    fig = charts.timeline(
        pd.DataFrame(
            {"at": WEEKS[:1], "reason": "Evicted", "message": ["<b onmouseover=x>hi</b>"]}
        ),
        "t",
    )
    assert fig.data[0].text == ("&lt;b onmouseover=x&gt;hi&lt;/b&gt;",)


def test_a_category_keeps_its_colour_whatever_else_is_shown():
    every = ["Infrastructure", "DS support", "Core development", "uncategorized", "no tracked work"]
    colours = charts.category_colour(every)
    assert colours["uncategorized"] == charts.SPECIAL_COLOURS["uncategorized"]
    assert len(set(colours.values())) == len(every)
    # Teams are coloured from the org file's full list, so a filter never recolours them.
    assert charts.team_colour(["A", "B", "C"])["C"] == charts.team_colour(["A", "B", "C", "D"])["C"]


def test_reorg_intervals_are_grey_when_the_interval_includes_zero():
    rows = pd.DataFrame(
        {
            "label": ["fell", "unclear", "rose"],
            "change": [-0.4, 0.1, 0.3],
            "ci_low": [-0.6, -0.2, 0.1],
            "ci_high": [-0.2, 0.3, 0.5],
        }
    )
    assert list(charts.reorg_intervals(rows, "t").data[0].marker.color) == [
        "#2ca02c",
        "#9e9e9e",
        "#d62728",
    ]


def test_a_scatter_of_many_items_draws_a_fixed_sample_and_says_so() -> None:
    n = charts.MAX_POINTS + 1000
    at = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    samples = pd.DataFrame({"at": at, "hours": range(n), "key": [f"A-{i}" for i in range(n)]})
    fig = charts.scatter_with_percentiles(samples, "t")
    points = fig.data[0]
    assert len(points.x) == charts.MAX_POINTS
    assert points.name == f"items ({charts.MAX_POINTS:,} of {n:,} drawn)"
    # a sample of the rows themselves, in time order, the same on every render
    keys = list(points.text)
    assert keys == sorted(keys, key=lambda k: int(k[2:]))
    assert keys == list(charts.scatter_with_percentiles(samples, "t").data[0].text)
    # a page that reads the hover text of the drawn rows only draws the same, and says so
    again = charts.scatter_with_percentiles(charts.drawn(samples), "t", total=n).data[0]
    assert list(again.text) == keys and again.name == points.name
    # the rolling lines (no percentiles given) come from every item, not the sample
    assert len(fig.data[1].x) == n


def test_one_wide_reorg_interval_does_not_squeeze_the_others():
    rows = pd.DataFrame(
        {
            "label": ["few samples", "fell"],
            "change": [6.02, -0.33],
            "ci_low": [-1.0, -0.5],
            "ci_high": [30.62, -0.11],
        }
    )
    fig = charts.reorg_intervals(rows, "t")
    points = fig.data[0]
    assert fig.layout.xaxis.range[1] == charts.INTERVAL_EDGE * 1.05
    assert "cut at +300%" in fig.layout.xaxis.title.text
    # the wide one drawn at the edge as an arrow, its interval cut there; the other as it is
    assert list(points.x) == [charts.INTERVAL_EDGE, -33.0]
    assert list(points.marker.symbol) == ["triangle-right", "circle"]
    assert list(points.error_x.array) == [0.0, 22.0]
    assert list(points.error_x.arrayminus) == [400.0, 17.0]
    assert [round(v) for v in points.customdata[0]] == [602, -100, 3062]  # the hover's truth
    # intervals that fit keep the axis at the widest bound (at least +100%)
    narrow = charts.reorg_intervals(rows.iloc[1:], "t")
    assert narrow.layout.xaxis.range[1] == 105.0
    assert "cut" not in narrow.layout.xaxis.title.text


def test_a_change_that_rounds_to_nothing_hovers_as_0_not_minus_0():
    rows = pd.DataFrame(
        {"label": ["flat"], "change": [-0.004], "ci_low": [-0.2], "ci_high": [0.15]}
    )
    hover = charts.reorg_intervals(rows, "t").data[0].customdata[0]
    # plotly formats -0.0 as "-0"
    assert [str(v) for v in hover] == ["0.0", "-20.0", "15.0"]


def test_a_line_chart_of_a_few_weeks_ticks_each_week_and_no_day_between():
    weeks = pd.to_datetime(["2026-11-16", "2026-11-23"])
    few = pd.DataFrame({"week": [*weeks, *weeks], "h": [1, 2, 3, 4], "team": ["a", "a", "b", "b"]})
    fig = charts.lines(few, "week", "h", "team", "t", "hours")
    assert list(fig.layout.xaxis.tickvals) == list(weeks)
    many = pd.DataFrame(
        {"week": pd.date_range("2026-01-05", periods=20, freq="7D"), "h": 1.0, "team": "a"}
    )
    assert charts.lines(many, "week", "h", "team", "t", "hours").layout.xaxis.tickvals is None
