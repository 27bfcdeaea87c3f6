"""Charts for the report pages: matplotlib draws each one as an inline `<svg>` with ids of its own."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from pipeline import currencies
from pipeline.reports.cells import display, money_text

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
        axes.yaxis.set_major_formatter(FuncFormatter(tick))
    else:  # barh, and a pie that has negative slices, which no pie can show
        bars = axes.barh(labels, sizes, color="#4472c4")
        axes.invert_yaxis()
        axes.set_xlabel(chart.unit)
        axes.xaxis.set_major_formatter(FuncFormatter(tick))
    axes.bar_label(bars, labels=texts, padding=2)
    axes.margins(0.15)


def tick(value: float, _position: object = None) -> str:
    """An axis label as people write numbers: `1,000,000`, `2.5`; never `1e6` nor an offset."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _height(chart: Chart) -> float:
    return max(2.6, 0.35 * len(chart.labels) + 1.0) if chart.kind != "bar" else 3.2
