"""The reconciliation files of a run against the simulator: sheets, formats, totals, inert text."""

from __future__ import annotations

from decimal import Decimal

from openpyxl import load_workbook

from tests.reconcile.runs import executed, read_csv, reconciled

FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def test_the_workbook_has_its_sheets_formats_totals_and_inert_text(tmp_path):
    def hostile_customer(sim, plan):
        for customer in sim.api.store.customers.values():
            customer.first_name = FORMULA

    sim, run_dir = executed(tmp_path, before=hostile_customer)
    result = reconciled(sim, run_dir)
    book = load_workbook(run_dir / "reconciliation.xlsx")
    assert book.sheetnames == [
        "Summary",
        "Orders",
        "Exceptions",
        "Pending",
        "Refund transactions",
        "Payouts",
    ]
    orders = book["Orders"]
    header = [c.value for c in orders[1]]
    assert orders.freeze_panes == "A2" and orders.auto_filter.ref
    col = {title: i for i, title in enumerate(header)}
    lines = list(orders.iter_rows(min_row=2))
    sums: dict[tuple[str, str], Decimal] = {}
    formats = set()
    for line in lines:
        refunded = line[col["Refunded"]]
        if line[col["Method"]].value and refunded.value is not None:
            key = (line[col["Currency"]].value, line[col["Method"]].value)
            sums[key] = sums.get(key, Decimal(0)) + Decimal(str(refunded.value))
            formats.add((line[col["Currency"]].value, refunded.number_format))
    assert ("EUR", '#,##0.00 "EUR"') in formats
    assert all(f'"{code}"' in fmt for code, fmt in formats)
    # The Summary's per currency and method totals equal the sums of the Orders rows.
    summary = [[c.value for c in line] for line in book["Summary"].iter_rows()]
    start = next(
        i for i, line in enumerate(summary) if line[0] == "Planned vs refunded per currency and method"
    )
    head = summary[start + 1]
    totals = {}
    for line in summary[start + 2 :]:
        if not line[0]:
            break
        if line[0] == "all":  # the grand total, in the shop currency only
            continue
        totals[(line[0], line[1])] = Decimal(str(line[head.index("Refunded")]))
    assert totals == {k: v for k, v in sums.items()} and len(totals) >= 3
    # The hostile name is text in the workbook and in customers.csv, never a formula.
    names = [line[col["Customer"]] for line in lines if line[col["Customer"]].value]
    assert names and all(c.data_type == "s" and c.value.startswith(FORMULA) for c in names)
    people = read_csv(run_dir / "customers.csv")
    named = [p["name"] for p in people if p["name"]]
    assert named and all(name.startswith("'=HYPERLINK") for name in named)
    assert {"email", "name", "orders", "what_was_done", "amount", "method", "money_arrives"} <= set(people[0])
    arrivals = " ".join(p["money_arrives"] for p in people)
    assert "per the card issuer" in arrivals and "at once" in arrivals
    # refund_transactions.csv adds up to the settled refunds of the run, per currency.
    txs = read_csv(run_dir / "refund_transactions.csv")
    assert txs and {
        "transaction_id",
        "gateway",
        "status",
        "amount",
        "currency",
        "shop_amount",
        "action_key",
    } <= set(txs[0])
    per_currency: dict[str, Decimal] = {}
    for t in txs:
        if t["status"] == "SUCCESS":
            per_currency[t["currency"]] = per_currency.get(t["currency"], Decimal(0)) + Decimal(t["amount"])
    for code, amount in per_currency.items():
        rows = [r for r in result.reconciliation.rows if r.currency == code]
        assert amount == sum((r.refunded for r in rows), Decimal(0))  # gift cards are lines of their own
