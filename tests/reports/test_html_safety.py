"""What shop data can do to a page: nothing. Every value is escaped; only the chart SVG is markup."""

from __future__ import annotations

import html.parser
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

import pipeline.reports
from pipeline.reports import Chart, Column, Sheet, render_page

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=1>'
EVIL = f"{SCRIPT}{IMG}"
# What the payload must come out as: no tag, no attribute break-out (jinja writes `"` as &#34;).
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&#34;&gt;&lt;img src=x onerror=1&gt;"


def evil_page() -> str:
    sheet = Sheet(
        f"Sheet {EVIL}",
        [
            Column("name", f"Name {EVIL}"),
            Column("amount", f"Amount {EVIL}", "money", currency_key="currency"),
            Column("when", f"When {EVIL}", "date"),
        ],
        [{"name": f"cell {EVIL}", "amount": EVIL, "currency": EVIL, "when": EVIL}],
        highlight=lambda row: True,
        notes=[f"note {EVIL}"],
    )
    return render_page(
        f"title {EVIL}",
        f"subtitle {EVIL}",
        [(f"label {EVIL}", f"value {EVIL}"), (f"count {EVIL}", 3)],
        [
            Chart(f"bars {EVIL}", "bar", [f"bar {EVIL}"], [Decimal(2)], unit=EVIL),
            Chart(f"pie {EVIL}", "pie", [f"slice {EVIL}", "b"], [1, 2], unit="orders"),
        ],
        [sheet],
    )


@pytest.fixture(scope="module")
def page() -> str:
    return evil_page()


class _Tags(html.parser.HTMLParser):
    """Every start tag a browser would build from the page, with the text each text node holds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> _Tags:
    tags = _Tags()
    tags.feed(page)
    tags.close()
    return tags


def test_no_payload_survives_as_markup(page):
    assert SCRIPT not in page and "<img" not in page and IMG not in page
    tags = parsed(page)
    assert "script" not in tags.tags and "img" not in tags.tags
    assert not any(name.startswith("on") for name, _ in tags.attributes)
    assert "src" not in {name for name, _ in tags.attributes}


@pytest.mark.parametrize(
    "where",
    [
        r"<title>title {}</title>",
        r"<h1>title {}</h1>",
        r'<p class="subtitle">subtitle {}</p>',
        r'<span class="label">label {}</span><span class="value">value {}</span>',
        r'<span class="label">count {}</span><span class="value">3</span>',
        r"<figcaption>bars {}</figcaption>",
        r"<figcaption>pie {}</figcaption>",
        r"<h2>Sheet {}</h2>",
        r'<p class="note">note {}</p>',
        r'<th scope="col">Name {}</th>',
        r'<th scope="col" class="num">Amount {}</th>',
        r'<th scope="col">When {}</th>',
        r"<td>cell {}</td>",
        r'<td class="num">{}</td>',  # money that is no number is shown as its text
        r"<td>{}</td>",
    ],
)
def test_every_place_data_reaches_is_escaped(page, where):
    assert where.format(ESCAPED_SCRIPT + ESCAPED_IMG, ESCAPED_SCRIPT + ESCAPED_IMG) in page


def test_chart_text_inside_the_svg_is_escaped_by_matplotlib(page):
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert len(svgs) == 2
    text = "".join(svgs)
    assert "bar &lt;script&gt;alert(1)&lt;/script&gt;" in text  # a bar's label
    assert "slice &lt;script&gt;alert(1)&lt;/script&gt;" in text  # a pie's legend
    assert "<script" not in text and "<img" not in text


def test_the_chart_svg_is_markup_not_text(page):
    assert page.count('<figure class="chart"') == page.count("<svg") == 2
    assert "&lt;svg" not in page and "&lt;path" not in page
    assert parsed(page).tags.count("path") > 4


def test_no_http_reference_anywhere():
    clean = render_page(
        "Plan",
        "shop",
        [("Rows", 3)],
        [Chart("Rows per decision", "bar", ["refund", "blocked"], [2, 1], unit="rows")],
        [Sheet("Actions", [Column("order", "Order")], [{"order": "#1"}])],
    )
    assert not re.search(r"https?:|//[a-z]", clean, re.IGNORECASE)
    assert "<svg" in clean


def test_templates_ship_inside_the_package():
    templates = resources.files("pipeline.reports") / "templates"
    assert {entry.name for entry in templates.iterdir()} >= {"page.html.j2", "table.html.j2"}


def test_only_the_chart_svg_is_marked_safe():
    package = Path(pipeline.reports.__file__).parent
    templates = "".join(path.read_text() for path in (package / "templates").glob("*.j2"))
    assert not re.search(r"\|\s*safe\b|autoescape\s+false|\bMarkup\b", templates)
    sources = "".join(path.read_text() for path in package.glob("*.py"))
    assert len(re.findall(r"\bMarkup\(", sources)) == 1
    assert "Markup(chart_svg(" in sources
    assert "autoescape=True" in sources
