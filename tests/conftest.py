"""Shared fixtures: where ../shared is, and Shopify's real schema loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_SCHEMA = SHARED / "shopify" / "admin-2026-07.schema.graphql"
RECORDED = SHARED / "shopify" / "recorded"


def require_shared(path: Path) -> Path:
    """Skip, saying why, when the reference data in ../shared is absent."""
    if not path.exists():
        pytest.skip(f"{path} is absent: the reference data from ../shared is not beside this clone")
    return path


@pytest.fixture(scope="session")
def real_schema():
    """Shopify's real 2026-07 Admin schema (about 2 s to load)."""
    from graphql import build_schema

    return build_schema(require_shared(REAL_SCHEMA).read_text(encoding="utf-8"), assume_valid=True)


@pytest.fixture
def fast_retries(monkeypatch):
    """Backoff in milliseconds instead of seconds: fault tests exercise the paths, not the patience."""
    from pipeline.shopify import retry

    monkeypatch.setattr(retry, "INITIAL_WAIT", 0.002)
    monkeypatch.setattr(retry, "MAX_WAIT", 0.02)
