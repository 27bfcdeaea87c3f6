"""`bulkcancel doctor`: can this token on this shop carry out a file, before the first real run (SPEC §3)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.options import connection_options, connection_settings
from pipeline.cli.probe import shop_state

if TYPE_CHECKING:
    from pipeline.settings import ConnectionSettings
    from pipeline.shopify.readiness import Needs, ShopState
    from pipeline.validate.rows import OrderRow


@click.command()
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An input file: also check what its rows need (gift cards, store credit, currencies).",
)
@click.option("--sheet", help="The sheet of an Excel input (default: the first).")
@connection_options
def doctor(inputs: tuple[Path, ...], sheet: str | None, **options: Any) -> None:
    """Check the connection, the token's scopes, the API version, rate limits, currencies and store credit.

    Exit 0 ready, 1 something missing (each with its fix), 2 cannot connect.

    \b
    Example:
      bulkcancel doctor --shop mystore --input cancellations.xlsx
    """
    from pipeline.errors import ConfigError
    from pipeline.shopify.readiness import Needs, description, findings

    settings = connection_settings(options)
    needs = _needs(inputs, sheet) if inputs else Needs()
    try:
        state = shop_state(settings)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"shop: {settings.shop}")
    for line in description(state):
        click.echo(f"  {line}")
    found = findings(state, needs)
    for finding in found:
        label = "blocks" if finding.blocking else "note"
        click.echo(f"{label}: {finding.what}; fix: {finding.fix}", err=finding.blocking)
    blocking = sum(1 for finding in found if finding.blocking)
    click.echo(f"{blocking} problems would block a run" if blocking else "ready")
    sys.exit(1 if blocking else 0)


def refuse_unready(settings: ConnectionSettings, rows: Sequence[OrderRow]) -> ShopState:
    """The first step of `plan`: what would block this file on this shop, each with its fix, then exit 2.
    Returns the shop as it answered (its rate limits choose the engine)."""
    from pipeline.errors import ConfigError
    from pipeline.shopify.readiness import findings

    state = shop_state(settings)
    blockers = [f for f in findings(state, needs_of(rows)) if f.blocking]
    for finding in blockers:
        click.echo(f"blocks: {finding.what}; fix: {finding.fix}", err=True)
    if blockers:
        raise ConfigError(
            f"{settings.shop} cannot carry out this file ({len(blockers)} above): nothing was planned"
        )
    return state


def _needs(inputs: tuple[Path, ...], sheet: str | None) -> Needs:
    """What the file's valid rows ask of the shop (invalid rows are `validate`'s business)."""
    from pipeline.cli.validate import read_and_validate

    _table, result = read_and_validate(inputs, sheet, None, False, False, "inventory")
    if result.problems:
        click.echo(
            f"{len(result.problems)} problems in the file: run `bulkcancel validate` for them", err=True
        )
    return needs_of(result.rows)


def needs_of(rows: Sequence[OrderRow]) -> Needs:
    """What valid rows ask of the shop: gift cards, store credit, currencies."""
    from pipeline.models import RefundMode
    from pipeline.shopify.readiness import Needs

    modes = {row.mode for row in rows}
    return Needs(
        gift_cards=RefundMode.GIFT_CARD in modes,
        store_credit=RefundMode.STORE_CREDIT in modes,
        currencies=frozenset(row.currency for row in rows if row.currency),
    )
