"""Who is who across Jira and GitHub: the planted truth that `teamtide discover` is measured on.

A real organisation's accounts do not line up: Jira Cloud hides some people's e-mail,
commits carry a personal address, a login was renamed to a handle, two people share a
name, machine users sit in the organisation. This module adds such cases to a generated
world without touching anything it already holds: its draws come from a random stream
of their own (seeded from the world's seed and "identities"), and the accounts it adds
do no work (no issue, pull request or comment), so every planted figure stays as it was.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox.world.model import Person, World
from sandbox.world.vocabulary import FIRST_NAMES, LAST_NAMES

HIDDEN_EMAIL_SHARE = 0.25  # Jira Cloud users whose profile hides their e-mail
STREAM = zlib.crc32(b"identities")


@dataclass(frozen=True, slots=True)
class GithubTeam:
    slug: str
    name: str
    members: tuple[str, ...]  # logins, as GitHub lists them


@dataclass(frozen=True, slots=True)
class Extra:
    """An account (or a pair) that does no work: only team lists, profiles and user search show it."""

    case: str  # renamed | lookalike | service_account | jira_app
    name: str
    github: str | None = None
    github_name: str | None = None  # the profile's name (None: not set)
    github_email: str | None = None  # the profile's public e-mail
    jira: str | None = None
    jira_email: str | None = None
    jira_type: str = "atlassian"  # "app" for Jira's own automation accounts
    previous_login: str | None = None
    same_person_as: str | None = None  # lookalike: whose name it shares (a login), not who it is


@dataclass(slots=True)
class Identities:
    org: str  # the GitHub organisation that owns the repositories
    teams: list[GithubTeam]
    org_members: list[str]  # every login in the organisation, team or not
    extras: list[Extra]
    hidden_emails: frozenset[str] = frozenset()  # Jira account ids whose e-mail Cloud hides
    github_profiles: dict[str, Extra] = field(default_factory=dict)  # lower login -> extra

    def jira_users(self, world: World) -> list[dict[str, Any]]:
        """Every Jira account a user search can find: name, e-mail (None when hidden), type."""
        users = [
            {
                "accountId": p.jira_account_id,
                "displayName": p.name,
                "emailAddress": None if p.jira_account_id in self.hidden_emails else p.email,
                "accountType": "atlassian",
            }
            for p in world.people
            if p.jira_account_id and not p.github_login.endswith("[bot]")
        ]
        users += [
            {
                "accountId": e.jira,
                "displayName": e.name,
                "emailAddress": e.jira_email,
                "accountType": e.jira_type,
            }
            for e in self.extras
            if e.jira
        ]
        return users


def build_identities(world: World) -> Identities:
    """The planted identity cases of `world`, drawn from their own stream."""
    rng = np.random.default_rng([world.seed, STREAM])
    org = world.repos[0].full_name.split("/")[0] if world.repos else "acme"
    today = world.clock.date()
    by_team: dict[str, list[str]] = {t.name: [] for t in world.teams}
    for p in world.people:
        if not p.in_org_file:
            continue
        for m in p.memberships:
            if m.start <= today and (m.end is None or m.end >= today):
                by_team[m.team].append(p.github_login)
    teams = [
        GithubTeam(name.lower().replace(" ", "-"), name, tuple(sorted(logins, key=str.lower)))
        for name, logins in by_team.items()
        if logins
    ]
    staff = [p for p in world.people if p.in_org_file]
    hidden = frozenset(p.jira_account_id for p in staff if rng.random() < HIDDEN_EMAIL_SHARE)
    taken = {p.name for p in world.people}
    extras = [
        *_renamed(rng, taken, org),
        *_lookalikes(rng, staff, today),
        Extra("service_account", "Deploy Service Account", github=f"{org}-deploy"),
        Extra(
            "jira_app",
            "Automation for Jira",
            jira=f"557058:{_hex(rng, 8)}-{_hex(rng, 4)}",
            jira_type="app",
        ),
    ]
    members = {p.github_login for p in staff} | {e.github for e in extras if e.github}
    return Identities(
        org=org,
        teams=teams,
        org_members=sorted(members, key=str.lower),
        extras=extras,
        hidden_emails=hidden,
        github_profiles={e.github.lower(): e for e in extras if e.github},
    )


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join(f"{int(v):x}" for v in rng.integers(0, 16, n))


def _fresh_name(rng: np.random.Generator, taken: set[str]) -> tuple[str, str]:
    while True:
        fn = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        ln = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        if f"{fn} {ln}" not in taken:
            taken.add(f"{fn} {ln}")
            return fn, ln


def _renamed(rng: np.random.Generator, taken: set[str], org: str) -> list[Extra]:
    """Someone who renamed their login to a handle and left the profile's name empty.

    Only the e-mail ties the two accounts: the profile's public address is the one Jira
    shows.
    """
    fn, ln = _fresh_name(rng, taken)
    handle = ("quietfox", "nightjar", "tidewalker", "loopholes")[int(rng.integers(4))]
    email = f"{fn.lower()}.{ln.lower()}@{org}.example"
    return [
        Extra(
            "renamed",
            f"{fn} {ln}",
            github=f"{handle}{int(rng.integers(10, 99))}",
            github_email=email,
            jira=_hex(rng, 24),
            jira_email=email,
            previous_login=f"{fn.lower()}{ln.lower()}",
        )
    ]


def _lookalikes(rng: np.random.Generator, staff: list[Person], today: dt.date) -> list[Extra]:
    """Two outsiders in the organisation who share a name with someone on the staff.

    One has exactly a staff member's name, the other the same first name and a last
    name one letter apart; neither is that person, and neither has a Jira account.
    """
    chosen = rng.choice(len(staff), size=min(2, len(staff)), replace=False)
    out = []
    for k, i in enumerate(chosen.tolist()):
        person = staff[i]
        first, _, last = person.name.partition(" ")
        name = person.name if k == 0 else f"{first} {last[:-1]}{'s' if last[-1] != 's' else 'z'}"
        login = f"{first.lower()}-{last.lower()}-{('sales', 'legal')[k]}"
        out.append(
            Extra(
                "lookalike",
                name,
                github=login,
                github_name=name,
                same_person_as=person.github_login,
            )
        )
    return out


def identity_truth(world: World) -> dict[str, Any]:
    """Which accounts belong together (`sandbox truth --identities`), with the planted cases.

    `people` are the real people with their Jira account, GitHub login and e-mails;
    `pairs` the (Jira account, GitHub login) pairs a discovery should propose, no more;
    `apart` accounts that are not people (bots, service accounts, Jira apps); `cases`
    names, per planted case, the accounts it concerns.
    """
    ids = world.identities
    if ids is None:
        raise ValueError("this world has no planted identities")
    people = []
    for p in world.people:
        if p.github_login.endswith("[bot]"):
            continue
        people.append(
            {
                "name": p.name,
                "jira": p.jira_account_id,
                "github": p.github_login,
                "emails": [p.email, *p.other_emails],
                "email_hidden": p.jira_account_id in ids.hidden_emails,
                "in_org_file": p.in_org_file,
                "contractor": not p.in_org_file,
            }
        )
    for e in ids.extras:
        if e.case == "renamed":
            people.append(
                {
                    "name": e.name,
                    "jira": e.jira,
                    "github": e.github,
                    "previous_login": e.previous_login,
                    "emails": [e.jira_email],
                    "email_hidden": False,
                    "in_org_file": False,
                    "contractor": False,
                }
            )
        elif e.case == "lookalike":
            people.append(
                {
                    "name": e.name,
                    "jira": None,
                    "github": e.github,
                    "emails": [],
                    "in_org_file": False,
                    "contractor": False,
                    "looks_like": e.same_person_as,
                }
            )
    apart = [
        {"source": "github", "account": p.github_login}
        for p in world.people
        if p.github_login.endswith("[bot]")
    ]
    apart += [
        {"source": "github" if e.github else "jira", "account": e.github or e.jira}
        for e in ids.extras
        if e.case in ("service_account", "jira_app")
    ]
    two_emails = [p["github"] for p in people if len(p["emails"]) > 1]
    return {
        "org": ids.org,
        "teams": {t.slug: {"name": t.name, "members": list(t.members)} for t in ids.teams},
        "people": people,
        "pairs": sorted([p["jira"], p["github"]] for p in people if p["jira"] and p["github"]),
        "apart": apart,
        "cases": {
            "two_emails": two_emails,
            "hidden_email": [p["jira"] for p in people if p.get("email_hidden")],
            "renamed_login": [e.github for e in ids.extras if e.case == "renamed"],
            "contractor": [p["github"] for p in people if p["contractor"]],
            "lookalike": [e.github for e in ids.extras if e.case == "lookalike"],
            "bot": [a["account"] for a in apart],
        },
    }
