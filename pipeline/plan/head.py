"""plan.json's head read apart from its rows: the shop, API version and engines (`plan_head`), the
actions' orders (`plan_span`), without parsing the 100,000 rows after them (`files.plan_chunks` writes
every other key first, the rows from `ROWS_LINE` on).

Neither is checked against plan.sha256: `files.load_plan` and `files.check_plan` are, before anything
is carried out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.plan.files import PLAN_JSON, ROWS_LINE, load_plan
from pipeline.plan.model import OrderSpan, Plan


def plan_head(run_dir: Path) -> Plan:
    """plan.json's head (shop, API version, engines…) with no rows, read without reading the rows:
    `plan_chunks` writes every other key before them. Not checked against plan.sha256 (`load_plan`
    is, before anything is carried out); a plan.json of another layout is read whole."""
    head = _head(Path(run_dir))
    if head is not None:
        try:
            return Plan.from_json({**head, "rows": []})
        except (KeyError, TypeError, ValueError):
            pass  # not our layout: the whole read below says what is wrong
    return load_plan(run_dir)


def plan_span(run_dir: Path) -> OrderSpan | None:
    """The actions' orders as plan.json's head records them (`orders`), read without the rows; None
    when it records none (a plan.json written before it did, or of another layout). Not checked
    against plan.sha256: `check_plan` is."""
    head = _head(Path(run_dir))
    try:
        return OrderSpan.from_json(head["orders"]) if head and head.get("orders") else None
    except (KeyError, TypeError, ValueError):
        return None


def _head(run_dir: Path) -> dict[str, Any] | None:
    """plan.json's keys before its rows, read up to them; None when it is missing or not laid out so."""
    lines: list[str] = []
    try:
        with (run_dir / PLAN_JSON).open(encoding="utf-8") as file:
            for line in file:
                if line.startswith(ROWS_LINE):
                    head = json.loads("".join(lines) + '"rows": []}')
                    return head if isinstance(head, dict) else None
                lines.append(line)
    except (OSError, UnicodeDecodeError, ValueError):
        pass
    return None
