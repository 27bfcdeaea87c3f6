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


def render_page(
    title: str,
    subtitle: str,
    headline: Sequence[tuple[str, object]],
    charts: Sequence[Chart],
    tables: Sequence[Sheet],
    *,
    row_limit: int | None = None,
) -> str:
    """The whole page as one HTML string; the same input gives the same bytes."""
    ids = _Ids()
    headlines = [_Headline(ids.new("headline", label), label, display(value)) for label, value in headline]
    figures = [_figure(chart, ids.new("chart", chart.title)) for chart in charts]
    sections = [_table(sheet, ids.new("table", sheet.name), row_limit) for sheet in tables]
    return _TEMPLATES.get_template("page.html.j2").render(
        title=title, subtitle=subtitle, headlines=headlines, charts=figures, tables=sections
    )


def _figure(chart: Chart, element_id: str) -> _Figure:
    # Markup on purpose: matplotlib wrote this SVG and escaped the chart's own text inside it.
    return _Figure(element_id, chart.title, Markup(chart_svg(chart, element_id)))


def _table(sheet: Sheet, element_id: str, row_limit: int | None) -> _Table:
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
        notes.append(
            f"Showing the first {len(shown):,} of {len(sheet.rows):,} rows; the files hold them all."
        )
    return _Table(element_id, sheet.name, notes, head, rows)


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
