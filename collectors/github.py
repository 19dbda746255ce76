"""The GitHub collector's REST path and the client both paths share (`api: rest`).

The client (`GithubApi`) carries PyGithub, the sign-in, retries and both of GitHub's
budgets: REST's, from the response headers, and GraphQL's, from each answer's
`rateLimit`. The GraphQL path (`collectors.github_graphql`) is this stream with its pages
fetched another way.

One partition, with its own cursor, per repository (the configured ones plus every
repository of each configured organisation). GitHub's pull list has no `since`, so it
is read newest-updated first and stops at the repository's cursor minus a small overlap;
the cursor (the newest `updated_at` seen) is stored only once the whole repository is
done, because a newest-first cursor stored earlier would skip older changes after a crash.
Pages are still committed as they come; upserts make the repeat after a crash harmless,
and a pull whose stored `updated_at` equals the listed one costs no further request.

Requests per changed pull request: one timeline (it carries the reviews and the
`ready_for_review` event, so neither `/reviews` nor `/events` is needed), plus, once the
pull request is closed and its size final, one detail request for additions/deletions
(the only endpoint stating them). Open pull requests have no size yet: paying a detail
request on every change of an open pull request would double the cost of a sync for a
number no metric reads until the pull request is done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import github
from github.GithubException import GithubException
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from collectors.base import Bookmark, Page, Partitions, Progress, Reject, Stream
from collectors.github_app import sign_in
from collectors.github_parse import (
    ListedPull,
    ParsedPull,
    ParseError,
    add_sizes,
    add_timeline,
    excerpt,
    issue_accounts,
    listed_pull,
    parse_issue,
    parse_pull,
    parse_time,
    projects_in_jql,
)
from collectors.identities import record_accounts
from collectors.retry import ApiError, Retrying, RetryPolicy
from config.redaction import shorten
from config.schema import Config, GithubSource
from db import models
from db.sync import replace_children, stored_projects, stored_pulls

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (
    30  # seconds without a byte before a request counts as hung (PyGithub wants an int)
)
OVERLAP = dt.timedelta(minutes=5)  # re-read this much before the cursor: clocks and replicas lag
RATE_RESERVE = 5  # requests left in the primary budget when we stop and wait for its reset
MAX_RATE_WAIT = 3700.0  # GitHub's window is an hour: a longer wait means something else is wrong
SECONDARY_WAIT = 60.0  # GitHub: without Retry-After, wait at least a minute after a secondary limit


class GithubApiError(ApiError):
    """A GitHub answer other than 2xx."""


class RateLimitWait(GithubApiError):
    """A rate limit: retried after `Retry-After` (secondary) or once the budget resets (primary)."""

    def __init__(self, message: str, retry_after: float, *, primary: bool) -> None:
        super().__init__(429, message, {"Retry-After": f"{retry_after:g}"})
        self.primary = primary


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, Mapping) else {}
    text = data.get("message") if isinstance(data.get("message"), str) else ""
    return shorten(text.splitlines()[0], 300) if text else ""  # whole words: secrets stay whole


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path or url


def api_error(exc: GithubException, url: str, method: str = "GET") -> GithubApiError:
    """PyGithub's exception, reduced to status and message, and sorted: rate limit or not.

    A secondary limit becomes a 429 with Retry-After (a minute when GitHub names none), which
    `call_with_retries` honours; a spent primary budget is retried at once, and the budget
    check before every request then waits for the reset.
    """
    status, message = exc.status, _message(exc)
    headers = {k.lower(): str(v) for k, v in (exc.headers or {}).items()}
    text = f"HTTP {status} from {method} {_path(url)}" + (f": {message}" if message else "")
    lowered = message.lower()
    primary = lowered.startswith("api rate limit exceeded") or (
        status in (403, 429)
        and headers.get("x-ratelimit-remaining") == "0"
        and "retry-after" not in headers
    )
    secondary = "secondary rate limit" in lowered or (
        status in (403, 429) and "retry-after" in headers
    )
    if primary and not secondary:
        return RateLimitWait(text, 0, primary=True)
    if secondary:
        try:
            wait = float(headers.get("retry-after", SECONDARY_WAIT))
        except ValueError:
            wait = SECONDARY_WAIT
        return RateLimitWait(text, wait, primary=False)
    return GithubApiError(status, text)


class GithubRetrying(Retrying):
    """GitHub's waits: a spent primary budget is said by the budget check before the retry."""

    def message(self, seconds: float, exc: BaseException) -> str | None:
        if isinstance(exc, RateLimitWait):
            if exc.primary:
                return None
            return f"GitHub secondary rate limit (Retry-After): waiting {seconds:.0f}s"
        return super().message(seconds, exc)


def next_link(header: str | None) -> str | None:
    """The `rel="next"` URL of a `Link` header."""
    for part in (header or "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return url.strip().lstrip("<").rstrip(">")
    return None


class GithubApi:
    """One PyGithub client per sync, spoken to in raw JSON through its public `requester`.

    PyGithub carries authentication, the Enterprise base URL, the time-out and the
    rate-limit headers (`requester.rate_limiting`). Its objects are not used: reading a
    listed pull request's `raw_data` completes it with one more request each. Its own
    retries are off (`retry=None`; `GithubRetry` would sleep through limits silently):
    `call_with_retries` wraps every request so that each wait is said out loud and the two
    layers never multiply. Its throttle (a pause between requests, 0.25 s by default) is
    set from the org file, `seconds_between_requests`, default none.
    """

    def __init__(
        self,
        source: GithubSource,
        *,
        timeout: int = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        progress: Progress | None = None,
        rate_reserve: int = RATE_RESERVE,
        max_rate_wait: float = MAX_RATE_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = github.Github(
            base_url=source.url.rstrip("/"),
            auth=sign_in(source),
            timeout=max(1, int(timeout)),
            per_page=source.per_page,
            verify=source.verify_ssl,
            retry=None,
            seconds_between_requests=source.seconds_between_requests or None,
            # PyGithub waits 1 s between "writes", and a GraphQL query is a POST: that pause
            # made a first sync mostly sleep. teamtide writes nothing; GitHub's secondary
            # limits are met by the pacing and by waiting out a 403's retry-after.
            seconds_between_writes=None,
            user_agent="teamtide",
        )
        self.per_page = source.per_page
        self.retrying = GithubRetrying(
            "GitHub", retry, progress.note if progress is not None else None
        )
        self.rate_reserve, self.max_rate_wait = rate_reserve, max_rate_wait
        self.sleep, self.clock = sleep, clock
        self.requests = 0
        self.points = 0  # GraphQL rate-limit points spent, as `rateLimit.cost` states them
        self.budget: Budget | None = None  # the GraphQL budget, as the last answer stated it
        self.costs: dict[str, int] = {}  # the last cost of each query, to plan the next one

    def _wait_for_budget(self) -> None:
        """Before a request: when the primary budget is (nearly) spent, wait for its reset."""
        requester = self.client.requester
        remaining, limit = requester.rate_limiting
        if limit <= 0 or remaining > self.rate_reserve:
            return
        wait = requester.rate_limiting_resettime - self.clock() + 1
        if wait <= 0:
            return
        reset = dt.datetime.fromtimestamp(requester.rate_limiting_resettime, dt.UTC)
        if wait > self.max_rate_wait:
            raise GithubApiError(
                None,  # not retried: waiting is exactly what it refuses
                f"GitHub's rate limit is spent until {reset:%Y-%m-%d %H:%M:%S} UTC, "
                f"longer than the {self.max_rate_wait:.0f}s a sync waits",
            )
        self.retrying.say(
            f"GitHub rate limit: {remaining} of {limit} requests left; "
            f"waiting {wait:.0f}s for the reset at {reset:%H:%M:%S} UTC"
        )
        self.sleep(wait)

    def _wait_for_points(self, cost: int) -> None:
        """Before a query: when it would leave less than the reserve, wait for the reset."""
        budget = self.budget
        if budget is None or budget.remaining - cost >= self.rate_reserve:
            return
        wait = budget.reset - self.clock() + 1
        if wait <= 0:
            return
        reset = dt.datetime.fromtimestamp(budget.reset, dt.UTC)
        if wait > self.max_rate_wait:
            raise GithubApiError(
                None,
                f"GitHub's GraphQL rate limit is spent until {reset:%Y-%m-%d %H:%M:%S} UTC, "
                f"longer than the {self.max_rate_wait:.0f}s a sync waits",
            )
        self.retrying.say(
            f"GitHub GraphQL rate limit: {budget.remaining} of {budget.limit} points left, "
            f"the next query costs {cost}; waiting {wait:.0f}s for the reset at "
            f"{reset:%H:%M:%S} UTC"
        )
        self.sleep(wait)
        self.budget = None  # renewed: the next answer states it again

    def graphql(self, name: str, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """One GraphQL query that must be answered whole: its `data`, or a GithubApiError."""
        data, errors = self.graphql_partial(name, query, variables)
        if errors:
            raise GithubApiError(None, f"a partial answer to {name}: {_said(errors)}")
        return data

    def graphql_partial(
        self, name: str, query: str, variables: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
        """One GraphQL query through PyGithub's `graphql_query`, paced by its `rateLimit`.

        Returns its `data` and the errors GitHub gave beside it: a record GitHub could not
        resolve comes as a null node with an error naming its `path`, which the caller
        sets aside. Retried when transient; a spent budget is waited for.
        """
        requester = self.client.requester

        def once() -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
            self._wait_for_points(self.costs.get(name, 1))
            self.requests += 1
            errors: list[Mapping[str, Any]] = []
            try:
                headers, body = requester.graphql_query(query, dict(variables))
            except GithubException as exc:
                errors = _field_errors(exc)
                if not errors:
                    raise self._graphql_error(exc) from None
                headers, body = exc.headers or {}, exc.data
            data = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(data, Mapping):
                raise GithubApiError(502, f"POST {_path(requester.graphql_url)} answered no data")
            self._spent(name, data.get("rateLimit"), headers)
            return dict(data), errors

        return self.retrying(once)

    def _spent(self, name: str, rate: Any, headers: Mapping[str, Any]) -> None:
        """Note what a query cost and what is left (from `rateLimit`, else from the headers)."""
        if isinstance(rate, Mapping):
            try:
                cost, remaining = int(rate["cost"]), int(rate["remaining"])
                limit = int(rate["limit"])
                reset = parse_time(rate["resetAt"], "resetAt").timestamp()
            except (KeyError, TypeError, ValueError, ParseError):
                return
            self.points += cost
            self.costs[name] = cost
            self.budget = Budget(limit, remaining, reset)
            return
        lowered = {k.lower(): v for k, v in headers.items()}
        with contextlib.suppress(KeyError, ValueError):
            self.budget = Budget(
                int(lowered["x-ratelimit-limit"]),
                int(lowered["x-ratelimit-remaining"]),
                float(lowered["x-ratelimit-reset"]),
            )

    def _graphql_error(self, exc: GithubException) -> GithubApiError:
        """PyGithub's exception for a GraphQL answer, sorted like a REST one.

        An answer with `errors` comes as a 400 (a lone NOT_FOUND as a 404). GitHub says
        a spent budget with the RATE_LIMITED type; a partial answer (`data` beside
        `errors`) is retried, as it is mostly GitHub timing out part of a query, and never
        stored as if it were whole.
        """
        url = self.client.requester.graphql_url
        body = exc.data if isinstance(exc.data, Mapping) else {}
        listed = body.get("errors")
        errors = [e for e in listed if isinstance(e, Mapping)] if isinstance(listed, list) else []
        if not errors:
            return api_error(exc, url, "POST")
        said = _said(errors)
        types = {e.get("type") for e in errors}
        text = f"{'HTTP 404' if exc.status == 404 else 'GraphQL errors'} from POST {_path(url)}: {said}"
        if "RATE_LIMITED" in types:
            # Spent: the reset comes from the headers, else from the last `rateLimit` seen;
            # knowing neither, wait as for a secondary limit (a minute) and ask again.
            headers = {k.lower(): str(v) for k, v in (exc.headers or {}).items()}
            self._spent("", None, headers)
            if self.budget is None:
                return RateLimitWait(text, SECONDARY_WAIT, primary=False)
            self.budget = Budget(self.budget.limit, 0, self.budget.reset)
            return RateLimitWait(text, 0, primary=True)
        if exc.status == 404 or "NOT_FOUND" in types:
            return GithubApiError(404, text)
        if isinstance(body.get("data"), Mapping) and body["data"]:
            return GithubApiError(502, f"a partial answer: {text}")
        return GithubApiError(None, text)

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
        """One GET (a path under the base URL, or a URL GitHub gave), retried when transient."""
        requester = self.client.requester

        def once() -> tuple[dict[str, Any], Any]:
            self._wait_for_budget()
            self.requests += 1
            try:
                return requester.requestJsonAndCheck("GET", url, parameters=dict(params or {}))
            except GithubException as exc:
                raise api_error(exc, url) from None

        return self.retrying(once)

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list[Any]]:
        """A list endpoint, page by page, following `Link: rel="next"`."""
        url: str | None = path
        query: Mapping[str, Any] = {"per_page": self.per_page, **params}
        while url is not None:
            headers, data = self.get(url, query)
            if not isinstance(data, list):
                raise GithubApiError(
                    None, f"GET {_path(url)} answered {type(data).__name__}, not a list"
                )
            yield data
            url, query = next_link(headers.get("link")), {}

    def all(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        return [item for page in self.pages(path, params or {}) for item in page]

    def take_requests(self) -> int:
        count, self.requests = self.requests, 0
        return count


def _said(errors: Sequence[Mapping[str, Any]]) -> str:
    """The first few GraphQL errors' messages, cut between words (secrets stay whole)."""
    return "; ".join(
        shorten(str(e.get("message") or "").splitlines()[0] if e.get("message") else "", 200)
        for e in errors[:3]
    )


# Errors that refuse the whole query (or the budget), never a field of a record.
WHOLE_QUERY_ERRORS = frozenset(
    {"RATE_LIMITED", "NOT_FOUND", "FORBIDDEN", "MAX_NODE_LIMIT_EXCEEDED"}
)


def _field_errors(exc: GithubException) -> list[Mapping[str, Any]]:
    """The errors of a partial answer (data beside errors, each at a `path`), else none."""
    body = exc.data if isinstance(exc.data, Mapping) else {}
    data, listed = body.get("data"), body.get("errors")
    if not isinstance(data, Mapping) or not data or not isinstance(listed, list) or not listed:
        return []
    errors = [e for e in listed if isinstance(e, Mapping)]
    if len(errors) != len(listed):
        return []
    if any(
        not isinstance(e.get("path"), list) or e.get("type") in WHOLE_QUERY_ERRORS for e in errors
    ):
        return []
    return errors


@dataclass(frozen=True)
class Budget:
    """GitHub's GraphQL budget as an answer stated it: points per hour, left, reset (epoch)."""

    limit: int
    remaining: int
    reset: float


class Repositories:
    """The partitions (a `PartitionList`): configured repositories, then each organisation's.

    An organisation that cannot be listed becomes a partition `org/*` that fails with the
    cause, so it is recorded in `sync_state` while the other repositories are synced.
    """

    def __init__(self, api: GithubApi, source: GithubSource) -> None:
        self.api, self.source = api, source
        self._names: list[str] | None = None
        self.errors: dict[str, Exception] = {}

    def names(self) -> list[str]:
        if self._names is None:
            found: dict[str, str] = {}
            for name in self.source.repos:
                found.setdefault(name.lower(), name)
            for org in self.source.orgs:
                try:
                    listed = self.api.all(f"/orgs/{org}/repos", {"type": "all"})
                except (GithubApiError, OSError) as exc:
                    log.warning("cannot list the repositories of %s: %s", org, exc)
                    self.errors[f"{org}/*"] = exc
                    found.setdefault(f"{org}/*".lower(), f"{org}/*")
                    continue
                for repo in listed:
                    name = repo.get("full_name") if isinstance(repo, Mapping) else None
                    if isinstance(name, str):
                        found.setdefault(name.lower(), name)
            self._names = list(found.values())
        return self._names

    def check(self, partition: str) -> None:
        if partition in self.errors:
            raise self.errors[partition]


# One cursor per repository; the streams' `repos` (a `Repositories`) lists them.
PER_REPOSITORY = Partitions(per="repository", listed_by="repos")


def known_projects(engine: Engine, config: Config) -> frozenset[str]:
    """Jira project keys a pull request may link to: those stored, and those the JQL names."""
    with engine.connect() as conn:
        stored = stored_projects(conn, "jira")
    jira = config.sources.jira
    named = projects_in_jql(jira.jql) if jira is not None else set()
    return frozenset({str(p).upper() for p in stored} | named)


@dataclass(frozen=True)
class _Stored:
    updated_at: dt.datetime | None
    closed_at: dt.datetime | None
    additions: int | None


def _reject_key(repo: str, raw: Any) -> str:
    number = raw.get("number") if isinstance(raw, Mapping) else None
    if isinstance(number, int):
        return f"{repo}#{number}"
    ident = raw.get("id") if isinstance(raw, Mapping) else None
    return f"{repo} id {ident}" if ident is not None else repo


class PullStream(Stream):
    """Pull requests changed since the repository's cursor, with reviews and draft exits.

    Not sorted: GitHub lists pull requests newest-updated first (no `since`), read down
    to the cursor minus the overlap; the newest `updated_at` seen becomes the cursor once
    the repository is read to its end.
    """

    source = "github"
    name = "pull_requests"
    table = models.PullRequest
    primary_key = ("repo", "number")
    cursor_field = "updated_at"
    is_sorted = False
    overlap = OVERLAP
    partitions = PER_REPOSITORY
    maps_accounts = True

    def __init__(
        self,
        api: GithubApi,
        engine: Engine,
        repos: Repositories,
        projects: Callable[[], frozenset[str]],
        *,
        sizes: bool = True,
        overlap: dt.timedelta = OVERLAP,
    ) -> None:
        self.api, self.engine, self.repos = api, engine, repos
        self._projects_of, self._projects = projects, None
        self.sizes, self.overlap = sizes, overlap

    @property
    def projects(self) -> frozenset[str]:
        if self._projects is None:
            self._projects = self._projects_of()
        return self._projects

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        repo, stop, full = bookmark.partition, bookmark.since, bookmark.full
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        for raw_page in self.api.pages(f"/repos/{repo}/pulls", params):
            page, done = self._page(repo, raw_page, stop, full)
            yield page
            if done:
                return

    def _page(
        self, repo: str, raw_page: list[Any], stop: dt.datetime | None, full: bool
    ) -> tuple[Page, bool]:
        rejects: list[Reject] = []
        listed: list[ListedPull] = []
        done = False
        for raw in raw_page:
            try:
                item = listed_pull(raw)
            except ParseError as exc:
                rejects.append(Reject(_reject_key(repo, raw), str(exc), excerpt(raw)))
                continue
            if stop is not None and item.updated_at < stop:
                done = True  # newest first: everything after this is older still
                break
            listed.append(item)
        page = self._finish(
            repo,
            listed,
            lambda item, known: self._complete(repo, item, known, full),
            full=full,
            rejects=rejects,
            items=len(raw_page),
        )
        return page, done or not raw_page

    def _finish(
        self,
        repo: str,
        listed: list[ListedPull],
        complete: Callable[[ListedPull, _Stored | None], ParsedPull],
        *,
        full: bool,
        rejects: list[Reject],
        items: int,
    ) -> Page:
        """One page of the listed pull requests, each completed unless stored as it is now.

        Shared by the REST and GraphQL paths, so both skip, reject and move the cursor alike.
        """
        stored = {} if full else self._stored(repo, [item.number for item in listed])
        rows: list[ParsedPull] = []
        for item in listed:
            known = stored.get(item.number)
            if known is not None and known.updated_at == item.updated_at:
                continue  # unchanged since it was stored (the overlap re-reads a few)
            try:
                rows.append(complete(item, known))
            except ParseError as exc:
                rejects.append(Reject(f"{repo}#{item.number}", str(exc), excerpt(item.raw)))
            except GithubApiError as exc:
                if exc.status_code != 404:
                    raise
                rejects.append(
                    Reject(f"{repo}#{item.number}", f"vanished while it was being read ({exc})")
                )
        return Page(
            rows=rows,
            rejects=rejects,
            cursor=max((item.updated_at for item in listed), default=None),
            items=items,
            requests=self.api.take_requests(),
        )

    def _complete(
        self, repo: str, item: ListedPull, known: _Stored | None, full: bool
    ) -> ParsedPull:
        pull = parse_pull(item.raw, repo, self.projects)
        add_timeline(pull, self.api.all(f"/repos/{repo}/issues/{item.number}/timeline"))
        final = item.closed_at is not None
        stale = (
            full or known is None or known.additions is None or known.closed_at != item.closed_at
        )
        if self.sizes and final and stale:
            _, detail = self.api.get(f"/repos/{repo}/pulls/{item.number}")
            add_sizes(pull, detail)
        return pull

    def _stored(self, repo: str, numbers: Sequence[int]) -> dict[int, _Stored]:
        if not numbers:
            return {}
        with self.engine.connect() as conn:
            found = stored_pulls(conn, repo, numbers)
        return {number: _Stored(*stored) for number, stored in found.items()}

    def write(self, session: Session, page: Page) -> int:
        pulls: list[ParsedPull] = list({(p.row["repo"], p.number): p for p in page.rows}.values())
        if not pulls:
            return 0
        ids: dict[tuple[str, int], int] = {}
        # Rows without a size leave the stored size alone: they must not null it.
        for group in ([p for p in pulls if p.sized], [p for p in pulls if not p.sized]):
            if group:
                returned = self.store(
                    session, [p.row for p in group], returning=["id", "repo", "number"]
                )
                ids.update({(repo, number): pr_id for pr_id, repo, number in returned})
        written = len(pulls) + _replace_reviews(session, pulls, ids)
        record_accounts(session, [a for p in pulls for a in p.accounts], dt.datetime.now(dt.UTC))
        return written


def _replace_reviews(
    session: Session, pulls: Sequence[ParsedPull], ids: Mapping[tuple[str, int], int]
) -> int:
    """Upsert each pull's reviews and drop stored ones its timeline no longer shows."""
    rows = [r | {"pr_id": ids[p.row["repo"], p.number]} for p in pulls for r in p.reviews]
    parents = list(ids.values())
    return len(rows) + replace_children(session, models.Review, "pr_id", "review_id", parents, rows)


class IssueStream(Stream):
    """GitHub issues as work items (pull requests, which the issues API lists too, skipped).

    Sorted: the issues API has `since`, so pages are read oldest-updated first and the
    cursor moves with every stored page.
    """

    source = "github"
    name = "issues"
    table = models.WorkItem
    primary_key = ("source", "key")
    cursor_field = "updated_at"
    overlap = OVERLAP
    partitions = PER_REPOSITORY
    maps_accounts = True

    def __init__(
        self, api: GithubApi, repos: Repositories, *, overlap: dt.timedelta = OVERLAP
    ) -> None:
        self.api, self.repos, self.overlap = api, repos, overlap

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        partition = bookmark.partition
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc"}
        if bookmark.since is not None:
            since = bookmark.since
            params["since"] = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for raw_page in self.api.pages(f"/repos/{partition}/issues", params):
            rows, rejects = [], []
            newest: dt.datetime | None = None
            for raw in raw_page:
                try:
                    updated = parse_time(
                        raw.get("updated_at") if isinstance(raw, Mapping) else None, "updated_at"
                    )
                    newest = updated if newest is None else max(newest, updated)
                    row = parse_issue(raw, partition)
                except ParseError as exc:
                    rejects.append(Reject(_reject_key(partition, raw), str(exc), excerpt(raw)))
                    continue
                if row is not None:
                    rows.append(row)
            yield Page(
                rows=rows,
                rejects=rejects,
                cursor=newest,
                items=len(raw_page),
                requests=self.api.take_requests(),
            )

    def write(self, session: Session, page: Page) -> int:
        rows = self.store(session, page.rows)
        record_accounts(
            session, [a for r in rows for a in issue_accounts(r)], dt.datetime.now(dt.UTC)
        )
        return len(rows)
