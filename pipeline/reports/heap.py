"""The heap kept out of the cyclic garbage collector's walks while a stage's large files are written."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """The objects alive now kept out of the cyclic collector's walks for the block: a stage's plan and
    rows live until it ends, and each full collection would walk all of them again (seconds at 100,000
    rows). Objects made in the block are collected as usual. When the caller had frozen objects itself
    (a server in the same process), nothing is unfrozen after: its freeze stays, with these in it."""
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()
