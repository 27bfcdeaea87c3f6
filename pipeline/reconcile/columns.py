"""The columns of the reconciliation files.

Every table of reconciliation.xlsx, its CSV, refund_transactions.csv and customers.csv is a list of
`Column`s named here; the words customers.csv uses are `pipeline.plan.words`.
"""

from __future__ import annotations

from pipeline.reports import Column

_BY_KEY = {
    c.key: c
    for c in (
        Column("row", "Row", "int"),
        Column("order", "Order as written"),
        Column("order_name", "Order"),
        Column("order_id", "Order id"),
        Column("status", "Status"),
        Column("detail", "Detail", width=60),
        Column("action", "Action"),
        Column("method", "Method"),
        Column("currency", "Currency"),
        Column("planned", "Planned", "money", currency_key="currency"),
        Column("refunded", "Refunded", "money", currency_key="currency"),
        Column("pending", "Pending", "money", currency_key="currency"),
        Column("difference", "Refunded − planned", "money", currency_key="currency"),
        Column("shop_currency", "Shop currency"),
        Column("refunded_shop", "Refunded (shop currency)", "money", currency_key="shop_currency"),
        Column("cancelled", "Cancelled"),
        Column("cancel_reason", "Cancel reason"),
        Column("refunds_since_plan", "Refunds since plan", "int"),
        Column("restocked_units", "Units restocked", "int"),
        Column("restocked_at", "Restocked at"),
        Column("gift_card", "Gift card"),
        Column("tagged", "Tagged"),
        Column("notify", "Shopify notified"),
        Column("customer_name", "Customer"),
        Column("customer_email", "Email"),
        Column("note", "Note", width=40),
        Column("action_key", "Action key"),
        Column("count", "Rows", "int"),
        Column("reason", "Reason"),
    )
}
ORDER_KEYS = [
    "row",
    "order",
    "order_name",
    "order_id",
    "status",
    "detail",
    "action",
    "method",
    "currency",
    "planned",
    "refunded",
    "pending",
    "difference",
    "shop_currency",
    "refunded_shop",
    "cancelled",
    "cancel_reason",
    "refunds_since_plan",
    "restocked_units",
    "restocked_at",
    "gift_card",
    "tagged",
    "notify",
    "customer_name",
    "customer_email",
    "note",
    "action_key",
]
ORDER_COLUMNS = [_BY_KEY[k] for k in ORDER_KEYS]
EXCEPTION_COLUMNS = [
    _BY_KEY[k]
    for k in [
        "row",
        "order_name",
        "status",
        "detail",
        "method",
        "currency",
        "planned",
        "refunded",
        "pending",
        "action_key",
    ]
]
TOTAL_KEYS = ("planned", "refunded", "pending", "difference", "refunded_shop")
TOTAL_COLUMNS = [_BY_KEY[k] for k in ("currency", "method", "count", *TOTAL_KEYS[:4], "shop_currency")] + [
    _BY_KEY["refunded_shop"]
]
REASON_COLUMNS = [_BY_KEY[k] for k in ("reason", "status", "currency", "count", "planned", "refunded")]
STATUS_COLUMNS = [_BY_KEY["status"], _BY_KEY["count"]]
TRANSACTION_COLUMNS = [
    Column("order_name", "Order"),
    Column("order_id", "Order id"),
    Column("refund_id", "Refund id"),
    Column("transaction_id", "Transaction id"),
    Column("parent_transaction_id", "Parent transaction"),
    Column("gateway", "Gateway"),
    Column("kind", "Kind"),
    Column("status", "Status"),
    Column("amount", "Amount", "money", currency_key="currency"),
    Column("currency", "Currency"),
    Column("shop_amount", "Shop amount", "money", currency_key="shop_currency"),
    Column("shop_currency", "Shop currency"),
    Column("converted", "Converted at the order's rate"),
    Column("processed_at", "Processed at"),
    Column("method", "Method"),
    Column("origin", "Made by"),
    Column("run_id", "Run id"),
    Column("action_key", "Action key"),
    Column("payout_id", "Payout"),
    Column("payout_status", "Payout status"),
    Column("payout_date", "Payout date"),
    Column("fee", "Fee", "money", currency_key="payout_currency"),
    Column("net", "Net", "money", currency_key="payout_currency"),
    Column("settlement", "Settlement", width=40),
    Column("refund_created_at", "Refund created at"),
]
TX_TOTAL_COLUMNS = [
    Column("currency", "Currency"),
    Column("method", "Method"),
    Column("status", "Status"),
    Column("count", "Transactions", "int"),
    Column("amount", "Amount", "money", currency_key="currency"),
    Column("shop_currency", "Shop currency"),
    Column("shop_amount", "Shop amount", "money", currency_key="shop_currency"),
]
CUSTOMER_COLUMNS = [
    Column("email", "email"),
    Column("name", "name"),
    Column("orders", "orders"),
    Column("what_was_done", "what_was_done"),
    Column("amount", "amount"),
    Column("method", "method"),
    Column("money_arrives", "money_arrives"),
]
PAYOUT_COLUMNS = [
    Column("payout_id", "Payout"),
    Column("payout_status", "Status"),
    Column("payout_date", "Issued at", "date"),
    Column("refunds", "Refunds", "int"),
    Column("orders", "Orders", width=40),
    Column("amount", "Refunded", "money", currency_key="currency"),
    Column("fee", "Fees", "money", currency_key="currency"),
    Column("net", "Net", "money", currency_key="currency"),
    Column("currency", "Currency"),
]
