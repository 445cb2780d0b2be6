"""End to end on the smoke preset: a tiny student built from a config, a handful of records."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_agent import domain as domain_mod
from data_agent.config import load_config
from data_agent.loop import specialize
from data_agent.records import read_pool
from data_agent.validators import validate_submission

pytestmark = pytest.mark.slow


def _check_run(run_dir: Path, cfg):
    m = json.loads((run_dir / "metrics.json").read_text())
    assert len(m["iterations"]) == cfg.iterations
    assert {"accuracy", "format_compliance", "accuracy_ci95"} <= set(m["base"]["val"])
    for it in m["iterations"]:
        assert {"accuracy", "format_compliance"} <= set(it["val"])
    g = m["test"]["gain"]
    assert {"absolute_gain", "absolute_gain_ci95", "relative_gain", "base_accuracy", "final_accuracy"} <= set(g)
    assert m["test"]["base"]["n"] == m["test"]["final"]["n"] == cfg.eval.test_subset
    for it in range(1, cfg.iterations + 1):
        d = run_dir / f"iter-{it:02d}"
        sub = json.loads((d / "submission.json").read_text())
        assert len(sub) == cfg.n_records
        assert validate_submission(d / "submission.json", domain_mod.load_domain("science"),
                                   expected_n=cfg.n_records).ok
        pool = read_pool(d / "pool.jsonl")
        ids = [r.id for r in pool]
        assert len(ids) == len(set(ids)), "a record was duplicated in the pool"
        accepted = {r.input for r in pool if r.accepted}
        assert {s["input"] for s in sub} <= accepted, "a submitted record is missing from the pool"
        assert json.loads((d / "plan.json").read_text())["rationale"]
    assert (run_dir / "report.md").is_file() and (run_dir / "progress.png").stat().st_size > 1000
    # both students decoded by the same rule, and the report says so
    dec = m["decoding"]
    assert dec["same_for_base_and_trained"] and dec["max_new_tokens"] == cfg.eval.max_new_tokens
    final_stops = dec["test_stops"]["final"]
    assert sum(final_stops[k] for k in ("answer", "eos", "loop", "limit")) == cfg.eval.test_subset
    assert "the same for the base and the trained student" in (run_dir / "report.md").read_text()
    _check_values(run_dir, m, cfg)
    return m


def _accuracy(rows):
    return sum(bool(r["correct"]) for r in rows) / len(rows)


def _check_values(run_dir: Path, m: dict, cfg):
    """metrics.json's numbers are those of the evaluation files they summarise."""
    best = m["best_iteration"]
    assert 1 <= best <= cfg.iterations
    base_file = json.loads((run_dir / "base" / "eval-test.json").read_text())
    final_file = json.loads((run_dir / f"iter-{best:02d}" / "eval-test.json").read_text())
    base_rows, final_rows = base_file["items"], final_file["items"]
    assert [r["id"] for r in base_rows] == [r["id"] for r in final_rows], "base and final scored on other items"
    assert len(base_rows) == m["test"]["n"] == cfg.eval.test_subset
    base_acc, final_acc = _accuracy(base_rows), _accuracy(final_rows)
    g = m["test"]["gain"]
    assert g["n"] == len(base_rows)
    assert g["base_accuracy"] == pytest.approx(base_acc, abs=1e-12)
    assert g["final_accuracy"] == pytest.approx(final_acc, abs=1e-12)
    assert g["absolute_gain"] == pytest.approx(final_acc - base_acc, abs=1e-12)
    lo, hi = g["absolute_gain_ci95"]
    assert lo <= g["absolute_gain"] <= hi
    assert g["relative_gain"] is None if base_acc == 0 else g["relative_gain"] == pytest.approx(
        (final_acc - base_acc) / base_acc)
    assert g["format_compliance"] == {"base": base_file["metrics"]["format_compliance"],
                                      "final": final_file["metrics"]["format_compliance"]}
    for key, f in (("base", base_file), ("final", final_file)):
        assert {k: f["metrics"][k] for k in m["test"][key]} == m["test"][key], key
        assert m["test"][key]["accuracy"] == pytest.approx(_accuracy(f["items"]), abs=1e-12), key
    # validation: the base student's and each iteration's metrics are those of its eval-val.json
    base_val = json.loads((run_dir / "base" / "eval-val.json").read_text())
    assert {k: base_val["metrics"][k] for k in m["base"]["val"]} == m["base"]["val"]
    assert m["base"]["val"]["accuracy"] == pytest.approx(_accuracy(base_val["items"]), abs=1e-12)
    assert [it["iteration"] for it in m["iterations"]] == list(range(1, cfg.iterations + 1))
    for it in m["iterations"]:
        f = json.loads((run_dir / f"iter-{it['iteration']:02d}" / "eval-val.json").read_text())
        assert {k: f["metrics"][k] for k in it["val"]} == it["val"], it["iteration"]
        assert it["val"]["accuracy"] == pytest.approx(_accuracy(f["items"]), abs=1e-12)
        assert it["val"]["format_compliance"] == pytest.approx(
            sum(bool(r["formatted"]) for r in f["items"]) / len(f["items"]), abs=1e-12)


def test_smoke_loop_and_test_split_read_only_at_the_end(tmp_path, da_home, monkeypatch):
    """The whole loop runs; the test split is read exactly once, after every iteration's steps."""
    from data_agent.loop import RunState

    events: list[str] = []
    real_items = domain_mod.Domain._items
    real_mark = RunState.mark

    def spy_items(self, split):
        events.append(f"read:{split}:{'unsealed' if domain_mod._test_is_unsealed() else 'sealed'}")
        return real_items(self, split)

    def spy_mark(self, step, info=True):
        events.append(f"step:{step}")
        return real_mark(self, step, info)

    monkeypatch.setattr(domain_mod.Domain, "_items", spy_items)
    monkeypatch.setattr(RunState, "mark", spy_mark)
    cfg = load_config("smoke")
    t0 = time.time()
    run_dir = specialize(cfg, run_dir=tmp_path / "run")
    elapsed = time.time() - t0
    _check_run(run_dir, cfg)
    test_reads = [i for i, e in enumerate(events) if e.startswith("read:test")]
    assert test_reads, "the final step never read the test split"
    assert all(events[i] == "read:test:unsealed" for i in test_reads)
    last_iter_step = max(i for i, e in enumerate(events) if e.startswith("step:iter-"))
    assert min(test_reads) > last_iter_step, "the test split was read before the final step"
    assert events[-1] == "step:final/test"
    reads = json.loads((run_dir / "audit.json").read_text())["test_reads"]
    assert len(reads) == len(test_reads) == 1, reads  # audit.json lists exactly the final step's read
    assert reads[0]["reason"].startswith("final scoring") and reads[0]["domain"] == "science"
    print(f"smoke run took {elapsed:.1f}s")


def test_sigkill_in_iteration_2_then_resume(tmp_path, da_home):
    run_dir = tmp_path / "killed"
    env = {**os.environ, "DATA_AGENT_HOME": str(da_home), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "data_agent.cli", "specialize", "--preset", "smoke", "--run-dir", str(run_dir)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = run_dir / "state.json"
    pool2 = run_dir / "iter-02" / "pool.jsonl"
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            if pool2.exists() and pool2.stat().st_size > 0:
                break
            if proc.poll() is not None:
                pytest.fail("the run finished before it could be killed in iteration 2")
            time.sleep(0.02)
        else:
            pytest.fail("iteration 2 never started")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    s = json.loads(state.read_text())
    assert "final/test" not in s["steps"] and "iter-02/eval-val" not in s["steps"]
    before = read_pool(pool2)
    torn = b'{"instruction": "torn by a full disk", "inp'
    with open(pool2, "ab") as f:  # what a failed append used to leave behind
        f.write(torn)
    cp = subprocess.run([sys.executable, "-m", "data_agent.cli", "resume", str(run_dir)], env=env,
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stderr[-3000:]
    cfg = load_config("smoke")
    _check_run(run_dir, cfg)
    after = read_pool(pool2)
    assert [r.id for r in after[:len(before)]] == [r.id for r in before], "records written before the kill were lost"
    lines = pool2.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(after), "the torn line was not cut off"  # every line parses, each record once
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["file"] for e in events if e["event"] == "torn-tail-truncated"] == ["iter-02/pool.jsonl"]
    assert events[0]["bytes_dropped"] >= len(torn)
    assert json.loads(state.read_text())["status"] == "done"
    # the teacher's counters span both processes: every iteration's usage is its own requests, never negative
    usage = json.loads((run_dir / "metrics.json").read_text())["costs"]["teacher_usage"]
    assert len(usage) == cfg.iterations and all(u["requests"] > 0 for u in usage), usage
