"""Writes the input corpus in tests/data/ and the demo samples in inputs/: `python tests/data/make_corpus.py`.

Each file is named after what it exercises; tests/test_corpus.py holds what each must produce.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
INPUTS = HERE.parent.parent / "inputs"
EN = "order,refund_mode,action,amount,currency,lines,shipping,restock,notify,reason,note"


def text(name: str, content: str, encoding: str = "utf-8", bom: bytes = b"") -> None:
    (HERE / name).write_bytes(bom + content.encode(encoding))


def workbook(
    name: str, rows: list[list[object]], merge: tuple[str, ...] = (), hidden: tuple[int, ...] = ()
) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Cancellations"
    for row in rows:
        sheet.append(row)
    for cells in merge:
        sheet.merge_cells(cells)
    for row_number in hidden:
        sheet.row_dimensions[row_number].hidden = True
    path = HERE / name
    book.save(path)
    return path


def cache_formula_results(path: Path, results: dict[str, tuple[str, str]]) -> None:
    """Give formula cells the cached results Excel stores on save (openpyxl writes none)."""
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    xml = parts[member].decode()
    for ref, (kind, value) in results.items():
        xml = re.sub(rf'<c r="{ref}">(<f>.*?</f>)<v />', rf'<c r="{ref}" t="{kind}">\1<v>{value}</v>', xml)
    parts[member] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def write_corpus() -> None:
    text(
        "utf8_bom_semicolon_decimal_comma.csv",
        "Commande;Mode de remboursement;Montant;Devise;Commentaire\r\n"
        "#1001;partiel;12,50;EUR;Rupture fournisseur\r\n"
        "#1002;avoir;1.234,56;EUR;Client prévenu\r\n"
        "#1003;origine;;;\r\n",
        bom=codecs.BOM_UTF8,
    )
    text(
        "utf16_excel_unicode_text.txt",
        "order\trefund_mode\tamount\tnote\r\n#1001\tstore credit\t7,5\tCafé crème\r\n#1002\tnone\t\tÉté\r\n",
        encoding="utf-16-le",
        bom=codecs.BOM_UTF16_LE,
    )
    text(
        "cp1252_french_accents.csv",
        "Numéro de commande;Remboursement;Motif;Commentaire\r\n#1001;crédit en magasin;rupture;Réf. été\r\n"
        "#1002;carte-cadeau;refusé;Noël — 2e envoi\r\n",
        encoding="cp1252",
    )
    text(
        "tab_delimited.tsv",
        "order\trefund_mode\tlines\n#1001\toriginal\tBC-00S:1;BC-01M:2\n#1002\tgift card\t\n",
    )
    text("pipe_delimited.txt", "order|refund_mode|amount\n#1001|original|10.00\n#1002|card|\n")
    text(
        "french_headers_accents_spaces.csv",
        " N° Commande ;MODE DE REMBOURSEMENT;Opération;Réapprovisionner;Prévenir le client;Raison\n"
        "#1001;Carte cadeau;Annuler;oui;VRAI;Fraude\n#1002;Sans remboursement;annuler;non;faux;autre\n",
    )
    text(
        "duplicate_orders.csv",
        "order,refund_mode\n#1001,original\n#1002,original\n1001,original\n1001.0,none\n",
    )
    text(
        "huge_cell_10000_chars.csv",
        f"order,refund_mode,note\n#1001,original,{'x' * 10_000}\n#1002,original,ok\n",
    )
    text(
        "csv_formula_injection.csv",
        'order,refund_mode,amount,note\n"=HYPERLINK(""http://x"",""#1001"")",original,,\n'
        "#1002,original,-5,\n#1003,original,+12,@SUM(A1)\n#1004,original,=1+1,\n",
    )
    text(
        "bad_values_every_kind.csv",
        EN
        + "\n"
        + "\n".join(
            [
                ",original,,,,,,,,,",  # 2 order empty
                "#10 01,original,,,,,,,,,",  # 3 order malformed
                "#1003,refund_maybe,,,,,,,,,",  # 4 unknown mode
                "#1004,original,delete,,,,,,,,",  # 5 unknown action
                "#1005,original,,12.5O,,,,,,,",  # 6 amount not a number
                "#1006,original,,0,,,,,,,",  # 7 amount zero
                "#1007,original,,12.345,EUR,,,,,,",  # 8 too many decimals for EUR
                "#1008,original,,12.5,JPY,,,,,,",  # 9 JPY takes whole amounts
                '#1009,original,,"1,234",,,,,,,',  # 10 ambiguous thousands/decimals
                "#1010,original,,10,EURO,,,,,,",  # 11 unknown currency
                "#1011,original,,,,BC-00S,,,,,",  # 12 lines without quantity
                "#1012,original,,,,BC-00S:0,,,,,",  # 13 quantity 0
                '#1013,original,,,,"BC-00S:1;BC-00S:2",,,,,',  # 14 SKU twice
                "#1014,original,,,,,maybe,,,,",  # 15 shipping
                "#1015,original,,,,,,perhaps,,,",  # 16 restock
                "#1016,original,,,,,,,si,,",  # 17 notify
                "#1017,original,,,,,,,,weather,",  # 18 reason
                "#1018,none,,5,,,,,,,",  # 19 amount with none
                "#1019,none,,,,BC-00S:1,,,,,",  # 20 lines with none
                "#1020,partial,,,,,,,,,",  # 21 partial without amount
                "#1021,none,refund_only,,,,,,,,",  # 22 refund_only refunds nothing
                "#1022,,,,,,,,,,",  # 23 mode empty, no default
                f"#1023,original,,,,,,,,,{'n' * 256}",  # 24 note too long
                "#N/A,original,,,,,,,,,",  # 25 Excel error value
                "#1025,none,,,,,yes,,,,",  # 26 shipping refund with none
            ]
        )
        + "\n",
    )
    text(
        "title_rows_above_header.csv",
        "Stock-out 12 March;;\nprepared by ops;;\n\norder;refund_mode;amount\n"
        "#1001;original;;\n#1002;original;abc\n",
    )
    text("missing_required_column.csv", "commande_client,refund_mode\n#1001,original\n")
    text("no_data_rows.csv", "order,refund_mode,amount\n\n\n")
    text("unknown_columns_warning.csv", "order,refund_mode,customer email,total\n#1001,original,a@b.c,10\n")
    text("blank_rows_between.csv", "order,refund_mode\n\n#1001,original\n,\n\n#1002,unknown\n")
    text(
        "unquoted_comma_in_note.csv",
        "order,refund_mode,note\n#1001,original,sorry, out of stock\n#1002,original,ok\n",
    )
    text("scientific_notation_orders.csv", "Name;Refund mode\n6,95478E+12;original\n#1002;original\n")
    text(
        "one_quoted_field_per_row.csv", '"order,refund_mode,amount"\n"#1001,original,"\n"#1002,original,5"\n'
    )
    text(
        "invisible_chars_and_apostrophes.csv",
        "order,refund_mode,note\n'#1001,original,a\n#1002\u200b,store_credit,b\n\u00a0#1003\u00a0,none,c\n"
        "\ufeff1004,original,d\n",
    )
    text(
        "crlf_multiline_note.csv",
        'order,refund_mode,note\r\n#1001,original,"line one\r\nline two"\r\n#1002,oops,x\r\n',
    )
    text("duplicate_columns.csv", "order,amount,montant,refund_mode\n#1001,5,6,original\n")
    text("only_order_column.csv", "order\n#1001\n#1002\n")
    (HERE / "binary_junk_renamed.csv").write_bytes(bytes(range(256)) * 4)
    (HERE / "empty_file.csv").write_bytes(b"")
    text("whitespace_only.csv", "  \r\n\r\n \t \n")
    (HERE / "truncated_xlsx.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 60)

    workbook(
        "excel_float_order_numbers.xlsx",
        [
            ["Order number", "Refund mode", "Refund amount"],
            [1001, "original", None],
            [1002.0, "credit", 12.5],
            [1003, "partial", 0.1 + 0.2],
        ],
    )
    workbook(
        "merged_header_cells.xlsx",
        [["Refund", None, None], ["order", "refund_mode", "amount"], ["#1001", "original", None]],
        merge=("A2:B2",),
    )
    workbook(
        "merged_value_cells.xlsx",
        [["order", "refund_mode"], ["#1001", "original"], ["#1002", None], ["#1003", None]],
        merge=("B2:B4",),
    )
    workbook(
        "hidden_empty_rows.xlsx",
        [["order", "refund_mode"], ["#1001", "original"], [], [], ["#1002", "nope"]],
        hidden=(3, 4),
    )
    book = Workbook()
    book.active.title = "Empty"
    book.save(HERE / "empty_sheet.xlsx")
    book.create_sheet("Orders").append(["order", "refund_mode"])
    book["Orders"].append(["#1001", "original"])
    book.save(HERE / "second_sheet_has_data.xlsx")
    path = workbook(
        "formula_cells.xlsx",
        [["order", "refund_mode", "amount"], ['="#"&"1002"', "original", "=5*2"], ["=1/0", "original", None]],
    )
    cache_formula_results(
        path, {"A2": ("str", "#1002"), "B2": ("str", "original"), "C2": ("n", "10"), "A3": ("e", "#DIV/0!")}
    )
    workbook(
        "title_rows_merged_above_header.xlsx",
        [["Cancellations — March"], [], ["order", "refund_mode"], ["#1001", "original"], ["#1002", "bad"]],
        merge=("A1:B1",),
    )
    (HERE / "xlsx_renamed_as_csv.csv").write_bytes((HERE / "excel_float_order_numbers.xlsx").read_bytes())


if __name__ == "__main__":
    write_corpus()
