"""`--max-total`: a refund limit per currency (`--max-total 500 EUR`, repeatable; SPEC §7 item 2).

A bare number is the limit in the shop's own currency; a plan that refunds in a currency without a
limit is refused (approval.py), so `--max-total 500` never silently lets 10,000 USD through.
`--max-total 500 EUR` written as two words on the command line is joined before click reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

import click

from pipeline.currencies import CODES

OPTION = "--max-total"
_LIMIT = re.compile(r"(?:(?P<before>[A-Za-z]{3})\s*)?(?P<amount>[0-9][0-9.]*)\s*(?P<after>[A-Za-z]{3})?")


def join_currency_words(args: Sequence[str]) -> list[str]:
    """`--max-total 500 EUR` → `--max-total`, `500 EUR`: the currency code after the amount is its own."""
    joined: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        joined.append(word)
        index += 1
        if word == OPTION and index < len(args):
            joined.append(args[index])
            index += 1
        elif not word.startswith(f"{OPTION}="):
            continue
        nxt = args[index] if index < len(args) else ""
        if nxt.upper() in CODES and re.fullmatch(r"[0-9][0-9.]*", joined[-1].split("=")[-1].strip()):
            joined[-1] = f"{joined[-1]} {nxt}"
            index += 1
    return joined


def parse_limits(values: Sequence[str], shop_currency: Callable[[], str]) -> dict[str, Decimal]:
    """Each `AMOUNT [CURRENCY]` as {currency: limit}; `shop_currency` is asked only for a bare number."""
    limits: dict[str, Decimal] = {}
    for value in values:
        match = _LIMIT.fullmatch(value.strip())
        if not match or (match["before"] and match["after"]):
            raise click.BadParameter(
                f"{value!r}: write an amount and its currency, e.g. 500 EUR", param_hint=OPTION
            )
        try:
            amount = Decimal(match["amount"])
        except InvalidOperation:
            raise click.BadParameter(
                f"{value!r}: {match['amount']} is not an amount", param_hint=OPTION
            ) from None
        code = (match["before"] or match["after"] or "").upper() or shop_currency()
        if code not in CODES:
            raise click.BadParameter(f"{value!r}: {code} is not a currency code", param_hint=OPTION)
        if code in limits:
            raise click.BadParameter(f"two limits for {code}: give one per currency", param_hint=OPTION)
        limits[code] = amount
    return limits
