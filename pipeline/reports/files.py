"""Report files are replaced whole: a crash mid-write never leaves a half file that looks whole."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPORT_MODE = 0o644


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; on success it replaces `path`, otherwise it is removed."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp makes 0600; a report is for the reviewer too (another account): 0644, like any file
        # under the usual umask. The one secret file (gift card codes) is written elsewhere, 0600.
        os.chmod(temporary, REPORT_MODE)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_bytes(path: Path, data: bytes) -> Path:
    """Replace `path` with `data`, whole."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)
    return path


def write_chunks(path: Path, chunks: Iterable[bytes]) -> str:
    """Replace `path` with `chunks` one after the other, whole; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    with replacing(path) as temporary, open(temporary, "wb") as stream:
        for chunk in chunks:
            digest.update(chunk)
            stream.write(chunk)
    return digest.hexdigest()
