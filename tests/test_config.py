"""The settings are declared once, as fields of data_agent/config.py; the CLI
options, the settings a resumed run may change, the runner's settings and the
README's option list all come from those fields."""

import re
from dataclasses import fields
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from data_agent import cli
from data_agent.config import (BudgetSettings, ConfigError, RunnerSettings, TeacherConfig, apply_overrides,
                               load_config, settings)
from data_agent.generators.engine.budget import Budget
from data_agent.generators.engine.runner import RunnerConfig

COMMAND_ONLY = {"--domain", "--preset", "--config", "--run-dir", "--full-eval"}


def _options(command: str) -> dict[str, tuple[str, ...]]:
    """Option name -> all its names, of a command of the CLI."""
    cmd = typer.main.get_command(cli.app).commands[command]
    return {p.opts[0]: (*p.opts, *p.secondary_opts) for p in cmd.params if p.param_type_name == "option"}


def test_every_setting_has_help_and_known_metadata():
    for s in settings():
        assert s.help.strip(), s.key
        assert set(s.field.metadata) <= {"help", "cli", "resumable", "min"}, s.key
        assert all(f.startswith("-") for f in s.flags), s.key


def test_specialize_offers_every_option_of_the_fields():
    opts = _options("specialize")
    from_fields = {s.flags[0]: s.flags for s in settings() if s.flags}
    assert set(opts) == set(from_fields) | COMMAND_ONLY
    assert all(opts[name] == names for name, names in from_fields.items())
    assert opts["--n-records"] == ("--n-records", "-n")
    for name in ("--rpm", "--tpm", "--concurrency", "--max-calls", "--max-total-tokens", "--max-dollars",
                 "--iteration-max-calls", "--iteration-max-tokens", "--iteration-max-dollars", "--val-subset",
                 "--test-subset", "--max-new-tokens", "--max-generation-factor", "--seed", "--student", "--teacher",
                 "--engineer", "--iterations", "--cache-dir", "--no-cache", "--prices"):
        assert name in opts, name


def test_resume_offers_exactly_the_resumable_settings():
    from data_agent.loop import RESUME_OVERRIDES

    assert set(RESUME_OVERRIDES) == {
        "teachers.max_calls", "teachers.max_total_tokens", "teachers.max_dollars", "teachers.iteration_max_calls",
        "teachers.iteration_max_tokens", "teachers.iteration_max_dollars", "teachers.requests_per_minute",
        "teachers.tokens_per_minute", "teachers.max_concurrency", "max_generation_factor"}
    assert set(_options("resume")) == {s.flags[0] for s in settings() if s.key in RESUME_OVERRIDES}


def test_help_text_comes_from_the_field():
    out = CliRunner().invoke(cli.app, ["resume", "--help"], env={"COLUMNS": "200"}).output
    rpm = next(s for s in settings() if s.key == "teachers.requests_per_minute")
    assert " ".join(rpm.help.split()[:6]) in " ".join(out.split())
    assert "--n-records" not in out


def test_options_become_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path):
    import data_agent.loop

    seen = {}

    def fake_specialize(cfg, run_dir=None, reporter=None):
        seen["cfg"], seen["run_dir"] = cfg, run_dir
        return tmp_path

    def fake_resume(run_dir, reporter=None, overrides=None):
        seen["overrides"] = overrides
        return tmp_path

    monkeypatch.setattr(data_agent.loop, "specialize", fake_specialize)
    monkeypatch.setattr(data_agent.loop, "resume", fake_resume)
    r = CliRunner().invoke(cli.app, ["specialize", "--preset", "smoke", "-n", "5", "--rpm", "50", "--no-cache",
                                     "--cache-dir", str(tmp_path), "--max-dollars", "2.5", "--val-subset", "3",
                                     "--run-dir", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    cfg = seen["cfg"]
    assert (cfg.n_records, cfg.teachers.requests_per_minute, cfg.teachers.use_cache) == (5, 50, False)
    assert (cfg.teachers.cache_dir, cfg.teachers.max_dollars, cfg.eval.val_subset) == (str(tmp_path), 2.5, 3)
    assert cfg.domain == "science" and cfg.student == "tiny-llama"  # unset options keep the preset's values
    assert cfg.eval.test_subset == 6 and cfg.teachers.max_concurrency == 16
    r = CliRunner().invoke(cli.app, ["specialize", "--preset", "smoke", "--full-eval"])
    assert r.exit_code == 0 and seen["cfg"].eval.val_subset is None and seen["cfg"].eval.test_subset is None

    r = CliRunner().invoke(cli.app, ["resume", str(tmp_path), "--max-calls", "200", "--concurrency", "4"])
    assert r.exit_code == 0, r.output
    given = {k: v for k, v in seen["overrides"].items() if v is not None}
    assert given == {"teachers.max_calls": 200, "teachers.max_concurrency": 4}


def test_ranges_are_checked_in_files_options_and_resumes(tmp_path):
    with pytest.raises(ConfigError, match="max_concurrency must be at least 1"):
        load_config("smoke", overrides={"teachers.max_concurrency": 0})
    with pytest.raises(ConfigError, match="n_records must be at least 1"):
        load_config("smoke", overrides={"n_records": 0})
    f = tmp_path / "c.toml"
    f.write_text("[teachers]\nmax_dollars = -1.0\n")
    with pytest.raises(ConfigError, match="max_dollars must be at least 0"):
        load_config("smoke", f)
    with pytest.raises(ConfigError, match="iteration_max_calls must be at least 0"):
        apply_overrides(load_config("smoke"), {"teachers.iteration_max_calls": -1})
    r = CliRunner().invoke(cli.app, ["specialize", "--concurrency", "0"])
    assert r.exit_code == 2 and "--concurrency" in r.output


def test_runner_settings_and_budget_come_from_the_teacher_config(tmp_path, monkeypatch: pytest.MonkeyPatch):
    from data_agent.domain import load_domain
    from data_agent.generators.engine.client import default_runner_config
    from data_agent.generators.engine.factory import make_teacher_session
    from data_agent.generators.teachers.specs import parse_spec

    assert {f.name for f in fields(RunnerSettings)} <= {f.name for f in fields(RunnerConfig)}
    assert {f.name for f in fields(BudgetSettings)} == {f.name for f in fields(Budget)}
    tc = TeacherConfig(max_concurrency=3, requests_per_minute=50, tokens_per_minute=9000, max_retries=1,
                       timeout=7.0, max_reasks=4, use_cache=False, max_calls=10, max_total_tokens=2000,
                       max_dollars=1.5, iteration_max_calls=5, iteration_max_tokens=1000, iteration_max_dollars=0.5)
    rc = default_runner_config(parse_spec("openai:gpt-4.1-mini"), tc)
    assert all(getattr(rc, f.name) == getattr(tc, f.name) for f in fields(RunnerSettings))
    hf = default_runner_config(parse_spec("hf:tiny-llama"), tc)  # local: no re-asks, no timeout
    assert (hf.max_reasks, hf.timeout, hf.max_concurrency, hf.requests_per_minute) == (0, None, 3, 50)
    vllm = default_runner_config(parse_spec("vllm:/models/m"), tc)
    assert (vllm.max_reasks, vllm.timeout) == (4, None)
    assert default_runner_config(parse_spec("hf:tiny-llama")).max_concurrency == TeacherConfig().max_concurrency

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    session = make_teacher_session("openai-compatible:http://127.0.0.1:9/v1@m", load_domain("science"),
                                   tmp_path / "run", tc)
    try:
        assert all(getattr(session.runner.config, f.name) == getattr(tc, f.name) for f in fields(RunnerSettings))
        assert all(getattr(session.budget, f.name) == getattr(tc, f.name) for f in fields(BudgetSettings))
        assert session.runner.budget is session.budget and session.cache is None
    finally:
        session.close()


def test_readme_lists_every_specialize_option():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index("Useful `specialize` options")
    listed = set(re.findall(r"`(--[a-z][a-z-]*)", text[start:text.index("\n## ", start)]))
    assert listed == set(_options("specialize"))
    assert "data_agent/config.py" in text[start:text.index("\n## ", start)]
