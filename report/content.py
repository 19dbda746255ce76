"""What every form of the report says, as display strings: its title, the rows of its
tables and its sentences about the org and each team.

Markdown, text and HTML (`report.outline`) show these same words; only their markup
differs. Figures stored before the org block or `resolved` existed are said as they
were when first sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from report.figures import HISTORY_WEEKS, active, gpu_before, measures, ordered_teams
from report.wording import fte, hours, percent, pod_hours, sentence, signed, state_words, trend

ORG_NAME = "Whole org"  # the org's row in the overview table, after the teams'


def days(figs: dict[str, Any]) -> str:
    """The week's first and last day: "16 Nov – 22 Nov 2026"."""
    start, end = dt.date.fromisoformat(figs["from"]), dt.date.fromisoformat(figs["to"])
    return f"{start:%d %b} – {end:%d %b %Y}"


def title(figs: dict[str, Any]) -> str:
    return f"teamtide weekly report, {figs['period']} ({days(figs)})"


def subject(figs: dict[str, Any], lines: list[str]) -> str:
    """The e-mail's subject: the period and the first headline."""
    first = lines[0].rstrip(".") if lines else "the week in figures"
    return f"teamtide {figs['period']}: {first}"


def idle_teams(figs: dict[str, Any]) -> list[str]:
    """The teams without a section: no members and no work this week or the weeks before."""
    return [t["team"] for t in figs["teams"] if not active(t)]


def org_rows(figs: dict[str, Any]) -> list[dict[str, str]]:
    """One row per team for the overview table, then the whole org's (display strings)."""
    rows = [_overview_row(t["team"], t) for _, t in ordered_teams(figs)]
    if figs.get("org"):  # a report stored before the org figures existed has none
        rows.append(_overview_row(ORG_NAME, figs["org"]))
    return rows


def _overview_row(name: str, t: dict[str, Any]) -> dict[str, str]:
    return {
        "Team": name,
        "Load": state_words(t),
        "FTE": fte(sum(r["fte"] for r in t["allocation"])),
        "Cycle p85": _p85_cell(t["turnaround"]["cycle_time_hours"]),
        "PR review p85": _p85_cell(t["turnaround"]["pr_first_review_hours"]),
        "Support opened / resolved": f"{t['support']['opened']} / {_resolved(t['support'])}",
        "SLA breached": percent(t["support"]["sla_breach_rate"]),
        "GPU pending h": pod_hours(t["gpu_pending_hours"]),
    }


def _p85_cell(block: dict[str, Any]) -> str:
    """This week's p85 and its trend arrow: "13.4 d ↑"."""
    now, before = block["this"]["p85"], block["before"]["p85"]
    return f"{hours(now)} {trend(now, before).arrow}"


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
        f"GPU pending pod-hours: {pod_hours(_total([t['gpu_pending_hours'] for t in teams]))}.",
    ]


def allocation_rows(team: dict[str, Any]) -> list[dict[str, str]]:
    """A row per category the team (or org) spent time on, this week or the four before."""
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
    """A row per duration measure: this week's p50 and p85, the four weeks before, the trend."""
    rows = []
    for _, label, block in measures(team):
        now, before = block["this"], block["before"]
        figures = [now["p50"], now["p85"], before["p50"], before["p85"]]
        unit = max((f for f in figures if f is not None), default=None)  # one unit per row
        rows.append(
            {
                "Measure": label,
                "n": str(now["n"]),
                "p50": hours(now["p50"], unit),
                "p85": hours(now["p85"], unit),
                "4 weeks before p50 / p85": (
                    f"{hours(before['p50'], unit)} / {hours(before['p85'], unit)}"
                ),
                "Trend (p85)": trend(now["p85"], before["p85"]).words(),
            }
        )
    return rows


def team_facts(team: dict[str, Any]) -> list[str]:
    """A team (or the org) in sentences: load, support, unplanned work and GPU waits."""
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
        _gpu_sentence(team),
    ]


def _gpu_sentence(team: dict[str, Any]) -> str:
    now, usual = team["gpu_pending_hours"], gpu_before(team)
    before = "not known" if usual is None else f"{usual:.0f} a week"
    # figures stored before `gpu_unknown` existed: not known only when rebuilt from pods
    why = team.get("gpu_unknown")
    if why == "no samples":
        return "GPU pods pending: not known (no cluster samples are stored yet)."
    if why == "before history":
        return (
            "GPU pods pending: not known this week (the cluster's history starts on "
            f"{team['gpu_known_from']})."
        )
    if now is None:
        return (
            "GPU pods pending: not known this week (the cluster's history was rebuilt from "
            f"its pods, which do not record waiting; four weeks before: {before})."
        )
    return f"GPU pods pending: {now:.0f} pod-hours (four weeks before: {before})."


def _total(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def stale_lines(figs: dict[str, Any]) -> list[str]:
    """A sentence per source whose figures may be out of date."""
    return [sentence(f"{s['source']} {s['problem']}.") for s in figs["freshness"] if s["problem"]]


def footer_words(figs: dict[str, Any]) -> str:
    """As of when the figures are, in which timezone, and how trends and states are made."""
    return (
        f"Figures as of {figs['now'][:16].replace('T', ' ')} UTC, weeks in {figs['timezone']}. "
        "Trends compare this week's p85 with the four weeks before; load states use the "
        f"median of the last {HISTORY_WEEKS} weeks as baseline."
    )
