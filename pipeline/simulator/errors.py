"""User errors as Shopify answers them: `field` path, `message`, and `code` where the type has one."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.simulator.gids import parse_gid


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
