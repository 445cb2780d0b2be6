"""Every way out an error suggests works: an unreadable state.json or config.json,
a model deleted before the final test, a generation budget that ran out, a
teacher budget that ran out. Each remedy is followed here to a finished run."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from data_agent.config import load_config, settings
from data_agent.errors import DataAgentError
from data_agent.generators.engine.budget import BudgetExceeded
from data_agent.generators.generate import QuantityError
from data_agent.loop import RESUME_OVERRIDES, RunState, resume, specialize


def _run_dir(tmp_path: Path, state: str | None = None, config: str | None = None) -> Path:
    d = tmp_path / "run"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(load_config("smoke").to_dict()) if config is None else config)
    if state is not None:
        (d / "state.json").write_text(state)
    return d


@pytest.mark.parametrize("text, why", [("", "empty"), ('{"status": "running", "steps": {"base/ev', "malformed JSON"),
                                       ("[]", "not a run state"), ('{"steps": []}', "not a run state")])
def test_an_unreadable_state_file_is_one_line_with_the_way_out(tmp_path: Path, text: str, why: str) -> None:
    d = _run_dir(tmp_path, state=text)
    with pytest.raises(DataAgentError, match=rf"state.json: .*{why}.*delete it and run `data-agent resume ") as e:
        resume(d)
    assert "\n" not in str(e.value)
    with pytest.raises(DataAgentError, match=why):
        RunState(d)


@pytest.mark.parametrize("text, why", [("", "empty"), ('{"preset": "smoke", "stud', "Unterminated string"),
                                       ("[1]", "expected an object"), ('{"no_such_setting": 1}', "no_such_setting")])
def test_an_unreadable_config_file_is_one_line_with_the_way_out(tmp_path: Path, text: str, why: str) -> None:
    d = _run_dir(tmp_path, state='{"status": "running", "steps": {}, "order": []}', config=text)
    with pytest.raises(DataAgentError, match=rf"config.json: unreadable \(.*{why}.*\); .*restore the file, or start a "
                                             rf"new run with `data-agent specialize`") as e:
        resume(d)
    assert "\n" not in str(e.value)


def test_a_truncated_state_file_on_the_command_line_is_a_clean_error(tmp_path: Path) -> None:
    from test_cli_errors import assert_clean_error, run

    d = _run_dir(tmp_path, state='{"status": "runn')
    assert_clean_error(run("resume", str(d)), "state.json: unreadable (malformed JSON", "delete it and run")


def test_every_budget_the_stop_message_names_is_a_resume_option() -> None:
    flags = {f for s in settings() if s.key in RESUME_OVERRIDES for f in s.flags}
    from dataclasses import fields

    from data_agent.config import BudgetSettings

    limits = [f.name for f in fields(BudgetSettings)]
    assert len(limits) == 6
    for limit in limits:
        msg = str(BudgetExceeded("run", limit, 10, 10))
        flag = re.search(r"data-agent resume RUN_DIR (--[a-z-]+) N", msg).group(1)
        assert flag in flags, (limit, flag)


def test_max_generation_factor_may_change_on_resume() -> None:
    assert "max_generation_factor" in RESUME_OVERRIDES
    flags = {f for s in settings() if s.key == "max_generation_factor" for f in s.flags}
    assert "--max-generation-factor" in flags  # the option QuantityError names


# --------------------------------------------------------------------------- on a real (smoke) run

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, da_home) -> Path:
    return specialize(load_config("smoke"), run_dir=tmp_path_factory.mktemp("finished") / "run")


def _copy(run: Path, tmp_path: Path) -> Path:
    d = tmp_path / "copy"
    shutil.copytree(run, d)
    return d


def _state(d: Path) -> dict:
    return json.loads((d / "state.json").read_text())


@slow
def test_a_stopped_generation_resumes_with_a_larger_factor(tmp_path: Path, da_home) -> None:
    """QuantityError says 'Raise --max-generation-factor': resume with it finishes the run."""
    cfg = load_config("smoke", overrides={"max_generation_factor": 0.5})
    d = tmp_path / "run"
    with pytest.raises(QuantityError, match="Raise --max-generation-factor"):
        specialize(cfg, run_dir=d)
    assert "iter-01/generate" not in _state(d)["steps"]
    resume(d, overrides={"max_generation_factor": 4.0})
    assert _state(d)["status"] == "done"
    assert json.loads((d / "config.json").read_text())["max_generation_factor"] == 4.0
    assert _state(d)["config_changes"][-1]["changes"] == {"max_generation_factor": 4.0}
    assert _state(d)["steps"]["iter-01/generate"]["requests"] > 4  # more than the old budget of 8 * 0.5


@slow
def test_a_deleted_state_file_is_redone_by_resume(finished_run: Path, tmp_path: Path) -> None:
    d = _copy(finished_run, tmp_path)
    (d / "state.json").write_text('{"status": "running", "st')
    with pytest.raises(DataAgentError, match="delete it and run `data-agent resume"):
        resume(d)
    (d / "state.json").unlink()
    resume(d)
    assert _state(d)["status"] == "done" and "final/test" in _state(d)["steps"]
    assert (d / "metrics.json").is_file()


@slow
def test_a_best_model_deleted_before_the_final_test(finished_run: Path, tmp_path: Path) -> None:
    """The error names the step to redo; redoing it finishes the run; nothing else was deleted."""
    d = _copy(finished_run, tmp_path)
    state = _state(d)
    best = state["best_iteration"]
    del state["steps"]["final/test"]
    state["status"] = "running"
    (d / "state.json").write_text(json.dumps(state))
    shutil.rmtree(d / f"iter-{best:02d}" / "model")
    with pytest.raises(DataAgentError, match=rf"iteration {best} \(best on validation\) is missing .*delete the "
                                             rf"'iter-{best:02d}/train' step from state.json and resume") as e:
        resume(d)
    assert "\n" not in str(e.value)
    state = _state(d)
    del state["steps"][f"iter-{best:02d}/train"]
    (d / "state.json").write_text(json.dumps(state))
    resume(d)
    assert _state(d)["status"] == "done" and "final/test" in _state(d)["steps"]
    assert (d / f"iter-{best:02d}" / "model" / "config.json").is_file()


@slow
def test_resume_never_deletes_the_model_the_final_test_needs(finished_run: Path, tmp_path: Path) -> None:
    """keep_models="best": if a re-evaluation makes an iteration whose model is gone
    the best, the remaining model is kept and the error says which step to redo."""
    d = _copy(finished_run, tmp_path)
    state = _state(d)
    best = state["best_iteration"]
    other = 2 if best == 1 else 1
    assert not (d / f"iter-{other:02d}" / "model").exists()  # deleted by keep_models="best"
    del state["steps"]["final/test"]
    state["steps"][f"iter-{other:02d}/eval-val"] = {**state["steps"][f"iter-{best:02d}/eval-val"], "accuracy": 2.0}
    state["status"] = "running"
    (d / "state.json").write_text(json.dumps(state))
    with pytest.raises(DataAgentError, match=rf"iteration {other} \(best on validation\) is missing"):
        resume(d)
    assert (d / f"iter-{best:02d}" / "model" / "config.json").is_file()


@slow
def test_a_model_missing_at_eval_val_is_retrained_as_the_message_says(finished_run: Path, tmp_path: Path) -> None:
    d = _copy(finished_run, tmp_path)
    state = _state(d)
    best = state["best_iteration"]
    for step in (f"iter-{best:02d}/eval-val", "final/test"):
        del state["steps"][step]
    (d / "state.json").write_text(json.dumps(state))
    shutil.rmtree(d / f"iter-{best:02d}" / "model")
    with pytest.raises(DataAgentError, match=rf"trained model missing; delete the 'iter-{best:02d}/train' step"):
        resume(d)
    state = _state(d)
    del state["steps"][f"iter-{best:02d}/train"]
    (d / "state.json").write_text(json.dumps(state))
    resume(d)
    assert _state(d)["status"] == "done" and f"iter-{best:02d}/eval-val" in _state(d)["steps"]


@slow
def test_specialize_into_a_run_and_report_of_an_unfinished_run_point_to_resume(finished_run: Path,
                                                                               tmp_path: Path) -> None:
    from data_agent.report import write_report

    d = _copy(finished_run, tmp_path)
    with pytest.raises(DataAgentError, match=rf"already holds a run: use `data-agent resume {re.escape(str(d))}`"):
        specialize(load_config("smoke"), run_dir=d)
    (d / "metrics.json").unlink()
    with pytest.raises(DataAgentError, match=rf"the run has not finished; `data-agent resume {re.escape(str(d))}`"):
        write_report(d)
    resume(d)
    assert write_report(d).is_file()
