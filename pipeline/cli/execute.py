"""`bulkcancel execute`: carry out an approved plan, and the outcome lines `run --execute` prints too."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.options import (
    EXECUTION_KEYS,
    connection_options,
    engine_option,
    execution_options,
    json_option,
    pick,
    run_settings,
)
from pipeline.cli.probe import shop_state

if TYPE_CHECKING:
    from pipeline.execute.executor import ExecutionResult
    from pipeline.settings import ConnectionSettings
    from pipeline.shopify.readiness import ShopState


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@connection_options
@execution_options
@click.option(
    "--require-approval",
    is_flag=True,
    help="Refuse (exit 3) unless `bulkcancel approve` recorded a reviewer's approval of this exact plan.",
)
@engine_option("auto: Shopify's bulk operations above 2,000 orders or 15 minutes paced (SPEC §15).")
@json_option("outcome")
def execute(run_dir: Path, as_json: bool, require_approval: bool, engine: str, **options: Any) -> None:
    """Carry out an approved plan. Rerunning the same command resumes where it stopped.

    \b
    Example:
      bulkcancel execute reports/20261126-101500-cancellations
    """
    approved = None
    if require_approval:
        from pipeline.execute.approval import require_approval as approval_of

        approval = approval_of(run_dir)
        approved = approval.plan_sha256  # the plan carried out is checked against it as it is read
        if not as_json:
            click.echo(approval.line())
    settings = run_settings(run_dir, options)
    state = shop_state(settings)  # unreachable or refused: said now, exit 2
    keys = pick(options, EXECUTION_KEYS)
    result = execute_and_report(
        run_dir, settings, as_json, engine=engine, state=state, approved=approved, **keys
    )
    sys.exit(0 if result.all_done else 1)


def _bulk_progress(kind: str, progress: Any) -> None:
    """One line per poll of a bulk operation: what it counts of the total, the rate, the time left."""
    click.echo(f"bulk {kind}: {progress}", err=True)


def execute_and_report(
    run_dir: Path,
    settings: ConnectionSettings,
    as_json: bool,
    *,
    yes: bool,
    concurrency: int,
    max_total: tuple[str, ...],
    max_age: float,
    job_wait: float,
    engine: str = "paced",
    state: ShopState | None = None,
    approved: str | None = None,
) -> ExecutionResult:
    """Confirm, carry out, report; returns the ExecutionResult. `state`: the shop as the first look
    read it (else it is read only if --max-total needs the shop's currency)."""
    import datetime as dt

    from pipeline.cli.limits import parse_limits
    from pipeline.execute.console import ExecutionConsole
    from pipeline.execute.executor import execute_run
    from pipeline.execute.status import left
    from pipeline.plan.files import seal_of

    limit = (
        parse_limits(max_total, lambda: (state or shop_state(settings)).shop_currency) if max_total else None
    )
    console = ExecutionConsole(run_dir, yes=yes, quiet=as_json)
    with console.interrupts() as stop:
        result = execute_run(
            run_dir,
            settings,
            concurrency=concurrency,
            max_total=limit,
            max_age=dt.timedelta(hours=max_age),
            confirm=console.confirm,
            progress=console.progress,
            stop=stop,
            runner_options={"cancel_wait": job_wait},
            engine=engine,
            approved=approved,
            restore_rate=state.restore_rate if state else None,
            bulk_progress=None if as_json else _bulk_progress,
        )
    if as_json:
        outcome = {
            "run_dir": str(run_dir),
            "seal": seal_of(run_dir),
            "actions": result.statuses,
            "left": left(result.statuses),
            "interrupted": result.interrupted,
        }
        click.echo(json.dumps(outcome, indent=2))
    else:
        for line in console.outcome(result.statuses, result.interrupted):
            click.echo(line)
        click.echo(f"execution report: {run_dir / 'execution.csv'}")
    return result
