"""The GitHub collector over GraphQL: a page of 100 pull requests, complete, for a point or two.

The REST path spends a list page, a timeline per changed pull request and a detail per
newly closed one; here one query returns a page with all of it. Everything else is the
REST stream's, on purpose: GraphQL's answer is turned into the shapes of the REST
payloads (`rest_pull`, `rest_events`) and parsed by the same functions, so both paths
reject the same records for the same reasons and store identical rows. Paging, cursors,
overlap and upserts are `PullStream`'s; only how a page is fetched differs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import Engine

from collectors import github_queries as q
from collectors.base import Bookmark, Page, Reject
from collectors.github import (
    OVERLAP,
    GithubApi,
    GithubApiError,
    PullStream,
    Repositories,
    _reject_key,
    _Stored,
)
from collectors.github_parse import (
    ListedPull,
    ParsedPull,
    ParseError,
    add_sizes,
    add_timeline,
    excerpt,
    listed_pull,
    parse_pull,
)
from config.schema import GithubSource

log = logging.getLogger(__name__)

INNER_PAGE = 50  # reviews/draft events and labels read with each pull request; more: nested

REST_STATES = {"OPEN": "open", "CLOSED": "closed", "MERGED": "closed"}
EVENTS = {"ReadyForReviewEvent": "ready_for_review", "ConvertToDraftEvent": "convert_to_draft"}


# ---------------------------------------------------------------- GraphQL to REST shapes


def _login(actor: Any) -> Any:
    """An actor as a REST simple-user; what is not an object stays as it is (it is rejected)."""
    if isinstance(actor, Mapping):
        return {"login": actor.get("login")}
    return actor


def _nodes(connection: Any) -> list[Any]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return list(nodes) if isinstance(nodes, list) else []


def rest_pull(node: Any) -> Any:
    """A GraphQL pull request as the REST list endpoint states it (what `parse_pull` reads)."""
    if not isinstance(node, Mapping):
        return node
    state = node.get("state")
    return {
        "number": node.get("number"),
        "id": node.get("fullDatabaseId"),
        "title": node.get("title"),
        "user": _login(node.get("author")),
        "state": REST_STATES.get(state, state) if isinstance(state, str) else state,
        "draft": node.get("isDraft"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "merged_at": node.get("mergedAt"),
        "closed_at": node.get("closedAt"),
        "labels": [
            {"name": label.get("name")} if isinstance(label, Mapping) else label
            for label in _nodes(node.get("labels"))
        ],
        "head": {"ref": node.get("headRefName")},
        "html_url": node.get("url"),
    }


def rest_events(items: list[Any]) -> list[Any]:
    """Timeline items as the REST issue timeline states them (what `add_timeline` reads)."""
    events: list[Any] = []
    for item in items:
        if not isinstance(item, Mapping):
            events.append(item)  # not an object: the timeline parser says so
            continue
        kind = item.get("__typename")
        if kind == "PullRequestReview":
            events.append(
                {
                    "event": "reviewed",
                    "id": item.get("fullDatabaseId"),
                    "user": _login(item.get("author")),
                    "state": item.get("state"),
                    "submitted_at": item.get("submittedAt"),
                }
            )
        elif kind in EVENTS:
            events.append({"event": EVENTS[kind], "created_at": item.get("createdAt")})
    return events


def _more(connection: Any) -> str | None:
    """The cursor after a connection's page when it has more, else None."""
    info = connection.get("pageInfo") if isinstance(connection, Mapping) else None
    if isinstance(info, Mapping) and info.get("hasNextPage") and info.get("endCursor"):
        return str(info["endCursor"])
    return None


def _split(full_name: str) -> tuple[str, str]:
    owner, _, name = full_name.partition("/")
    return owner, name


PULL_NODES = ["repository", "pullRequests", "nodes"]


def broken_nodes(errors: list[Mapping[str, Any]], count: int) -> dict[int, list[Mapping[str, Any]]]:
    """The page's pull requests GitHub could not resolve, by index, with their errors.

    An error elsewhere than in a pull request of the page leaves the page incomplete:
    a GithubApiError (retried; the page is never stored as if whole).
    """
    found: dict[int, list[Mapping[str, Any]]] = {}
    for error in errors:
        path = error.get("path")
        index = path[len(PULL_NODES)] if isinstance(path, list) and len(path) > 3 else None
        if path[: len(PULL_NODES)] != PULL_NODES or not isinstance(index, int) or index >= count:
            said = str(error.get("message") or "")[:200]
            raise GithubApiError(502, f"a partial answer to Pulls, at {path}: {said}")
        found.setdefault(index, []).append(error)
    return found


def unresolved(repo: str, node: Any, errors: list[Mapping[str, Any]]) -> Reject:
    """A pull request GitHub answered with an error: set aside with what it said."""
    raw = rest_pull(node) if isinstance(node, Mapping) else None
    key = _reject_key(repo, raw) if raw is not None else repo
    first = errors[0]
    field = ".".join(str(p) for p in first.get("path", [])[len(PULL_NODES) + 1 :]) or "the record"
    reason = f"GitHub could not resolve {field}: {first.get('message') or 'no message'}"
    payload = excerpt(raw) if raw is not None else json.dumps({"path": first.get("path")})
    return Reject(key, reason, payload)


# ---------------------------------------------------------------- partitions


class GraphqlRepositories(Repositories):
    """The repositories, each organisation's listed by GraphQL with its pull-request count."""

    def __init__(self, api: GithubApi, source: GithubSource) -> None:
        super().__init__(api, source)
        self.counts: dict[str, int] = {}  # pull requests per repository, where seen

    def names(self) -> list[str]:
        if self._names is None:
            found: dict[str, str] = {}
            for name in self.source.repos:
                found.setdefault(name.lower(), name)
            for org in self.source.orgs:
                try:
                    listed = self.org_repositories(org)
                except (GithubApiError, OSError) as exc:
                    log.warning("cannot list the repositories of %s: %s", org, exc)
                    self.errors[f"{org}/*"] = exc
                    found.setdefault(f"{org}/*".lower(), f"{org}/*")
                    continue
                for name, total in listed.items():
                    found.setdefault(name.lower(), name)
                    self.counts[name] = total
            self._names = list(found.values())
        return self._names

    def org_repositories(self, org: str) -> dict[str, int]:
        """An organisation's repositories, each with how many pull requests it holds."""
        listed: dict[str, int] = {}
        after: str | None = None
        while True:
            data = self.api.graphql(
                "OrgRepositories", q.ORG_REPOSITORIES, {"login": org, "after": after}
            )
            organization = data.get("organization")
            if not isinstance(organization, Mapping):
                raise GithubApiError(404, f"HTTP 404 from POST /graphql: no organisation {org}")
            connection = organization.get("repositories")
            for repo in _nodes(connection):
                name = repo.get("nameWithOwner") if isinstance(repo, Mapping) else None
                if isinstance(name, str):
                    pulls = repo.get("pullRequests")
                    total = pulls.get("totalCount") if isinstance(pulls, Mapping) else None
                    listed[name] = total if isinstance(total, int) else 0
            after = _more(connection)
            if after is None:
                return listed

    def count(self, repos: list[str]) -> dict[str, int]:
        """How many pull requests each repository holds: batched counting queries."""
        counts = {name: self.counts[name] for name in repos if name in self.counts}
        unknown = [name for name in repos if name not in counts and not name.endswith("/*")]
        for start in range(0, len(unknown), q.COUNT_BATCH):
            batch = unknown[start : start + q.COUNT_BATCH]
            query, variables = q.count_pulls(batch)
            data = self.api.graphql("CountPulls", query, variables)
            for i, name in enumerate(batch):
                repo = data.get(f"r{i}")
                pulls = repo.get("pullRequests") if isinstance(repo, Mapping) else None
                total = pulls.get("totalCount") if isinstance(pulls, Mapping) else None
                counts[name] = total if isinstance(total, int) else 0
        self.counts.update(counts)
        return counts


# ---------------------------------------------------------------- the stream


class GraphqlPullStream(PullStream):
    """`PullStream` with its pages read through GraphQL (same table, cursors and rows)."""

    def __init__(
        self,
        api: GithubApi,
        engine: Engine,
        repos: Repositories,
        projects: Callable[[], frozenset[str]],
        *,
        sizes: bool = True,
        overlap: dt.timedelta = OVERLAP,
        inner_page: int = INNER_PAGE,
    ) -> None:
        super().__init__(api, engine, repos, projects, sizes=sizes, overlap=overlap)
        self.inner_page = inner_page

    def total(self, bookmark: Bookmark) -> int | None:
        """On a first or full sync, the repository's pull requests (known from its listing)."""
        counts = getattr(self.repos, "counts", {})
        return counts.get(bookmark.partition) if bookmark.cursor is None else None

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        repo, stop, full = bookmark.partition, bookmark.since, bookmark.full
        owner, name = _split(repo)
        after: str | None = None
        while True:
            variables = {
                "owner": owner,
                "name": name,
                "first": self.api.per_page,
                "after": after,
                "inner": self.inner_page,
            }
            data, errors = self.api.graphql_partial("Pulls", q.PULLS, variables)
            repository = data.get("repository")
            if not isinstance(repository, Mapping):
                raise GithubApiError(404, f"HTTP 404 from POST /graphql: no repository {repo}")
            connection = repository.get("pullRequests")
            nodes = _nodes(connection)
            broken = broken_nodes(errors, len(nodes))
            page, done = self._graphql_page(repo, nodes, stop, full, broken)
            yield page
            after = _more(connection)
            if done or after is None or not nodes:
                return

    def _graphql_page(
        self,
        repo: str,
        nodes: list[Any],
        stop: dt.datetime | None,
        full: bool,
        broken: Mapping[int, list[Mapping[str, Any]]],
    ) -> tuple[Page, bool]:
        rejects: list[Reject] = []
        listed: list[tuple[ListedPull, Mapping[str, Any]]] = []
        done = False
        for index, node in enumerate(nodes):
            if index in broken:
                rejects.append(unresolved(repo, node, broken[index]))
                continue
            raw = rest_pull(node)
            try:
                item = listed_pull(raw)
            except ParseError as exc:
                rejects.append(Reject(_reject_key(repo, raw), str(exc), excerpt(raw)))
                continue
            if stop is not None and item.updated_at < stop:
                done = True  # newest first: everything after this is older still
                break
            listed.append((item, node))
        node_of = {item.number: node for item, node in listed}
        page = self._finish(
            repo,
            [item for item, _ in listed],
            lambda item, known: self._whole(repo, item, node_of[item.number], known, full),
            full=full,
            rejects=rejects,
            items=len(nodes),
        )
        return page, done

    def _whole(
        self,
        repo: str,
        item: ListedPull,
        node: Mapping[str, Any],
        known: _Stored | None,
        full: bool,
    ) -> ParsedPull:
        """A listed pull request completed: labels and timeline past the first page fetched."""
        raw = dict(item.raw)
        labels = self._rest_of(node, "labels", q.MORE_LABELS, "MoreLabels")
        raw["labels"] = [
            *raw["labels"],
            *({"name": n.get("name")} if isinstance(n, Mapping) else n for n in labels),
        ]
        pull = parse_pull(raw, repo, self.projects)
        timeline = [
            *_nodes(node.get("timelineItems")),
            *self._rest_of(node, "timelineItems", q.MORE_TIMELINE, "MoreTimeline"),
        ]
        add_timeline(pull, rest_events(timeline))
        if self.sizes and item.closed_at is not None:
            # Stated with every page; stored once final, as the REST path does (an open
            # pull request's size is still moving, and the REST path leaves it unread).
            add_sizes(
                pull, {"additions": node.get("additions"), "deletions": node.get("deletions")}
            )
        return pull

    def _rest_of(self, node: Mapping[str, Any], field: str, query: str, name: str) -> list[Any]:
        """The items of a pull request's connection beyond the page its listing held."""
        after = _more(node.get(field))
        found: list[Any] = []
        while after is not None:
            variables = {"id": node.get("id"), "after": after, "first": self.inner_page}
            data = self.api.graphql(name, query, variables)
            pull = data.get("node")
            if not isinstance(pull, Mapping) or not isinstance(pull.get(field), Mapping):
                raise GithubApiError(404, f"HTTP 404 from POST /graphql: node {node.get('id')}")
            found.extend(_nodes(pull[field]))
            after = _more(pull[field])
        return found
