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

COMMAND_ONLY = {"--domain", "--preset", "--config", "--run-dir", "--full-eval", "--force"}


def _options(command: str) -> dict[str, tuple[str, ...]]:
    """Option name -> all its names, of a command of the CLI."""
    cmd = typer.main.get_command(cli.app).commands[command]
    return {p.opts[0]: (*p.opts, *p.secondary_opts) for p in cmd.params if p.param_type_name == "option"}


def test_every_setting_has_help_and_known_metadata():
    for s in settings():
        assert s.help.strip(), s.key
        assert set(s.field.metadata) <= {"help", "cli", "resumable", "min", "gt", "max", "choices",
                                         "force_above"}, s.key
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
    with pytest.raises(ConfigError, match=r"^teachers.max_concurrency \(--concurrency\): must be at least 1, got 0$"):
        load_config("smoke", overrides={"teachers.max_concurrency": 0})
    with pytest.raises(ConfigError, match=r"^n_records \(--n-records\): must be at least 1, got 0$"):
        load_config("smoke", overrides={"n_records": 0})
    f = tmp_path / "c.toml"
    f.write_text("[teachers]\nmax_dollars = -1.0\n")
    with pytest.raises(ConfigError, match=r"c.toml: teachers.max_dollars: must be at least 0, got -1.0$"):
        load_config("smoke", f)
    with pytest.raises(ConfigError, match=r"^teachers.iteration_max_calls \(--iteration-max-calls\): must be at "
                                          r"least 0, got -1$"):
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

    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + "test-not-used")  # fake, assembled so scanners do not flag it
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


# ------------------------------------------------------------------ value checks

def _invoke(args: list[str]):
    """The CLI in-process; a DataAgentError or usage error comes back raised."""
    return cli.app(args, standalone_mode=False)


@pytest.mark.parametrize("toml, message", [
    ('n_records = "8"', "n_records: expected an integer, got '8'"),
    ("iterations = 1.5", "iterations: expected an integer, got 1.5"),
    ("iterations = true", "iterations: expected an integer, got True"),
    ("iterations = 0", "iterations: must be at least 1, got 0"),
    ("n_records = -3", "n_records: must be at least 1, got -3"),
    ("max_generation_factor = 0", "max_generation_factor: must be greater than 0, got 0"),
    ('keep_models = "none"', "keep_models: expected one of best, all, got 'none'"),
    ('selection = "last"', "selection: expected one of first, random, verified_first, k_center, loss, el2n, "
                           "coverage, got 'last'"),
    ("overgenerate = 5", "overgenerate: must be at most 4.0, got 5"),
    ('[teachers]\nverify = "maybe"', "teachers.verify: expected one of when_given, required, off, got 'maybe'"),
    ('preset = "laptop"', "preset: expected one of cpu, gpu, smoke, got 'laptop'"),
    ("seed = 1.0", "seed: expected an integer, got 1.0"),
    ("domain = 3", "domain: expected a string, got 3"),
    ("train = 5", "train: expected a table ([train]), got 5"),
    ('[train]\nlearning_rate = "fast"', "train.learning_rate: expected a number, got 'fast'"),
    ("[train]\nlearning_rate = 0", "train.learning_rate: must be greater than 0, got 0"),
    ("[train]\nlearning_rate = -1e-4", "train.learning_rate: must be greater than 0, got -0.0001"),
    ("[train]\nlearning_rate = nan", "train.learning_rate: expected a finite number, got nan"),
    ("[train]\nnum_train_epochs = 0", "train.num_train_epochs: must be greater than 0, got 0"),
    ('[train]\nmethod = "qlora"', "train.method: expected one of lora, full, got 'qlora'"),
    ("[train]\nbf16 = 1", "train.bf16: expected true or false, got 1"),
    ('[train]\nlora_target_modules = ["q_proj", 3]',
     "train.lora_target_modules: expected a string or a list of strings, got ['q_proj', 3]"),
    ("[train]\nlora_dropout = 1.5", "train.lora_dropout: must be at most 1, got 1.5"),
    ('[train]\nlr_scheduler_type = "fancy"', "train.lr_scheduler_type: expected one of linear, cosine"),
    ("[train]\nper_device_train_batch_size = 0", "train.per_device_train_batch_size: must be at least 1, got 0"),
    ("[eval]\nmax_new_tokens = 0", "eval.max_new_tokens: must be at least 1, got 0"),
    ("[eval]\nmax_new_tokens = -5", "eval.max_new_tokens: must be at least 1, got -5"),
    ("[eval]\nbatch_size = 0", "eval.batch_size: must be at least 1, got 0"),
    ("[eval]\nval_subset = 0", "eval.val_subset: must be at least 1, got 0"),
    ("[teachers]\nrequests_per_minute = 0", "teachers.requests_per_minute: must be at least 1, got 0"),
    ("[teachers]\ntokens_per_minute = -1", "teachers.tokens_per_minute: must be at least 1, got -1"),
    ("[teachers]\nmax_concurrency = 0", "teachers.max_concurrency: must be at least 1, got 0"),
    ("[teachers]\ntimeout = 0", "teachers.timeout: must be greater than 0, got 0"),
    ('[teachers]\nmax_dollars = "5"', "teachers.max_dollars: expected a number, got '5'"),
    ("[teachers]\nmax_tokens = 0", "teachers.max_tokens: must be at least 1, got 0"),
    ("[teachers]\nuse_cache = 0", "teachers.use_cache: expected true or false, got 0"),
])
def test_a_bad_value_in_a_config_file_is_one_line_naming_file_and_key(tmp_path, toml, message):
    f = tmp_path / "run.toml"
    f.write_text(toml + "\n")
    with pytest.raises(ConfigError) as e:
        load_config("smoke", f)
    assert str(e.value).startswith(f"{f}: {message}") and "\n" not in str(e.value)
    with pytest.raises(ConfigError, match=re.escape(message)):  # the CLI: before any run directory exists
        _invoke(["specialize", "--preset", "smoke", "--config", str(f), "--run-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_an_int_is_a_float_and_good_values_pass(tmp_path):
    f = tmp_path / "run.toml"
    f.write_text('max_generation_factor = 2\nkeep_models = "all"\n[train]\nlearning_rate = 1\nmethod = "lora"\n'
                 'lora_target_modules = ["q_proj", "v_proj"]\nlr_scheduler_type = "linear"\n'
                 "[teachers]\nrequests_per_minute = 1\ntimeout = 30\n")
    cfg = load_config("smoke", f)
    assert (cfg.max_generation_factor, cfg.keep_models, cfg.train.learning_rate, cfg.teachers.timeout) == (
        2, "all", 1, 30)
    assert cfg.train.lora_target_modules == ["q_proj", "v_proj"]


@pytest.mark.parametrize("preset", ["cpu", "gpu", "smoke"])
def test_every_setting_rejects_a_value_of_the_wrong_type(preset):
    """The check is driven by the field's type: each setting refuses a value of
    another type, through the same call a config file or option goes through."""
    for s in settings():
        wrong = next((v for v in (True, 5, "x", [1.5]) if (s.check(v) or "").startswith("expected")), None)
        assert wrong is not None, s.key
        with pytest.raises(ConfigError, match=re.escape(s.key)):
            load_config(preset, overrides={s.key: wrong})
        assert s.check(s.default) is None or s.default is None, s.key


def test_a_configuration_never_holds_a_bad_value():
    from data_agent.config import EvalConfig, RunConfig, TrainConfig

    cfg = load_config("smoke")
    with pytest.raises(ConfigError, match=r"^n_records: expected an integer, got '8'$"):
        cfg.n_records = "8"
    with pytest.raises(ConfigError, match=r"^max_new_tokens: must be at least 1, got 0$"):
        cfg.eval.max_new_tokens = 0
    assert cfg.n_records == 8 and cfg.eval.max_new_tokens == 8
    with pytest.raises(ConfigError, match="learning_rate: must be greater than 0"):
        TrainConfig(learning_rate=0.0)
    with pytest.raises(ConfigError, match="val_subset: expected an integer"):
        EvalConfig(val_subset=2.5)
    with pytest.raises(ConfigError, match="^train.method: expected one of lora, full, got 'qlora'$"):
        RunConfig.from_dict({**cfg.to_dict(), "train": {**cfg.train.to_dict(), "method": "qlora"}})
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    cfg.eval.val_subset = None  # --full-eval
    assert cfg.eval.val_subset is None


def test_choices_follow_what_they_name():
    from transformers import SchedulerType

    from data_agent.config import LR_SCHEDULERS, PRESETS
    from data_agent.generators.selection import POLICIES

    choices = {s.key: s.choices for s in settings() if s.choices}
    assert set(choices["selection"]) == set(POLICIES)
    assert set(choices["preset"]) == set(PRESETS)
    assert set(LR_SCHEDULERS) <= {t.value for t in SchedulerType}
    assert choices["keep_models"] == ("best", "all")


@pytest.mark.parametrize("option", ["--rpm", "--tpm", "--concurrency"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_zero_or_negative_rates_are_errors_not_no_limit(tmp_path, option, value):
    usage_errors = cli._click_errors()[0]
    with pytest.raises(usage_errors) as e:
        _invoke(["specialize", "--preset", "smoke", option, value, "--run-dir", str(tmp_path / "run")])
    assert f"Invalid value for '{option}'" in e.value.format_message()
    assert not (tmp_path / "run").exists()
    with pytest.raises(usage_errors) as e:
        _invoke(["resume", str(tmp_path), option, value])
    assert f"Invalid value for '{option}'" in e.value.format_message()
    key = next(s.key for s in settings() if option in s.flags)
    with pytest.raises(ConfigError, match=rf"^{re.escape(key)} \({option}\): must be at least 1, got {value}$"):
        load_config("smoke", overrides={key: int(value)})
    assert getattr(load_config("smoke").teachers, key.split(".")[1]) in (None, 16)  # unset: no limit


def test_max_generation_factor_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match=r"^max_generation_factor \(--max-generation-factor\): must be greater "
                                          r"than 0, got 0.0$"):
        _invoke(["specialize", "--preset", "smoke", "--max-generation-factor", "0", "--run-dir",
                 str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_an_absurd_record_count_needs_force(tmp_path, monkeypatch: pytest.MonkeyPatch):
    import data_agent.loop
    from data_agent.config import N_RECORDS_FORCE_ABOVE

    assert f"{N_RECORDS_FORCE_ABOVE:,}" in next(s.help for s in settings() if s.key == "n_records")
    seen = {}
    monkeypatch.setattr(data_agent.loop, "specialize", lambda cfg, run_dir=None, reporter=None: seen.setdefault(
        "cfg", cfg) and tmp_path)
    too_many = str(N_RECORDS_FORCE_ABOVE + 1)
    with pytest.raises(ConfigError) as e:
        _invoke(["specialize", "--preset", "smoke", "-n", too_many, "--run-dir", str(tmp_path / "run")])
    assert str(e.value) == ("n_records (--n-records): 100,001 is above the bound of 100,000, almost certainly a "
                            "mistake; lower it, or pass --force to run it anyway")
    assert "cfg" not in seen and not (tmp_path / "run").exists()
    f = tmp_path / "big.toml"
    f.write_text(f"n_records = {too_many}\n")
    with pytest.raises(ConfigError, match="pass --force"):
        load_config("smoke", f)
    _invoke(["specialize", "--preset", "smoke", "-n", too_many, "--force", "--run-dir", str(tmp_path / "run")])
    assert seen["cfg"].n_records == N_RECORDS_FORCE_ABOVE + 1
    assert load_config("smoke", overrides={"n_records": N_RECORDS_FORCE_ABOVE}).n_records == N_RECORDS_FORCE_ABOVE


def _run_dir(tmp_path) -> Path:
    import json

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(load_config("smoke").to_dict()))
    (run_dir / "state.json").write_text(json.dumps({"status": "running", "steps": {}, "order": []}))
    return run_dir


@pytest.mark.parametrize("overrides, message", [
    ({"teachers.requests_per_minute": 0}, "teachers.requests_per_minute (--rpm): must be at least 1, got 0"),
    ({"teachers.tokens_per_minute": -5}, "teachers.tokens_per_minute (--tpm): must be at least 1, got -5"),
    ({"teachers.max_concurrency": 0}, "teachers.max_concurrency (--concurrency): must be at least 1, got 0"),
    ({"teachers.max_dollars": "ten"}, "teachers.max_dollars (--max-dollars): expected a number, got 'ten'"),
    ({"teachers.max_calls": 2.5}, "teachers.max_calls (--max-calls): expected an integer, got 2.5"),
    ({"teachers.iteration_max_tokens": -1},
     "teachers.iteration_max_tokens (--iteration-max-tokens): must be at least 0, got -1"),
])
def test_resume_overrides_go_through_the_same_checks(tmp_path, overrides, message):
    from data_agent.loop import resume

    run_dir = _run_dir(tmp_path)
    before = (run_dir / "config.json").read_text()
    with pytest.raises(ConfigError) as e:
        resume(run_dir, overrides=overrides)
    assert str(e.value) == message
    assert (run_dir / "config.json").read_text() == before


def test_config_file_that_is_not_utf8(tmp_path):
    f = tmp_path / "run.toml"
    f.write_bytes(b'n_records = 8\n# caf\xe9\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(f))}:2: not UTF-8 text \(byte 0xe9\)$"):
        load_config("smoke", f)
