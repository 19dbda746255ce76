"""The Jira collector: statuses, and issues with complete histories, comments and worklogs.

Cloud pages `search/jql` with `nextPageToken` and fills truncated changelogs with the bulk
endpoint; Server/Data Center pages the classic `/search` with `startAt`, where the
inline changelog is complete. The issues stream's cursor is the newest `updated` it has
stored (ISO-8601 UTC); the next run asks for `updated >= cursor - overlap`, written in
the bot user's own timezone because that is how Jira reads JQL dates.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jira
from jira.exceptions import JIRAError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from collectors.base import Bookmark, Page, Progress, Reject, Source, Stream
from collectors.identities import Account, record_accounts
from collectors.jira_parse import (
    BASE_FIELDS,
    Context,
    CustomFields,
    ParsedIssue,
    ParseError,
    StatusCatalog,
    excerpt,
    find_custom_fields,
    follow_ups,
    issue_jql,
    issue_updated,
    jql_time,
    parse_issue,
    record_ref,
)
from collectors.retry import ApiError, Retrying, RetryPolicy
from config.redaction import shorten
from config.schema import Config, JiraSource
from db import models
from db.sync import replace_children, stored_updates
from db.upsert import upsert

try:  # orjson parses a page of issues several times faster than the standard library
    import orjson

    loads: Callable[[bytes], Any] = orjson.loads

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - orjson is a dependency; stay usable without it
    import json

    loads = json.loads

    def dumps(value: Any) -> bytes:
        return json.dumps(value).encode()


log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0  # seconds without a byte before a request counts as hung
CHANGELOG_FIELDS = ["status", "assignee"]  # the bulk changelog returns only these changes
BULK_ISSUES = 1000  # issues per bulk changelog request (the documented maximum)
BULK_PAGE = 1000  # change histories per bulk changelog page
CHILD_PAGE = 5000  # comments / worklogs per request (the server caps it lower if it likes)
EPOCH_JQL = "1970-01-01 00:00"


class JiraApiError(ApiError):
    """A Jira answer other than 2xx."""


def _clean(exc: JIRAError, method: str, path: str) -> JiraApiError:
    """The library's error prints request and response headers: keep status and message only."""
    response = exc.response
    headers = {}
    if response is not None and response.headers.get("Retry-After"):
        headers["Retry-After"] = response.headers["Retry-After"]
    text = shorten((exc.text or "").splitlines()[0], 300) if exc.text else ""  # whole words
    message = f"HTTP {exc.status_code} from {method} {path}: {text}".rstrip(": ")
    if exc.status_code in (401, 403):
        message += " (check sources.jira email or user, and the token's environment variable)"
    return JiraApiError(exc.status_code, message, headers)


class JiraApi:
    """One authenticated `jira` client per sync, spoken to in raw JSON over its own session.

    The library's `Issue` resources are too slow for hundreds of issues a second, and it
    has no changelog calls; its session carries the authentication and the time-out. Its
    own retries are off (`max_retries=0`): `call_with_retries` wraps every request, so the
    two layers never multiply each other's waits.
    """

    def __init__(
        self,
        source: JiraSource,
        overrides: Mapping[str, str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        progress: Progress | None = None,
    ) -> None:
        self.source, self.overrides, self.timeout = source, overrides, timeout
        self.retrying = Retrying("Jira", retry, progress.note if progress is not None else None)
        self.requests = 0
        self._client: jira.JIRA | None = None
        self._failure: Exception | None = None
        self._catalog: StatusCatalog | None = None
        self._fields: CustomFields | None = None
        self._tz: ZoneInfo | None = None

    # plumbing

    def _connect(self) -> jira.JIRA:
        source = self.source
        token = source.token.reveal() if source.token is not None else None
        auth: dict[str, Any] = {}
        if token and (source.email or source.user):
            auth["basic_auth"] = (source.email or source.user, token)
        elif token:
            auth["token_auth"] = token  # a Server/Data Center personal access token

        def connect() -> jira.JIRA:
            self.requests += 1
            try:
                return jira.JIRA(
                    server=source.url,
                    options={"verify": source.verify_ssl, "check_update": False},
                    max_retries=0,
                    timeout=self.timeout,
                    get_server_info=True,
                    logging=False,
                    **auth,
                )
            except JIRAError as exc:
                raise _clean(exc, "GET", "/rest/api/2/serverInfo") from None

        return self.retrying(connect)

    @property
    def client(self) -> jira.JIRA:
        """Connected on first use; a site that refused us once is not asked again this sync."""
        if self._failure is not None:
            raise self._failure
        if self._client is None:
            try:
                self._client = self._connect()
            except Exception as exc:
                self._failure = exc
                raise
        return self._client

    @property
    def cloud(self) -> bool:
        return self.client.deploymentType == "Cloud"

    @property
    def server_url(self) -> str:
        return self.client.server_url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One REST call (retried when transient); Cloud speaks v3, Server v2."""
        version = "3" if self.cloud else "2"
        url = f"{self.server_url}/rest/api/{version}/{path}"
        session = self.client._session
        data = dumps(body) if body is not None else None

        def once() -> Any:
            self.requests += 1
            try:
                response = session.request(method, url, params=params, data=data)
            except JIRAError as exc:
                raise _clean(exc, method, f"/rest/api/{version}/{path}") from None
            return loads(response.content) if response.content else None

        return self.retrying(once)

    def take_requests(self) -> int:
        count, self.requests = self.requests, 0
        return count

    # site metadata, fetched once per sync

    def catalog(self) -> StatusCatalog:
        if self._catalog is None:
            self._catalog = StatusCatalog.from_json(self.request("GET", "status"), self.overrides)
        return self._catalog

    def custom_fields(self) -> CustomFields:
        if self._fields is None:
            self._fields = find_custom_fields(self.request("GET", "field"))
        return self._fields

    def timezone(self) -> ZoneInfo:
        """The bot user's profile timezone: Jira reads the dates in our JQL in it."""
        if self._tz is None:
            me = self.request("GET", "myself") or {}
            name = me.get("timeZone") or "UTC"
            try:
                self._tz = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("Jira user timezone %r is unknown; reading JQL dates as UTC", name)
                self._tz = ZoneInfo("UTC")
        return self._tz

    def context(self) -> Context:
        return Context(self.cloud, self.server_url, self.custom_fields(), self.catalog())

    # issues

    def search(self, jql: str, fields: Sequence[str], page_size: int) -> Iterator[list[dict]]:
        """Pages of raw issues with their inline changelogs."""
        if self.cloud:
            token: str | None = None
            while True:
                body: dict[str, Any] = {
                    "jql": jql,
                    "fields": list(fields),
                    "expand": "changelog",
                    "maxResults": page_size,
                }
                if token:
                    body["nextPageToken"] = token
                data = self.request("POST", "search/jql", body=body)
                yield data.get("issues") or []
                token = data.get("nextPageToken")
                if not token or data.get("isLast"):
                    return
        start = 0
        while True:
            params = {
                "jql": jql,
                "startAt": start,
                "maxResults": page_size,
                "fields": ",".join(fields),
                "expand": "changelog",
            }
            data = self.request("GET", "search", params=params)
            issues = data.get("issues") or []
            yield issues
            start += len(issues)
            if not issues or start >= int(data.get("total") or 0):
                return

    def histories(self, issues: Sequence[Mapping[str, Any]]) -> dict[str, list[dict]]:
        """Complete changelogs (status and assignee changes) of issues whose inline one is cut."""
        found: dict[str, list[dict]] = {str(i["id"]): [] for i in issues}
        if not issues:
            return found
        if not self.cloud:
            # Server has no changelog paging; its issue changelog expansion is complete.
            for issue in issues:
                data = self.request(
                    "GET", f"issue/{issue['id']}", params={"expand": "changelog", "fields": "key"}
                )
                found[str(issue["id"])] = (data.get("changelog") or {}).get("histories") or []
            return found
        ids = list(found)
        for start in range(0, len(ids), BULK_ISSUES):
            token: str | None = None
            while True:
                body: dict[str, Any] = {
                    "issueIdsOrKeys": ids[start : start + BULK_ISSUES],
                    "fieldIds": CHANGELOG_FIELDS,
                    "maxResults": BULK_PAGE,
                }
                if token:
                    body["nextPageToken"] = token
                data = self.request("POST", "changelog/bulkfetch", body=body)
                for log_ in data.get("issueChangeLogs") or []:
                    found.setdefault(str(log_.get("issueId")), []).extend(
                        log_.get("changeHistories") or []
                    )
                token = data.get("nextPageToken")
                if not token:
                    break
        return found

    def children(self, issue_id: str, kind: str) -> list[dict]:
        """Every comment or worklog of an issue, page by page (`kind`: comment | worklog)."""
        items_key = "comments" if kind == "comment" else "worklogs"
        out: list[dict] = []
        while True:
            data = self.request(
                "GET",
                f"issue/{issue_id}/{kind}",
                params={"startAt": len(out), "maxResults": CHILD_PAGE},
            )
            batch = data.get(items_key) or []
            out.extend(batch)
            if not batch or len(out) >= int(data.get("total") or 0):
                return out


# ---------------------------------------------------------------- streams


@dataclass
class Fetched:
    """One search page as downloaded: the records to parse and their fetched-in-full parts."""

    issues: list[dict]  # the changed records (unchanged ones were dropped)
    count: int  # every record of the page, for progress
    newest: dt.datetime | None  # the page's newest `updated`: the cursor once stored
    histories: dict[int, list[dict]] = field(default_factory=dict)  # by id(record)
    comments: dict[int, list[dict]] = field(default_factory=dict)
    worklogs: dict[int, list[dict]] = field(default_factory=dict)
    vanished: dict[int, str] = field(default_factory=dict)
    requests: int = 0


_DONE = object()


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Produce `items` in a background thread, up to `depth` ahead of the consumer.

    An exception in the producer is raised in the consumer at the same point of the
    sequence; a consumer that stops early (a stop request) stops the producer too.
    """
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _DONE))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((False, exc))

    worker = threading.Thread(target=produce, name="jira-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, value = box.get()
            if not ok:
                raise value
            if value is _DONE:
                return
            yield value
    finally:
        stop.set()
        worker.join(timeout=5)


class StatusStream(Stream):
    """Every status with its category: small, fetched whole on every sync."""

    source = "jira"
    name = "statuses"
    table = models.Status
    primary_key = ("source", "name")

    def __init__(self, api: JiraApi) -> None:
        self.api = api

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        self.api.take_requests()
        rows = self.api.catalog().rows()
        yield Page(rows=rows, items=len(rows), requests=self.api.take_requests())


class IssueStream(Stream):
    """Issues changed since the cursor, with their complete histories, comments and worklogs.

    Sorted: the search asks for `updated >= cursor - overlap` oldest first, so each page's
    newest `updated` is stored with it. The overlap is the org file's `overlap_minutes`.
    """

    source = "jira"
    name = "issues"
    table = models.WorkItem
    primary_key = ("source", "key")
    cursor_field = "updated_at"
    overlap = dt.timedelta(minutes=JiraSource.model_fields["overlap_minutes"].default)
    maps_accounts = True

    def __init__(self, api: JiraApi, engine: Engine, source: JiraSource) -> None:
        self.api, self.engine, self.config = api, engine, source
        self.overlap = dt.timedelta(minutes=source.overlap_minutes)

    def fields(self) -> list[str]:
        wanted = [*BASE_FIELDS, *self.api.custom_fields().ids()]
        return [*wanted, "worklog"] if self.config.worklogs else wanted

    def pages(self, bookmark: Bookmark) -> Iterator[Page]:
        self.api.take_requests()
        since = bookmark.since
        literal = jql_time(since, self.api.timezone()) if since is not None else EPOCH_JQL
        ctx = self.api.context()
        jql = issue_jql(self.config.jql, literal)
        fetched = (
            self._fetch(raw_issues, bookmark.full)
            for raw_issues in self.api.search(jql, self.fields(), self.config.page_size)
        )
        # The next page downloads while this one is parsed and stored: the two halves of
        # the work overlap instead of taking turns.
        for batch in prefetch(fetched):
            yield self._parse(batch, ctx)

    def _stored(self, keys: Sequence[str]) -> dict[str, dt.datetime | None]:
        if not keys:
            return {}
        with self.engine.connect() as conn:
            return stored_updates(conn, self.source, keys)

    def _fetch(self, raw_issues: list[dict], full: bool) -> Fetched:
        """A search page plus whatever its records left out (every request of the page)."""
        updated = [issue_updated(raw) for raw in raw_issues]
        newest = max((u for u in updated if u is not None), default=None)
        stored = {} if full else self._stored([str(record_ref(r)) for r in raw_issues])
        # Unchanged since the last sync (the overlap re-reads a few): nothing to fetch or write.
        todo = [
            raw
            for raw, when in zip(raw_issues, updated, strict=True)
            if when is None or stored.get(str(record_ref(raw))) != when
        ]
        batch = Fetched(todo, len(raw_issues), newest)
        needs = {id(raw): follow_ups(raw, self.config.worklogs) for raw in todo}
        cut = [raw for raw in todo if needs[id(raw)].changelog and record_ref(raw, "id")]
        histories = self.api.histories(cut)
        for raw in todo:
            need, ref = needs[id(raw)], str(record_ref(raw, "id") or record_ref(raw))
            if need.changelog:
                batch.histories[id(raw)] = histories.get(str(record_ref(raw, "id")), [])
            try:
                if need.comments:
                    batch.comments[id(raw)] = self.api.children(ref, "comment")
                if need.worklogs:
                    batch.worklogs[id(raw)] = self.api.children(ref, "worklog")
            except JiraApiError as exc:
                if exc.status_code != 404:
                    raise
                batch.vanished[id(raw)] = f"the issue vanished while it was being read ({exc})"
        batch.requests = self.api.take_requests()
        return batch

    def _parse(self, batch: Fetched, ctx: Context) -> Page:
        rows: list[ParsedIssue] = []
        rejects: list[Reject] = []
        for raw in batch.issues:
            key = record_ref(raw)
            if id(raw) in batch.vanished:
                rejects.append(Reject(key, batch.vanished[id(raw)], None))
                continue
            try:
                parsed = parse_issue(
                    raw,
                    ctx,
                    histories=batch.histories.get(id(raw)),
                    comments=batch.comments.get(id(raw)),
                    worklogs=batch.worklogs.get(id(raw)),
                    with_worklogs=self.config.worklogs,
                )
            except ParseError as exc:
                rejects.append(Reject(key, str(exc), excerpt(raw)))
                continue
            rows.append(parsed)
        return Page(
            rows=rows,
            rejects=rejects,
            cursor=batch.newest,
            items=batch.count,
            requests=batch.requests,
        )

    def write(self, session: Session, page: Page) -> int:
        parsed: list[ParsedIssue] = list({p.key: p for p in page.rows}.values())
        if not parsed:
            return 0
        returned = self.store(session, [p.item for p in parsed], returning=["id", "key"])
        ids = {key: item_id for item_id, key in returned}
        written = len(parsed)
        transitions = [t | {"item_id": ids[p.key]} for p in parsed for t in p.transitions]
        assignments = [a | {"item_id": ids[p.key]} for p in parsed for a in p.assignments]
        upsert(session, models.ItemTransition, transitions, ["item_id", "change_id", "to_status"])
        upsert(session, models.ItemAssignment, assignments, ["item_id", "change_id"])
        written += len(transitions) + len(assignments)
        for model, attr, child_key in (
            (models.ItemComment, "comments", "comment_id"),
            (models.Worklog, "worklogs", "worklog_id"),
        ):
            written += _replace_children(session, model, child_key, parsed, attr, ids)
        accounts = _best_accounts(a for p in parsed for a in p.accounts)
        record_accounts(session, accounts, dt.datetime.now(dt.UTC))
        return written


def _replace_children(
    session: Session,
    model: Any,
    child_key: str,
    parsed: Sequence[ParsedIssue],
    attr: str,
    ids: Mapping[str, int],
) -> int:
    """Upsert the comments (or worklogs) of the issues read in full; drop those deleted in Jira."""
    complete = [p for p in parsed if getattr(p, attr) is not None]
    if not complete:
        return 0
    rows = [c | {"item_id": ids[p.key]} for p in complete for c in getattr(p, attr)]
    parents = [ids[p.key] for p in complete]
    return len(rows) + replace_children(session, model, "item_id", child_key, parents, rows)


def _best_accounts(accounts: Iterator[Account] | Sequence[Account]) -> list[Account]:
    """One account per id, keeping the name and e-mail wherever some record gave them."""
    best: dict[str, Account] = {}
    for account in accounts:
        seen = best.get(account.value)
        if seen is None:
            best[account.value] = account
        else:
            best[account.value] = Account(
                "jira",
                account.value,
                seen.display_name or account.display_name,
                seen.email or account.email,
            )
    return list(best.values())


def streams(
    config: Config,
    engine: Engine,
    progress: Progress,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    retry: RetryPolicy = RetryPolicy(),
) -> list[Stream]:
    """The Jira streams in the order they must run: statuses first, for the stages."""
    source = config.sources.jira
    if source is None:
        raise ValueError("sources.jira is not configured in the org file")
    api = JiraApi(source, config.workflow.stages, timeout=timeout, retry=retry, progress=progress)
    return [StatusStream(api), IssueStream(api, engine, source)]


SOURCE = Source("jira", streams)
