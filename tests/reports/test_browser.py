"""report.html and plan.html in a real browser: headless chromium, from disk, with the network off."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from pipeline.execute.executor import execute_run
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import make_run, settings, simulator

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Any request that slips through goes nowhere: the pages must need none (CSP forbids them too).
    "--proxy-server=127.0.0.1:9",
    "--window-size=1400,2000",
)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium before `make test`")
    pytest.skip("chromium is not installed: `apt-get install chromium` to run the browser tests")


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def png_colours(path: Path) -> int:
    """How many distinct RGB(A) colours a non-interlaced 8-bit PNG holds (chromium writes these)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset, header = [], 8, None
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    pixel = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * pixel
    previous, seen, position = bytearray(stride), set(), 0
    for _ in range(height):
        kind, line = raw[position], bytearray(raw[position + 1 : position + 1 + stride])
        position += 1 + stride
        for i in range(stride):
            left = line[i - pixel] if i >= pixel else 0
            up, corner = previous[i], previous[i - pixel] if i >= pixel else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        seen.update(bytes(line[i : i + 3]) for i in range(0, stride, pixel * 7))  # every 7th pixel
        previous = line
    return len(seen)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    chromium()  # skip (or fail in CI) before building anything
    tmp_path = tmp_path_factory.mktemp("browser")
    sim = simulator(orders=80, seed=3)  # klarna refunds stay pending: the report has exceptions to show
    run = make_run(tmp_path, sim, rows=40, seed=3)
    execute_run(run, settings(), transport=SimulatorTransport(sim), runner_options={"cancel_wait": 0.3})
    result = reconcile_run(run, settings(), transport=SimulatorTransport(sim))
    return run, result


def headline(dom: str, label: str) -> str:
    match = re.search(
        rf'<span class="label">{re.escape(label)}</span><span class="value">([^<]*)</span>', dom
    )
    assert match, f"headline {label!r} not rendered"
    return match.group(1)


def test_report_html_renders_its_figures_charts_and_exceptions(run_dir, tmp_path):
    run, result = run_dir
    dom = browse(run / "report.html", tmp_path / "profile", "--dump-dom", "--virtual-time-budget=2000").stdout
    counts = result.reconciliation.counts()
    assert headline(dom, "Rows") == f"{len(result.reconciliation.rows):,}"
    assert headline(dom, "Matched") == f"{counts['matched']:,}"
    assert headline(dom, "Exceptions") == f"{len(result.reconciliation.exceptions):,}"
    assert re.fullmatch(r"[0-9,]+\.\d\d EUR", headline(dom, "Paid out (EUR, all currencies)"))
    assert re.fullmatch(r"[0-9a-f]{12}", headline(dom, "Plan seal"))
    assert 'id="table-payouts"' in dom and 'id="table-accounting-per-currency"' in dom
    assert dom.count("<svg") >= 2 and "<path" in dom
    assert 'id="table-exceptions"' in dom
    for row in result.reconciliation.exceptions:
        assert row.order_name in dom
    shot = tmp_path / "report.png"
    browse(run / "report.html", tmp_path / "profile2", f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000 and png_colours(shot) > 8


def test_plan_html_renders_its_figures_and_charts(run_dir, tmp_path):
    run, _result = run_dir
    dom = browse(run / "plan.html", tmp_path / "profile", "--dump-dom", "--virtual-time-budget=2000").stdout
    from pipeline.plan.files import load_plan

    plan = load_plan(run)
    blocked = sum(1 for r in plan.rows if r.decision == "blocked")
    assert headline(dom, "Rows blocked") == f"{blocked:,}"
    assert dom.count("<svg") >= 2
    shot = tmp_path / "plan.png"
    browse(run / "plan.html", tmp_path / "profile2", f"--screenshot={shot}")
    assert png_colours(shot) > 8


# Measures the laid-out page from inside it: a copy without the CSP (which rightly forbids scripts),
# the script writing what it measured into the DOM that --dump-dom prints.
MEASURE = """<script>
const table = document.querySelector('#table-actions table');
const head = [...table.querySelectorAll('thead th')];
const column = head.findIndex(th => th.textContent === 'Steps');
const notes = [...table.querySelectorAll('tbody tr')].map(tr => tr.cells[head.length - 1]);
const scroll = table.parentElement;
const found = {
  table: table.getBoundingClientRect().width,
  steps: head[column].getBoundingClientRect().width,
  sideways: scroll.scrollWidth - scroll.clientWidth,
  cut: notes.filter(td => td.scrollWidth > td.clientWidth + 1).length,
  notes: notes.length,
};
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(found);
document.body.append(pre);
</script>"""


def test_plan_html_gives_the_steps_a_wide_column_and_wraps_the_notes(run_dir, tmp_path):
    import html
    import json

    run, _result = run_dir
    page = (run / "plan.html").read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    probe = tmp_path / "plan-measured.html"
    probe.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = browse(probe, tmp_path / "profile", "--dump-dom", "--virtual-time-budget=2000").stdout
    found = re.search(r'<pre id="measured">([^<]*)</pre>', dom)
    assert found, "the measuring script did not run"
    measured = json.loads(html.unescape(found.group(1)))
    assert measured["steps"] >= 0.30 * measured["table"], measured
    assert measured["sideways"] <= 1 and measured["notes"] > 0 and measured["cut"] == 0, measured
    shot = tmp_path / "plan-steps.png"
    browse(run / "plan.html", tmp_path / "profile2", f"--screenshot={shot}")
    assert png_colours(shot) > 8
