"""Team membership judged at a moment or per day (org timezone, inclusive dates)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.frames import prepare
from metrics.weeks import NAT_DAY, Window, local_day_numbers

_OPEN_END = np.iinfo(np.int64).max


def _membership_days(memberships: pd.DataFrame) -> pd.DataFrame:
    """person, team, first (day number), last (day number, inclusive; open = max int)."""
    frame = prepare("memberships", memberships)
    frame = frame[frame["person"].notna() & frame["team"].notna() & frame["valid_from"].notna()]
    first = frame["valid_from"].to_numpy().astype("datetime64[D]").astype(np.int64)
    last_raw = frame["valid_to"].to_numpy().astype("datetime64[D]").astype(np.int64)
    last = np.where(frame["valid_to"].isna().to_numpy(), _OPEN_END, last_raw)
    return pd.DataFrame(
        {
            "person": frame["person"].astype(object).to_numpy(),
            "team": frame["team"].astype(object).to_numpy(),
            "first": first,
            "last": last,
        }
    )


def teams_at(
    persons: pd.Series, instants: pd.Series, memberships: pd.DataFrame, timezone: str
) -> pd.DataFrame:
    """The teams each (person, instant) pair belonged to.

    Input: two aligned series (person name or None, UTC instant). Output columns:
    `row` (position in the inputs) and `team`; one row per team, none when the person
    was in no team that day (or is None, or the instant is NaT).
    """
    spans = _membership_days(memberships)
    if spans.empty or len(persons) == 0:
        return pd.DataFrame(
            {"row": pd.Series([], dtype=np.int64), "team": pd.Series([], dtype=object)}
        )
    days = local_day_numbers(instants.reset_index(drop=True), timezone)
    left = pd.DataFrame(
        {"row": np.arange(len(persons)), "person": persons.astype(object).to_numpy(), "day": days}
    )
    left = left[left["person"].notna() & (left["day"] != NAT_DAY)]
    joined = left.merge(spans, on="person", how="inner")
    joined = joined[(joined["first"] <= joined["day"]) & (joined["day"] <= joined["last"])]
    out = joined[["row", "team"]].drop_duplicates().sort_values(["row", "team"], kind="stable")
    return out.reset_index(drop=True)


def member_days(memberships: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Every (person, team, day) of the window on which the person was a member.

    Output columns: person, team, day (window day index 0..n_days-1). Duplicate
    memberships of the same person and team on a day count once.
    """
    spans = _membership_days(memberships)
    first = np.maximum(spans["first"].to_numpy() - window.first_day_number, 0)
    last = np.minimum(spans["last"].to_numpy() - window.first_day_number, window.n_days - 1)
    counts = np.maximum(last - first + 1, 0)
    rows = np.repeat(np.arange(len(spans)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    out = pd.DataFrame(
        {
            "person": spans["person"].to_numpy()[rows] if len(rows) else np.array([], object),
            "team": spans["team"].to_numpy()[rows] if len(rows) else np.array([], object),
            "day": np.repeat(first, counts) + offsets,
        }
    )
    return out.drop_duplicates().reset_index(drop=True)
