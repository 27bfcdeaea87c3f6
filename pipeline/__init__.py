"""bulkcancel: cancel and refund Shopify orders in bulk from a spreadsheet, safely."""

__version__ = "0.1.0"
