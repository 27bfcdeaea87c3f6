"""Self-contained report pages: headline figures, inline SVG charts, tables; nothing loads from a network."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any, Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pipeline import currencies
from pipeline.reports.cells import display, money_text
from pipeline.reports.table import Sheet

# The page forbids every fetch, so a stray link in data can never phone home or break offline.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;
max-width:80rem;padding:0 1rem;color:#1f2328}
h1{margin:0 0 .2rem}.subtitle{color:#59636e;margin:0 0 1.5rem}
.headlines{display:flex;flex-wrap:wrap;gap:.75rem;margin-bottom:1.5rem}
.headline{border:1px solid #d1d9e0;border-radius:6px;padding:.6rem 1rem;min-width:10rem}
.headline .label{display:block;color:#59636e;font-size:.85rem}
.headline .value{display:block;font-size:1.5rem;font-weight:600;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(24rem,1fr));gap:1rem}
figure.chart{margin:0;border:1px solid #d1d9e0;border-radius:6px;padding:.5rem}
figure.chart figcaption{font-weight:600;margin-bottom:.25rem}
figure.chart svg{width:100%;height:auto}
.scroll{max-height:75vh;overflow:auto;border:1px solid #d1d9e0;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:#f6f8fa;box-shadow:inset 0 -1px #d1d9e0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.exception td{background:#ffebe9}.note{color:#59636e;font-size:.9rem}
"""
_NUMERIC = frozenset(("int", "money", "percent"))
_NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}
_RC: dict[Any, Any] = {
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Chart:
    """One chart: a value per label, in `unit` (a currency code, "orders", …)."""

    title: str
    kind: Literal["bar", "barh", "pie"]
    labels: Sequence[str]
    values: Sequence[Decimal | int]
    unit: str = ""


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
    parts = [
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        f"<header><h1>{escape(title)}</h1>",
        f'<p class="subtitle">{escape(subtitle)}</p></header>\n' if subtitle else "</header>\n",
    ]
    if headline:
        parts.append('<section class="headlines">\n')
        for label, value in headline:
            parts.append(
                f'<div class="headline" id="{ids.new("headline", label)}"><span class="label">{escape(label)}'
                f'</span><span class="value">{escape(display(value))}</span></div>\n'
            )
        parts.append("</section>\n")
    if charts:
        parts.append('<section class="charts">\n')
        for chart in charts:
            element_id = ids.new("chart", chart.title)
            parts.append(
                f'<figure class="chart" id="{element_id}"><figcaption>{escape(chart.title)}</figcaption>\n'
                f"{chart_svg(chart, element_id)}</figure>\n"
            )
        parts.append("</section>\n")
    parts.extend(_table(sheet, ids.new("table", sheet.name), row_limit) for sheet in tables)
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def chart_svg(chart: Chart, element_id: str) -> str:
    """`chart` drawn by matplotlib as an `<svg>` element whose ids all start with `element_id`."""
    # A Figure without pyplot keeps no global registry and needs no GUI backend; rc_context puts
    # every setting back afterwards, and a fixed hash salt makes the SVG ids repeat run after run.
    with matplotlib.rc_context({**_RC, "svg.hashsalt": element_id}), warnings.catch_warnings():
        # Text stays text in the SVG and the browser draws it with its own fonts, so matplotlib
        # lacking a glyph (a Japanese reason, say) only makes its own width guess rougher.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        figure = Figure(figsize=(6.4, _height(chart)), layout="constrained")
        _draw(figure.add_subplot(), chart)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # the XML prolog and DTD do not belong inside HTML
    end = svg.index(">")  # sized by the page's CSS; HTML needs no namespace declarations
    svg = re.sub(r'\s(?:xmlns(?::\w+)?|width|height)="[^"]*"', "", svg[:end]) + svg[end:]
    # Several charts share one document, and matplotlib numbers its ids from 1 in each of them.
    svg = re.sub(r'\bid="', f'id="{element_id}-', svg)
    return re.sub(r"(url\(#|href=\"#)", rf"\g<1>{element_id}-", svg)


def _draw(axes: Axes, chart: Chart) -> None:
    values = list(chart.values)
    labels = [str(label) for label in chart.labels]
    if chart.unit in currencies.CODES:  # `1,234.50 EUR`, with the currency's own decimals
        texts = [money_text(value, chart.unit) for value in values]
    else:
        texts = [f"{display(value)} {chart.unit}".strip() for value in values]
    # Floats only for bar lengths and wedge angles; every number printed comes from the Decimal.
    sizes = [float(value) for value in values]
    if not values or not any(sizes):
        axes.set_axis_off()
        axes.text(0.5, 0.5, "No data", ha="center", va="center", color="#59636e")
        return
    if chart.kind == "pie" and min(sizes) >= 0:
        wedges, *_ = axes.pie(sizes, startangle=90, counterclock=False)
        axes.legend(
            wedges,
            [f"{label}: {text}" for label, text in zip(labels, texts, strict=True)],
            loc="center left",
            bbox_to_anchor=(1, 0.5),
            frameon=False,
        )
        return
    if chart.kind == "bar":
        bars = axes.bar(labels, sizes, color="#4472c4")
        axes.set_ylabel(chart.unit)
    else:  # barh, and a pie that has negative slices, which no pie can show
        bars = axes.barh(labels, sizes, color="#4472c4")
        axes.invert_yaxis()
        axes.set_xlabel(chart.unit)
    axes.bar_label(bars, labels=texts, padding=2)
    axes.margins(0.15)


def _height(chart: Chart) -> float:
    return max(2.6, 0.35 * len(chart.labels) + 1.0) if chart.kind != "bar" else 3.2


def _table(sheet: Sheet, element_id: str, row_limit: int | None) -> str:
    shown = sheet.rows if row_limit is None else sheet.rows[:row_limit]
    classes = [' class="num"' if column.kind in _NUMERIC else "" for column in sheet.columns]
    head = "".join(
        f'<th scope="col"{css}>{escape(column.title)}</th>'
        for column, css in zip(sheet.columns, classes, strict=True)
    )
    body = []
    for row in shown:
        cells = "".join(
            f"<td{css}>{escape(display(row.get(column.key), column.kind, column.currency(row)))}</td>"
            for column, css in zip(sheet.columns, classes, strict=True)
        )
        body.append(f'<tr class="exception">{cells}</tr>' if sheet.is_exception(row) else f"<tr>{cells}</tr>")
    notes = list(sheet.notes)
    if len(shown) < len(sheet.rows):
        notes.append(
            f"Showing the first {len(shown):,} of {len(sheet.rows):,} rows; the files hold them all."
        )
    return (
        f'<section class="table" id="{element_id}"><h2>{escape(sheet.name)}</h2>\n'
        + "".join(f'<p class="note">{escape(note)}</p>\n' for note in notes)
        + f'<div class="scroll"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table></div></section>\n"
    )


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
