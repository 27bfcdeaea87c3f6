"""The concurrency controller as a pure decision: readings in, the next number of orders at once out."""

from __future__ import annotations

import threading

import pytest

from pipeline.shopify.concurrency import (
    HEADROOM,
    START,
    ConcurrencyController,
    Gate,
    Reading,
    little,
    next_limit,
)


def free(level: float = 1.0) -> Reading:
    """An order that never waited for the bucket: 0.7 s, 23 points, at 200 points/s."""
    return Reading(waited=False, service=0.7, points=23.0, level=level, restore_rate=200.0)


def queued() -> Reading:
    """An order whose requests waited for the bucket (it ran dry)."""
    return Reading(waited=True, service=0.7, points=23.0, level=0.0, restore_rate=200.0)


def test_little_s_law_orders_in_flight_that_spend_the_restore_rate() -> None:
    assert little(1000.0, 0.7, 23.0) == pytest.approx(30.43, abs=0.01)
    assert little(None, 0.7, 23.0) is None  # no answer yet: no restore rate
    assert little(100.0, None, 23.0) is None
    assert little(100.0, 0.7, 0.0) is None


def test_it_starts_low_and_raises_one_an_order_while_the_bucket_is_full() -> None:
    controller = ConcurrencyController(ceiling=500)
    assert controller.limit == START
    # Before any restore rate is known, no Little's-law floor: only the additive steps.
    unknown = Reading(waited=False, service=0.7, points=23.0)
    assert [controller.observe(unknown) for _ in range(3)] == [START + 1, START + 2, START + 3]


def test_little_s_law_is_the_floor_once_the_rate_is_known() -> None:
    controller = ConcurrencyController(ceiling=500)
    # 1,000 points/s, 0.7 s and 23 points an order: 30.4 orders in flight spend the rate.
    reading = Reading(waited=False, service=0.7, points=23.0, level=1.0, restore_rate=1000.0)
    assert controller.observe(reading) == int(30.43 * HEADROOM)


def test_below_half_a_bucket_the_increase_is_additive() -> None:
    # +1/limit an order, i.e. +1 a round of `limit` orders.
    low = next_limit(10.0, waited=False, throttled=0, level=0.2, need=None, ceiling=64)
    assert low == pytest.approx(10.1)
    assert next_limit(10.0, waited=False, throttled=0, level=0.8, need=None, ceiling=64) == 11.0


def test_waiting_for_the_bucket_lowers_it_but_never_below_little_s_law() -> None:
    need = little(200.0, 0.7, 23.0)  # 6.1 orders
    assert need is not None
    lowered = next_limit(40.0, waited=True, throttled=0, level=0.0, need=need, ceiling=64)
    assert lowered == pytest.approx(36.0)
    assert next_limit(8.0, waited=True, throttled=0, level=0.0, need=need, ceiling=64) == pytest.approx(
        need * HEADROOM
    )
    # Nor is it raised while requests queue, even below the floor.
    assert next_limit(3.0, waited=True, throttled=0, level=0.0, need=need, ceiling=64) == 3.0


def test_a_run_of_waiting_orders_settles_on_the_floor() -> None:
    controller = ConcurrencyController(ceiling=64)
    for _ in range(60):
        controller.observe(free())
    assert controller.limit == 64  # the bucket never ran dry: up to the ceiling
    for _ in range(100):
        controller.observe(queued())
    need = little(200.0, 0.7, 23.0)
    assert need is not None
    assert controller.limit == int(need * HEADROOM)


def test_throttled_halves_it_even_above_the_floor() -> None:
    assert next_limit(40.0, waited=False, throttled=1, level=0.9, need=30.0, ceiling=64) == 20.0
    assert next_limit(1.0, waited=True, throttled=3, level=0.0, need=None, ceiling=64) == 1.0


@pytest.mark.parametrize("ceiling", [1, 5, 64])
def test_the_ceiling_is_never_passed(ceiling: int) -> None:
    controller = ConcurrencyController(ceiling=ceiling)
    limits = [controller.observe(free()) for _ in range(200)]
    fast = Reading(waited=False, service=5.0, points=1.0, level=1.0, restore_rate=2000.0)
    limits.append(controller.observe(fast))  # Little's law asks for 10,000
    assert max(limits) == ceiling and controller.limit == ceiling


def test_smoothing_keeps_one_slow_order_from_swinging_the_floor() -> None:
    controller = ConcurrencyController(ceiling=500)
    for _ in range(30):
        controller.observe(queued())
    settled = controller.limit
    controller.observe(Reading(waited=True, service=7.0, points=23.0, level=0.0, restore_rate=200.0))
    assert controller.limit == settled  # a 10× slower order: the floor moves, the figure is not raised


def test_the_gate_lets_in_no_more_than_the_figure() -> None:
    controller = ConcurrencyController(ceiling=2, start=2)
    gate = Gate(controller)
    gate.enter()
    gate.enter()
    third_in = threading.Event()

    def third() -> None:
        gate.enter()
        third_in.set()

    waiter = threading.Thread(target=third, daemon=True)
    waiter.start()
    assert not third_in.is_set()  # held at the gate while two are inside
    gate.leave(None)
    assert third_in.wait(10)
    waiter.join(10)


def test_slow_start_raises_it_per_answer_while_the_bucket_is_plentiful() -> None:
    controller = ConcurrencyController(ceiling=8)
    assert controller.answered(None) == START  # no answer with a bucket yet: nothing known
    assert [controller.answered(0.9) for _ in range(5)] == [START + 1, START + 2, START + 3, 8, 8]


def test_slow_start_ends_when_the_bucket_falls_below_half() -> None:
    controller = ConcurrencyController(ceiling=500)
    assert controller.answered(0.4) == START
    assert controller.answered(1.0) == START  # over: only finished orders raise it now


def test_slow_start_ends_at_the_first_order_that_waited_for_the_bucket() -> None:
    controller = ConcurrencyController(ceiling=500)
    controller.observe(queued())
    settled = controller.limit
    assert controller.answered(1.0) == settled


def test_an_answer_with_room_lets_waiting_callers_through_the_gate() -> None:
    gate = Gate(ConcurrencyController(ceiling=4, start=1))
    gate.enter()
    second_in = threading.Event()

    def second() -> None:
        gate.enter()
        second_in.set()

    waiter = threading.Thread(target=second, daemon=True)
    waiter.start()
    assert not second_in.is_set()  # held while one is inside
    gate.answered(1.0)  # slow start: the figure is now 2, without any caller leaving
    assert second_in.wait(10)
    waiter.join(10)
