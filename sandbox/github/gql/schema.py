"""GitHub's published schema, loaded once, and the part of it the sandbox answers.

The SDL trips two of graphql-core's own schema rules (a field defined twice,
deprecation mismatches), so it is built with `assume_valid_sdl` and its schema
errors are cleared; queries are still validated exactly against it. A query that
selects a field outside `SERVED` is refused before it runs: the sandbox would rather
say so than answer null where GitHub would answer data.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    visit,
)

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
_lock = threading.Lock()

_ACTOR = {"login", "url", "avatarUrl", "resourcePath"}
_EVENT = {"id", "actor", "createdAt"}
_CONNECTION = {"totalCount", "pageInfo", "nodes", "edges"}
SERVED: dict[str, set[str]] = {
    "Query": {"viewer", "organization", "repository", "rateLimit", "node", "nodes", "user"},
    "RateLimit": {"limit", "cost", "remaining", "resetAt", "used", "nodeCount"},
    "PageInfo": {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"},
    "Node": {"id"},
    "Actor": _ACTOR,
    "RepositoryOwner": {"id", "login", "url", "avatarUrl", "resourcePath"},
    "User": {*_ACTOR, "id", "databaseId", "name"},
    "Organization": {*_ACTOR, "id", "databaseId", "name", "repositories"},
    "RepositoryConnection": _CONNECTION,
    "RepositoryEdge": {"cursor", "node"},
    "Repository": {
        "id",
        "databaseId",
        "name",
        "nameWithOwner",
        "owner",
        "url",
        "isPrivate",
        "isFork",
        "isArchived",
        "createdAt",
        "updatedAt",
        "pushedAt",
        "pullRequests",
        "pullRequest",
    },
    "PullRequestConnection": _CONNECTION,
    "PullRequestEdge": {"cursor", "node"},
    "PullRequest": {
        "id",
        "databaseId",
        "fullDatabaseId",
        "number",
        "title",
        "body",
        "url",
        "state",
        "isDraft",
        "merged",
        "closed",
        "createdAt",
        "updatedAt",
        "mergedAt",
        "closedAt",
        "author",
        "headRefName",
        "baseRefName",
        "additions",
        "deletions",
        "repository",
        "labels",
        "reviews",
        "timelineItems",
    },
    "LabelConnection": _CONNECTION,
    "LabelEdge": {"cursor", "node"},
    "Label": {"id", "name", "color"},
    "PullRequestReviewConnection": _CONNECTION,
    "PullRequestReviewEdge": {"cursor", "node"},
    "PullRequestReview": {
        "id",
        "databaseId",
        "fullDatabaseId",
        "author",
        "state",
        "submittedAt",
        "createdAt",
        "url",
    },
    "PullRequestTimelineItemsConnection": _CONNECTION,
    "PullRequestTimelineItemsEdge": {"cursor", "node"},
    "ReadyForReviewEvent": _EVENT,
    "ConvertToDraftEvent": _EVENT,
    "MergedEvent": _EVENT,
    "ClosedEvent": _EVENT,
    "ReopenedEvent": _EVENT,
    "LabeledEvent": {*_EVENT, "label"},
    "ReviewRequestedEvent": {*_EVENT, "requestedReviewer"},
}


@functools.cache
def _load() -> GraphQLSchema:
    schema = build_schema(SCHEMA_FILE.read_text(), assume_valid_sdl=True)
    schema._validation_errors = []  # the published SDL's own quirks; queries are still checked
    return schema


def github_schema() -> GraphQLSchema:
    with _lock:
        return _load()


def unsupported(schema: GraphQLSchema, document: DocumentNode) -> list[dict[str, Any]]:
    """Errors for every selected field the sandbox does not answer (valid for GitHub, not here)."""
    info = TypeInfo(schema)
    errors: list[dict[str, Any]] = []

    class Check(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            name = node.name.value
            if parent is None or name.startswith("__"):
                return
            served = SERVED.get(get_named_type(parent).name, set())
            if name not in served:
                loc = node.loc
                errors.append(
                    {
                        "type": "SANDBOX_UNSUPPORTED",
                        "locations": [
                            {"line": loc.start_token.line, "column": loc.start_token.column}
                        ]
                        if loc
                        else [],
                        "message": f"The sandbox does not serve `{parent.name}.{name}` "
                        "(valid on GitHub; see docs/architecture.md for what it answers).",
                    }
                )

    visit(document, TypeInfoVisitor(info, Check()))
    return errors
