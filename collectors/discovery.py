"""What the configured sources already know about the organisation, read for `teamtide discover`.

GitHub: the organisations' teams and members, each login's profile, pull-request
authors and the name and e-mail on one commit of each author. Jira: everyone the JQL's
issues touch (assignee, reporter, commenters, editors), with the e-mail where the site
shows it, and a user search for the GitHub people nobody in those issues matched.
Kubernetes: the namespaces. The reading is here; matching is `identity_match`'s job and
the draft file `draft`'s.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from collectors.github import GithubApi, GithubApiError, Repositories
from collectors.identity_match import Account
from collectors.jira import JiraApi
from collectors.retry import ApiError
from config.schema import Config

log = logging.getLogger(__name__)
USER_FIELDS = ("assignee", "reporter", "comment", "created", "status")
Note = Callable[[str], None]


def quiet(_message: str) -> None:
    pass


@dataclass
class Discovered:
    """Everything discovery read, before matching."""

    jira: dict[str, Account] = field(default_factory=dict)  # by account id
    github: dict[str, Account] = field(default_factory=dict)  # by lower login
    teams: dict[str, list[str]] = field(default_factory=dict)  # GitHub team name -> logins
    statuses: list[tuple[str, str]] = field(default_factory=list)  # (name, category key)
    namespaces: list[str] = field(default_factory=list)
    repos: list[str] = field(default_factory=list)
    requests: int = 0
    problems: list[str] = field(default_factory=list)  # a source that could not be read


def _seen(account: Account, day: dt.date | None) -> None:
    account.works += 1
    if day is not None and (account.first_seen is None or day < account.first_seen):
        account.first_seen = day


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _add_email(account: Account, email: Any) -> None:
    if (
        isinstance(email, str)
        and "@" in email
        and email.lower() not in (e.lower() for e in account.emails)
    ):
        account.emails.append(email)


def _add_name(account: Account, name: Any) -> None:
    if isinstance(name, str) and name.strip() and name not in account.names:
        account.names.append(name)


def jira_user(found: Discovered, user: Any, day: dt.date | None = None) -> Account | None:
    if not isinstance(user, Mapping):
        return None
    ident = user.get("accountId") or user.get("name") or user.get("key")
    if not isinstance(ident, str):
        return None
    account = found.jira.setdefault(ident, Account("jira", ident))
    _add_name(account, user.get("displayName"))
    _add_email(account, user.get("emailAddress"))
    if user.get("accountType") in ("app", "customer"):
        account.bot = user.get("accountType") == "app"
    if day is not None:
        _seen(account, day)
    return account


def read_jira(api: JiraApi, jql: str, found: Discovered, page_size: int) -> None:
    """Accounts the JQL's issues touch, and the site's statuses."""
    found.statuses = [
        (s.get("name"), (s.get("statusCategory") or {}).get("key", ""))
        for s in api.request("GET", "status") or []
        if isinstance(s, Mapping) and s.get("name")
    ]
    for issues in api.search(jql, USER_FIELDS, page_size):
        for issue in issues:
            fields = issue.get("fields") or {}
            day = _day(fields.get("created"))
            for key in ("assignee", "reporter"):
                jira_user(found, fields.get(key), day)
            for comment in (fields.get("comment") or {}).get("comments") or []:
                jira_user(found, comment.get("author"), _day(comment.get("created")))
            for history in (issue.get("changelog") or {}).get("histories") or []:
                jira_user(found, history.get("author"), _day(history.get("created")))


def search_jira(api: JiraApi, accounts: Iterable[Account], found: Discovered) -> None:
    """Look up GitHub people in Jira's user search: by e-mail first, then by name."""
    for account in accounts:
        for query in [*account.emails, *account.names[:1]]:
            key = "query" if api.cloud else "username"
            users = api.request("GET", "user/search", params={key: query, "maxResults": 10})
            hits = [u for u in users or [] if isinstance(u, Mapping)]
            if len(hits) == 1:
                known = hits[0].get("accountId") in found.jira
                hit = jira_user(found, hits[0])
                if hit is not None and not known:
                    hit.note = f"found by Jira user search for {query!r}"
                break


def github_user(found: Discovered, login: Any) -> Account | None:
    if not isinstance(login, str) or not login:
        return None
    account = found.github.setdefault(login.lower(), Account("github", login))
    return account


def read_github(
    api: GithubApi, repos: Repositories, orgs: list[str], found: Discovered, note: Note = quiet
) -> None:
    """Teams and members of `orgs`, pull-request authors, profiles, one commit per author."""
    for org in orgs:
        note(f"GitHub: the teams and members of {org}")
        try:
            teams = api.all(f"/orgs/{org}/teams")
        except GithubApiError as exc:
            found.problems.append(f"GitHub teams of {org}: {exc}")
            teams = []
        for team in teams:
            members = api.all(f"/orgs/{org}/teams/{team['slug']}/members")
            logins = [m["login"] for m in members if isinstance(m, Mapping) and m.get("login")]
            found.teams[team.get("name") or team["slug"]] = logins
            for login in logins:
                account = github_user(found, login)
                if account is not None:
                    account.teams.append(team.get("name") or team["slug"])
        try:
            for member in api.all(f"/orgs/{org}/members"):
                github_user(found, member.get("login"))
        except GithubApiError as exc:
            found.problems.append(f"GitHub members of {org}: {exc}")
    first_pull: dict[str, tuple[str, int]] = {}
    found.repos = repos.names()
    for repo in found.repos:
        if repo.endswith("/*"):
            continue
        note(f"GitHub: the pull-request authors of {repo}")
        for pull in api.all(f"/repos/{repo}/pulls", {"state": "all", "sort": "created"}):
            user = pull.get("user") or {}
            account = github_user(found, user.get("login"))
            if account is None:
                continue
            if user.get("type") == "Bot":
                account.bot = True
            _seen(account, _day(pull.get("created_at")))
            first_pull.setdefault(account.id.lower(), (repo, int(pull["number"])))
    note(f"GitHub: the profiles of {len(found.github)} accounts")
    for key, account in found.github.items():
        if account.bot or account.id.endswith("[bot]"):
            continue
        _, profile = api.get(f"/users/{account.id}")
        _add_name(account, profile.get("name"))
        _add_email(account, profile.get("email"))
        if profile.get("type") == "Bot":
            account.bot = True
        if key in first_pull:
            repo, number = first_pull[key]
            commits = api.all(f"/repos/{repo}/pulls/{number}/commits", {"per_page": 5})
            for commit in commits[:1]:
                author = (commit.get("commit") or {}).get("author") or {}
                _add_name(account, author.get("name"))
                _add_email(account, author.get("email"))


def read_namespaces(config: Config) -> list[str]:
    from collectors.cluster import KubeApi

    source = config.sources.cluster
    if source is None or not (source.api_url or source.kubeconfig or source.in_cluster):
        return []
    api = KubeApi(source)
    try:
        return sorted(ns["metadata"]["name"] for ns in api.list("namespaces"))
    finally:
        api.close()


def discover(config: Config, note: Note = quiet) -> Discovered:
    """Read every configured source; a source that fails is named in `problems`, not fatal.

    `note` hears what is being read, for a progress line.
    """
    found = Discovered()
    jira_api = None
    if config.sources.jira is not None:
        source = config.sources.jira
        jira_api = JiraApi(source, {})
        try:
            note("Jira: the accounts the JQL's issues touch")
            read_jira(jira_api, source.jql, found, source.page_size)
        except (ApiError, OSError) as exc:
            found.problems.append(f"Jira: {exc}")
            jira_api = None
    github = config.sources.github
    if github is not None:
        api = GithubApi(github)
        orgs = list(github.orgs) or sorted({r.split("/")[0] for r in github.repos})
        try:
            read_github(api, Repositories(api, github), orgs, found, note)
        except (ApiError, OSError) as exc:
            found.problems.append(f"GitHub: {exc}")
        found.requests += api.take_requests()
    if jira_api is not None and found.github:
        from collectors.identity_match import match

        left = match(list(found.jira.values()), list(found.github.values())).github_only
        try:
            note(f"Jira: a user search for {len(left)} GitHub accounts nobody matched")
            search_jira(jira_api, [a for a in left if a.teams or a.emails], found)
        except (ApiError, OSError) as exc:
            found.problems.append(f"Jira user search: {exc}")
    if jira_api is not None:
        found.requests += jira_api.take_requests()
    try:
        note("Kubernetes: the namespaces")
        found.namespaces = read_namespaces(config)
    except Exception as exc:  # any cluster failure is one line in the draft
        found.problems.append(f"Kubernetes namespaces: {exc}")
    return found
