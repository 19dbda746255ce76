"""A what-if scenario as data: people moved between teams, requests routed, teams split or merged, FTE changes.

Plain frozen dataclasses that read from and write to JSON-able dicts, so the database,
the command line and the dashboard's editor share one shape:

    {"name": "split the squad", "moves": [{"person": "Ada", "team": "Infra", "from": "2025-03-03"}],
     "routes": [{"category": "DS support", "team": "Enablement", "from_team": "Squad"}],
     "splits": [{"team": "Squad", "parts": {"Infra": ["Ada"], "Enablement": ["Bo"]},
                 "routes": {"Infrastructure": "Infra"}, "from": null}],
     "merges": [{"team": "Infra", "into": "Enablement", "from": null}],
     "allocation": [{"team": "Infra", "category": "Core development", "fte": 1.0}]}

A missing `from` means the start of the replayed window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Move:
    """`person` belongs to `team` (only) from `start` on."""

    person: str
    team: str
    start: dt.date | None = None


@dataclass(frozen=True)
class Route:
    """Work of `category` (optionally only what `from_team` served, or `requesting_team`
    asked for) is served by `team` from `start` on."""

    category: str
    team: str
    from_team: str | None = None
    requesting_team: str | None = None
    start: dt.date | None = None


@dataclass(frozen=True)
class Split:
    """`team`'s people go to the new teams in `parts`; its work of each category in
    `routes` goes to the named part, the rest to the first part."""

    team: str
    parts: dict[str, tuple[str, ...]]
    routes: dict[str, str] = field(default_factory=dict)
    start: dt.date | None = None


@dataclass(frozen=True)
class Merge:
    """`team`'s people and work go to `into`."""

    team: str
    into: str
    start: dt.date | None = None


@dataclass(frozen=True)
class FteChange:
    """`team` gives `category` `fte` more (or fewer) FTE: read by the delivery forecast."""

    team: str
    category: str
    fte: float


@dataclass(frozen=True)
class Scenario:
    name: str
    moves: tuple[Move, ...] = ()
    routes: tuple[Route, ...] = ()
    splits: tuple[Split, ...] = ()
    merges: tuple[Merge, ...] = ()
    allocation: tuple[FteChange, ...] = ()

    def people(self) -> set[str]:
        """Everyone the scenario names (for access control)."""
        named = {m.person for m in self.moves}
        for split in self.splits:
            for people in split.parts.values():
                named.update(people)
        return named

    def teams(self) -> set[str]:
        """Every team the scenario names."""
        named = {m.team for m in self.moves} | {r.team for r in self.routes}
        named |= {r.from_team for r in self.routes if r.from_team}
        for split in self.splits:
            named |= {split.team, *split.parts}
        for merge in self.merges:
            named |= {merge.team, merge.into}
        return named | {a.team for a in self.allocation}

    def to_dict(self) -> dict[str, Any]:
        def day(value: dt.date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "name": self.name,
            "moves": [
                {"person": m.person, "team": m.team, "from": day(m.start)} for m in self.moves
            ],
            "routes": [
                {
                    "category": r.category,
                    "team": r.team,
                    "from_team": r.from_team,
                    "requesting_team": r.requesting_team,
                    "from": day(r.start),
                }
                for r in self.routes
            ],
            "splits": [
                {
                    "team": s.team,
                    "parts": {k: list(v) for k, v in s.parts.items()},
                    "routes": dict(s.routes),
                    "from": day(s.start),
                }
                for s in self.splits
            ],
            "merges": [{"team": m.team, "into": m.into, "from": day(m.start)} for m in self.merges],
            "allocation": [
                {"team": a.team, "category": a.category, "fte": a.fte} for a in self.allocation
            ],
        }

    def redacted(self, visible: set[str] | None) -> Scenario:
        """The scenario with people the viewer may not see replaced by "someone" (None: all)."""
        if visible is None:
            return self

        def name(person: str) -> str:
            return person if person in visible else "(someone)"

        return Scenario(
            name=self.name,
            moves=tuple(Move(name(m.person), m.team, m.start) for m in self.moves),
            routes=self.routes,
            splits=tuple(
                Split(
                    s.team,
                    {k: tuple(name(p) for p in v) for k, v in s.parts.items()},
                    s.routes,
                    s.start,
                )
                for s in self.splits
            ),
            merges=self.merges,
            allocation=self.allocation,
        )


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: `from` must be a date YYYY-MM-DD, got {value!r}") from None


def _text(entry: dict[str, Any], key: str, where: str, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: `{key}` must be a non-empty text")
    return value.strip()


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"scenario `{key}` must be a list of mappings")
    return value


def scenario_from_dict(data: Any) -> Scenario:
    """Read a scenario (see the module docstring); a ValueError names the bad entry."""
    if not isinstance(data, dict):
        raise ValueError("a scenario must be a mapping with a `name`")
    unknown = set(data) - {"name", "moves", "routes", "splits", "merges", "allocation"}
    if unknown:
        raise ValueError(f"unknown scenario key {sorted(unknown)[0]!r}")
    name = _text(data, "name", "scenario")
    moves = tuple(
        Move(
            _text(e, "person", f"moves[{i}]"),
            _text(e, "team", f"moves[{i}]"),
            _date(e.get("from"), f"moves[{i}]"),
        )
        for i, e in enumerate(_entries(data, "moves"))
    )
    routes = tuple(
        Route(
            _text(e, "category", f"routes[{i}]"),
            _text(e, "team", f"routes[{i}]"),
            _text(e, "from_team", f"routes[{i}]", required=False),
            _text(e, "requesting_team", f"routes[{i}]", required=False),
            _date(e.get("from"), f"routes[{i}]"),
        )
        for i, e in enumerate(_entries(data, "routes"))
    )
    splits = []
    for i, e in enumerate(_entries(data, "splits")):
        parts = e.get("parts")
        if not isinstance(parts, dict) or not parts:
            raise ValueError(f"splits[{i}]: `parts` must map new team names to lists of people")
        split_routes = e.get("routes") or {}
        if not isinstance(split_routes, dict) or any(v not in parts for v in split_routes.values()):
            raise ValueError(f"splits[{i}]: `routes` must map categories to one of the parts")
        splits.append(
            Split(
                _text(e, "team", f"splits[{i}]"),
                {str(k): tuple(str(p) for p in v or ()) for k, v in parts.items()},
                {str(k): str(v) for k, v in split_routes.items()},
                _date(e.get("from"), f"splits[{i}]"),
            )
        )
    merges = tuple(
        Merge(
            _text(e, "team", f"merges[{i}]"),
            _text(e, "into", f"merges[{i}]"),
            _date(e.get("from"), f"merges[{i}]"),
        )
        for i, e in enumerate(_entries(data, "merges"))
    )
    allocation = []
    for i, e in enumerate(_entries(data, "allocation")):
        fte = e.get("fte")
        if not isinstance(fte, int | float) or isinstance(fte, bool):
            raise ValueError(f"allocation[{i}]: `fte` must be a number")
        allocation.append(
            FteChange(
                _text(e, "team", f"allocation[{i}]"),
                _text(e, "category", f"allocation[{i}]"),
                float(fte),
            )
        )
    return Scenario(name, moves, routes, tuple(splits), merges, tuple(allocation))


NO_CHANGE = Scenario("no change")
