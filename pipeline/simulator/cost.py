"""Shopify's calculated query cost: requested (static, before execution) and actual (from the result).

Rules from shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits, calibrated on real answers.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, cast

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionNode,
    SelectionSetNode,
    TypeMetaFieldDef,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
    visit,
)

MAX_COST = 1000
MUTATION_COST = 10
# Shopify rejects a connection without `first`/`last`; price it as a full page should one get through.
DEFAULT_PAGE_SIZE = 250
# Value objects embedded in their parent: the recorded answers price them at 0 (SHOPIFY-FACTS §7).
FREE_TYPES = frozenset({"MoneyBag", "MoneyV2", "PageInfo"})
# Fields Shopify prices by hand, read off recorded answers (refundCreate 20 + selection; counts 10).
FIELD_COSTS = {("Mutation", "refundCreate"): 20, ("QueryRoot", "ordersCount"): 10}
DOCS = "https://shopify.dev/api/usage/rate-limits"
# Documents whose walk is remembered (a client sends the same few thousands of times), and prices
# remembered per document (one per page size or list length in use).
DOCUMENTS_KEPT = 256
PRICES_KEPT = 64


def page_factor(size: int) -> int:
    """How many times a connection's node is paid for `size` nodes: grows with the log, not linearly."""
    return 0 if size <= 0 else max(1, math.floor(2 * math.log(size)))


def requested_cost(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], operation_name: str | None
) -> int:
    """The cost Shopify checks against the bucket before running the operation."""
    walk = _walk(schema, document)
    key = (operation_name, walk.price_key(variables or {}))
    price = walk.prices.get(key)
    if price is None:
        price = _Coster(schema, document, variables, walk).operation(operation_name, None)
        if len(walk.prices) >= PRICES_KEPT:
            walk.prices.clear()
        walk.prices[key] = price
    return price


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any],
    operation_name: str | None,
    data: dict[str, Any],
) -> int:
    """The cost of what was returned: connections by nodes returned, nothing below a null."""
    return _Coster(schema, document, variables, _walk(schema, document)).operation(operation_name, data or {})


def max_cost_errors(requested: int) -> list[dict[str, Any]]:
    """Shopify's MAX_COST_EXCEEDED refusal, as the `errors` list of the answer (no top-level cost)."""
    # Wording and shape as answered in 2026 (Shopify/shopify-app-js#577 shows the same message text).
    message = (
        f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_COST}).\n\n"
        "See https://shopify.dev/docs/api/usage/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
        "See https://shopify.dev/docs/api/usage/bulk-operations/queries for usage details.\n"
    )
    extensions = {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_COST, "documentation": DOCS}
    return [{"message": message, "extensions": extensions}]


class _Walk:
    """What pricing a document learns once: the variables its price depends on (page sizes, list
    lengths, @skip/@include conditions) and the fields merged under each selection."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema, self.document = schema, document  # held: their ids key the cache
        self.by_value: set[str] = set()  # in `first`, `last` or a directive
        self.by_length: set[str] = set()  # the whole value of an `ids` argument
        conditions: set[str] = set()  # in @skip/@include: they decide which fields count
        self.prices: dict[tuple[Any, ...], int] = {}
        self.fields: dict[tuple[Any, ...], list[tuple[str, GraphQLField, list[FieldNode]]]] = {}
        walk = self

        class Found(Visitor):
            def __init__(self, *into: set[str]) -> None:
                super().__init__()
                self.into = into

            def enter_variable(self, node: VariableNode, *_args: Any) -> None:
                for names in self.into:
                    names.add(node.name.value)

        class Variables(Visitor):
            def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
                visit(node, Found(walk.by_value, conditions))

            def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
                name = node.name.value
                if name == "ids" and isinstance(node.value, VariableNode):
                    walk.by_length.add(node.value.name.value)
                elif name in ("first", "last"):
                    visit(node.value, Found(walk.by_value))

        visit(document, Variables())
        self.conditions = sorted(conditions)

    def condition_key(self, variables: dict[str, Any]) -> tuple[Any, ...]:
        """The values that decide which selections @skip/@include leave out."""
        return tuple(_frozen(variables.get(name, _ABSENT)) for name in self.conditions)

    def price_key(self, variables: dict[str, Any]) -> tuple[Any, ...]:
        """Every value the requested cost depends on."""
        values = tuple(_frozen(variables.get(name, _ABSENT)) for name in sorted(self.by_value))
        lengths = tuple(
            len(value) if isinstance(value := variables.get(name, _ABSENT), list) else _frozen(value)
            for name in sorted(self.by_length)
        )
        return values, lengths


_ABSENT = object()
_walks: OrderedDict[tuple[int, int], _Walk] = OrderedDict()
_walks_lock = threading.Lock()


def _walk(schema: GraphQLSchema, document: DocumentNode) -> _Walk:
    """The document's remembered walk (least recently used ones forgotten past DOCUMENTS_KEPT)."""
    key = (id(schema), id(document))
    with _walks_lock:
        walk = _walks.get(key)
        if walk is not None and walk.schema is schema and walk.document is document:
            _walks.move_to_end(key)
            return walk
    walk = _Walk(schema, document)
    with _walks_lock:
        _walks[key] = walk
        while len(_walks) > DOCUMENTS_KEPT:
            _walks.popitem(last=False)
    return walk


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a variable's value (True and 1 kept apart)."""
    if isinstance(value, (list, dict)):
        return ("json", repr(value))
    return (type(value).__name__, value) if value is not _ABSENT else _ABSENT


class _Coster:
    """One walk over a document; `data` None prices the request, otherwise the result."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], walk: _Walk
    ) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.walk = walk
        self.conditions = walk.condition_key(self.variables)
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]

    def operation(self, name: str | None, data: dict[str, Any] | None) -> int:
        op = next((o for o in self.operations if name is None or (o.name and o.name.value == name)), None)
        root = self.schema.get_root_type(op.operation) if op else None
        if op is None or root is None:
            return 0
        actual, total = data is not None, 0
        for key, field_def, nodes in self._fields(root, [op.selection_set]):
            if data is not None and key not in data:
                continue
            value = data.get(key) if data is not None else None
            if op.operation == OperationType.MUTATION:
                # The mutation's 10 points cover its payload object and the objects right under it.
                base = FIELD_COSTS.get((root.name, nodes[0].name.value), MUTATION_COST)
                total += base + self._children(field_def, nodes, value, actual, free_depth=2)
            else:
                total += self._field(root.name, field_def, nodes, value, actual)
        return total

    def _field(
        self, parent: str, field_def: GraphQLField, nodes: list[FieldNode], value: Any, actual: bool
    ) -> int:
        own = FIELD_COSTS.get((parent, nodes[0].name.value))
        named = get_named_type(field_def.type)
        if own is not None or is_leaf_type(named):
            return own or 0
        if _is_connection(named):
            return self._connection(cast(GraphQLObjectType, named), nodes, value, actual)
        if actual and value is None:
            # Nothing below a null is resolved, but the field itself was.
            return 0 if named.name in FREE_TYPES else 1
        return self._children(field_def, nodes, value, actual, free_depth=0)

    def _children(
        self, field_def: GraphQLField, nodes: list[FieldNode], value: Any, actual: bool, free_depth: int
    ) -> int:
        """An object or list of objects: 1 for each unless free, plus its selection."""
        named = get_named_type(field_def.type)
        if is_leaf_type(named) or (actual and value is None):
            return 0
        selections = _sels(nodes)
        if not isinstance(get_nullable_type(field_def.type), GraphQLList):
            return self._object(named, selections, value, actual, free_depth)
        per_item = self._per_item(named, selections, value if actual else None, free_depth)
        return page_factor(self._size(nodes, default=1)) * per_item

    def _per_item(
        self,
        named: GraphQLNamedType,
        selections: list[SelectionSetNode],
        items: list[Any] | None,
        free_depth: int = 0,
    ) -> int:
        """The dearest element returned; an empty or unknown list is priced as requested."""
        if items:
            return max(self._object(named, selections, item, True, free_depth) for item in items)
        return self._object(named, selections, None, False, free_depth)

    def _object(
        self,
        named: GraphQLNamedType,
        selections: list[SelectionSetNode],
        value: Any,
        actual: bool,
        free_depth: int,
    ) -> int:
        own = 0 if (free_depth > 0 or named.name in FREE_TYPES) else 1
        best = 0
        for concrete in self._possible(named, selections, value if actual else None):
            total = 0
            for key, field_def, nodes in self._fields(concrete, selections):
                sub = value.get(key) if (actual and isinstance(value, dict)) else None
                if free_depth > 1 and not is_leaf_type(get_named_type(field_def.type)):
                    total += self._children(field_def, nodes, sub, actual, free_depth - 1)
                else:
                    total += self._field(concrete.name, field_def, nodes, sub, actual)
            best = max(best, total)
        return own + best

    def _connection(self, named: GraphQLObjectType, nodes: list[FieldNode], value: Any, actual: bool) -> int:
        """2 for the connection, plus its node's cost times the page factor of its size."""
        if actual and value is None:
            return 0
        size = self._size(nodes, DEFAULT_PAGE_SIZE)
        per_node, returned = 0, None
        for key, field_def, sub_nodes in self._fields(named, _sels(nodes)):
            sub = value.get(key) if (actual and isinstance(value, dict)) else None
            name = sub_nodes[0].name.value
            if name == "nodes":
                node_type, node_sels, items = get_named_type(field_def.type), _sels(sub_nodes), sub
            elif name == "edges":
                edge_type = get_named_type(field_def.type)
                found = [(k, f, n) for k, f, n in self._fields(edge_type, _sels(sub_nodes)) if k == "node"]
                if not found:
                    continue
                _, node_field, node_nodes = found[0]
                node_type, node_sels = get_named_type(node_field.type), _sels(node_nodes)
                items = [edge.get("node") for edge in sub] if sub else sub
            else:
                continue
            per_node += self._per_item(node_type, node_sels, items if actual else None)
            returned = len(items) if (actual and items is not None) else returned
        if returned:
            # Paid for what came back; an empty page is still paid as asked (recorded answers).
            size = returned
        return 2 + page_factor(size) * per_node

    def _size(self, nodes: list[FieldNode], default: int) -> int:
        """`first`/`last` (variables resolved), else how many `ids`, else `default`."""
        args = {
            a.name.value: value_from_ast_untyped(a.value, self.variables) for a in nodes[0].arguments or ()
        }
        for name in ("first", "last"):
            size = args.get(name)
            if isinstance(size, int):
                return size
        return len(args["ids"]) if isinstance(args.get("ids"), list) else default

    def _possible(
        self, named: GraphQLNamedType, selections: list[SelectionSetNode], value: Any
    ) -> list[GraphQLObjectType]:
        if not is_abstract_type(named):
            return [cast(GraphQLObjectType, named)]  # a selection on a non-abstract type: an object type
        if isinstance(value, dict) and isinstance(value.get("__typename"), str):
            concrete = self.schema.get_type(value["__typename"])
            if isinstance(concrete, GraphQLObjectType):
                return [concrete]
        # The dearest possible selection; types on which the same fragments apply cost the same.
        groups: dict[tuple[bool, ...], GraphQLObjectType] = {}
        for concrete in self.schema.get_possible_types(named):
            key = tuple(self._matches(concrete, cond) for cond, _ in self._spreads(selections, deep=True))
            groups.setdefault(key, concrete)
        return list(groups.values())

    def _spreads(
        self, selections: list[SelectionSetNode], deep: bool = False
    ) -> Iterator[tuple[NamedTypeNode | None, SelectionSetNode]]:
        """(type condition, selection set) of the fragments in `selections`."""
        for selection_set in selections:
            for sel in selection_set.selections:
                if not self._included(sel):
                    continue
                fragment: SelectionNode | FragmentDefinitionNode = sel
                if isinstance(sel, FragmentSpreadNode) and sel.name.value in self.fragments:
                    fragment = self.fragments[sel.name.value]
                if isinstance(fragment, (InlineFragmentNode, FragmentDefinitionNode)):
                    yield fragment.type_condition, fragment.selection_set
                    if deep:
                        yield from self._spreads([fragment.selection_set], deep)

    def _included(self, node: SelectionNode) -> bool:
        """False for a selection that @skip or @include leaves out: Shopify does not charge for it."""
        for directive in node.directives or ():
            name = directive.name.value
            if name in ("skip", "include"):
                arg = next((a for a in directive.arguments or () if a.name.value == "if"), None)
                condition = bool(arg and value_from_ast_untyped(arg.value, self.variables))
                if condition == (name == "skip"):
                    return False
        return True

    def _matches(self, concrete: GraphQLNamedType, condition: NamedTypeNode | None) -> bool:
        target = concrete if condition is None else self.schema.get_type(condition.name.value)
        return target is concrete or (is_abstract_type(target) and self.schema.is_sub_type(target, concrete))

    def _fields(
        self, concrete: GraphQLNamedType, selections: list[SelectionSetNode]
    ) -> Iterator[tuple[str, GraphQLField, list[FieldNode]]]:
        """Fields selected on `concrete`, merged by response key, with their definitions."""
        memo = (self.conditions, concrete.name, *map(id, selections))
        known = self.walk.fields.get(memo)
        if known is None:
            merged: dict[str, list[FieldNode]] = {}
            self._collect(concrete, selections, merged)
            fields = {**getattr(concrete, "fields", {}), **_INTROSPECTION}
            known = [(k, fields[n[0].name.value], n) for k, n in merged.items() if n[0].name.value in fields]
            self.walk.fields[memo] = known
        yield from known

    def _collect(
        self,
        concrete: GraphQLNamedType,
        selections: list[SelectionSetNode],
        merged: dict[str, list[FieldNode]],
    ) -> None:
        for selection_set in selections:
            for sel in selection_set.selections:
                if isinstance(sel, FieldNode) and self._included(sel):
                    merged.setdefault(sel.alias.value if sel.alias else sel.name.value, []).append(sel)
        for condition, sub in self._spreads(selections):
            if self._matches(concrete, condition):
                self._collect(concrete, [sub], merged)


# Introspection is priced like any other selection (recorded: __type + fields + type chain = 13).
_INTROSPECTION = {"__type": TypeMetaFieldDef, "__schema": SchemaMetaFieldDef}


def _is_connection(named: GraphQLNamedType) -> bool:
    fields = getattr(named, "fields", None) or {}
    return named.name.endswith("Connection") and ("edges" in fields or "nodes" in fields)


def _sels(nodes: list[FieldNode]) -> list[SelectionSetNode]:
    return [n.selection_set for n in nodes if n.selection_set]
