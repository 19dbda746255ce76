"""Small pieces every page uses: tables with a CSV download, definitions, number formats, guards."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from config.display import redact_url
from dashboard import data, filters
from dashboard.definitions import DEFINITIONS
from report import charts

DASH = "–"
SHELL = "teamtide-shell"  # (filters, viewer) set by app.py for the page it runs
log = logging.getLogger("teamtide.dashboard")


def table(frame: pd.DataFrame, name: str, title: str | None, **kwargs: Any) -> None:
    """A table (text shown as text, never HTML) with its CSV download."""
    if title:
        st.markdown(f"**{title}**")
    st.dataframe(frame, hide_index=True, width="stretch", **kwargs)
    st.download_button(
        "Download CSV",
        # Written when clicked, not on every rerun: large tables would slow every page.
        lambda: frame.to_csv(index=False).encode(),
        file_name=f"teamtide-{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
        icon=":material/download:",
    )


def definition(*keys: str) -> None:
    """The plain-words definitions behind a page's numbers, one click away."""
    with st.popover("How these numbers are defined", icon=":material/help:"):
        for key in keys:
            st.markdown(DEFINITIONS[key])


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")


def chart(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})


@st.cache_resource(max_entries=256, show_spinner=False)
def figure(builder: str, *args: Any, **kwargs: Any) -> go.Figure:
    """`report.charts.<builder>(*args, **kwargs)`, built once per input: plotly checks every
    trace as it builds a figure (20 to 60 ms each), which a page of a dozen charts paid
    again on every rerun. The figure is shared: it must not be changed after. The builder
    goes by name because Streamlit's cache cannot hash a function."""
    return getattr(charts, builder)(*args, **kwargs)


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def duration(hours: float | None, scale: float | None = None) -> str:
    """Hours as a reader wants them: minutes, hours, or days once past two days.

    The unit is the one `scale` (default: `hours` itself) needs, so figures read side by
    side can share one unit (`durations`).
    """
    if missing(hours):
        return DASH
    assert hours is not None
    scale = hours if missing(scale) else scale
    assert scale is not None
    if scale < 1:
        return f"{hours * 60:.0f} min"
    if scale < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def durations(*hours: float | None) -> list[str]:
    """Durations in one unit, the one the largest needs: a p50 never reads larger than its p85."""
    largest = max((h for h in hours if not missing(h)), default=None)
    return [duration(h, largest) for h in hours]


def percent(share: float | None, digits: int = 0) -> str:
    return DASH if missing(share) else f"{share * 100:.{digits}f}%"


def number(value: float | None, digits: int = 1) -> str:
    return DASH if missing(value) else f"{value:,.{digits}f}"


def change(now: float | None, before: float | None) -> str | None:
    """Relative change for st.metric's delta ("+12%"), None when it can't be said."""
    if missing(now) or missing(before) or not before:
        return None
    assert now is not None and before is not None
    relative = (now - before) / before * 100
    return None if round(relative) == 0 else f"{relative:+.0f}%"


def points(now: float | None, before: float | None) -> str | None:
    """Change of a share in percentage points, for st.metric's delta."""
    if missing(now) or missing(before):
        return None
    assert now is not None and before is not None
    moved = (now - before) * 100
    return None if round(moved) == 0 else f"{moved:+.0f} pts"


def days_column(frame: pd.DataFrame, hours: list[str]) -> pd.DataFrame:
    """Hour columns shown in days (1 decimal) for tables: long waits read better in days."""
    out = frame.copy()
    for column in hours:
        out[column.replace("_hours", "_days")] = (out.pop(column) / 24).round(1)
    return out


def link_column(label: str = "open") -> Any:
    return st.column_config.LinkColumn(label, display_text="open ↗")


def scope(viewer: Any) -> str:
    """Who the dashboard is showing figures to, in a few words, for the sidebar."""
    who = viewer.email or "this machine"
    if viewer.people_teams:
        return (
            f"Viewing as {who} ({viewer.role}): people of {', '.join(sorted(viewer.people_teams))}."
        )
    return f"Viewing as {who} ({viewer.role}): team aggregates only."


def no_people(team: str | None = None) -> None:
    where = f" for {team}" if team else ""
    empty(
        f"Person-level detail{where} is not shown for your role: these figures are team aggregates. "
        "Ask a director to grant it (org file, `access`)."
    )


@dataclass(frozen=True)
class Page:
    """What a page works with: the org file, the filters, the viewer and the data's moment."""

    ctx: data.Context
    filters: filters.Filters
    viewer: Any
    now: dt.datetime

    @property
    def teams(self) -> list[str]:
        """The selected teams that had members in the window: the ones a page draws."""
        staffed = self.ctx.config.staffed_teams(*self._days)
        return [team for team in self.selected_teams if team in staffed]

    @property
    def selected_teams(self) -> list[str]:
        """Every selected team, members or not (the Reorg page compares teams that are gone)."""
        return self.filters.selected(self.ctx.teams)

    @property
    def unstaffed_teams(self) -> list[str]:
        return [team for team in self.selected_teams if team not in self.teams]

    @property
    def _days(self) -> tuple[dt.date, dt.date]:
        window = self.ctx.window(self.filters.start, self.filters.end)
        return window.first_day, min(window.last_day, self.ctx.today)

    @property
    def people_teams(self) -> frozenset[str]:
        return frozenset(self.viewer.people_teams)

    @property
    def window(self) -> tuple[str, str, dt.date, dt.date, dt.datetime]:
        """The arguments every cached loader takes: url, org file, start, end, now."""
        return (self.ctx.url, self.ctx.config_file, self.filters.start, self.filters.end, self.now)

    @property
    def team_colours(self) -> dict[str, str]:
        # from every team of the org file, so a team keeps its colour whatever is selected
        from report.charts import team_colour

        return team_colour(self.ctx.teams)

    @property
    def reorgs(self) -> list[tuple[dt.date, str]]:
        """The reorgs inside the window, to mark on time charts."""
        window = self.ctx.window(self.filters.start, self.filters.end)
        return [(d, n) for d, n in self.ctx.reorgs if window.first_day <= d <= window.last_day]

    def period(self) -> str:
        window = self.ctx.window(self.filters.start, self.filters.end)
        return (
            f"{window.first_day:%d %b %Y} – {window.last_day:%d %b %Y} "
            f"({window.n_weeks} weeks, {self.ctx.config.org.timezone}); data as of {self.now:%d %b %Y %H:%M} UTC"
        )


def start_page(
    title: str, caption: str, needs_data: bool = True, teams_of_the_window: bool = True
) -> Page:
    """Title, filters and viewer of a page; stops with a helpful message when there is no data.

    `teams_of_the_window`: the page draws the teams with members in the window (all but
    the Reorg page, which compares teams before and after); the others are named once.

    Inside the app, app.py has drawn the filters already; a page run on its own (tests,
    benchmarks) draws them itself.
    """
    ctx = data.context()
    shell = st.session_state.get(SHELL)
    if shell is not None:
        chosen, who = shell
    else:
        chosen = filters.sidebar(ctx.teams, ctx.today, span_or_stop(ctx))
        who = data.viewer(ctx.config)
    st.title(title)
    st.caption(caption)
    span = span_or_stop(ctx)
    page = Page(ctx, chosen, who, data.as_of(ctx.url, ctx.config_file))
    if needs_data and span is None:
        empty(
            "There is no data yet: the database has no work items or pull requests. "
            "Run `teamtide sync` to pull the sources named in the org file "
            f"({ctx.config_file}), then reload this page. The Data health page shows what each sync did."
        )
        st.stop()
    if needs_data and not page.selected_teams:
        empty(
            f"The org file ({ctx.config_file}) lists no teams under `org.teams`, so there is nothing "
            "to show per team. Add the teams and their members' memberships, then reload."
        )
        st.stop()
    if needs_data:
        st.caption(page.period())
    if needs_data and teams_of_the_window and page.unstaffed_teams:
        gone = ", ".join(page.unstaffed_teams)
        if page.teams:
            st.caption(
                f"No members in this period: {gone} (widen the date range to see them, or "
                "check their memberships in the org file)."
            )
        else:
            empty(
                f"{gone} {'has' if len(page.unstaffed_teams) == 1 else 'have'} no data in this "
                "period: no members in the org file for these dates. Widen the date range, or "
                "check the memberships in the org file."
            )
    return page


def span_or_stop(ctx: data.Context) -> tuple[dt.date, dt.date] | None:
    try:
        return data.span(ctx.url)
    except Exception as exc:  # no database or no schema: say what to do, never a traceback
        # The URL stays in the server's log (password hidden): a page shows no part of it.
        log.error("cannot read the database %s: %s", redact_url(ctx.url), type(exc).__name__)
        st.error(
            f"teamtide cannot read its database ({type(exc).__name__}). Whoever runs this "
            "server: `teamtide init` creates it, `teamtide sync` fills it, and the server's "
            "log names the database it tried.",
            icon=":material/database:",
        )
        st.stop()
        raise  # unreachable: st.stop() ends the run


def no_team_data(team: str) -> None:
    empty(
        f"{team} has no data in this period: no members in the org file for these dates, or "
        "no work items, pull requests or support requests. Widen the date range, or check the "
        "team's memberships in the org file."
    )
