"""The draft org file `teamtide discover` writes: people, teams and rules a person reviews.

Each person carries, as a YAML comment, why their accounts were put together; bots are
listed apart and accounts nobody matched are listed at the end with what is known of
them, so a reviewer corrects guesses instead of typing facts. The sections discovery
does not own (database, sources, categories...) are copied from the current org file.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from collectors.discovery import Discovered
from collectors.identity_match import Account, Matched, main_domain, normal_name

WAITING_WORDS = ("block", "wait", "hold")
SYSTEM_NAMESPACES = ("default",)


@dataclass
class Draft:
    """A person of the draft: accounts, e-mails, memberships and the reasons, as comments."""

    name: str
    emails: list[str] = field(default_factory=list)
    jira: str | None = None
    github: str | None = None
    memberships: list[tuple[str, dt.date, dt.date | None, str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HrRow:
    name: str
    email: str
    team: str
    start: dt.date
    end: dt.date | None


def read_people_csv(path: Path) -> list[HrRow]:
    """An HR export: name, email, team, start date[, end date]; one row per stint in a team."""
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=2):
            low = {
                (k or "").strip().lower().replace(" ", "_"): (v or "").strip()
                for k, v in row.items()
            }
            try:
                start = dt.date.fromisoformat(low.get("start") or low.get("start_date") or "")
                end_text = low.get("end") or low.get("end_date") or ""
                end = dt.date.fromisoformat(end_text) if end_text else None
            except ValueError:
                raise ValueError(f"{path}, line {n}: write dates as YYYY-MM-DD") from None
            if not low.get("name") or not low.get("team"):
                raise ValueError(f"{path}, line {n}: name and team are required")
            rows.append(HrRow(low["name"], low.get("email", ""), low["team"], start, end))
    return rows


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML string


def _kind(team: str) -> str:
    low = team.lower()
    for kind in ("research", "enablement", "infra"):
        if kind in low:
            return kind
    return "infra" if "platform" in low else "other"


def _emails(*accounts: Account | None) -> list[str]:
    seen: list[str] = []
    for account in accounts:
        for email in account.emails if account else []:
            if email.lower() not in (e.lower() for e in seen) and not email.endswith(".noreply"):
                seen.append(email)
    return seen


def build_people(found: Discovered, matched: Matched, today: dt.date) -> list[Draft]:
    """Matched pairs and GitHub team members become people; memberships from GitHub teams."""
    domain = main_domain(list(found.jira.values()))
    people: list[Draft] = []
    for m in matched.matches:
        person = Draft(
            m.jira.name or m.github.name or m.github.id,
            _emails(m.jira, m.github),
            m.jira.id,
            m.github.id,
            reasons=[m.reason],
        )
        people.append(_with_teams(person, m.github, m.jira, domain, today))
    for account in matched.github_only:
        if account.teams:
            person = Draft(account.name or account.id, _emails(account), None, account.id)
            person.reasons.append(
                "GitHub only: no Jira account matched (add `jira:` if there is one)"
            )
            people.append(_with_teams(person, account, None, domain, today))
    return people


def _with_teams(
    person: Draft, github: Account, jira: Account | None, domain: str | None, today: dt.date
) -> Draft:
    days = [d for d in (github.first_seen, jira.first_seen if jira else None) if d]
    start = min(days) if days else today
    for team in github.teams:
        person.memberships.append(
            (team, start, None, "GitHub team today; from = first activity seen")
        )
    outside = [e for e in person.emails if domain and not e.lower().endswith("@" + domain)]
    if domain and person.emails and len(outside) == len(person.emails):
        person.reasons.append(f"contractor? no e-mail at {domain}")
    if not github.teams:
        person.reasons.append("in no GitHub team: add memberships if they belong to one")
    return person


def merge_hr(people: list[Draft], rows: list[HrRow], teams: list[str]) -> None:
    """Memberships from the HR export replace GitHub's for the people it names."""
    by_email = {e.lower(): p for p in people for e in p.emails}
    by_name = {normal_name(p.name): p for p in people}
    grouped: dict[int, list[HrRow]] = {}
    persons: dict[int, Draft] = {}
    for row in rows:
        person = by_email.get(row.email.lower()) or by_name.get(normal_name(row.name))
        if person is None:
            person = Draft(row.name, [row.email] if row.email else [])
            person.reasons.append("from the HR export only: no Jira or GitHub account matched")
            people.append(person)
            by_name[normal_name(row.name)] = person
            if row.email:
                by_email[row.email.lower()] = person
        elif row.email and row.email.lower() not in (e.lower() for e in person.emails):
            person.emails.append(row.email)
        grouped.setdefault(id(person), []).append(row)
        persons[id(person)] = person
        if row.team not in teams:
            teams.append(row.team)
    for key, stints in grouped.items():
        person = persons[key]
        person.memberships = [
            (r.team, r.start, r.end, "HR export") for r in sorted(stints, key=lambda r: r.start)
        ]


def _unique_names(people: list[Draft]) -> None:
    seen: dict[str, int] = {}
    for person in people:
        key = person.name
        if key in seen:
            person.name = f"{person.name} ({person.github or person.jira or len(people)})"
        seen[key] = 1


def _dedupe_emails(people: list[Draft]) -> None:
    """The org file refuses one e-mail on two people: the first keeps it."""
    taken: set[str] = set()
    for person in people:
        person.emails = [e for e in person.emails if e.lower() not in taken]
        taken.update(e.lower() for e in person.emails)


def namespace_rules(
    namespaces: list[str], teams: list[str], claimed: Iterable[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """Namespace globs by prefix, with a team when the prefix names one; the rest unclaimed."""
    prefixes: dict[str, list[str]] = {}
    for ns in namespaces:
        if (
            ns in SYSTEM_NAMESPACES
            or ns.startswith("kube-")
            or any(fnmatch.fnmatchcase(ns, glob) for glob in claimed)
        ):
            continue
        prefix = ns.split("-")[0]
        prefixes.setdefault(prefix, []).append(ns)
    rules: dict[str, str] = {}
    left = []
    for prefix, members in prefixes.items():
        team = next(
            (
                t
                for t in teams
                if t.lower().startswith(prefix.lower()) or prefix.lower() in t.lower()
            ),
            None,
        )
        glob = f"{prefix}-*" if len(members) > 1 or members[0] != prefix else prefix
        if team:
            rules[glob] = team
        else:
            left.append(f"{glob} ({', '.join(members[:4])}{', ...' if len(members) > 4 else ''})")
    return rules, left


def render(
    current: dict[str, Any],
    found: Discovered,
    matched: Matched,
    *,
    today: dt.date,
    hr_rows: list[HrRow] | None = None,
) -> str:
    """The draft org file's text."""
    teams = list(found.teams)
    people = build_people(found, matched, today)
    if hr_rows:
        merge_hr(people, hr_rows, teams)
    _unique_names(people)
    _dedupe_emails(people)
    org = dict(current.get("org") or {})
    lines = [
        f"# Draft org file written by `teamtide discover` on {today:%Y-%m-%d}: review it, then",
        "# `teamtide check-config` and `teamtide doctor`. Each person's comment says why their",
        "# accounts were put together; 'same name' and 'login spells' are guesses to confirm.",
        f"# Read: {len(found.jira)} Jira accounts, {len(found.github)} GitHub accounts, "
        f"{len(found.teams)} GitHub teams, {len(found.namespaces)} namespaces.",
    ]
    lines += [f"# Could not read: {p}" for p in found.problems]
    head = {k: v for k, v in current.items() if k == "database"}
    if head:
        lines.append(yaml.safe_dump(head, sort_keys=False, allow_unicode=True).rstrip())
    lines += ["org:", f"  timezone: {_q(str(org.get('timezone', 'UTC')))}", "  teams:"]
    for team in teams:
        size = len(found.teams.get(team, []))
        note = f"GitHub team, {size} members today" if team in found.teams else "HR export"
        lines.append(f"    - name: {_q(team)}  # {note}; rename it here and in memberships")
        lines.append(f"      kind: {_kind(team)}")
    if not teams:
        lines[-1] = "  teams: []"
    lines.append("  people:" if people else "  people: []")
    for p in people:
        lines += [f"    # {reason}" for reason in p.reasons]
        lines.append(f"    - name: {_q(p.name)}")
        if p.emails:
            lines.append(f"      emails: [{', '.join(_q(e) for e in p.emails)}]")
        if p.jira:
            lines.append(f"      jira: {_q(p.jira)}")
        if p.github:
            lines.append(f"      github: {_q(p.github)}")
        if p.memberships:
            lines.append("      memberships:")
            for team, start, end, why in p.memberships:
                until = f", to: {end:%Y-%m-%d}" if end else ""
                lines.append(
                    f"        - {{team: {_q(team)}, from: {start:%Y-%m-%d}{until}}}  # {why}"
                )
    if org.get("reorgs"):
        lines.append("  reorgs:")
        lines += [f"    - {{date: {r['date']}, name: {_q(str(r['name']))}}}" for r in org["reorgs"]]
    stages = {
        name: "waiting"
        for name, category in found.statuses
        if category == "indeterminate" and any(w in name.lower() for w in WAITING_WORDS)
    }
    workflow = dict(current.get("workflow") or {})
    workflow["stages"] = {**stages, **(workflow.get("stages") or {})}
    lines.append("# Jira statuses found: " + ", ".join(f"{n} ({c})" for n, c in found.statuses))
    lines.append("# Each counts by its category (new: todo, indeterminate: active, done: done);")
    lines.append("# name a status under workflow.stages to count it otherwise (waiting, ...).")
    rest = {k: v for k, v in current.items() if k not in ("database", "org", "workflow")}
    unclaimed: list[str] = []
    cluster = (rest.get("sources") or {}).get("cluster")
    if isinstance(cluster, dict) and found.namespaces:
        rules, unclaimed = namespace_rules(
            found.namespaces, teams, list(cluster.get("namespaces") or {})
        )
        cluster["namespaces"] = {**rules, **(cluster.get("namespaces") or {})}
    lines.append(
        yaml.safe_dump({"workflow": workflow}, sort_keys=False, allow_unicode=True).rstrip()
    )
    if rest:
        lines.append(yaml.safe_dump(rest, sort_keys=False, allow_unicode=True).rstrip())
    if unclaimed:
        lines.append(
            "# Namespaces no team's name claims (add `GLOB: TEAM` under sources.cluster.namespaces):"
        )
        lines += [f"#   {u}" for u in unclaimed]
    if matched.bots:
        lines.append("# Bots and service accounts, not people (their work is not anyone's):")
        lines += [
            f"#   {a.source} {a.id}" + (f" ({a.name})" if a.name else "") for a in matched.bots
        ]
    leftovers = [a for a in matched.jira_only] + [a for a in matched.github_only if not a.teams]
    if leftovers:
        lines.append("# Accounts nobody matched (add them to a person, or leave them out):")
        for a in leftovers:
            known = [a.name or "no name", *a.emails[:2], f"{a.works} items"]
            if a.note:
                known.append(a.note)
            lines.append(f"#   {a.source} {a.id}: {'; '.join(known)}")
    return "\n".join(lines) + "\n"
