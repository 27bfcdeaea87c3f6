"""giftCardSendNotificationToCustomer: sends a card to its customer (payload and codes: 2026-07 schema)."""

from __future__ import annotations

from pipeline.simulator.access import Access
from pipeline.simulator.resolvers import ShopApi
from tests.simulator.factory import add_customer, new_store, run

CREATE = """mutation C($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) { giftCard { id } userErrors { field message code } } }"""
SEND = """mutation S($id: ID!) {
  giftCardSendNotificationToCustomer(id: $id) { giftCard { id } userErrors { field message code } } }"""


def _card(customer: bool = True):  # type: ignore[no-untyped-def]
    store, _ = new_store()
    api = ShopApi(store)
    data = {"initialAmount": {"amount": "10.00", "currencyCode": "EUR"}}
    if customer:
        data["customerId"] = f"gid://shopify/Customer/{add_customer(store).id}"  # type: ignore[assignment]
    card_id = run(api, CREATE, {"input": data})["data"]["giftCardCreate"]["giftCard"]["id"]
    return store, api, card_id


def test_a_notification_is_sent_and_put_in_the_ledger_each_time() -> None:
    _store, api, card_id = _card()
    for _ in range(2):  # a resend mails the customer again, and moves nothing
        out = run(api, SEND, {"id": card_id})["data"]["giftCardSendNotificationToCustomer"]
        assert out == {"giftCard": {"id": card_id}, "userErrors": []}
    sent = [e for e in api.ledger_json()["entries"] if e["kind"] == "gift_card_notification"]
    assert len(sent) == 2 and sent[0]["gift_card_id"] == card_id and sent[0]["amount"] is None


def test_unknown_card_and_card_without_customer_are_refused_with_the_enums_codes() -> None:
    _store, api, _card_id = _card()
    out = run(api, SEND, {"id": "gid://shopify/GiftCard/999"})["data"]["giftCardSendNotificationToCustomer"]
    assert out == {
        "giftCard": None,
        "userErrors": [
            {"field": ["id"], "message": "Gift card does not exist", "code": "GIFT_CARD_NOT_FOUND"}
        ],
    }
    _store, api, card_id = _card(customer=False)
    out = run(api, SEND, {"id": card_id})["data"]["giftCardSendNotificationToCustomer"]
    assert out["userErrors"][0]["code"] == "CUSTOMER_NOT_FOUND"
    assert not [e for e in api.ledger_json()["entries"] if e["kind"] == "gift_card_notification"]


def test_it_needs_the_write_gift_cards_scope() -> None:
    _store, api, card_id = _card()
    api.grant(Access(scopes=("read_orders", "write_orders", "read_gift_cards")))
    out = run(api, SEND, {"id": card_id})
    assert out["data"] == {"giftCardSendNotificationToCustomer": None}
    assert out["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
