"""The `bulkcancel` group, its commands, and the one place errors become exit codes."""

from __future__ import annotations

import sys

import click

from pipeline import __version__
from pipeline.cli.approve import approve
from pipeline.cli.doctor import doctor
from pipeline.cli.execute import execute
from pipeline.cli.limits import join_currency_words
from pipeline.cli.plan import plan, run
from pipeline.cli.probe import merchant_words
from pipeline.cli.reconcile import reconcile
from pipeline.cli.release import release
from pipeline.cli.select import select
from pipeline.cli.simulator import SIMULATOR, demo, simulator_group
from pipeline.cli.validate import template, validate
from pipeline.errors import PipelineError, ShopifyError

#: `--help` lists the commands in the order of the work: find the orders, check, plan, sign off,
#: carry out, check again; then the one-command form, the repairs and the tools. Names not
#: registered (yet) are left out; a command missing here is listed after these.
WORK_ORDER = (
    "select",
    "validate",
    "plan",
    "approve",
    "execute",
    "reconcile",
    "run",
    "release",
    "doctor",
    "template",
    "demo",
    SIMULATOR,
)


class _Group(click.Group):
    """The commands, the simulator's group imported only when named or listed (most runs never need it)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {*super().list_commands(ctx), SIMULATOR}
        known = [name for name in WORK_ORDER if name in names]
        return known + sorted(names - set(known))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == SIMULATOR:
            return simulator_group()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulkcancel")
def cli() -> None:
    """Cancel and refund Shopify orders in bulk from a CSV or Excel file, safely.

    \b
    Example:
      bulkcancel validate inputs/annulations_rupture.csv
    """


for _command in (validate, plan, approve, execute, run, demo, reconcile, release, template, doctor, select):
    cli.add_command(_command)


def main() -> None:
    """Console entry point: expected failures become one line and an exit code."""
    try:
        # Without standalone mode click returns `ctx.exit(n)`'s code instead of exiting: pass it on.
        code = cli.main(args=join_currency_words(sys.argv[1:]), standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except PipelineError as exc:
        # The client names our GraphQL documents (`OrdersByName: …`): the merchant never wrote those.
        text = merchant_words(str(exc)) if isinstance(exc, ShopifyError) else str(exc)
        click.echo(f"error: {text}", err=True)
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
