"""Support: who asks whom for help, how fast they hear back, and which requests broke the SLA."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets
from report import charts


def render() -> None:
    page = widgets.start_page(
        "Support",
        "Requests by requesting team and serving team, first response and resolution "
        "against the SLA targets of the org file.",
    )
    widgets.definition("support")
    summary = data.summary(*page.window, with_reorgs=False)
    teams = {t["team"]: t for t in summary["teams"]}
    for team in page.teams:
        s = teams[team]["support"]
        with st.container(border=True):
            st.markdown(f"**{team}**: the requests it served")
            if not s["n"] and not s["requested"]["n"]:
                widgets.no_team_data(team)
                continue
            c = st.columns(6)
            c[0].metric("Requests served", s["n"])
            c[1].metric("Still open", s["open"])
            c[2].metric("First response p50", widgets.duration(s["first_response_hours"]["p50"]))
            c[3].metric("Resolution p50", widgets.duration(s["resolution_hours"]["p50"]))
            c[4].metric(
                "SLA breached",
                widgets.percent(s["sla_breach_rate"]),
                help="Share of the requests it served that missed their resolution target "
                "(an open one counts once it has waited longer than its target).",
            )
            c[5].metric("Requests it filed", s["requested"]["n"])
    if summary["unassigned_support_requests"]:
        st.warning(
            f"{summary['unassigned_support_requests']} requests of this period have nobody "
            "assigned: they count for no serving team until someone picks them up."
        )
    found = data.support(*page.window)
    requests, flows = found["requests"], found["flows"]
    picked = requests["serving_team"].isin(page.teams) | requests["requesting_team"].isin(
        page.teams
    )
    requests = requests[picked]
    flows = flows[
        flows["serving_team"].isin(page.teams) | flows["requesting_team"].isin(page.teams)
    ]
    if requests.empty:
        widgets.empty("No support request involving the selected teams was created in this period.")
        return
    st.header("Who asks whom")
    left, right = st.columns([1, 1])
    with left:
        widgets.chart(
            charts.heatmap(
                flows,
                "requesting_team",
                "serving_team",
                "requests",
                "Requests: requesting team (rows) → serving team (columns)",
                colour="Blues",
                labels="%{z}",
            ),
            "flows",
        )
    with right:
        widgets.table(flows, "support-flows", "Requests between teams")
    st.header("Against the SLA")
    left, right = st.columns(2)
    unique = requests.drop_duplicates(["item_id", "serving_team"])
    with left:
        widgets.chart(
            charts.sla_scatter(
                unique,
                "first_response_ratio",
                "First response against its target (above the line: breached)",
                page.reorgs,
                page.team_colours,
            ),
            "sla-first",
        )
    with right:
        widgets.chart(
            charts.sla_scatter(
                unique,
                "resolution_ratio",
                "Resolution against its target (above the line: breached)",
                page.reorgs,
                page.team_colours,
            ),
            "sla-resolution",
        )
    broken = unique[unique["resolution_breach"] | unique["first_response_breach"]]
    st.header(f"Breaches ({len(broken)})")
    if broken.empty:
        st.success("Every request of this period met its targets.")
    else:
        shown = widgets.days_column(
            broken.sort_values("created_at", ascending=False),
            ["first_response_hours", "resolution_hours", "resolution_target_hours"],
        )[
            [
                "key",
                "summary",
                "priority",
                "requesting_team",
                "serving_team",
                "created_at",
                "first_response_days",
                "resolution_days",
                "resolution_target_days",
                "first_response_breach",
                "resolution_breach",
                "url",
            ]
        ]
        widgets.table(
            shown,
            "support-breaches",
            "Requests over a target (an open one is over once it has waited longer than its target)",
            column_config={"url": widgets.link_column(), "summary": "title"},
        )


render()
