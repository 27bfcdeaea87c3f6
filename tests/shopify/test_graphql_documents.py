"""Every document the client sends parses, is one named operation, and is valid on Shopify's schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import NoDeprecatedCustomRule, OperationDefinitionNode, parse, validate

from pipeline.shopify import load_document

GRAPHQL = Path(__file__).parents[2] / "pipeline" / "shopify"
DOCUMENTS = sorted(GRAPHQL.rglob("*.graphql"))
IDS = [p.stem for p in DOCUMENTS]


def test_the_documents_the_pipeline_needs_are_there():
    expected = {
        "OrdersByName", "OrdersByIds", "OrderForRefund", "OrderCancel", "RefundCreate", "GiftCardCreate",
        "GiftCardsByQuery", "TagsAdd", "OrderCancelled", "OrderDriftRead", "OrdersReconcile", "CancelJob",
        "OrderSincePlan", "GiftCardSendNotification",
    }  # fmt: skip
    assert expected <= set(IDS)


@pytest.mark.parametrize("path", DOCUMENTS, ids=IDS)
def test_one_named_operation_named_like_its_file(path: Path):
    operations = [
        d
        for d in parse(path.read_text(encoding="utf-8")).definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    assert len(operations) == 1
    assert operations[0].name is not None and operations[0].name.value == path.stem
    assert load_document(path.stem).text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", DOCUMENTS, ids=IDS)
def test_valid_on_shopify_real_schema_without_deprecated_fields(path: Path, real_schema):
    document = parse(path.read_text(encoding="utf-8"))
    assert [str(e) for e in validate(real_schema, document)] == []
    # Deprecated fields disappear in later versions; the documents must outlive 2026-07.
    assert [str(e) for e in validate(real_schema, document, [NoDeprecatedCustomRule])] == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=IDS)
def test_every_refund_create_carries_an_idempotency_key(path: Path):
    text = path.read_text(encoding="utf-8")
    if "refundCreate" in text:
        assert "@idempotent(key: $idempotencyKey)" in text
        assert "$idempotencyKey: String!" in text


@pytest.mark.parametrize("path", DOCUMENTS, ids=IDS)
def test_valid_on_the_simulators_schema(path: Path):
    """The simulator serves every document the pipeline sends (it runs without ../shared too)."""
    from graphql import build_schema

    from pipeline.simulator.subset import SCHEMA_PATH

    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert [str(e) for e in validate(schema, parse(path.read_text(encoding="utf-8")))] == []
