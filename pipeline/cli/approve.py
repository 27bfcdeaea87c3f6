"""`bulkcancel approve RUN_DIR --by NAME`: a reviewer signs off one exact plan (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--by", "by", required=True, metavar="NAME", help="Who reviewed and approves the plan.")
def approve(run_dir: Path, by: str) -> None:
    """Record that NAME reviewed this plan and approves it as it is (approval.json); exit 3 if refused.

    The approval names the plan's sha256: `execute --require-approval` runs this plan and no other,
    and a plan changed after approval needs approving again. The plan files are a view: to change
    the plan, change the input and plan again.

    \b
    Example:
      bulkcancel approve reports/20261126-101500-cancellations --by "Jane Doe"
      bulkcancel execute reports/20261126-101500-cancellations --require-approval
    """
    from pipeline.execute.approval import approve as sign_off
    from pipeline.execute.approval import summary
    from pipeline.plan.files import load_plan

    approval, earlier = sign_off(run_dir, by, dt.datetime.now(dt.UTC))
    for line in summary(load_plan(run_dir)):
        click.echo(line)
    if earlier is not None and earlier != approval:
        click.echo(f"replaces: {earlier.line()}")
    click.echo(f"{approval.line()}: {run_dir / 'approval.json'}")
