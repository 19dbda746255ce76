"""How long a first GitHub sync takes under the budget GitHub states, said before it starts.

A first sync of a large organisation is bounded by GitHub's hourly budget, not by the
network, so the useful figure is the budget it needs. GraphQL states both sides
cheaply: each repository's `pullRequests.totalCount` (with the organisation's listing,
or one batched query for named repositories) and `rateLimit`. A page's cost follows
GitHub's formula ("Rate limits and node limits for the GraphQL API"): the requests it
would take to fill every connection, over 100, at least one; for a page of `n` pull
requests with their labels and timeline that is `(1 + 2n) / 100`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from collectors.base import Progress
from collectors.github import GithubApi, GithubApiError
from collectors.github_graphql import GraphqlRepositories
from config.schema import Config
from db.sync import stored_cursors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Estimate:
    """A first sync's size and cost, and the budget it runs under."""

    repositories: int
    pull_requests: int
    points: int  # GraphQL rate-limit points it spends
    limit: int | None = None  # points per hour the token has (None: not stated)
    remaining: int | None = None
    reset: dt.datetime | None = None

    @property
    def hours(self) -> float | None:
        """Hours of the token's budget it needs (the wall time, when it exceeds what is left)."""
        return self.points / self.limit if self.limit else None

    def sentence(self) -> str:
        text = (
            f"a first GitHub sync of {self.repositories} repositories: about "
            f"{self.pull_requests:,} pull requests, {self.points:,} GraphQL points"
        )
        if self.limit is None or self.hours is None:
            return text
        # under an hour's budget, a share says more than "0.0 h"
        spent = f"{self.hours:.1f} h" if self.hours >= 1 else f"{self.hours:.0%}"
        text += f", {spent} of this token's {self.limit:,} points an hour"
        if self.remaining is not None and self.points > self.remaining:
            hours = math.ceil((self.points - self.remaining) / self.limit)
            text += f"; {self.remaining:,} are left now, so it waits for about {hours} reset(s)"
        return text


def page_cost(per_page: int) -> int:
    """GitHub's cost of one page of pull requests: pullRequests, then labels and timeline."""
    return max(1, round((1 + 2 * per_page) / 100))


def estimate(
    api: GithubApi, repos: GraphqlRepositories, names: Sequence[str], per_page: int
) -> Estimate:
    """The cost of reading `names` from the start; counts what it must with batched queries."""
    wanted = [name for name in names if not name.endswith("/*")]
    counts = repos.count(wanted)
    pages = sum(max(1, math.ceil(counts.get(name, 0) / per_page)) for name in wanted)
    budget = api.budget
    reset = dt.datetime.fromtimestamp(budget.reset, dt.UTC) if budget is not None else None
    return Estimate(
        repositories=len(wanted),
        pull_requests=sum(counts.get(name, 0) for name in wanted),
        points=pages * page_cost(per_page),
        limit=budget.limit if budget is not None else None,
        remaining=budget.remaining if budget is not None else None,
        reset=reset,
    )


def first_sync_estimate(config: Config, api: GithubApi | None = None) -> Estimate:
    """What a first sync of every repository the org file names costs (for `teamtide doctor`).

    A few cheap GraphQL queries (the organisations' listings, one count per 50 named
    repositories), through `api` when given (doctor's, which does not retry); a GithubApiError or OSError when GitHub cannot be asked.
    """
    source = config.sources.github
    if source is None:
        raise ValueError("sources.github is not configured in the org file")
    api = api or GithubApi(source)
    repos = GraphqlRepositories(api, source)
    names = repos.names()
    if repos.errors:
        raise next(iter(repos.errors.values()))
    return estimate(api, repos, names, api.per_page)


def announce_first_sync(
    api: GithubApi, repos: GraphqlRepositories, engine: Engine, progress: Progress
) -> Estimate | None:
    """Say what reading the repositories never synced before will cost, before it starts.

    Nothing is said when every repository has a cursor (the sync reads only what
    changed); an estimate that cannot be made is logged, and the sync goes on.
    """
    with engine.connect() as conn:
        started = stored_cursors(conn, "github", "pull_requests")
    fresh = [name for name in repos.names() if name not in started]
    if not any(not name.endswith("/*") for name in fresh):
        return None
    try:
        found = estimate(api, repos, fresh, api.per_page)
    except (GithubApiError, OSError) as exc:
        log.warning("cannot estimate the first GitHub sync: %s", exc)
        return None
    progress.note(found.sentence())
    return found
