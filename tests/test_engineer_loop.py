"""The engineer over three iterations with scripted replies (plan -> generate -> train -> feedback ->
reflect): a new skill the LLM teacher then writes, an invalid plan repaired by a re-ask, one that falls
back to the heuristic, and the stopping rule."""

from __future__ import annotations

import json
import re

from data_agent.config import load_config
from data_agent.domain import load_domain
from data_agent.records import read_pool
from data_agent.testing import ProviderEmulator
from data_agent.testing.emulator import default_responder

KEY = "sk-" + "test-engineer-loop"  # fake
NEW = "buoyancy_drills"
GUIDANCE = "Use a floating wooden block and state the density of water as 1000 kg/m3."


def test_three_scripted_iterations_then_the_stopping_rule(tmp_path, da_home, monkeypatch):
    domain = load_domain("science")
    seeds = [s["id"] for s in domain.seeds()][:2]
    engineer_asks: list[list[dict]] = []
    teacher_prompts: list[str] = []

    def engineer(messages):
        engineer_asks.append(messages)
        user = next(m["content"] for m in messages if m["role"] == "user")
        it = int(re.search(r"Write the plan for iteration (\d+)", user).group(1))
        last = messages[-1]["content"]
        base = {"rationale": f"scripted plan {it}", "changes": []}
        if it == 1:
            return {**base, "method": {"card": "self-instruct", "adaptation": "seed-grounded new problems"},
                    "allocations": [{"topic": NEW, "count": 4, "difficulty": 1,
                                     "description": "Archimedes' principle: floating and submerged bodies",
                                     "guidance": GUIDANCE, "seeds": seeds},
                                    {"topic": "dynamics", "count": 4, "difficulty": 1}]}
        if it == 2:
            repaired = "must add up to exactly" in last
            return {**base, "method": {"card": "k-center", "adaptation": "the most diverse of an over-generated pool"},
                    "allocations": [{"topic": "dynamics", "count": 8 if repaired else 7, "difficulty": 1}]}
        return {**base, "method": {"card": "curriculum", "adaptation": "harder"},
                "allocations": [{"topic": "alchemy", "count": 8, "difficulty": 2}]}  # never valid

    def responder(messages, schema):
        if schema and schema.get("title") == "data-agent plan (model reply)":
            return json.dumps(engineer(messages))
        teacher_prompts.append(next(m["content"] for m in messages if m["role"] == "user"))
        return default_responder(messages, schema)

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    from data_agent.loop import specialize

    with ProviderEmulator(api_key=KEY, responder=responder) as emu:
        cfg = load_config("smoke", overrides={"iterations": 5, "patience": 3})
        cfg.engineer = f"openai-compatible:{emu.base_url_openai}@emu-engineer"
        cfg.teacher = f"openai-compatible:{emu.base_url_openai}@emu-teacher"
        cfg.teachers.cache_dir = str(tmp_path / "cache")
        run = specialize(cfg, run_dir=tmp_path / "run")

    # iteration 1: the new skill is planned, and the LLM teacher writes it with the guidance and the seeds
    p1 = json.loads((run / "iter-01" / "plan.json").read_text())
    assert p1["schema_version"] == 2 and p1["method"]["card"] == "self-instruct"
    new = next(a for a in p1["allocations"] if a["topic"] == NEW)
    assert new["description"].startswith("Archimedes") and new["guidance"] == GUIDANCE and new["seeds"] == seeds
    pool = read_pool(run / "iter-01" / "pool.jsonl")
    assert sum(r.accepted for r in pool if r.topic == NEW) >= 4
    new_prompts = [t for t in teacher_prompts if "buoyancy drills" in t]
    assert new_prompts and all(GUIDANCE in t and "Archimedes' principle" in t for t in new_prompts)
    seed_problem = domain.task.seed_view(domain.seeds()[0])["problem"][:60]
    assert all(seed_problem in t for t in new_prompts)  # grounded on the named seeds
    # iteration 2: the invalid reply is repaired by a re-ask naming the exact error
    t2 = json.loads((run / "engineer" / "iter-02.json").read_text())
    assert t2["result"] == {"source": "llm", "asks": 2}
    assert "the allocation counts add up to 7, but they must add up to exactly N = 8" in t2["asks"][0]["error"]
    # iteration 3: invalid after every ask -> the heuristic plan, flagged
    p3 = json.loads((run / "iter-03" / "plan.json").read_text())
    assert p3["changes"][0].startswith("LLM engineer reply invalid after 3 asks")
    assert p3["method"]["card"]  # the heuristic's own card
    # feedback after every iteration; the engineer's reflect prompt showed it
    for it in (1, 2, 3):
        assert json.loads((run / f"iter-{it:02d}" / "feedback.json").read_text())["split"] == "val"
    reflect = next(m for m in engineer_asks if "Write the plan for iteration 2" in m[1]["content"])
    assert "# How the student failed (validation)" in reflect[1]["content"]
    # the stopping rule: three iterations without a gain beyond the interval
    m = json.loads((run / "metrics.json").read_text())
    assert m["stopping"]["after_iteration"] == 3 and "without a validation gain" in m["stopping"]["reason"]
    assert not (run / "iter-04").exists()
    assert [r["card"] for r in m["trajectory"]][:2] == ["self-instruct", "k-center"]
    assert [r["kind"] for r in m["trajectory"]][:2] == ["new family", "new family"]
    report = (run / "report.md").read_text()
    for part in ("## Trajectory", "## Error analysis (validation)", "Stopping: stopped after iteration 3 of 5",
                 "Wire audit:"):
        assert part in report, part
    asks = sum(len(json.loads((run / "engineer" / f"iter-{it:02d}.json").read_text())["asks"]) for it in (1, 2, 3))
    assert asks == 6 and m["wire_audit"]["checked_by_role"]["engineer"] == asks  # cache hits are checked too


def test_the_scaffold_comparison_runs_with_scripted_replies(tmp_path):
    """scripts/compare_engineers.py's scaffold arms against the emulator: the
    open arm nudges counts and names no method; under adapt the same replies
    are made to cite a card and, after a plateau, take one from another bucket."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    cp = subprocess.run([sys.executable, str(root / "scripts" / "compare_engineers.py"), "--preset", "smoke",
                         "--only", "scaffold", "--iterations", "2", "--work-dir", str(tmp_path)],
                        capture_output=True, text=True, timeout=600, cwd=root,
                        env={**os.environ, "PYTHONPATH": str(root), "DATA_AGENT_HOME": str(tmp_path / "home")})
    assert cp.returncode == 0, cp.stderr[-3000:]
    rows = {line.split(" | ")[0].strip("| "): line for line in cp.stdout.splitlines() if line.startswith("| --scaffold")}
    assert " | 2 (k-center, self-instruct) | " in rows["--scaffold adapt"], cp.stdout
    assert " | 0 (none) | " in rows["--scaffold open"], cp.stdout


def test_the_engineer_decides_to_stop(tmp_path, da_home, monkeypatch):
    """The plan's own stopping decision: "stop" in the first plan is re-asked
    (nothing is trained yet); "stop" when reflecting ends the run before that
    plan's data is made, and metrics, report and export say so."""
    calls: list[str] = []

    def responder(messages, schema):
        if not (schema and schema.get("title") == "data-agent plan (model reply)"):
            return default_responder(messages, schema)
        user = next(m["content"] for m in messages if m["role"] == "user")
        it = int(re.search(r"Write the plan for iteration (\d+)", user).group(1))
        reasked = len(messages) > 2
        calls.append(f"{it}{'r' if reasked else ''}")
        decision = "stop" if (it == 1 and not reasked) or it == 2 else "continue"
        return json.dumps({"rationale": f"scripted plan {it}", "changes": [],
                           "method": {"card": "format-drills", "adaptation": "answer lines first"},
                           "allocations": [{"topic": "dynamics", "count": 8, "difficulty": 1}],
                           "stopping": {"decision": decision, "reason": f"scripted decision {it}"}})

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    from data_agent.export import read_run
    from data_agent.loop import specialize

    with ProviderEmulator(api_key=KEY, responder=responder) as emu:
        cfg = load_config("smoke", overrides={"iterations": 3})
        cfg.engineer = f"openai-compatible:{emu.base_url_openai}@emu-engineer"
        cfg.teacher = f"openai-compatible:{emu.base_url_openai}@emu-teacher"
        cfg.teachers.cache_dir = str(tmp_path / "cache")
        run = specialize(cfg, run_dir=tmp_path / "run")

    assert calls == ["1", "1r", "2"]
    t1 = json.loads((run / "engineer" / "iter-01.json").read_text())
    assert '"stop" in the first plan' in t1["asks"][0]["error"]
    assert json.loads((run / "iter-01" / "plan.json").read_text())["stopping"] == {
        "decision": "continue", "reason": "scripted decision 1"}
    p2 = json.loads((run / "iter-02" / "plan.json").read_text())
    assert p2["stopping"]["decision"] == "stop"
    assert not (run / "iter-02" / "pool.jsonl").exists() and not (run / "iter-03").exists()
    m = json.loads((run / "metrics.json").read_text())
    assert m["stopping"]["by"] == "engineer" and m["stopping"]["after_iteration"] == 1
    assert m["stopping"]["reason"] == "the engineer decided to stop: scripted decision 2"
    assert [i["iteration"] for i in m["iterations"]] == [1] and m["best_iteration"] == 1
    assert m["trajectory"][0]["stopping"]["decision"] == "continue"
    report = (run / "report.md").read_text()
    assert "Stopping: stopped after iteration 1 of 3: the engineer decided to stop: scripted decision 2." in report
    assert "- iteration 1: continue: scripted decision 1" in report
    assert read_run(run).metrics["stopping"]["by"] == "engineer"  # a plan-only iteration folder exports
