"""The filters every page shares, kept in the URL so a link reproduces the view in a meeting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from metrics.weeks import DEFAULT_WINDOW_WEEKS, back, default_window

GRAINS = ("week", "month")
DEFAULT_WEEKS = DEFAULT_WINDOW_WEEKS


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    teams: tuple[str, ...]  # empty: every team the viewer may see
    grain: str = "week"

    def selected(self, available: list[str]) -> list[str]:
        return [t for t in available if not self.teams or t in self.teams]


def _date(value: str | None, fallback: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else fallback
    except ValueError:
        return fallback


def from_query(
    params: dict[str, list[str]],
    teams: list[str],
    today: dt.date,
    span: tuple[dt.date, dt.date] | None,
) -> Filters:
    """Filters from query parameters; anything missing or malformed falls back to a sane default."""
    first_default, last = default_window(today, span, DEFAULT_WEEKS)
    start = _date((params.get("from") or [None])[0], first_default)
    end = _date((params.get("to") or [None])[0], last)
    if end < start:
        start, end = end, start
    # A hand-edited link may name year 1 or 9999: nothing is there, and widening such a day
    # to its ISO week leaves the calendar. Keep to the data (or the last ten years) and today.
    low = span[0] if span else back(today, dt.timedelta(days=3653))
    high = max(today, span[1]) if span else today
    start, end = max(start, low), min(end, high)
    if end < start:  # the whole range lies outside: the default view instead
        start, end = first_default, last
    chosen = tuple(t for t in params.get("team", []) if t in teams)
    grain = (params.get("grain") or ["week"])[0]
    return Filters(start, end, chosen, grain if grain in GRAINS else "week")


def to_query(filters: Filters) -> dict[str, str | list[str]]:
    query: dict[str, str | list[str]] = {
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
        "grain": filters.grain,
    }
    if filters.teams:
        query["team"] = list(filters.teams)
    return query


def sidebar(teams: list[str], today: dt.date, span: tuple[dt.date, dt.date] | None) -> Filters:
    """Draw the shared filters in the sidebar, read from and written back to the URL."""
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    current = from_query(params, teams, today, span)
    with st.sidebar:
        st.subheader("Filters")
        low = span[0] if span else current.start
        high = max(span[1] if span else current.end, current.end)
        picked = st.date_input(
            "Date range",
            value=(current.start, current.end),
            min_value=min(low, current.start),
            max_value=high,
            format="YYYY-MM-DD",
        )
        start, end = (
            picked
            if isinstance(picked, tuple) and len(picked) == 2
            else (current.start, current.end)
        )
        chosen = st.multiselect(
            "Teams", teams, default=list(current.teams), placeholder="All teams"
        )
        grain = st.segmented_control("Granularity", GRAINS, default=current.grain) or "week"
    filters = Filters(start, end, tuple(chosen), grain)
    wanted = to_query(filters)
    if {k: st.query_params.get_all(k) for k in st.query_params} != {
        k: v if isinstance(v, list) else [v] for k, v in wanted.items()
    }:
        st.query_params.from_dict(wanted)
    return filters
