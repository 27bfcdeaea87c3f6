"""The HTML page: self-contained, charts inline, stable ids, escaped data, same bytes every time."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import matplotlib
import pytest

from pipeline.reports import Chart, Column, Sheet, render_page

COLUMNS = [
    Column("order_name", "Order"),
    Column("status", "Status"),
    Column("amount", "Refunded", "money", currency_key="currency"),
    Column("currency", "Currency"),
]
ROWS = [
    {"order_name": "#1001", "status": "matched", "amount": Decimal("1234.5"), "currency": "EUR"},
    {
        "order_name": "<script>alert(1)</script>",
        "status": "duplicate",
        "amount": Decimal("5000"),
        "currency": "JPY",
    },
    {
        "order_name": '=HYPERLINK("http://evil.example/x")',
        "status": "mismatch",
        "amount": "1.5",
        "currency": "KWD",
    },
]
CHARTS = [
    Chart("Orders by status", "bar", ["matched", "duplicate", "mismatch"], [1, 1, 1], "orders"),
    Chart(
        "Refunds by method", "pie", ["original", "store credit"], [Decimal("1234.50"), Decimal("10")], "EUR"
    ),
    Chart("Refunds by currency", "barh", ["EUR", "JPY"], [Decimal("1234.5"), Decimal("5000")]),
    Chart(
        "Orders by status", "barh", ["返品"], [Decimal("2")], "orders"
    ),  # a repeat title, a glyph DejaVu lacks
    Chart("Nothing yet", "pie", [], []),
]


def page() -> str:
    return render_page(
        "Reconciliation <run-1>",
        "Shop demo.myshopify.com",
        [("Orders", 1234), ("Refunded EUR", "1,234.50 EUR"), ("Exceptions", 2)],
        CHARTS,
        [
            Sheet(
                "Exceptions",
                COLUMNS,
                ROWS,
                highlight=lambda row: row["status"] != "matched",
                notes=["<b>x</b>"],
            )
        ],
    )


@pytest.fixture(scope="module")
def html() -> str:
    return page()


def test_nothing_is_loaded_from_anywhere(html):
    assert not re.search(r"<script|<link|<iframe|<img|@import", html, re.IGNORECASE)
    assert not re.search(r"""(?:src|href)\s*=\s*(?:"(?!#)|'(?!#)|[^"'#\s])""", html, re.IGNORECASE)
    assert not re.search(r"""url\(\s*(?:"(?!#)|'(?!#)|[^"'#\s])""", html)
    # the only URL on the page is the data's own, shown as escaped text
    assert re.findall(r"https?://[^\s\"&<]+", html) == ["http://evil.example/x"]
    assert "default-src 'none'" in html


def test_charts_are_inline_svg_with_stable_unique_ids(html):
    figures = re.findall(r'<figure class="chart" id="([^"]+)"><figcaption>[^<]*</figcaption>\s*<svg', html)
    assert figures == [
        "chart-orders-by-status",
        "chart-refunds-by-method",
        "chart-refunds-by-currency",
        "chart-orders-by-status-2",
        "chart-nothing-yet",
    ]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for figure in figures:  # each chart's SVG refers only to its own definitions
        svg = html.split(f'id="{figure}"', 1)[1].split("</figure>", 1)[0]
        assert all(ref.startswith(figure) for ref in re.findall(r'(?:url\(#|href="#)([^")]+)', svg))
    assert "1,234.50 EUR" in html  # chart labels print the Decimal, in the currency's decimals
    assert "返品" in html
    assert len(html) < 200_000


def test_headline_figures_have_ids(html):
    headlines = dict(
        re.findall(
            r'id="(headline-[^"]+)"><span class="label">[^<]*</span><span class="value">([^<]*)<', html
        )
    )
    assert headlines == {
        "headline-orders": "1,234",
        "headline-refunded-eur": "1,234.50 EUR",
        "headline-exceptions": "2",
    }


def test_data_is_escaped_and_exceptions_marked(html):
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>Reconciliation &lt;run-1&gt;</title>" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert html.count('<tr class="exception">') == 2
    assert '<td class="num">5,000 JPY</td>' in html
    assert '<td class="num">1.500 KWD</td>' in html
    assert "<thead>" in html and "position:sticky" in html


def test_same_input_same_bytes_and_no_global_state_left(html):
    backend, settings = matplotlib.get_backend(), dict(matplotlib.rcParams)
    assert page() == html
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == settings


def test_row_limit_says_what_it_left_out():
    many = Sheet("Actions", COLUMNS, ROWS * 4)
    html = render_page("Plan", "", [], [], [many], row_limit=5)
    assert html.count("<tr>") == 1 + 5
    assert "Showing the first 5 of 12 rows" in html


class _VisibleText(HTMLParser):
    """The text a reader sees: every text node outside <style> and the charts' <svg>, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("style", "svg")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("style", "svg")

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def test_visible_text_is_the_words_of_the_inputs(html):
    text = _VisibleText()
    text.feed(html)
    text.close()
    assert text.parts == [
        "Reconciliation <run-1>",
        "Reconciliation <run-1>",
        "Shop demo.myshopify.com",
        *("Orders", "1,234", "Refunded EUR", "1,234.50 EUR", "Exceptions", "2"),
        *("Orders by status", "Refunds by method", "Refunds by currency", "Orders by status", "Nothing yet"),
        "Exceptions",
        "<b>x</b>",
        *("Order", "Status", "Refunded", "Currency"),
        *("#1001", "matched", "1,234.50 EUR", "EUR"),
        *("<script>alert(1)</script>", "duplicate", "5,000 JPY", "JPY"),
        *('=HYPERLINK("http://evil.example/x")', "mismatch", "1.500 KWD", "KWD"),
    ]
