"""The error analysis the engineer reflects on: validation only, bounded, every failure kind shown."""

from __future__ import annotations

from data_agent.engineer import EngineerContext, Feedback
from data_agent.engineer.llm import user_prompt
from data_agent.feedback import build_feedback, failure_sample
from data_agent.plan import TopicInfo
from data_agent.records import EvalItem


def _rows():
    rows = []
    for k in range(30):
        src = "atkins" if k % 2 else "calculus"
        failure = [None, "no_answer", "wrong_magnitude", "looping", "close"][k % 5]
        rows.append({"id": f"v{k}", "source": src, "gold": float(k), "prediction": None if failure in (
            "no_answer", "looping") else k * 10.0, "correct": failure is None, "formatted": failure not in (
            "no_answer", "looping"), "failure": failure, "output": "x" * 2000 if k == 1 else f"output {k}"})
    return rows


def test_the_sample_covers_every_failure_class_and_source_before_repeating():
    rows = _rows()
    sample = failure_sample(rows, k=8)
    kinds = {(r["failure"], r["source"]) for r in sample}
    assert len(sample) == 8 and len(kinds) == 8  # 4 classes x 2 sources, one each
    assert failure_sample(rows, k=8) == sample and failure_sample(rows, k=8, seed=1) != sample
    assert all(not r["correct"] for r in failure_sample(rows, k=100)) and len(failure_sample(rows, k=100)) == 24


def test_the_document_holds_skills_classes_a_bounded_sample_rejections_and_costs():
    rows = _rows()
    items = {r["id"]: EvalItem(id=r["id"], source=r["source"], input=f"Problem {r['id']} " + "y" * 1000,
                               gold=r["gold"]) for r in rows}
    metrics = {"n": 30, "accuracy": 0.2, "accuracy_ci95": [0.1, 0.35], "format_compliance": 0.6,
               "per_source": {"atkins": {"n": 15}, "calculus": {"n": 15}}}
    skills = {"thermo": TopicInfo(subject="chemistry", sources=["atkins"]),
              "limits": TopicInfo(subject="mathematics", sources=["calculus"]),
              "unused": TopicInfo(subject="physics", sources=["fund"])}
    gen = {"validation": {"checked": 40, "accepted": 32, "rejected_by_kind": {"decontamination: paraphrase": 3}}}
    usage = {"teacher": "t", "calls": 40, "tokens": 9000, "dollars": 0.5,
             "iteration": {"calls": 40, "tokens": 9000, "dollars": 0.5}}
    doc = build_feedback(iteration=2, rows=rows, items=items, metrics=metrics, skills=skills, generation=gen,
                         usage=usage, budgets={"max_calls": 100, "max_total_tokens": None, "max_dollars": 2.0})
    assert doc["split"] == "val" and doc["iteration"] == 2
    assert set(doc["per_skill"]) == {"thermo", "limits"} and doc["per_skill"]["thermo"]["n"] == 15
    assert doc["failure_classes"]["no_answer"]["count"] == 6 and "no final answer" in doc["failure_classes"][
        "no_answer"]["means"]
    assert len(doc["failures_sample"]) == 8
    f = doc["failures_sample"][0]
    assert set(f) == {"id", "source", "failure", "problem", "gold", "output", "extracted"}
    assert all(len(x["problem"]) <= 510 and len(x["output"]) <= 510 for x in doc["failures_sample"])
    assert doc["rejections"]["by_reason"] == {"decontamination: paraphrase": 3}
    assert doc["costs"]["budget_left"] == {"max_calls": {"limit": 100, "used": 40, "left": 60},
                                           "max_dollars": {"limit": 2.0, "used": 0.5, "left": 1.5}}
    # the LLM engineer's reflect prompt shows it
    ctx = EngineerContext(domain_name="science", domain_description="d", teacher="t", n_records=8, iteration=3,
                          topics=skills, source_subject={"atkins": "chemistry", "calculus": "mathematics"},
                          base_val=metrics, history=[{"iteration": 2, "plan": {"allocations": [], "rationale": "r"},
                                                      "val": metrics}])
    prompt = user_prompt(ctx, Feedback(val=metrics, bad_cases=[], document=doc))
    assert "# How the student failed (validation)" in prompt and "- no_answer: 6" in prompt
    assert f"## {f['id']} ({f['source']}, {f['failure']})" in prompt and "decontamination: paraphrase: 3" in prompt
