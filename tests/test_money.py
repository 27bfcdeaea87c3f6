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


def test_exact_writes_the_currency_decimals_and_never_rounds_a_digit_away():
    from pipeline.money import exact

    assert str(exact(D("393.1"), "EUR")) == "393.10" and str(exact(D("77990.0"), "JPY")) == "77990"
    assert str(exact(D("5.123"), "EUR")) == "5.123" and str(exact(D("5"), None)) == "5.00"
