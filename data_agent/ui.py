"""Progress display. Library calls take a :class:`Reporter`; the CLI passes one
that draws rich progress bars, tests pass a silent one."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Reporter:
    """Silent reporter: the interface, doing nothing."""

    def info(self, msg: str) -> None:
        pass

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        """Yields ``update(completed=None, advance=0, total=None, note=None)``."""
        yield lambda *a, **k: None


class RichReporter(Reporter):
    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)

    def info(self, msg: str) -> None:
        self.console.print(msg)

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("{task.fields[note]}"), console=self.console,
                      transient=False) as prog:
            task = prog.add_task(description, total=total, note="")

            def update(completed: int | None = None, advance: int = 0, total: int | None = None,
                       note: str | None = None) -> None:
                kw = {}
                if completed is not None:
                    kw["completed"] = completed
                if advance:
                    kw["advance"] = advance
                if total is not None:
                    kw["total"] = total
                if note is not None:
                    kw["note"] = note
                prog.update(task, **kw)

            yield update
