"""What a person sees and types while a run executes: the summary to confirm, the progress line, Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click

from pipeline.execute.approval import summary
from pipeline.execute.executor import ExecutionProgress
from pipeline.plan.model import Decision, Plan


class ExecutionConsole:
    """Confirmation, progress (done/total, rate, ETA, failures) and a two-stage Ctrl-C, on stderr."""

    def __init__(self, *, yes: bool, quiet: bool = False) -> None:
        self.yes = yes
        self.quiet = quiet
        self.stop = threading.Event()
        self._started: tuple[float, int] | None = None
        self._shown = -1
        self.tty = sys.stderr.isatty()

    def confirm(self, plan: Plan) -> bool:
        """Shows the plan's summary; the person types the number of orders (or --yes)."""
        for line in summary(plan):
            click.echo(line, err=True)
        if self.yes:
            return True
        count = plan.counts_by_decision()[Decision.EXECUTE]
        typed = click.prompt(
            f"type {count} to process these {count} orders", default="", show_default=False, err=True
        )
        return typed.strip() == str(count)

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
            click.echo(f"\r{line}   ", nl=p.finished == p.total, err=True)
        elif (tenth := p.finished * 10 // max(p.total, 1)) > self._shown:
            self._shown = tenth  # a log file gets a line every tenth of the way, not every order
            click.echo(line, err=True)

    @contextmanager
    def interrupts(self) -> Iterator[threading.Event]:
        """First Ctrl-C: finish the requests in flight and stop; second: exit at once."""

        def interrupt(_signum: int, _frame: object) -> None:
            if self.stop.is_set():
                os._exit(130)  # every journal write is one atomic transaction: it stays consistent
            self.stop.set()
            click.echo("\nfinishing the requests in flight (Ctrl-C again to stop at once)...", err=True)

        previous = signal.signal(signal.SIGINT, interrupt)
        try:
            yield self.stop
        finally:
            signal.signal(signal.SIGINT, previous)
