"""The progress line shows how many orders run at once, as the governor found it."""

from __future__ import annotations

from pipeline.execute.console import ExecutionConsole
from pipeline.execute.executor import ExecutionProgress


def test_the_progress_line_shows_the_orders_at_once(capsys, tmp_path) -> None:
    console = ExecutionConsole(tmp_path, yes=True)
    console.tty = False
    console.progress(ExecutionProgress(0, 10, 0))  # starts the clock
    console.progress(ExecutionProgress(10, 10, 0, concurrency=12))
    assert "(12 at once)" in capsys.readouterr().err
    before = ExecutionConsole(tmp_path, yes=True)
    before.tty = False
    before.progress(ExecutionProgress(0, 10, 0))
    before.progress(ExecutionProgress(10, 10, 0))  # not known: nothing shown
    line = capsys.readouterr().err
    assert "10/10 orders" in line and "at once" not in line
