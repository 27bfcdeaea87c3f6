"""Which Admin API version answers a request: the one asked for, or Shopify's fall-forward.

Shopify serves an unsupported (retired) version with the oldest supported stable one (versioning
page; a Shopify staff answer on community.shopify.com/t/164634). The simulator holds the schemas of
2026-04 and 2026-07 only: a version newer than those (2026-10, release candidates, unstable) is
answered 404, which a real shop would serve; see README.
"""

from __future__ import annotations

import re

DEFAULT_VERSION = "2026-07"
#: API version → the file of its schema beside this module, cut from Shopify's by `subset.py`.
SCHEMA_FILES = {"2026-07": "schema.graphql", "2026-04": "schema-2026-04.graphql"}
VERSION = re.compile(r"^\d{4}-(?:01|04|07|10)$")
#: the header Shopify names the version that answered with (inferred for API answers).
HEADER = "X-Shopify-API-Version"


def served_version(asked: str, available: list[str]) -> str | None:
    """The version that answers `asked`, or None (404): retired versions fall forward to the oldest."""
    if asked in available:
        return asked
    if VERSION.match(asked) and asked < min(available):
        return min(available)
    return None
