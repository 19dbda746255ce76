"""A generated world loaded into a database by the real collectors, without HTTP.

A `medium` or `large` world takes too long to sync through the HTTP sandbox for a
benchmark, so this module keeps everything of a sync except the sockets: the sandbox's
own Jira and GitHub route handlers render the world as API JSON (the very bytes they
would send), and the collectors' streams (`collectors.jira.IssueStream`,
`collectors.github.PullStream`, ...) page through it, parse it with
`collectors/jira_parse.py` and `collectors/github_parse.py`, and upsert it with
`db.upsert` inside `collectors.base.run_stream`, page by page, exactly as `teamtide sync`
does. Only the transport is replaced: `LocalJiraApi.request` and `LocalGithubApi.get`
call the sandbox's ASGI router in-process instead of going through `requests` and a
socket (the sandbox's fault, auth and rate-limit middleware are left out: a benchmark
wants none of them).

The cluster source is not loaded: nothing `teamtide metrics` computes reads it.

Databases are cached under `.bench/` keyed by scale, seed, end date and a digest of the
code that shapes their rows, so a change to the collectors or the sandbox rebuilds them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import shutil
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message

from collectors.base import Stream, run_stream
from collectors.github import (
    GithubApi,
    GithubApiError,
    PullStream,
    Repositories,
    known_projects,
)
from collectors.github import IssueStream as GithubIssueStream
from collectors.jira import IssueStream, JiraApi, JiraApiError, StatusStream
from collectors.org import prepare_database
from config.schema import Config, GithubSource, JiraSource
from sandbox.github.service import app as github_app
from sandbox.http import SandboxState
from sandbox.jira.service import app as jira_app
from sandbox.orgfile import org_file
from sandbox.world.generate import generate
from sandbox.world.model import World

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench"
HOST = "sandbox.local"  # what the in-process requests name as their host (never resolved)
JIRA_URL = f"http://{HOST}/jira"
GITHUB_URL = f"http://{HOST}/github"
# The code whose change changes the rows a loaded database holds (a folder: its modules).
SHAPING_CODE = (
    "benchmarks/loader.py",
    "collectors/base.py",
    "collectors/identities.py",
    "collectors/org.py",
    "collectors/jira.py",
    "collectors/jira_parse.py",
    "collectors/github.py",
    "collectors/github_parse.py",
    "db/models.py",
    "db/upsert.py",
    "sandbox/world",
    "sandbox/jira",
    "sandbox/github",
    "sandbox/orgfile.py",
)


class LocalService:
    """One fake service's routes, called in-process: an HTTP request without the socket."""

    def __init__(self, router: ASGIApp, root_path: str) -> None:
        self.router, self.root_path = router, root_path
        self._loops = threading.local()  # the Jira collector fetches from a second thread
        self.requests = 0

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = getattr(self._loops, "loop", None)
        if loop is None:
            loop = self._loops.loop = asyncio.new_event_loop()
        return loop

    def call(
        self, method: str, path: str, query: str = "", body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body bytes) of one request to `root_path + path`."""
        self.requests += 1
        headers = [(b"host", HOST.encode()), (b"accept", b"application/json")]
        if body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        full = self.root_path + path
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "server": (HOST, 80),
            "client": ("127.0.0.1", 0),
            "root_path": self.root_path,
            "path": full,
            "raw_path": full.encode(),
            "query_string": query.encode(),
            "headers": headers,
        }
        sent: list[Message] = []
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Message:
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        self._loop().run_until_complete(self.router(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        answer = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        return int(start["status"]), answer, content


class LocalJiraApi(JiraApi):
    """The Jira collector's API, answered by the sandbox's Jira handlers in-process (Cloud)."""

    def __init__(self, source: JiraSource, overrides: Mapping[str, str], service: LocalService):
        super().__init__(source, overrides)
        self.service = service

    @property
    def cloud(self) -> bool:
        return True

    @property
    def server_url(self) -> str:
        return JIRA_URL

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        self.requests += 1
        query = urllib.parse.urlencode(params or {}, doseq=True)
        data = orjson.dumps(body) if body is not None else b""
        status, headers, content = self.service.call(method, f"/rest/api/3/{path}", query, data)
        if not 200 <= status < 300:
            message = f"HTTP {status} from {method} /rest/api/3/{path}: {content[:300]!r}"
            raise JiraApiError(status, message, headers)
        return orjson.loads(content) if content else None


class LocalGithubApi(GithubApi):
    """The GitHub collector's API, answered by the sandbox's GitHub handlers in-process."""

    def __init__(self, source: GithubSource, service: LocalService) -> None:
        super().__init__(source)
        self.service = service

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
        self.requests += 1
        parts = urllib.parse.urlsplit(url)
        path = parts.path.removeprefix(self.service.root_path) if parts.scheme else url
        query = parts.query or urllib.parse.urlencode(params or {}, doseq=True)
        status, headers, content = self.service.call("GET", path, query)
        if not 200 <= status < 300:
            raise GithubApiError(status, f"HTTP {status} from GET {path}: {content[:300]!r}")
        return headers, orjson.loads(content)


@dataclass
class Loaded:
    """A loaded world's database and the org file that describes it."""

    directory: Path
    config_path: Path
    db_url: str
    clock: dt.datetime
    seconds: float  # spent building it (0 when it came from the cache)
    stale: bool = False  # built by other code than today's (see `cached`)

    def config(self) -> Config:
        from config.load import load_config

        return load_config(self.config_path)


def world_config(world: World, db_url: str) -> dict[str, Any]:
    """The org file `sandbox serve --write-config` would write, pointing at the local services.

    The generator gives some people of the larger worlds an e-mail another person already
    has (two `Omar N.`s become `omarn@`), which the org file's validation rightly refuses;
    the later claimant's copy is dropped (`dropped_emails` lists them). Everyone is still
    mapped by the Jira account id and GitHub login the file names, as in a real sync.
    """
    doc = org_file(world, jira_url=JIRA_URL, github_url=GITHUB_URL, database_url=db_url)
    owner: dict[str, str] = {}
    dropped: list[str] = []
    for person in doc["org"]["people"]:
        kept = []
        for email in person["emails"]:
            if owner.setdefault(email.lower(), person["name"]) == person["name"]:
                kept.append(email)
            else:
                dropped.append(f"{email} ({person['name']}; kept for {owner[email.lower()]})")
        person["emails"] = kept
    doc["dropped_emails"] = dropped
    return doc


def load_world(
    world: World, engine: Engine, config: Config, progress: Callable[[str], None] = print
) -> dict[str, int]:
    """Run the Jira streams, then the GitHub ones, over `world`; rows written per stream."""
    state = SandboxState(world=world, jira_cloud=True)
    jira_service = LocalService(jira_app(state).router, "/jira")
    github_service = LocalService(github_app(state).router, "/github")
    jira, github = config.sources.jira, config.sources.github
    assert jira is not None and github is not None
    japi = LocalJiraApi(jira, config.workflow.stages, jira_service)
    gapi = LocalGithubApi(github, github_service)
    repos = Repositories(gapi, github)
    streams: list[Stream] = [StatusStream(japi), IssueStream(japi, engine, jira)]
    streams.append(PullStream(gapi, engine, repos, lambda: known_projects(engine, config)))
    if github.issues:
        streams.append(GithubIssueStream(gapi, repos))
    written: dict[str, int] = {}
    for stream in streams:
        started = time.perf_counter()
        results = run_stream(engine, stream, now=lambda: world.clock)
        failed = [r for r in results if r.error]
        if failed:
            raise RuntimeError(f"{stream.source}/{stream.name} failed: {failed[0].error}")
        key = f"{stream.source}/{stream.name}"
        written[key] = sum(r.rows for r in results)
        progress(
            f"  {key}: {written[key]} rows, {sum(r.rejects for r in results)} rejects, "
            f"{time.perf_counter() - started:.0f} s"
        )
    written["jira requests"] = jira_service.requests
    written["github requests"] = github_service.requests
    return written


def code_digest() -> str:
    digest = hashlib.sha256()
    for name in SHAPING_CODE:
        path = ROOT / name
        for module in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(module.read_bytes())
    return digest.hexdigest()[:12]


def build(
    scale: str,
    seed: int,
    end: dt.date,
    directory: Path,
    progress: Callable[[str], None] = print,
) -> Loaded:
    """Generate the world and load it into a fresh SQLite database in `directory`."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    started = time.perf_counter()
    world = generate(seed, scale, end=end)
    progress(f"  generated {scale} (seed {seed}) in {time.perf_counter() - started:.0f} s")
    db_url = f"sqlite:///{directory / 'teamtide.db'}"
    config_path = directory / "teamtide.yaml"
    doc = world_config(world, db_url)
    dropped = doc.pop("dropped_emails")
    if dropped:
        progress(f"  {len(dropped)} e-mails claimed twice by the generated org file, dropped")
    config_path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    from config.load import load_config

    config = load_config(config_path)
    engine, _ = prepare_database(config)
    try:
        counts = load_world(world, engine, config, progress)
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    meta = {
        "clock": world.clock.isoformat(),
        "seconds": round(seconds, 1),
        "rows": counts,
        "dropped_emails": dropped,
    }
    (directory / "loaded.json").write_text(json.dumps(meta, indent=1))
    return Loaded(directory, config_path, db_url, world.clock, seconds)


def _from_cache(directory: Path, current: str) -> Loaded:
    info = json.loads((directory / "loaded.json").read_text())
    return Loaded(
        directory,
        directory / "teamtide.yaml",
        f"sqlite:///{directory / 'teamtide.db'}",
        dt.datetime.fromisoformat(info["clock"]),
        0.0,
        stale=not directory.name.endswith(f"-{current}"),
    )


def cached(
    scale: str,
    seed: int = 2,
    end: dt.date = dt.date(2025, 6, 30),
    *,
    rebuild: bool = False,
    progress: Callable[[str], None] = print,
) -> Loaded:
    """The loaded database of a world from `.bench/`, built first when there is none.

    A database built by older code (another digest of `SHAPING_CODE`) is still used,
    marked `stale` and said so: building `large` takes half an hour, and others change
    the collectors all day. `rebuild` builds it again with the current code and removes
    the older ones.
    """
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    current = code_digest()
    prefix = f"loaded-{scale}-{seed}-{end.isoformat()}-"
    directory = CACHE / f"{prefix}{current}"
    if not rebuild:
        found = sorted(
            (d for d in CACHE.glob(f"{prefix}*") if (d / "loaded.json").exists()),
            key=lambda d: (d == directory, (d / "loaded.json").stat().st_mtime),
        )
        if found:
            loaded = _from_cache(found[-1], current)
            if loaded.stale:
                progress(
                    f"using {found[-1].name}, built by older collector/sandbox code "
                    f"(current digest {current}); --rebuild builds it again"
                )
            return loaded
    else:
        for older in CACHE.glob(f"{prefix}*"):
            shutil.rmtree(older, ignore_errors=True)
    progress(f"building the {scale} database (seed {seed}) under {directory} ...")
    return build(scale, seed, end, directory, progress)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    loaded = cached(args.scale, args.seed, rebuild=args.rebuild)
    print(f"{loaded.db_url} ({loaded.seconds:.0f} s)")


if __name__ == "__main__":
    main()
