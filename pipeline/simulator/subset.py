"""The part of Shopify's Admin schema the simulator serves, and the cutter that takes it out.

`schema.graphql` beside this file is generated from Shopify's real SDL by `cut()`:
python -m pipeline.simulator.subset ../shared/shopify/admin-2026-07.schema.graphql
python -m pipeline.simulator.subset ../shared/shopify/admin-2026-04.schema.graphql 2026-04  (2026-04)
Object types keep only the fields listed here (with all their arguments); input objects, enums
and scalars they reach are taken whole; descriptions are dropped. Nothing is invented.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from graphql import parse, print_ast
from graphql.language import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
)

from pipeline.simulator.versions import DEFAULT_VERSION, SCHEMA_FILES

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
DIRECTIVES = ("idempotent",)

_MONEY = ("presentmentMoney", "shopMoney")
_PAGE = ("nodes", "edges", "pageInfo")
_BUILTIN = {"String", "Boolean", "Int", "Float", "ID"}

#: object and interface types → the fields the simulator serves.
FIELDS: dict[str, tuple[str, ...]] = {
    "QueryRoot": (
        "order",
        "orders",
        "node",
        "nodes",
        "job",
        "giftCard",
        "giftCards",
        "customer",
        "shop",
        "location",
        "currentAppInstallation",
        "storeCreditConfiguration",
        "publicApiVersions",
        "shopifyPaymentsAccount",
        "bulkOperation",
        "bulkOperations",
        "ordersCount",
    ),
    "Count": ("count", "precision"),
    "Shop": (
        "id",
        "name",
        "myshopifyDomain",
        "currencyCode",
        "enabledPresentmentCurrencies",
        "customerAccountsV2",
    ),
    "CustomerAccountsV2": ("customerAccountsVersion",),
    "StoreCreditConfiguration": ("storeCreditEnabled",),
    "AppInstallation": ("id", "accessScopes"),
    "AccessScope": ("handle", "description"),
    "ApiVersion": ("handle", "displayName", "supported"),
    "Location": ("id", "legacyResourceId", "name", "isActive", "isPrimary"),
    "FulfillmentOrder": ("id", "status", "assignedLocation", "lineItems"),
    "FulfillmentOrderAssignedLocation": ("location", "name"),
    "FulfillmentOrderConnection": _PAGE,
    "FulfillmentOrderEdge": ("cursor", "node"),
    "FulfillmentOrderLineItem": ("id", "lineItem", "totalQuantity", "remainingQuantity"),
    "FulfillmentOrderLineItemConnection": _PAGE,
    "FulfillmentOrderLineItemEdge": ("cursor", "node"),
    "Mutation": (
        "orderCancel",
        "refundCreate",
        "giftCardCreate",
        "giftCardSendNotificationToCustomer",
        "tagsAdd",
        "orderUpdate",
        "metafieldsSet",
        "stagedUploadsCreate",
        "bulkOperationRunQuery",
        "bulkOperationRunMutation",
        "bulkOperationCancel",
    ),
    "Node": ("id",),
    "Order": (
        "id",
        "legacyResourceId",
        "name",
        "number",
        "createdAt",
        "updatedAt",
        "processedAt",
        "cancelledAt",
        "cancelReason",
        "cancellation",
        "closed",
        "closedAt",
        "test",
        "email",
        "phone",
        "note",
        "poNumber",
        "tags",
        "customAttributes",
        "customer",
        "canNotifyCustomer",
        "displayFinancialStatus",
        "displayFulfillmentStatus",
        "returnStatus",
        "currencyCode",
        "presentmentCurrencyCode",
        "paymentGatewayNames",
        "capturable",
        "refundable",
        "restockable",
        "fullyPaid",
        "unpaid",
        "totalPriceSet",
        "currentTotalPriceSet",
        "subtotalPriceSet",
        "currentSubtotalPriceSet",
        "totalShippingPriceSet",
        "currentShippingPriceSet",
        "totalTaxSet",
        "currentTotalTaxSet",
        "totalDiscountsSet",
        "totalRefundedSet",
        "totalRefundedShippingSet",
        "totalReceivedSet",
        "totalOutstandingSet",
        "netPaymentSet",
        "currentSubtotalLineItemsQuantity",
        "subtotalLineItemsQuantity",
        "totalCapturableSet",
        "originalTotalPriceSet",
        "lineItems",
        "shippingLine",
        "shippingLines",
        "transactions",
        "refunds",
        "fulfillments",
        "fulfillmentOrders",
        "returns",
        "suggestedRefund",
        "metafield",
    ),
    "OrderCancellation": ("staffNote",),
    "Metafield": (
        "id",
        "legacyResourceId",
        "namespace",
        "key",
        "type",
        "value",
        "jsonValue",
        "compareDigest",
        "ownerType",
        "createdAt",
        "updatedAt",
    ),
    "Attribute": ("key", "value"),
    "LineItem": (
        "id",
        "name",
        "title",
        "sku",
        "variantTitle",
        "vendor",
        "quantity",
        "currentQuantity",
        "refundableQuantity",
        "unfulfilledQuantity",
        "nonFulfillableQuantity",
        "restockable",
        "requiresShipping",
        "isGiftCard",
        "taxable",
        "originalUnitPriceSet",
        "discountedUnitPriceSet",
        "originalTotalSet",
        "discountedTotalSet",
    ),
    "LineItemConnection": _PAGE,
    "LineItemEdge": ("cursor", "node"),
    "ShippingLine": (
        "id",
        "title",
        "code",
        "isRemoved",
        "originalPriceSet",
        "discountedPriceSet",
        "currentDiscountedPriceSet",
    ),
    "ShippingLineConnection": _PAGE,
    "ShippingLineEdge": ("cursor", "node"),
    "OrderTransaction": (
        "id",
        "kind",
        "status",
        "gateway",
        "formattedGateway",
        "test",
        "createdAt",
        "processedAt",
        "amountSet",
        "parentTransaction",
        "order",
        "errorCode",
        "paymentId",
        "maximumRefundableV2",
        "authorizationExpiresAt",
        "manuallyCapturable",
    ),
    "OrderTransactionConnection": _PAGE,
    "OrderTransactionEdge": ("cursor", "node"),
    "Refund": (
        "id",
        "createdAt",
        "updatedAt",
        "processedAt",
        "note",
        "order",
        "totalRefundedSet",
        "refundLineItems",
        "transactions",
    ),
    "RefundLineItem": (
        "id",
        "lineItem",
        "quantity",
        "restockType",
        "restocked",
        "priceSet",
        "subtotalSet",
        "totalTaxSet",
        "location",
    ),
    "RefundLineItemConnection": _PAGE,
    "RefundLineItemEdge": ("cursor", "node"),
    "SuggestedRefund": (
        "amountSet",
        "maximumRefundableSet",
        "subtotalSet",
        "discountedSubtotalSet",
        "totalTaxSet",
        "totalCartDiscountAmountSet",
        "totalDutiesSet",
        "shipping",
        "refundLineItems",
        "suggestedTransactions",
    ),
    "ShippingRefund": ("amountSet", "maximumRefundableSet", "taxSet"),
    "SuggestedOrderTransaction": (
        "accountNumber",
        "amountSet",
        "formattedGateway",
        "gateway",
        "kind",
        "maximumRefundableSet",
        "parentTransaction",
    ),
    "Fulfillment": (
        "id",
        "name",
        "status",
        "displayStatus",
        "createdAt",
        "updatedAt",
        "totalQuantity",
        "location",
    ),
    "Return": ("id", "status"),
    "ReturnConnection": _PAGE,
    "ReturnEdge": ("cursor", "node"),
    "MoneyBag": _MONEY,
    "MoneyV2": ("amount", "currencyCode"),
    "Customer": (
        "id",
        "displayName",
        "firstName",
        "lastName",
        "email",
        "defaultEmailAddress",
        "tags",
    ),
    "CustomerEmailAddress": ("emailAddress",),
    "Job": ("id", "done", "query"),
    "GiftCard": (
        "id",
        "balance",
        "initialValue",
        "createdAt",
        "updatedAt",
        "deactivatedAt",
        "enabled",
        "expiresOn",
        "lastCharacters",
        "maskedCode",
        "note",
        "customer",
        "order",
    ),
    "GiftCardConnection": _PAGE,
    "GiftCardEdge": ("cursor", "node"),
    "OrderConnection": _PAGE,
    "OrderEdge": ("cursor", "node"),
    "PageInfo": ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"),
    "OrderCancelPayload": ("job", "orderCancelUserErrors", "userErrors"),
    "OrderCancelUserError": ("code", "field", "message"),
    "UserError": ("field", "message"),
    "DisplayableError": ("field", "message"),
    "RefundCreatePayload": ("order", "refund", "userErrors"),
    "GiftCardCreatePayload": ("giftCard", "giftCardCode", "userErrors"),
    "GiftCardUserError": ("code", "field", "message"),
    "GiftCardSendNotificationToCustomerPayload": ("giftCard", "userErrors"),
    "GiftCardSendNotificationToCustomerUserError": ("code", "field", "message"),
    "TagsAddPayload": ("node", "userErrors"),
    "OrderUpdatePayload": ("order", "userErrors"),
    "MetafieldsSetPayload": ("metafields", "userErrors"),
    "MetafieldsSetUserError": ("code", "elementIndex", "field", "message"),
    # Shopify Payments balance transactions and payouts (payouts.py).
    "ShopifyPaymentsAccount": ("id", "activated", "defaultCurrency", "balanceTransactions", "payouts"),
    "ShopifyPaymentsBalanceTransaction": (
        "id",
        "amount",
        "fee",
        "net",
        "type",
        "test",
        "transactionDate",
        "sourceId",
        "sourceOrderTransactionId",
        "associatedPayout",
    ),
    "ShopifyPaymentsBalanceTransactionAssociatedPayout": ("id", "status"),
    "ShopifyPaymentsBalanceTransactionConnection": _PAGE,
    "ShopifyPaymentsBalanceTransactionEdge": ("cursor", "node"),
    "ShopifyPaymentsPayout": ("id", "legacyResourceId", "issuedAt", "net", "status", "transactionType"),
    "ShopifyPaymentsPayoutConnection": _PAGE,
    "ShopifyPaymentsPayoutEdge": ("cursor", "node"),
    # Bulk operations (SPEC §15): bulk.py, bulkquery.py, staged.py.
    "BulkOperation": (
        "id",
        "status",
        "type",
        "errorCode",
        "createdAt",
        "completedAt",
        "objectCount",
        "rootObjectCount",
        "fileSize",
        "url",
        "partialDataUrl",
        "query",
    ),
    "BulkOperationConnection": _PAGE,
    "BulkOperationEdge": ("cursor", "node"),
    "BulkOperationRunQueryPayload": ("bulkOperation", "userErrors"),
    "BulkOperationRunMutationPayload": ("bulkOperation", "userErrors"),
    "BulkOperationCancelPayload": ("bulkOperation", "userErrors"),
    "BulkOperationUserError": ("code", "field", "message"),
    "BulkMutationUserError": ("code", "field", "message"),
    "StagedUploadsCreatePayload": ("stagedTargets", "userErrors"),
    "StagedMediaUploadTarget": ("parameters", "resourceUrl", "url"),
    "StagedUploadParameter": ("name", "value"),
}


def _named(type_node: TypeNode) -> str:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type  # type: ignore[attr-defined]
    return type_node.name.value


def cut(real_sdl: str, version: str = DEFAULT_VERSION) -> str:
    """Return the SDL of the subset: the listed fields and every type they reach, descriptions dropped."""
    real = parse(real_sdl, no_location=True)
    defs = {d.name.value: d for d in real.definitions if hasattr(d, "name") and d.name is not None}
    wanted: dict[str, object] = {}
    queue = list(FIELDS)
    while queue:
        name = queue.pop()
        if name in wanted or name in _BUILTIN:
            continue
        node = defs.get(name)
        if node is None:
            raise KeyError(f"{name} is not in Shopify's schema")
        if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            if name not in FIELDS:
                raise KeyError(f"{name} is reached but not listed in FIELDS: list the fields it needs")
            keep = FIELDS[name]
            kept = [f for f in node.fields or () if f.name.value in keep]
            missing = set(keep) - {f.name.value for f in kept}
            if missing:
                raise KeyError(f"{name} has no fields {sorted(missing)} in Shopify's schema")
            stripped = tuple(_strip(f, arguments=tuple(_strip(a) for a in f.arguments or ())) for f in kept)
            interfaces = tuple(i for i in node.interfaces or () if i.name.value in FIELDS)
            node = _strip(node, fields=stripped, interfaces=interfaces)
            for f in stripped:
                queue.append(_named(f.type))
                queue.extend(_named(a.type) for a in f.arguments)
        elif isinstance(node, InputObjectTypeDefinitionNode):
            inputs = tuple(_strip(f) for f in node.fields or ())
            node = _strip(node, fields=inputs)
            queue.extend(_named(f.type) for f in inputs)
        elif isinstance(node, EnumTypeDefinitionNode):
            node = _strip(node, values=tuple(_strip(v) for v in node.values or ()))
        elif isinstance(node, ScalarTypeDefinitionNode):
            node = _strip(node)
        elif isinstance(node, UnionTypeDefinitionNode):
            raise KeyError(f"union {name} is reached: the simulator serves no unions")
        wanted[name] = node
    directives = [
        _strip(d, arguments=tuple(_strip(a) for a in d.arguments or ()))
        for d in real.definitions
        if isinstance(d, DirectiveDefinitionNode) and d.name.value in DIRECTIVES
    ]
    schema_def = next(d for d in real.definitions if isinstance(d, SchemaDefinitionNode))
    body = [schema_def, *directives] + [wanted[n] for n in sorted(wanted)]
    header = (
        f"# The simulator's schema: a strict subset of Shopify's Admin GraphQL schema {version}.\n"
        "# Generated by `python -m pipeline.simulator.subset`; do not edit by hand.\n\n"
    )
    return header + print_ast(DocumentNode(definitions=tuple(body))) + "\n"


def _strip(node: Any, **changes: object) -> Any:
    """A copy of an SDL node without its description, with `changes` applied."""
    attrs = {k: getattr(node, k) for k in node.keys}
    return node.__class__(**{**attrs, "description": None, **changes})


if __name__ == "__main__":
    version = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_VERSION
    source = Path(sys.argv[1] if len(sys.argv) > 1 else f"../shared/shopify/admin-{version}.schema.graphql")
    target = SCHEMA_PATH.with_name(SCHEMA_FILES[version])
    target.write_text(cut(source.read_text(encoding="utf-8"), version), encoding="utf-8")
    print(f"wrote {target}")
