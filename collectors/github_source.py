"""The GitHub source: its streams, over GraphQL (the default) or REST, as the org file says.

Apart from the streams themselves so that the REST module (`collectors.github`), the
GraphQL one built on it and the first-sync estimate do not import each other in a circle.
"""

from __future__ import annotations

from sqlalchemy import Engine

from collectors.base import Progress, Source, Stream
from collectors.github import (
    DEFAULT_TIMEOUT,
    RATE_RESERVE,
    GithubApi,
    IssueStream,
    PullStream,
    Repositories,
    known_projects,
)
from collectors.github_estimate import announce_first_sync
from collectors.github_graphql import GraphqlPullStream, GraphqlRepositories
from collectors.retry import RetryPolicy
from config.schema import Config


def streams(
    config: Config,
    engine: Engine,
    progress: Progress,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    retry: RetryPolicy = RetryPolicy(),
    sizes: bool = True,
    rate_reserve: int = RATE_RESERVE,
    inner_page: int | None = None,
) -> list[Stream]:
    """The GitHub streams: pull requests, then (when `issues: true`) issues as work items.

    `inner_page`: GraphQL's page of reviews and labels within a pull request (a test sets
    it small to make nested pagination happen on a small world).
    """
    source = config.sources.github
    if source is None:
        raise ValueError("sources.github is not configured in the org file")
    if not source.repos and not source.orgs:
        raise ValueError("sources.github names no repos and no orgs: nothing to collect")
    api = GithubApi(
        source, timeout=timeout, retry=retry, progress=progress, rate_reserve=rate_reserve
    )
    projects = lambda: known_projects(engine, config)  # noqa: E731
    if source.api == "graphql":
        listed = GraphqlRepositories(api, source)
        repos: Repositories = listed
        inner = {"inner_page": inner_page} if inner_page is not None else {}
        pulls: PullStream = GraphqlPullStream(api, engine, repos, projects, sizes=sizes, **inner)
        announce_first_sync(api, listed, engine, progress)
    else:
        repos = Repositories(api, source)
        pulls = PullStream(api, engine, repos, projects, sizes=sizes)
    found: list[Stream] = [pulls]
    if source.issues:
        found.append(IssueStream(api, repos))
    return found


SOURCE = Source("github", streams)
