"""Every GraphQL document the GitHub collector can send is valid against GitHub's real schema.

The schema is GitHub's published SDL (see tests/realdata.py for where it is found); an
unknown field, argument, enum value or a wrongly typed variable fails here before any
server, sandbox or real, sees it.
"""

from __future__ import annotations

from functools import cache

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from realdata import folder

from collectors import github_queries as q


@cache
def _schema(path: str) -> GraphQLSchema:
    with open(path, encoding="utf-8") as handle:
        schema = build_schema(handle.read(), assume_valid_sdl=True)
    # The published SDL trips two of graphql-core's own schema rules (see the realdata
    # README); queries are still checked field by field against it.
    schema._validation_errors = []
    return schema


def schema() -> GraphQLSchema:
    return _schema(str(folder("github-graphql") / "schema.graphql"))


def errors(document: str) -> list[str]:
    return [e.message for e in validate(schema(), parse(document))]


def every_document() -> dict[str, str]:
    found = dict(q.FIXED)
    found["CountPulls(1)"] = q.count_pulls(["acme/one"])[0]
    found[f"CountPulls({q.COUNT_BATCH})"] = q.count_pulls(
        [f"acme/repo-{i}" for i in range(q.COUNT_BATCH)]
    )[0]
    return found


@pytest.mark.parametrize("name", sorted(every_document()))
def test_the_document_is_valid_against_githubs_schema(name: str) -> None:
    document = every_document()[name]
    assert errors(document) == []
    # and asks what paces the sync
    assert "rateLimit { limit cost remaining resetAt used nodeCount }" in document


def test_the_schema_check_can_fail() -> None:
    """A field GitHub does not have, and an argument it does not take, are refused."""
    assert any("reviewCount" in e for e in errors("{ viewer { login reviewCount } }"))
    bad = q.PULLS.replace("orderBy:", "sortBy:", 1)
    assert any("sortBy" in e for e in errors(bad))


def test_the_count_query_names_each_repository_in_its_variables() -> None:
    query, variables = q.count_pulls(["acme/a", "other/b"])
    assert variables == {"o0": "acme", "n0": "a", "o1": "other", "n1": "b"}
    assert "r0: repository(owner: $o0, name: $n0)" in query and "r1:" in query
    with pytest.raises(ValueError):
        q.count_pulls([])
