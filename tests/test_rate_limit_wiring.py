"""``--rpm`` / ``--tpm`` reach the runner's rate limiter.

From the command line (``specialize``, and ``resume``, which may change the
rates of a run) through the run configuration, the loop and the teacher
session factory to the :class:`RateLimiter` of the session's
:class:`TeacherRunner`. The session the loop builds is captured, and the run
stopped there: no request is sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import data_agent.loop
from data_agent import cli
from data_agent.generators.engine.factory import make_teacher_session

SPEC = "openai-compatible:http://127.0.0.1:9/v1@m"  # nothing listens there: a request would fail loudly


class _Built(Exception):
    """Raised by the stand-in factory once the loop has built its session."""


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list:
    monkeypatch.setenv("DATA_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    built: list = []

    def factory(spec, domain, run_dir, teachers=None):
        session = make_teacher_session(spec, domain, run_dir, teachers)
        built.append(session)
        raise _Built

    monkeypatch.setattr(data_agent.loop, "make_teacher_session", factory)
    monkeypatch.setattr(data_agent.loop, "resolve_student", lambda spec: spec)  # no student is needed here
    yield built
    for s in built:
        s.close()


def _check_limiter(session, rpm: int, tpm: int) -> None:
    runner = session.runner
    assert (runner.config.requests_per_minute, runner.config.tokens_per_minute) == (rpm, tpm)
    limiter = runner.limiter
    assert (limiter.rpw, limiter.tpw, limiter.window) == (rpm, tpm, 60.0)
    # ...and it paces: two requests booked now start 60/rpm seconds apart (plus the headroom).
    first, second = limiter.reserve(10), limiter.reserve(10)
    assert second.at - first.at == pytest.approx(60.0 / rpm * (1 + runner.config.rate_headroom))
    # a call that would pass the token limit waits for the window to clear
    assert limiter.reserve(tpm).at >= first.at + 60.0


def test_rpm_and_tpm_options_reach_the_runner(tmp_path: Path, sessions: list) -> None:
    run_dir = tmp_path / "run"
    with pytest.raises(_Built):
        cli.app(["specialize", "--preset", "smoke", "--teacher", SPEC, "--rpm", "30", "--tpm", "5000",
                 "--run-dir", str(run_dir)], standalone_mode=False)
    (session,) = sessions
    assert type(session).__name__ == "LLMSession"
    _check_limiter(session, 30, 5000)


def test_resume_can_change_the_rates(tmp_path: Path, sessions: list) -> None:
    run_dir = tmp_path / "run"
    with pytest.raises(_Built):
        cli.app(["specialize", "--preset", "smoke", "--teacher", SPEC, "--rpm", "30", "--run-dir", str(run_dir)],
                standalone_mode=False)
    assert sessions[0].runner.limiter.tpw is None  # not given: unlimited

    with pytest.raises(_Built):
        cli.app(["resume", str(run_dir), "--rpm", "45", "--tpm", "7000"], standalone_mode=False)
    _check_limiter(sessions[1], 45, 7000)
    saved = json.loads((run_dir / "config.json").read_text())["teachers"]
    assert (saved["requests_per_minute"], saved["tokens_per_minute"]) == (45, 7000)

    with pytest.raises(_Built):  # a resume without the options keeps the saved rates
        cli.app(["resume", str(run_dir)], standalone_mode=False)
    _check_limiter(sessions[2], 45, 7000)
