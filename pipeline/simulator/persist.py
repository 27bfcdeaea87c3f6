"""Dataclasses as deterministic JSON files (amounts as strings, times as ISO 8601 UTC); see README.md.

A field whose metadata is `RUNTIME` is a setting of the running process: it is neither written nor read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import types
import typing
from collections.abc import Callable, Iterator
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


def dump_rows(value: object) -> Any:
    """Like `dump`, each dataclass a list of its saved fields in order: the compact form of a large
    store (no key repeated a million times: a third of the size, a quarter of the parsing)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [dump_rows(getattr(value, f.name)) for f in dataclasses.fields(value) if not _runtime(f)]
    if isinstance(value, dict):
        return {str(k): dump_rows(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dump_rows(v) for v in value]
    return dump(value)


def row_fields(tp: type[Any]) -> dict[str, list[str]]:
    """Every dataclass `tp` holds, by name → its saved fields in order (what a row's positions mean)."""
    found: dict[str, list[str]] = {}

    def visit(t: Any) -> None:
        for arg in typing.get_args(t):
            visit(arg)
        if isinstance(t, type) and dataclasses.is_dataclass(t) and t.__name__ not in found:
            found[t.__name__] = [f.name for f in dataclasses.fields(t) if not _runtime(f)]
            hints = typing.get_type_hints(t)
            for name in found[t.__name__]:
                visit(hints[name])

    visit(tp)
    return found


def load(tp: type[T], value: Any, *, rows: bool = False) -> T:
    """Rebuild a dataclass tree of type `tp` from the JSON value `dump` (or `dump_rows`) gave."""
    return typing.cast(T, _loader(typing.cast(Any, tp), rows)(value))


Loader = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _time(value: Any) -> Any:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@functools.cache
def _loader(tp: Any, rows: bool = False) -> Loader:
    """The function that rebuilds a value of type `tp`, made once per type: a store of 100,000
    orders holds about a million values, and working the type out for each took minutes."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _loader(next(a for a in typing.get_args(tp) if a is not type(None)), rows)
    if origin is list:
        item = _loader(typing.get_args(tp)[0], rows)
        return lambda v: None if v is None else [item(x) for x in v]
    if origin is dict:
        key, value_type = typing.get_args(tp)
        item = _loader(value_type, rows)
        as_key: Loader = int if key is int else _identity
        return lambda v: None if v is None else {as_key(k): item(x) for k, x in v.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_loader(tp, rows)
    if tp is Decimal:
        return lambda v: None if v is None else Decimal(v)
    if tp is datetime:
        return _time
    return _identity


def _dataclass_loader(tp: type[Any], rows: bool) -> Loader:
    """A function written for this dataclass, as `dataclasses` writes `__init__`: one call per field
    that needs converting, plain item reads for the rest; a file missing a field takes the slow path
    (a row, `rows`, always has every field: `row_fields` was checked against the file's)."""
    hints = typing.get_type_hints(tp)
    fields = [(f.name, _loader(hints[f.name], rows)) for f in dataclasses.fields(tp) if not _runtime(f)]
    scope: dict[str, Any] = {"tp": tp, **{f"load_{n}": load for n, load in fields}}
    keys = [str(k) if rows else repr(n) for k, (n, _) in enumerate(fields)]
    args = ", ".join(
        f"{n}=v[{key}]" if f is _identity else f"{n}=load_{n}(v[{key}])"
        for key, (n, f) in zip(keys, fields, strict=True)
    )
    code = (
        "def build(v):\n"
        "    if v is None:\n        return None\n"
        f"    if len(v) != {len(fields)}:\n        return slow(v)\n"
        f"    return tp({args})\n"
    )
    scope["slow"] = (
        _short_row(tp) if rows else lambda v: tp(**{n: load(v[n]) for n, load in fields if n in v})
    )
    exec(code, scope)  # code made above from the dataclass's own field names
    return typing.cast(Loader, scope["build"])


def _short_row(tp: type[Any]) -> Loader:
    def refuse(v: Any) -> Any:
        raise ValueError(f"a {tp.__name__} row of {len(v)} values does not match its fields")

    return refuse


def _runtime(f: dataclasses.Field[Any]) -> bool:
    return bool(f.metadata.get("runtime"))


def write_json(data: object, path: Path, *, indent: int | None = 2) -> None:
    """Write atomically: sorted keys, two-space indent (or none: a third smaller), a trailing newline."""
    text = json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused: building a million objects that hold no cycle, it would
    otherwise scan them again and again, and take half the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
