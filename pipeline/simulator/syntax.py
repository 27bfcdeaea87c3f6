"""Document validation worded as Shopify words it (GraphQL-Ruby), not as graphql-core does.

The shapes come from real answers in ../shared/shopify/recorded: `undefinedField` and
`argumentNotAccepted` (path from the operation label down, no `data`, no cost) and
`INVALID_VARIABLE` (one error per variable with its `problems`).
"""

from __future__ import annotations

import re
from typing import Any, cast

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    Undefined,
    print_ast,
    type_from_ast,
    validate,
)
from graphql.language import Visitor, visit
from graphql.language.location import get_location
from graphql.utilities import validate_input_value

_UNDEFINED_FIELD = re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'\.")
_UNKNOWN_ARG = re.compile(r"Unknown argument '(?P<arg>\w+)' on field '(?P<type>\w+)\.(?P<field>\w+)'\.")
_UNKNOWN_INPUT_FIELD = re.compile(r"Field '(?P<arg>\w+)' is not defined by type '(?P<type>\w+)'\.")
_UNKNOWN_VALUE_FIELD = re.compile(
    r"Expected value of type '(?P<type>\w+)' not to include unknown field '(?P<field>\w+)'"
)
_MISSING_VALUE_FIELD = re.compile(
    r"Expected value of type '(?P<type>\w+)' to include required field '(?P<field>\w+)'"
)
_MISSING_ARG = re.compile(r"Field '(?P<field>\w+)' argument '(?P<arg>\w+)' of type '.+' is required")


def shopify_validate(schema: GraphQLSchema, document: DocumentNode) -> list[dict[str, Any]]:
    """Validation errors in Shopify's wording; empty when the document is valid."""
    errors = validate(schema, document)
    if not errors:
        return []
    paths = _paths(document)
    return [_shopify_error(e, paths) for e in errors]


def variable_errors(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """Shopify's INVALID_VARIABLE errors for variables that do not fit their declared types."""
    errors = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        var_type = type_from_ast(schema, definition.type)
        if var_type is None:
            continue
        value = variables.get(name, Undefined)
        if value is Undefined and definition.default_value is not None:
            continue
        problems: list[dict[str, Any]] = []

        def on_error(
            error: GraphQLError, path: list[str | int], problems: list[dict[str, Any]] = problems
        ) -> None:
            problems.append(_problem(error.message, list(path)))

        checked = cast(GraphQLInputType, var_type)  # a variable's type is an input type, by validation
        validate_input_value(None if value is Undefined else value, checked, on_error, hide_suggestions=True)
        if not problems:
            continue
        # Recorded (2026-04-gift-card-create-validation): fields not defined come before missing ones.
        problems.sort(key=lambda p: p["explanation"] == "Expected value to not be null")
        message = f"Variable ${name} of type {print_ast(definition.type)} was provided invalid value"
        details = [f"{'.'.join(map(str, p['path']))} ({p['explanation']})" for p in problems if p["path"]]
        if details:
            message += " for " + ", ".join(details)
        errors.append(
            {
                "message": message,
                "locations": [_location(definition)],
                "extensions": {
                    "code": "INVALID_VARIABLE",
                    "value": None if value is Undefined else value,
                    "problems": problems,
                },
            }
        )
    return errors


def _problem(message: str, path: list[str | int]) -> dict[str, Any]:
    """graphql-core's complaint about one input value, as GraphQL-Ruby words it."""
    if m := _UNKNOWN_VALUE_FIELD.match(message):
        return {"path": [*path, m["field"]], "explanation": f"Field is not defined on {m['type']}"}
    if m := _MISSING_VALUE_FIELD.match(message):
        return {"path": [*path, m["field"]], "explanation": "Expected value to not be null"}
    if "non-null type" in message and message.endswith("not to be None."):
        return {"path": path, "explanation": "Expected value to not be null"}
    return {"path": path, "explanation": message.rstrip(".")}


def _shopify_error(error: GraphQLError, paths: dict[int, list[str]]) -> dict[str, Any]:
    node = error.nodes[0] if error.nodes else None
    path = paths.get(id(node), []) if node is not None else []
    base: dict[str, Any] = {"message": error.message, "locations": _locations(error), "path": path}
    if m := _UNDEFINED_FIELD.match(error.message):
        base["message"] = f"Field '{m['field']}' doesn't exist on type '{m['type']}'"
        base["extensions"] = {"code": "undefinedField", "typeName": m["type"], "fieldName": m["field"]}
    elif m := _UNKNOWN_ARG.match(error.message):
        base["message"] = f"Field '{m['field']}' doesn't accept argument '{m['arg']}'"
        base["extensions"] = {
            "code": "argumentNotAccepted",
            "name": m["field"],
            "typeName": "Field",
            "argumentName": m["arg"],
        }
    elif m := _UNKNOWN_INPUT_FIELD.match(error.message):
        base["message"] = f"InputObject '{m['type']}' doesn't accept argument '{m['arg']}'"
        base["extensions"] = {
            "code": "argumentNotAccepted",
            "name": m["type"],
            "typeName": "InputObject",
            "argumentName": m["arg"],
        }
    elif m := _MISSING_ARG.match(error.message):
        base["message"] = f"Field '{m['field']}' is missing required arguments: {m['arg']}"
        base["extensions"] = {
            "code": "missingRequiredArguments",
            "className": "Field",
            "name": m["field"],
            "arguments": m["arg"],
        }
    else:
        base["extensions"] = {"code": "validationError"}
    return base


def _locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or []]


def _location(node: Node) -> dict[str, int]:
    if node.loc is None:
        return {"line": 1, "column": 1}
    loc = get_location(node.loc.source, node.loc.start)
    return {"line": loc.line, "column": loc.column}


def _paths(document: DocumentNode) -> dict[int, list[str]]:
    """Each field, argument and input field's path as GraphQL-Ruby prints it."""
    paths: dict[int, list[str]] = {}
    stack: list[str] = []

    class PathVisitor(Visitor):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            label = node.operation.value + (f" {node.name.value}" if node.name else "")
            stack.append(label)

        def leave_operation_definition(self, *_: Any) -> None:
            stack.pop()

        def enter_fragment_definition(self, node: Any, *_: Any) -> None:
            stack.append(f"fragment {node.name.value}")

        def leave_fragment_definition(self, *_: Any) -> None:
            stack.pop()

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            stack.append((node.alias or node.name).value)
            paths[id(node)] = list(stack)

        def leave_field(self, *_: Any) -> None:
            stack.pop()

        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            stack.append(node.name.value)
            paths[id(node)] = list(stack)

        def leave_argument(self, *_: Any) -> None:
            stack.pop()

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            stack.append(node.name.value)
            paths[id(node)] = list(stack)

        def leave_object_field(self, *_: Any) -> None:
            stack.pop()

    visit(document, PathVisitor())
    return paths
