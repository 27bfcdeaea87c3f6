"""An HTTP answer of the simulator, as the handler, the fault injector and the transports pass it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer. `lost` means the request was applied but no answer must reach the client."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    lost: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(payload).encode(), {**JSON, **(headers or {})})
