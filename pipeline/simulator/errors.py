"""User errors as Shopify answers them (`field`, `message`, `code` where the type has one); input limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

from pipeline.simulator.gids import parse_gid

MAX_INPUT = 250  # items in an input list (shopify.dev API limits)


@dataclass(frozen=True)
class UserErr:
    field: list[str] | None
    message: str
    code: str | None = None


def numeric_id(gid: object, kind: str) -> int | None:
    """The numeric part of a well-formed gid of the given type, else None (unknown to this shop)."""
    parsed = parse_gid(str(gid))
    if parsed is None or parsed[0] != kind or not parsed[1].isdigit():
        return None
    return int(parsed[1])


def check_sizes(info: Any, path: list[Any], value: Any) -> None:
    """Input lists hold at most 250 items (shopify.dev API limits); the error is a public emulator's
    MAX_INPUT_SIZE_EXCEEDED wording (inferred, see README)."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_sizes(info, [*path, key], item)
    elif isinstance(value, list):
        if len(value) > MAX_INPUT:
            raise GraphQLError(
                f"The input array size of {len(value)} is greater than the maximum allowed of {MAX_INPUT}.",
                info.field_nodes,
                path=path,
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        for item in value:
            check_sizes(info, path, item)
