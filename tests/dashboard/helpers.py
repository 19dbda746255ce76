"""Reading what an AppTest run drew: metric values by label, element texts."""

from __future__ import annotations

from typing import Any


def metrics(at: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for m in at.metric:
        found.setdefault(m.label, []).append(m.value)
    return found


def metric(at: Any, label: str) -> str:
    """The value of the one metric card with this label (fails if there are several)."""
    values = metrics(at).get(label, [])
    assert len(values) == 1, f"{label!r}: {values} (labels: {sorted(metrics(at))})"
    return values[0]


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]
