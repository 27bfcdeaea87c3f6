"""Report files are readable by a reviewer on another account (0644); the gift card codes stay 0600;
the access token is in no file of the run."""

from __future__ import annotations

import stat

from pipeline.execute.codes import CODES_FILE
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.reports.files import write_bytes
from pipeline.simulator.transport import SimulatorTransport
from tests.execute.test_gift_card_notify import FAST, _run
from tests.harness import TOKEN, settings, simulator


def mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(path.stat().st_mode)


def test_a_replaced_file_is_0644(tmp_path):
    path = write_bytes(tmp_path / "report.csv", b"a,b\n")
    assert mode(path) == 0o644


def test_every_report_of_a_run_is_readable_by_others_and_the_codes_are_not(tmp_path):
    sim = simulator(orders=200, seed=5)
    _orders, _plan, run_dir = _run(tmp_path, sim, ["no", ""])  # one card's code kept, privately
    reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim))
    assert FAST  # the same fast cancel waits as the run above
    files = {p.relative_to(run_dir).as_posix(): p for p in run_dir.rglob("*") if p.is_file()}
    reports = [
        name
        for name in files
        if name.rsplit(".", 1)[-1] in ("xlsx", "csv", "html", "json", "sha256") and name != CODES_FILE
    ]
    assert {"plan.xlsx", "plan.html", "plan.json", "plan.sha256", "execution.csv", "report.html"} <= set(
        reports
    )
    assert {name: oct(mode(files[name])) for name in reports} == dict.fromkeys(reports, oct(0o644))
    assert mode(files[CODES_FILE]) == 0o600
    for path in files.values():
        assert TOKEN.encode() not in path.read_bytes(), path
