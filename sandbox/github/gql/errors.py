"""GitHub's wording and shape for GraphQL errors: graphql-core's findings said the way GitHub says them.

GitHub answers an invalid query with HTTP 200 and `{"errors": [...]}`, each error with
the `path` of the field (starting at the operation, e.g. `"query Pulls"`), `extensions`
naming the rule (`undefinedField`, `argumentNotAccepted`, `missingRequiredArguments`),
`locations` and `message`; errors raised while running carry a top-level `type`
(`NOT_FOUND`, `RATE_LIMITED`, `MAX_NODE_LIMIT_EXCEEDED`...).
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    SelectionSetNode,
)

Json = dict[str, Any]
_UNDEFINED_FIELD = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'\.")
_UNKNOWN_ARGUMENT = re.compile(r"Unknown argument '(\w+)' on field '(\w+)\.(\w+)'\.")
_MISSING_ARGUMENT = re.compile(r"Argument '\w+\.(\w+)\((\w+):\)' of type '.*' is required")


def _locations(error: GraphQLError) -> list[Json]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or []]


def _paths(document: DocumentNode) -> dict[int, list[str]]:
    """Where each field node of the document sits, as GitHub writes a validation error's path."""
    found: dict[int, list[str]] = {}

    def walk(selections: SelectionSetNode | None, path: list[str]) -> None:
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                here = [*path, selection.name.value]
                found[id(selection)] = here
                for argument in selection.arguments or ():
                    found[id(argument)] = here
                walk(selection.selection_set, here)
            else:
                walk(getattr(selection, "selection_set", None), path)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            kind = definition.operation.value
            head = f"{kind} {definition.name.value}" if definition.name else kind
            walk(definition.selection_set, [head])
        elif hasattr(definition, "name") and hasattr(definition, "selection_set"):
            walk(definition.selection_set, [f"fragment {definition.name.value}"])
    return found


def validation_errors(errors: list[GraphQLError], document: DocumentNode) -> list[Json]:
    paths = _paths(document)
    out = []
    for error in errors:
        node = error.nodes[0] if error.nodes else None
        path = paths.get(id(node)) if node is not None else None
        message, extensions = error.message, None
        if match := _UNDEFINED_FIELD.match(error.message):
            field, type_name = match.groups()
            message = f"Field '{field}' doesn't exist on type '{type_name}'"
            extensions = {"code": "undefinedField", "typeName": type_name, "fieldName": field}
        elif match := _UNKNOWN_ARGUMENT.match(error.message):
            argument, _, field = match.groups()
            message = f"Field '{field}' doesn't accept argument '{argument}'"
            extensions = {
                "code": "argumentNotAccepted",
                "name": field,
                "typeName": "Field",
                "argumentName": argument,
            }
        elif match := _MISSING_ARGUMENT.match(error.message):
            field, argument = match.groups()
            message = f"Field '{field}' is missing required arguments: {argument}"
            extensions = {
                "code": "missingRequiredArguments",
                "className": "Field",
                "name": field,
                "arguments": argument,
            }
        shaped: Json = {}
        if path:
            shaped["path"] = path
        if extensions:
            shaped["extensions"] = extensions
        shaped["locations"] = _locations(error)
        shaped["message"] = message
        out.append(shaped)
    return out


def syntax_error(error: GraphQLSyntaxError) -> list[Json]:
    locations = _locations(error)
    where = f" at [{locations[0]['line']}, {locations[0]['column']}]" if locations else ""
    return [
        {
            "message": f"Parse error{where}: {error.message.removeprefix('Syntax Error: ')}",
            "locations": locations,
        }
    ]


def execution_error(error: GraphQLError) -> Json:
    """An error raised while running: `type` at the top level, as GitHub writes it."""
    extensions = dict(error.extensions or {})
    shaped: Json = {}
    if "type" in extensions:
        shaped["type"] = extensions.pop("type")
    if error.path is not None:
        shaped["path"] = list(error.path)
    if extensions:
        shaped["extensions"] = extensions
    shaped["locations"] = _locations(error)
    shaped["message"] = error.message
    return shaped
