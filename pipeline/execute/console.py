"""What a person sees and types while a run executes: the summary to confirm, the progress line, Ctrl-C,
and the outcome in the words of status.py."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import click

from pipeline.errors import RefusedError
from pipeline.execute.approval import summary
from pipeline.execute.executor import ExecutionProgress
from pipeline.execute.status import FINISHED, left, phrase, so_far
from pipeline.plan.files import seal_of
from pipeline.plan.model import Plan


def ask(prompt: str) -> str:
    """One line typed on standard input; RefusedError (exit 3) when it is closed: no answer is no."""
    click.echo(f"{prompt}: ", nl=False, err=True)
    try:
        line = sys.stdin.readline()
    except KeyboardInterrupt:
        click.echo("", err=True)
        raise click.exceptions.Abort from None
    if not line:
        click.echo("", err=True)
        raise RefusedError(
            "no answer: standard input is closed, so nothing was executed (pass --yes to run unattended)"
        )
    return line.strip()


class ExecutionConsole:
    """Confirmation, progress (done/total, rate, ETA, failures) and a two-stage Ctrl-C, on stderr."""

    def __init__(self, run_dir: Path, *, yes: bool, quiet: bool = False) -> None:
        self.run_dir = run_dir
        self.yes = yes
        self.quiet = quiet
        self.stop = threading.Event()
        self._started: tuple[float, int] | None = None
        self._shown = -1
        self._prompting = False
        self._open_line = False  # a progress line drawn with \r and not yet ended
        self.tty = sys.stderr.isatty()

    def confirm(self, plan: Plan) -> bool:
        """Shows the plan's seal and summary, and on a resume what is done and left; the person types
        the number of orders left (or --yes)."""
        click.echo(f"executing plan {seal_of(self.run_dir)} …", err=True)
        for line in summary(plan):
            click.echo(line, err=True)
        counts = so_far(self.run_dir, plan)
        count = left(counts)
        resumed = any(counts[status] for status in FINISHED) or counts["to_verify"]
        if resumed:
            click.echo(f"resuming: {phrase(counts)} — {count} left", err=True)
        if self.yes or not count:
            return True
        what = "left" if resumed else "in the plan"
        self._prompting = True
        try:
            typed = ask(f"type {count} to process the {count} orders {what}")
        finally:
            self._prompting = False
        return typed == str(count)

    def progress(self, p: ExecutionProgress) -> None:
        """The first call (nothing finished yet in this run) starts the clock for rate and ETA."""
        if self.quiet:
            return
        if self._started is None:
            self._started = (time.monotonic(), p.finished)
            self._shown = -1
            return
        elapsed, count = time.monotonic() - self._started[0], p.finished - self._started[1]
        rate = count / elapsed if elapsed > 0 else 0.0
        eta = f"{(p.total - p.finished) / rate:.0f} s" if rate else "?"
        pace = f"{rate:.1f}/s" + (f" ({p.concurrency} at once)" if p.concurrency else "")
        line = f"{p.finished}/{p.total} orders, {pace}, ETA {eta}, {p.failures} failed or drifted"
        if self.tty:
            self._open_line = p.finished != p.total
            click.echo(f"\r{line}   ", nl=not self._open_line, err=True)
        elif (tenth := p.finished * 10 // max(p.total, 1)) > self._shown:
            self._shown = tenth  # a log file gets a line every tenth of the way, not every order
            click.echo(line, err=True)

    def outcome(self, statuses: Mapping[str, int], interrupted: bool) -> list[str]:
        """The lines that end a run: what was done, what is left and the one command that finishes it."""
        if self._open_line:  # stopped before the end: the progress line is ended before the outcome
            click.echo("", err=True)
            self._open_line = False
        lines = [f"actions: {phrase(statuses)}" if any(statuses.values()) else "actions: none to execute"]
        count = left(statuses)
        if count:
            stopped = "interrupted: " if interrupted else ""
            lines.append(f"{stopped}{count} left — run `bulkcancel execute {self.run_dir}` again")
        return lines

    @contextmanager
    def interrupts(self) -> Iterator[threading.Event]:
        """First Ctrl-C: finish the requests in flight and stop; second: exit at once. At the
        confirmation prompt nothing is in flight: Ctrl-C there aborts."""

        def interrupt(_signum: int, _frame: object) -> None:
            if self._prompting:
                raise KeyboardInterrupt
            if self.stop.is_set():
                os._exit(130)  # every journal write is one atomic transaction: it stays consistent
            self.stop.set()
            if self._open_line:
                click.echo("", err=True)  # off the progress line
                self._open_line = False
            click.echo("finishing the requests in flight (Ctrl-C again to stop at once)...", err=True)

        previous = signal.signal(signal.SIGINT, interrupt)
        try:
            yield self.stop
        finally:
            signal.signal(signal.SIGINT, previous)
