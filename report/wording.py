"""The report's English: durations, percentages, counts, trends and the way a list is said.

Every form of the report and every headline says a figure through these, so "13.4 d",
"40%" and "3 of the 8 support requests" read the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TREND_THRESHOLD = 0.10  # a change of the p85 under 10% is shown as steady


def hours(value: float | None, scale: float | None = None) -> str:
    """A duration for people: hours under two days, else days. The unit is the one `scale`
    (default: `value` itself) needs, so that figures read side by side share one."""
    if value is None:
        return "–"
    return f"{value:.1f} h" if (value if scale is None else scale) < 48 else f"{value / 24:.1f} d"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def fte(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def pod_hours(value: float | None) -> str:
    """Pod-hours, whole; "–" when not known (cluster history rebuilt from pods)."""
    return "–" if value is None else f"{value:.0f}"


def signed(value: float, unit: str = "", digits: int = 1) -> str:
    if round(value, digits) == 0:
        return f"±0{unit}"
    return f"{value:+.{digits}f}{unit}"


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def change(now: float | None, before: float | None) -> float | None:
    """Relative change of a figure against its earlier value (None when either is missing)."""
    if now is None or before is None or before == 0:
        return None
    return now / before - 1


@dataclass(frozen=True)
class Trend:
    arrow: str  # ↑ ↓ → or – (nothing to compare)
    change: float | None
    worse: bool | None  # for durations, up is worse

    def words(self) -> str:
        if self.change is None:
            return "–"
        return f"{self.arrow} {abs(self.change) * 100:.0f}%" if self.arrow != "→" else "→ steady"


def trend(now: float | None, before: float | None) -> Trend:
    rel = change(now, before)
    if rel is None:
        return Trend("–", None, None)
    if abs(rel) < TREND_THRESHOLD:
        return Trend("→", rel, None)
    return Trend("↑" if rel > 0 else "↓", rel, rel > 0)


def state_words(team: dict[str, Any]) -> str:
    """A team's load state with its streak: "drought (2nd week)", or "no members"."""
    load = team["load"]
    if load["state"] is None:
        return "no members"
    return f"{load['state']} ({ordinal(load['streak'])} week)"


def some_of(part: int, whole: int, noun: str = "support request") -> str:
    """'3 of the 8 support requests', 'all 2 support requests', 'the one support request'."""
    if whole == 1:
        return f"the one {noun}" if part else f"no {noun}"
    if part == whole:
        return f"all {whole} {noun}s"
    return f"{part} of the {whole} {noun}s"


def opened_words(opened: int, still: int) -> str:
    """How many support requests the week opened, and how many of them are still open."""
    if opened == 0:
        return "No support requests were opened this week."
    if opened == 1:
        return f"1 support request was opened this week; it is {'still open' if still else 'resolved'}."
    left = "none" if still == 0 else str(still)
    return f"{opened} support requests were opened this week; {left} of them {'is' if still == 1 else 'are'} still open."


def sentence(words: str) -> str:
    """`words` with a capital first letter (the rest as it is: names keep their case)."""
    return words[:1].upper() + words[1:]


def names(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
