"""A bulk query: Shopify's restrictions on its document, and its results as JSONL objects.

Restrictions (shopify.dev bulk-operations/queries, "Operation restrictions"; BulkOperationRunQuery
payload page): at least one connection and at most five, connections nested at most two levels,
no top-level `node`/`nodes`; also (inferred, see README) no connection inside a list field and a
parent of a nested connection must select `id`. `first` and cursors are
ignored: every object is exported. Each object is one line; the nodes of a nested connection
are lines of their own with `__parentId`, written right after their parent (groupObjects). Roots:
`orders`, and `shopifyPaymentsAccount { balanceTransactions }` whose nodes are lines as a root
connection's are (inferred: no public answer shows an object root's file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    value_from_ast_untyped,
)
from graphql.error import GraphQLSyntaxError

from pipeline.simulator.syntax import shopify_validate

MAX_CONNECTIONS = 5
MAX_DEPTH = 2
NESTED_PAGE = 250  # children per parent the simulator exports (its own connections' page cap)
#: root connections the simulator can export; and object roots with the one connection it exports
#: under them (Shopify's guide allows "any connection field"; how it writes such a query is inferred).
ROOTS = ("orders",)
OBJECT_ROOTS = {"shopifyPaymentsAccount": "balanceTransactions"}


class BulkQueryError(ValueError):
    """The document cannot run as a bulk query; the message is the userError's."""


@dataclass
class Shape:
    """The connections inside one object's selection: response key → the shape of their nodes."""

    children: dict[str, Shape] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkQuery:
    """A checked bulk query: its document, its root connection and the shape of its nodes."""

    document: DocumentNode
    root_field: str  # the field name (e.g. orders)
    root_key: str  # its response key (alias or name)
    arguments: dict[str, Any]  # the exported connection's
    shape: Shape
    inner: tuple[str, str] | None = None  # under an object root: the connection's (name, response key)


def _fields(
    selection: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """The fields of a selection set, fragments flattened."""
    out: list[FieldNode] = []
    for sel in selection.selections if selection else ():
        if isinstance(sel, FieldNode):
            out.append(sel)
        elif isinstance(sel, InlineFragmentNode):
            out.extend(_fields(sel.selection_set, fragments))
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
            out.extend(_fields(fragments[sel.name.value].selection_set, fragments))
    return out


def _is_connection(type_name: str) -> bool:
    return type_name.endswith("Connection")


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema, self.fragments, self.count = schema, fragments, 0

    def node_selection(self, conn: FieldNode) -> tuple[SelectionSetNode | None, str]:
        """The selection applied to a connection's nodes (`nodes {…}` or `edges { node {…} }`)."""
        for f in _fields(conn.selection_set, self.fragments):
            if f.name.value == "nodes":
                return f.selection_set, "nodes"
            if f.name.value == "edges":
                inner = next(
                    (n for n in _fields(f.selection_set, self.fragments) if n.name.value == "node"), None
                )
                if inner is not None:
                    return inner.selection_set, "edges"
        return None, ""

    def shape(
        self, selection: SelectionSetNode | None, parent: GraphQLObjectType, depth: int, in_list: bool = False
    ) -> Shape:
        shape = Shape()
        fields = _fields(selection, self.fragments)
        for f in fields:
            definition = parent.fields.get(f.name.value)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            if _is_connection(named.name):
                if in_list:  # e.g. Order.refunds (a list) { transactions (a connection) }
                    raise BulkQueryError(
                        "Queries that contain a connection field within a list field are not currently "
                        "supported."
                    )
                self.count += 1
                if depth + 1 > MAX_DEPTH:
                    raise BulkQueryError(
                        f"Bulk queries cannot nest connections more than {MAX_DEPTH} levels deep."
                    )
                if depth >= 1 and not any(g.name.value == "id" and g.alias is None for g in fields):
                    raise BulkQueryError(
                        "The parent 'node' field for a nested connection must select the 'id' field."
                    )
                inner, _ = self.node_selection(f)
                node_type = get_named_type(named.fields["nodes"].type)
                assert isinstance(node_type, GraphQLObjectType)
                shape.children[(f.alias or f.name).value] = self.shape(inner, node_type, depth + 1)
            elif isinstance(named, GraphQLObjectType):
                listed = in_list or is_list_type(get_nullable_type(definition.type))
                self.shape(f.selection_set, named, depth, listed)  # connections under plain objects count too
        return shape


def check(schema: GraphQLSchema, text: str) -> BulkQuery:
    """The bulk query `text` as the simulator runs it, or BulkQueryError with Shopify's reason."""
    try:
        document = parse(text)
    except GraphQLSyntaxError as exc:
        raise BulkQueryError(f"Invalid bulk query: {exc.message}") from None
    errors = shopify_validate(schema, document)
    if errors:
        raise BulkQueryError(f"Invalid bulk query: {errors[0]['message']}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        raise BulkQueryError("Invalid bulk query: the document must hold exactly one query.")
    if any(v for v in operations[0].variable_definitions or ()):
        raise BulkQueryError("Invalid bulk query: variables are not supported in bulk queries.")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(schema, fragments)
    roots = _fields(operations[0].selection_set, fragments)
    if any(f.name.value in ("node", "nodes") for f in roots):
        raise BulkQueryError("The top-level 'node' and 'nodes' fields are not supported in bulk queries.")
    query_type = schema.query_type
    assert query_type is not None
    top = walker.shape(operations[0].selection_set, query_type, 0)
    if walker.count == 0:
        raise BulkQueryError("Bulk queries must contain at least one connection.")
    if walker.count > MAX_CONNECTIONS:
        raise BulkQueryError(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if len(roots) == 1 and roots[0].name.value in OBJECT_ROOTS:
        return _under_object(walker, query_type, document, roots[0])
    if len(roots) != 1 or roots[0].name.value not in ROOTS:
        raise BulkQueryError(f"The simulator runs bulk queries over one of {', '.join(_roots())} only.")
    root = roots[0]
    arguments = {a.name.value: _literal(a.value) for a in root.arguments or ()}
    key = (root.alias or root.name).value
    return BulkQuery(document, root.name.value, key, arguments, top.children[key])


def _roots() -> list[str]:
    return [*ROOTS, *(f"{root}.{inner}" for root, inner in OBJECT_ROOTS.items())]


def _under_object(
    walker: _Walker, query_type: GraphQLObjectType, document: DocumentNode, root: FieldNode
) -> BulkQuery:
    """An object root selecting only its one exported connection: each of that connection's nodes is a
    line of its own, as a root connection's are (no line for the object, which has no id here)."""
    inner = _fields(root.selection_set, walker.fragments)
    name = OBJECT_ROOTS[root.name.value]
    if len(inner) != 1 or inner[0].name.value != name:
        raise BulkQueryError(f"The simulator runs bulk queries over one of {', '.join(_roots())} only.")
    parent = get_named_type(query_type.fields[root.name.value].type)
    assert isinstance(parent, GraphQLObjectType)
    key = (inner[0].alias or inner[0].name).value
    shape = walker.shape(root.selection_set, parent, 0).children[key]
    arguments = {a.name.value: _literal(a.value) for a in inner[0].arguments or ()}
    root_key = (root.alias or root.name).value
    return BulkQuery(document, root.name.value, root_key, arguments, shape, (name, key))


def _literal(value: Any) -> Any:
    return value_from_ast_untyped(value)


def query_lines(
    execute: Any, resolve: Any, plan: BulkQuery, roots: list[Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """The JSONL objects of `roots` (the root connection's next objects), and an errorCode if it failed.

    The document runs through the shop's resolvers, with the root connection answered by `roots` and
    every nested connection unpaged (`first` is ignored in bulk queries).
    """
    page = {"nodes": roots, "edges": [{"node": r, "cursor": ""} for r in roots], "pageInfo": _NO_PAGE}

    def field_resolver(source: Any, info: Any, **args: Any) -> Any:
        if info.parent_type is info.schema.query_type and plan.inner is not None:
            return {**resolve(source, info, **args), plan.inner[0]: page}  # the root's own checks (scope)
        if info.parent_type is info.schema.query_type:
            return page
        if _is_connection(get_named_type(info.return_type).name):
            args = {k: v for k, v in args.items() if k not in ("after", "before", "last")}
            args["first"] = NESTED_PAGE
        return resolve(source, info, **args)

    result = execute(plan.document, None, field_resolver=field_resolver)
    if result.errors:
        codes = {(e.extensions or {}).get("code") for e in result.errors}
        return [], "ACCESS_DENIED" if "ACCESS_DENIED" in codes else "INTERNAL_SERVER_ERROR"
    data = (result.data or {}).get(plan.root_key) or {}
    if plan.inner is not None:
        data = data.get(plan.inner[1]) or {}
    nodes = data.get("nodes")
    if nodes is None:
        nodes = [e["node"] for e in data.get("edges") or ()]
    return [line for node in nodes for line in flatten(node, plan.shape)], None


_NO_PAGE = {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}


def flatten(node: dict[str, Any], shape: Shape, parent_id: str | None = None) -> list[dict[str, Any]]:
    """One exported object and its nested connections' nodes, as JSONL objects in file order."""
    line = {k: v for k, v in node.items() if k not in shape.children}
    if parent_id is not None:
        line["__parentId"] = parent_id
    lines = [line]
    for key, child_shape in shape.children.items():
        value = node.get(key) or {}
        children = value.get("nodes")
        if children is None:
            children = [e["node"] for e in value.get("edges") or () if isinstance(e, dict) and "node" in e]
        for child in children:
            lines.extend(flatten(child, child_shape, node.get("id")))
    return lines
