"""Global ids: formatting, parsing, and Shopify's refusal of malformed ids before execution.

Recorded in 2026-04-admin-platform-utility-roots.json (nodeMalformedMissingId): a literal
`node(id: "gid://shopify/Product")` answers only `errors` (no `data`), message
"Invalid global id '…'", code `argumentLiteralsIncompatible`. For a variable the recorded
INVALID_VARIABLE shape of 2026-04-refund-create-attribution-validation.json is used (inferred).
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLType,
    OperationDefinitionNode,
    print_ast,
    type_from_ast,
)
from graphql.language import (
    FieldNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

_GID = re.compile(r"^gid://shopify/([A-Za-z][A-Za-z0-9]*)/([^/?#]+)(\?.*)?$")


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str) -> tuple[str, str] | None:
    """(type, id) of a well-formed global id, else None."""
    m = _GID.match(value)
    return (m.group(1), m.group(2)) if m else None


def _bad_ids(value: Any, gtype: GraphQLType | None) -> list[str]:
    """Malformed ID strings inside a (variable) value of the given input type."""
    while isinstance(gtype, GraphQLNonNull):
        gtype = gtype.of_type
    if value is None:
        return []
    if isinstance(gtype, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return [b for v in items for b in _bad_ids(v, gtype.of_type)]
    if isinstance(gtype, GraphQLInputObjectType) and isinstance(value, dict):
        return [b for k, f in gtype.fields.items() if k in value for b in _bad_ids(value[k], f.type)]
    if getattr(gtype, "name", None) == "ID" and isinstance(value, str) and parse_gid(value) is None:
        return [value]
    return []


def _literal_bad_ids(node: ValueNode, gtype: GraphQLType) -> list[str]:
    while isinstance(gtype, GraphQLNonNull):
        gtype = gtype.of_type
    if isinstance(node, ListValueNode) and isinstance(gtype, GraphQLList):
        return [b for v in node.values for b in _literal_bad_ids(v, gtype.of_type)]
    if isinstance(node, ObjectValueNode) and isinstance(gtype, GraphQLInputObjectType):
        return [
            b
            for f in node.fields
            if f.name.value in gtype.fields
            for b in _literal_bad_ids(f.value, gtype.fields[f.name.value].type)
        ]
    if isinstance(gtype, GraphQLList):
        return _literal_bad_ids(node, gtype.of_type)
    if (
        getattr(gtype, "name", None) == "ID"
        and isinstance(node, StringValueNode)
        and parse_gid(node.value) is None
    ):
        return [node.value]
    return []


def check_ids(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> list[GraphQLError]:
    """Shopify's coercion errors for malformed global ids; [] when every id is well formed."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    op = next((o for o in ops if operation_name is None or (o.name and o.name.value == operation_name)), None)
    if op is None:
        return []
    for var in op.variable_definitions or ():
        name = var.variable.name.value
        bad = _bad_ids((variables or {}).get(name), type_from_ast(schema, var.type))
        if bad:
            return [
                GraphQLError(
                    f"Variable ${name} of type {print_ast(var.type)} was provided invalid value",
                    var,
                    extensions={
                        "code": "INVALID_VARIABLE",
                        "value": (variables or {}).get(name),
                        "problems": [{"path": [], "explanation": f"Invalid global id '{bad[0]}'"}],
                    },
                )
            ]
    label = f"{op.operation.value} {op.name.value}" if op.name else op.operation.value
    root = schema.mutation_type if op.operation.value == "mutation" else schema.query_type
    for sel in op.selection_set.selections:
        if not isinstance(sel, FieldNode) or root is None or sel.name.value not in root.fields:
            continue
        field_def = root.fields[sel.name.value]
        for arg in sel.arguments or ():
            if isinstance(arg.value, VariableNode) or arg.name.value not in field_def.args:
                continue
            bad = _literal_bad_ids(arg.value, field_def.args[arg.name.value].type)
            if bad:
                return [
                    GraphQLError(
                        f"Invalid global id '{bad[0]}'",
                        sel,
                        path=[label, sel.alias.value if sel.alias else sel.name.value, arg.name.value],
                        extensions={"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
                    )
                ]
    return []
