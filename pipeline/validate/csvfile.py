"""Delimited text as people save it: encoding and delimiter guessed, every cell kept as text."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

import pandas as pd

from pipeline.errors import InputError

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_LINES = 50
# C0 controls other than tab, LF and CR never appear in a real spreadsheet export.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class TextGrid:
    """Cells of a delimited text file (row i of `grid` is file row i + 1) and how it was read."""

    grid: pd.DataFrame
    encoding: str
    delimiter: str


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of `data` and its encoding: UTF-8 (BOM or not), UTF-16 (BOM or evident), then cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif _looks_utf16(data):
        candidates = ["utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"]
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        _refuse_binary(text, name)
        return text, encoding
    raise InputError(
        f"{name}: cannot be read as text (not UTF-8, UTF-16 or Windows-1252); is it really a CSV?"
    )


def _looks_utf16(data: bytes) -> bool:
    # Excel "Unicode text" without its BOM: every other byte of ASCII text is NUL.
    head = data[:400]
    return len(head) >= 4 and (head[1::2].count(0) > len(head) * 0.4 or head[0::2].count(0) > len(head) * 0.4)


def _refuse_binary(text: str, name: str) -> None:
    sample = text[:_SAMPLE_CHARS]
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 100):
        raise InputError(
            f"{name}: looks like a binary file, not CSV text; export the sheet as CSV or give the .xlsx"
        )


def sniff_delimiter(text: str) -> str:
    """The delimiter among `, ; tab |` that splits the first lines most consistently into several cells."""
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = _field_counts(sample, delimiter)
        wide = [count for count in counts if count > 1]
        if not wide:
            continue
        modal = max(set(wide), key=lambda c: (wide.count(c), c))
        score = (wide.count(modal), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _field_counts(sample: str, delimiter: str) -> list[int]:
    counts = []
    try:
        for fields in csv.reader(io.StringIO(sample), delimiter=delimiter):
            if any(field.strip() for field in fields):
                counts.append(len(fields))
            if len(counts) >= _SAMPLE_LINES:
                break
    except csv.Error:
        pass
    return counts


def read_text_grid(data: bytes, name: str) -> TextGrid:
    """Parse delimited bytes into a grid of strings ("" for empty), one grid row per file row."""
    text, encoding = decode(data, name)
    if not text.strip():
        raise InputError(f"{name}: the file is empty")
    delimiter = sniff_delimiter(text)
    # UTF-8 input is handed to the C parser as is; anything else is re-encoded once.
    if encoding.startswith("utf-8"):
        raw = data[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else data
    else:
        raw = text.encode("utf-8")
    width = max(_field_counts(text[:_SAMPLE_CHARS], delimiter) or [1])
    try:
        grid = pd.read_csv(
            io.BytesIO(raw),
            sep=delimiter,
            header=None,
            names=range(width),
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8",
            engine="c",
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        grid = _read_ragged(text, delimiter, name)
    return TextGrid(grid=grid, encoding=encoding, delimiter=delimiter)


def _read_ragged(text: str, delimiter: str, name: str) -> pd.DataFrame:
    # Rows wider than the sample: the csv module takes any width; the validator flags the extra cells.
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InputError(f"{name}: cannot be parsed as CSV ({exc})") from None
    width = max(map(len, records), default=1)
    return pd.DataFrame([record + [""] * (width - len(record)) for record in records], dtype=object)
