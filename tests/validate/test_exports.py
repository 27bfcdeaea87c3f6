"""Files merchants already have (SPEC §5a): every file of tests/data/make_exports.py and what it gives,
`--only-sku`, and exports of the simulator's seeded orders planned end to end."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.models import Action, Reason, RefundMode
from pipeline.plan.decide import Decision, ReasonCode
from pipeline.plan.lookup import Lookup
from pipeline.plan.planner import make_plan
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator import accounting as acc
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.exports import ITEMS, MATRIXIFY, SHOPIFY_EXPORT, only_sku
from pipeline.validate.parse import looks_rounded
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.data.make_exports import HEADER_79, export_csv, export_rows, spec_from_order
from tests.harness import settings, simulator

DATA = Path(__file__).parents[1] / "data"
ORIGINAL = Defaults(default_mode=RefundMode.ORIGINAL)
BASIC_NAMES = ["#1001", "#1002", "#1003"]
BASIC_IDS = [f"gid://shopify/Order/560123456700{n}" for n in (1, 2, 3)]

# file → (kind, rows read, orders, problems as (row, column, kind), warnings, first rows, names)
EXPECTED: dict[str, tuple[str, int, int, list[tuple[int, str, str]], list[str], list[int], list[str]]] = {
    **{
        f"orders_export_{n}_columns.csv": (SHOPIFY_EXPORT, 6, 3, [], [], [2, 4, 5], BASIC_NAMES)
        for n in (79, 78, 75, 73, 71)
    },
    "orders_export_multiline_notes_emoji.csv": (SHOPIFY_EXPORT, 3, 2, [], [], [2, 4], ["#1004", "#1005"]),
    "orders_export_crlf_bom.csv": (SHOPIFY_EXPORT, 3, 2, [], [], [2, 4], ["#1004", "#1005"]),
    "orders_export_custom_names.csv": (
        SHOPIFY_EXPORT,
        7,
        5,
        [],
        [],
        [2, 3, 5, 6, 8],
        ["#AP-512187", "Her2065", "2518826", "#10684-EXC", "EU-1203"],
    ),
    "orders_export_apostrophes_invisible.csv": (SHOPIFY_EXPORT, 2, 2, [], [], [2, 3], ["#1006", "#1007"]),
    "orders_export_excel_resave_semicolon.csv": (
        SHOPIFY_EXPORT,
        6,
        3,
        [(5, "order_id", "scientific_notation")],
        [],
        [2, 4],
        ["#1001", "#1002"],
    ),
    "orders_export_appended_refund_columns.csv": (SHOPIFY_EXPORT, 4, 2, [], [], [2, 4], ["#1008", "#1009"]),
    "orders_export_disagreeing_refund_columns.csv": (
        SHOPIFY_EXPORT,
        3,
        1,
        [(3, "refund_mode", "disagreeing_rows"), (4, "refund_mode", "disagreeing_rows")],
        [],
        [],
        [],
    ),
    "orders_export_parts.zip": (
        SHOPIFY_EXPORT,
        7,
        3,
        [],
        [
            "order #1002 (Id 5601234567002) is listed again at orders_export_2.csv row 2 after "
            "orders_export_1.csv row 4: it is read once"
        ],
        [2, 4, 3],
        BASIC_NAMES,
    ),
    "orders_export_title_rows.csv": (
        SHOPIFY_EXPORT,
        6,
        3,
        [],
        ["rows 1–2 above the header (row 3) skipped"],
        [4, 6, 7],
        BASIC_NAMES,
    ),
    "orders_export_totals_row.csv": (
        SHOPIFY_EXPORT,
        6,
        3,
        [],
        ['row 8 looks like a totals row ("Total"): it is ignored'],
        [2, 4, 5],
        BASIC_NAMES,
    ),
    "orders_export_same_name_two_ids.csv": (SHOPIFY_EXPORT, 3, 2, [], [], [2, 3], ["#1001", "#1001"]),
    "orders_export_numeric_cells.xlsx": (SHOPIFY_EXPORT, 6, 3, [], [], [2, 4, 5], ["1001", "1002", "1003"]),
    "orders_export_quote_prefix.xlsx": (SHOPIFY_EXPORT, 6, 3, [], [], [2, 4, 5], BASIC_NAMES),
    "orders_export_merged_names.xlsx": (
        SHOPIFY_EXPORT,
        6,
        4,
        [(2, "order", "merged_cells"), (3, "order", "missing_value")],
        [],
        [],
        [],
    ),
    "matrixify_cancel_orders.xlsx": (
        MATRIXIFY,
        6,
        2,
        [],
        [
            "Matrixify columns not used by bulkcancel are ignored: Command, Email, Note, Tags, Created At, "
            "Currency and 6 more"
        ],
        [2, 6],
        ["#2001", "#2002"],
    ),
    "matrixify_orders_csv.zip": (
        MATRIXIFY,
        6,
        2,
        [],
        [
            "Matrixify columns not used by bulkcancel are ignored: Command, Email, Note, Tags, Created At, "
            "Currency and 6 more"
        ],
        [2, 6],
        ["#2001", "#2002"],
    ),
}


#: Every file of make_exports.py; tests/test_corpus.py checks the rest of tests/data/.
COVERED = {*EXPECTED, "transactions_export.csv", "products_export.csv", "orders_export_part_old_header.csv"}

#: Files with a refund mode of their own; the others say every row takes --default-mode.
WITH_MODE = {
    "orders_export_appended_refund_columns.csv",
    "orders_export_disagreeing_refund_columns.csv",
    "matrixify_cancel_orders.xlsx",
}
NO_MODE = (
    "no --only-sku: every order in the export is cancelled with a full refund to original (--default-mode)"
)


def read(name: str, defaults: Defaults = ORIGINAL):
    table = read_input([DATA / name])
    return table, validate_table(table, defaults)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_gives_exactly_its_outcome(name):
    kind, rows, orders, problems, warnings, firsts, names = EXPECTED[name]
    table, result = read(name)
    assert table.kind == kind
    assert (result.rows_read, result.orders) == (rows, orders)
    assert [(p.row, p.column, p.kind) for p in result.problems] == problems
    assert result.warnings == warnings + ([] if name in WITH_MODE else [NO_MODE])
    assert [r.row for r in result.rows] == firsts
    assert [r.order_name for r in result.rows] == names
    assert all(r.order_gid and r.order_key == r.order_gid for r in result.rows)
    assert [r.expected_name for r in result.rows] == names


def test_the_first_row_id_resolves_the_order_and_line_items_are_kept():
    table, result = read("orders_export_79_columns.csv")
    assert [r.order_gid for r in result.rows] == BASIC_IDS
    assert list(table.frame[ITEMS]) == [
        (("BC-07M", "2"), ("BC-02S", "1")),
        (("BC-07M", "1"),),
        (("BC-02S", "1"), ("BC-11L", "3"), ("BC-07M", "1")),
    ]


def test_without_refund_columns_the_default_mode_is_required():
    _, result = read("orders_export_79_columns.csv", Defaults())
    assert [(p.row, p.column, p.kind) for p in result.problems] == [(1, "refund_mode", "missing_column")]


def test_appended_refund_columns_are_read_from_the_first_row_or_all_rows_that_agree():
    _, result = read("orders_export_appended_refund_columns.csv", Defaults())
    assert [(r.mode, r.notify, r.note) for r in result.rows] == [
        (RefundMode.STORE_CREDIT, True, "Avoir"),
        (RefundMode.ORIGINAL, False, ""),
    ]
    _, result = read("orders_export_disagreeing_refund_columns.csv")
    assert str(result.problems[0]) == (
        'row 3, refund_mode: "store credit" differs from "original" on row 2 of the same order #1010: '
        "give one value per order (or fill only its first row)"
    )


def test_apostrophes_invisible_characters_and_nfd_are_cleaned():
    table, result = read("orders_export_apostrophes_invisible.csv")
    assert [r.order_gid for r in result.rows] == [
        "gid://shopify/Order/5601234567006",
        "gid://shopify/Order/5601234567007",
    ]
    assert [r.note for r in result.rows] == ["Rupture de stock", "Café renversé"]
    assert table.frame[ITEMS].iloc[1] == (("BC-07M", "1"),)


def test_scientific_ids_are_refused_with_the_hint():
    _, result = read("orders_export_excel_resave_semicolon.csv")
    assert str(result.problems[0]) == (
        'row 5, order_id: "5,60123E+12" is in scientific notation: Excel turned it into a number and kept '
        "only 15 significant digits: format the column as text and export the file again"
    )


def test_parts_given_one_by_one_read_like_the_zip(tmp_path):
    with zipfile.ZipFile(DATA / "orders_export_parts.zip") as archive:
        archive.extractall(tmp_path)
    table = read_input([tmp_path / "orders_export_1.csv", tmp_path / "orders_export_2.csv"])
    result = validate_table(table, ORIGINAL)
    assert [r.order_gid for r in result.rows] == BASIC_IDS
    assert [r.source for r in result.rows] == [
        "orders_export_1.csv",
        "orders_export_1.csv",
        "orders_export_2.csv",
    ]
    assert len(result.warnings) == 2


def test_parts_whose_headers_differ_are_refused(tmp_path):
    with zipfile.ZipFile(DATA / "orders_export_parts.zip") as archive:
        archive.extractall(tmp_path)
    with pytest.raises(InputError, match="different columns"):
        read_input([tmp_path / "orders_export_1.csv", DATA / "orders_export_part_old_header.csv"])


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("transactions_export.csv", "this is Shopify's transaction-history export"),
        ("products_export.csv", "this is a Shopify products export"),
    ],
)
def test_wrong_file_types_are_named_and_refused(name, what):
    with pytest.raises(InputError) as caught:
        read_input([DATA / name])
    assert str(caught.value).startswith(f"{name}: {what}")
    assert "export" in str(caught.value).split(":", 2)[2].casefold()


def test_a_prepared_matrixify_cancel_sheet_maps_onto_our_modes():
    _, result = read("matrixify_cancel_orders.xlsx", Defaults())
    assert [(r.mode, r.reason, r.notify, r.action) for r in result.rows] == [
        (RefundMode.ORIGINAL, Reason.INVENTORY, True, Action.CANCEL),
        (RefundMode.NONE, Reason.CUSTOMER, False, Action.CANCEL),
    ]


def test_only_sku_cancels_whole_orders_and_refunds_lines_of_the_others():
    table = only_sku(read_input([DATA / "orders_export_79_columns.csv"]), ["BC-07M"])
    result = validate_table(table, ORIGINAL)
    assert result.problems == []
    assert [(r.order_name, r.action, r.lines, r.restock) for r in result.rows] == [
        ("#1001", Action.REFUND_ONLY, (("BC-07M", 2),), False),
        ("#1002", Action.CANCEL, (), False),
        ("#1003", Action.REFUND_ONLY, (("BC-07M", 1),), False),
    ]
    table = only_sku(read_input([DATA / "orders_export_79_columns.csv"]), ["BC-11L"])
    assert table.left_out == 2
    assert table.warnings == ["2 orders have no line with SKU BC-11L: left out (--only-sku)"]
    matrixify = only_sku(read_input([DATA / "matrixify_orders_csv.zip"]), ["BC-02S"])
    assert list(matrixify.frame["lines"]) == ["BC-02S:1"] and matrixify.left_out == 1


def test_only_sku_needs_line_items():
    with pytest.raises(InputError, match="--only-sku needs the orders' line items"):
        only_sku(read_input([DATA / "tab_delimited.tsv"]), ["BC-07M"])


def test_a_rounded_id_is_recognised():
    assert looks_rounded("gid://shopify/Order/5601234567001230000")
    assert not looks_rounded("gid://shopify/Order/5601234567001")


# The same rules against the simulator: an export of seeded orders, planned.


@pytest.fixture(scope="module")
def shop():
    sim = simulator(orders=120, seed=7)
    with ShopifyClient(settings(), SimulatorTransport(sim)) as client:
        yield sim.api.store, client


def plain(store, order) -> bool:
    names = [o.name for o in store.orders.values()]
    return (
        names.count(order.name) == 1
        and not order.test
        and order.cancelled_at is None
        and acc.fulfillment_status(order) == "UNFULFILLED"
        and acc.financial_status(order) == "PAID"
        and order.customer_id is not None
        and order.presentment_currency == order.currency
        and all(li.sku for li in order.line_items)
    )


def plan_export(client, path: Path, skus: list[str]):
    table = read_input([path])
    table = only_sku(table, skus) if skus else table
    result = validate_table(table, ORIGINAL)
    assert result.problems == []
    plan = make_plan(result.rows, Lookup(client), run_id="20260312-000000-export", shop="sim",
                     api_version="2026-07", input_name=path.name, input_sha256="0")  # fmt: skip
    return table, {r.order: r for r in plan.rows}


def test_only_sku_on_an_export_plans_cancellations_and_line_refunds(shop, tmp_path):
    store, client = shop
    orders = [o for o in sorted(store.orders.values(), key=lambda o: o.id) if plain(store, o)]
    single = next(o for o in orders if len(o.line_items) == 1)
    sku = single.line_items[0].sku
    multi = next(
        o for o in orders
        if len(o.line_items) > 1 and len({li.sku for li in o.line_items}) == len(o.line_items)
        and {li.sku for li in o.line_items} - {sku, o.line_items[0].sku}
    )  # fmt: skip
    other = next(
        o
        for o in orders
        if o not in (single, multi) and not {li.sku for li in o.line_items} & {sku, multi.line_items[0].sku}
    )
    path = tmp_path / "orders_export_1.csv"
    path.write_bytes(
        export_csv(export_rows([spec_from_order(store, o) for o in (single, multi, other)], HEADER_79))
    )
    table, planned = plan_export(client, path, [sku, multi.line_items[0].sku])
    assert table.left_out == 1 and other.name not in planned
    cancel, refund = planned[single.name], planned[multi.name]
    assert cancel.decision is Decision.EXECUTE
    assert [s.kind for s in cancel.action.steps] == ["claim", "cancel", "tag"]
    assert cancel.action.steps[1].amount == acc.net_payment(single)
    assert refund.decision is Decision.EXECUTE
    assert [s.kind for s in refund.action.steps] == ["claim", "refund", "tag"]
    lines = refund.action.steps[1].refund_lines
    assert [(line.quantity, str(line.restock_type)) for line in lines] == [
        (multi.line_items[0].quantity, "NO_RESTOCK")
    ]


def test_export_ids_are_cross_checked_and_names_stay_exact(shop, tmp_path):
    store, client = shop
    orders = [o for o in sorted(store.orders.values(), key=lambda o: o.id) if plain(store, o)]
    good, renamed, rounded = (spec_from_order(store, o) for o in orders[:3])
    renamed.name = "#99999"  # the Id is another order's: exported from another shop?
    rounded.id = rounded.id + "0000"  # Excel rounded a 17-digit id
    names = [o.name for o in store.orders.values()]
    twice = spec_from_order(store, next(o for o in store.orders.values() if names.count(o.name) > 1))
    twice.id = ""  # no Id: looked up by name, and two orders bear it
    path = tmp_path / "orders_export.csv"
    path.write_bytes(export_csv(export_rows([good, renamed, rounded, twice], HEADER_79)))
    _, planned = plan_export(client, path, [])
    assert {name: (p.decision, p.reason) for name, p in planned.items()} == {
        good.name: (Decision.EXECUTE, None),
        "#99999": (Decision.BLOCKED, ReasonCode.NAME_MISMATCH),
        rounded.name: (Decision.BLOCKED, ReasonCode.NOT_FOUND),
        twice.name: (Decision.BLOCKED, ReasonCode.AMBIGUOUS),
    }
    assert planned["#99999"].message.startswith(f"Id {renamed.id} is order {orders[1].name} in this shop")
    assert planned[rounded.name].message == (
        f"no order with Id {rounded.id} ({rounded.name} in the file): the Id looks rounded — Excel turned "
        "it into a number and kept only 15 significant digits: format the column as text and export the "
        "file again"
    )
