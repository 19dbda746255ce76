"""The fake GitHub REST API: repositories, pull requests, reviews and issue events as of the world's clock.

Paths, JSON shapes, `Link` paging, rate-limit headers, ETags and error bodies follow
api.github.com (checked against the recordings in `/work/shared/realdata/github/` and
GitHub's REST reference) so that PyGithub, pointed at `http://127.0.0.1:PORT/github` as
a GitHub Enterprise base URL, works unchanged. Every URL in a body or a `Link` header is
absolute and points back at the host and prefix the request came in on; like the real
API, `Link` headers name repositories by id (`/repositories/{id}/pulls?page=2`).

The world model has no GitHub issues, so the issue endpoints list pull requests (as the
real API does, with a `pull_request` key). The primary rate limit counts on wall-clock
time (`SandboxState.rate_budgets["github"]`) because clients compare `X-RateLimit-Reset`
with their own clock.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import json
import math
import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.http import RateBudget, SandboxState, service_app
from sandbox.world.model import PullRequest, Repo, Review, World

SERVICE = "github"
DOCS = "https://docs.github.com/rest"
PRIMARY_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
ANONYMOUS_LIMIT = 60
JSON_TYPE = "application/json; charset=utf-8"
LONG_RUNNING = dt.timedelta(days=30)
Json = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Identifiers and formats


def _ts(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _second(moment: dt.datetime) -> dt.datetime:
    """Timestamps are served to the second; `since` compares against what was served."""
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _stable_id(*parts: object) -> int:
    """A positive id below 2**47 derived from names, the same in every run."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big") // 2 + 1


def _sha(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


def _node_id(kind: str, ident: int) -> str:
    """GitHub's legacy global node id: base64 of `0<len>:<Type><id>`."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def _user_id(login: str) -> int:
    return 100_000 + _stable_id("user", login.lower()) % 99_900_000


def _error(status: int, message: str, docs: str = DOCS, **extra: Any) -> Json:
    return {"message": message, **extra, "documentation_url": docs, "status": str(status)}


def _request_id() -> str:
    return ":".join(secrets.token_hex(n).upper() for n in (2, 3, 3, 3, 4))


# ---------------------------------------------------------------------------------------------
# The world, indexed once, and its state at one clock value


@dataclass(slots=True)
class _RepoInfo:
    repo: Repo
    owner: str
    name: str
    pulls: list[PullRequest]  # sorted by created
    created_keys: list[dt.datetime]
    positions: dict[int, int]  # number -> index in `pulls`
    created_at: dt.datetime


class _Index:
    """What does not change with the clock: repositories, their pulls by creation, the people."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.people = {p.github_login.lower(): p for p in world.people if p.github_login}
        by_repo: dict[str, list[PullRequest]] = {}
        for pr in world.pulls:
            by_repo.setdefault(pr.repo.lower(), []).append(pr)
        self.repos: dict[str, _RepoInfo] = {}
        self.repos_by_id: dict[int, _RepoInfo] = {}
        self.orgs: dict[str, str] = {}  # lower login -> login, for owners who are not people
        for repo in world.repos:
            owner, _, name = repo.full_name.partition("/")
            pulls = sorted(
                by_repo.get(repo.full_name.lower(), []), key=lambda p: (p.created, p.number)
            )
            first = pulls[0].created if pulls else world.start
            info = _RepoInfo(
                repo=repo,
                owner=owner,
                name=name,
                pulls=pulls,
                created_keys=[p.created for p in pulls],
                positions={p.number: i for i, p in enumerate(pulls)},
                created_at=_second(min(first, world.start) - dt.timedelta(days=90)),
            )
            self.repos[repo.full_name.lower()] = info
            self.repos_by_id[repo.id] = info
            if owner.lower() not in self.people:
                self.orgs.setdefault(owner.lower(), owner)
        self.logins: dict[str, str] = {login: p.github_login for login, p in self.people.items()}
        self.logins.setdefault(world.bot_account.lower(), world.bot_account)
        for pr in world.pulls:
            self.logins.setdefault(pr.author.lower(), pr.author)
            for review in pr.reviews:
                self.logins.setdefault(review.user.lower(), review.user)

    def org_id(self, login: str) -> int:
        return 1_000_000 + _stable_id("org", login.lower()) % 9_000_000


@dataclass(slots=True)
class _Pull:
    """A pull request as it stands at the clock."""

    pr: PullRequest
    info: _RepoInfo
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


def _pull_at(pr: PullRequest, info: _RepoInfo, clock: dt.datetime) -> _Pull:
    def seen(moment: dt.datetime | None) -> dt.datetime | None:
        return _second(moment) if moment is not None and moment <= clock else None

    merged = seen(pr.merged_at)
    closed = seen(pr.closed_at or pr.merged_at)
    ready = seen(pr.draft_until)
    reviews = [r for r in pr.reviews if r.submitted_at <= clock]
    draft = pr.still_draft or (pr.draft_until is not None and ready is None)
    created = _second(pr.created)
    moments = [created, ready, closed, merged, *(_second(r.submitted_at) for r in reviews)]
    updated = max(m for m in moments if m is not None)
    return _Pull(pr, info, created, updated, ready, closed, merged, draft, reviews)


class _View:
    """The world at one clock value; per-repository lists are built on first use."""

    def __init__(self, index: _Index, clock: dt.datetime) -> None:
        self.index, self.clock = index, clock
        self._pulls: dict[str, list[_Pull]] = {}
        self._listings: dict[tuple[str, str, str], list[_Pull]] = {}
        self._pushed: dict[str, dt.datetime] = {}

    def pulls(self, info: _RepoInfo) -> list[_Pull]:
        key = info.repo.full_name.lower()
        if key not in self._pulls:
            visible = bisect.bisect_right(info.created_keys, self.clock)
            self._pulls[key] = [_pull_at(pr, info, self.clock) for pr in info.pulls[:visible]]
        return self._pulls[key]

    def pull(self, info: _RepoInfo, number: int) -> _Pull | None:
        at = info.positions.get(number)
        visible = self.pulls(info)
        return visible[at] if at is not None and at < len(visible) else None

    def listing(self, info: _RepoInfo, state: str, sort: str) -> list[_Pull]:
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

    def pushed_at(self, info: _RepoInfo) -> dt.datetime:
        key = info.repo.full_name.lower()
        if key not in self._pushed:
            self._pushed[key] = max((p.updated for p in self.pulls(info)), default=info.created_at)
        return self._pushed[key]

    def open_count(self, info: _RepoInfo) -> int:
        return len(self.listing(info, "open", "created"))


class _Worlds:
    """Caches the index per world and one view per clock value."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._index: _Index | None = None
        self._view: _View | None = None

    def view(self) -> _View:
        world = self.state.world
        if self._index is None or self._index.world is not world:
            self._index, self._view = _Index(world), None
        clock = world.clock
        if self._view is None or self._view.clock != clock:
            self._view = _View(self._index, clock)
        return self._view


# ---------------------------------------------------------------------------------------------
# JSON shapes


@dataclass
class _Ctx:
    """One request's view plus the absolute URLs to write into bodies."""

    api: str  # e.g. http://127.0.0.1:8123/github
    web: str  # e.g. http://127.0.0.1:8123 (where GitHub Enterprise serves HTML)
    view: _View
    malformed: bool
    _users: dict[str, Json] = field(default_factory=dict)
    _repos: dict[int, Json] = field(default_factory=dict)

    @property
    def index(self) -> _Index:
        return self.view.index

    @property
    def world(self) -> World:
        return self.view.index.world

    def repo_url(self, info: _RepoInfo) -> str:
        return f"{self.api}/repos/{info.repo.full_name}"

    def repo(self, info: _RepoInfo) -> Json:
        """The repository as nested in pulls; built once per request, shared by its pulls."""
        if info.repo.id not in self._repos:
            self._repos[info.repo.id] = _repo_core(self, info)
        return self._repos[info.repo.id]

    def user(self, login: str) -> Json:
        """The simple-user object (as in `user`, `actor`, `owner`)."""
        if login not in self._users:
            org = login.lower() in self.index.orgs
            ident = self.index.org_id(login) if org else _user_id(login)
            url = f"{self.api}/users/{login}"
            self._users[login] = {
                "login": login,
                "id": ident,
                "node_id": _node_id("Organization" if org else "User", ident),
                "avatar_url": f"{self.web}/avatars/u/{ident}?v=4",
                "gravatar_id": "",
                "url": url,
                "html_url": f"{self.web}/{login}",
                "followers_url": f"{url}/followers",
                "following_url": f"{url}/following{{/other_user}}",
                "gists_url": f"{url}/gists{{/gist_id}}",
                "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
                "subscriptions_url": f"{url}/subscriptions",
                "organizations_url": f"{url}/orgs",
                "repos_url": f"{url}/repos",
                "events_url": f"{url}/events{{/privacy}}",
                "received_events_url": f"{url}/received_events",
                "type": "Organization" if org else "User",
                "user_view_type": "public",
                "site_admin": False,
            }
        return self._users[login]


def _association(ctx: _Ctx, login: str) -> str:
    person = ctx.index.people.get(login.lower())
    return "MEMBER" if person is not None and person.in_org_file else "CONTRIBUTOR"


def _user_detail(ctx: _Ctx, login: str) -> Json:
    """`GET /users/{login}`: the public profile."""
    person = ctx.index.people.get(login.lower())
    created = _ts(ctx.world.start - dt.timedelta(days=400 + _stable_id(login) % 2000))
    return {
        **ctx.user(login),
        "name": person.name if person else None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": _stable_id("followers", login) % 40,
        "following": _stable_id("following", login) % 40,
        "created_at": created,
        "updated_at": _ts(_second(ctx.world.start)),
    }


def _authenticated_user(ctx: _Ctx) -> Json:
    """`GET /user`: the bot the collectors authenticate as, with the private fields."""
    login = ctx.world.bot_account
    body = _user_detail(ctx, login)
    body.pop("user_view_type", None)
    return {
        **body,
        "private_gists": 0,
        "total_private_repos": len(ctx.index.repos),
        "owned_private_repos": 0,
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": True,
        "plan": {"name": "free", "space": 976562499, "collaborators": 0, "private_repos": 10000},
    }


def _organization(ctx: _Ctx, login: str) -> Json:
    ident = ctx.index.org_id(login)
    url = f"{ctx.api}/orgs/{login}"
    repos = [i for i in ctx.index.repos.values() if i.owner.lower() == login.lower()]
    return {
        "login": login,
        "id": ident,
        "node_id": _node_id("Organization", ident),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"{ctx.web}/avatars/u/{ident}?v=4",
        "description": None,
        "name": login,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{ctx.web}/{login}",
        "created_at": _ts(min((i.created_at for i in repos), default=_second(ctx.world.start))),
        "updated_at": _ts(_second(ctx.world.start)),
        "archived_at": None,
        "type": "Organization",
    }


def _repo_core(ctx: _Ctx, info: _RepoInfo) -> Json:
    """A repository as nested in `head.repo` and `base.repo` of a pull request."""
    repo = info.repo
    url, html = ctx.repo_url(info), f"{ctx.web}/{repo.full_name}"
    open_count = ctx.view.open_count(info)
    pushed = _ts(ctx.view.pushed_at(info))
    return {
        "id": repo.id,
        "node_id": _node_id("Repository", repo.id),
        "name": info.name,
        "full_name": repo.full_name,
        "private": True,
        "owner": ctx.user(info.owner),
        "html_url": html,
        "description": repo.description or None,
        "fork": False,
        "url": url,
        **{
            f"{name}_url": f"{url}/{path}"
            for name, path in (
                ("forks", "forks"),
                ("keys", "keys{/key_id}"),
                ("collaborators", "collaborators{/collaborator}"),
                ("teams", "teams"),
                ("hooks", "hooks"),
                ("issue_events", "issues/events{/number}"),
                ("events", "events"),
                ("assignees", "assignees{/user}"),
                ("branches", "branches{/branch}"),
                ("tags", "tags"),
                ("blobs", "git/blobs{/sha}"),
                ("git_tags", "git/tags{/sha}"),
                ("git_refs", "git/refs{/sha}"),
                ("trees", "git/trees{/sha}"),
                ("statuses", "statuses/{sha}"),
                ("languages", "languages"),
                ("stargazers", "stargazers"),
                ("contributors", "contributors"),
                ("subscribers", "subscribers"),
                ("subscription", "subscription"),
                ("commits", "commits{/sha}"),
                ("git_commits", "git/commits{/sha}"),
                ("comments", "comments{/number}"),
                ("issue_comment", "issues/comments{/number}"),
                ("contents", "contents/{+path}"),
                ("compare", "compare/{base}...{head}"),
                ("merges", "merges"),
                ("archive", "{archive_format}{/ref}"),
                ("downloads", "downloads"),
                ("issues", "issues{/number}"),
                ("pulls", "pulls{/number}"),
                ("milestones", "milestones{/number}"),
                ("notifications", "notifications{?since,all,participating}"),
                ("labels", "labels{/name}"),
                ("releases", "releases{/id}"),
                ("deployments", "deployments"),
            )
        },
        "created_at": _ts(info.created_at),
        "updated_at": pushed,
        "pushed_at": pushed,
        "git_url": f"git://{urllib.parse.urlsplit(ctx.web).netloc}/{repo.full_name}.git",
        "ssh_url": f"git@{urllib.parse.urlsplit(ctx.web).hostname}:{repo.full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "homepage": None,
        "size": 1000 + _stable_id("size", repo.full_name) % 50_000,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": "Python",
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": open_count,
        "license": None,
        "allow_forking": False,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private",
        "forks": 0,
        "open_issues": open_count,
        "watchers": 0,
        "default_branch": "main",
    }


_PERMISSIONS = {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}


def _repo_listed(ctx: _Ctx, info: _RepoInfo) -> Json:
    """A repository in `GET /orgs/{org}/repos` and `GET /user/repos`."""
    return {**_repo_core(ctx, info), "permissions": dict(_PERMISSIONS)}


def _repo_full(ctx: _Ctx, info: _RepoInfo) -> Json:
    """`GET /repos/{owner}/{repo}`."""
    body = _repo_core(ctx, info)
    body.update(
        {
            "permissions": dict(_PERMISSIONS),
            "temp_clone_token": "",
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": True,
            "allow_update_branch": False,
            "use_squash_pr_title_as_default": False,
            "squash_merge_commit_message": "COMMIT_MESSAGES",
            "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
            "merge_commit_message": "PR_TITLE",
            "merge_commit_title": "MERGE_MESSAGE",
            "custom_properties": {},
            "network_count": 0,
            "subscribers_count": 1 + _stable_id("watchers", info.repo.full_name) % 12,
        }
    )
    if info.owner.lower() in ctx.index.orgs:
        body["organization"] = ctx.user(info.owner)
    return body


def _label(ctx: _Ctx, info: _RepoInfo, name: str) -> Json:
    ident = _stable_id("label", info.repo.full_name, name)
    return {
        "id": ident,
        "node_id": _node_id("Label", ident),
        "url": f"{ctx.repo_url(info)}/labels/{urllib.parse.quote(name)}",
        "name": name,
        "color": _sha("color", name)[:6],
        "default": False,
        "description": None,
    }


def _commit_count(pr: PullRequest) -> int:
    return max(1, min(20, 1 + (pr.additions + pr.deletions) // 150))


def _commit_shas(pr: PullRequest) -> list[str]:
    return [_sha("commit", pr.repo, pr.number, i) for i in range(_commit_count(pr))]


def _merged_by(pr: PullRequest) -> str:
    approvers = [r.user for r in pr.reviews if r.state == "APPROVED" and r.user != pr.author]
    return approvers[-1] if approvers else pr.author


def _pull_simple(ctx: _Ctx, p: _Pull) -> Json:
    """A pull request in `GET /repos/{owner}/{repo}/pulls` (GitHub's pull-request-simple)."""
    return _break(ctx, p.pr, _pull_body(ctx, p))


def _pull_body(ctx: _Ctx, p: _Pull) -> Json:
    pr, info = p.pr, p.info
    url, issue_url = (
        f"{ctx.repo_url(info)}/pulls/{pr.number}",
        f"{ctx.repo_url(info)}/issues/{pr.number}",
    )
    html = f"{ctx.web}/{info.repo.full_name}/pull/{pr.number}"
    head_sha = _commit_shas(pr)[-1]
    reviewed = {r.user for r in p.reviews}
    requested = [] if not p.open or p.draft else _requested_reviewers(pr, reviewed)
    repo = ctx.repo(info)
    owner = ctx.user(info.owner)
    links = {
        "self": url,
        "html": html,
        "issue": issue_url,
        "comments": f"{issue_url}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": f"{ctx.repo_url(info)}/pulls/comments{{/number}}",
        "commits": f"{url}/commits",
        "statuses": f"{ctx.repo_url(info)}/statuses/{head_sha}",
    }
    body: Json = {
        "url": url,
        "id": pr.id,
        "node_id": _node_id("PullRequest", pr.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_url,
        "number": pr.number,
        "state": "open" if p.open else "closed",
        "locked": False,
        "title": pr.title,
        "user": ctx.user(pr.author),
        "body": pr.body or None,
        "created_at": _ts(p.created),
        "updated_at": _ts(p.updated),
        "closed_at": _ts(p.closed_at),
        "merged_at": _ts(p.merged_at),
        "merge_commit_sha": _sha("merge", pr.repo, pr.number),
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [ctx.user(login) for login in requested],
        "requested_teams": [],
        "labels": [_label(ctx, info, name) for name in pr.labels],
        "milestone": None,
        "draft": p.draft,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "head": {
            "label": f"{info.owner}:{pr.branch}",
            "ref": pr.branch,
            "sha": head_sha,
            "user": owner,
            "repo": repo,
        },
        "base": {
            "label": f"{info.owner}:main",
            "ref": "main",
            "sha": _sha("base", pr.repo, pr.number),
            "user": owner,
            "repo": repo,
        },
        "_links": {rel: {"href": href} for rel, href in links.items()},
        "author_association": _association(ctx, pr.author),
        "auto_merge": None,
        "active_lock_reason": None,
    }
    return body


def _requested_reviewers(pr: PullRequest, reviewed: set[str]) -> list[str]:
    """Reviewers asked when the pull became ready who have not answered yet (GitHub drops them then)."""
    wanted: list[str] = []
    for review in pr.reviews:
        if review.user != pr.author and review.user not in reviewed and review.user not in wanted:
            wanted.append(review.user)
    return wanted


def _pull_full(ctx: _Ctx, p: _Pull) -> Json:
    """`GET /repos/{owner}/{repo}/pulls/{number}`: the list shape plus merge state and sizes."""
    pr = p.pr
    body = _pull_body(ctx, p)
    merged = p.merged_at is not None
    body.update(
        {
            "merged": merged,
            "mergeable": True if p.open else None,
            "rebaseable": True if p.open else None,
            "mergeable_state": ("draft" if p.draft else "clean") if p.open else "unknown",
            "merged_by": ctx.user(_merged_by(pr)) if merged else None,
            "comments": 0,
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": _commit_count(pr),
            "additions": pr.additions,
            "deletions": pr.deletions,
            "changed_files": max(1, min(50, (pr.additions + pr.deletions) // 40)),
        }
    )
    return _break(ctx, pr, body)


def _break(ctx: _Ctx, pr: PullRequest, body: Json) -> Json:
    """With the `malformed` fault on, the world's malformed pulls lose one field's sense."""
    if not (ctx.malformed and pr.malformed):
        return body
    variant = pr.number % 3
    if variant == 0:
        body["created_at"] = "not-a-date"
    elif variant == 1:
        body["user"] = None
    else:
        body.pop("number", None)
    return body


def _review(ctx: _Ctx, p: _Pull, review: Review) -> Json:
    """One review as in `GET .../pulls/{number}/reviews`."""
    pr, info = p.pr, p.info
    html = f"{ctx.web}/{info.repo.full_name}/pull/{pr.number}#pullrequestreview-{review.id}"
    pull_url = f"{ctx.repo_url(info)}/pulls/{pr.number}"
    shas = _commit_shas(pr)
    return {
        "id": review.id,
        "node_id": _node_id("PullRequestReview", review.id),
        "user": ctx.user(review.user),
        "body": "",
        "state": review.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": _association(ctx, review.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "submitted_at": _ts(_second(review.submitted_at)),
        "commit_id": shas[-1],
    }


def _issue(ctx: _Ctx, p: _Pull, *, single: bool = False) -> Json:
    """A pull request seen through the issues API (`GET .../issues`, `.../issues/{number}`)."""
    pr, info = p.pr, p.info
    url = f"{ctx.repo_url(info)}/issues/{pr.number}"
    html = f"{ctx.web}/{info.repo.full_name}/pull/{pr.number}"
    ident = _stable_id("issue", pr.repo, pr.number)
    body: Json = {
        "url": url,
        "repository_url": ctx.repo_url(info),
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": html,
        "id": ident,
        "node_id": _node_id("PullRequest", pr.id),
        "number": pr.number,
        "title": pr.title,
        "user": ctx.user(pr.author),
        "labels": [_label(ctx, info, name) for name in pr.labels],
        "state": "open" if p.open else "closed",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": 0,
        "created_at": _ts(p.created),
        "updated_at": _ts(p.updated),
        "closed_at": _ts(p.closed_at),
        "author_association": _association(ctx, pr.author),
        "type": None,
        "active_lock_reason": None,
        "draft": p.draft,
        "pull_request": {
            "url": f"{ctx.repo_url(info)}/pulls/{pr.number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": _ts(p.merged_at),
        },
        "body": pr.body or None,
        "reactions": {
            "url": f"{url}/reactions",
            "total_count": 0,
            **dict.fromkeys(
                ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0
            ),
        },
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
        "state_reason": None,
    }
    if single:
        closer = (_merged_by(pr) if p.merged_at else pr.author) if p.closed_at else None
        body["closed_by"] = ctx.user(closer) if closer else None
    return _break(ctx, pr, body)


def _event(
    ctx: _Ctx, p: _Pull, kind: str, node: str, at: dt.datetime, actor: str, n: int, **extra: Any
) -> Json:
    ident = _stable_id("event", p.pr.repo, p.pr.number, kind, n)
    commit_id = extra.pop("commit_id", None)
    return {
        "id": ident,
        "node_id": _node_id(node, ident),
        "url": f"{ctx.repo_url(p.info)}/issues/events/{ident}",
        "actor": ctx.user(actor),
        "event": kind,
        "commit_id": commit_id,
        "commit_url": f"{ctx.repo_url(p.info)}/commits/{commit_id}" if commit_id else None,
        "created_at": _ts(_second(at)),
        **extra,
        "performed_via_github_app": None,
    }


def _issue_events(ctx: _Ctx, p: _Pull) -> list[tuple[dt.datetime, int, Json]]:
    """`GET .../issues/{number}/events`: what GitHub records for a pull, up to the clock."""
    pr, clock = p.pr, ctx.view.clock
    author = pr.author
    out: list[tuple[dt.datetime, int, Json]] = []

    def add(at: dt.datetime, json_: Json) -> None:
        out.append((at, len(out), json_))

    for n, name in enumerate(pr.labels):
        label = {"name": name, "color": _sha("color", name)[:6]}
        add(
            pr.created,
            _event(ctx, p, "labeled", "LabeledEvent", pr.created, author, n, label=label),
        )
    asked_at = (
        pr.draft_until if pr.draft_until is not None else (None if pr.still_draft else pr.created)
    )
    if asked_at is not None and asked_at <= clock:
        for n, login in enumerate(_requested_reviewers(pr, set())):
            add(
                asked_at,
                _event(
                    ctx,
                    p,
                    "review_requested",
                    "ReviewRequestedEvent",
                    asked_at,
                    author,
                    n,
                    review_requester=ctx.user(author),
                    requested_reviewer=ctx.user(login),
                ),
            )
    if p.ready_at is not None:
        add(
            p.ready_at,
            _event(ctx, p, "ready_for_review", "ReadyForReviewEvent", p.ready_at, author, 0),
        )
    if p.merged_at is not None:
        merger, sha = _merged_by(pr), _sha("merge", pr.repo, pr.number)
        add(
            p.merged_at,
            _event(ctx, p, "merged", "MergedEvent", p.merged_at, merger, 0, commit_id=sha),
        )
    if p.closed_at is not None:
        closer = _merged_by(pr) if p.merged_at else author
        add(
            p.closed_at,
            _event(ctx, p, "closed", "ClosedEvent", p.closed_at, closer, 0, state_reason=None),
        )
    return out


def _committed(ctx: _Ctx, p: _Pull) -> list[tuple[dt.datetime, Json]]:
    """The pull's commits as timeline `committed` events, pushed in the hour before it opened."""
    pr, info = p.pr, p.info
    shas = _commit_shas(pr)
    out: list[tuple[dt.datetime, Json]] = []
    person = ctx.index.people.get(pr.author.lower())
    who = {
        "name": person.name if person else pr.author,
        "email": (person.other_emails or [person.email])[0]
        if person
        else f"{pr.author}@users.noreply",
    }
    for i, sha in enumerate(shas):
        at = _second(pr.created - dt.timedelta(minutes=15 * (len(shas) - i)))
        signed = {**who, "date": _ts(at)}
        url = f"{ctx.repo_url(info)}/git/commits/{sha}"
        parent = _sha("base", pr.repo, pr.number) if i == 0 else shas[i - 1]
        out.append(
            (
                at,
                {
                    "sha": sha,
                    "node_id": _node_id("Commit", _stable_id(sha)),
                    "url": url,
                    "html_url": f"{ctx.web}/{info.repo.full_name}/commit/{sha}",
                    "author": signed,
                    "committer": signed,
                    "tree": {
                        "sha": _sha("tree", sha),
                        "url": f"{ctx.repo_url(info)}/git/trees/{_sha('tree', sha)}",
                    },
                    "message": f"{pr.title} ({i + 1}/{len(shas)})",
                    "parents": [
                        {
                            "sha": parent,
                            "url": f"{ctx.repo_url(info)}/git/commits/{parent}",
                            "html_url": f"{ctx.web}/{info.repo.full_name}/commit/{parent}",
                        }
                    ],
                    "verification": {
                        "verified": False,
                        "reason": "unsigned",
                        "signature": None,
                        "payload": None,
                        "verified_at": None,
                    },
                    "event": "committed",
                },
            )
        )
    return out


def _timeline(ctx: _Ctx, p: _Pull) -> list[Json]:
    """`GET .../issues/{number}/timeline`: commits, reviews and the issue events, in time order."""
    items = [(at, -1000 + n, json_) for n, (at, json_) in enumerate(_committed(ctx, p))]
    items.extend(_issue_events(ctx, p))
    for review in p.reviews:
        # The timeline spells review states in lower case, unlike the reviews endpoint.
        shown = {**_review(ctx, p, review), "event": "reviewed"}
        shown["state"] = review.state.lower()
        items.append((_second(review.submitted_at), 1000 + len(items), shown))
    items.sort(key=lambda item: (item[0], item[1]))
    return [json_ for _, _, json_ in items]


def _commits(ctx: _Ctx, p: _Pull) -> list[Json]:
    """`GET .../pulls/{number}/commits`."""
    pr, info = p.pr, p.info
    commits = []
    for _, event in _committed(ctx, p):
        sha = event["sha"]
        url = f"{ctx.repo_url(info)}/commits/{sha}"
        commits.append(
            {
                "sha": sha,
                "node_id": event["node_id"],
                "commit": {
                    "author": event["author"],
                    "committer": event["committer"],
                    "message": event["message"],
                    "tree": event["tree"],
                    "url": event["url"],
                    "comment_count": 0,
                    "verification": event["verification"],
                },
                "url": url,
                "html_url": event["html_url"],
                "comments_url": f"{url}/comments",
                "author": ctx.user(pr.author),
                "committer": ctx.user(pr.author),
                "parents": [
                    {
                        "sha": parent["sha"],
                        "url": f"{ctx.repo_url(info)}/commits/{parent['sha']}",
                        "html_url": parent["html_url"],
                    }
                    for parent in event["parents"]
                ],
            }
        )
    return commits


def _rate_limit_body(budget: RateBudget, now: float) -> Json:
    """`GET /rate_limit`; it does not count against the limit itself."""
    limit, remaining, reset, used = _budget_numbers(budget, now)
    window_end = int(now) + 3600

    def bucket(name: str, lim: int, rem: int, rst: int, usd: int) -> Json:
        return {"limit": lim, "remaining": rem, "reset": rst, "used": usd, "resource": name}

    core = bucket("core", limit, remaining, reset, used)
    return {
        "resources": {
            "core": core,
            "search": bucket("search", 30, 30, int(now) + 60, 0),
            "graphql": bucket("graphql", 5000, 5000, window_end, 0),
            "integration_manifest": bucket("integration_manifest", 5000, 5000, window_end, 0),
            "code_search": bucket("code_search", 10, 10, int(now) + 60, 0),
            "code_scanning_upload": bucket("code_scanning_upload", 1000, 1000, window_end, 0),
        },
        "rate": dict(core),
    }


def _budget_numbers(budget: RateBudget, now: float) -> tuple[int, int, int, int]:
    """(limit, remaining, reset epoch seconds, used) as the headers report them."""
    if now >= budget.reset_at:
        return budget.limit, budget.limit, math.ceil(now + budget.window_seconds), 0
    used = min(budget.used, budget.limit)
    return budget.limit, budget.limit - used, math.ceil(budget.reset_at), used


# ---------------------------------------------------------------------------------------------
# Requests, responses and paging


class _NotFound(Exception):
    def __init__(self, docs: str = DOCS) -> None:
        self.docs = docs


class _Invalid(Exception):
    def __init__(self, message: str, docs: str = DOCS) -> None:
        self.message, self.docs = message, docs


def _etag_matches(header: str, etag: str) -> bool:
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def _respond(request: Request, body: Any, status: int = 200, link: str | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    etag = f'W/"{hashlib.sha256(data).hexdigest()}"'
    headers = {
        "Cache-Control": "private, max-age=60, s-maxage=60",
        "ETag": etag,
        "Vary": "Accept, Authorization",
    }
    if link:
        headers["Link"] = link
    if status == 200:
        condition = request.headers.get("if-none-match")
        if condition and _etag_matches(condition, etag):
            return Response(status_code=304, headers=headers)
    else:
        del headers["ETag"], headers["Cache-Control"]
    return Response(data, status, headers=headers, media_type=JSON_TYPE)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _choice(request: Request, name: str, allowed: Iterable[str], default: str, docs: str) -> str:
    value = request.query_params.get(name, default)
    allowed = tuple(allowed)
    if value not in allowed:
        raise _Invalid(f"{name} must be one of: {', '.join(allowed)}", docs)
    return value


def _paged(
    ctx: _Ctx, request: Request, items: Sequence[Any], link_path: str, *, descending: bool = False
) -> tuple[list[Any], str | None]:
    """One page of `items` (reversed first when `descending`) and the `Link` header for the rest.

    `link_path` is where the real API sends the client next (`/repositories/{id}/...`); the
    request's own query is kept, with `page` moved to the end as GitHub writes it.
    """
    per_page = max(1, min(MAX_PER_PAGE, _int_param(request, "per_page", DEFAULT_PER_PAGE)))
    page = max(1, _int_param(request, "page", 1))
    total = len(items)
    start, stop = (page - 1) * per_page, page * per_page
    if descending:
        chunk = list(reversed(items[max(0, total - stop) : max(0, total - start)]))
    else:
        chunk = list(items[start:stop])
    last = max(1, math.ceil(total / per_page))
    if last == 1 and page == 1:
        return chunk, None
    query = [
        (k, v)
        for k, v in urllib.parse.parse_qsl(request.url.query, keep_blank_values=True)
        if k != "page"
    ]

    def href(number: int) -> str:
        return f"<{ctx.api}{link_path}?{urllib.parse.urlencode([*query, ('page', number)])}>"

    rels = []
    if page > 1:
        rels.append(f'{href(min(page - 1, last))}; rel="prev"')
    if page < last:
        rels.extend((f'{href(page + 1)}; rel="next"', f'{href(last)}; rel="last"'))
    if page > 1:
        rels.append(f'{href(1)}; rel="first"')
    return chunk, ", ".join(rels)


# ---------------------------------------------------------------------------------------------
# Endpoints

PULLS_DOCS = "https://docs.github.com/rest/pulls/pulls"
REVIEWS_DOCS = "https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request"
ISSUES_DOCS = "https://docs.github.com/rest/issues/issues"
EVENTS_DOCS = "https://docs.github.com/rest/issues/events#list-issue-events"
TIMELINE_DOCS = "https://docs.github.com/rest/issues/timeline#list-timeline-events-for-an-issue"
REPOS_DOCS = "https://docs.github.com/rest/repos/repos"
USERS_DOCS = "https://docs.github.com/rest/users/users#get-a-user"
ORGS_DOCS = "https://docs.github.com/rest/orgs/orgs#get-an-organization"


def _base_urls(request: Request) -> tuple[str, str]:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return origin + request.scope.get("root_path", ""), origin


def _repo_of(ctx: _Ctx, request: Request, docs: str) -> _RepoInfo:
    params = request.path_params
    if "repo_id" in params:
        info = ctx.index.repos_by_id.get(params["repo_id"])
    else:
        info = ctx.index.repos.get(f"{params['owner']}/{params['repo']}".lower())
    if info is None:
        raise _NotFound(docs)
    return info


def _pull_of(ctx: _Ctx, request: Request, docs: str) -> _Pull:
    info = _repo_of(ctx, request, docs)
    pull = ctx.view.pull(info, request.path_params["number"])
    if pull is None:
        raise _NotFound(docs)
    return pull


def _repo_link(info: _RepoInfo, rest: str) -> str:
    return f"/repositories/{info.repo.id}{rest}"


def _get_user(request: Request, ctx: _Ctx) -> Response:
    return _respond(request, _authenticated_user(ctx))


def _get_named_user(request: Request, ctx: _Ctx) -> Response:
    login = request.path_params["login"].lower()
    known = ctx.index.logins.get(login) or ctx.index.orgs.get(login)
    if known is None:
        raise _NotFound(USERS_DOCS)
    return _respond(request, _user_detail(ctx, known))


def _get_org(request: Request, ctx: _Ctx) -> Response:
    org = ctx.index.orgs.get(request.path_params["org"].lower())
    if org is None:
        raise _NotFound(ORGS_DOCS)
    return _respond(request, _organization(ctx, org))


_REPO_SORT_KEYS: dict[str, Callable[[_Ctx, _RepoInfo], Any]] = {
    "created": lambda ctx, info: info.created_at,
    "updated": lambda ctx, info: ctx.view.pushed_at(info),
    "pushed": lambda ctx, info: ctx.view.pushed_at(info),
    "full_name": lambda ctx, info: info.repo.full_name.lower(),
}


def _list_repos(
    request: Request, ctx: _Ctx, repos: list[_RepoInfo], link_path: str, sort_default: str
) -> Response:
    docs = f"{REPOS_DOCS}#list-organization-repositories"
    kind = _choice(
        request,
        "type",
        ("all", "public", "private", "forks", "sources", "member", "internal", "owner"),
        "all",
        docs,
    )
    visibility = _choice(request, "visibility", ("all", "public", "private"), "all", docs)
    if kind in ("public", "forks", "internal", "owner") or visibility == "public":
        # every sandbox repository is a private, non-fork repository of an organisation
        repos = []
    sort = _choice(request, "sort", _REPO_SORT_KEYS, sort_default, docs)
    direction = _choice(
        request, "direction", ("asc", "desc"), "asc" if sort == "full_name" else "desc", docs
    )
    key = _REPO_SORT_KEYS[sort]
    ordered = sorted(repos, key=lambda info: (key(ctx, info), info.repo.id))
    page, link = _paged(ctx, request, ordered, link_path, descending=direction == "desc")
    return _respond(request, [_repo_listed(ctx, info) for info in page], link=link)


def _get_org_repos(request: Request, ctx: _Ctx) -> Response:
    params = request.path_params
    if "org_id" in params:
        org = next(
            (o for o in ctx.index.orgs.values() if ctx.index.org_id(o) == params["org_id"]), None
        )
    else:
        org = ctx.index.orgs.get(params["org"].lower())
    if org is None:
        raise _NotFound(ORGS_DOCS)
    repos = [info for info in ctx.index.repos.values() if info.owner.lower() == org.lower()]
    return _list_repos(
        request, ctx, repos, f"/organizations/{ctx.index.org_id(org)}/repos", "created"
    )


def _get_user_repos(request: Request, ctx: _Ctx) -> Response:
    return _list_repos(request, ctx, list(ctx.index.repos.values()), "/user/repos", "full_name")


def _get_repo(request: Request, ctx: _Ctx) -> Response:
    return _respond(
        request, _repo_full(ctx, _repo_of(ctx, request, f"{REPOS_DOCS}#get-a-repository"))
    )


def _get_pulls(request: Request, ctx: _Ctx) -> Response:
    docs = f"{PULLS_DOCS}#list-pull-requests"
    info = _repo_of(ctx, request, docs)
    state = _choice(request, "state", ("open", "closed", "all"), "open", docs)
    sort = _choice(
        request, "sort", ("created", "updated", "popularity", "long-running"), "created", docs
    )
    direction = _choice(
        request, "direction", ("asc", "desc"), "desc" if sort == "created" else "asc", docs
    )
    pulls = ctx.view.listing(info, state, sort)
    head, base = request.query_params.get("head"), request.query_params.get("base")
    if head:
        pulls = [p for p in pulls if f"{p.info.owner}:{p.pr.branch}" == head or p.pr.branch == head]
    if base and base != "main":
        pulls = []
    page, link = _paged(
        ctx, request, pulls, _repo_link(info, "/pulls"), descending=direction == "desc"
    )
    return _respond(request, [_pull_simple(ctx, p) for p in page], link=link)


def _get_pull(request: Request, ctx: _Ctx) -> Response:
    return _respond(
        request, _pull_full(ctx, _pull_of(ctx, request, f"{PULLS_DOCS}#get-a-pull-request"))
    )


def _get_reviews(request: Request, ctx: _Ctx) -> Response:
    pull = _pull_of(ctx, request, REVIEWS_DOCS)
    link_path = _repo_link(pull.info, f"/pulls/{pull.pr.number}/reviews")
    page, link = _paged(ctx, request, pull.reviews, link_path)
    return _respond(request, [_review(ctx, pull, r) for r in page], link=link)


def _get_commits(request: Request, ctx: _Ctx) -> Response:
    pull = _pull_of(ctx, request, f"{PULLS_DOCS}#list-commits-on-a-pull-request")
    link_path = _repo_link(pull.info, f"/pulls/{pull.pr.number}/commits")
    page, link = _paged(ctx, request, _commits(ctx, pull), link_path)
    return _respond(request, page, link=link)


def _get_issues(request: Request, ctx: _Ctx) -> Response:
    docs = f"{ISSUES_DOCS}#list-repository-issues"
    info = _repo_of(ctx, request, docs)
    state = _choice(request, "state", ("open", "closed", "all"), "open", docs)
    sort = _choice(request, "sort", ("created", "updated", "comments"), "created", docs)
    direction = _choice(request, "direction", ("asc", "desc"), "desc", docs)
    pulls: Sequence[_Pull] = ctx.view.listing(
        info, state, "updated" if sort == "updated" else "created"
    )
    since_raw = request.query_params.get("since")
    if since_raw:
        try:
            since = dt.datetime.fromisoformat(since_raw.replace("Z", "+00:00"))
        except ValueError:
            raise _Invalid(
                "since must be an ISO 8601 timestamp: YYYY-MM-DDTHH:MM:SSZ", docs
            ) from None
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        if sort == "updated":
            pulls = pulls[bisect.bisect_left(pulls, since, key=lambda p: p.updated) :]
        else:
            pulls = [p for p in pulls if p.updated >= since]
    labels = [name for name in request.query_params.get("labels", "").split(",") if name]
    if labels:
        pulls = [p for p in pulls if set(labels) <= set(p.pr.labels)]
    creator = request.query_params.get("creator")
    if creator:
        pulls = [p for p in pulls if p.pr.author.lower() == creator.lower()]
    page, link = _paged(
        ctx, request, pulls, _repo_link(info, "/issues"), descending=direction == "desc"
    )
    return _respond(request, [_issue(ctx, p) for p in page], link=link)


def _get_issue(request: Request, ctx: _Ctx) -> Response:
    pull = _pull_of(ctx, request, f"{ISSUES_DOCS}#get-an-issue")
    return _respond(request, _issue(ctx, pull, single=True))


def _get_issue_events(request: Request, ctx: _Ctx) -> Response:
    pull = _pull_of(ctx, request, EVENTS_DOCS)
    events = [json_ for _, _, json_ in sorted(_issue_events(ctx, pull), key=lambda e: (e[0], e[1]))]
    link_path = _repo_link(pull.info, f"/issues/{pull.pr.number}/events")
    page, link = _paged(ctx, request, events, link_path)
    return _respond(request, page, link=link)


def _get_timeline(request: Request, ctx: _Ctx) -> Response:
    pull = _pull_of(ctx, request, TIMELINE_DOCS)
    link_path = _repo_link(pull.info, f"/issues/{pull.pr.number}/timeline")
    page, link = _paged(ctx, request, _timeline(ctx, pull), link_path)
    return _respond(request, page, link=link)


def _get_rate_limit(request: Request, ctx: _Ctx, state: SandboxState) -> Response:
    with state.lock:
        body = _rate_limit_body(state.rate_budgets[SERVICE], time.time())
    return _respond(request, body)


def _endpoint(
    worlds: _Worlds, handler: Callable[..., Response], *extra: Any
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        state = worlds.state
        with state.lock:
            malformed = state.faults[SERVICE].malformed
        api, web = _base_urls(request)
        ctx = _Ctx(api=api, web=web, view=worlds.view(), malformed=malformed)
        try:
            return handler(request, ctx, *extra)
        except _NotFound as missing:
            return _respond(request, _error(404, "Not Found", missing.docs), 404)
        except _Invalid as invalid:
            body = _error(
                422,
                "Validation Failed",
                invalid.docs,
                errors=[{"message": invalid.message, "code": "invalid"}],
            )
            return _respond(request, body, 422)

    return endpoint


def _not_found(request: Request) -> Response:
    return _respond(request, _error(404, "Not Found"), 404)


def _routes(worlds: _Worlds) -> list[Route]:
    repo_scoped: list[tuple[str, Callable[..., Response]]] = [
        ("", _get_repo),
        ("/pulls", _get_pulls),
        ("/pulls/{number:int}", _get_pull),
        ("/pulls/{number:int}/reviews", _get_reviews),
        ("/pulls/{number:int}/commits", _get_commits),
        ("/issues", _get_issues),
        ("/issues/{number:int}", _get_issue),
        ("/issues/{number:int}/events", _get_issue_events),
        ("/issues/{number:int}/timeline", _get_timeline),
    ]
    routes = [
        Route("/user", _endpoint(worlds, _get_user)),
        Route("/user/repos", _endpoint(worlds, _get_user_repos)),
        Route("/users/{login}", _endpoint(worlds, _get_named_user)),
        Route("/rate_limit", _endpoint(worlds, _get_rate_limit, worlds.state)),
        Route("/orgs/{org}", _endpoint(worlds, _get_org)),
        Route("/orgs/{org}/repos", _endpoint(worlds, _get_org_repos)),
        Route("/organizations/{org_id:int}/repos", _endpoint(worlds, _get_org_repos)),
    ]
    for suffix, handler in repo_scoped:
        endpoint = _endpoint(worlds, handler)
        routes.append(Route(f"/repos/{{owner}}/{{repo}}{suffix}", endpoint))
        routes.append(Route(f"/repositories/{{repo_id:int}}{suffix}", endpoint))
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    routes.append(Route("/{path:path}", _not_found, methods=methods))
    return routes


# ---------------------------------------------------------------------------------------------
# Authentication, errors from the shared middleware, and the primary rate limit


def _token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") and token.strip() else None


def _authenticated(headers: Headers, state: SandboxState) -> bool:
    token = _token(headers.get("authorization"))
    return token is not None and token == state.tokens.get(SERVICE)


def _auth(request: Request, state: SandboxState) -> bool:
    return _authenticated(request.headers, state)


_SERVER_ERRORS = {
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _error_body(status: int, message: str) -> Json:
    """GitHub's words for what the shared fault middleware answers."""
    if status == 401:
        return _error(401, "Bad credentials")
    if status in (403, 429):
        return _error(
            status,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {_request_id()}.",
            SECONDARY_LIMIT_DOCS,
        )
    return {"message": _SERVER_ERRORS.get(status, message), "documentation_url": DOCS}


class _RateLimitMiddleware:
    """Spends the primary budget, refuses with GitHub's 403 when it is gone, stamps the headers.

    Outermost, so that the shared middleware's 401s, 429s and 5xx carry the headers too, as
    GitHub's do. A 304 gives its request back: conditional hits are free on the real API.
    """

    def __init__(self, app: ASGIApp, *, state: SandboxState) -> None:
        self.app, self.state = app, state
        self.anonymous = RateBudget(limit=ANONYMOUS_LIMIT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        authenticated = _authenticated(Headers(scope=scope), state)
        counted = path != "/rate_limit"
        with state.lock:
            budget = state.rate_budgets[SERVICE] if authenticated else self.anonymous
            # Only authenticated calls are refused here; a bad token still gets its 401.
            allowed = not counted or budget.take(time.time()) or not authenticated
            if not allowed:
                state.count(SERVICE, scope["path"])
        if not allowed:
            await self._refuse(scope, receive, send, budget)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                with state.lock:
                    if counted and message["status"] == 304:
                        budget.used = max(0, budget.used - 1)
                    extra = self._headers(budget)
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, stamped)

    def _headers(self, budget: RateBudget) -> list[tuple[bytes, bytes]]:
        limit, remaining, reset, used = _budget_numbers(budget, time.time())
        values = {
            "X-RateLimit-Limit": limit,
            "X-RateLimit-Remaining": remaining,
            "X-RateLimit-Reset": reset,
            "X-RateLimit-Used": used,
            "X-RateLimit-Resource": "core",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": _request_id(),
        }
        return [(name.lower().encode(), str(value).encode()) for name, value in values.items()]

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, budget: RateBudget) -> None:
        with self.state.lock:
            headers = self._headers(budget)
            login = self.state.world.bot_account
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        message = (
            f"API rate limit exceeded for user ID {_user_id(login)}. If you reach out to GitHub Support "
            f"for help, please include the request ID {_request_id()} and timestamp {stamp} UTC."
        )
        data = json.dumps(_error(403, message, PRIMARY_LIMIT_DOCS)).encode()
        response = Response(data, 403, media_type=JSON_TYPE)
        response.raw_headers.extend(headers)
        await response(scope, receive, send)


def app(state: SandboxState) -> Starlette:
    """The GitHub sub-application; mount it at `/github` and use that as PyGithub's `base_url`."""
    worlds = _Worlds(state)
    github = service_app(
        _routes(worlds), service=SERVICE, state=state, auth=_auth, error_body=_error_body
    )
    github.add_middleware(_RateLimitMiddleware, state=state)
    return github
