"""A bulk query's nodes answered through a field plan built once per document (issue 17).

Running the whole document through graphql-core for every batch of roots re-walks it per object:
collecting fields, coercing arguments, building resolve infos. Here that is done once: each selected
field keeps its definition, its coerced arguments (a nested connection's unpaged, as `query_lines`
asks) and how its value is completed, and a node is answered by calling the shop's resolver per field.
Answers are graphql-core's: the same resolvers, the same scalar serialisation, keys in document
order. Whatever this plan does not model (a duplicate key of a different shape, a directive other
than @skip/@include, an object root) raises `Unsupported` when built, and a node that errors or
completes null where the schema forbids it raises `Fallback`: the caller then runs the batch through
graphql-core as before, which answers its errors exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_directive_values,
    is_abstract_type,
    is_leaf_type,
    type_from_ast,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Undefined

from pipeline.simulator.bulkquery import NESTED_PAGE, BulkQuery

Complete = Callable[[Any], Any]
Resolve = Callable[..., Any]
TypeName = Callable[[Any], str | None]


class Unsupported(Exception):
    """The document uses something this plan does not model: run it through graphql-core."""


class Fallback(Exception):
    """A node did not complete as graphql-core completes it without errors."""


class Info:
    """The parts of graphql-core's resolve info the shop's resolvers read."""

    __slots__ = ("context", "field_name", "field_nodes", "parent_type", "path", "return_type", "schema")

    def __init__(
        self,
        schema: GraphQLSchema,
        context: Any,
        parent: GraphQLObjectType,
        nodes: list[FieldNode],
        kind: Any,
    ) -> None:
        self.schema, self.context, self.parent_type, self.field_nodes = schema, context, parent, nodes
        self.field_name, self.return_type, self.path = nodes[0].name.value, kind, None

    @property
    def variable_values(self) -> dict[str, Any]:
        return {}  # bulk queries take no variables


@dataclass(frozen=True)
class _Field:
    key: str
    info: Info | None  # None: __typename
    args: dict[str, Any]
    complete: Complete
    typename: str = ""


class NodePlan:
    """How one bulk query answers each of its root connection's nodes."""

    def __init__(
        self, schema: GraphQLSchema, plan: BulkQuery, context: Any, resolve: Resolve, type_name: TypeName
    ) -> None:
        if plan.inner is not None:
            raise Unsupported("object root")
        self.schema, self.context, self.resolve, self.type_name = schema, context, resolve, type_name
        operations = [d for d in plan.document.definitions if isinstance(d, OperationDefinitionNode)]
        self.fragments = {
            d.name.value: d for d in plan.document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        query_type = schema.query_type
        assert query_type is not None
        roots = self._collect(query_type, [operations[0].selection_set])
        if list(roots) != [plan.root_key]:
            raise Unsupported("root")
        field = query_type.fields[plan.root_field]
        connection = _object(_named(field.type))
        page = self._collect(connection, [n.selection_set for n in roots[plan.root_key]])
        if "nodes" in page:
            nodes = page["nodes"]
        elif "edges" in page:
            edges = page["edges"]
            edge = _object(_named(connection.fields[edges[0].name.value].type))
            nodes = self._collect(edge, [n.selection_set for n in edges]).get("node", [])
        else:
            raise Unsupported("no nodes")
        if not nodes or any(
            n.name.value != ("node" if "edges" in page and "nodes" not in page else "nodes") for n in nodes
        ):
            raise Unsupported("nodes")  # an alias named like the nodes: graphql-core's answer differs
        holder = connection if "nodes" in page else edge
        self.node = self._object(_object(_named(holder.fields[nodes[0].name.value].type)), nodes)

    def answer(self, root: Any) -> dict[str, Any]:
        """The node `root` as graphql-core answers it (or Fallback)."""
        return self.node(root)  # type: ignore[no-any-return]

    def _collect(
        self, parent: GraphQLObjectType, selections: Iterable[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        """The fields selected on `parent`, by response key in document order (graphql-core's rule)."""
        out: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            for sel in selection_set.selections if selection_set else ():
                if not self._included(sel):
                    continue
                if isinstance(sel, FieldNode):
                    out.setdefault((sel.alias or sel.name).value, []).append(sel)
                    continue
                if isinstance(sel, FragmentSpreadNode):
                    fragment: Any = self.fragments.get(sel.name.value)
                    if fragment is None:
                        continue
                else:
                    fragment = sel
                if self._matches(fragment, parent):
                    for key, nodes in self._collect(parent, [fragment.selection_set]).items():
                        out.setdefault(key, []).extend(nodes)
        return out

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in ("skip", "include"):
                raise Unsupported(f"@{directive.name.value}")
        skip = get_directive_values(GraphQLSkipDirective, node)
        include = get_directive_values(GraphQLIncludeDirective, node)
        return not (skip and skip["if"]) and not (include is not None and not include["if"])

    def _matches(
        self, fragment: FragmentDefinitionNode | InlineFragmentNode, parent: GraphQLObjectType
    ) -> bool:
        if fragment.type_condition is None:
            return True
        condition = type_from_ast(self.schema, fragment.type_condition)
        if condition is parent:
            return True
        return is_abstract_type(condition) and self.schema.is_sub_type(condition, parent)

    def _object(self, parent: GraphQLObjectType, nodes: list[FieldNode]) -> Complete:
        fields: list[_Field] = []
        for key, group in self._collect(parent, [n.selection_set for n in nodes]).items():
            name = group[0].name.value
            if name == "__typename":
                fields.append(_Field(key, None, {}, _leaf_identity, parent.name))
                continue
            definition = parent.fields.get(name)
            if definition is None:
                raise Unsupported(name)
            args = get_argument_values(definition, group[0])
            if _named(definition.type).name.endswith("Connection"):  # unpaged, as query_lines asks
                args = {k: v for k, v in args.items() if k not in ("after", "before", "last")}
                args["first"] = NESTED_PAGE
            info = Info(self.schema, self.context, parent, group, definition.type)
            fields.append(_Field(key, info, args, self._completer(definition.type, group)))
        resolve = self.resolve

        def complete(source: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for f in fields:
                out[f.key] = f.typename if f.info is None else f.complete(resolve(source, f.info, **f.args))
            return out

        return complete

    def _completer(self, kind: GraphQLOutputType, nodes: list[FieldNode]) -> Complete:
        if isinstance(kind, GraphQLNonNull):
            inner = self._completer(kind.of_type, nodes)

            def required(value: Any) -> Any:
                out = None if value is None or value is Undefined else inner(value)
                if out is None:
                    raise Fallback("null in a non-null field")
                return out

            return required
        if isinstance(kind, GraphQLList):
            item = self._completer(kind.of_type, nodes)

            def listed(value: Any) -> Any:
                if value is None or value is Undefined:
                    return None
                if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
                    raise Fallback("not a list")
                return [item(v) for v in value]

            return listed
        if is_leaf_type(kind):
            serialize = kind.serialize

            def leaf(value: Any) -> Any:
                if value is None or value is Undefined:
                    return None
                out = serialize(value)
                if out is None or out is Undefined:
                    raise Fallback("leaf")
                return out

            return leaf
        if isinstance(kind, GraphQLObjectType):
            obj = self._object(kind, nodes)
            return lambda value: None if value is None or value is Undefined else obj(value)
        return self._abstract(kind, nodes)  # type: ignore[arg-type]

    def _abstract(self, kind: GraphQLAbstractType, nodes: list[FieldNode]) -> Complete:
        plans: dict[str, Complete] = {}

        def abstract(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            name = self.type_name(value)
            if name not in plans:
                runtime = self.schema.get_type(name or "")
                if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(kind, runtime):
                    raise Fallback("runtime type")
                plans[name or ""] = self._object(runtime, nodes)
            return plans[name or ""](value)

        return abstract


def _leaf_identity(value: Any) -> Any:
    return value


def _named(kind: Any) -> Any:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def _object(kind: Any) -> GraphQLObjectType:
    if not isinstance(kind, GraphQLObjectType):
        raise Unsupported("not an object")
    return kind
