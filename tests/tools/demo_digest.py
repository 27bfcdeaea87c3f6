"""Prints a normalised digest of every file `make demo` writes, so two trees' demos can be diffed.

Run ids, timestamps, ports, uuids, Shopify ids the simulator numbers in the order requests arrive,
gift-card last characters (derived from the run id) and matplotlib's random SVG ids are masked;
everything a person reads (decisions, amounts, statuses, words) is kept. xlsx: every cell of every
sheet; html: the visible text. Usage: python tests/tools/demo_digest.py REPORTS_DIR > digest.txt
"""

from __future__ import annotations

import csv
import html.parser
import json
import re
import sys
from pathlib import Path

import openpyxl

MASKS = [
    (re.compile(r"\d{8}-\d{6}-"), "RUN-"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), "TIME"),
    (re.compile(r"127\.0\.0\.1:\d+"), "HOST"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "UUID"),
    (re.compile(r"\b[0-9a-f]{40,64}\b"), "HASH"),
    # The plan's seal (12 hex digits of plan.json's sha256, which holds the run id and times).
    (re.compile(r"\b(seal\W{1,3})[0-9a-f]{12}\b"), r"\1SEAL"),
    (re.compile(r"^[0-9a-f]{12}$"), "SEAL"),
    (re.compile(r"(Refund|OrderTransaction|GiftCard|Job)/\d+"), r"\1/N"),
    (re.compile(r"…[A-Za-z0-9]{4}\b"), "…CODE"),
    (re.compile(r"\d+(\.\d+)? s\b"), "N s"),
]


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("style", "script", "svg"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "svg"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def digest(path: Path) -> list[str]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        secret = [i for i, name in enumerate(rows[0] if rows else []) if "last_chars" in name]
        for row in rows[1:]:
            for i in secret:
                row[i] = "CODE" if row[i] else ""
        return sorted(mask("|".join(row)) for row in rows)
    if path.suffix == ".json":
        return [mask(json.dumps(json.loads(path.read_text()), indent=1, sort_keys=True))]
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path)
        out = []
        for sheet in book.worksheets:
            rows = [
                mask("|".join("" if c is None else str(c) for c in row))
                for row in sheet.iter_rows(values_only=True)
            ]
            out += [f"[{sheet.title}] {r}" for r in sorted(rows)]
            out.append(f"[{sheet.title}] freeze={sheet.freeze_panes} filter={sheet.auto_filter.ref}")
        return out
    if path.suffix == ".html":
        parser = _Text()
        parser.feed(path.read_text())
        return sorted(mask(p) for p in parser.parts)
    return []


def main(root: Path) -> None:
    for run in sorted(root.iterdir(), key=lambda p: p.name[16:]):
        if not run.is_dir():
            continue
        for f in sorted(run.iterdir()):
            for line in digest(f):
                print(f"{run.name[16:]}/{f.name}: {line}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
