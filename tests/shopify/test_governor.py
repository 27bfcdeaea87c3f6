"""The cost governor: a fake clock, a fake Shopify bucket, and counters instead of timings."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import httpx
import pytest
from graphql import parse

from pipeline.settings import ConnectionSettings
from pipeline.shopify import CostGovernor, QueryCost, ShopifyClient, execute_with_retry, retrying
from pipeline.shopify.governor import CostEstimator, static_cost

SETTINGS = ConnectionSettings.from_options(shop="mystore", environ={"SHOPIFY_ACCESS_TOKEN": "shpat_test"})


class FakeClock:
    """Time that moves only when a waiting thread says how long it would sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        if timeout is None:
            condition.wait(0.05)  # an answer from another thread is due; bounded so a bug cannot hang
        else:
            self.advance(timeout)


class FakeShopify:
    """Shopify's leaky bucket: requested cost checked first, actual cost kept, THROTTLED when short."""

    COSTS: ClassVar[dict[str, tuple[int, int]]] = {
        "TagsAdd": (10, 10),
        "OrderCancelled": (1, 1),
        "OrderDriftRead": (3, 2),
    }  # requested, actual

    def __init__(self, clock: FakeClock, maximum: float, rate: float) -> None:
        self.clock, self.maximum, self.rate = clock, maximum, rate
        self.level, self.stamp = maximum, clock()
        self.requests = self.throttled = 0
        self.spent = 0.0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        name = re.search(r"^(?:query|mutation) (\w+)", json.loads(request.content)["query"], re.M)[1]
        requested, actual = self.COSTS[name]
        with self._lock:
            now = self.clock()
            self.level = min(self.maximum, self.level + self.rate * (now - self.stamp))
            self.stamp = now
            self.requests += 1
            status = {"maximumAvailable": self.maximum, "restoreRate": self.rate}
            if requested > self.level:
                self.throttled += 1
                cost = {"requestedQueryCost": requested, "actualQueryCost": None}
                cost["throttleStatus"] = {**status, "currentlyAvailable": self.level}
                error = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
                return httpx.Response(200, json={"errors": [error], "extensions": {"cost": cost}})
            self.level -= actual
            self.spent += actual
            cost = {"requestedQueryCost": requested, "actualQueryCost": actual}
            cost["throttleStatus"] = {**status, "currentlyAvailable": self.level}
        return httpx.Response(200, json={"data": {}, "extensions": {"cost": cost}})


@pytest.mark.parametrize(("maximum", "rate", "threads"), [(50, 10, 8), (400, 100, 16), (30, 5, 4)])
def test_many_threads_small_bucket_never_throttled_and_drained_at_the_restore_rate(maximum, rate, threads):
    clock = FakeClock()
    shopify = FakeShopify(clock, maximum, rate)
    governor = CostGovernor(clock=clock, wait=clock.wait)
    client = ShopifyClient(SETTINGS, transport=httpx.MockTransport(shopify), governor=governor)
    policy = retrying(sleep=clock.advance)
    calls = [
        ("TagsAdd", {"id": "gid://shopify/Order/1", "tags": ["bulkcancel"]}, True),
        ("OrderDriftRead", {"id": "gid://shopify/Order/1"}, False),
        ("OrderCancelled", {"id": "gid://shopify/Job/1"}, False),
    ] * 100
    with ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(execute_with_retry, client, name, variables, mutation=mutation, policy=policy)
            for name, variables, mutation in calls
        ]
        results = [f.result() for f in futures]  # a ThrottledError reaching a caller would raise here
    assert len(results) == len(calls)
    assert shopify.throttled == 0
    assert shopify.requests == len(calls)
    # Everything beyond the initial full bucket had to come from refill: how busy was the bucket?
    busy = (shopify.spent - maximum) / (rate * clock.now)
    assert busy >= 0.9, f"bucket used at {busy:.0%} of its restore rate"
    assert governor.snapshot().in_flight == 0


class Blocked(Exception):
    """Raised by a wait function instead of sleeping: the governor would have waited this long."""


def refuse_to_wait(condition: threading.Condition, timeout: float | None) -> None:
    raise Blocked(timeout)


def status(available: float, *, requested: float = 10, actual: float | None = 10) -> QueryCost:
    return QueryCost(requested, actual, maximum=200.0, available=available, restore_rate=10.0)


def test_before_the_first_answer_only_one_probe_is_in_flight():
    governor = CostGovernor(clock=lambda: 0.0, wait=refuse_to_wait)
    probe = governor.acquire(10)
    with pytest.raises(Blocked) as caught:
        governor.acquire(10)
    assert caught.value.args == (None,)  # waits for the probe's answer, not for a guessed refill
    governor.release(probe, status(190))
    governor.acquire(10)
    assert governor.snapshot().available == 190


def test_waits_exactly_for_the_refill_it_needs():
    governor = CostGovernor(clock=lambda: 0.0, wait=refuse_to_wait)
    governor.release(governor.acquire(10), status(5))
    with pytest.raises(Blocked) as caught:
        governor.acquire(10)
    assert caught.value.args[0] == pytest.approx(0.5, abs=1e-3)  # 5 points missing at 10 points/s


def test_an_answer_measured_earlier_does_not_raise_the_model():
    governor = CostGovernor(clock=lambda: 0.0, wait=refuse_to_wait)
    governor.release(governor.acquire(10), status(200))
    first, second = governor.acquire(10), governor.acquire(10)
    # Shopify charged `first` (190 left) then `second` (180 left); `second`'s answer arrives first.
    governor.release(second, status(180))
    assert governor.snapshot().available - governor.snapshot().reserved <= 180
    governor.release(first, status(190))
    assert governor.snapshot().available == 180


def test_throttled_answer_resyncs_and_lost_answer_is_assumed_spent():
    governor = CostGovernor(clock=lambda: 0.0, wait=refuse_to_wait)
    governor.release(governor.acquire(10), status(200))
    governor.release(governor.acquire(50), status(20, requested=50, actual=None))  # THROTTLED
    assert governor.snapshot().available == 20
    governor.release(governor.acquire(10), None)  # timeout: it may have been charged
    assert governor.snapshot().available == 10


def test_the_model_refills_at_the_restore_rate_up_to_the_maximum():
    clock = FakeClock()
    governor = CostGovernor(clock=clock, wait=refuse_to_wait)
    governor.release(governor.acquire(10), status(0))
    clock.advance(3)
    assert governor.snapshot().available == 30
    clock.advance(100)
    assert governor.snapshot().available == 200


def test_static_cost_follows_shopify_documented_rules():
    query = parse(
        "query Q($ids: [ID!]!, $n: Int = 5, $more: Boolean = false) {"
        " nodes(ids: $ids) { id ... on Order { customer { id } } }"
        " orders(first: $n) { nodes { id } pageInfo { hasNextPage } }"
        " shop @include(if: $more) { id } }"
    )
    assert static_cost(query, {"ids": ["a", "b"]}) == 2 * (1 + 1) + (2 + 5 * 1 + 1)
    assert static_cost(query, {"ids": [], "more": True, "n": 1}) == (2 + 1 + 1) + 1
    mutation = parse("mutation M { tagsAdd(id: 1, tags: []) { node { id } userErrors { field } } }")
    assert static_cost(mutation) == 10 + 3


def test_estimates_learn_from_what_shopify_asked_for_the_same_shape():
    estimator = CostEstimator()
    assert estimator.estimate("OrdersByIds", 500) == 500  # nothing learnt: the static rules
    estimator.observe("OrdersByIds", 500, 100)
    assert estimator.estimate("OrdersByIds", 500) == 100
    assert estimator.estimate("OrdersByIds", 1000) == 200  # a bigger shape: the smaller one's ratio bounds it
    assert estimator.estimate("OrdersByIds", 50) == 50  # a smaller shape: nothing bounds it yet
    assert estimator.estimate("OrdersByIds", 5000) == 1000  # never more than Shopify would accept


def test_an_estimate_is_asked_again_after_each_wait():
    # Requests queued before a shape's price was learned (1,000 points: the cap) must not hold out
    # for that much room once the first answer has taught the estimator the real price.
    governor = CostGovernor(clock=lambda: 0.0, wait=refuse_to_wait)
    governor.release(governor.acquire(10), status(50))
    estimate = [150.0]
    waits: list[float | None] = []

    def learn_while_waiting(condition: threading.Condition, timeout: float | None) -> None:
        waits.append(timeout)
        estimate[0] = 20.0  # an answer came back meanwhile: the estimator knows better now

    governor._wait = learn_while_waiting
    reservation = governor.acquire(lambda: estimate[0])
    assert len(waits) == 1 and reservation.cost == 20.0
    assert governor.pressure().waits == 1  # counted for the concurrency controller


def test_pressure_counts_throttled_answers_and_points():
    governor = CostGovernor(clock=lambda: 0.0, wait=refuse_to_wait)
    governor.release(governor.acquire(10), status(150, actual=7))
    governor.release(governor.acquire(10), status(140, actual=None))  # THROTTLED: not executed
    governor.throttled()  # an HTTP 429, which has no cost
    pressure = governor.pressure()
    assert (pressure.throttled, pressure.points) == (2, 7.0)
    assert governor.this_thread() == (0.0, 7.0)


def test_listeners_hear_the_bucket_after_each_answer_until_stopped():
    governor = CostGovernor(clock=lambda: 0.0, wait=refuse_to_wait)
    heard: list[float | None] = []
    stop = governor.listen(lambda bucket: heard.append(bucket.available))
    governor.release(governor.acquire(10), status(190))
    governor.release(governor.acquire(10), status(180))
    stop()
    governor.release(governor.acquire(10), status(170))
    assert heard == [190, 180]
