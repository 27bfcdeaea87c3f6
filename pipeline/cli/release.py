"""`bulkcancel release RUN_ID`: give back the orders of a run that will not be resumed (SPEC §7a)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.options import connection_options, run_settings
from pipeline.cli.probe import shop_state
from pipeline.errors import RefusedError

if TYPE_CHECKING:
    from pipeline.execute.release import Held


@click.command()
@click.argument("run_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Root folder of run directories: the run's own plan names the orders it may hold.",
)
@connection_options
def release(run_id: str, yes: bool, out: Path, **options: Any) -> None:
    """Remove the claims of a run that will not be resumed, after showing what it did; exit 3 if refused.

    \b
    Example:
      bulkcancel release 20261126-101500-cancellations --yes
    """
    from pipeline.execute.console import ask
    from pipeline.execute.release import release_run

    run_dir = out / run_id
    if not (run_dir / "plan.json").is_file():
        raise RefusedError(f"no run {run_id} under {out} (give the root of run directories with --out)")
    settings = run_settings(run_dir, options)
    shop_state(settings)  # unreachable or refused: said now, exit 2

    def confirm(held: list[Held]) -> bool:
        click.echo(f"run {run_id} holds {len(held)} orders; Shopify's records show:")
        for one in held:
            click.echo(f"  {one.line()}")
        unfinished = sum(1 for one in held if not one.finished)
        if not unfinished or yes:
            return True
        # A closed standard input is no answer: refused, exit 3 (SPEC §3), not "aborted".
        answer = ask(f"release the claims of run {run_id} on {unfinished} orders? [y/N]")
        return answer.lower() in ("y", "yes")

    held, stale = release_run(run_dir, settings, confirm=confirm)
    for name in stale:
        click.echo(f"{name}: its claim changed meanwhile — not released", err=True)
    freed = sum(1 for one in held if not one.finished) - len(stale)
    click.echo(f"released {freed} orders of run {run_id}; that run can no longer resume")
    sys.exit(3 if stale else 0)
