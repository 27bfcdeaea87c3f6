"""Approval: the checks and the summary a person confirms, on the typed plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from pipeline.errors import RefusedError
from pipeline.execute.approval import check, summary
from tests.plan.test_files import build_plan

NOW = dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=24)


def test_summary_counts_orders_cancellations_and_money_per_method():
    assert summary(build_plan()) == [
        "plan 20261105-093000-stockout for demo.myshopify.com "
        "(made 2026-11-05T09:30:00Z from stockout é.csv)",
        "  9 orders to process, 1 skipped, 2 blocked",
        "  6 cancellations, 3 refunds without cancelling",
        "  to refund: 5.00 EUR by gift card",
        "  to refund: 100.50 EUR by original payment",
        "  to refund: 10.00 EUR by store credit",
        "  to refund: 1200 JPY by original payment",
        "  to refund: 7.00 USD by gift card",
        "  to refund: 30.00 USD by store credit",
    ]


def test_check_refuses_another_shop_an_old_plan_and_a_total_over_the_limit():
    plan = build_plan()
    check(plan, shop="demo.myshopify.com", now=NOW, max_age=DAY, max_total=D(1200))
    with pytest.raises(RefusedError, match=r"made for demo\.myshopify\.com"):
        check(plan, shop="other.myshopify.com", now=NOW, max_age=DAY)
    with pytest.raises(RefusedError, match="hours old"):
        check(plan, shop="demo.myshopify.com", now=NOW + DAY, max_age=DAY)
    with pytest.raises(RefusedError, match=r"refunds 115\.50 EUR, 1200 JPY, above --max-total 100:"):
        check(plan, shop="demo.myshopify.com", now=NOW, max_age=DAY, max_total=D(100))


def test_a_started_run_resumes_at_any_age_and_is_never_told_to_plan_again():
    plan = build_plan()
    check(plan, shop="demo.myshopify.com", now=NOW + 30 * DAY, max_age=DAY, started=True)
    with pytest.raises(RefusedError, match="made for") as refused:
        check(plan, shop="other.myshopify.com", now=NOW + 30 * DAY, max_age=DAY, started=True)
    assert "plan again" not in str(refused.value)
