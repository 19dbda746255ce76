"""`POST /graphql` (and `/api/graphql`, GitHub Enterprise Server's path): parse, validate, limit, charge, run.

The order is GitHub's: a query that does not parse or validate against the schema, or
breaks the pagination and node limits, is refused with HTTP 200 and `errors` before it
costs anything; then the query's cost is taken from the GraphQL budget (points an
hour, apart from REST's requests), and a spent budget answers `RATE_LIMITED`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    SelectionSetNode,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from starlette.requests import Request
from starlette.responses import Response

from sandbox.github.formats import JSON_TYPE, SERVICE, iso_time, user_id
from sandbox.github.gql.errors import execution_error, syntax_error, validation_errors
from sandbox.github.gql.limits import tally
from sandbox.github.gql.schema import github_schema, unsupported
from sandbox.github.gql.world import Graph
from sandbox.github.index import Worlds
from sandbox.github.limits import budget_numbers, graphql_budget, signed_in_as
from sandbox.github.shapes import Ctx

GRAPHQL_DOCS = "https://docs.github.com/graphql"
PATHS = ("/graphql", "/api/graphql")
Json = dict[str, Any]


def _answer(body: Json, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        status,
        media_type=JSON_TYPE,
    )


def _refused(errors: list[Json]) -> Response:
    return _answer({"errors": errors})


def _dry_run(operation: OperationDefinitionNode, variables: dict[str, Any]) -> bool:
    """`rateLimit(dryRun: true)` at the root: tell the cost, run nothing, charge nothing."""
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == "rateLimit":
            for argument in selection.arguments or ():
                if argument.name.value == "dryRun":
                    value = argument.value
                    if getattr(value, "name", None) is not None:  # a variable
                        return bool(variables.get(value.name.value))
                    return getattr(value, "value", False) is True
    return False


async def graphql_endpoint(request: Request, worlds: Worlds) -> Response:
    try:
        payload = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        return _answer(
            {
                "message": "Problems parsing JSON",
                "documentation_url": GRAPHQL_DOCS,
                "status": "400",
            },
            400,
        )
    query = payload.get("query")
    if not isinstance(query, str):
        return _refused([{"message": "A query attribute must be specified and must be a string."}])
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return _refused([{"message": "Variables must be a JSON object."}])
    operation_name = payload.get("operationName")
    schema = github_schema()
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        return _refused(syntax_error(error))
    if found := validate(schema, document):
        return _refused(validation_errors(found, document))
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return _refused([{"message": f'No operation named "{operation_name or ""}"'}])
    if operation.operation.value != "query":
        return _refused(
            [
                {
                    "type": "SANDBOX_UNSUPPORTED",
                    "message": "The sandbox answers queries only; it takes no mutations.",
                }
            ]
        )
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        return _refused([execution_error(error) for error in coerced])
    coerced = getattr(coerced, "coerced", coerced)  # graphql-core 3.3 wraps them, 3.2 does not
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    counted = tally(schema, operation, fragments, coerced)
    if counted.errors:
        return _refused(counted.errors)
    if found := unsupported(schema, document):
        return _refused(found)

    state = worlds.state
    dry_run = _dry_run(operation, coerced)
    now = time.time()
    with state.lock:
        budget = graphql_budget(request.headers, state)
        app = signed_in_as(request.headers, state) == "app"
        allowed = True if dry_run else budget.take(now, counted.cost)
        limit, remaining, reset, used = budget_numbers(budget, now)  # after this query's cost
        malformed = state.faults[SERVICE].malformed
        login = state.world.bot_account
    if not allowed:
        already = "already " if remaining == 0 else ""  # nothing was left before this query
        return _refused(
            [
                {
                    "type": "RATE_LIMITED",
                    "message": f"API rate limit {already}exceeded for user ID {user_id(login)}.",
                }
            ]
        )
    origin = f"{request.url.scheme}://{request.url.netloc}"
    ctx = Ctx(
        api=origin + request.scope.get("root_path", ""),
        web=origin,
        view=worlds.view(),
        malformed=malformed,
    )
    graph = Graph(ctx, login, app=app)
    rate_limit = {
        "limit": limit,
        "cost": counted.cost,
        "remaining": remaining,
        "resetAt": iso_time(dt.datetime.fromtimestamp(reset, dt.UTC)),
        "used": used,
        "nodeCount": counted.nodes,
    }
    root: Json = {"rateLimit": lambda info, dryRun=False: rate_limit}
    if dry_run:  # only the rateLimit fields run
        document = _rate_limit_only(document, operation)
    else:
        root.update(
            viewer=graph.viewer,
            user=graph.user,
            organization=graph.organization,
            repository=graph.repository,
            node=graph.node,
            nodes=graph.nodes,
        )
    result = execute_sync(
        schema,
        document,
        root_value=root,
        variable_values=variables,
        operation_name=operation_name,
    )
    body: Json = {"data": result.data}
    if result.errors:
        body["errors"] = [execution_error(error) for error in result.errors]
    return _answer(body)


def _rate_limit_only(document: DocumentNode, operation: OperationDefinitionNode) -> DocumentNode:
    kept = tuple(
        selection
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode) and selection.name.value in ("rateLimit", "__typename")
    )
    only = dataclasses.replace(operation, selection_set=SelectionSetNode(selections=kept))
    return DocumentNode(definitions=(only,))
