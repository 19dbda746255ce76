"""The JSON of pull requests, reviews, the issue view of a pull, its events, timeline and commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.github.formats import Json, fake_sha, iso_time, node_id, stable_id, to_second
from sandbox.github.index import Pull
from sandbox.github.shapes import Ctx, association, label_json
from sandbox.world.model import PullRequest, Review


def _commit_count(pr: PullRequest) -> int:
    return max(1, min(20, 1 + (pr.additions + pr.deletions) // 150))


def _commit_shas(pr: PullRequest) -> list[str]:
    return [fake_sha("commit", pr.repo, pr.number, i) for i in range(_commit_count(pr))]


def merged_by(pr: PullRequest) -> str:
    approvers = [r.user for r in pr.reviews if r.state == "APPROVED" and r.user != pr.author]
    return approvers[-1] if approvers else pr.author


def pull_simple(ctx: Ctx, p: Pull) -> Json:
    """A pull request in `GET /repos/{owner}/{repo}/pulls` (GitHub's pull-request-simple)."""
    return _break(ctx, p.pr, _pull_body(ctx, p))


def _pull_body(ctx: Ctx, p: Pull) -> Json:
    pr, info = p.pr, p.info
    url, issue_url = (
        f"{ctx.repo_url(info)}/pulls/{pr.number}",
        f"{ctx.repo_url(info)}/issues/{pr.number}",
    )
    html = f"{ctx.web}/{info.repo.full_name}/pull/{pr.number}"
    head_sha = _commit_shas(pr)[-1]
    reviewed = {r.user for r in p.reviews}
    requested = [] if not p.open or p.draft else requested_reviewers(pr, reviewed)
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
        "node_id": node_id("PullRequest", pr.id),
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
        "created_at": iso_time(p.created),
        "updated_at": iso_time(p.updated),
        "closed_at": iso_time(p.closed_at),
        "merged_at": iso_time(p.merged_at),
        "merge_commit_sha": fake_sha("merge", pr.repo, pr.number),
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [ctx.user(login) for login in requested],
        "requested_teams": [],
        "labels": [label_json(ctx, info, name) for name in pr.labels],
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
            "sha": fake_sha("base", pr.repo, pr.number),
            "user": owner,
            "repo": repo,
        },
        "_links": {rel: {"href": href} for rel, href in links.items()},
        "author_association": association(ctx, pr.author),
        "auto_merge": None,
        "active_lock_reason": None,
    }
    return body


def requested_reviewers(pr: PullRequest, reviewed: set[str]) -> list[str]:
    """Reviewers asked when the pull became ready who have not answered yet (GitHub drops them then)."""
    wanted: list[str] = []
    for review in pr.reviews:
        if review.user != pr.author and review.user not in reviewed and review.user not in wanted:
            wanted.append(review.user)
    return wanted


def pull_full(ctx: Ctx, p: Pull) -> Json:
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
            "merged_by": ctx.user(merged_by(pr)) if merged else None,
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


def _break(ctx: Ctx, pr: PullRequest, body: Json) -> Json:
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


def review_json(ctx: Ctx, p: Pull, review: Review) -> Json:
    """One review as in `GET .../pulls/{number}/reviews`."""
    pr, info = p.pr, p.info
    html = f"{ctx.web}/{info.repo.full_name}/pull/{pr.number}#pullrequestreview-{review.id}"
    pull_url = f"{ctx.repo_url(info)}/pulls/{pr.number}"
    shas = _commit_shas(pr)
    return {
        "id": review.id,
        "node_id": node_id("PullRequestReview", review.id),
        "user": ctx.user(review.user),
        "body": "",
        "state": review.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": association(ctx, review.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "submitted_at": iso_time(to_second(review.submitted_at)),
        "commit_id": shas[-1],
    }


def issue_json(ctx: Ctx, p: Pull, *, single: bool = False) -> Json:
    """A pull request seen through the issues API (`GET .../issues`, `.../issues/{number}`)."""
    pr, info = p.pr, p.info
    url = f"{ctx.repo_url(info)}/issues/{pr.number}"
    html = f"{ctx.web}/{info.repo.full_name}/pull/{pr.number}"
    ident = stable_id("issue", pr.repo, pr.number)
    body: Json = {
        "url": url,
        "repository_url": ctx.repo_url(info),
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": html,
        "id": ident,
        "node_id": node_id("PullRequest", pr.id),
        "number": pr.number,
        "title": pr.title,
        "user": ctx.user(pr.author),
        "labels": [label_json(ctx, info, name) for name in pr.labels],
        "state": "open" if p.open else "closed",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": 0,
        "created_at": iso_time(p.created),
        "updated_at": iso_time(p.updated),
        "closed_at": iso_time(p.closed_at),
        "author_association": association(ctx, pr.author),
        "type": None,
        "active_lock_reason": None,
        "draft": p.draft,
        "pull_request": {
            "url": f"{ctx.repo_url(info)}/pulls/{pr.number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": iso_time(p.merged_at),
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
        closer = (merged_by(pr) if p.merged_at else pr.author) if p.closed_at else None
        body["closed_by"] = ctx.user(closer) if closer else None
    return _break(ctx, pr, body)


def _event(
    ctx: Ctx, p: Pull, kind: str, node: str, at: dt.datetime, actor: str, n: int, **extra: Any
) -> Json:
    ident = stable_id("event", p.pr.repo, p.pr.number, kind, n)
    commit_id = extra.pop("commit_id", None)
    return {
        "id": ident,
        "node_id": node_id(node, ident),
        "url": f"{ctx.repo_url(p.info)}/issues/events/{ident}",
        "actor": ctx.user(actor),
        "event": kind,
        "commit_id": commit_id,
        "commit_url": f"{ctx.repo_url(p.info)}/commits/{commit_id}" if commit_id else None,
        "created_at": iso_time(to_second(at)),
        **extra,
        "performed_via_github_app": None,
    }


def issue_events(ctx: Ctx, p: Pull) -> list[tuple[dt.datetime, int, Json]]:
    """`GET .../issues/{number}/events`: what GitHub records for a pull, up to the clock."""
    pr, clock = p.pr, ctx.view.clock
    author = pr.author
    out: list[tuple[dt.datetime, int, Json]] = []

    def add(at: dt.datetime, json_: Json) -> None:
        out.append((at, len(out), json_))

    for n, name in enumerate(pr.labels):
        label = {"name": name, "color": fake_sha("color", name)[:6]}
        add(
            pr.created,
            _event(ctx, p, "labeled", "LabeledEvent", pr.created, author, n, label=label),
        )
    asked_at = (
        pr.draft_until if pr.draft_until is not None else (None if pr.still_draft else pr.created)
    )
    if asked_at is not None and asked_at <= clock:
        for n, login in enumerate(requested_reviewers(pr, set())):
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
        merger, sha = merged_by(pr), fake_sha("merge", pr.repo, pr.number)
        add(
            p.merged_at,
            _event(ctx, p, "merged", "MergedEvent", p.merged_at, merger, 0, commit_id=sha),
        )
    if p.closed_at is not None:
        closer = merged_by(pr) if p.merged_at else author
        add(
            p.closed_at,
            _event(ctx, p, "closed", "ClosedEvent", p.closed_at, closer, 0, state_reason=None),
        )
    return out


def _committed(ctx: Ctx, p: Pull) -> list[tuple[dt.datetime, Json]]:
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
        at = to_second(pr.created - dt.timedelta(minutes=15 * (len(shas) - i)))
        signed = {**who, "date": iso_time(at)}
        url = f"{ctx.repo_url(info)}/git/commits/{sha}"
        parent = fake_sha("base", pr.repo, pr.number) if i == 0 else shas[i - 1]
        out.append(
            (
                at,
                {
                    "sha": sha,
                    "node_id": node_id("Commit", stable_id(sha)),
                    "url": url,
                    "html_url": f"{ctx.web}/{info.repo.full_name}/commit/{sha}",
                    "author": signed,
                    "committer": signed,
                    "tree": {
                        "sha": fake_sha("tree", sha),
                        "url": f"{ctx.repo_url(info)}/git/trees/{fake_sha('tree', sha)}",
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


def timeline_json(ctx: Ctx, p: Pull) -> list[Json]:
    """`GET .../issues/{number}/timeline`: commits, reviews and the issue events, in time order."""
    items = [(at, -1000 + n, json_) for n, (at, json_) in enumerate(_committed(ctx, p))]
    items.extend(issue_events(ctx, p))
    for review in p.reviews:
        # The timeline spells review states in lower case, unlike the reviews endpoint.
        shown = {**review_json(ctx, p, review), "event": "reviewed"}
        shown["state"] = review.state.lower()
        items.append((to_second(review.submitted_at), 1000 + len(items), shown))
    items.sort(key=lambda item: (item[0], item[1]))
    return [json_ for _, _, json_ in items]


def commits_json(ctx: Ctx, p: Pull) -> list[Json]:
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
