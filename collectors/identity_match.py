"""One person's accounts across Jira and GitHub, matched with a reason a reviewer can check.

Pure logic over what discovery read: accounts in, matches and leftovers out. Evidence is
taken strongest first (a shared e-mail, then the same normalised name, then a login that
spells the name), and a name or login is used only when it points at exactly one account
on each side: two people who share a name are left apart rather than merged by guess.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

BOT_WORDS = re.compile(r"\b(bot|service account|automation|machine user)\b", re.IGNORECASE)
LOGIN_NOISE = re.compile(r"(-ext|-acme|dev|[0-9]+|x+)$")


@dataclass
class Account:
    """An account as a source shows it."""

    source: str  # jira | github
    id: str  # Jira account id, GitHub login
    names: list[str] = field(default_factory=list)  # display/profile name first, then commit names
    emails: list[str] = field(default_factory=list)
    bot: bool = False
    first_seen: dt.date | None = None
    teams: list[str] = field(default_factory=list)  # GitHub teams it is a member of
    works: int = 0  # issues or pull requests it touched
    note: str = ""  # how it was found, when that is not the obvious way

    @property
    def name(self) -> str | None:
        return self.names[0] if self.names else None


@dataclass
class Match:
    jira: Account
    github: Account
    reason: str


@dataclass
class Matched:
    matches: list[Match]
    bots: list[Account]
    jira_only: list[Account]
    github_only: list[Account]


def normal_name(name: str | None) -> str:
    """'  Séan  O'Brien ' -> 'sean obrien': accents, case, punctuation and spacing aside."""
    if not name:
        return ""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z ]", "", plain.lower()).split())


def is_bot(account: Account) -> bool:
    return account.id.endswith("[bot]") or any(BOT_WORDS.search(n) for n in account.names)


def login_spellings(name: str) -> set[str]:
    """The ways a login commonly spells a name: adaeriksen, aeriksen, adae, eriksena, ada-eri."""
    parts = normal_name(name).replace(" ", "-").split("-")
    if len(parts) < 2:
        return {parts[0]} if parts and parts[0] else set()
    first, last = parts[0], "".join(parts[1:])
    return {
        first + last,
        first[0] + last,
        first + last[0],
        last + first[0],
        last + first,
        first + last[:3],
    }


def login_core(login: str) -> str:
    """A login without the decorations people add: 'eriksena-acme' -> 'eriksena'."""
    core = login.lower()
    for _ in range(3):
        stripped = LOGIN_NOISE.sub("", core)
        if stripped == core or not stripped:
            break
        core = stripped
    return re.sub(r"[^a-z]", "", core)


def _unique_pairs(
    jira: list[Account],
    github: list[Account],
    keys_j: dict[str, set[str]],
    keys_g: dict[str, set[str]],
) -> list[tuple[Account, Account, str]]:
    """Pairs that share a key which no other account on either side holds."""
    count_j: Counter[str] = Counter(k for a in jira for k in keys_j[a.id])
    count_g: Counter[str] = Counter(k for a in github for k in keys_g[a.id])
    by_key = {k: a for a in github for k in keys_g[a.id] if count_g[k] == 1}
    pairs = []
    taken: set[str] = set()
    for a in jira:
        for key in sorted(keys_j[a.id]):
            other = by_key.get(key)
            if count_j[key] == 1 and other is not None and other.id not in taken:
                pairs.append((a, other, key))
                taken.add(other.id)
                break
    return pairs


def _names(accounts: list[Account], everyone: list[Account]) -> dict[str, set[str]]:
    """Each account's normalised names that no other account of `everyone` carries."""
    count = Counter(n for a in everyone for n in {normal_name(x) for x in a.names} - {""})
    return {
        a.id: {n for n in {normal_name(x) for x in a.names} if n and count[n] == 1}
        for a in accounts
    }


def match(jira: list[Account], github: list[Account]) -> Matched:
    """Match Jira accounts to GitHub accounts; bots are set apart first."""
    bots = [a for a in [*jira, *github] if a.bot or is_bot(a)]
    bot_ids = {(a.source, a.id) for a in bots}
    jira_left = [a for a in jira if ("jira", a.id) not in bot_ids]
    github_left = [a for a in github if ("github", a.id) not in bot_ids]
    matches: list[Match] = []

    def take(pairs: list[tuple[Account, Account, str]], reason: str) -> None:
        nonlocal jira_left, github_left
        for j, g, key in pairs:
            matches.append(Match(j, g, reason.format(key=key)))
        used_j = {j.id for j, _, _ in pairs}
        used_g = {g.id for _, g, _ in pairs}
        jira_left = [a for a in jira_left if a.id not in used_j]
        github_left = [a for a in github_left if a.id not in used_g]

    emails_j = {a.id: {e.lower() for e in a.emails} for a in jira_left}
    emails_g = {a.id: {e.lower() for e in a.emails} for a in github_left}
    take(_unique_pairs(jira_left, github_left, emails_j, emails_g), "same e-mail {key}")
    # a name is ambiguous when another account on that side, matched or not, carries it too
    names_j = _names(jira_left, [a for a in jira if ("jira", a.id) not in bot_ids])
    names_g = _names(github_left, [a for a in github if ("github", a.id) not in bot_ids])
    take(_unique_pairs(jira_left, github_left, names_j, names_g), "same name '{key}'")
    spelled_j = {
        a.id: set().union(*(login_spellings(n) for n in a.names)) if a.names else set()
        for a in jira_left
    }
    # a login is no evidence for an account whose name another GitHub account shares
    cores_g = {
        a.id: {login_core(a.id)} if names_g.get(a.id) or not a.names else set() for a in github_left
    }
    take(
        _unique_pairs(jira_left, github_left, spelled_j, cores_g),
        "the GitHub login spells the Jira name ('{key}')",
    )
    return Matched(matches, bots, jira_left, github_left)


def main_domain(accounts: list[Account]) -> str | None:
    """The e-mail domain most accounts use: the organisation's own."""
    domains = Counter(
        e.rsplit("@", 1)[-1].lower() for a in accounts for e in a.emails[:1] if "@" in e
    )
    return domains.most_common(1)[0][0] if domains else None
