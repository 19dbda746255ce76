"""The GitHub pull requests: open (and out of draft) inside the active period of the item they belong to.

Most engineering items get a pull request naming their issue key in its title or
branch, some a second; a few planned items are realised as a pull request with no
issue at all (open exactly over the planned stretch). Reviews come from a teammate of
the author's on the day. The dependency bot opens its weekly updates besides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sandbox.world.context import Context
from sandbox.world.model import PullRequest, Review
from sandbox.world.people import Org
from sandbox.world.plan import Work
from sandbox.world.settings import (
    CORE,
    CORE_REPOS,
    DS_REPO,
    INFRA,
    INFRA_REPOS,
    REPOS,
    RESEARCH,
    SUPPORT,
    UNCAT,
)
from sandbox.world.vocabulary import DEPENDENCIES, UNLINKED_TITLES
from sandbox.world.workdays import WORK_LEN, WORK_START, at

ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]
# Odds that an item of each category has a pull request of its own.
PULL_ODDS = {INFRA: 0.75, CORE: 0.85, SUPPORT: 0.3, UNCAT: 0.05, RESEARCH: 0.2}


@dataclass(slots=True)
class PullLog:
    """The pull requests written so far, with their sort keys, and the review ids taken."""

    rows: list[tuple[int, int, PullRequest]] = field(default_factory=list)  # created, order, pr
    review_id: int = 1_800_000_000

    def add(self, created: int, pr: PullRequest) -> None:
        self.rows.append((created, len(self.rows), pr))

    def review(self, user: str, state: ReviewState, t: int) -> Review:
        self.review_id += 1
        return Review(self.review_id, user, state, at(t))


def build_pulls(ctx: Context, org: Org, works: list[Work]) -> list[PullRequest]:
    """Every pull request, numbered per repository in creation order."""
    d = ctx.d
    log = PullLog()
    for work in works:
        if work.as_pr:
            _unlinked_pull(ctx, org, log, work)
        elif work.issue is not None and d.chance(PULL_ODDS[work.category]):
            for _ in range(2 if d.chance(ctx.scale.second_pr) else 1):
                _linked_pull(ctx, org, log, work)
    _bot_pulls(ctx, org, log)
    log.rows.sort(key=lambda r: (r[0], r[1]))
    numbers = dict.fromkeys(REPOS, 0)
    pulls = []
    for n, (_, _, pr) in enumerate(log.rows):
        numbers[pr.repo] += 1
        pr.number = numbers[pr.repo]
        pr.id = 1_400_000_000 + n
        pulls.append(pr)
    malformed = ctx.rng.random(len(pulls)) < 0.002
    malformed[int(ctx.rng.integers(len(pulls)))] = True
    for pr, bad in zip(pulls, malformed.tolist(), strict=True):
        pr.malformed = bad
    return pulls


def _repo(ctx: Context, category: int, engineer: bool) -> str:
    d = ctx.d
    if not engineer:
        return DS_REPO
    if category == INFRA:
        return d.pick(INFRA_REPOS)
    if category == SUPPORT:
        return d.pick((*CORE_REPOS, DS_REPO))
    return d.pick(CORE_REPOS)


def _linked_pull(ctx: Context, org: Org, log: PullLog, work: Work) -> None:
    d = ctx.d
    issue = work.issue
    assert issue is not None
    a, _, s, e = work.stretches[-1]
    author = work.owner
    repo = _repo(ctx, work.category, org.staff[author].engineer)
    slug = _slug(issue.summary)
    style = d.u()
    if style < 0.7:
        title = f"{issue.key} {issue.summary}"
    elif style < 0.85:
        title = f"[{issue.key}] {issue.summary}"
    else:
        title = issue.summary
    branch = f"{issue.key.lower()}-{slug}" if d.chance(0.8) else f"feature/{issue.key}-{slug}"
    body = d.pick((f"Implements {issue.key}.", f"Closes {issue.key}", ""))
    open_end = work.open_end
    if not open_end and d.chance(0.03):
        outcome = "draft"
    elif not open_end and d.chance(0.07):
        outcome = "closed"
    else:
        outcome = "open" if open_end else "merged"
    draft = d.chance(0.25)
    _pull(ctx, org, log, repo, author, title, branch, body, s, e, outcome, draft, a)


def _unlinked_pull(ctx: Context, org: Org, log: PullLog, work: Work) -> None:
    d = ctx.d
    a, _, s, e = work.stretches[0]
    title = d.pick(UNLINKED_TITLES[work.category])
    repo = _repo(ctx, work.category, True)
    outcome = "closed" if d.chance(0.1) else "merged"
    branch = _slug(title)
    _pull(ctx, org, log, repo, work.owner, title, branch, "", s, e, outcome, False, a, exact=True)


def _pull(
    ctx: Context,
    org: Org,
    log: PullLog,
    repo: str,
    author: int,
    title: str,
    branch: str,
    body: str,
    s: int,
    e: int,
    outcome: str,
    draft: bool,
    day: int,
    exact: bool = False,
) -> None:
    """A pull request whose non-draft open period lies inside [s, e] (or is exactly it)."""
    d, cal = ctx.d, ctx.cal
    kind = d.u()
    pattern = (
        "none"
        if kind < 0.12
        else "author"
        if kind < 0.2
        else "approve"
        if kind < 0.65
        else "rounds"
    )
    if outcome == "draft":
        pattern, draft = "none", True
    n_reviews = {
        "none": 0,
        "author": 1,
        "approve": 1 + (d.chance(0.3)),
        "rounds": 3 + d.below(3),
    }[pattern]
    stamps = cal.between(d, s, e, n_reviews + 3)
    if exact:
        created, finish = s, e
        ready = None
        review_times = stamps[1 : 1 + n_reviews]
    else:
        created, ready, finish = stamps[0], stamps[1], stamps[-1]
        review_times = stamps[2 : 2 + n_reviews]
        if not draft or outcome == "draft":
            ready = None
    login = org.people[author].github_login
    reviewer = _reviewer(ctx, org, author, day)
    reviews: list[Review] = []
    if pattern != "none":
        states: list[tuple[ReviewState, str]]
        if pattern == "author" or reviewer is None:
            states = [("COMMENTED", login)]
        elif pattern == "approve":
            states = [("COMMENTED", login), ("APPROVED", reviewer)][-n_reviews:]
        else:
            states = [("CHANGES_REQUESTED", reviewer), ("COMMENTED", login)]
            while len(states) < n_reviews - 1:
                states.append(
                    ("CHANGES_REQUESTED", reviewer) if d.chance(0.3) else ("COMMENTED", login)
                )
            states.append(
                ("APPROVED", reviewer) if outcome != "closed" else ("COMMENTED", reviewer)
            )
        for (state, user), t in zip(states, review_times, strict=False):
            reviews.append(log.review(user, state, t))
    pr = PullRequest(
        repo=repo,
        number=0,
        id=0,
        title=title,
        branch=branch,
        author=login,
        created=at(created),
        draft_until=at(ready) if ready is not None else None,
        still_draft=outcome == "draft",
        merged_at=at(finish) if outcome == "merged" else None,
        closed_at=at(finish) if outcome in ("merged", "closed") else None,
        additions=int(d.lognormal(60, 1.2)) + 1,
        deletions=int(d.lognormal(20, 1.2)),
        reviews=reviews,
        body=body,
    )
    log.add(created, pr)


def _reviewer(ctx: Context, org: Org, author: int, day: int) -> str | None:
    team = org.team_rows[author][day] if 0 <= day < ctx.cal.days else -1
    p = org.member_at(team, day, author) if team >= 0 else None
    if p is None:
        p = org.engineer_at(day, author)
    return None if p is None else org.people[p].github_login


def _bot_pulls(ctx: Context, org: Org, log: PullLog) -> None:
    d, cal = ctx.d, ctx.cal
    login = org.people[org.bot].github_login
    for repo in REPOS:
        for w in range(ctx.weeks):
            if not d.chance(0.5):
                continue
            day = 7 * w + d.below(5)
            if day >= ctx.horizon:
                continue
            created = cal.day_start[day] + WORK_START + d.below(WORK_LEN)
            finish = cal.from_work(cal.to_work(created) + d.lognormal(WORK_LEN, 1.0))
            if finish >= ctx.end_s:
                continue
            merged = d.chance(0.8)
            dep = d.pick(DEPENDENCIES)
            reviews = []
            reviewer = org.engineer_at(day)
            if merged and reviewer is not None:
                t = created + (finish - created) // 2
                reviews.append(log.review(org.people[reviewer].github_login, "APPROVED", t))
            pr = PullRequest(
                repo=repo,
                number=0,
                id=0,
                title=f"Update dependency {dep} to v{1 + d.below(4)}.{d.below(30)}.{d.below(10)}",
                branch=f"renovate/{_slug(dep)}",
                author=login,
                created=at(created),
                merged_at=at(finish) if merged else None,
                closed_at=at(finish),
                additions=1 + d.below(20),
                deletions=1 + d.below(20),
                labels=["dependencies"],
                reviews=reviews,
                body="This PR updates a dependency.",
            )
            log.add(created, pr)


def _slug(text: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return "-".join(words[:5])
