"""The cost governor: one local model of Shopify's leaky bucket, shared by every thread.

A request reserves its estimated cost, waiting (`threading.Condition`) until the model has room beside
every other reservation; each answer's `throttleStatus` corrects the model, kept a lower bound of
Shopify's, so requests wait instead of being THROTTLED while the bucket drains at its restore rate.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql.language import ast as gql
from graphql.utilities import value_from_ast_untyped

Clock = Callable[[], float]
Wait = Callable[[threading.Condition, float | None], Any]
Fragments = dict[str, gql.FragmentDefinitionNode]
MUTATION_COST = 10  # Shopify's flat base cost of any mutation
MAX_QUERY_COST = 1000  # Shopify refuses dearer requests unexecuted, so never reserve more


@dataclass(frozen=True, slots=True)
class QueryCost:
    """One answer's `extensions.cost`; `actual` is None when the request was throttled."""

    requested: float | None
    actual: float | None
    maximum: float | None
    available: float | None
    restore_rate: float | None

    @classmethod
    def from_body(cls, body: Any) -> QueryCost | None:
        """Reads `extensions.cost` from a decoded answer, or None when it has none."""
        try:
            cost = body["extensions"]["cost"]
            status = cost.get("throttleStatus") or {}
            keys = ("maximumAvailable", "currentlyAvailable", "restoreRate")
            values = [cost.get("requestedQueryCost"), cost.get("actualQueryCost"), *map(status.get, keys)]
            return cls(*(None if value is None else float(value) for value in values))
        except (KeyError, TypeError, AttributeError, ValueError):
            return None

    @property
    def has_status(self) -> bool:
        """Whether the answer told us the bucket's state."""
        return None not in (self.maximum, self.available, self.restore_rate)


@dataclass(eq=False, slots=True)
class Reservation:
    """Points held by one request in flight."""

    cost: float
    syncs: int  # how many answers had corrected the model when this request was sent
    # Points of requests that overlapped this one and came back first: Shopify may have charged
    # them after measuring the status that this request's answer reports.
    overlap: float = 0.0


@dataclass(frozen=True, slots=True)
class Pressure:
    """Running totals since the governor was made, for the concurrency controller: requests that
    waited for the bucket and how long, THROTTLED answers, and points charged."""

    waits: int
    waited: float
    throttled: int
    points: float


@dataclass(frozen=True, slots=True)
class BucketSnapshot:
    """What the governor believes now, for progress displays and tests."""

    available: float | None
    maximum: float | None
    restore_rate: float | None
    reserved: float
    in_flight: int


def _wait_on_condition(condition: threading.Condition, timeout: float | None) -> None:
    condition.wait(timeout)


class CostGovernor:
    """Paces every request of one shop so that none is THROTTLED and the bucket stays busy."""

    def __init__(self, *, clock: Clock = time.monotonic, wait: Wait = _wait_on_condition) -> None:
        self._clock = clock
        self._wait = wait
        self._cond = threading.Condition()
        self._level: float | None = None  # points available at `_stamp`, None until the first answer
        self._stamp = 0.0
        self._maximum = math.inf
        self._rate = 0.0
        self._reserved = 0.0
        self._in_flight: set[Reservation] = set()
        self._syncs = 0
        self._pressure = Pressure(0, 0.0, 0, 0.0)
        self._mine = threading.local()  # this thread's seconds waited and points charged
        self._listeners: list[Callable[[BucketSnapshot], None]] = []

    def _projected(self, now: float) -> float:
        assert self._level is not None
        return min(self._maximum, self._level + self._rate * (now - self._stamp))

    def acquire(self, estimated_cost: float | Callable[[], float]) -> Reservation:
        """Blocks until the bucket has room for `estimated_cost` beside the other reservations.

        A callable is asked again after each wait: an estimate made before the first answers (a
        shape's price not learned yet) would otherwise hold out for room it will never need."""
        estimate = estimated_cost if callable(estimated_cost) else (lambda: float(estimated_cost))
        with self._cond:
            started: float | None = None
            while True:
                cost = max(float(estimate()), 0.0)
                timeout = self._delay(cost)
                if timeout == 0.0:
                    break
                started = self._clock() if started is None else started
                self._wait(self._cond, timeout)
            if started is not None:
                waited = self._clock() - started
                p = self._pressure
                self._pressure = Pressure(p.waits + 1, p.waited + waited, p.throttled, p.points)
                self._mine.waited = getattr(self._mine, "waited", 0.0) + waited
            reservation = Reservation(cost, self._syncs)
            self._in_flight.add(reservation)
            self._reserved += cost
            return reservation

    def _delay(self, cost: float) -> float | None:
        """0 to go now, seconds until refill makes room, or None to wait for an answer."""
        if self._level is None:
            # Buckets range from tiny (dev stores, simulator) to 20,000 points: rather than guess,
            # send one probe at a time until an answer tells us the real size.
            return 0.0 if not self._in_flight else None
        need = min(cost, self._maximum)
        room = self._projected(self._clock()) - self._reserved
        if room >= need:
            return 0.0
        if need + self._reserved > self._maximum or self._rate <= 0:
            return None if self._in_flight else 1.0
        return (need - room) / self._rate + 1e-6

    def release(self, reservation: Reservation, cost: QueryCost | None) -> None:
        """Returns a reservation and corrects the model from the answer's cost, if any."""
        with self._cond:
            if reservation not in self._in_flight:
                return
            self._in_flight.discard(reservation)
            self._reserved -= reservation.cost
            charged = max(reservation.cost, (cost.requested or 0.0) if cost else 0.0)
            for other in self._in_flight:
                other.overlap += charged
            self._account(cost)
            now = self._clock()
            if cost is None or not cost.has_status:
                # No news (lost answer, HTML error page): assume it spent what it reserved.
                if self._level is not None:
                    self._level, self._stamp = self._projected(now) - charged, now
            else:
                self._resync(reservation, cost, now)
            self._cond.notify_all()
        for listener in self._listeners:  # outside the lock: a listener may take its own
            listener(self.snapshot())

    def listen(self, listener: Callable[[BucketSnapshot], None]) -> Callable[[], None]:
        """Calls `listener` with the bucket after each answer; returns what stops it."""
        self._listeners = [*self._listeners, listener]  # copied: release reads it without the lock

        def stop() -> None:
            self._listeners = [f for f in self._listeners if f is not listener]

        return stop

    def _account(self, cost: QueryCost | None) -> None:
        spent = cost.actual if cost is not None and cost.actual is not None else 0.0
        throttled = int(cost is not None and cost.has_status and cost.actual is None)
        p = self._pressure
        self._pressure = Pressure(p.waits, p.waited, p.throttled + throttled, p.points + spent)
        self._mine.points = getattr(self._mine, "points", 0.0) + spent

    def throttled(self) -> None:
        """Counts a throttle that came without a cost (HTTP 429)."""
        with self._cond:
            p = self._pressure
            self._pressure = Pressure(p.waits, p.waited, p.throttled + 1, p.points)

    def pressure(self) -> Pressure:
        """The running totals."""
        with self._cond:
            return self._pressure

    def this_thread(self) -> tuple[float, float]:
        """Seconds the calling thread has waited for the bucket, and points its requests were charged."""
        return getattr(self._mine, "waited", 0.0), getattr(self._mine, "points", 0.0)

    def _resync(self, reservation: Reservation, cost: QueryCost, now: float) -> None:
        assert cost.maximum is not None and cost.available is not None and cost.restore_rate is not None
        # `reported` was measured while this request was in flight; requests that came back since
        # may have been charged after it, hence `overlap`. It is a lower bound of what is left.
        reported = cost.available - reservation.overlap
        if self._level is None or reservation.syncs == self._syncs:
            level = reported  # nothing newer is known: the answer is the freshest truth
        elif cost.actual is None:
            level = min(self._projected(now), reported)  # THROTTLED: proof the model was too high
        else:
            # An older measurement than the model's: both are lower bounds, keep the tighter.
            level = max(self._projected(now) - cost.actual, reported)
        self._maximum, self._rate = cost.maximum, cost.restore_rate
        self._level, self._stamp = min(level, self._maximum), now
        self._syncs += 1

    def snapshot(self) -> BucketSnapshot:
        """The current model."""
        with self._cond:
            level = None if self._level is None else self._projected(self._clock())
            maximum = None if self._level is None else self._maximum
            rate = None if self._level is None else self._rate
            return BucketSnapshot(level, maximum, rate, self._reserved, len(self._in_flight))


def static_cost(document: gql.DocumentNode, variables: Mapping[str, Any] | None = None) -> int:
    """Shopify's documented rules: objects 1, scalars 0, connections 2 + first × node, mutations 10."""
    operation = next(d for d in document.definitions if isinstance(d, gql.OperationDefinitionNode))
    values = {
        v.variable.name.value: value_from_ast_untyped(v.default_value)
        for v in operation.variable_definitions or ()
        if v.default_value is not None
    }
    values.update(variables or {})
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, gql.FragmentDefinitionNode)}
    base = MUTATION_COST if operation.operation == gql.OperationType.MUTATION else 0
    return base + _selection_cost(operation.selection_set, values, fragments)


def _argument(node: gql.FieldNode | gql.DirectiveNode, name: str, values: dict[str, Any]) -> Any:
    for argument in node.arguments or ():
        if argument.name.value == name:
            return value_from_ast_untyped(argument.value, values)
    return None


def _included(node: gql.SelectionNode, values: dict[str, Any]) -> bool:
    for directive in node.directives or ():
        condition = bool(_argument(directive, "if", values))
        if (directive.name.value, condition) in (("include", False), ("skip", True)):
            return False
    return True


def _selection_cost(selection_set: gql.SelectionSetNode, values: dict[str, Any], fragments: Fragments) -> int:
    total = 0
    for node in selection_set.selections:
        if not _included(node, values):
            continue
        if isinstance(node, gql.FragmentSpreadNode):
            total += _selection_cost(fragments[node.name.value].selection_set, values, fragments)
        elif isinstance(node, gql.InlineFragmentNode):  # summed, never under-estimated
            total += _selection_cost(node.selection_set, values, fragments)
        elif isinstance(node, gql.FieldNode) and node.selection_set is not None:
            total += _field_cost(node, values, fragments)
    return total


def _field_cost(node: gql.FieldNode, values: dict[str, Any], fragments: Fragments) -> int:
    assert node.selection_set is not None
    sizes = [_argument(node, arg, values) for arg in ("first", "last")]
    ids = _argument(node, "ids", values)
    size = len(ids) if isinstance(ids, list) else next((n for n in sizes if isinstance(n, int)), None)
    if size is None:
        return 1 + _selection_cost(node.selection_set, values, fragments)
    children = node.selection_set.selections
    if any(isinstance(c, gql.FieldNode) and c.name.value in ("nodes", "edges") for c in children):
        # A connection: its `nodes`/`edges` are paid per item, `pageInfo` once.
        paged = [c for c in children if not (isinstance(c, gql.FieldNode) and c.name.value == "pageInfo")]
        per_item = _selection_cost(gql.SelectionSetNode(selections=tuple(paged)), values, fragments)
        return 2 + size * per_item + (len(children) - len(paged))
    return size * (1 + _selection_cost(node.selection_set, values, fragments))


class CostEstimator:
    """Static estimates corrected by the `requestedQueryCost` Shopify answered for the same shape."""

    def __init__(self, history: int = 8) -> None:
        self._lock = threading.Lock()
        self._history = history
        self._ratios: dict[str, dict[int, deque[float]]] = {}

    def estimate(self, name: str, static: int) -> float:
        """Points to reserve for a request of `name` whose static cost is `static`."""
        with self._lock:
            shapes = self._ratios.get(name, {})
            # Shopify prices big pages less than linearly, so a ratio seen on a smaller shape bounds
            # a bigger one; over-reserving costs a little pace, under-reserving a THROTTLED.
            ratios = [max(seen) for size, seen in shapes.items() if size <= static]
            factor = max(ratios) if ratios else 1.0
        return min(max(static, 1) * factor, MAX_QUERY_COST)

    def observe(self, name: str, static: int, requested: float | None) -> None:
        """Learns from one answer's `requestedQueryCost`."""
        if requested is not None and requested > 0:
            with self._lock:
                shapes = self._ratios.setdefault(name, {})
                shapes.setdefault(static, deque(maxlen=self._history)).append(requested / max(static, 1))
