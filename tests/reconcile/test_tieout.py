"""The tie-out: totals that do not tie out with the plan or the transactions raise TieOutError."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.errors import PipelineError, TieOutError
from pipeline.money import Money
from pipeline.reconcile.model import ReconciledRow, Reconciliation, RefundTransaction
from pipeline.reconcile.tieout import check_ties_out

EUR = Decimal("50.00")


def result(refunded=EUR):
    row = ReconciledRow(2, "#1", "matched", "", currency="EUR", method="original", planned=EUR)
    tx = RefundTransaction(
        order_id="o",
        order_name="#1",
        refund_id="r",
        refund_created_at="",
        transaction_id="t",
        parent_transaction_id=None,
        gateway="shopify_payments",
        kind="REFUND",
        status="SUCCESS",
        amount=Money(refunded, "EUR"),
        shop_amount=None,
        processed_at=None,
        method="original",
        origin="cancel",
        action_key="k",
    )
    return Reconciliation("run", [row], [tx])


TOTALS = [{"currency": "EUR", "method": "original", "planned": EUR, "refunded": EUR}]


def test_totals_that_tie_out_pass():
    check_ties_out({("EUR", "original"): EUR}, result(), TOTALS)


def test_planned_totals_that_differ_from_the_plan_raise():
    with pytest.raises(TieOutError, match="does not tie out with the plan"):
        check_ties_out({("EUR", "original"): Decimal("49.00")}, result(), TOTALS)


def test_refunded_totals_that_differ_from_the_transactions_raise():
    with pytest.raises(TieOutError, match="refunded EUR") as caught:
        check_ties_out({("EUR", "original"): EUR}, result(refunded=Decimal("45.00")), TOTALS)
    assert isinstance(caught.value, PipelineError) and caught.value.exit_code == 1


def test_a_gift_card_counts_as_refunded_as_a_movement_of_its_own():
    card = ReconciledRow(
        3, "#2", "matched", "", currency="EUR", method="gift_card", gift_card_value=EUR, refunded_shop=EUR
    )
    issued = RefundTransaction(
        "o2",
        "#2",
        "",
        "",
        "gid://shopify/GiftCard/1",
        None,
        "gift_card",
        "GIFT_CARD",
        "SUCCESS",
        Money(EUR, "EUR"),
        Money(EUR, "EUR"),
        None,
        "gift_card",
        "gift card step",
        "k",
    )
    with_card = Reconciliation("run", [*result().rows, card], [*result().transactions, issued])
    totals = [*TOTALS, {"currency": "EUR", "method": "gift_card", "planned": EUR, "refunded": EUR}]
    check_ties_out({("EUR", "original"): EUR, ("EUR", "gift_card"): EUR}, with_card, totals)
    with pytest.raises(TieOutError, match="refunded EUR"):
        check_ties_out({("EUR", "original"): EUR, ("EUR", "gift_card"): EUR}, result(), totals)
