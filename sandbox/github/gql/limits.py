"""GitHub's query limits, read from the query before it runs: pagination bounds, nodes and cost.

From "Rate limits and node limits for the GraphQL API" (docs.github.com): every
connection needs `first` or `last` within 1..100; a query may ask for at most 500,000
nodes (each connection's page size times the page sizes of the connections around it);
the cost is the number of requests needed to fill every connection (one per page of its
parent connection's items) over 100, rounded, and at least 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)

MAX_PAGE = 100
MAX_NODES = 500_000


@dataclass
class Tally:
    nodes: int = 0
    requests: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cost(self) -> int:
        return max(1, round(self.requests / 100))


def _location(node: FieldNode) -> list[dict[str, int]]:
    loc = node.loc
    if loc is None:
        return []
    return [{"line": loc.start_token.line, "column": loc.start_token.column}]


def _is_connection(definition: GraphQLField) -> bool:
    named = get_named_type(definition.type)
    return named.name.endswith("Connection") and "first" in definition.args


def tally(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> Tally:
    """Count nodes and requests of `operation`; pagination errors are collected, GitHub's way."""
    found = Tally()
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None

    def walk(
        selections: SelectionSetNode | None,
        parent: Any,
        multiplier: int,
        path: list[str],
        seen: frozenset[str],
    ) -> None:
        if selections is None:
            return
        for selection in selections.selections:
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    inner = schema.get_type(fragment.type_condition.name.value)
                    walk(fragment.selection_set, inner, multiplier, path, seen | {name})
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = (
                    schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                walk(selection.selection_set, inner, multiplier, path, seen)
                continue
            assert isinstance(selection, FieldNode)
            if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                continue
            definition = parent.fields.get(selection.name.value)
            if definition is None:
                continue
            here = [*path, (selection.alias or selection.name).value]
            inner_multiplier = multiplier
            if _is_connection(definition):
                size = _page_size(selection, definition, variables, here, found)
                found.requests += multiplier
                inner_multiplier = multiplier * size
                found.nodes += inner_multiplier
                if found.nodes > MAX_NODES and not any(
                    e["type"] == "MAX_NODE_LIMIT_EXCEEDED" for e in found.errors
                ):
                    found.errors.append(
                        {
                            "type": "MAX_NODE_LIMIT_EXCEEDED",
                            "path": here,
                            "locations": _location(selection),
                            "message": (
                                f"By the time this query traverses to the "
                                f"{selection.name.value} connection, it is requesting up to "
                                f"{found.nodes:,} possible nodes which exceeds the maximum "
                                f"limit of {MAX_NODES:,}."
                            ),
                        }
                    )
            walk(
                selection.selection_set,
                get_named_type(definition.type),
                inner_multiplier,
                here,
                seen,
            )

    walk(operation.selection_set, root, 1, [], frozenset())
    return found


def _page_size(
    node: FieldNode,
    definition: GraphQLField,
    variables: dict[str, Any],
    path: list[str],
    found: Tally,
) -> int:
    given: dict[str, Any] = {}
    for argument in node.arguments or ():
        name = argument.name.value
        if name in ("first", "last") and name in definition.args:
            given[name] = value_from_ast(argument.value, definition.args[name].type, variables)
    sizes = {name: value for name, value in given.items() if value is not None}
    connection = node.name.value
    if not sizes:
        found.errors.append(
            {
                "type": "MISSING_PAGINATION_BOUNDARIES",
                "path": path,
                "locations": _location(node),
                "message": f"You must provide a `first` or `last` value to properly paginate "
                f"the `{connection}` connection.",
            }
        )
        return 0
    for name, value in sizes.items():
        if value > MAX_PAGE:
            found.errors.append(
                {
                    "type": "EXCESSIVE_PAGINATION",
                    "path": path,
                    "locations": _location(node),
                    "message": f"Requesting {value} records on the `{connection}` connection "
                    f"exceeds the `{name}` limit of {MAX_PAGE} records.",
                }
            )
        elif value < 1:
            found.errors.append(
                {
                    "type": "INVALID_PAGINATION",
                    "path": path,
                    "locations": _location(node),
                    "message": f"`{name}` on the `{connection}` connection must be within "
                    f"1..{MAX_PAGE}.",
                }
            )
    return max(0, min(MAX_PAGE, max(sizes.values())))
