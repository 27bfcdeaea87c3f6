"""Where an action stands, in one vocabulary: the console, `execution.csv` and the reconciliation use
these words and no others.

done          every step happened
failed        Shopify refused a step (its message is in the detail)
drifted       the order changed, or another hand acted, before our step: not executed, on purpose
to_verify     a step was sent and its answer never came: the next `execute` reads the shop first,
              and sends again only what did not happen
not_executed  nothing (more) of it was sent: the next `execute` carries it out

The journal's own states (`pending`, `running`, step `sent`/`unknown`) are its business: they are
translated here, once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pipeline.execute.journal import Journal
from pipeline.plan.model import Plan

TO_VERIFY = "to_verify"
NOT_EXECUTED = "not_executed"
FINISHED = ("done", "failed", "drifted")
STATUSES = (*FINISHED, TO_VERIFY, NOT_EXECUTED)
#: What the next `execute` of the run directory still has to do.
LEFT = (TO_VERIFY, NOT_EXECUTED)
_UNSETTLED_STEPS = frozenset({"sent", "unknown"})


def action_status(action_state: str, step_states: Iterable[str]) -> str:
    """The word for an action from its journal state and its steps' states."""
    if action_state in FINISHED:
        return action_state
    return TO_VERIFY if any(state in _UNSETTLED_STEPS for state in step_states) else NOT_EXECUTED


def journal_statuses(journal: Journal, rows: Iterable[Mapping[str, Any]] | None = None) -> dict[str, str]:
    """The status of every action in the journal, by action key (from its `rows_for_report` if given)."""
    states: dict[str, str] = {}
    steps: dict[str, list[str]] = {}
    for record in journal.records_for_report() if rows is None else rows:  # one step at a time
        states[record["action_key"]] = record["action_state"]
        steps.setdefault(record["action_key"], []).append(record["state"])
    return {key: action_status(state, steps[key]) for key, state in states.items()}


def counted(statuses: Iterable[str]) -> dict[str, int]:
    """Counts by status, every status listed, in the vocabulary's order."""
    counts = Counter(statuses)
    return {status: counts.get(status, 0) for status in STATUSES}


def so_far(run_dir: Path, plan: Plan) -> dict[str, int]:
    """What an earlier execute of this run left: counts by status (all `not_executed` when none ran).

    Never creates a journal: a run that has not begun has none.
    """
    keys = [action.action_key for action in plan.actions()]
    path = run_dir / "journal.sqlite"
    if not path.exists():
        return counted(NOT_EXECUTED for _ in keys)
    with Journal.open(path, plan.run_id) as journal:
        known = journal_statuses(journal)
    return counted(known.get(key, NOT_EXECUTED) for key in keys)


def left(counts: Mapping[str, int]) -> int:
    """How many actions the next `execute` still has to carry out or verify."""
    return sum(counts.get(status, 0) for status in LEFT)


def phrase(counts: Mapping[str, int]) -> str:
    """`76 done, 6 to verify, 102 not executed` (statuses with none left out); `nothing` when empty."""
    parts = [f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n]
    return ", ".join(parts) or "nothing"
