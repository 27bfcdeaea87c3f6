"""Talking to Shopify: the client, the cost governor, the retry policies and the GraphQL documents."""

from pipeline.shopify.client import Document, Result, ShopifyClient, load_document
from pipeline.shopify.governor import BucketSnapshot, CostGovernor, QueryCost, Reservation
from pipeline.shopify.retry import execute_idempotent, execute_with_retry, retrying

__all__ = [
    "BucketSnapshot",
    "CostGovernor",
    "Document",
    "QueryCost",
    "Reservation",
    "Result",
    "ShopifyClient",
    "execute_idempotent",
    "execute_with_retry",
    "load_document",
    "retrying",
]
