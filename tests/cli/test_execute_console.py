"""execute's console: the seal, `--max-total` per currency, a closed standard input, nothing to do,
and `--help` in the order of the work."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.cli.app import WORK_ORDER
from pipeline.cli.limits import join_currency_words, parse_limits
from tests.cli.test_cli import INPUTS, bulkcancel, shop  # noqa: F401 (the served simulator fixture)

SAMPLE = str(INPUTS / "annulations_rupture.csv")


def planned(shop, out: Path, source: str = SAMPLE) -> Path:  # noqa: F811
    result = bulkcancel("plan", source, "--shop", shop.url, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def refunds(run_dir: Path) -> dict[str, float]:
    totals: dict[str, float] = {}
    for row in json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))["rows"]:
        for step in (row["action"] or {}).get("steps", []):
            if step["kind"] == "refund" and step["amount"]:
                totals[step["currency"]] = totals.get(step["currency"], 0) + float(step["amount"])
    return totals


def test_the_seal_is_shown_and_a_closed_stdin_is_a_refusal(shop, tmp_path):  # noqa: F811
    run_dir = planned(shop, tmp_path)
    seal = (run_dir / "plan.sha256").read_text(encoding="utf-8")[:12]
    result = bulkcancel("execute", str(run_dir), stdin="")
    assert f"executing plan {seal} …" in result.stderr
    assert result.returncode == 3 and "standard input is closed" in result.stderr
    assert "aborted" not in result.stderr and not (run_dir / "journal.sqlite").exists()


def test_max_total_per_currency_written_as_two_words(shop, tmp_path):  # noqa: F811
    run_dir = planned(shop, tmp_path)
    totals = refunds(run_dir)
    high = [arg for currency in totals for arg in ("--max-total", "1000000", currency)]
    # Under every limit: the check passes and the prompt comes (refused here by a closed stdin).
    passed = bulkcancel("execute", str(run_dir), *high, stdin="")
    assert passed.returncode == 3 and "standard input is closed" in passed.stderr, passed.stderr
    currency = next(iter(totals))
    low = ["--max-total", "1", currency, *high[3:]]
    over = bulkcancel("execute", str(run_dir), *low, "--yes")
    assert over.returncode == 3 and f"(limit 1 {currency})" in over.stderr, over.stderr
    missing = bulkcancel("execute", str(run_dir), "--max-total", "1000000 XAF", "--yes")
    assert missing.returncode == 3 and f"no limit in {currency}" in missing.stderr
    assert f"add --max-total AMOUNT {currency}" in missing.stderr
    bad = bulkcancel("execute", str(run_dir), "--max-total", "500 ZZZ", "--yes")
    assert bad.returncode == 2 and "ZZZ is not a currency code" in bad.stderr
    for result in (passed, over, missing, bad):
        assert "Traceback" not in result.stderr and not (run_dir / "journal.sqlite").exists()


def test_a_bare_max_total_is_the_shops_currency(shop, tmp_path):  # noqa: F811
    run_dir = planned(shop, tmp_path)
    result = bulkcancel("execute", str(run_dir), "--max-total", "1", "--yes")
    shop_currency = shop.simulator.api.store.shop.currency
    assert result.returncode == 3 and f"limit 1 {shop_currency}" in result.stderr, result.stderr


def test_nothing_to_execute_says_so(shop, tmp_path):  # noqa: F811
    source = tmp_path / "absent.csv"
    source.write_text("order,refund_mode\n#999991,original\n#999992,original\n", encoding="utf-8")
    run_dir = planned(shop, tmp_path, str(source))
    result = bulkcancel("execute", str(run_dir), "--yes")
    assert result.returncode == 0, result.stderr
    assert "actions: none to execute\n" in result.stdout and "actions: \n" not in result.stdout
    assert "left" not in result.stdout


def test_limits_are_read_per_currency():
    args = ["execute", "r", "--max-total", "500", "EUR", "--max-total=20", "usd", "--yes"]
    assert join_currency_words(args) == [
        "execute",
        "r",
        "--max-total",
        "500 EUR",
        "--max-total=20 usd",
        "--yes",
    ]
    assert join_currency_words(["execute", "--max-total", "500", "reports/x"])[2:] == ["500", "reports/x"]
    limits = parse_limits(["500 EUR", "USD 20", "7.5jpy", "30"], lambda: "GBP")
    assert {c: str(a) for c, a in limits.items()} == {"EUR": "500", "USD": "20", "JPY": "7.5", "GBP": "30"}
    for wrong in (["EUR 500 USD"], ["lots"], ["-5 EUR"], ["500 EUR", "600 EUR"]):
        with pytest.raises(click.BadParameter):
            parse_limits(wrong, lambda: "EUR")


def test_help_lists_the_commands_in_the_order_of_the_work():
    output = CliRunner().invoke(cli, ["--help"]).output
    listed = re.findall(r"^  ([a-z]+)\s", output.split("Commands:")[1], flags=re.MULTILINE)
    assert listed == [name for name in WORK_ORDER if name in listed]  # every one in the work's order
    work = [listed.index(name) for name in ("validate", "plan", "execute", "reconcile", "run")]
    assert work == sorted(work)
    assert listed != sorted(listed)
