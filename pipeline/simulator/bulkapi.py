"""The bulk-operation root fields: stagedUploadsCreate, bulkOperationRun*, bulkOperationCancel,
bulkOperation, bulkOperations. Codes are Shopify's enums; messages not seen in a public answer are
inferred (see README, "Bulk operations")."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLSyntaxError

from pipeline.simulator import search
from pipeline.simulator.bulk import ACTIVE, MAX_RUNNING, BulkEngine, BulkOperation
from pipeline.simulator.bulkquery import BulkQueryError, check
from pipeline.simulator.errors import numeric_id
from pipeline.simulator.payouts import exported
from pipeline.simulator.shapes import connection
from pipeline.simulator.syntax import shopify_validate

QUERIES = ("bulkOperation", "bulkOperations")
MUTATIONS = (
    "stagedUploadsCreate",
    "bulkOperationRunQuery",
    "bulkOperationRunMutation",
    "bulkOperationCancel",
)
LIMIT = f"A maximum of {MAX_RUNNING} bulk operations can run at the same time. Wait for one to finish."
# Shopify's words for a variables file that is not JSONL (community.shopify.com, thread 1302038).
NOT_JSONL = "Unexpected file structure - expected JSONL"


def _error(message: str, code: str, where: str) -> dict[str, Any]:
    return {"field": [where], "message": message, "code": code}


def _payload(op: BulkOperation | None, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bulkOperation": op.view() if op is not None else None, "userErrors": errors}


def _run_query(engine: BulkEngine, schema: GraphQLSchema, args: dict[str, Any]) -> dict[str, Any]:
    try:
        plan = check(schema, args["query"])
    except BulkQueryError as exc:
        return _payload(None, [_error(str(exc), "INVALID", "query")])
    if engine.running() >= MAX_RUNNING:
        return _payload(None, [_error(LIMIT, "LIMIT_REACHED", "query")])
    store = engine.store
    if plan.inner is not None:  # shopifyPaymentsAccount.balanceTransactions
        ids = exported(store, plan.arguments)
    else:
        ids = [o.id for o in search.orders_found(store, plan.arguments.get("query"))]
        key = plan.arguments.get("sortKey") or "ID"
        ids.sort(
            key=lambda i: (search.sort_value(store.orders[i], key), i),
            reverse=bool(plan.arguments.get("reverse")),
        )
    op = engine.create("QUERY", args["query"], len(ids))
    op.plan, op.order_ids = plan, ids
    return _payload(op, [])


def _mutation_document(schema: GraphQLSchema, text: str) -> Any:
    """The parsed mutation, or the userError that refuses it."""
    try:
        document = parse(text)
    except GraphQLSyntaxError as exc:
        return _error(f"Failed to parse the mutation - {exc.message}", "INVALID_MUTATION", "mutation")
    errors = shopify_validate(schema, document)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if errors:
        return _error(f"Invalid mutation: {errors[0]['message']}", "INVALID_MUTATION", "mutation")
    if len(operations) != 1 or operations[0].operation != OperationType.MUTATION:
        return _error("The document must hold exactly one mutation.", "INVALID_MUTATION", "mutation")
    roots = [s for s in operations[0].selection_set.selections if getattr(s, "name", None)]
    if len(roots) != 1 or roots[0].name.value in MUTATIONS:  # type: ignore[attr-defined]
        return _error(
            "Bulk mutations must call exactly one mutation, not a bulk one.", "INVALID_MUTATION", "mutation"
        )
    return document


def _run_mutation(engine: BulkEngine, schema: GraphQLSchema, args: dict[str, Any]) -> dict[str, Any]:
    document = _mutation_document(schema, args["mutation"])
    if isinstance(document, dict):
        return _payload(None, [document])
    path = engine.files.uploaded(args["stagedUploadPath"])
    if path is None:
        return _payload(
            None, [_error("The staged upload file does not exist.", "NO_SUCH_FILE", "stagedUploadPath")]
        )
    lines = 0
    with path.open(encoding="utf-8") as fh:  # checked whole before it runs, one line at a time
        for line in fh:
            try:
                ok = isinstance(json.loads(line), dict)
            except ValueError:
                ok = False
            if not ok:
                return _payload(None, [_error(NOT_JSONL, "INVALID_STAGED_UPLOAD_FILE", "stagedUploadPath")])
            lines += 1
    if engine.running() >= MAX_RUNNING:
        return _payload(None, [_error(LIMIT, "LIMIT_REACHED", "mutation")])
    op = engine.create("MUTATION", args["mutation"], lines)
    op.mutation, op.source = document, path
    return _payload(op, [])


def _cancel(engine: BulkEngine, args: dict[str, Any]) -> dict[str, Any]:
    op = engine.operations.get(numeric_id(args["id"], "BulkOperation") or -1)
    if op is None:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
        }
    if op.status not in ACTIVE:
        message = f"A bulk operation cannot be canceled when it is {op.status.lower()}"
        return {"bulkOperation": op.view(), "userErrors": [{"field": None, "message": message}]}
    engine.cancel(op)
    return {"bulkOperation": op.view(), "userErrors": []}


def _matches(op: BulkOperation, term: search.Term) -> bool:
    name, _op, value = term
    if name == "status":
        return op.status.casefold() == value.casefold()
    if name == "operation_type":
        return op.type.casefold() == value.casefold()
    if name == "id":
        return value.rsplit("/", 1)[-1] == str(op.id)
    return True


def query(engine: BulkEngine, name: str, args: dict[str, Any]) -> Any:
    """QueryRoot.bulkOperation / bulkOperations."""
    now = engine.now()
    if name == "bulkOperation":
        op = engine.operations.get(numeric_id(args["id"], "BulkOperation") or -1)
        return op.view() if op is not None and op.visible(now) else None
    tree = search.parse(args.get("query"))
    ops = [
        op
        for op in engine.operations.values()
        if op.visible(now) and search.evaluate(tree, partial(_matches, op))
    ]
    return connection(ops, {**args, "sortKey": "ID"}, lambda op: op.view())


def mutation(engine: BulkEngine, schema: GraphQLSchema, name: str, args: dict[str, Any]) -> Any:
    """Mutation.stagedUploadsCreate, bulkOperationRunQuery, bulkOperationRunMutation, bulkOperationCancel."""
    if name == "stagedUploadsCreate":
        return engine.files.stage(args["input"])
    if name == "bulkOperationRunQuery":
        return _run_query(engine, schema, args)
    if name == "bulkOperationRunMutation":
        return _run_mutation(engine, schema, args)
    return _cancel(engine, args)
