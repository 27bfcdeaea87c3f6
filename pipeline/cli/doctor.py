"""`bulkcancel doctor`: can this token on this shop carry out a file, before the first real run (SPEC §3)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.options import connection_options, connection_settings

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


def shop_state(settings: ConnectionSettings) -> ShopState:
    """What the shop says about itself and the token, in one try (ConfigError, exit 2, when unreachable)."""
    from pipeline.errors import AuthError, ConfigError, ShopifyError, ThrottledError
    from pipeline.shopify.client import ShopifyClient
    from pipeline.shopify.readiness import ShopState
    from pipeline.shopify.retry import execute_with_retry

    try:
        with ShopifyClient(settings) as client:
            try:  # one try: a shop that cannot be reached is said at once, not after a minute of retries
                answer = client.execute("Readiness", {}, mutation=False)
            except ThrottledError:  # a busy bucket is no connection problem: wait for it
                answer = execute_with_retry(client, "Readiness", {}, mutation=False)
    except AuthError as exc:  # the answer's own words name our document, not the merchant's task
        raise ConfigError(
            f"{settings.shop} refused the access token or a scope it needs: check SHOPIFY_ACCESS_TOKEN "
            "or --token-file, and `bulkcancel doctor` for the scopes"
        ) from exc
    except (ShopifyError, ConfigError) as exc:
        raise ConfigError(f"cannot connect to {settings.shop}: {exc}") from exc
    return ShopState.from_answer(answer.data, answer.cost, settings.api_version)


def refuse_unready(settings: ConnectionSettings, rows: Sequence[OrderRow]) -> None:
    """The first step of `plan`: what would block this file on this shop, each with its fix, then exit 2."""
    from pipeline.errors import ConfigError
    from pipeline.shopify.readiness import findings

    blockers = [f for f in findings(shop_state(settings), needs_of(rows)) if f.blocking]
    for finding in blockers:
        click.echo(f"blocks: {finding.what}; fix: {finding.fix}", err=True)
    if blockers:
        raise ConfigError(
            f"{settings.shop} cannot carry out this file ({len(blockers)} above): nothing was planned"
        )


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
