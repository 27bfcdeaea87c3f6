"""Self-contained report pages rendered from the package's jinja2 templates, with every value escaped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from pipeline.reports.cells import display
from pipeline.reports.chart import Chart, chart_svg
from pipeline.reports.table import Sheet

__all__ = ["Chart", "render_page"]

_NUMERIC = frozenset(("int", "money", "percent"))
# Autoescape for every value: the only markup a page takes unescaped is the SVG this package draws.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class _Headline:
    id: str
    label: str
    value: str


@dataclass(frozen=True)
class _Figure:
    id: str
    title: str
    svg: Markup


@dataclass(frozen=True)
class _Cell:
    text: str
    numeric: bool


@dataclass(frozen=True)
class _Row:
    cells: list[_Cell]
    exception: bool


@dataclass(frozen=True)
class _Table:
    id: str
    name: str
    notes: list[str]
    head: list[_Cell]
    rows: list[_Row]
    widths: list[str]  # `12.5%` per column when the table is laid out by its columns' widths


#: Relative widths of columns that give none, by kind, when a page lays tables out by width.
_WEIGHTS = {"int": 6, "money": 11, "percent": 7, "date": 10, "text": 10}
#: What a table cut at `row_limit` says by default about the rows it leaves out.
REST = "the files hold them all."


def render_page(
    title: str,
    subtitle: str,
    headline: Sequence[tuple[str, object]],
    charts: Sequence[Chart],
    tables: Sequence[Sheet],
    *,
    row_limit: int | None = None,
    rest: str = REST,
    banner: str = "",
    details: Sequence[tuple[str, str]] = (),
    by_width: bool = False,
) -> str:
    """The whole page as one HTML string; the same input gives the same bytes.

    `banner` stays in view at the top of the screen and of every printed page; `details` are
    label/value lines under the title; `by_width` lays each table out by its columns' widths (each
    column's `width`, else by kind), every cell wrapping, so nothing hides behind a sideways scroll.
    A table longer than `row_limit` shows its first rows and says `rest` about the others.
    """
    ids = _Ids()
    headlines = [_Headline(ids.new("headline", label), label, display(value)) for label, value in headline]
    figures = [_figure(chart, ids.new("chart", chart.title)) for chart in charts]
    sections = [_table(sheet, ids.new("table", sheet.name), row_limit, rest, by_width) for sheet in tables]
    return _TEMPLATES.get_template("page.html.j2").render(
        title=title,
        subtitle=subtitle,
        headlines=headlines,
        charts=figures,
        tables=sections,
        banner=banner,
        details=details,
        by_width=by_width,
    )


def _figure(chart: Chart, element_id: str) -> _Figure:
    # Markup on purpose: matplotlib wrote this SVG and escaped the chart's own text inside it.
    return _Figure(element_id, chart.title, Markup(chart_svg(chart, element_id)))


def _table(sheet: Sheet, element_id: str, row_limit: int | None, rest: str, by_width: bool) -> _Table:
    shown = sheet.rows if row_limit is None else sheet.rows[:row_limit]
    numeric = [column.kind in _NUMERIC for column in sheet.columns]
    head = [_Cell(column.title, num) for column, num in zip(sheet.columns, numeric, strict=True)]
    rows = [
        _Row(
            [
                _Cell(display(row.get(column.key), column.kind, column.currency(row)), num)
                for column, num in zip(sheet.columns, numeric, strict=True)
            ],
            sheet.is_exception(row),
        )
        for row in shown
    ]
    notes = list(sheet.notes)
    if len(shown) < len(sheet.rows):
        notes.append(f"Showing the first {len(shown):,} of {len(sheet.rows):,} rows; {rest}")
    weights = [column.width or _WEIGHTS[column.kind] for column in sheet.columns] if by_width else []
    widths = [f"{100 * weight / sum(weights):.2f}%" for weight in weights]
    return _Table(element_id, sheet.name, notes, head, rows, widths)


class _Ids:
    """Stable, unique element ids from titles: `chart-refunds-by-method`, then `-2` on a repeat."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def new(self, prefix: str, title: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "item"
        element_id, number = f"{prefix}-{slug}", 1
        while element_id in self._seen:
            number += 1
            element_id = f"{prefix}-{slug}-{number}"
        self._seen.add(element_id)
        return element_id
