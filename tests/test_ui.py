"""The reporter's plain progress lines (no terminal: CI logs, ``nohup ... > log``)."""

import io

import pytest
from rich.console import Console

from data_agent import ui
from data_agent.ui import RichReporter


@pytest.fixture(autouse=True)
def no_forced_terminal(monkeypatch):
    """A StringIO console is not a terminal, whatever the environment running the tests says."""
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", ui.PROGRESS_INTERVAL_ENV):
        monkeypatch.delenv(var, raising=False)


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(ui, "_now", c)
    return c


def plain(**kw):
    buf = io.StringIO()
    console = Console(file=buf)
    assert not console.is_terminal
    return RichReporter(console, **kw), buf


def lines(buf):
    return buf.getvalue().splitlines()


def test_start_intermediate_and_end_lines(clock):
    rep, buf = plain(interval=10)
    with rep.progress("iteration 1: generating", 400) as update:
        clock.t += 3
        update(completed=50)  # within the interval: no line
        clock.t += 8
        update(completed=120, note="teacher: 12 calls")
        clock.t += 2
        update(completed=130)  # within the interval again
        clock.t += 10
        update(advance=10)
        clock.t += 5
        update(completed=400)
    assert lines(buf) == [
        "iteration 1: generating: started (400 to do)",
        "iteration 1: generating: 120/400 (30%) after 0:00:11 - teacher: 12 calls",
        "iteration 1: generating: 140/400 (35%) after 0:00:23 - teacher: 12 calls",
        "iteration 1: generating: done, 400/400 (100%) in 0:00:28 - teacher: 12 calls",
    ]


def test_no_updates_gives_start_and_end_only(clock):
    rep, buf = plain(interval=10)
    with rep.progress("base student: validation", 32):
        clock.t += 75
    assert lines(buf) == ["base student: validation: started (32 to do)",
                          "base student: validation: done, 0/32 (0%) in 0:01:15"]


def test_total_none_then_set_mid_step(clock):
    rep, buf = plain(interval=0)
    with rep.progress("iteration 1: training (lora)", None) as update:
        clock.t += 1
        update(completed=3)
        clock.t += 1
        update(completed=5, total=40)
        clock.t += 1
        update(completed=40, total=48)  # the total changes again
    assert lines(buf) == [
        "iteration 1: training (lora): started",
        "iteration 1: training (lora): 3 after 0:00:01",
        "iteration 1: training (lora): 5/40 (12%) after 0:00:02",
        "iteration 1: training (lora): 40/48 (83%) after 0:00:03",
        "iteration 1: training (lora): done, 40/48 (83%) in 0:00:03",
    ]


def test_total_none_throughout(clock):
    rep, buf = plain(interval=0)
    with rep.progress("step", None) as update:
        update(advance=2)
        update(advance=3)
    assert lines(buf) == ["step: started", "step: 2 after 0:00:00", "step: 5 after 0:00:00",
                          "step: done, 5 in 0:00:00"]


def test_notes_are_plain_text_and_lines_are_not_wrapped(clock):
    rep, buf = plain(interval=0)
    note = "[teacher] openai:gpt-x " + "x" * 120  # brackets are not rich markup; longer than the console
    with rep.progress("gen", 4) as update:
        update(completed=1, note=note)
        update(note="")  # an empty note clears it
    out = lines(buf)
    assert out[1] == f"gen: 1/4 (25%) after 0:00:00 - {note}"
    assert out[2] == "gen: 1/4 (25%) after 0:00:00"
    assert out[3] == "gen: done, 1/4 (25%) in 0:00:00"
    assert len(out) == 4


def test_interrupted_step_says_where_it_stopped(clock):
    rep, buf = plain(interval=100)
    with pytest.raises(KeyboardInterrupt):
        with rep.progress("iteration 2: validation", 32) as update:
            clock.t += 4
            update(completed=7)
            raise KeyboardInterrupt
    assert lines(buf) == ["iteration 2: validation: started (32 to do)",
                          "iteration 2: validation: stopped at 7/32 (22%) after 0:00:04"]


def test_interval_from_environment(clock, monkeypatch):
    monkeypatch.setenv(ui.PROGRESS_INTERVAL_ENV, "0.5")
    rep, buf = plain()
    with rep.progress("s", 3) as update:
        clock.t += 0.4
        update(completed=1)
        clock.t += 0.2
        update(completed=2)
        update(completed=3)
    assert lines(buf) == ["s: started (3 to do)", "s: 2/3 (67%) after 0:00:00", "s: done, 3/3 (100%) in 0:00:00"]


@pytest.mark.parametrize("raw, expected", [("", ui.DEFAULT_PROGRESS_INTERVAL), ("abc", ui.DEFAULT_PROGRESS_INTERVAL),
                                           ("-1", ui.DEFAULT_PROGRESS_INTERVAL), ("0", 0.0), (" 12.5 ", 12.5)])
def test_progress_interval_values(monkeypatch, raw, expected):
    monkeypatch.setenv(ui.PROGRESS_INTERVAL_ENV, raw)
    assert ui.progress_interval() == expected


def test_default_interval_throttles(clock):
    rep, buf = plain()
    with rep.progress("s", 100) as update:
        for i in range(100):
            clock.t += 0.1
            update(completed=i + 1)
    assert lines(buf) == ["s: started (100 to do)", "s: done, 100/100 (100%) in 0:00:10"]


def test_terminal_keeps_the_rich_bar(clock):
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, force_terminal=True, force_interactive=True, width=100), interval=0)
    with rep.progress("iteration 1: generating", 10) as update:
        update(completed=10, note="n")
    out = buf.getvalue()
    assert "iteration 1: generating" in out and "10/10" in out
    assert "started" not in out and "done," not in out


def test_forced_colour_without_interaction_prints_lines(clock):
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, force_terminal=True, force_interactive=False), interval=0)
    with rep.progress("s", 2) as update:
        update(completed=2)
    assert lines(buf) == ["s: started (2 to do)", "s: 2/2 (100%) after 0:00:00", "s: done, 2/2 (100%) in 0:00:00"]


def test_info_is_one_line_in_a_log():
    rep, buf = plain()
    msg = "[bold]iteration 1[/]: " + "a long rationale " * 20
    rep.info(msg)
    assert lines(buf) == ["iteration 1: " + "a long rationale " * 20]
