"""Every dashboard page through AppTest on the synced sandbox world: it renders, and shows the
numbers `metrics.reading` gives for the same window (formatted the way the page formats them)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from config.load import load_config
from dashboard import widgets
from db import models
from db.migrate import upgrade
from db.session import make_engine
from metrics.cluster import NO_TEAM, cluster_weekly, usage_totals
from metrics.weeks import widen
from report import charts
from tests.dashboard.conftest import DASHBOARD, END, QUERY, START
from tests.dashboard.helpers import metric, texts

PAGES = (
    "overview",
    "allocation",
    "turnaround",
    "support",
    "flood",
    "planning",
    "cluster",
    "reorg",
    "health",
)


def no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_exception(run_page, synced_world, page):
    at = run_page(synced_world.config_path, page, **QUERY)
    no_exception(at)
    assert at.title[0].value  # the page drew its own content, not just the filters


def test_the_app_registers_every_page_and_opens_on_the_overview(run_page, synced_world):
    at = run_page(synced_world.config_path, "app", **QUERY)
    no_exception(at)
    assert at.title[0].value == "Overview"
    assert any("team aggregates only" in t for t in texts(at.sidebar.caption))
    for page, title in (("allocation", "Allocation"), ("health", "Data health")):
        at.switch_page(f"views/{page}.py").run()
        no_exception(at)
        assert at.title[0].value == title


def test_the_filters_come_from_the_url(run_page, synced_world):
    at = run_page(synced_world.config_path, "overview", team="Infra", grain="month", **QUERY)
    teams = at.sidebar.multiselect[0]
    assert teams.value == ["Infra"]
    start, end = at.sidebar.date_input[0].value
    assert (start, end) == (START, END)
    assert at.query_params["grain"] in ("month", ["month"])


def test_overview_shows_each_figure_of_the_report(run_page, synced_world, expected):
    team = expected.team("Infra")
    at = run_page(synced_world.config_path, "overview", team="Infra", **QUERY)
    no_exception(at)
    cycle = team["turnaround"]["cycle_time_hours"]
    p50, p85 = widgets.durations(cycle["p50"], cycle["p85"])  # one unit for the pair
    assert metric(at, "Cycle time p50") == p50
    assert metric(at, "Cycle time p85") == p85
    assert p50.split()[-1] == p85.split()[-1]
    served = team["support"]
    assert metric(at, "Support SLA breach rate") == widgets.percent(served["sla_breach_rate"])
    last = [w for w in team["load"]["weekly"] if w["state"]][-1]
    badge = f" {last['state'].capitalize()}]"  # :colour-badge[:icon: State]
    assert any(t.startswith(":") and t.endswith(badge) for t in texts(at.markdown))


def test_allocation_shows_the_unplanned_share_and_items_add_up_to_tracked_fte(
    run_page, people_config, expected
):
    team = expected.team("Infra")["allocation"]
    at = run_page(people_config, "allocation", team="Infra", **QUERY)
    no_exception(at)
    assert metric(at, "Unplanned share") == widgets.percent(team["unplanned_share"])
    items = next(d.value for d in at.dataframe if "fte" in d.value.columns and "key" in d.value)
    tracked = sum(w["planned_fte"] + w["unplanned_fte"] for w in team["weekly"])
    # Every FTE-week of tracked work is some item's or pull request's (and someone's).
    assert items["fte"].sum() == pytest.approx(tracked)
    assert items["person"].notna().all()


def test_person_level_detail_stays_hidden_when_the_org_file_does_not_allow_it(
    run_page, synced_world
):
    for page in ("allocation", "turnaround", "flood"):
        at = run_page(synced_world.config_path, page, **QUERY)
        no_exception(at)
        for frame in at.dataframe:
            assert not {"person", "assignee"} & set(frame.value.columns), page
    at = run_page(synced_world.config_path, "allocation", **QUERY)
    assert any("Person-level detail" in t for t in texts(at.info))


def test_turnaround_shows_the_report_percentiles(run_page, synced_world, expected):
    team = expected.team("Research")["turnaround"]
    at = run_page(synced_world.config_path, "turnaround", team="Research", **QUERY)
    no_exception(at)
    cycle = team["cycle_time_hours"]
    assert metric(at, "Cycle time p50") == widgets.durations(cycle["p50"], cycle["p85"])[0]
    assert metric(at, "Lead time p50") == widgets.duration(team["lead_time_hours"]["p50"])
    assert metric(at, "PR first review p50") == widgets.duration(
        team["pr_first_review_hours"]["p50"]
    )
    assert len(at.get("plotly_chart")) >= 3  # scatter, histogram, PR breakdown
    # a point per finished item, its key in the hover (read for the drawn points only)
    points = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert len(points["text"]) == cycle["n"] == len(set(points["text"]))
    assert all(re.fullmatch(r"[A-Z]+-\d+", key) for key in points["text"])


def test_turnaround_lists_the_oldest_work_in_progress_for_a_director(
    run_page, people_config, expected
):
    at = run_page(people_config, "turnaround", **QUERY)
    no_exception(at)
    wip = next(d.value for d in at.dataframe if "age_days" in d.value.columns)
    assert not wip.empty
    assert wip["age_days"].is_monotonic_decreasing


def test_support_shows_requests_served_and_breach_rate(run_page, synced_world, expected):
    served = expected.team("Infra")["support"]
    at = run_page(synced_world.config_path, "support", team="Infra", **QUERY)
    no_exception(at)
    assert metric(at, "Requests served") == str(served["n"])
    assert metric(at, "SLA breached") == widgets.percent(served["sla_breach_rate"])
    assert metric(at, "Resolution p50") == widgets.duration(served["resolution_hours"]["p50"])
    breaches = next(d.value for d in at.dataframe if "resolution_breach" in d.value.columns)
    assert len(breaches) > 0


def test_flood_shows_baseline_and_variability(run_page, synced_world, expected):
    load = expected.team("Research")["load"]
    at = run_page(synced_world.config_path, "flood", team="Research", **QUERY)
    no_exception(at)
    assert metric(at, "Baseline (median load)") == widgets.number(load["baseline"], 2)
    assert metric(at, "Variability (CV)") == widgets.number(load["cv"], 2)
    assert metric(at, "Weeks in flood").startswith(str(load["flood_weeks"]))


def test_flood_shows_each_persons_load_to_a_director(run_page, people_config):
    at = run_page(people_config, "flood", team="Research", **QUERY)
    no_exception(at)
    people = [d.value for d in at.dataframe if "person" in d.value.columns]
    assert people and set(people[0]["team"]) == {"Research"}


def test_cluster_shows_the_requested_hours(run_page, synced_world, expected):
    from db.cluster_queries import cluster_frames
    from db.session import make_engine

    window = widen(START, END, expected.config.org.timezone)
    engine = make_engine(synced_world.db_url, readonly=True)
    with engine.connect() as conn:
        frames = cluster_frames(conn, window.start, window.end)
    engine.dispose()
    usage = cluster_weekly(frames, window, expected.now, expected.config.team_names())["usage"]
    totals = usage_totals(usage[usage["team"].isin([*expected.config.team_names(), NO_TEAM])])
    at = run_page(synced_world.config_path, "cluster", **QUERY)
    no_exception(at)
    assert metric(at, "CPU-hours requested") == widgets.number(totals["cpu_hours"], 0)
    assert metric(at, "GPU-hours requested") == widgets.number(totals["gpu_hours"], 0)
    # with Prometheus' history or, without it, history rebuilt from pods: never "no data"
    assert totals["cpu_hours"] > 0 and totals["gpu_hours"] > 0
    assert not any("No cluster samples" in t for t in texts(at.info))


def cluster_database(
    synced_world, tmp_path, rows: list[dict[str, object]], **cluster: object
) -> Path:
    """An org file like the synced world's over a database holding only these cluster samples."""
    url = f"sqlite:///{tmp_path / 'cluster.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(models.ClusterSample.__table__.insert(), rows)
    engine.dispose()
    data = yaml.safe_load(Path(synced_world.config_path).read_text())
    data["database"] = {"url": url}
    data["sources"]["cluster"] = {**data["sources"]["cluster"], "prometheus_url": None, **cluster}
    path = tmp_path / "teamtide.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cluster_row(at: dt.datetime, origin: str, pending: int | None) -> dict[str, object]:
    return {
        "at": at, "namespace": "ds-vision", "team": "Research", "cpu_requested": 4.0,
        "memory_requested": float(16 << 30), "gpu_requested": 1.0, "pods_running": 1,
        "pods_pending": pending, "gpu_pods_pending": pending, "origin": origin,
    }  # fmt: skip


def test_cluster_says_which_hours_are_rebuilt_from_pods_and_that_waits_are_not_known(
    run_page, synced_world, tmp_path
):
    first = dt.datetime(2025, 6, 16, 12, 0, tzinfo=dt.UTC)
    snapshot = dt.datetime(2025, 6, 30, 0, 0, tzinfo=dt.UTC)
    hours = (snapshot - first) // dt.timedelta(hours=1)
    rows = [
        cluster_row(first + dt.timedelta(hours=h), "pod_history", None) for h in range(hours)
    ] + [cluster_row(snapshot, "snapshot", 0)]
    config = cluster_database(synced_world, tmp_path, rows)
    at = run_page(config, "cluster", **QUERY)
    no_exception(at)
    assert not any("No cluster samples" in t for t in texts(at.info))  # there is data
    # rebuilt hours x 1 GPU, from 12:00 UTC on Monday 16 June to the window's end, Sunday
    # 29 June 24:00 in Dublin (23:00 UTC): 323 hours
    assert metric(at, "GPU-hours requested") == widgets.number(323.0, 0)
    assert metric(at, "GPU pod-hours pending") == widgets.DASH  # not known, not 0
    (note,) = [t for t in texts(at.caption) if "rebuilt from the pods" in t]
    assert "16 Jun 2025 13:00" in note and "30 Jun 2025 01:00" in note  # org time (Dublin)
    assert "no Prometheus is configured" in note
    assert "pending time" in note and "not known before 30 Jun 2025 01:00" in note
    assert "adds a sample every run (every 5 minutes" in note
    # the two rebuilt weeks alone: no week says how long pods waited, so no chart of it
    rebuilt = run_page(config, "cluster", **{"from": "2025-06-16", "to": "2025-06-29"})
    no_exception(rebuilt)
    assert any("not known in this period" in t for t in texts(rebuilt.caption))
    assert len(rebuilt.get("plotly_chart")) == 2  # CPU and GPU requested


def test_cluster_says_when_a_history_of_live_samples_starts(run_page, synced_world, tmp_path):
    start = dt.datetime(2025, 6, 20, 9, 0, tzinfo=dt.UTC)
    rows = [cluster_row(start + dt.timedelta(minutes=5 * k), "snapshot", 1) for k in range(24)]
    config = cluster_database(synced_world, tmp_path, rows)
    at = run_page(config, "cluster", **QUERY)
    no_exception(at)
    (note,) = [t for t in texts(at.caption) if "history starts" in t]
    assert "starts on 20 Jun 2025 10:00" in note and "nothing earlier is known" in note
    assert "adds a sample every run (every 5 minutes, `schedule.cluster`)" in note
    assert metric(at, "GPU pod-hours pending") == widgets.number(2.0, 0)  # 24 x 5 min, 1 pod
    # the weeks before it are not known, not zero: the table (and charts) start with its week
    (usage,) = [d.value for d in at.dataframe if {"week", "cpu_hours"} <= set(d.value.columns)]
    assert pd.to_datetime(usage["week"]).min() == pd.Timestamp(2025, 6, 16)
    # a window after the history began says nothing of it
    later = run_page(config, "cluster", **{"from": "2025-06-23", "to": "2025-06-29"})
    assert not [t for t in texts(later.caption) if "history starts" in t]


def test_reorg_says_what_changed_in_plain_words(run_page, synced_world, expected):
    reorg = expected.report["reorgs"][0]
    row = next(
        r
        for r in reorg["comparisons"]
        if r["team"] == "(all)" and r["metric"] == "support_resolution_hours"
    )
    at = run_page(synced_world.config_path, "reorg", **QUERY)
    no_exception(at)
    line = next(t for t in texts(at.markdown) if "support resolution p50" in t)
    low, high = row["ci95"]
    if low <= 0 <= high:
        assert "no detectable change" in line
    else:
        verb = "fell" if row["change"] < 0 else "rose"
        assert f"{verb} {abs(row['change']):.0%}" in line
    # The org-wide trend across both periods (cycle time, support resolution) and the intervals.
    assert len(at.get("plotly_chart")) >= 3


def test_health_counts_the_streams(run_page, synced_world):
    from db import queries
    from db.session import make_engine, session_scope

    engine = make_engine(synced_world.db_url, readonly=True)
    with session_scope(engine) as session:
        streams = len(queries.sync_states(session))
    engine.dispose()
    at = run_page(synced_world.config_path, "health", **QUERY)
    no_exception(at)
    assert metric(at, "Streams") == str(streams)


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_database_gives_a_helpful_message(run_page, empty_config, page):
    at = run_page(empty_config, page)
    no_exception(at)
    shown = " ".join(texts(at.info))
    assert "teamtide sync" in shown, shown


@pytest.mark.parametrize("page", ["overview", "allocation", "turnaround", "support", "flood"])
def test_a_team_with_no_data_says_so(run_page, ghost_config, page):
    at = run_page(ghost_config, page, team="Ghost", **QUERY)
    no_exception(at)
    assert any("Ghost has no data" in t for t in texts(at.info)), texts(at.info)


def test_reorg_for_a_team_with_no_data_says_so(run_page, ghost_config):
    at = run_page(ghost_config, "reorg", team="Ghost", **QUERY)
    no_exception(at)
    assert any("has no data" in t for t in texts(at.info))


def test_every_table_has_a_csv_download(run_page, people_config):
    for page in PAGES:
        at = run_page(people_config, page, **QUERY)
        downloads = [b for b in at.get("download_button")]
        assert len(downloads) >= len(at.dataframe), page


def test_source_text_is_never_rendered_as_html(run_page, people_config):
    # Tables show Jira and GitHub text as text; no markdown block carries it.
    at = run_page(people_config, "support", **QUERY)
    summaries = next(d.value for d in at.dataframe if "summary" in d.value.columns)["summary"]
    assert isinstance(summaries, pd.Series) and summaries.notna().any()
    rendered = " ".join(texts(at.markdown))
    assert not any(isinstance(s, str) and s and s in rendered for s in summaries)
    for path in (DASHBOARD / "views").glob("*.py"):
        if path.name != "reports.py":
            assert "unsafe_allow_html" not in path.read_text(), path
    assert "unsafe_allow_html" not in (DASHBOARD / "widgets.py").read_text()


def test_chart_hover_text_from_the_sources_is_escaped():
    assert charts.safe_text(["<img src=x onerror=alert(1)>", None]) == [
        "&lt;img src=x onerror=alert(1)&gt;",
        "",
    ]


def test_the_drill_down_lists_the_items_behind_one_weeks_category(
    run_page, people_config, expected
):
    at = run_page(people_config, "allocation", **QUERY)
    at.selectbox(key="drill-team").select("Infra").run()
    at.selectbox(key="drill-category").select("Infrastructure").run()
    week = at.selectbox(key="drill-week").options[2]  # the second-latest week
    at.selectbox(key="drill-week").select(week).run()
    no_exception(at)
    monday = dt.datetime.strptime(week, "week of %d %b %Y").date().isoformat()
    fte = next(
        w["fte"]["Infrastructure"]
        for w in expected.team("Infra")["allocation"]["weekly"]
        if w["week"] == monday
    )
    items = next(d.value for d in at.dataframe if "key" in d.value.columns)
    assert set(items["category"]) == {"Infrastructure"}
    # The items of that week add up to the FTE the area chart shows for it.
    assert items["fte"].sum() == pytest.approx(fte)


def test_a_lead_sees_the_people_of_their_own_team_only(run_page, lead_config):
    at = run_page(lead_config, "allocation", **QUERY)
    no_exception(at)
    assert at.selectbox(key="drill-team").options == ["Enablement"]
    at = run_page(lead_config, "turnaround", **QUERY)
    wip = next(d.value for d in at.dataframe if "age_days" in d.value.columns)
    assert set(wip["team"]) == {"Enablement"}
    at = run_page(lead_config, "flood", **QUERY)
    people = [d.value for d in at.dataframe if "person" in d.value.columns]
    assert people and all(set(frame["team"]) == {"Enablement"} for frame in people)


def test_a_team_without_members_in_the_period_is_named_in_one_line_not_drawn(
    run_page, synced_world
):
    config = load_config(synced_world.config_path)
    after = config.org.reorgs[0].date + dt.timedelta(days=7)  # Squad is gone by then
    gone = sorted(set(config.team_names()) - config.staffed_teams(after, END))
    assert gone == ["Squad"]
    query = {"from": after.isoformat(), "to": END.isoformat()}
    for page in ("overview", "allocation", "turnaround", "flood", "support"):
        at = run_page(synced_world.config_path, page, **query)
        no_exception(at)
        line = [t for t in texts(at.caption) if t.startswith("No members in this period")]
        assert len(line) == 1 and "Squad" in line[0], page
        drawn = texts(at.subheader) + texts(at.header)
        assert "Squad" not in drawn and not any("Squad has no data" in t for t in texts(at.info))
    # The Reorg page still compares the team before and after.
    at = run_page(synced_world.config_path, "reorg", **query)
    assert not [t for t in texts(at.caption) if t.startswith("No members in this period")]


def test_data_health_names_unmapped_accounts_only_where_person_level_views_are_on(
    run_page, synced_world, people_config
):
    shown = run_page(people_config, "health", **QUERY)  # a director, person-level on
    tables = [d.value for d in shown.dataframe]
    accounts = next(t for t in tables if "account" in t.columns or "value" in t.columns)
    names = {str(v) for v in accounts.to_numpy().ravel()} - {"", "None", "nan"}
    assert names
    hidden = run_page(synced_world.config_path, "health", **QUERY)  # the defaults: aggregates
    text = " ".join(texts(hidden.markdown) + texts(hidden.info) + texts(hidden.caption))
    for frame in hidden.dataframe:
        text += frame.value.to_csv()
    leaked = [n for n in names if n in text and len(n) > 3 and n not in {"jira", "github"}]
    assert leaked == []
