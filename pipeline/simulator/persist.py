"""The store as deterministic JSON (amounts as strings, times as ISO 8601 UTC); see README.md."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.simulator.store import Clock, Store, utc_clock

FORMAT = "bulkcancel-simulator-store/1"
_RUNTIME = ("clock", "cancel_delay", "refund_settle_delay")


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in _RUNTIME
        }
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _load(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _load(inner[0], value)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_load(item, v) for v in value]
    if origin is dict:
        key, item = typing.get_args(tp)
        return {(int(k) if key is int else k): _load(item, v) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return typing.cast(Any, tp)(
            **{
                f.name: _load(hints[f.name], value[f.name])
                for f in dataclasses.fields(tp)
                if f.name in value and f.name not in _RUNTIME
            }
        )
    if tp is Decimal:
        return Decimal(value)
    if tp is datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def store_to_json(store: Store) -> dict[str, Any]:
    return {"format": FORMAT, **_dump(store)}


def store_from_json(
    data: dict[str, Any], clock: Clock = utc_clock, cancel_delay: timedelta | None = None
) -> Store:
    if data.get("format") != FORMAT:
        raise ValueError(f"not a simulator store (format {data.get('format')!r}, expected {FORMAT!r})")
    store = _load(Store, data)
    store.clock = clock
    if cancel_delay is not None:
        store.cancel_delay = cancel_delay
    return store  # type: ignore[no-any-return]


def save_store(store: Store, path: Path) -> None:
    """Write atomically: sorted keys, two-space indent, a trailing newline."""
    text = json.dumps(store_to_json(store), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def load_store(path: Path, clock: Clock = utc_clock, cancel_delay: timedelta | None = None) -> Store:
    return store_from_json(json.loads(path.read_text(encoding="utf-8")), clock, cancel_delay)
