"""Progress display. Library calls take a :class:`Reporter`; the CLI passes one
that draws rich progress bars on a terminal and prints plain progress lines
elsewhere (CI logs, ``nohup ... > log``), tests pass a silent one."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import threading
import time
from typing import Callable, Iterator

from rich.console import Console

INTERRUPTED = threading.Event()
"""Set by the first Ctrl+C (:func:`on_interrupt`) and never cleared in a process."""


def on_interrupt(signum: int, frame: object) -> None:
    """The SIGINT handler of the command line: remember the interrupt, then
    raise KeyboardInterrupt where the program is. Remembering it matters: an
    interrupt raised where Python discards exceptions (a finaliser, a library
    that catches everything) is still honoured at the next step boundary
    (:func:`check_interrupted`)."""
    INTERRUPTED.set()
    raise KeyboardInterrupt


def check_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl+C was pressed since the process started."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

PROGRESS_INTERVAL_ENV = "DATA_AGENT_PROGRESS_INTERVAL"
DEFAULT_PROGRESS_INTERVAL = 20.0
"""Seconds between two plain progress lines of one step (when there is no terminal)."""

_now = time.monotonic  # the clock of plain progress lines (tests replace it)


class Reporter:
    """Silent reporter: the interface, doing nothing."""

    def info(self, msg: str) -> None:
        pass

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        """Yields ``update(completed=None, advance=0, total=None, note=None)``."""
        yield lambda *a, **k: None

    @contextlib.contextmanager
    def counting(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        """:meth:`progress` for work done in chunks: yields ``advance(n)``, which
        adds ``n`` to the units completed and shows the new count."""
        with self.progress(description, total) as update:
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n
                update(completed=done)

            yield advance


def progress_interval() -> float:
    """Seconds between plain progress lines: ``$DATA_AGENT_PROGRESS_INTERVAL``
    when it is a number >= 0, else :data:`DEFAULT_PROGRESS_INTERVAL`."""
    raw = os.environ.get(PROGRESS_INTERVAL_ENV, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_PROGRESS_INTERVAL
    return value if value >= 0 else DEFAULT_PROGRESS_INTERVAL


def format_elapsed(seconds: float) -> str:
    """``H:MM:SS``, as the terminal's elapsed-time column shows it."""
    return str(_dt.timedelta(seconds=int(seconds)))


class RichReporter(Reporter):
    """Rich progress bars on an interactive terminal (``console.is_terminal``
    and ``console.is_interactive``); otherwise plain lines: one when a step
    starts, at most one every ``interval`` seconds while it runs (``None``:
    :func:`progress_interval`) and one when it ends, each with the count, the
    total, the elapsed time and the step's note."""

    def __init__(self, console: Console | None = None, interval: float | None = None):
        self.console = console or Console(stderr=True)
        self.interval = interval

    def info(self, msg: str) -> None:
        # a log is read with its own line width: one message, one line
        self.console.print(msg, soft_wrap=not self._redraws())

    def _redraws(self) -> bool:
        """Whether the console can redraw a bar in place."""
        # is_interactive too: FORCE_COLOR makes a log file "a terminal" for colours, TERM=dumb or
        # TTY_INTERACTIVE=0 say that it cannot redraw a bar
        return self.console.is_terminal and self.console.is_interactive

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        if not self._redraws():
            with self._plain_progress(description, total) as update:
                yield update
            return
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

    @contextlib.contextmanager
    def _plain_progress(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        """The non-terminal form of :meth:`progress`: lines such as
        ``iteration 1: generating: 120/400 (30%) after 0:01:05 - note``."""
        interval = self.interval if self.interval is not None else progress_interval()
        lock = threading.Lock()
        st = {"completed": 0, "total": total, "note": ""}
        t0 = _now()
        last = [t0]

        def line(head: str, when: str) -> str:
            n, tot = st["completed"], st["total"]
            if tot is None:
                count = f"{n}"
            else:
                count = f"{n}/{tot}" + (f" ({n / tot:.0%})" if tot else "")
            text = f"{description}: {head}{count} {when} {format_elapsed(_now() - t0)}"
            return text + (f" - {st['note']}" if st["note"] else "")

        def emit(text: str) -> None:
            # markup off: notes and descriptions are plain text; soft wrap: one line per event in a log
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

        def update(completed: int | None = None, advance: int = 0, total: int | None = None,
                   note: str | None = None) -> None:
            with lock:
                if completed is not None:
                    st["completed"] = completed
                st["completed"] += advance
                if total is not None:
                    st["total"] = total
                if note is not None:
                    st["note"] = note
                now = _now()
                if now - last[0] >= interval:
                    last[0] = now
                    emit(line("", "after"))

        emit(f"{description}: started" + (f" ({total} to do)" if total is not None else ""))
        try:
            yield update
        except BaseException:
            with lock:
                emit(line("stopped at ", "after"))
            raise
        with lock:
            emit(line("done, ", "in"))
