"""The sandbox world as GraphQL objects: the same facts the REST endpoints serve, in GitHub's GraphQL names.

Objects are dicts; a field with arguments is a function of them (graphql-core's
default resolver calls it), so the schema itself decides which fields reach the
client. Ids are the legacy global ids the REST bodies carry in `node_id`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from sandbox.github.formats import fake_sha, iso_time, node_id, stable_id, to_second, user_id
from sandbox.github.gql.cursors import connection, page
from sandbox.github.index import Pull, RepoInfo
from sandbox.github.pulls import merged_by, requested_reviewers
from sandbox.github.shapes import Ctx
from sandbox.world.model import Review

Json = dict[str, Any]
# The timeline item types the sandbox cannot list (the world has them, the sandbox does not model them).
UNSERVED_ITEMS = {"PULL_REQUEST_COMMIT", "PULL_REQUEST_COMMIT_COMMENT_THREAD"}


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": "NOT_FOUND"})


class Graph:
    """Builds the objects of one request over its view of the world."""

    def __init__(self, ctx: Ctx, viewer: str, *, app: bool = False) -> None:
        self.ctx, self.viewer_login, self.app = ctx, viewer, app

    # -- people and organisations -------------------------------------------------------------
    def actor(self, login: str | None) -> Json | None:
        if not login:
            return None
        ctx = self.ctx
        org = login.lower() in ctx.index.orgs
        ident = ctx.index.org_id(login) if org else user_id(login)
        kind = "Organization" if org else "User"
        person = ctx.index.people.get(login.lower())
        body: Json = {
            "__typename": kind,
            "id": node_id(kind, ident),
            "databaseId": ident,
            "login": login,
            "name": person.name if person else (login if org else None),
            "url": f"{ctx.web}/{login}",
            "resourcePath": f"/{login}",
            "avatarUrl": lambda info, size=None: f"{ctx.web}/avatars/u/{ident}?v=4",
        }
        if org:
            body["repositories"] = lambda info, **args: self.repositories(login, args)
        return body

    def viewer(self, info: GraphQLResolveInfo) -> Json | None:
        if self.app:  # an installation token is no user
            raise GraphQLError(
                "Resource not accessible by integration", extensions={"type": "FORBIDDEN"}
            )
        return self.actor(self.viewer_login)

    def user(self, info: GraphQLResolveInfo, login: str) -> Json | None:
        known = self.ctx.index.logins.get(login.lower())
        if known is None:
            raise not_found(f"Could not resolve to a User with the login of '{login}'.")
        return self.actor(known)

    def organization(self, info: GraphQLResolveInfo, login: str) -> Json | None:
        known = self.ctx.index.orgs.get(login.lower())
        if known is None:
            raise not_found(f"Could not resolve to an Organization with the login of '{login}'.")
        return self.actor(known)

    # -- repositories --------------------------------------------------------------------------
    def repositories(self, owner: str, args: Json) -> Json:
        ctx = self.ctx
        repos = [i for i in ctx.index.repos.values() if i.owner.lower() == owner.lower()]
        if args.get("privacy") == "PUBLIC" or args.get("isFork") or args.get("isArchived"):
            repos = []  # every sandbox repository is private, no fork, not archived
        if args.get("visibility") in ("PUBLIC", "INTERNAL"):
            repos = []
        order = args.get("orderBy") or {}
        field, direction = order.get("field", "CREATED_AT"), order.get("direction", "ASC")
        keys: dict[str, Callable[[RepoInfo], Any]] = {
            "CREATED_AT": lambda i: iso_time(i.created_at),
            "UPDATED_AT": lambda i: iso_time(ctx.view.pushed_at(i)),
            "PUSHED_AT": lambda i: iso_time(ctx.view.pushed_at(i)),
            "NAME": lambda i: i.name.lower(),
            "STARGAZERS": lambda i: 0,
        }
        key = keys[field]
        found = page(repos, lambda i: [key(i), i.repo.id], args, reverse=direction == "DESC")
        return connection(found, self.repository_of)

    def repository(self, info: GraphQLResolveInfo, owner: str, name: str, **_: Any) -> Json:
        found = self.ctx.index.repos.get(f"{owner}/{name}".lower())
        if found is None:
            raise not_found(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return self.repository_of(found)

    def repository_of(self, info_: RepoInfo) -> Json:
        ctx, repo = self.ctx, info_.repo
        pushed = iso_time(ctx.view.pushed_at(info_))
        return {
            "__typename": "Repository",
            "id": node_id("Repository", repo.id),
            "databaseId": repo.id,
            "name": info_.name,
            "nameWithOwner": repo.full_name,
            "owner": self.actor(info_.owner),
            "url": f"{ctx.web}/{repo.full_name}",
            "isPrivate": True,
            "isFork": False,
            "isArchived": False,
            "createdAt": iso_time(info_.created_at),
            "updatedAt": pushed,
            "pushedAt": pushed,
            "pullRequests": lambda info, **args: self.pull_requests(info_, args),
            "pullRequest": lambda info, number: self._pull_or_missing(info_, number),
        }

    # -- pull requests ---------------------------------------------------------------------------
    def _pull_or_missing(self, info_: RepoInfo, number: int) -> Json:
        found = self.ctx.view.pull(info_, number)
        if found is None:
            raise not_found(f"Could not resolve to a PullRequest with the number of {number}.")
        return self.pull(found)

    def pull_requests(self, info_: RepoInfo, args: Json) -> Json:
        order = args.get("orderBy") or {}
        field, direction = order.get("field", "CREATED_AT"), order.get("direction", "ASC")
        by_update = field == "UPDATED_AT"  # CREATED_AT, and COMMENTS: none has comments here
        # the view's listing is ascending by (time, number) and cached for the clock
        pulls: list[Pull] = self.ctx.view.listing(
            info_, "all", "updated" if by_update else "created"
        )
        states = args.get("states")
        if states:
            pulls = [p for p in pulls if _state(p) in states]
        if args.get("labels"):
            wanted = set(args["labels"])
            pulls = [p for p in pulls if wanted & set(p.pr.labels)]
        if args.get("headRefName") is not None:
            pulls = [p for p in pulls if p.pr.branch == args["headRefName"]]
        if args.get("baseRefName") is not None and args["baseRefName"] != "main":
            pulls = []

        def key(p: Pull) -> list[Any]:
            return [iso_time(p.updated if by_update else p.created), p.pr.number]

        found = page(pulls, key, args, reverse=direction == "DESC", presorted=True)
        return connection(found, self.pull)

    def pull(self, p: Pull) -> Json:
        ctx, pr, info_ = self.ctx, p.pr, p.info
        body: Json = {
            "__typename": "PullRequest",
            "id": node_id("PullRequest", pr.id),
            "databaseId": pr.id,
            "fullDatabaseId": str(pr.id),  # BigInt: GitHub writes it as a string
            "number": pr.number,
            "title": pr.title,
            "body": pr.body,
            "url": f"{ctx.web}/{info_.repo.full_name}/pull/{pr.number}",
            "state": _state(p),
            "isDraft": p.draft,
            "merged": p.merged_at is not None,
            "closed": p.closed_at is not None,
            "createdAt": iso_time(p.created),
            "updatedAt": iso_time(p.updated),
            "mergedAt": iso_time(p.merged_at),
            "closedAt": iso_time(p.closed_at),
            "author": self.actor(pr.author),
            "headRefName": pr.branch,
            "baseRefName": "main",
            "additions": pr.additions,
            "deletions": pr.deletions,
            "repository": lambda info: self.repository_of(info_),
            "labels": lambda info, **args: self.labels(p, args),
            "reviews": lambda info, **args: self.reviews(p, args),
            "timelineItems": lambda info, **args: self.timeline(p, args),
        }
        if ctx.malformed and pr.malformed:
            _break(body, pr.number % 3)
        return body

    def label(self, info_: RepoInfo, name: str) -> Json:
        ident = stable_id("label", info_.repo.full_name, name)
        return {
            "__typename": "Label",
            "id": node_id("Label", ident),
            "name": name,
            "color": fake_sha("color", name)[:6],
        }

    def labels(self, p: Pull, args: Json) -> Json:
        order = args.get("orderBy") or {}
        names = list(enumerate(p.pr.labels))
        if order.get("field") == "NAME":

            def key(item: tuple[int, str]) -> list[Any]:
                return [item[1].lower(), item[0]]
        else:

            def key(item: tuple[int, str]) -> list[Any]:
                return [item[0]]

        found = page(names, key, args, reverse=order.get("direction") == "DESC")
        return connection(found, lambda item: self.label(p.info, item[1]))

    def review(self, p: Pull, review: Review) -> Json:
        at = iso_time(to_second(review.submitted_at))
        full_name = p.info.repo.full_name
        return {
            "__typename": "PullRequestReview",
            "id": node_id("PullRequestReview", review.id),
            "databaseId": review.id,
            "fullDatabaseId": str(review.id),
            "author": self.actor(review.user),
            "state": review.state,
            "submittedAt": at,
            "createdAt": at,
            "url": f"{self.ctx.web}/{full_name}/pull/{p.pr.number}#pullrequestreview-{review.id}",
        }

    def reviews(self, p: Pull, args: Json) -> Json:
        reviews = p.reviews
        if args.get("states"):
            reviews = [r for r in reviews if r.state in args["states"]]
        if args.get("author"):
            reviews = [r for r in reviews if r.user.lower() == args["author"].lower()]
        found = page(
            reviews,
            lambda r: [iso_time(to_second(r.submitted_at)), r.id],
            args,
            reverse=False,
        )
        return connection(found, lambda r: self.review(p, r))

    def timeline(self, p: Pull, args: Json) -> Json:
        kinds = args.get("itemTypes")
        if not kinds or UNSERVED_ITEMS & set(kinds):
            raise GraphQLError(
                "The sandbox serves timelineItems only for named itemTypes, without "
                f"{' or '.join(sorted(UNSERVED_ITEMS))} (commits are not modelled here).",
                extensions={"type": "SANDBOX_UNSUPPORTED"},
            )
        if args.get("skip"):
            raise GraphQLError(
                "The sandbox does not serve `skip` on timelineItems.",
                extensions={"type": "SANDBOX_UNSUPPORTED"},
            )
        items = [item for item in self._timeline_items(p) if item[2] in kinds]
        since = args.get("since")
        if since is not None:
            bound = iso_time(since if isinstance(since, dt.datetime) else _parse_time(since))
            items = [item for item in items if item[0] >= (bound or "")]
        found = page(items, lambda item: [item[0], item[1]], args, reverse=False)
        return connection(found, lambda item: item[3])

    def _timeline_items(self, p: Pull) -> list[tuple[str, int, str, Json]]:
        """(time, order, item type, object): what the REST timeline shows, commits aside."""
        pr, clock = p.pr, self.ctx.view.clock
        out: list[tuple[str, int, str, Json]] = []

        # The order key is (time, kind's rank, n): fixed once an item exists, so cursors hold.
        def event(kind: str, node: str, at: dt.datetime, actor: str, n: int, **extra: Any) -> None:
            ident = stable_id("event", pr.repo, pr.number, kind, n)
            when = iso_time(to_second(at)) or ""
            body = {
                "__typename": node,
                "id": node_id(node, ident),
                "actor": self.actor(actor),
                "createdAt": when,
                **extra,
            }
            item_type = "".join(("_" + c if c.isupper() else c) for c in node).lstrip("_").upper()
            out.append((when, _RANK[node] * 1000 + n, item_type, body))

        for n, name in enumerate(pr.labels):
            event(
                "labeled", "LabeledEvent", pr.created, pr.author, n, label=self.label(p.info, name)
            )
        asked_at = (
            pr.draft_until
            if pr.draft_until is not None
            else (None if pr.still_draft else pr.created)
        )
        if asked_at is not None and asked_at <= clock:
            for n, login in enumerate(requested_reviewers(pr, set())):
                event(
                    "review_requested",
                    "ReviewRequestedEvent",
                    asked_at,
                    pr.author,
                    n,
                    requestedReviewer=self.actor(login),
                )
        if p.ready_at is not None:
            event("ready_for_review", "ReadyForReviewEvent", p.ready_at, pr.author, 0)
        if p.merged_at is not None:
            event("merged", "MergedEvent", p.merged_at, merged_by(pr), 0)
        if p.closed_at is not None:
            closer = merged_by(pr) if p.merged_at else pr.author
            event("closed", "ClosedEvent", p.closed_at, closer, 0)
        for n, review in enumerate(p.reviews):
            body = self.review(p, review)
            out.append(
                (
                    body["submittedAt"],
                    _RANK["PullRequestReview"] * 1000 + n,
                    "PULL_REQUEST_REVIEW",
                    body,
                )
            )
        return out

    # -- global ids ---------------------------------------------------------------------------
    def node(self, info: GraphQLResolveInfo, id: str) -> Json | None:
        found = self._by_id(id)
        if found is None:
            raise not_found(f"Could not resolve to a node with the global id of '{id}'")
        return found

    def nodes(self, info: GraphQLResolveInfo, ids: list[str]) -> list[Json | None]:
        return [self._by_id(i) for i in ids]

    def _by_id(self, ident: str) -> Json | None:
        try:
            raw = base64.b64decode(ident.encode(), validate=True).decode()
            _, _, rest = raw.partition(":")
            kind = rest.rstrip("0123456789")
            number = int(rest[len(kind) :])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        index = self.ctx.index
        if kind == "Repository":
            repo = index.repos_by_id.get(number)
            return self.repository_of(repo) if repo else None
        if kind == "PullRequest":
            where = index.pull_ids.get(number)
            found = self.ctx.view.pull(where[0], where[1]) if where else None
            return self.pull(found) if found else None
        if kind in ("User", "Organization"):
            for login in (*index.logins.values(), *index.orgs.values()):
                org = login.lower() in index.orgs
                if (index.org_id(login) if org else user_id(login)) == number:
                    return self.actor(login)
        return None


_RANK = {
    "LabeledEvent": 1,
    "ReviewRequestedEvent": 2,
    "ReadyForReviewEvent": 3,
    "MergedEvent": 4,
    "ClosedEvent": 5,
    "PullRequestReview": 6,
}


def _break(body: Json, variant: int) -> None:
    """The `malformed` fault breaks the pulls REST breaks, the same field of each.

    `number` is non-null in the schema, so that pull's node comes back null in its page
    with an error beside it: partial data, as GitHub answers a node that fails.
    """
    if variant == 0:
        body["createdAt"] = "not-a-date"
    elif variant == 1:
        body["author"] = None
    else:
        body["number"] = None


def _state(p: Pull) -> str:
    if p.merged_at is not None:
        return "MERGED"
    return "CLOSED" if p.closed_at is not None else "OPEN"


def _parse_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
