"""Curation from a pool the user already has: `data-agent curate` (library: specialize with RunConfig.pool)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from data_agent.config import load_config
from data_agent.domain import load_domain
from data_agent.generators.curate import CurationError, PoolSession, read_user_pool
from data_agent.generators.symbolic import generate, templates_for

ROOT = Path(__file__).resolve().parent.parent


def make_pool(path: Path, n: int = 24) -> list[dict]:
    """``n`` good science records from the symbolic templates (two topics), then
    four bad ones: no final answer line, an exact duplicate, a wrong known
    answer and an empty output (the last only in a separate file: it is a
    malformed line)."""
    domain = load_domain("science")
    rows = []
    templates = [t for t in templates_for(domain="science")][:6]
    for k in range(n):
        t = templates[k % len(templates)]
        p = generate(t.name, 1000 + k, 1 + k % 2)
        inp, out, answer = domain.task.record_fields(t.library.document(p))
        rows.append({"id": f"p{k}", "topic": p.topic, "subject": p.subject, "template": t.name, "input": inp,
                     "output": out, "answer": answer})
    bad = [{"id": "no-final-line", "topic": rows[0]["topic"], "input": "What is 1 + 1 in units of g?",
            "output": "It is two."},
           {**rows[1], "id": "duplicate"},
           {**rows[2], "id": "wrong-answer", "input": rows[2]["input"] + " (variant)", "answer": rows[2]["answer"] + 7}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows + bad), encoding="utf-8")
    return rows + bad


def test_a_malformed_pool_is_a_one_line_error_naming_the_line(tmp_path):
    domain = load_domain("science")
    good = json.dumps({"input": "q", "output": "o"})
    cases = {"not json": (f"{good}\n{{oops\n", ":2: malformed JSON"),
             "missing output": (f"{good}\n{json.dumps({'input': 'q2'})}\n", ":2: field 'output' must be a non-empty "
                                                                          "string (missing; fields: input)"),
             "empty input": (json.dumps({"input": " ", "output": "o"}) + "\n", ":1: field 'input' must be"),
             "a list": ("[1, 2]\n", ":1: expected a JSON object, got list"),
             "duplicate id": (json.dumps({"id": 1, "input": "a", "output": "b"}) + "\n"
                              + json.dumps({"id": "1", "input": "c", "output": "d"}) + "\n", ":2: duplicate id '1'"),
             "bad difficulty": (json.dumps({"input": "a", "output": "b", "difficulty": "hard"}) + "\n",
                                ":1: field 'difficulty' must be an integer"),
             "empty file": ("\n\n", "the pool holds no records")}
    for name, (text, needle) in cases.items():
        p = tmp_path / f"{name.replace(' ', '_')}.jsonl"
        p.write_text(text, encoding="utf-8")
        with pytest.raises(CurationError, match=None) as e:
            read_user_pool(p, domain)
        assert str(e.value).startswith(str(p)) and needle in str(e.value), (name, str(e.value))
    with pytest.raises(CurationError, match="file not found"):
        read_user_pool(tmp_path / "nope.jsonl", domain)


def test_the_cli_refuses_a_broken_pool_before_any_work(tmp_path):
    p = tmp_path / "pool.jsonl"
    p.write_text(json.dumps({"input": "q", "output": "o"}) + "\n{\n" + json.dumps({"input": "q", "output": "o"}) + "\n")
    cp = subprocess.run([sys.executable, "-m", "data_agent.cli", "curate", "--pool", str(p), "--preset", "smoke",
                         "--run-dir", str(tmp_path / "run")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert cp.returncode == 2, cp.stderr
    lines = [ln for ln in cp.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{p}:2: malformed JSON" in lines[0] and "Traceback" not in cp.stderr, cp.stderr
    assert not (tmp_path / "run").exists()


def test_the_pool_is_checked_once_and_rejections_keep_their_reasons(tmp_path, da_home):
    pool = tmp_path / "pool.jsonl"
    make_pool(pool)
    domain = load_domain("science")
    run = tmp_path / "run"
    s = PoolSession(pool, domain, run)
    checked = s.checked()
    why = {r.id: next((v for v in r.verdicts if not v["ok"]), {}).get("validator") for r in checked}
    assert why["no-final-line"] == "boxed_format" and why["duplicate"] == "dedup"
    assert why["wrong-answer"] == "answer_agreement"
    assert sum(r.accepted for r in checked) >= 16  # a few symbolic records also fall to decontamination/near-dup
    stored = [json.loads(ln) for ln in (run / "curation" / "pool.jsonl").read_text().splitlines()]
    assert len(stored) == 27 and [r["id"] for r in stored] == [r.id for r in checked]
    # a second session (a resumed run) reuses the stored verdicts; a changed pool is refused
    again = PoolSession(pool, domain, run).checked()
    assert [r.accepted for r in again] == [r.accepted for r in checked]
    pool.write_text(pool.read_text() + json.dumps({"input": "new", "output": "o"}) + "\n")
    with pytest.raises(CurationError, match="the pool changed since this run checked it"):
        PoolSession(pool, domain, run).checked()


@pytest.mark.slow
def test_curate_runs_end_to_end_on_the_smoke_preset(tmp_path, da_home):
    """Two iterations select 8 records each from the pool (the loss policy: the
    base student scores the pool in iteration 1, iteration 1's model in
    iteration 2), train, score on validation; the test split is scored once;
    report.md shows the pool's rejections by reason and the selection."""
    from data_agent.loop import specialize

    pool = tmp_path / "pool.jsonl"
    rows = make_pool(pool)
    cfg = load_config("smoke", overrides={"pool": str(pool), "selection": "loss"})
    run = specialize(cfg, run_dir=tmp_path / "run")
    inputs = {r["input"] for r in rows if r["id"] not in ("no-final-line", "duplicate", "wrong-answer")}
    for it in (1, 2):
        sub = json.loads((run / f"iter-{it:02d}" / "submission.json").read_text())
        assert len(sub) == 8 and {r["input"] for r in sub} <= inputs
        gen = json.loads((run / f"iter-{it:02d}" / "generation.json").read_text())
        sel = gen["selection"]
        assert sel["policy"] == "loss" and sel["pool_records"] == 27 and sel["kept"] == 8
        assert sel["mean_loss_kept"] >= sel["mean_loss_left_out"] or sel["accepted"] - 8 <= 2
        assert sel["scored_with"].endswith("iter-01/model" if it == 2 else "")
        rejected = gen["validation"]["rejected_by_reason"]
        assert rejected["boxed_format"] == rejected["dedup"] == rejected["answer_agreement"] == 1, rejected
        plan = json.loads((run / f"iter-{it:02d}" / "plan.json").read_text())
        assert plan["teacher"] == "pool:pool.jsonl" and plan["selection"]["policy"] == "loss"
        lineage = json.loads((run / f"iter-{it:02d}" / "lineage.json").read_text())
        assert all(e["generator"] == "pool" for e in lineage)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["gain"]["n"] == 6
    audit = json.loads((run / "audit.json").read_text())
    assert len(audit["test_reads"]) == 1 and audit["test_reads"][0]["reason"].startswith("final scoring")
    report = (run / "report.md").read_text()
    assert "## Rejected records by reason" in report and "boxed_format" in report and "answer_agreement" in report
    assert "- iteration 2: selection `loss` from the pool" in report and "mean student loss" in report
    # the error analysis of each iteration, from validation only
    fb = json.loads((run / "iter-01" / "feedback.json").read_text())
    assert fb["split"] == "val" and fb["overall"]["n"] == 6 and fb["rejections"]["by_reason"]
    assert "## Error analysis (validation)" in report


@pytest.mark.slow
def test_the_stopping_rule_ends_the_loop_and_the_report_says_why(tmp_path, da_home):
    """--patience 1 over 3 planned iterations: the tiny student does not beat
    the base's interval, so the loop stops after iteration 1, still scores the
    test split once, and says why."""
    from data_agent.loop import specialize

    pool = tmp_path / "pool.jsonl"
    make_pool(pool)
    cfg = load_config("smoke", overrides={"pool": str(pool), "iterations": 3, "patience": 1})
    run = specialize(cfg, run_dir=tmp_path / "run")
    metrics = json.loads((run / "metrics.json").read_text())
    st = metrics["stopping"]
    assert st["iterations_run"] == 1 and st["after_iteration"] == 1 and st["patience"] == 1
    assert "without a validation gain beyond the interval" in st["reason"]
    assert not (run / "iter-02").exists() and metrics["best_iteration"] == 1
    assert "Stopping: stopped after iteration 1 of 3" in (run / "report.md").read_text()
