"""The report's outline: what it shows and in what order, as blocks every form renders.

Markdown (`report.markdown`), plain text (`report.text`) and the HTML e-mail
(`report.html`) walk the same blocks, so a section, a table or a condition (the org
block, idle teams, a lead's team first) is decided once; each form only says how a
block looks. The charts are blocks too: the HTML shows them, the others skip them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from report.content import (
    allocation_rows,
    days,
    footer_words,
    idle_teams,
    org_facts,
    org_rows,
    stale_lines,
    team_facts,
    title,
    turnaround_rows,
)
from report.figures import ordered_teams
from report.forecast_words import coming_weeks
from report.week_charts import STATES_CHART, team_charts
from report.wording import state_words


@dataclass(frozen=True)
class Title:
    words: str  # "teamtide weekly report, 2025-W26 (23 Jun – 29 Jun 2025)"
    period: str
    days: str


@dataclass(frozen=True)
class Headlines:
    lines: list[str]


@dataclass(frozen=True)
class Freshness:
    """The sources whose figures may be out of date (only when there are some)."""

    lines: list[str]


@dataclass(frozen=True)
class Heading:
    words: str


@dataclass(frozen=True)
class TeamHeading:
    name: str
    state: str  # the load state, or "no data"
    state_words: str  # "drought (2nd week)"


@dataclass(frozen=True)
class Subheading:
    words: str


@dataclass(frozen=True)
class Table:
    rows: list[dict[str, str]]
    # what stands out in colour: trend arrows and load states, or what the allocation moved
    marks: Literal["trends", "moves"]


@dataclass(frozen=True)
class Facts:
    lines: list[str]


@dataclass(frozen=True)
class Note:
    words: str


@dataclass(frozen=True)
class ChartsMissing:
    """Why the charts could not be drawn (only when they could not)."""

    error: str


@dataclass(frozen=True)
class Chart:
    name: str  # a key of `report.week_charts.figure_charts`


@dataclass(frozen=True)
class Footer:
    words: str


Block = (
    Title
    | Headlines
    | Freshness
    | Heading
    | TeamHeading
    | Subheading
    | Table
    | Facts
    | Note
    | ChartsMissing
    | Chart
    | Footer
)


def outline(
    figs: dict[str, Any],
    lines: list[str],
    first_team: str | None = None,
    chart_error: str | None = None,
) -> list[Block]:
    """The report of `figs` with headlines `lines`, `first_team` (a lead's) first among the teams."""
    out: list[Block] = [Title(title(figs), figs["period"], days(figs)), Headlines(lines)]
    stale = stale_lines(figs)
    if stale:
        out.append(Freshness(stale))
    out += [Heading("The org"), Table(org_rows(figs), "trends"), Facts(org_facts(figs))]
    if figs.get("org"):  # a report stored before the org figures existed has none
        out += [
            Subheading("The whole org: allocation, this week against the four weeks before"),
            Table(allocation_rows(figs["org"]), "moves"),
            Subheading("The whole org: turnaround"),
            Table(turnaround_rows(figs["org"]), "trends"),
        ]
    idle = idle_teams(figs)
    if idle:
        out.append(Note(f"Teams without members or work this period: {', '.join(idle)}."))
    if chart_error:
        out.append(ChartsMissing(chart_error))
    out.append(Chart(STATES_CHART))
    # reports stored before the forecast existed have none
    forecasts = {f["team"]: f for f in figs.get("forecast", [])}
    for index, team in ordered_teams(figs, first_team):
        allocation_chart, load_chart = team_charts(index)
        out += [
            TeamHeading(team["team"], team["load"]["state"] or "no data", state_words(team)),
            Facts(team_facts(team)),
        ]
        if team["team"] in forecasts:
            out += [Subheading("Coming weeks"), Facts([coming_weeks(forecasts[team["team"]])])]
        out += [
            Subheading("Allocation, this week against the four weeks before"),
            Table(allocation_rows(team), "moves"),
            Chart(allocation_chart),
            Subheading("Turnaround"),
            Table(turnaround_rows(team), "trends"),
            Chart(load_chart),
        ]
    out.append(Footer(footer_words(figs)))
    return out
