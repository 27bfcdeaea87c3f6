"""Binds the store to the schema: `ShopApi(store).execute(document, variables, operation_name)`.

The lead's handler validates documents and serialises results; this module only executes them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    build_schema,
    default_field_resolver,
    execute,
)
from graphql.execution.values import get_directive_values

from pipeline.simulator import accounting as acc
from pipeline.simulator import bulkapi, search
from pipeline.simulator.access import Access, check_scope
from pipeline.simulator.bulk import BulkEngine, BulkSettings
from pipeline.simulator.bulkexport import NodePlan, Unsupported
from pipeline.simulator.bulkquery import BulkQuery
from pipeline.simulator.cancel import order_cancel, settle
from pipeline.simulator.errors import UserErr, check_sizes, numeric_id
from pipeline.simulator.gids import check_ids, gid, parse_gid
from pipeline.simulator.giftcards import gift_card_create, gift_card_matches, send_notification
from pipeline.simulator.metafields import CLAIM, find, metafields_set, parsed_value
from pipeline.simulator.money import fmt_plain
from pipeline.simulator.rules import hold_keys, refund_create
from pipeline.simulator.shapes import Sub, connection
from pipeline.simulator.shopview import SHOP_ROOTS
from pipeline.simulator.store import Job, Store
from pipeline.simulator.tags import order_update, taggable, tags_add
from pipeline.simulator.versions import DEFAULT_VERSION, SCHEMA_FILES
from pipeline.simulator.views import resolve_object, type_name

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
#: every served API version's schema, each cut from Shopify's by `subset.py`.
SCHEMAS = {
    version: build_schema(Path(__file__).with_name(name).read_text(encoding="utf-8"))
    for version, name in SCHEMA_FILES.items()
}
SCHEMA = SCHEMAS[DEFAULT_VERSION]
IDEMPOTENCY_REQUIRED = "The @idempotent directive is required for this mutation but was not provided."


@dataclass
class Context:
    store: Store
    keys: list[str] = field(default_factory=list)  # idempotency keys this request applied
    bulk: BulkEngine | None = None


class Root:
    """The QueryRoot/Mutation value (also what a finished `Job.query` returns)."""


ROOT = Root()


def _errors(errs: list[UserErr], with_code: bool = True) -> list[dict[str, Any]]:
    return [{"field": e.field, "message": e.message, **({"code": e.code} if with_code else {})} for e in errs]


def _node(store: Store, value: str) -> Any:
    """Any Node by global id, or None (unknown ids and non-node types such as Job answer null)."""
    parsed = parse_gid(value)
    if parsed is None or not parsed[1].isdigit():
        return None
    kind, number = parsed[0], int(parsed[1])
    if kind == "Order":
        return store.orders.get(number)
    if kind == "Customer":
        return store.customers.get(number)
    if kind == "GiftCard":
        return store.gift_cards.get(number)
    if kind == "Metafield":
        return next((m for o in store.orders.values() for m in o.metafields if m.id == number), None)
    for order in store.orders.values():
        by_kind: dict[str, list[Any]] = {
            "LineItem": list(order.line_items),
            "OrderTransaction": list(order.transactions),
            "Refund": list(order.refunds),
            "Fulfillment": list(order.fulfillments),
        }
        pools = by_kind.get(kind, [])
        hit = next((x for x in pools if x.id == number), None)
        if hit is not None:
            return Sub(order, hit)
    return None


def _query(store: Store, info: Any, args: dict[str, Any]) -> Any:
    name = info.field_name
    if name == "order":
        return store.orders.get(numeric_id(args["id"], "Order") or -1)
    if name == "customer":
        return store.customers.get(numeric_id(args["id"], "Customer") or -1)
    if name == "giftCard":
        return store.gift_cards.get(numeric_id(args["id"], "GiftCard") or -1)
    if name == "node":
        return _node(store, args["id"])
    if name == "nodes":
        return [_node(store, i) for i in args["ids"]]
    if name == "job":  # recorded: an unknown job answers done: true with its id (utility-roots)
        parsed = parse_gid(args["id"])
        job = store.jobs.get(parsed[1]) if parsed and parsed[0] == "Job" else None
        return job if job is not None else {"id": args["id"], "done": True, "query": ROOT}
    if name == "orders":
        hits = search.orders_found(store, args.get("query"))
        return connection(hits, {**args, "sortKey": args.get("sortKey") or "PROCESSED_AT"}, lambda o: o)
    if name == "ordersCount":  # recorded: count capped at `limit`, then precision AT_LEAST
        found, limit = len(search.orders_found(store, args.get("query"))), args.get("limit")
        capped = limit is not None and found > limit
        return {"count": limit if capped else found, "precision": "AT_LEAST" if capped else "EXACT"}
    if name in SHOP_ROOTS:
        return SHOP_ROOTS[name](store, args)
    if name in bulkapi.QUERIES:
        return bulkapi.query(info.context.bulk, name, args)
    if name == "giftCards":
        tree = search.parse(args.get("query"))
        cards = [g for g in store.gift_cards.values() if search.evaluate(tree, partial(gift_card_matches, g))]
        return connection(cards, {**args, "sortKey": "ID"}, lambda g: g)
    raise KeyError(name)


def _mutation(store: Store, info: Any, args: dict[str, Any]) -> Any:
    name = info.field_name
    if name == "orderCancel":
        cres = order_cancel(store, args)
        return {
            "job": cres.job,
            "orderCancelUserErrors": _errors(cres.errors),
            "userErrors": _errors(cres.errors, with_code=False),
        }
    if name == "refundCreate":
        directive = info.schema.get_directive("idempotent")
        assert directive is not None
        found = get_directive_values(directive, info.field_nodes[0], info.variable_values)
        if not found or not found.get("key"):  # 2026-04+: runtime error, null payload (see README)
            raise GraphQLError(IDEMPOTENCY_REQUIRED, info.field_nodes, extensions={"code": "BAD_REQUEST"})
        rres = refund_create(store, args["input"], found["key"])
        if rres.applied:
            info.context.keys.append(found["key"])
        refund = Sub(rres.order, rres.refund) if rres.refund is not None and rres.order is not None else None
        return {"order": rres.order, "refund": refund, "userErrors": _errors(rres.errors, with_code=False)}
    if name == "giftCardCreate":
        gres = gift_card_create(store, args["input"])
        return {"giftCard": gres.gift_card, "giftCardCode": gres.code, "userErrors": _errors(gres.errors)}
    if name == "giftCardSendNotificationToCustomer":
        nres = send_notification(store, args["id"])
        return {"giftCard": nres.gift_card, "userErrors": _errors(nres.errors)}
    if name == "tagsAdd":
        node = taggable(store, args["id"])
        if node is None:  # recorded unsupportedAdd: top-level RESOURCE_NOT_FOUND, tagsAdd null
            raise GraphQLError("invalid id", info.field_nodes, extensions={"code": "RESOURCE_NOT_FOUND"})
        tags_add(store, node, args["tags"])
        return {"node": node, "userErrors": []}
    if name == "orderUpdate":
        ures = order_update(store, args["input"])
        return {"order": ures.order, "userErrors": _errors(ures.errors, with_code=False)}
    if name == "metafieldsSet":
        mres = metafields_set(store, args["metafields"])
        return {"metafields": mres.metafields, "userErrors": [e.as_json() for e in mres.errors]}
    if name in bulkapi.MUTATIONS:
        return bulkapi.mutation(info.context.bulk, info.schema, name, args)
    raise KeyError(name)


def _resolve(source: Any, info: Any, **args: Any) -> Any:
    if type(source) is dict:  # money bags, connections, edges: most fields of an answer
        return default_field_resolver(source, info, **args)
    store: Store = info.context.store
    if isinstance(source, Root):
        check_scope(store.access, info.field_name, info.field_nodes)
        check_sizes(info, [info.field_name], args)
        return (_mutation if info.parent_type.name == "Mutation" else _query)(store, info, args)
    if isinstance(source, Job):
        return {"id": gid("Job", source.id), "done": source.done, "query": ROOT if source.done else None}[
            info.field_name
        ]
    handled, value = resolve_object(source, info, args)
    return value if handled else default_field_resolver(source, info, **args)


def _type(value: Any, info: Any, abstract: Any) -> str | None:
    return type_name(value)


class ShopApi:
    """The simulated Admin API over one store. Not thread-safe: the handler serialises calls."""

    def __init__(
        self,
        store: Store,
        cancel_delay: float | None = None,
        access: Access | None = None,
        bulk: BulkSettings | None = None,
    ) -> None:
        """`cancel_delay`: seconds until an orderCancel job completes (default: the store's, 0.2 s);
        `access`: the token's scopes and staff permissions (default: everything); `bulk`: how fast
        bulk operations work (SPEC §15)."""
        self.store = store
        # Bulk operations work from a background thread: it and the requests take turns on the store.
        self.lock = threading.RLock()
        self.bulk = BulkEngine(store, self.execute, _resolve, self.lock, bulk)
        self.bulk.compile = self._compile
        if access is not None:
            store.access = access
        self.schema = SCHEMA
        self.schemas = SCHEMAS
        self._last_keys: list[str] = []
        if cancel_delay is not None:
            store.cancel_delay = timedelta(seconds=cancel_delay)

    def execute(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        schema: GraphQLSchema | None = None,
        *,
        field_resolver: Any = None,
    ) -> ExecutionResult:
        """Settle due jobs, refuse malformed ids as Shopify does, then run the validated document
        (`field_resolver`: a bulk query's, which wraps the shop's)."""
        # A request never waits for bulk work: the background thread does it, a slice at a time.
        # Without that thread (in-process tests on a fake clock) the request does what is due.
        with self.lock if field_resolver is not None else self.bulk.turns.request():
            settle(self.store)
            if field_resolver is None and not self.bulk.settings.background:
                self.bulk.advance()
            schema = schema or self.schema
            bad = check_ids(schema, document, variables, operation_name)
            if bad:
                return ExecutionResult(data=None, errors=bad)
            context = Context(self.store, bulk=self.bulk)
            if field_resolver is None:
                self.bulk.last_created = None
            result = execute(
                schema,
                document,
                root_value=ROOT,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                field_resolver=field_resolver or _resolve,
                type_resolver=_type,
            )
        assert not isinstance(result, type(None))
        if field_resolver is None:  # a bulk line's keys are not the last answer's
            self._last_keys = context.keys
        return result  # type: ignore[return-value]

    def _compile(self, plan: BulkQuery) -> Callable[[Any], dict[str, Any]] | None:
        """A bulk query's node plan (bulkexport), or None: its document then runs through graphql-core."""
        if check_ids(self.schema, plan.document, None, None):
            return None
        try:
            return NodePlan(
                self.schema, plan, Context(self.store, bulk=self.bulk), _resolve, type_name
            ).answer
        except Unsupported:
            return None

    def grant(self, access: Access) -> None:
        """The token's scopes and staff permissions from now on."""
        self.store.access = access

    def hold_answer(self, seconds: float) -> None:
        """The last answer is lost: its idempotency keys stay "in progress" for `seconds` of shop time."""
        hold_keys(self.store, self._last_keys, timedelta(seconds=seconds))
        self.bulk.hold(seconds)  # a bulk operation it started appears only once it is processed

    def ledger_json(self) -> dict[str, Any]:
        """GET /_simulator/ledger (SPEC §14)."""
        with self.bulk.turns.request():
            return self._ledger_json()

    def _ledger_json(self) -> dict[str, Any]:
        settle(self.store)
        return {
            "entries": [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat().replace("+00:00", "Z"),
                    "order_id": e.order_id,
                    "order_name": e.order_name,
                    "kind": e.kind,
                    "amount": fmt_plain(e.amount, e.currency or "XXX") if e.amount is not None else None,
                    "currency": e.currency,
                    "method": e.method,
                    "idempotency_key": e.idempotency_key,
                    "replayed": e.replayed,
                    **(e.extra or {}),
                }
                for e in self.store.ledger
            ]
        }

    def orders_json(self) -> dict[str, Any]:
        """GET /_simulator/orders (SPEC §14): amounts in presentment currency."""
        with self.bulk.turns.request():
            return self._orders_json()

    def _orders_json(self) -> dict[str, Any]:
        settle(self.store)
        out = []
        for o in sorted(self.store.orders.values(), key=lambda o: o.id):
            cur = o.presentment_currency
            out.append(
                {
                    "id": gid("Order", o.id),
                    "name": o.name,
                    "test": o.test,
                    "cancelled_at": o.cancelled_at.isoformat().replace("+00:00", "Z")
                    if o.cancelled_at
                    else None,
                    "display_financial_status": acc.financial_status(o),
                    "display_fulfillment_status": acc.fulfillment_status(o),
                    "customer_id": gid("Customer", o.customer_id) if o.customer_id else None,
                    "presentment_currency": cur,
                    "shop_currency": o.currency,
                    "total_refunded": fmt_plain(acc.refunded(o), cur),
                    "refundable": fmt_plain(acc.net_payment(o), cur),
                    "tags": list(o.tags),
                    "claim": parsed_value(find(o, *CLAIM)),
                }
            )
        return {"orders": out}
