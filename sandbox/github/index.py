"""The world indexed once (`Index`), and the pull requests as they stand at one clock value (`View`)."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from sandbox.github.formats import LONG_RUNNING, stable_id, to_second
from sandbox.http import SandboxState
from sandbox.world.model import PullRequest, Repo, Review, World


@dataclass(slots=True)
class RepoInfo:
    repo: Repo
    owner: str
    name: str
    pulls: list[PullRequest]  # sorted by created
    created_keys: list[dt.datetime]
    positions: dict[int, int]  # number -> index in `pulls`
    created_at: dt.datetime


class Index:
    """What does not change with the clock: repositories, their pulls by creation, the people."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.people = {p.github_login.lower(): p for p in world.people if p.github_login}
        by_repo: dict[str, list[PullRequest]] = {}
        for pr in world.pulls:
            by_repo.setdefault(pr.repo.lower(), []).append(pr)
        self.repos: dict[str, RepoInfo] = {}
        self.repos_by_id: dict[int, RepoInfo] = {}
        self.orgs: dict[str, str] = {}  # lower login -> login, for owners who are not people
        for repo in world.repos:
            owner, _, name = repo.full_name.partition("/")
            pulls = sorted(
                by_repo.get(repo.full_name.lower(), []), key=lambda p: (p.created, p.number)
            )
            first = pulls[0].created if pulls else world.start
            info = RepoInfo(
                repo=repo,
                owner=owner,
                name=name,
                pulls=pulls,
                created_keys=[p.created for p in pulls],
                positions={p.number: i for i, p in enumerate(pulls)},
                created_at=to_second(min(first, world.start) - dt.timedelta(days=90)),
            )
            self.repos[repo.full_name.lower()] = info
            self.repos_by_id[repo.id] = info
            if owner.lower() not in self.people:
                self.orgs.setdefault(owner.lower(), owner)
        # global pull request id -> (repository, number), for GraphQL's `node(id:)`
        self.pull_ids = {
            pr.id: (info, pr.number) for info in self.repos.values() for pr in info.pulls
        }
        self.logins: dict[str, str] = {login: p.github_login for login, p in self.people.items()}
        self.logins.setdefault(world.bot_account.lower(), world.bot_account)
        for pr in world.pulls:
            self.logins.setdefault(pr.author.lower(), pr.author)
            for review in pr.reviews:
                self.logins.setdefault(review.user.lower(), review.user)

    def org_id(self, login: str) -> int:
        return 1_000_000 + stable_id("org", login.lower()) % 9_000_000


@dataclass(slots=True)
class Pull:
    """A pull request as it stands at the clock."""

    pr: PullRequest
    info: RepoInfo
    created: dt.datetime
    updated: dt.datetime
    ready_at: dt.datetime | None  # left draft, if that happened by the clock
    closed_at: dt.datetime | None
    merged_at: dt.datetime | None
    draft: bool
    reviews: list[Review]

    @property
    def open(self) -> bool:
        return self.closed_at is None


def _pull_at(pr: PullRequest, info: RepoInfo, clock: dt.datetime) -> Pull:
    def seen(moment: dt.datetime | None) -> dt.datetime | None:
        return to_second(moment) if moment is not None and moment <= clock else None

    merged = seen(pr.merged_at)
    closed = seen(pr.closed_at or pr.merged_at)
    ready = seen(pr.draft_until)
    reviews = [r for r in pr.reviews if r.submitted_at <= clock]
    draft = pr.still_draft or (pr.draft_until is not None and ready is None)
    created = to_second(pr.created)
    moments = [created, ready, closed, merged, *(to_second(r.submitted_at) for r in reviews)]
    updated = max(m for m in moments if m is not None)
    return Pull(pr, info, created, updated, ready, closed, merged, draft, reviews)


class View:
    """The world at one clock value; per-repository lists are built on first use."""

    def __init__(self, index: Index, clock: dt.datetime) -> None:
        self.index, self.clock = index, clock
        self._pulls: dict[str, list[Pull]] = {}
        self._listings: dict[tuple[str, str, str], list[Pull]] = {}
        self._pushed: dict[str, dt.datetime] = {}

    def pulls(self, info: RepoInfo) -> list[Pull]:
        key = info.repo.full_name.lower()
        if key not in self._pulls:
            visible = bisect.bisect_right(info.created_keys, self.clock)
            self._pulls[key] = [_pull_at(pr, info, self.clock) for pr in info.pulls[:visible]]
        return self._pulls[key]

    def pull(self, info: RepoInfo, number: int) -> Pull | None:
        at = info.positions.get(number)
        visible = self.pulls(info)
        return visible[at] if at is not None and at < len(visible) else None

    def listing(self, info: RepoInfo, state: str, sort: str) -> list[Pull]:
        """Pulls in `state`, ascending by `sort` (ties by number); cached for this clock."""
        key = (info.repo.full_name.lower(), state, sort)
        if key not in self._listings:
            pulls = self.pulls(info)
            if state != "all":
                pulls = [p for p in pulls if p.open == (state == "open")]
            if sort == "long-running":
                # GitHub: open for more than a month, with activity within the last month.
                month_ago = self.clock - LONG_RUNNING
                pulls = [p for p in pulls if p.created < month_ago <= p.updated]
            if sort == "updated":
                pulls = sorted(pulls, key=lambda p: (p.updated, p.pr.number))
            # created, popularity and comments: every pull has 0 comments here, so creation order
            self._listings[key] = pulls
        return self._listings[key]

    def pushed_at(self, info: RepoInfo) -> dt.datetime:
        key = info.repo.full_name.lower()
        if key not in self._pushed:
            self._pushed[key] = max((p.updated for p in self.pulls(info)), default=info.created_at)
        return self._pushed[key]

    def open_count(self, info: RepoInfo) -> int:
        return len(self.listing(info, "open", "created"))


class Worlds:
    """Caches the index per world and one view per clock value."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._index: Index | None = None
        self._view: View | None = None

    def view(self) -> View:
        world = self.state.world
        if self._index is None or self._index.world is not world:
            self._index, self._view = Index(world), None
        clock = world.clock
        if self._view is None or self._view.clock != clock:
            self._view = View(self._index, clock)
        return self._view
