"""Shopify's search syntax for `orders(query:)` / `giftCards(query:)`, sorting and cursor pages.

Syntax (shopify.dev/docs/api/usage/search-syntax): whitespace is AND, explicit AND/OR/NOT, `-term`,
parentheses, `field:value`, quoted values, comparators `:>` `:>=` `:<` `:<=`. `name:` is loose like
Shopify's: a leading `#` is ignored and the value matches as a prefix (`name:1001` finds `#10010`).
"""

from __future__ import annotations

import base64
import bisect
import functools
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError

from pipeline.simulator import accounting as acc
from pipeline.simulator.store import Order, Store

Term = tuple[str | None, str, str]  # (field or None for free text, comparator, value)
Node = tuple[Any, ...]
_TOKEN = re.compile(r'\s*(\(|\)|-?(?:[\w.]+:(?:[<>]=?)?)?(?:"[^"]*"|\'[^\']*\'|[^\s()]+)|\S)')
MAX_PAGE = 250


def parse(query: str | None) -> Node | None:
    """A tree of ("and", …), ("or", …), ("not", x), ("term", Term); None for an empty query."""
    tokens = [t for t in _TOKEN.findall(query or "") if t]
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def expr() -> Node:
        nonlocal pos
        parts = [conj()]
        while peek() == "OR":
            pos += 1
            parts.append(conj())
        return parts[0] if len(parts) == 1 else ("or", *parts)

    def conj() -> Node:
        nonlocal pos
        parts = [unary()]
        while peek() not in (None, "OR", ")"):
            if peek() == "AND":
                pos += 1
            parts.append(unary())
        return parts[0] if len(parts) == 1 else ("and", *parts)

    def unary() -> Node:
        nonlocal pos
        tok = peek()
        if tok == "NOT":
            pos += 1
            return ("not", unary())
        if tok == "(":
            pos += 1
            inner = expr()
            if peek() == ")":
                pos += 1
            return inner
        pos += 1
        if tok is None or tok == ")":
            return ("and",)
        if tok.startswith("-") and len(tok) > 1:
            return ("not", ("term", _term(tok[1:])))
        return ("term", _term(tok))

    return expr() if tokens else None


def _term(tok: str) -> Term:
    m = re.match(r"^([\w.]+):([<>]=?)?(.*)$", tok)
    name, op, value = (m.group(1).lower(), m.group(2) or "=", m.group(3)) if m else (None, "=", tok)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return (name, op, value)


def evaluate(node: Node | None, match: Callable[[Term], bool]) -> bool:
    if node is None:
        return True
    kind = node[0]
    if kind == "term":
        return match(node[1])
    if kind == "not":
        return not evaluate(node[1], match)
    if kind == "or":
        return any(evaluate(n, match) for n in node[1:])
    return all(evaluate(n, match) for n in node[1:])


def orders_found(store: Store, query: str | None) -> list[Order]:
    """The orders `query` finds, in no particular order."""
    tree = parse(query)
    prefixes = name_prefixes(tree)
    if prefixes is not None:  # the planner's OR-joined names: same answer, from an index
        return name_index(store.orders).find(prefixes)
    emails = {c.id: c.email for c in store.customers.values()}
    return [
        o
        for o in store.orders.values()
        if evaluate(tree, functools.partial(order_matches, o, customer_email=emails.get(o.customer_id or -1)))
    ]


def _norm_name(value: str) -> str:
    return value.strip().lstrip("#").casefold()


def name_prefixes(node: Node | None) -> list[str] | None:
    """The normalised values of a query made only of OR-joined `name:` terms (the planner's
    lookup), so it can be answered from a sorted index; None for any other query."""
    if node is None:
        return None
    if node[0] == "term":
        field, _op, value = node[1]
        return [_norm_name(value)] if field == "name" else None
    if node[0] != "or":
        return None
    values: list[str] = []
    for child in node[1:]:
        more = name_prefixes(child)
        if more is None:
            return None
        values.extend(more)
    return values


class NameIndex:
    """A shop's orders sorted by normalised name; valid while no order is added (names are fixed
    once seeded), which `current` checks."""

    def __init__(self, orders: dict[int, Order]) -> None:
        self.orders = orders  # held: its id keys the cache
        self._token = self._count(orders)
        self._position = {number: at for at, number in enumerate(orders)}
        index = sorted((_norm_name(o.name), o.id) for o in orders.values())
        self._keys = [key for key, _ in index]
        self._ids = [number for _, number in index]

    @staticmethod
    def _count(orders: dict[int, Order]) -> tuple[int, int | None]:
        return len(orders), next(reversed(orders), None)

    def current(self, orders: dict[int, Order]) -> bool:
        return orders is self.orders and self._count(orders) == self._token

    def find(self, prefixes: list[str]) -> list[Order]:
        """The orders (in the shop's order) whose normalised name starts with any prefix."""
        found: set[int] = set()
        for prefix in prefixes:
            at = bisect.bisect_left(self._keys, prefix)
            while at < len(self._keys) and self._keys[at].startswith(prefix):
                found.add(self._ids[at])
                at += 1
        return [self.orders[n] for n in sorted(found, key=self._position.__getitem__)]


_indexes: list[NameIndex] = []  # the latest few shops' (tests make many)
INDEXES_KEPT = 4


def name_index(orders: dict[int, Order]) -> NameIndex:
    """The index of these orders, built again only when an order was added."""
    for index in _indexes:
        if index.current(orders):
            return index
    index = NameIndex(orders)
    _indexes[:] = [index, *(i for i in _indexes if i.orders is not orders)][:INDEXES_KEPT]
    return index


def _compare(left: Any, op: str, right: Any) -> bool:
    results: dict[str, bool] = {
        "=": left == right,
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }
    return results[op]


def _when(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def order_matches(order: Order, term: Term, customer_email: str | None = None) -> bool:
    """One search term against one order; unknown fields are ignored, as Shopify does."""
    name, op, value = term
    low = value.casefold()
    if name is None:
        email = (order.email or customer_email or "").casefold()
        return _norm_name(value) in _norm_name(order.name) or low in email
    if name == "name":
        return _norm_name(order.name).startswith(_norm_name(value))
    if name == "id":
        digits = value.rsplit("/", 1)[-1]
        return digits.isdigit() and _compare(order.id, op, int(digits))
    if name == "status":
        closed = order.closed_at is not None
        return {
            "open": not closed,
            "closed": closed,
            "cancelled": order.cancelled_at is not None,
            "not_closed": not closed,
            "any": True,
        }.get(low, True)
    if name == "test":
        return order.test == (low == "true")
    if name == "tag":
        return any(t.casefold() == low for t in order.tags)
    if name == "tag_not":
        return all(t.casefold() != low for t in order.tags)
    if name == "email":
        return (order.email or "").casefold() == low
    if name == "customer_id":
        return str(order.customer_id) == value.rsplit("/", 1)[-1]
    if name == "sku":
        return any((li.sku or "").casefold() == low for li in order.line_items)
    if name == "financial_status":
        return (acc.financial_status(order) or "").casefold() == low
    if name == "fulfillment_status":
        status = acc.fulfillment_status(order).casefold()
        return status == low or (low == "shipped" and status == "fulfilled")
    if name in ("created_at", "updated_at", "processed_at"):
        when = _when(value)
        return when is None or _compare(getattr(order, name), op, when)
    return True


_SORT: dict[str, Callable[[Order], Any]] = {
    "ID": lambda o: o.id,
    "CREATED_AT": lambda o: o.created_at,
    "PROCESSED_AT": lambda o: o.processed_at,
    "UPDATED_AT": lambda o: o.updated_at,
    "ORDER_NUMBER": lambda o: o.number,
}


def sort_value(item: Any, key: str) -> Any:
    return _SORT.get(key, _SORT["ID"])(item) if isinstance(item, Order) else item.id


def _cursor_value(value: Any) -> Any:
    """Recorded cursors hold {"last_id", "last_value"}, dates as epoch milliseconds."""
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else value


def cursor(item: Any, key: str) -> str:
    payload = {"last_id": item.id, "last_value": _cursor_value(sort_value(item, key))}
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def page(
    items: Sequence[Any],
    sort_key: str,
    reverse: bool,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> tuple[list[Any], bool, bool]:
    """(slice, hasNextPage, hasPreviousPage) of the sorted items, Shopify-style cursors."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for n in (first, last):
        if n is not None and (n < 0 or n > MAX_PAGE):  # inferred wording; the 250 cap is documented
            raise GraphQLError(
                f"The first or last argument must be between 0 and {MAX_PAGE}",
                extensions={"code": "BAD_REQUEST"},
            )
    ordered = sorted(items, key=lambda i: (_cursor_value(sort_value(i, sort_key)), i.id), reverse=reverse)
    keys = [(_cursor_value(sort_value(i, sort_key)), i.id) for i in ordered]
    start, end = 0, len(ordered)
    if after:
        mark = _decode(after)
        start = next((k for k, v in enumerate(keys) if (v > mark) != reverse and v != mark), len(keys))
    if before:
        mark = _decode(before)
        end = next((k for k, v in enumerate(keys) if (v >= mark) != reverse or v == mark), len(keys))
    window = ordered[start:end]
    has_prev, has_next = start > 0, end < len(ordered)
    if first is not None:
        has_next = has_next or len(window) > first
        window = window[:first]
    if last is not None:
        has_prev = has_prev or len(window) > last
        window = window[len(window) - last :] if last else []
    return window, has_next, has_prev


def _decode(token: str) -> tuple[Any, int]:
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
        return (data["last_value"], int(data["last_id"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError("Invalid cursor provided.", extensions={"code": "BAD_REQUEST"}) from exc
