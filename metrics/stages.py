"""Status -> stage resolution and each item's stage timeline (when it was in which stage).

Default stage of a status: its category new -> todo, indeterminate -> active,
done -> done; `workflow.stages` in the org file overrides per status name (for
example Blocked -> waiting). Names compare case-insensitively. A status found neither
in the config nor in `statuses` is `todo` (not evidence that anyone worked on it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from config.schema import Config
from metrics.frames import prepare
from metrics.intervals import ns, order_by

STAGES: tuple[str, ...] = ("todo", "active", "waiting", "done")
TODO, ACTIVE, WAITING, DONE = range(4)
CATEGORY_STAGE = {"new": "todo", "indeterminate": "active", "done": "done"}


def _key(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def stage_of(
    status: pd.Series, source: pd.Series | None, statuses: pd.DataFrame, config: Config
) -> pd.Series:
    """The stage name of each status (aligned with `status`; `source` picks the source's
    own status list first when the same name exists in several sources)."""
    codes = _stage_codes(status, source, statuses, config)
    return pd.Series(np.array(STAGES, dtype=object)[codes], index=status.index, dtype=object)


def _stage_codes(
    status: pd.Series | np.ndarray,
    source: pd.Series | np.ndarray | None,
    statuses: pd.DataFrame,
    config: Config,
) -> np.ndarray:
    """Stage codes (into STAGES) of each status, resolving each distinct pair once."""
    table = prepare("statuses", statuses)
    overrides = {k.casefold(): v for k, v in config.workflow.stages.items()}
    by_source: dict[tuple[str | None, str], str] = {}
    by_name: dict[str, str] = {}
    for src, name, category in table[["source", "name", "category"]].itertuples(index=False):
        if not isinstance(name, str):
            continue
        stage = CATEGORY_STAGE.get(str(category).casefold(), "todo")
        by_source.setdefault((_key(src), name.casefold()), stage)
        by_name.setdefault(name.casefold(), stage)

    def resolve(src: object, name: object) -> int:
        key = _key(name)
        if key is None:
            return TODO
        if key in overrides:
            return STAGES.index(overrides[key])
        return STAGES.index(by_source.get((_key(src), key)) or by_name.get(key, "todo"))

    n = len(status)
    status_codes, status_names = pd.factorize(status, use_na_sentinel=True)
    if source is None:
        source = np.full(n, None, dtype=object)
    source_codes, source_names = pd.factorize(source, use_na_sentinel=True)
    width = len(status_names) + 1
    pair = (np.asarray(source_codes, np.int64) + 1) * width + np.asarray(status_codes) + 1
    pair_codes, pair_values = pd.factorize(pair)
    resolved = np.empty(len(pair_values), np.int8)
    for i, value in enumerate(pair_values):
        src_code, name_code = divmod(int(value), width)
        src = source_names[src_code - 1] if src_code > 0 else None
        name = status_names[name_code - 1] if name_code > 0 else None
        resolved[i] = resolve(src, name)
    return resolved[pair_codes] if n else np.array([], np.int8)


@dataclass(frozen=True)
class StageTimeline:
    """Every item's life cut into stage runs, sorted by item then time.

    `items` is the prepared items frame restricted to items created at or before `now`;
    `pos` indexes it. Row r covers [start_ns[r], end_ns[r]); the last row of an item ends
    at `now`. Zero-length rows (two changes at the same instant) are kept so that an
    entry into a stage is never lost.
    """

    items: pd.DataFrame
    pos: np.ndarray
    start_ns: np.ndarray
    end_ns: np.ndarray
    stage: np.ndarray  # codes into STAGES
    first: np.ndarray  # bool: the item's first row (its state at creation)
    now_ns: int


def stage_timeline(
    items: pd.DataFrame,
    transitions: pd.DataFrame,
    statuses: pd.DataFrame,
    config: Config,
    now: pd.Timestamp,
) -> StageTimeline:
    """Build the stage timeline from creation and status changes up to `now`.

    Input: items (item_id, source, status, created_at), transitions (item_id, at,
    from_status, to_status). Changes after `now` are ignored; changes before creation
    are read as happening at creation. The status at creation is the first change's
    from_status, else the current status.
    """
    now_ns = int(pd.Timestamp(now).tz_convert("UTC").value)
    items = prepare("items", items)
    items = items[items["created_at"].notna() & (ns(items["created_at"]) <= now_ns)]
    items = items.reset_index(drop=True)
    moves = prepare("transitions", transitions)
    index = pd.Index(items["item_id"])
    move_pos = index.get_indexer(moves["item_id"]) if len(moves) else np.array([], np.int64)
    at = ns(moves["at"])
    keep = (move_pos >= 0) & (at != np.iinfo(np.int64).min) & (at <= now_ns)
    moves = moves[keep]
    move_pos, at = move_pos[keep], at[keep]
    created = ns(items["created_at"])
    at = np.maximum(at, created[move_pos]) if len(at) else at
    sources = items["source"].to_numpy(dtype=object)
    move_stage = _stage_codes(moves["to_status"], sources[move_pos], statuses, config)
    # Sort changes by time, keeping the loader's order for ties.
    order = order_by(move_pos, at)
    move_pos, at, move_stage = move_pos[order], at[order], move_stage[order]

    initial = items["status"].to_numpy(dtype=object).copy()
    if len(move_pos):
        first_move = np.r_[True, move_pos[1:] != move_pos[:-1]]
        from_first = moves["from_status"].to_numpy(dtype=object)[order[first_move]]
        has_from = pd.notna(from_first)
        initial[move_pos[first_move][has_from]] = from_first[has_from]
    initial_stage = _stage_codes(pd.Series(initial, dtype=object), sources, statuses, config)

    n = len(items)
    pos = np.concatenate([np.arange(n), move_pos])
    start = np.concatenate([created, at])
    stage = np.concatenate([initial_stage, move_stage]).astype(np.int8)
    first = np.r_[np.ones(n, bool), np.zeros(len(move_pos), bool)]
    # Stable: the creation row stays before changes at the same instant.
    order = order_by(pos, start)
    pos, start, stage, first = pos[order], start[order], stage[order], first[order]
    same_next = np.r_[pos[1:] == pos[:-1], False]
    end = np.where(same_next, np.r_[start[1:], 0], now_ns)
    return StageTimeline(
        items=items,
        pos=pos,
        start_ns=start,
        end_ns=end,
        stage=stage,
        first=first,
        now_ns=now_ns,
    )
