"""Money per currency and method: the one rule every summary and file uses."""

from __future__ import annotations

from decimal import Decimal as D

from pipeline.money import in_currency, per_currency, totals


def test_totals_per_currency_and_method_then_per_currency():
    sums = totals(
        [("USD", "original", D("1.50")), ("EUR", "store_credit", D(2)), ("EUR", "original", D("3.25"))]
    )
    assert list(sums) == [("EUR", "original"), ("EUR", "store_credit"), ("USD", "original")]
    assert per_currency(sums) == {"EUR": D("5.25"), "USD": D("1.50")}


def test_in_currency_has_the_currency_decimals():
    assert str(in_currency(D(5), "JPY")) == "5" and str(in_currency(D(5), "EUR")) == "5.00"
