"""The `bulkcancel` command line: parse, call one function, print. No business logic here."""

from __future__ import annotations

import sys

import click

from pipeline import __version__
from pipeline.errors import PipelineError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulkcancel")
def cli() -> None:
    """Cancel and refund Shopify orders in bulk from a CSV or Excel file, safely.

    \b
    Example:
      bulkcancel validate inputs/annulations_rupture.csv
    """


def main() -> None:
    """Console entry point: expected failures become one line and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except PipelineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
