"""What a command says while it works: one console per stage, steps with timings, skips.

Every long step shows a live spinner with its elapsed time on a terminal (nothing
on a pipe or a log file, where rich renders no live display), then one line with
its duration; a step that is not run says why. Lines printed while a step runs
are prefixed with the seconds since the step began, so the log shows where the
time went inside it. ``churn --quiet`` silences every console made here (errors
still go to stderr); ``churn --verbose`` is handled by the CLI (library logs).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

_CONSOLES: list[Console] = []
_QUIET = {"on": False}


def stage_console(**options) -> Console:
    """Return a rich console for a stage's output that ``churn --quiet`` silences."""
    console = Console(highlight=False, **options)
    console.quiet = _QUIET["on"]
    _CONSOLES.append(console)
    return console


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) every stage console, those made later included."""
    _QUIET["on"] = quiet
    for console in _CONSOLES:
        console.quiet = quiet


@dataclass
class StepTiming:
    """One step of a command: its seconds, or why it was skipped."""

    name: str
    seconds: float | None = None
    skipped: str = ""


class _StepConsole:
    """A console stand-in that prefixes each line with the seconds since its step began."""

    def __init__(self, console: Console, started: float):
        self._console, self._started = console, started

    def print(self, *objects, **kwargs) -> None:
        elapsed = time.perf_counter() - self._started
        if objects and isinstance(objects[0], str):
            objects = (f"[dim]{elapsed:6.1f} s[/dim]  {objects[0]}", *objects[1:])
        self._console.print(*objects, **kwargs)


@dataclass
class StepLog:
    """The steps of one command, timed, printed as they end and summed up at the end."""

    console: Console
    steps: list[StepTiming] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[_StepConsole]:
        """Run a step under a spinner with its elapsed time; print its duration when done.

        Yields a console whose lines carry the seconds since the step began.
        """
        started = time.perf_counter()
        with self._spinner(name):
            yield _StepConsole(self.console, started)
        seconds = time.perf_counter() - started
        self.steps.append(StepTiming(name, seconds))
        self.console.print(f"[green]done[/green] {name} in {seconds:.1f} s")

    @contextmanager
    def _spinner(self, name: str) -> Iterator[None]:
        if not self.console.is_terminal or self.console.quiet:
            yield  # a log file gets the lines, not a live display
            return
        spinner = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        with spinner:
            spinner.add_task(name, total=None)
            yield

    def skip(self, name: str, why: str) -> None:
        """Record and say that a step was not run, and why."""
        self.steps.append(StepTiming(name, skipped=why))
        self.console.print(f"[yellow]skipped[/yellow] {name}: {why}")

    def summary(self) -> str:
        """Return one line with every step's time (or "skipped") and the total."""
        parts = [
            f"{step.name} {'skipped' if step.seconds is None else f'{step.seconds:.1f} s'}"
            for step in self.steps
        ]
        total = sum(step.seconds or 0.0 for step in self.steps)
        return f"timings: {', '.join(parts)}; total {total:.1f} s"
