"""The report's headlines: three to five sentences on what changed this week, most pressing first.

Each is computed from the figures (`report.figures`): a load flood or drought and its
end, a p85 that moved by a quarter or more, an allocation share that moved ten points,
SLA breaches, GPU waits, stale sources. When nothing stands out, calm facts fill up
to three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from report.figures import FRESH_FOR, active, gpu_before, measures, weeks_running
from report.wording import change, hours, names, opened_words, ordinal, percent, sentence, some_of

HEADLINE_CHANGE = 0.25  # a change of the p85 of 25% or more may make a headline
HEADLINE_SHARE_POINTS = 10.0
HEADLINE_MIN_SAMPLES = 3  # a p85 of fewer items is noise, not news
IN_A_SENTENCE = {
    "Cycle time": "cycle time",
    "PR time to first review": "PR time to first review",
    "Support first response": "support first response",
    "Support resolution": "support resolution",
}


def headlines(figs: dict[str, Any], limit: int = 5, least: int = 3) -> list[str]:
    """Three to five sentences, the most pressing first, each computed from the figures.

    The whole org's figures (`figs["org"]`, absent from reports stored before it existed)
    make headlines of their own, on the same thresholds and scores as a team's, where a
    team's headline does not already say the same thing (the same measure or allocation
    category moving the same way, or SLA breaches). When one does, the org's sentence is
    the same figure again (one active team) and is dropped, or a summary of the teams'
    news (several) and comes after every other headline: it never crowds out team news.
    """
    found: list[_Headline] = []
    stale: dict[str, list[str]] = {}
    for source in figs["freshness"]:
        if source["problem"]:
            stale.setdefault(source["problem"], []).append(source["source"])
    for problem, sources in stale.items():
        # one sentence per problem, so three stale sources leave room for the news
        verb = problem if len(sources) == 1 else problem.replace("has ", "have ", 1)
        their = "its" if len(sources) == 1 else "their"
        said = f"{names(sources)} {verb}: {their} figures may be out of date."
        found.append(_Headline(100, sentence(said)))
    teams = [t for t in figs["teams"] if active(t)]
    for team in teams:
        found.extend(_team_headlines(team))
    restated: list[_Headline] = []
    if figs.get("org"):
        said = {h.topic for h in found if h.topic}
        for line in _figure_headlines(figs["org"], ORG_VOICE):
            if line.topic not in said:
                found.append(line)
            elif len(teams) > 1:
                restated.append(line)
    lines = [sentence(line) for line in _varied(found, limit)]
    lines += [sentence(line) for line in _varied(restated, limit - len(lines))]
    for line in _steady_lines(figs, teams):
        if len(lines) >= least:
            break
        lines.append(line)
    return lines


@dataclass(frozen=True)
class _Headline:
    score: float  # its tens are its kind (see `_varied`), the rest how pressing it is
    sentence: str
    # what it says, whoever it is about (measure and direction, say): how an org headline
    # that restates a team's is recognised; empty for what only a team or source can say
    topic: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Voice:
    """How a headline names whose figure moved: a team's, or the whole org's.

    Each is a `str.format` template; the names in braces are filled in by the sentence.
    """

    measure: str  # {name}, {measure}: "Infra's cycle time"
    share: str  # {name}, {share}, {category}: "Infra spent 40% of its time on ..."
    breached: str  # {name}, {some}: "3 of the 8 support requests Infra took on"


TEAM_VOICE = _Voice(
    measure="{name}'s {measure}",
    share="{name} spent {share} of its time on {category}",
    breached="{some} {name} took on this week",
)
ORG_VOICE = _Voice(
    measure="across the org, {measure}",
    share="across the org, {share} of the time went to {category}",
    breached="across the org, {some} the teams took on this week",
)


def _varied(found: list[_Headline], limit: int) -> list[str]:
    """The best sentence of each kind first (a kind: its score's tens), then the rest by score.

    Four turnaround changes should not crowd out the one allocation move. Of equal
    scores, the one found first comes first.
    """
    seen: set[int] = set()
    first, rest = [], []
    for line in sorted(found, key=lambda h: -h.score):
        kind = int(line.score // 10)
        (rest if kind in seen else first).append(line.sentence)
        seen.add(kind)
    return (first + rest)[:limit]


def _team_headlines(team: dict[str, Any]) -> list[_Headline]:
    """A team's headlines: its load, the figures a team and the org share, its GPU waits."""
    name, load, out = team["team"], team["load"], []
    if load["state"] in ("flood", "drought"):
        streak = load["streak"]
        when = "this week" if streak == 1 else f"for the {ordinal(streak)} week running"
        verb = "went into" if streak == 1 else "is in"
        out.append(
            _Headline(
                60 + min(streak, 9),
                f"{name} {verb} a {load['state']} {when} "
                f"(load {load['load']:.2f} per person against a baseline of {load['baseline']:.2f}).",
            )
        )
    states = [w["state"] for w in load["weekly"]]
    if len(states) >= 2 and states[-1] == "normal" and states[-2] in ("flood", "drought"):
        ended = weeks_running(states[:-1])
        weeks = "one week" if ended == 1 else f"{ended} weeks"
        out.append(_Headline(50, f"{name}'s {states[-2]} ended this week, after {weeks}."))
    out += _figure_headlines(team, TEAM_VOICE)
    gpu, usual = team["gpu_pending_hours"], gpu_before(team)
    if gpu is not None and usual is not None and gpu >= 10 and gpu >= 2 * usual:
        out.append(
            _Headline(
                15,
                f"{name}'s GPU pods waited {gpu:.0f} pod-hours for capacity, "
                f"against {usual:.0f} a week before.",
            )
        )
    return out


def _figure_headlines(fig: dict[str, Any], voice: _Voice) -> list[_Headline]:
    """Turnaround, support and allocation headlines of a team's or the org's figures."""
    name, out = fig["team"], []
    for key, label, block in measures(fig):
        now, before = block["this"], block["before"]
        rel = change(now["p85"], before["p85"])
        if rel is None or abs(rel) < HEADLINE_CHANGE or now["n"] < HEADLINE_MIN_SAMPLES:
            continue
        verb = "rose" if rel > 0 else "fell"
        whose = voice.measure.format(name=name, measure=IN_A_SENTENCE[label])
        out.append(
            _Headline(
                30 + min(abs(rel) * 5, 9.9),
                f"{whose} p85 {verb} {abs(rel) * 100:.0f}% "
                f"({hours(now['p85'])}, against {hours(before['p85'])} over the four weeks before).",
                ("p85", key, verb),
            )
        )
    for row in fig["allocation"]:
        if row["share"] is None or row["share_before"] is None:
            continue
        points = (row["share"] - row["share_before"]) * 100
        if abs(points) >= HEADLINE_SHARE_POINTS:
            way = "up" if points > 0 else "down"
            spent = voice.share.format(
                name=name, share=percent(row["share"]), category=row["category"]
            )
            out.append(
                _Headline(
                    20 + min(abs(points) / 10, 9.9),
                    f"{spent}, {way} {abs(points):.0f} points on the four weeks before.",
                    ("share", row["category"], way),
                )
            )
    support = fig["support"]
    rate = support["sla_breach_rate"]
    if rate is not None and rate >= 0.25 and support["opened"] >= 2:
        breached = voice.breached.format(
            name=name, some=some_of(round(rate * support["opened"]), support["opened"])
        )
        out.append(_Headline(40 + rate * 9.9, f"{breached} breached their SLA.", ("sla",)))
    return out


def _steady_lines(figs: dict[str, Any], teams: list[dict[str, Any]]) -> list[str]:
    """Calm facts to open with when nothing stands out."""
    lines = []
    normal = [t["team"] for t in teams if t["load"]["state"] == "normal"]
    if normal:
        lines.append(f"Load is within its normal range for {names(normal)}.")
    org = figs.get("org")
    if org:  # each request once, even when its person was in two teams
        opened, still = org["support"]["opened"], org["support"]["open"]
    else:
        opened = sum(t["support"]["opened"] for t in teams)
        still = sum(t["support"]["open"] for t in teams)
    opened += figs["unassigned_support_requests"]
    lines.append(opened_words(opened, still))
    done = [t for t in teams if t["turnaround"]["cycle_time_hours"]["this"]["n"]]
    for t in done:
        cycle = t["turnaround"]["cycle_time_hours"]["this"]
        lines.append(
            f"{t['team']} finished {cycle['n']} items with a median cycle time of {hours(cycle['p50'])}."
        )
    if not teams:
        lines.append("No team had members or tracked work this week.")
    if not figs["freshness"]:
        lines.append("No source is configured in the org file, so these figures cover nothing yet.")
    elif not any(s["problem"] for s in figs["freshness"]):
        lines.append(
            f"Every source synced within the last {FRESH_FOR.total_seconds() / 3600:.0f} hours."
        )
    return lines
