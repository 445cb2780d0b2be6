"""The final step's gain, with a base and a final student that score differently.

The smoke student scores 0 on every split, so an end-to-end run cannot tell the
base accuracy from the final one. Here every step before the final test is
marked done, the students' outputs are made up (the base student right on a
quarter of the test items, the chosen iteration on half of them, those of the
base included), and the loop's own final step computes and writes the gain.
"""

import dataclasses
import json

import pytest

from data_agent import loop as loop_mod
from data_agent.config import load_config
from data_agent.domain import load_domain
from data_agent.loop import RunState, _steps
from data_agent.plan import Allocation, Plan
from data_agent.stats import paired_gain
from data_agent.trainers.evaluate import score_outputs
from data_agent.ui import Reporter

N_TEST = 40


class _Session:
    def topics(self):
        return {}

    def usage(self):
        return {"run": {"requests": 0}, "iteration": {"requests": 0}}


def _prepared_run(run_dir, cfg):
    """A run whose every step before the final test is done; iteration 2 is the best on validation."""
    state = RunState(run_dir)
    state.mark("base/eval-val", {"n": 6, "accuracy": 0.0, "format_compliance": 0.5, "accuracy_ci95": [0.0, 0.0]})
    for it in range(1, cfg.iterations + 1):
        d = run_dir / f"iter-{it:02d}"
        (d / "model").mkdir(parents=True)
        (d / "model" / "config.json").write_text("{}")
        plan = Plan(iteration=it, n_records=cfg.n_records, teacher=cfg.teacher,
                    allocations=[Allocation(topic="t", count=cfg.n_records, difficulty=1)], rationale="r")
        (d / "plan.json").write_text(json.dumps(plan.to_dict()))
        (d / "submission.json").write_text("[]")
        state.mark(f"iter-{it:02d}/plan")
        state.mark(f"iter-{it:02d}/generate", {"requests": 1, "validation": {}, "notes": [], "teacher_usage": {}})
        state.mark(f"iter-{it:02d}/train", {"seconds": 1.0})
        state.mark(f"iter-{it:02d}/eval-val", {"n": 6, "accuracy": 0.1 * it, "format_compliance": 1.0,
                                               "accuracy_ci95": [0.0, 0.2 * it]})
    return state


def _fake_evaluate(base_model):
    """Outputs by item position: the base student right on every 4th item, the
    trained one on every 2nd; the base student leaves a third of its wrong
    answers unboxed (so the two format compliances differ too)."""

    def evaluate_model(model_path, items, instruction, *, task, **kw):
        outputs = {}
        for k, it in enumerate(items):
            right = k % 4 == 0 if model_path == base_model else k % 2 == 0
            if right:
                outputs[it.id] = f"The answer is therefore \\boxed{{{it.gold:.3f}}}."
            elif model_path == base_model and k % 3 == 0:
                outputs[it.id] = "I do not know."
            else:
                outputs[it.id] = f"The answer is therefore \\boxed{{{2 * it.gold + 1:.3f}}}."
        return score_outputs(items, outputs, task)

    return evaluate_model


@pytest.fixture
def finished_run(tmp_path, monkeypatch, da_home):
    cfg = load_config("smoke")
    cfg = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, test_subset=N_TEST))
    domain = load_domain("science")
    run_dir = tmp_path / "run"
    state = _prepared_run(run_dir, cfg)
    base_model = "base-student"
    monkeypatch.setattr(loop_mod, "evaluate_model", _fake_evaluate(base_model))
    monkeypatch.setattr(loop_mod, "write_report", lambda run_dir, metrics: None)
    (run_dir / "audit.json").write_text(json.dumps({"test_reads": []}))
    _steps(run_dir, cfg, domain, Reporter(), state, 0.0, base_model, _Session(), object())
    return run_dir, cfg


def _accuracy(rows):
    return sum(r["correct"] for r in rows) / len(rows)


def test_final_gain_is_final_over_base(finished_run):
    run_dir, cfg = finished_run
    m = json.loads((run_dir / "metrics.json").read_text())
    best = m["best_iteration"]
    assert best == cfg.iterations  # the last iteration has the best validation accuracy
    base_file = json.loads((run_dir / "base" / "eval-test.json").read_text())
    final_file = json.loads((run_dir / f"iter-{best:02d}" / "eval-test.json").read_text())
    base_acc, final_acc = _accuracy(base_file["items"]), _accuracy(final_file["items"])
    assert (base_acc, final_acc) == (0.25, 0.5)  # the made-up outputs were scored as meant

    g = m["test"]["gain"]
    assert g["n"] == m["test"]["n"] == N_TEST
    assert g["base_accuracy"] == base_acc
    assert g["final_accuracy"] == final_acc
    assert g["absolute_gain"] == pytest.approx(final_acc - base_acc) and g["absolute_gain"] > 0
    lo, hi = g["absolute_gain_ci95"]
    assert 0 < lo <= g["absolute_gain"] <= hi  # every item's change is 0 or +1
    assert g["relative_gain"] == pytest.approx((final_acc - base_acc) / base_acc)
    # the same items, paired in the same order
    assert [r["id"] for r in base_file["items"]] == [r["id"] for r in final_file["items"]]
    expected = paired_gain([r["correct"] for r in base_file["items"]], [r["correct"] for r in final_file["items"]])
    assert {k: g[k] for k in expected} == expected
    assert g["format_compliance"] == {"base": base_file["metrics"]["format_compliance"],
                                      "final": final_file["metrics"]["format_compliance"]}
    assert g["format_compliance"]["base"] < g["format_compliance"]["final"] == 1.0


def test_metrics_test_section_matches_the_eval_files(finished_run):
    run_dir, cfg = finished_run
    m = json.loads((run_dir / "metrics.json").read_text())
    best = m["best_iteration"]
    for key, path in (("base", run_dir / "base" / "eval-test.json"),
                      ("final", run_dir / f"iter-{best:02d}" / "eval-test.json")):
        file_metrics = json.loads(path.read_text())["metrics"]
        assert {k: file_metrics[k] for k in m["test"][key]} == m["test"][key], key
    assert m["test"]["base"]["accuracy"] == 0.25 and m["test"]["final"]["accuracy"] == 0.5
    # the per-iteration validation metrics are the steps' own
    state = json.loads((run_dir / "state.json").read_text())
    assert [it["val"] for it in m["iterations"]] == [state["steps"][f"iter-{i:02d}/eval-val"]
                                                     for i in range(1, cfg.iterations + 1)]
    assert m["base"]["val"] == state["steps"]["base/eval-val"]
