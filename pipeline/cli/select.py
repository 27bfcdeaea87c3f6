"""`bulkcancel select`: the shop's orders that hold some SKUs, written as an input file (SPEC §15)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from pipeline.cli.options import MODES, connection_options, connection_settings, engine_option


@click.command(name="select")
@click.option(
    "--sku", "skus", multiple=True, required=True, metavar="SKU", help="A SKU out of stock (repeatable)."
)
@click.option(
    "--status",
    type=click.Choice(("unfulfilled", "open", "any")),
    default="unfulfilled",
    show_default=True,
    help="unfulfilled: open orders' units not yet shipped; open: open orders' units; any: every order.",
)
@click.option(
    "--created-since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only orders created on or after."
)
@click.option("--query", "query_text", help="More Shopify search terms, e.g. 'tag:preorder'.")
@click.option("--mode", type=click.Choice(MODES), help="The refund_mode to write (default: blank).")
@engine_option("How to read: auto uses a bulk query above 250 matching orders.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The CSV to write."
)
@connection_options
def select(
    skus: tuple[str, ...],
    status: str,
    created_since: datetime | None,
    query_text: str | None,
    mode: str | None,
    engine: str,
    out: Path,
    **options: Any,
) -> None:
    """Find the orders holding these SKUs and write an input file for them; never writes to Shopify.

    \b
    Example:
      bulkcancel select --sku BC-01M --status unfulfilled --out stockout.csv
      bulkcancel plan stockout.csv --only-sku BC-01M --default-mode original
    """
    from pipeline.select.affected import Selection
    from pipeline.select.selector import select_orders
    from pipeline.shopify.bulk import BulkOperations
    from pipeline.shopify.client import ShopifyClient

    wanted = tuple(s.strip() for s in skus if s.strip())
    if not wanted:
        raise click.BadParameter("give at least one SKU", param_hint="--sku")
    if not out.parent.is_dir():
        raise click.BadParameter(f"folder {out.parent} does not exist", param_hint="--out")
    selection = Selection(wanted, status, created_since.date() if created_since else None, query_text)
    settings = connection_settings(options)

    def show(progress: Any) -> None:
        click.echo(f"bulk query: {progress}", err=True)

    with ShopifyClient(settings) as client:
        bulk = BulkOperations(client)
        try:
            done = select_orders(client, bulk, selection, out, mode=mode, engine=engine, progress=show)
        finally:
            bulk.close()
    click.echo(f"search: {done.query} ({done.matched} orders matched, read through the {done.engine} API)")
    click.echo(f"wrote {done.written} orders to {done.out}")
