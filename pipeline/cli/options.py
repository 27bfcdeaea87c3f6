"""The option sets several commands share, each declared once and applied as one decorator."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pipeline.settings import ConnectionSettings

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

MODES = ("original", "store_credit", "gift_card", "none")
REASONS = ("customer", "inventory", "fraud", "declined", "staff", "other")
CONNECTION_KEYS = ("shop", "token_file", "api_version", "timeout")
EXECUTION_KEYS = ("yes", "concurrency", "max_total", "max_age", "job_wait")


def option_group(*decorators: Decorator) -> Decorator:
    """One decorator applying `decorators` so that `--help` lists them in the order given."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        # click prepends each parameter, so the last decorator applied comes first in --help.
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


def json_option(what: str) -> Decorator:
    """`--json`: the command prints its `what` (summary or outcome) as JSON instead of lines."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print the {what} as JSON on stdout.")


#: How to read and default an input file (validate, plan, run).
input_options = option_group(
    click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path)),
    click.option("--sheet", help="Sheet of an Excel or ODS file (default: the first non-empty one)."),
    click.option("--default-mode", type=click.Choice(MODES), help="Refund mode for blank cells."),
    click.option(
        "--restock/--no-restock",
        default=False,
        show_default=True,
        help="Default for a blank restock cell.",
    ),
    click.option(
        "--notify/--no-notify", default=False, show_default=True, help="Default for a blank notify cell."
    ),
    click.option(
        "--reason",
        type=click.Choice(REASONS),
        default="inventory",
        show_default=True,
        help="Default cancel reason for a blank reason cell.",
    ),
    json_option("summary"),
    click.option(
        "--skip-invalid",
        is_flag=True,
        help="Go on with the valid rows; the invalid ones are listed with their problems in the error file.",
    ),
    click.option(
        "--only-sku",
        multiple=True,
        metavar="SKU",
        help="Stock-out: act only on the lines with this SKU (repeatable; needs a Shopify orders export "
        "or a Matrixify sheet). All lines affected: cancel; some: refund those lines only.",
    ),
)

#: Where the shop is and how to authenticate (SPEC §3); the token never on the command line.
connection_options = option_group(
    click.option(
        "--shop",
        help="mystore, mystore.myshopify.com, or http://127.0.0.1:PORT for the "
        "simulator (default: $SHOPIFY_SHOP).",
    ),
    click.option(
        "--token-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="File holding the access token (default: $SHOPIFY_ACCESS_TOKEN).",
    ),
    click.option("--api-version", help="Admin API version (default: $SHOPIFY_API_VERSION or 2026-07)."),
    click.option("--timeout", type=float, help="Seconds one answer may take (default 30)."),
)

#: `--engine` of select, plan, run, execute and reconcile (SPEC §15).
ENGINES = ("auto", "paced", "bulk")


def engine_option(what: str) -> Decorator:
    """`--engine auto|paced|bulk`: `what` says what it carries and when `auto` takes bulk operations."""
    return click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True, help=what)


#: What `plan` and `run` share: the input options, the connection, test orders, the engine, where runs go.
plan_options = option_group(
    input_options,
    connection_options,
    engine_option(
        "How to read (and, with run --execute, carry out) the orders: auto takes Shopify's bulk "
        "operations above 2,000 orders or 15 paced minutes; paced or bulk force one."
    ),
    click.option("--include-test", is_flag=True, help="Also act on test orders (blocked by default)."),
    click.option(
        "--allow-repeat",
        is_flag=True,
        help="Plan orders that an earlier run already finished (their claim says what it did) again.",
    ),
    click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("reports"),
        show_default=True,
        help="Root folder of run directories.",
    ),
)

#: What `execute` and `run --execute` share: confirmation, pace, and the safety limits.
execution_options = option_group(
    click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts)."),
    click.option(
        "--concurrency",
        type=click.IntRange(1, 256),
        default=64,
        show_default=True,
        help="At most this many orders at once (fewer run while Shopify's cost bucket allows no more).",
    ),
    click.option(
        "--max-total",
        multiple=True,
        metavar="AMOUNT [CUR]",
        help="Refuse if the plan refunds more than AMOUNT in CUR (repeatable, one per currency; a bare "
        "amount is in the shop's currency). Every currency refunded then needs a limit.",
    ),
    click.option(
        "--max-age",
        type=float,
        default=24.0,
        show_default=True,
        help="Refuse a plan older than this many hours.",
    ),
    click.option(
        "--job-wait",
        type=float,
        default=30.0,
        show_default=True,
        help="Seconds to wait for a cancel job (or to prove a lost cancel never happened).",
    ),
)


def pick(options: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The values of one option set out of a command's keyword arguments."""
    return {key: options[key] for key in keys}


def connection_settings(options: Mapping[str, Any]) -> ConnectionSettings:
    """The connection settings from the command's options (and the environment)."""
    from pipeline.settings import ConnectionSettings

    return ConnectionSettings.from_options(**pick(options, CONNECTION_KEYS))


def run_settings(run_dir: Path, options: Mapping[str, Any]) -> ConnectionSettings:
    """Connection settings for a run directory: the plan's shop and API version unless told otherwise."""
    from pipeline.plan.head import plan_head
    from pipeline.settings import ConnectionSettings

    plan = plan_head(run_dir)
    shop = options["shop"]
    if not shop and not os.environ.get("SHOPIFY_SHOP"):
        shop = plan.shop_url or plan.shop
    return ConnectionSettings.from_options(
        shop=shop,
        token_file=options["token_file"],
        api_version=options["api_version"] or plan.api_version,
        timeout=options["timeout"],
    )
