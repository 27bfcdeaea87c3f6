"""Dataclasses as deterministic JSON files (amounts as strings, times as ISO 8601 UTC); see README.md.

A field whose metadata is `RUNTIME` is a setting of the running process: it is neither written nor read.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
RUNTIME = {"runtime": True}


def dump(value: object) -> Any:
    """The JSON value of a dataclass tree: Decimals as strings, datetimes as ISO 8601 with `Z`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value) if not _runtime(f)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dump(v) for v in value]
    return value


def load(tp: type[T], value: Any) -> T:
    """Rebuild a dataclass tree of type `tp` from the JSON value `dump` gave."""
    return typing.cast(T, _load(tp, value))


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
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(
            **{
                f.name: _load(hints[f.name], value[f.name])
                for f in dataclasses.fields(tp)
                if f.name in value and not _runtime(f)
            }
        )
    if tp is Decimal:
        return Decimal(value)
    if tp is datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _runtime(f: dataclasses.Field[Any]) -> bool:
    return bool(f.metadata.get("runtime"))


def write_json(data: object, path: Path) -> None:
    """Write atomically: sorted keys, two-space indent, a trailing newline."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
