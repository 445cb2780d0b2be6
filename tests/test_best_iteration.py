"""How the loop chooses its best iteration, and how metrics.json describes the rule."""

from data_agent.config import RunConfig
from data_agent.loop import SELECTION_ORDER, SELECTION_RULE, RunState, _select_best


def _state(tmp_path, vals):
    state = RunState(tmp_path)
    for it, (acc, fmt) in vals.items():
        (tmp_path / f"iter-{it:02d}" / "model").mkdir(parents=True)
        (tmp_path / f"iter-{it:02d}" / "model" / "config.json").write_text("{}")
        state.mark(f"iter-{it:02d}/train", {})
        state.mark(f"iter-{it:02d}/eval-val", {"accuracy": acc, "format_compliance": fmt, "n": 32})
    return state


def test_best_accuracy_then_format_then_earlier(tmp_path):
    cfg = RunConfig(keep_models="all")
    cases = [({1: (0.25, 0.9), 2: (0.5, 0.1), 3: (0.375, 1.0)}, 2),  # accuracy first
             ({1: (0.5, 0.5), 2: (0.5, 0.75), 3: (0.25, 1.0)}, 2),  # then format compliance
             ({1: (0.5, 0.75), 2: (0.5, 0.75), 3: (0.5, 0.5)}, 1)]  # then the earlier iteration
    for n, (vals, best) in enumerate(cases):
        d = tmp_path / f"run-{n}"
        state = _state(d, vals)
        _select_best(state, cfg, d)
        assert state.data["best_iteration"] == best
        assert all((d / f"iter-{i:02d}" / "model").is_dir() for i in vals)  # keep_models="all"


def test_keep_best_deletes_the_other_models(tmp_path):
    state = _state(tmp_path, {1: (0.25, 1.0), 2: (0.5, 1.0)})
    _select_best(state, RunConfig(keep_models="best"), tmp_path)
    assert state.data["best_iteration"] == 2
    assert not (tmp_path / "iter-01" / "model").exists() and (tmp_path / "iter-02" / "model").is_dir()


def test_keep_best_never_deletes_the_last_models_when_the_best_ones_is_missing(tmp_path):
    """A re-evaluation may choose an iteration whose model is gone: then nothing is
    deleted (the final step says which step to redo) rather than the last model."""
    import shutil

    state = _state(tmp_path, {1: (0.25, 1.0), 2: (0.5, 1.0)})
    shutil.rmtree(tmp_path / "iter-02" / "model")
    _select_best(state, RunConfig(keep_models="best"), tmp_path)
    assert state.data["best_iteration"] == 2
    assert (tmp_path / "iter-01" / "model" / "config.json").is_file()


def test_the_rule_in_words_follows_the_order():
    assert [k for k, _ in SELECTION_ORDER] == ["accuracy", "format_compliance"]
    assert SELECTION_RULE == "best validation accuracy (ties: format compliance, then the earlier iteration)"


def test_the_stopping_rule_fires_after_patience_iterations_without_a_gain_beyond_the_interval():
    from data_agent.loop import stopping_decision

    def v(acc, hi):
        return {"accuracy": acc, "accuracy_ci95": [max(0.0, acc - 0.1), hi]}

    base = v(0.10, 0.20)
    assert stopping_decision([base, v(0.15, 0.3)], None) == ""  # no rule
    assert stopping_decision([base, v(0.15, 0.3)], 2) == ""  # too early to tell
    why = stopping_decision([base, v(0.15, 0.3), v(0.18, 0.3)], 2)  # both inside the base's interval
    assert why.startswith("2 iteration(s) in a row without a validation gain beyond the interval"), why
    assert stopping_decision([base, v(0.25, 0.4), v(0.18, 0.3)], 2) == ""  # iteration 1 beat 0.20: one since
    assert stopping_decision([base, v(0.25, 0.4), v(0.30, 0.45), v(0.35, 0.5)], 2)  # inside 0.40, twice
