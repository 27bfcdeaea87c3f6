"""`bulkcancel simulator` and `bulkcancel demo`: the embedded shop, mounted on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

SIMULATOR = "simulator"


def simulator_group() -> click.Group:
    """`bulkcancel simulator`: its commands (serve, seed) live with the simulator; the CLI mounts them."""
    from pipeline.simulator.cli import simulator

    return simulator


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Root folder of the demo's run directories.",
)
def demo(out: Path) -> None:
    """The whole job on the embedded simulator: seed, serve, plan, execute, reconcile the samples.

    \b
    Example:
      bulkcancel demo
    """
    from pipeline.demo import run_demo

    sys.exit(run_demo(Path("inputs"), out, echo=click.echo))
