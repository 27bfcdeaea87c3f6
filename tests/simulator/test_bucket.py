"""The leaky bucket, driven by a fake clock: no sleeping."""

from __future__ import annotations

import threading

import pytest

from pipeline.simulator.bucket import CostBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_request_spends_its_points_and_a_too_large_one_takes_nothing(clock: Clock) -> None:
    bucket = CostBucket(2000, 100, clock=clock)
    assert bucket.try_spend(1500)
    assert bucket.available() == 500
    assert not bucket.try_spend(501)
    assert bucket.available() == 500
    assert bucket.try_spend(500)
    assert bucket.available() == 0


def test_points_come_back_at_the_restore_rate_up_to_the_maximum(clock: Clock) -> None:
    bucket = CostBucket(2000, 100, clock=clock)
    assert bucket.try_spend(2000)
    clock.now += 2.5
    assert bucket.available() == 250
    assert bucket.seconds_until(500) == pytest.approx(2.5)
    clock.now += 3600
    assert bucket.available() == 2000


def test_a_refund_gives_back_unused_points_but_never_above_the_maximum(clock: Clock) -> None:
    bucket = CostBucket(1000, 50, clock=clock)
    assert bucket.try_spend(300)
    bucket.refund(300 - 120)
    assert bucket.available() == 1000 - 120
    bucket.refund(5000)
    assert bucket.available() == 1000
    bucket.refund(-10)
    assert bucket.available() == 1000


def test_throttle_status_prints_the_numbers_as_shopify_does(clock: Clock) -> None:
    bucket = CostBucket(2000, 100, clock=clock)
    bucket.try_spend(27)
    clock.now += 0.005
    status = bucket.throttle_status()
    assert status == {"maximumAvailable": 2000, "currentlyAvailable": 1973, "restoreRate": 100}
    assert all(type(v) is int for v in status.values())
    assert CostBucket(1000, 12.5, clock=clock).throttle_status()["restoreRate"] == 12.5


def test_the_throttled_answer_has_shopifys_shape(clock: Clock) -> None:
    bucket = CostBucket(2000, 100, clock=clock)
    bucket.try_spend(1990)
    assert bucket.throttled_body(752) == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 752,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 10, "restoreRate": 100},
            }
        },
    }
    assert bucket.cost_extension(10, 8)["actualQueryCost"] == 8


def test_concurrent_spenders_never_overdraw(clock: Clock) -> None:
    bucket = CostBucket(1000, 0, clock=clock)
    granted = []

    def spend() -> None:
        for _ in range(100):
            granted.append(bucket.try_spend(7))

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 1000 // 7
    assert bucket.available() == 1000 % 7


def test_a_bucket_needs_a_size() -> None:
    with pytest.raises(ValueError):
        CostBucket(0, 100)
