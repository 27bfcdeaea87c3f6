"""One table of words: each sentence keeps the form of a method it has always used."""

from __future__ import annotations

from decimal import Decimal as D

from pipeline.models import RefundMode
from pipeline.plan.steps import Step, StepKind
from pipeline.plan.words import METHODS, TO_PROCESS, by_method, counted, describe, step_words


def test_each_method_has_its_three_forms():
    assert [METHODS[mode].by for mode in METHODS] == ["original payment", "store credit", "gift card"]
    assert METHODS[RefundMode.ORIGINAL].how == "to the original payment"
    assert METHODS[RefundMode.ORIGINAL].customer == "to the original payment method"
    assert METHODS[RefundMode.GIFT_CARD].how == METHODS[RefundMode.GIFT_CARD].customer == "as a gift card"
    assert by_method("store_credit") == "store credit" and by_method("cash") == "cash"


def test_decisions_are_counted_in_words():
    counts = {"execute": 3, "skip": 1, "blocked": 2}
    assert counted(counts) == "3 to execute, 1 skipped, 2 blocked"
    assert counted(counts, execute=TO_PROCESS) == "3 orders to process, 1 skipped, 2 blocked"


def test_steps_in_the_message_and_in_the_files():
    cancel = Step(StepKind.CANCEL, RefundMode.ORIGINAL, D("1250.00"), "EUR", "k0", notify=True)
    card = Step(StepKind.GIFT_CARD, RefundMode.GIFT_CARD, D("5.00"), "EUR", "k1")
    tag = Step(StepKind.TAG, None, None, None, "k2")
    assert (
        describe((cancel, tag))
        == "cancel and refund 1250.00 EUR to the original payment, notify the customer"
    )
    assert step_words(cancel) == "cancel and refund 1,250.00 EUR to the original payment"
    assert [step_words(card), step_words(tag)] == [
        "gift card of 5.00 EUR (not sent: code in gift_card_codes.csv)",
        "tag",
    ]
    sent = Step(StepKind.GIFT_CARD, RefundMode.GIFT_CARD, D("5.00"), "EUR", "k1", notify=True)
    assert step_words(sent) == "gift card of 5.00 EUR"
    assert "warning: the customer is not sent the gift card" in describe((card, tag))
    assert "warning" not in describe((sent, tag))
    assert step_words(Step(StepKind.CANCEL, None, None, None, "k")) == "cancel (no refund)"


def test_a_cancel_of_nothing_paid_a_guest_without_email_and_what_is_kept():
    from pipeline.plan.words import keeps

    voided = Step(StepKind.CANCEL, RefundMode.ORIGINAL, D("0.00"), "EUR", "k0", notify=True)
    tag = Step(StepKind.TAG, None, None, None, "k1")
    assert step_words(voided) == "cancel (authorization voided, nothing to refund)"
    assert describe((voided, tag)) == "cancel (authorization voided, nothing to refund), notify the customer"
    guest = Step(StepKind.CANCEL, RefundMode.ORIGINAL, D("12.00"), "EUR", "k0", notify=True)
    assert "notify the customer" not in describe((guest, tag), can_notify=False)
    assert keeps(D("1159.94"), D("1172.44"), "EUR") == "keeps 1,159.94 of 1,172.44 EUR"
    assert keeps(D(900), D(1200), "JPY") == "keeps 900 of 1,200 JPY"
