"""The input frames of the metrics engine: their columns, dtypes and normalisation.

`db/queries.py` loads these from SQL (bundled in `Frames`); tests build them by hand.
Every frame is normalised on the way in (`prepare`, `Frames.prepared`), so a loader
may hand over timestamps at any resolution (`datetime64[us, UTC]`, pandas 3's
default, or `[ns, UTC]`), Python datetimes, or ISO strings with an offset; inside
the engine every timestamp is `datetime64[ns, UTC]`.

People are identified by name (the org file's `people[].name`); the loader maps Jira
account ids and GitHub logins to names and leaves unmapped identities as None.
Extra columns are allowed everywhere and ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from config.schema import Config

UTC_NS = "datetime64[ns, UTC]"
_MARK = "teamtide.metrics.frame"  # DataFrame.attrs key set on normalised frames

ITEMS: tuple[str, ...] = (
    "item_id",
    "source",
    "key",
    "project",
    "issue_type",
    "summary",
    "status",
    "priority",
    "labels",
    "components",
    "epic_key",
    "created_at",
    "done_at",
    "reporter",
    "assignee",
    "url",
)
"""Work items (Jira issues, optionally GitHub issues), one row per item.

- item_id: int (any hashable works), unique; `transitions`, `assignments`, `comments`
  and `pulls.linked_item_ids` refer to it.
- source: str, "jira" or "github". GitHub items match `github_repos` on `project`
  (the repository's full name) and `github_labels` on `labels`; Jira items match the
  `jira_*` conditions.
- key, project, issue_type, summary, status (current status name), priority (name),
  epic_key, url: str or None.
- labels, components: list of str (None/NaN read as empty).
- created_at: timestamp, UTC. done_at: timestamp or NaT (last entry into done, if done
  now). The engine derives done-ness and the end time from the transitions and the
  stage map; `done_at` is only used for an item whose transitions never record the
  entry into done (for example a GitHub issue closed without a status history).
- reporter, assignee (current): person name or None.
"""

TRANSITIONS: tuple[str, ...] = ("item_id", "at", "from_status", "to_status", "author")
"""Status changes only, one row per change.

- item_id, at (timestamp UTC), from_status, to_status (status names), author (person or None).
- The status at creation is the first change's `from_status` (or the item's current
  status when it has no changes). Changes at the same instant keep their row order.
  Rows ordered by (item_id, at), as `ORDER BY` gives them, skip a sort of a million rows.
"""

STATUSES: tuple[str, ...] = ("source", "name", "category")
"""The sources' statuses: name and status category key (`new`, `indeterminate`, `done`).

- source: "jira" / "github" or None (applies to every source). Names compare
  case-insensitively. A status missing here and in `workflow.stages` is `todo`.
"""

ASSIGNMENTS: tuple[str, ...] = ("item_id", "at", "from_person", "to_person")
"""Assignee changes: from_person / to_person are person names, None = unassigned.

The assignee at creation is the first change's `from_person` (or the item's current
assignee when it has no changes).
"""

COMMENTS: tuple[str, ...] = ("item_id", "at", "author")
"""Comments on work items: item_id, at (timestamp UTC), author (person or None)."""

PULLS: tuple[str, ...] = (
    "pr_id",
    "repo",
    "number",
    "author",
    "created_at",
    "ready_at",
    "first_review_at",
    "merged_at",
    "closed_at",
    "draft",
    "labels",
    "linked_item_ids",
    "url",
)
"""Pull requests, one row per PR.

- pr_id: int (hashable), unique; repo: "owner/name"; number: int; author: person or None.
- created_at: timestamp UTC; ready_at: when it left draft (NaT if it never was a draft,
  and NaT while it still is one); merged_at, closed_at: timestamp or NaT.
- first_review_at: first review by someone other than the author, or NaT. The engine
  computes it from `reviews`; this column is only used for PRs with no row in `reviews`
  (so a loader without reviews still works).
- draft: bool, a draft now. labels: list of str. linked_item_ids: list of item_id.
"""

REVIEWS: tuple[str, ...] = ("pr_id", "reviewer", "state", "submitted_at")
"""Pull-request reviews: reviewer (person or None), state (APPROVED, CHANGES_REQUESTED,
COMMENTED, DISMISSED, ...), submitted_at (timestamp UTC; NaT = pending, ignored)."""

MEMBERSHIPS: tuple[str, ...] = ("person", "team", "valid_from", "valid_to")
"""Team membership history: valid_from / valid_to are dates (inclusive; valid_to
None/NaT = still a member). Dates are read in the org timezone. A person may belong to
several teams at once; each then counts them."""

PEOPLE: tuple[str, ...] = ("person",)
"""People of the org file (by name); other columns are allowed."""

_TIMESTAMPS: dict[str, tuple[str, ...]] = {
    "items": ("created_at", "done_at"),
    "transitions": ("at",),
    "assignments": ("at",),
    "comments": ("at",),
    "pulls": ("created_at", "ready_at", "first_review_at", "merged_at", "closed_at"),
    "reviews": ("submitted_at",),
}
_LISTS: dict[str, tuple[str, ...]] = {
    "items": ("labels", "components"),
    "pulls": ("labels", "linked_item_ids"),
}
_KEYS = {"items": "item_id", "pulls": "pr_id"}
_COLUMNS: dict[str, tuple[str, ...]] = {
    "items": ITEMS,
    "transitions": TRANSITIONS,
    "statuses": STATUSES,
    "assignments": ASSIGNMENTS,
    "comments": COMMENTS,
    "pulls": PULLS,
    "reviews": REVIEWS,
    "memberships": MEMBERSHIPS,
    "people": PEOPLE,
}


def utc(values: Any) -> pd.Series:
    """Any timestamps (any resolution, tz-aware, ISO strings) as `datetime64[ns, UTC]`.

    Naive values are taken as UTC, since storage is UTC everywhere.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if str(series.dtype) == UTC_NS:
        return series
    if series.empty:
        return pd.Series([], dtype=UTC_NS, index=series.index)
    return pd.to_datetime(series, utc=True, format="mixed").astype(UTC_NS)


def as_list_column(values: pd.Series) -> pd.Series:
    """A column of lists: None/NaN become [], tuples/arrays become lists, and a JSON array
    in a string (a JSON column read without its type) is parsed."""

    def norm(value: Any) -> list[Any]:
        if isinstance(value, list):
            return value
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return []
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                parsed = json.loads(text)
                if isinstance(parsed, list):
                    return parsed
            return [value]
        return list(value)

    return pd.Series([norm(v) for v in values], index=values.index, dtype=object)


def empty(kind: str) -> pd.DataFrame:
    """An empty frame of the given kind with its columns and dtypes."""
    columns = _COLUMNS[kind]
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return _prepare(kind, frame)


def _is_prepared(kind: str, frame: pd.DataFrame) -> bool:
    """Already normalised (and not re-typed since): skip the work, it is not free at 1M rows."""
    return frame.attrs.get(_MARK) == kind and all(
        str(frame[c].dtype) == UTC_NS for c in _TIMESTAMPS.get(kind, ()) if c in frame.columns
    )


def _prepare(kind: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    columns = _COLUMNS[kind]
    if frame is not None and _is_prepared(kind, frame):
        if (
            isinstance(frame.index, pd.RangeIndex)
            and frame.index.start == 0
            and frame.index.step == 1
        ):
            return frame
        return frame.reset_index(drop=True)
    if frame is None:
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    missing = [c for c in columns if c not in frame.columns]
    frame = frame.copy() if not missing else frame.assign(**dict.fromkeys(missing))
    for column in _TIMESTAMPS.get(kind, ()):
        frame[column] = utc(frame[column])
    for column in _LISTS.get(kind, ()):
        frame[column] = as_list_column(frame[column])
    if kind == "memberships":
        frame["valid_from"] = _dates(frame["valid_from"])
        frame["valid_to"] = _dates(frame["valid_to"])
    if kind == "pulls":
        frame["draft"] = frame["draft"].fillna(False).astype(bool)
    key = _KEYS.get(kind)
    if key and frame[key].duplicated().any():
        repeated = frame.loc[frame[key].duplicated(), key].unique()[:5].tolist()
        raise ValueError(f"{kind}: {key} must be unique, repeated: {repeated} (check the loader)")
    frame = frame.reset_index(drop=True)
    frame.attrs[_MARK] = kind
    return frame


def _dates(values: pd.Series) -> pd.Series:
    """Dates as naive `datetime64[ns]` midnights (NaT for None)."""
    if values.empty:
        return pd.Series([], dtype="datetime64[ns]", index=values.index)
    converted = pd.to_datetime(values.astype(object).where(values.notna(), None), format="mixed")
    if getattr(converted.dt, "tz", None) is not None:
        converted = converted.dt.tz_localize(None)
    return converted.dt.normalize().astype("datetime64[ns]")


@dataclass(frozen=True)
class Frames:
    """Every input of the engine in one bundle; missing frames are empty."""

    items: pd.DataFrame = field(default_factory=lambda: empty("items"))
    transitions: pd.DataFrame = field(default_factory=lambda: empty("transitions"))
    statuses: pd.DataFrame = field(default_factory=lambda: empty("statuses"))
    assignments: pd.DataFrame = field(default_factory=lambda: empty("assignments"))
    comments: pd.DataFrame = field(default_factory=lambda: empty("comments"))
    pulls: pd.DataFrame = field(default_factory=lambda: empty("pulls"))
    reviews: pd.DataFrame = field(default_factory=lambda: empty("reviews"))
    memberships: pd.DataFrame = field(default_factory=lambda: empty("memberships"))
    people: pd.DataFrame = field(default_factory=lambda: empty("people"))
    # Items that `pulls.linked_item_ids` name but `items` lacks (outside the span read),
    # in the `items` shape. Only their rules (category, unplanned, support) are used, so
    # that a PR takes its ticket's category however wide the read was.
    linked_items: pd.DataFrame = field(default_factory=lambda: empty("items"))

    def prepared(self) -> Frames:
        """A copy with every frame normalised (dtypes, missing columns, list columns)."""
        return replace(
            self,
            **{
                f.name: _prepare(_KIND_OF.get(f.name, f.name), getattr(self, f.name))
                for f in fields(self)
            },
        )


_KIND_OF = {"linked_items": "items"}


def prepare(kind: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    """Normalise one input frame of `kind` (see the column tuples above)."""
    return _prepare(kind, frame)


def memberships_from_config(config: Config) -> pd.DataFrame:
    """The org file's membership history as a `memberships` frame (for tests and demos)."""
    rows = [
        (person.name, m.team, m.from_, m.to)
        for person in config.org.people
        for m in person.memberships
    ]
    return prepare("memberships", pd.DataFrame(rows, columns=list(MEMBERSHIPS)))


def people_from_config(config: Config) -> pd.DataFrame:
    """The org file's people as a `people` frame."""
    return prepare("people", pd.DataFrame({"person": [p.name for p in config.org.people]}))
