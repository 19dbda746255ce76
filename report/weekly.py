"""The weekly report: its figures from the metrics, headline sentences, and its HTML, text, Markdown and webhook forms.

`figures()` reads everything the report says through `metrics.reading` (and the
cluster metrics), as one JSON-ready dict that is stored in `reports.summary`; every
form is then rendered from that dict alone, so a report re-rendered after a restart
is the report that was first sent. Text taken from the sources (names, sync errors)
is escaped in the HTML and Markdown: it is never markup.

The org section is the metrics' `org` block (each member of any team once), shown like
a team's: allocation, turnaround with trend arrows, support opened / resolved /
breaching, load. Figures stored before that block existed render as they were sent,
with the org totals summed over teams.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from config.schema import Config
from db import queries
from db.cluster_queries import cluster_frames
from metrics import reading
from metrics.cluster import cluster_weekly
from metrics.summary import summary_from_facts
from metrics.weeks import widen
from report import charts

log = logging.getLogger(__name__)

HISTORY_WEEKS = 12  # the load baseline, the streaks and the charts look back a quarter
COMPARE_WEEKS = 4  # "this week against the four weeks before"
FRESH_FOR = dt.timedelta(hours=6)  # as the Data health page: older than this is stale
SOURCE_NAMES = {"jira": "Jira", "github": "GitHub", "cluster": "the cluster"}
TURNAROUND = (
    ("cycle_time_hours", "Cycle time"),
    ("pr_first_review_hours", "PR time to first review"),
)
SUPPORT = (
    ("first_response_hours", "Support first response"),
    ("resolution_hours", "Support resolution"),
)
IN_A_SENTENCE = {
    "Cycle time": "cycle time",
    "PR time to first review": "PR time to first review",
    "Support first response": "support first response",
    "Support resolution": "support resolution",
}
TREND_THRESHOLD = 0.10  # a change of the p85 under 10% is shown as steady
HEADLINE_CHANGE = 0.25  # ... and one of 25% or more may make a headline
HEADLINE_SHARE_POINTS = 10.0
HEADLINE_MIN_SAMPLES = 3  # a p85 of fewer items is noise, not news
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


# --- weeks --------------------------------------------------------------------------------


def parse_week(value: str) -> dt.date:
    """The Monday of an ISO week written `YYYY-Www` (e.g. 2025-W26)."""
    found = WEEK_RE.match(value.strip())
    if not found:
        raise ValueError(f"{value!r} is not an ISO week: write YYYY-Www, e.g. 2025-W26")
    year, week = int(found[1]), int(found[2])
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{value!r}: {year} has no ISO week {week}") from None


def week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: dt.datetime, config: Config) -> dt.date:
    """The Monday of the last ISO week (org timezone) that has ended by `now`."""
    today = now.astimezone(config.org.tz).date()
    return today - dt.timedelta(days=today.weekday() + 7)


# --- figures ------------------------------------------------------------------------------


def figures(conn: Connection, config: Config, monday: dt.date, now: dt.datetime) -> dict[str, Any]:
    """Everything the report for the week of `monday` says, as plain JSON (see module docstring).

    Three windows of `compute`: the week itself, the `COMPARE_WEEKS` before it, and the
    `HISTORY_WEEKS` ending with it (load states, streaks, charts); one read of the
    database serves all three.
    """
    sunday = monday + dt.timedelta(days=6)
    before_start = monday - dt.timedelta(weeks=COMPARE_WEEKS)
    history_start = monday - dt.timedelta(weeks=HISTORY_WEEKS - 1)
    facts = reading.facts(conn, config, history_start, sunday, now)
    this = summary_from_facts(facts, monday, sunday, None)
    before = summary_from_facts(facts, before_start, monday - dt.timedelta(days=1), None)
    history = summary_from_facts(facts, history_start, sunday, None)
    teams = [t["team"] for t in this["teams"]]
    window = widen(history_start, sunday, config.org.timezone)
    cluster = cluster_weekly(
        cluster_frames(conn, window.start.to_pydatetime(), window.end.to_pydatetime()),
        window,
        now,
        teams,
    )["usage"]
    with Session(bind=conn) as session:
        states = queries.sync_states(session)
    return {
        "period": week_label(monday),
        "from": this["from"],
        "to": this["to"],
        "timezone": this["timezone"],
        "now": this["now"],
        "categories": this["categories"],
        "flood_factor": config.load.flood_factor,
        "drought_factor": config.load.drought_factor,
        "reorgs": [
            {"date": r.date.isoformat(), "name": r.name}
            for r in config.org.reorgs
            if history_start <= r.date <= sunday
        ],
        "teams": [
            _team_figures(
                t,
                before["teams"][i],
                history["teams"][i],
                _gpu_by_week(cluster[cluster["team"] == t["team"]]),
                monday,
                this["categories"],
            )
            for i, t in enumerate(this["teams"])
        ],
        # the whole org, from the metrics' own org block (each member counted once), not
        # sums of the teams: percentiles do not add up, and a person in two teams would
        # count twice; GPU waits over every namespace of the cluster, a team's or not
        "org": {
            **_team_figures(
                this["org"],
                before["org"],
                history["org"],
                _gpu_by_week(cluster),
                monday,
                this["categories"],
            ),
            "teams": this["org"]["teams"],
        },
        "unassigned_support_requests": this["unassigned_support_requests"],
        "freshness": _freshness(config, states, now, sunday),
    }


def _gpu_by_week(usage: pd.DataFrame) -> dict[dt.date, float]:
    """GPU pending pod-hours per week (Monday) over the given `team_usage` rows."""
    return usage.groupby("week")["gpu_pending_pod_hours"].sum().to_dict()


def _team_figures(
    this: dict[str, Any],
    before: dict[str, Any],
    history: dict[str, Any],
    gpu: dict[dt.date, float],
    monday: dt.date,
    categories: list[str],
) -> dict[str, Any]:
    """One team's figures (or the org's, from the metrics' `org` blocks)."""
    team = this["team"]
    weeks = history["load"]["weekly"]
    week = weeks[-1] if weeks else {"load": None, "state": None, "members": 0}
    earlier = [monday - dt.timedelta(weeks=k) for k in range(COMPARE_WEEKS, 0, -1)]
    alloc, alloc_before = this["allocation"], before["allocation"]
    return {
        "team": team,
        "members": week["members"] or 0,
        "allocation": [
            {
                "category": c,
                "fte": alloc["fte"][c],
                "share": alloc["share"][c],
                "fte_before": alloc_before["fte"][c],
                "share_before": alloc_before["share"][c],
            }
            for c in categories
        ],
        "unplanned_share": alloc["unplanned_share"],
        "unplanned_share_before": alloc_before["unplanned_share"],
        "turnaround": {
            key: {
                "this": _pcts(this["turnaround"][key]),
                "before": _pcts(before["turnaround"][key]),
            }
            for key, _ in TURNAROUND
        },
        "support": {
            "opened": this["support"]["opened"],
            # done this week, whenever opened (so it can exceed `opened`)
            "resolved": this["support"]["resolved"],
            "open": this["support"]["open"],
            # the org's only: requests nobody is assigned, served by no team
            "unassigned": this["support"].get("unassigned"),
            "sla_breach_rate": this["support"]["sla_breach_rate"],
            "sla_breach_rate_before": before["support"]["sla_breach_rate"],
            **{
                key: {
                    "this": _pcts(this["support"][key]),
                    "before": _pcts(before["support"][key]),
                }
                for key, _ in SUPPORT
            },
        },
        "load": {
            "load": week["load"],
            "state": week["state"],
            "streak": _streak([w["state"] for w in weeks]),
            "baseline": history["load"]["baseline"],
            "weekly": [{"week": w["week"], "load": w["load"], "state": w["state"]} for w in weeks],
        },
        "allocation_weekly": [
            {"week": w["week"], "fte": w["fte"]} for w in history["allocation"]["weekly"]
        ],
        "gpu_pending_hours": float(gpu.get(monday, 0.0)),
        "gpu_pending_hours_before": [float(gpu.get(d, 0.0)) for d in earlier],
    }


def _pcts(block: dict[str, Any]) -> dict[str, Any]:
    return {"n": block["n"], "p50": block["p50"], "p85": block["p85"]}


def _streak(states: Sequence[str | None]) -> int:
    """How many weeks in a row, up to the last, have the last week's state."""
    if not states or states[-1] is None:
        return 0
    run = 0
    for state in reversed(states):
        if state != states[-1]:
            break
        run += 1
    return run


def _freshness(
    config: Config, states: list[queries.StreamStatus], now: dt.datetime, sunday: dt.date
) -> list[dict[str, Any]]:
    """Per configured source: when it last synced in full, and what is wrong if anything is."""
    week_end = dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time.min, config.org.tz)
    out = []
    for source, label in SOURCE_NAMES.items():
        if getattr(config.sources, source) is None:
            continue
        mine = [s for s in states if s.source == source]
        # the stalest stream (or repository) is what the source's figures can be trusted to
        successes = [s.last_success for s in mine]
        last = None if not mine or None in successes else min(successes)  # type: ignore[type-var]
        errors = [s.last_error for s in mine if s.last_error]
        if last is None:
            problem = "has never synced completely"
        elif errors:
            problem = f"failed on its last sync ({errors[0][:200]})"
        elif now - last <= FRESH_FOR:
            problem = None
        elif last < week_end <= now:
            problem = f"last synced on {last:%d %b %Y %H:%M} UTC, before this week ended"
        else:
            problem = f"has not synced for {_age(now - last)}"
        out.append(
            {
                "source": label,
                "last_success": last.isoformat() if last else None,
                "problem": problem,
            }
        )
    return out


def _age(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"


# --- words and numbers --------------------------------------------------------------------


def hours(value: float | None) -> str:
    """A duration for people: hours under two days, else days."""
    if value is None:
        return "–"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def fte(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def signed(value: float, unit: str = "", digits: int = 1) -> str:
    if round(value, digits) == 0:
        return f"±0{unit}"
    return f"{value:+.{digits}f}{unit}"


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def change(now: float | None, before: float | None) -> float | None:
    """Relative change of a figure against its earlier value (None when either is missing)."""
    if now is None or before is None or before == 0:
        return None
    return now / before - 1


@dataclass(frozen=True)
class Trend:
    arrow: str  # ↑ ↓ → or – (nothing to compare)
    change: float | None
    worse: bool | None  # for durations, up is worse

    def words(self) -> str:
        if self.change is None:
            return "–"
        return f"{self.arrow} {abs(self.change) * 100:.0f}%" if self.arrow != "→" else "→ steady"


def trend(now: float | None, before: float | None) -> Trend:
    rel = change(now, before)
    if rel is None:
        return Trend("–", None, None)
    if abs(rel) < TREND_THRESHOLD:
        return Trend("→", rel, None)
    return Trend("↑" if rel > 0 else "↓", rel, rel > 0)


def gpu_before(team: dict[str, Any]) -> float:
    """The four weeks before as a weekly average, to compare with one week."""
    values = team["gpu_pending_hours_before"]
    return sum(values) / len(values) if values else 0.0


def active(team: dict[str, Any]) -> bool:
    """A team worth a section: it had members or work this week or in the weeks before."""
    return bool(team["members"]) or any(
        row["fte"] or row["fte_before"] for row in team["allocation"]
    )


def state_words(team: dict[str, Any]) -> str:
    load = team["load"]
    if load["state"] is None:
        return "no members"
    if load["state"] == "normal":
        return f"normal ({ordinal(load['streak'])} week)"
    return f"{load['state']} ({ordinal(load['streak'])} week)"


# --- headlines ----------------------------------------------------------------------------


def headlines(figs: dict[str, Any], limit: int = 5, least: int = 3) -> list[str]:
    """Three to five sentences, the most pressing first, each computed from the figures.

    The whole org's figures (`figs["org"]`, absent from reports stored before it existed)
    make headlines of their own, on the same thresholds and scores as a team's, where a
    team's headline does not already say the same thing (the same measure or allocation
    category moving the same way, or SLA breaches). When one does, the org's sentence is
    the same figure again (one active team) and is dropped, or a summary of the teams'
    news (several) and comes after every other headline: it never crowds out team news.
    """
    found: list[_Headline] = []
    stale: dict[str, list[str]] = {}
    for source in figs["freshness"]:
        if source["problem"]:
            stale.setdefault(source["problem"], []).append(source["source"])
    for problem, sources in stale.items():
        # one sentence per problem, so three stale sources leave room for the news
        verb = problem if len(sources) == 1 else problem.replace("has ", "have ", 1)
        their = "its" if len(sources) == 1 else "their"
        sentence = f"{_names(sources)} {verb}: {their} figures may be out of date."
        found.append(_Headline(100, _sentence(sentence)))
    teams = [t for t in figs["teams"] if active(t)]
    for team in teams:
        found.extend(_team_headlines(team))
    restated: list[_Headline] = []
    if figs.get("org"):
        said = {h.topic for h in found if h.topic}
        for line in _figure_headlines(figs["org"], ORG_VOICE):
            if line.topic not in said:
                found.append(line)
            elif len(teams) > 1:
                restated.append(line)
    lines = [_sentence(sentence) for sentence in _varied(found, limit)]
    lines += [_sentence(sentence) for sentence in _varied(restated, limit - len(lines))]
    for sentence in _steady_lines(figs, teams):
        if len(lines) >= least:
            break
        lines.append(sentence)
    return lines


@dataclass(frozen=True)
class _Headline:
    score: float  # its tens are its kind (see `_varied`), the rest how pressing it is
    sentence: str
    # what it says, whoever it is about (measure and direction, say): how an org headline
    # that restates a team's is recognised; empty for what only a team or source can say
    topic: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Voice:
    """How a headline names whose figure moved: a team's, or the whole org's.

    Each is a `str.format` template; the names in braces are filled in by the sentence.
    """

    measure: str  # {name}, {measure}: "Infra's cycle time"
    share: str  # {name}, {share}, {category}: "Infra spent 40% of its time on ..."
    breached: str  # {name}, {some}: "3 of the 8 support requests Infra took on"


TEAM_VOICE = _Voice(
    measure="{name}'s {measure}",
    share="{name} spent {share} of its time on {category}",
    breached="{some} {name} took on this week",
)
ORG_VOICE = _Voice(
    measure="across the org, {measure}",
    share="across the org, {share} of the time went to {category}",
    breached="across the org, {some} the teams took on this week",
)


def _varied(found: list[_Headline], limit: int) -> list[str]:
    """The best sentence of each kind first (a kind: its score's tens), then the rest by score.

    Four turnaround changes should not crowd out the one allocation move. Of equal
    scores, the one found first comes first.
    """
    seen: set[int] = set()
    first, rest = [], []
    for line in sorted(found, key=lambda h: -h.score):
        kind = int(line.score // 10)
        (rest if kind in seen else first).append(line.sentence)
        seen.add(kind)
    return (first + rest)[:limit]


def _team_headlines(team: dict[str, Any]) -> list[_Headline]:
    """A team's headlines: its load, the figures a team and the org share, its GPU waits."""
    name, load, out = team["team"], team["load"], []
    if load["state"] in ("flood", "drought"):
        streak = load["streak"]
        when = "this week" if streak == 1 else f"for the {ordinal(streak)} week running"
        verb = "went into" if streak == 1 else "is in"
        out.append(
            _Headline(
                60 + min(streak, 9),
                f"{name} {verb} a {load['state']} {when} "
                f"(load {load['load']:.2f} per person against a baseline of {load['baseline']:.2f}).",
            )
        )
    states = [w["state"] for w in load["weekly"]]
    if len(states) >= 2 and states[-1] == "normal" and states[-2] in ("flood", "drought"):
        ended = _streak(states[:-1])
        weeks = "week" if ended == 1 else f"{ended} weeks"
        out.append(_Headline(50, f"{name}'s {states[-2]} ended this week, after {weeks}."))
    out += _figure_headlines(team, TEAM_VOICE)
    gpu, usual = team["gpu_pending_hours"], gpu_before(team)
    if gpu >= 10 and gpu >= 2 * usual:
        out.append(
            _Headline(
                15,
                f"{name}'s GPU pods waited {gpu:.0f} pod-hours for capacity, "
                f"against {usual:.0f} a week before.",
            )
        )
    return out


def _figure_headlines(fig: dict[str, Any], voice: _Voice) -> list[_Headline]:
    """Turnaround, support and allocation headlines of a team's or the org's figures."""
    name, out = fig["team"], []
    blocks = [(key, fig["turnaround"][key], label) for key, label in TURNAROUND]
    blocks += [(key, fig["support"][key], label) for key, label in SUPPORT]
    for key, block, label in blocks:
        now, before = block["this"], block["before"]
        rel = change(now["p85"], before["p85"])
        if rel is None or abs(rel) < HEADLINE_CHANGE or now["n"] < HEADLINE_MIN_SAMPLES:
            continue
        verb = "rose" if rel > 0 else "fell"
        whose = voice.measure.format(name=name, measure=IN_A_SENTENCE[label])
        out.append(
            _Headline(
                30 + min(abs(rel) * 5, 9.9),
                f"{whose} p85 {verb} {abs(rel) * 100:.0f}% "
                f"({hours(now['p85'])}, against {hours(before['p85'])} over the four weeks before).",
                ("p85", key, verb),
            )
        )
    for row in fig["allocation"]:
        if row["share"] is None or row["share_before"] is None:
            continue
        points = (row["share"] - row["share_before"]) * 100
        if abs(points) >= HEADLINE_SHARE_POINTS:
            way = "up" if points > 0 else "down"
            spent = voice.share.format(
                name=name, share=percent(row["share"]), category=row["category"]
            )
            out.append(
                _Headline(
                    20 + min(abs(points) / 10, 9.9),
                    f"{spent}, {way} {abs(points):.0f} points on the four weeks before.",
                    ("share", row["category"], way),
                )
            )
    support = fig["support"]
    rate = support["sla_breach_rate"]
    if rate is not None and rate >= 0.25 and support["opened"] >= 2:
        breached = voice.breached.format(
            name=name, some=some_of(round(rate * support["opened"]), support["opened"])
        )
        out.append(_Headline(40 + rate * 9.9, f"{breached} breached their SLA.", ("sla",)))
    return out


def _steady_lines(figs: dict[str, Any], teams: list[dict[str, Any]]) -> list[str]:
    """Calm facts to open with when nothing stands out."""
    lines = []
    normal = [t["team"] for t in teams if t["load"]["state"] == "normal"]
    if normal:
        lines.append(f"Load is within its normal range for {_names(normal)}.")
    org = figs.get("org")
    if org:  # each request once, even when its person was in two teams
        opened, still = org["support"]["opened"], org["support"]["open"]
    else:
        opened = sum(t["support"]["opened"] for t in teams)
        still = sum(t["support"]["open"] for t in teams)
    opened += figs["unassigned_support_requests"]
    lines.append(opened_words(opened, still))
    done = [t for t in teams if t["turnaround"]["cycle_time_hours"]["this"]["n"]]
    for t in done:
        cycle = t["turnaround"]["cycle_time_hours"]["this"]
        lines.append(
            f"{t['team']} finished {cycle['n']} items with a median cycle time of {hours(cycle['p50'])}."
        )
    if not teams:
        lines.append("No team had members or tracked work this week.")
    if not figs["freshness"]:
        lines.append("No source is configured in the org file, so these figures cover nothing yet.")
    elif not any(s["problem"] for s in figs["freshness"]):
        lines.append(
            f"Every source synced within the last {FRESH_FOR.total_seconds() / 3600:.0f} hours."
        )
    return lines


def some_of(part: int, whole: int, noun: str = "support request") -> str:
    """'3 of the 8 support requests', 'all 2 support requests', 'the one support request'."""
    if whole == 1:
        return f"the one {noun}" if part else f"no {noun}"
    if part == whole:
        return f"all {whole} {noun}s"
    return f"{part} of the {whole} {noun}s"


def opened_words(opened: int, still: int) -> str:
    """How many support requests the week opened, and how many of them are still open."""
    if opened == 0:
        return "No support requests were opened this week."
    if opened == 1:
        return f"1 support request was opened this week; it is {'still open' if still else 'resolved'}."
    left = "none" if still == 0 else str(still)
    return f"{opened} support requests were opened this week; {left} of them {'is' if still == 1 else 'are'} still open."


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- charts -------------------------------------------------------------------------------

CHART_WIDTH = 640


def figure_charts(figs: dict[str, Any]) -> dict[str, go.Figure]:
    """The dashboard's own charts for the report, by name (ordered as the report shows them)."""
    reorgs = [(dt.date.fromisoformat(r["date"]), r["name"]) for r in figs["reorgs"]]
    teams = [t for t in figs["teams"] if active(t)]
    out: dict[str, go.Figure] = {}
    strip = pd.DataFrame(
        [
            {"team": t["team"], "week": pd.Timestamp(w["week"]), "state": w["state"] or "no data"}
            for t in teams
            for w in t["load"]["weekly"]
        ],
        columns=["team", "week", "state"],
    )
    if len(strip):
        out["states"] = _sized(
            charts.state_strip(strip, f"Flood and drought, last {HISTORY_WEEKS} weeks"), None
        )
    for i, team in enumerate(teams):
        weekly = pd.DataFrame(
            [
                {"period": pd.Timestamp(w["week"]), "category": c, "fte": v}
                for w in team["allocation_weekly"]
                for c, v in w["fte"].items()
            ],
            columns=["period", "category", "fte"],
        )
        out[f"allocation-{i}"] = _sized(
            charts.allocation_area(weekly, f"{team['team']}: where the time went (FTE)", reorgs),
            330,
        )
        load = pd.DataFrame(
            [
                {"week": pd.Timestamp(w["week"]), "load": w["load"], "state": w["state"]}
                for w in team["load"]["weekly"]
            ],
            columns=["week", "load", "state"],
        )
        out[f"load-{i}"] = _sized(
            charts.load_chart(
                load,
                team["load"]["baseline"],
                figs["flood_factor"],
                figs["drought_factor"],
                f"{team['team']}: load (work in progress per person)",
                reorgs,
            ),
            240,
        )
    return out


def team_charts(figs: dict[str, Any], team_index: int) -> list[str]:
    return [f"allocation-{team_index}", f"load-{team_index}"]


def _sized(fig: go.Figure, height: int | None) -> go.Figure:
    # a mail client shows images at a fixed width: size them for it, not for a browser
    fig.update_layout(width=CHART_WIDTH, font={"family": "Helvetica, Arial, sans-serif"})
    fig.update_xaxes(
        tickformat="%d %b"
    )  # one line per tick: a second line collides with the legend
    if height:
        fig.update_layout(height=height)
    return fig


@dataclass(frozen=True)
class Images:
    png: dict[str, bytes]
    seconds: float  # wall time of the whole batch, browser start included
    error: str | None = None  # why there are none, when drawing failed


def render_images(figs: dict[str, go.Figure], scale: float = 2.0) -> Images:
    """Every chart as PNG in one Chromium session (kaleido 1.x): a browser start costs seconds."""
    started = time.perf_counter()
    if not figs:
        return Images({}, 0.0)
    result: dict[str, bytes] = {}

    async def batch() -> None:
        from kaleido import Kaleido

        # mathjax off: the charts have no formulas, and fetching it from a CDN is not allowed here
        async with Kaleido(n=1, mathjax=False) as k:
            for name, fig in figs.items():
                layout = fig.layout
                opts = {
                    "format": "png",
                    "width": layout.width or CHART_WIDTH,
                    "height": layout.height or 300,
                    "scale": scale,
                }
                result[name] = await k.calc_fig(fig, opts=opts)

    try:
        _run_async(batch)
    except Exception as exc:
        # A report without charts beats no report: it says so, and the log says why.
        log.warning("the report's charts could not be drawn: %s: %s", type(exc).__name__, exc)
        return Images({}, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"[:300])
    return Images(result, time.perf_counter() - started)


def _run_async(coroutine: Callable[[], Any]) -> None:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine())
        return
    failure: list[BaseException] = []

    def worker() -> None:
        try:
            asyncio.run(coroutine())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


# --- the forms ----------------------------------------------------------------------------


def ordered_teams(figs: dict[str, Any], first_team: str | None = None) -> list[tuple[int, dict]]:
    """(chart index, team) for the teams with a section; `first_team` (a lead's) first."""
    teams = list(enumerate(t for t in figs["teams"] if active(t)))
    if first_team:
        teams.sort(key=lambda pair: pair[1]["team"] != first_team)
    return teams


def idle_teams(figs: dict[str, Any]) -> list[str]:
    return [t["team"] for t in figs["teams"] if not active(t)]


def days(figs: dict[str, Any]) -> str:
    start, end = dt.date.fromisoformat(figs["from"]), dt.date.fromisoformat(figs["to"])
    return f"{start:%d %b} – {end:%d %b %Y}"


def title(figs: dict[str, Any]) -> str:
    return f"teamtide weekly report, {figs['period']} ({days(figs)})"


def subject(figs: dict[str, Any], lines: list[str]) -> str:
    first = lines[0].rstrip(".") if lines else "the week in figures"
    return f"teamtide {figs['period']}: {first}"


ORG_NAME = "Whole org"


def org_rows(figs: dict[str, Any]) -> list[dict[str, str]]:
    """One row per team for the overview table, then the whole org's (display strings)."""
    rows = [_overview_row(t["team"], t) for _, t in ordered_teams(figs)]
    if figs.get("org"):  # a report stored before the org figures existed has none
        rows.append(_overview_row(ORG_NAME, figs["org"]))
    return rows


def _overview_row(name: str, t: dict[str, Any]) -> dict[str, str]:
    cycle = t["turnaround"]["cycle_time_hours"]
    review = t["turnaround"]["pr_first_review_hours"]
    return {
        "Team": name,
        "Load": state_words(t),
        "FTE": fte(sum(r["fte"] for r in t["allocation"])),
        "Cycle p85": f"{hours(cycle['this']['p85'])} {trend(cycle['this']['p85'], cycle['before']['p85']).arrow}",
        "PR review p85": f"{hours(review['this']['p85'])} {trend(review['this']['p85'], review['before']['p85']).arrow}",
        "Support opened / resolved": f"{t['support']['opened']} / {_resolved(t['support'])}",
        "SLA breached": percent(t["support"]["sla_breach_rate"]),
        "GPU pending h": f"{t['gpu_pending_hours']:.0f}",
    }


def _resolved(support: dict[str, Any]) -> int:
    # reports stored before `resolved` existed counted those of the week's opened now closed
    if support.get("resolved") is None:
        return int(support["opened"] - support["open"])
    return int(support["resolved"])


def org_facts(figs: dict[str, Any]) -> list[str]:
    """The whole org in sentences: its FTE, load, support, unplanned share and GPU waits."""
    org = figs.get("org")
    if not org:  # a stored report from before the org figures: the old sums over teams
        return _summed_org_facts(figs)
    spent = ", ".join(f"{r['category']} {fte(r['fte'])}" for r in org["allocation"] if r["fte"])
    total = sum(r["fte"] for r in org["allocation"])
    unassigned = org["support"]["unassigned"] or 0
    return [
        f"FTE this week: {fte(total)} ({spent or 'nothing tracked'}).",
        *team_facts(org),
        (
            f"Unassigned: {unassigned} support request opened this week has nobody assigned, "
            "so no team serves it and it is not in the figures above."
            if unassigned == 1
            else f"Unassigned: {unassigned} support requests opened this week have nobody "
            "assigned, so no team serves them and they are not in the figures above."
        ),
    ]


def _summed_org_facts(figs: dict[str, Any]) -> list[str]:
    teams = [t for _, t in ordered_teams(figs)]
    by_category: dict[str, float] = {}
    for t in teams:
        for row in t["allocation"]:
            by_category[row["category"]] = by_category.get(row["category"], 0.0) + row["fte"]
    spent = ", ".join(f"{c} {fte(v)}" for c, v in by_category.items() if v > 0)
    opened = sum(t["support"]["opened"] for t in teams)
    return [
        f"FTE this week: {fte(sum(by_category.values()))} ({spent or 'nothing tracked'}).",
        f"Support requests opened: {opened + figs['unassigned_support_requests']} "
        f"({figs['unassigned_support_requests']} unassigned), "
        f"{sum(t['support']['open'] for t in teams)} still open.",
        f"GPU pending pod-hours: {sum(t['gpu_pending_hours'] for t in teams):.0f}.",
    ]


def allocation_rows(team: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for r in team["allocation"]:
        if not (r["fte"] or r["fte_before"]):
            continue
        points = (
            signed((r["share"] - r["share_before"]) * 100, " pts", 0)
            if r["share"] is not None and r["share_before"] is not None
            else "–"
        )
        rows.append(
            {
                "Category": r["category"],
                "FTE": fte(r["fte"]),
                "Share": percent(r["share"]),
                "4 weeks before": f"{fte(r['fte_before'])} ({percent(r['share_before'])})",
                "Moved": f"{signed(r['fte'] - r['fte_before'], ' FTE')}, {points}",
            }
        )
    return rows


def turnaround_rows(team: dict[str, Any]) -> list[dict[str, str]]:
    blocks = [(team["turnaround"][k], label) for k, label in TURNAROUND]
    blocks += [(team["support"][k], label) for k, label in SUPPORT]
    rows = []
    for block, label in blocks:
        now, before = block["this"], block["before"]
        rows.append(
            {
                "Measure": label,
                "n": str(now["n"]),
                "p50": hours(now["p50"]),
                "p85": hours(now["p85"]),
                "4 weeks before p50 / p85": f"{hours(before['p50'])} / {hours(before['p85'])}",
                "Trend (p85)": trend(now["p85"], before["p85"]).words(),
            }
        )
    return rows


def team_facts(team: dict[str, Any]) -> list[str]:
    s, load = team["support"], team["load"]
    baseline = "–" if load["baseline"] is None else f"{load['baseline']:.2f}"
    now_load = "–" if load["load"] is None else f"{load['load']:.2f}"
    if s.get("resolved") is None:  # stored before `resolved`: this week's requests now closed
        done = f"{s['opened'] - s['open']} of them resolved"
    elif s["resolved"]:  # requests done this week, whenever they were opened
        done = f"{s['resolved']} resolved this week"
    else:
        done = "none resolved this week"
    return [
        f"Load: {state_words(team)}, {now_load} items in progress per person (baseline {baseline}).",
        (
            f"Support: {s['opened']} requests opened ({s['open']} of them still open), {done}; "
            f"{percent(s['sla_breach_rate'])} breached the resolution SLA "
            f"(four weeks before: {percent(s['sla_breach_rate_before'])})."
            if s["opened"]
            else f"Support: no requests opened this week, {done} "
            f"(four weeks before, {percent(s['sla_breach_rate_before'])} breached the resolution SLA)."
            if s["sla_breach_rate_before"] is not None
            else f"Support: no requests opened this week or in the four weeks before, {done}."
        ),
        f"Unplanned work: {percent(team['unplanned_share'])} of tracked time "
        f"(four weeks before: {percent(team['unplanned_share_before'])}).",
        f"GPU pods pending: {team['gpu_pending_hours']:.0f} pod-hours "
        f"(four weeks before: {gpu_before(team):.0f} a week).",
    ]


def stale_lines(figs: dict[str, Any]) -> list[str]:
    return [_sentence(f"{s['source']} {s['problem']}.") for s in figs["freshness"] if s["problem"]]


# Markdown ---------------------------------------------------------------------------------

# Inline markup only: with [ escaped no link can form, and our own text decides line starts.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def md(value: Any) -> str:
    """Source text as literal Markdown: every character that could be markup is escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def _md_table(rows: list[dict[str, str]]) -> list[str]:
    if not rows:
        return ["_nothing to show_", ""]
    heads = list(rows[0])
    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    out += ["| " + " | ".join(md(r[h]) for h in heads) + " |" for r in rows]
    return [*out, ""]


def markdown(figs: dict[str, Any], lines: list[str], first_team: str | None = None) -> str:
    out = [f"# {md(title(figs))}", ""]
    out += [f"- {md(line)}" for line in lines] + [""]
    stale = stale_lines(figs)
    if stale:
        out += ["> **Data freshness**", ">"] + [f"> - {md(s)}" for s in stale] + [""]
    out += ["## The org", ""]
    out += _md_table(org_rows(figs))
    out += [f"- {md(line)}" for line in org_facts(figs)] + [""]
    if figs.get("org"):
        out += ["**The whole org: allocation, this week against the four weeks before**", ""]
        out += _md_table(allocation_rows(figs["org"]))
        out += ["**The whole org: turnaround**", ""]
        out += _md_table(turnaround_rows(figs["org"]))
    idle = idle_teams(figs)
    if idle:
        out += [f"Teams without members or work this period: {md(', '.join(idle))}.", ""]
    for _, team in ordered_teams(figs, first_team):
        out += [f"## {md(team['team'])}", ""]
        out += [f"- {md(line)}" for line in team_facts(team)] + [""]
        out += ["**Allocation, this week against the four weeks before**", ""]
        out += _md_table(allocation_rows(team))
        out += ["**Turnaround**", ""]
        out += _md_table(turnaround_rows(team))
    out += [_footer_words(figs)]
    return "\n".join(out) + "\n"


def _footer_words(figs: dict[str, Any]) -> str:
    return (
        f"Figures as of {figs['now'][:16].replace('T', ' ')} UTC, weeks in {figs['timezone']}. "
        "Trends compare this week's p85 with the four weeks before; load states use the "
        f"median of the last {HISTORY_WEEKS} weeks as baseline."
    )


# plain text -------------------------------------------------------------------------------


def _text_table(rows: list[dict[str, str]]) -> list[str]:
    if not rows:
        return ["  (nothing to show)", ""]
    heads = list(rows[0])
    widths = [max(len(h), *(len(_plain(r[h])) for r in rows)) for h in heads]
    line = lambda cells: "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    out = [line(heads), line(["-" * w for w in widths])]
    out += [line([_plain(r[h]) for h in heads]) for r in rows]
    return [*out, ""]


def _plain(value: Any) -> str:
    # control characters from a source could rewrite a terminal: keep printable text only
    return "".join(ch for ch in str(value) if ch.isprintable())


def text(figs: dict[str, Any], lines: list[str], first_team: str | None = None) -> str:
    head = _plain(title(figs))
    out = [head, "=" * len(head), ""]
    out += [f"* {_plain(line)}" for line in lines] + [""]
    stale = stale_lines(figs)
    if stale:
        out += ["DATA FRESHNESS"] + [f"  ! {_plain(s)}" for s in stale] + [""]
    out += ["THE ORG", ""]
    out += _text_table(org_rows(figs))
    out += [f"  {_plain(line)}" for line in org_facts(figs)] + [""]
    if figs.get("org"):
        out += ["  The whole org: allocation, this week against the four weeks before"]
        out += _text_table(allocation_rows(figs["org"]))
        out += ["  The whole org: turnaround"]
        out += _text_table(turnaround_rows(figs["org"]))
    idle = idle_teams(figs)
    if idle:
        out += [f"Teams without members or work this period: {_plain(', '.join(idle))}.", ""]
    for _, team in ordered_teams(figs, first_team):
        name = _plain(team["team"]).upper()
        out += [name, "-" * len(name)]
        out += [f"  {_plain(line)}" for line in team_facts(team)] + [""]
        out += ["  Allocation, this week against the four weeks before"]
        out += _text_table(allocation_rows(team))
        out += ["  Turnaround"]
        out += _text_table(turnaround_rows(team))
    out += [_footer_words(figs)]
    return "\n".join(out) + "\n"


# HTML (e-mail) ----------------------------------------------------------------------------

FONT = "font-family:Helvetica,Arial,sans-serif;"
INK, MUTED, LINE, ACCENT = "#1f2933", "#616e7c", "#e4e7eb", "#1f3b57"
STATE_BG = {"flood": "#fde2e1", "drought": "#fff1db", "normal": "#e6f0f8"}
GOOD, BAD = "#2f855a", "#c53030"


def e(value: Any) -> str:
    """Source text as HTML text, never markup."""
    return html.escape(str(value), quote=True)


def _html_table(rows: list[dict[str, str]], colour: Callable[[str, str], str] | None = None) -> str:
    if not rows:
        return f'<p style="color:{MUTED};margin:4px 0 12px">Nothing to show.</p>'
    heads = list(rows[0])
    th = "".join(
        f'<th style="text-align:left;padding:6px 8px;border-bottom:2px solid {LINE};'
        f'font-size:12px;color:{MUTED};font-weight:600">{e(h)}</th>'
        for h in heads
    )
    body = ""
    for r in rows:
        cells = ""
        for h in heads:
            style = colour(h, r[h]) if colour else ""
            # short figures never break inside ("13.4 d ↑" on one line); names may wrap
            wrap = "white-space:nowrap;" if len(r[h]) <= 12 and h != heads[0] else ""
            cells += (
                f'<td style="padding:6px 8px;border-bottom:1px solid {LINE};font-size:13px;'
                f'{wrap}{style}">{e(r[h])}</td>'
            )
        body += f"<tr>{cells}</tr>"
    return (
        f'<table role="presentation" cellspacing="0" cellpadding="0" '
        f'style="border-collapse:collapse;width:100%;margin:4px 0 16px;{FONT}color:{INK}">'
        f"<tr>{th}</tr>{body}</table>"
    )


def _arrow_colour(head: str, value: str) -> str:
    # durations: getting longer is bad news, shorter is good
    if "↑" in value:
        return f"color:{BAD};font-weight:600"
    if "↓" in value:
        return f"color:{GOOD};font-weight:600"
    if head == "Team" and value == ORG_NAME:  # the org's row closes the overview: set it apart
        return "font-weight:600"
    if head == "Load":
        state = value.split(" ")[0]
        return f"background:{STATE_BG.get(state, '#f5f7fa')}"
    return ""


def html_body(
    figs: dict[str, Any],
    lines: list[str],
    image_src: Callable[[str], str],
    images: Sequence[str],
    first_team: str | None = None,
    dashboard_url: str | None = None,
    chart_error: str | None = None,
) -> str:
    """The HTML e-mail; `image_src(name)` gives each chart's `src` (a `cid:` in the e-mail)."""
    have = set(images)

    def img(name: str) -> str:
        if name not in have:
            return ""
        return (
            f'<img src="{e(image_src(name))}" width="{CHART_WIDTH}" alt="{e(name)}" '
            f'style="display:block;width:100%;max-width:{CHART_WIDTH}px;height:auto;margin:8px 0 4px;border:0">'
        )

    parts = [
        f'<div style="background:#f5f7fa;padding:24px 0;{FONT}">'
        f'<table role="presentation" align="center" cellspacing="0" cellpadding="0" '
        f'style="width:100%;max-width:680px;margin:0 auto;background:#ffffff;border:1px solid {LINE};'
        f'border-radius:6px"><tr><td style="padding:24px 20px;color:{INK}">',
        f'<div style="font-size:12px;color:{MUTED};text-transform:uppercase;letter-spacing:1px">'
        f"teamtide weekly report</div>",
        f'<h1 style="font-size:22px;margin:4px 0 16px;color:{ACCENT}">{e(figs["period"])} · '
        f"{e(days(figs))}</h1>",
        f'<div style="background:#eef4fb;border-left:4px solid {ACCENT};padding:10px 14px;margin:0 0 16px">'
        f'<ul style="margin:0;padding-left:18px;font-size:15px;line-height:1.5">'
        + "".join(f"<li>{e(line)}</li>" for line in lines)
        + "</ul></div>",
    ]
    stale = stale_lines(figs)
    if stale:
        parts.append(
            '<div style="background:#fff8e1;border-left:4px solid #d69e2e;padding:10px 14px;'
            'margin:0 0 16px;font-size:13px"><strong>Data freshness</strong>'
            '<ul style="margin:4px 0 0;padding-left:18px">'
            + "".join(f"<li>{e(s)}</li>" for s in stale)
            + "</ul></div>"
        )
    parts.append(_h2("The org"))
    parts.append(_html_table(org_rows(figs), _arrow_colour))
    parts.append(
        '<ul style="font-size:13px;line-height:1.5;margin:4px 0 12px;padding-left:18px">'
        + "".join(f"<li>{e(line)}</li>" for line in org_facts(figs))
        + "</ul>"
    )
    if figs.get("org"):
        parts.append(_h3("The whole org: allocation, this week against the four weeks before"))
        parts.append(_html_table(allocation_rows(figs["org"]), _moved_colour))
        parts.append(_h3("The whole org: turnaround"))
        parts.append(_html_table(turnaround_rows(figs["org"]), _arrow_colour))
    idle = idle_teams(figs)
    if idle:
        parts.append(
            f'<p style="font-size:12px;color:{MUTED}">Teams without members or work this period: '
            f"{e(', '.join(idle))}.</p>"
        )
    if chart_error:
        parts.append(
            f'<p style="font-size:12px;color:{MUTED}">The charts could not be drawn for this '
            f"report ({e(chart_error)}); the dashboard shows them.</p>"
        )
    parts.append(img("states"))
    for index, team in ordered_teams(figs, first_team):
        state = team["load"]["state"] or "no data"
        parts.append(
            _h2(team["team"])
            + f'<span style="display:inline-block;font-size:12px;padding:2px 8px;border-radius:10px;'
            f'background:{STATE_BG.get(state, "#f5f7fa")};margin:0 0 8px">{e(state_words(team))}</span>'
        )
        parts.append(
            '<ul style="font-size:13px;line-height:1.5;margin:4px 0 12px;padding-left:18px">'
            + "".join(f"<li>{e(line)}</li>" for line in team_facts(team))
            + "</ul>"
        )
        parts.append(_h3("Allocation, this week against the four weeks before"))
        parts.append(_html_table(allocation_rows(team), _moved_colour))
        parts.append(img(f"allocation-{index}"))
        parts.append(_h3("Turnaround"))
        parts.append(_html_table(turnaround_rows(team), _arrow_colour))
        parts.append(img(f"load-{index}"))
    link = (
        f' <a href="{e(dashboard_url)}" style="color:{ACCENT}">Open the dashboard</a>.'
        if dashboard_url
        else ""
    )
    parts.append(
        f'<p style="font-size:11px;color:{MUTED};border-top:1px solid {LINE};padding-top:10px;'
        f'margin-top:20px">{e(_footer_words(figs))}{link}</p>'
    )
    parts.append("</td></tr></table></div>")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<title>{e(title(figs))}</title></head><body style="margin:0">'
        + "".join(parts)
        + "</body></html>"
    )


def _moved_colour(head: str, value: str) -> str:
    if head != "Moved" or value.startswith("±0"):
        return ""
    return f"color:{ACCENT};font-weight:600"


def _h2(words: str) -> str:
    return (
        f'<h2 style="font-size:17px;margin:22px 0 6px;padding-top:12px;border-top:1px solid {LINE};'
        f'color:{ACCENT}">{e(words)}</h2>'
    )


def _h3(words: str) -> str:
    return f'<h3 style="font-size:13px;margin:10px 0 2px;color:{MUTED}">{e(words)}</h3>'


# webhook ----------------------------------------------------------------------------------


def webhook_payload(
    figs: dict[str, Any], lines: list[str], url: str, dashboard_url: str | None = None
) -> dict[str, Any]:
    """A short summary for an incoming webhook: a Teams MessageCard for Office URLs, else Slack."""
    heading = title(figs)
    bullets = "\n".join(f"• {_slack_escape(line)}" for line in lines)
    if any(host in url for host in ("office.com", "office365.com", "logic.azure.com")):
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": heading,
            "title": heading,
            "text": "\n\n".join(html.escape(line) for line in lines),
        }
        if dashboard_url:
            card["potentialAction"] = [
                {
                    "@type": "OpenUri",
                    "name": "Open the dashboard",
                    "targets": [{"os": "default", "uri": dashboard_url}],
                }
            ]
        return card
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": bullets[:3000]}},
    ]
    if dashboard_url:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{dashboard_url}|Open the dashboard>"}],
            }
        )
    return {"text": f"{heading}\n{bullets}", "blocks": blocks}


def _slack_escape(words: str) -> str:
    # Slack's mrkdwn reads &, < and > as control characters (links, mentions)
    return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# the whole --------------------------------------------------------------------------------


@dataclass
class Rendered:
    """One week's report in every form, from its stored figures."""

    figures: dict[str, Any]
    headlines: list[str]
    markdown: str
    images: Images

    @property
    def period(self) -> str:
        return str(self.figures["period"])

    @property
    def subject(self) -> str:
        return subject(self.figures, self.headlines)

    def text(self, first_team: str | None = None) -> str:
        return text(self.figures, self.headlines, first_team)

    def html(
        self,
        image_src: Callable[[str], str],
        first_team: str | None = None,
        dashboard_url: str | None = None,
    ) -> str:
        return html_body(
            self.figures,
            self.headlines,
            image_src,
            list(self.images.png),
            first_team,
            dashboard_url,
            self.images.error,
        )

    def markdown_for(self, first_team: str | None = None) -> str:
        return markdown(self.figures, self.headlines, first_team)

    def write(self, out: Path, dashboard_url: str | None = None) -> list[Path]:
        """As files: <week>.md, <week>.txt, <week>.html and its charts in <week>-images/."""
        out.mkdir(parents=True, exist_ok=True)
        stem = f"teamtide-report-{self.period}"
        images = out / f"{stem}-images"
        images.mkdir(exist_ok=True)
        for name, png in self.images.png.items():
            (images / f"{name}.png").write_bytes(png)
        files = {
            out / f"{stem}.md": self.markdown,
            out / f"{stem}.txt": self.text(),
            out / f"{stem}.html": self.html(
                lambda name: f"{images.name}/{name}.png", dashboard_url=dashboard_url
            ),
        }
        for path, content in files.items():
            path.write_text(content, encoding="utf-8")
        return [*files, images]


def render(figs: dict[str, Any], *, images: bool = True) -> Rendered:
    """Every form of the report from its figures (images: PNG charts, one browser session)."""
    lines = figs.get("headlines") or headlines(figs)
    pictures = render_images(figure_charts(figs)) if images else Images({}, 0.0)
    return Rendered(figs, lines, markdown(figs, lines), pictures)


def build(conn: Connection, config: Config, monday: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The figures of a week with their headlines: what `reports.summary` stores."""
    figs = figures(conn, config, monday, now)
    figs["headlines"] = headlines(figs)
    return figs
