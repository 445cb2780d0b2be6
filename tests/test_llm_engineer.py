"""The LLM engineer against the loopback emulator: valid plans, re-asks with the
exact error, the visible heuristic fallback, what the prompt holds (validation
metrics, never the test split) and one end-to-end smoke run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from data_agent.domain import load_domain, unsealed_test
from data_agent.engineer import EngineerContext, Feedback, HeuristicEngineer, Plan, make_engineer
from data_agent.engineer.llm import LLM_PLAN_SCHEMA, LLMEngineer
from data_agent.errors import DataAgentError
from data_agent.generators.engine.symbolic_session import symbolic_topics
from data_agent.testing import ProviderEmulator

KEY = "sk-" + "test-ENGINEER-SECRET"  # fake
N = 64

pytestmark = pytest.mark.timeout(120)


# --------------------------------------------------------------------------- helpers


def _val_metrics(items, acc: dict[str, float]) -> dict[str, Any]:
    per: dict[str, dict[str, Any]] = {}
    for it in items:
        per.setdefault(it.source, {"n": 0, "accuracy": acc.get(it.source, 0.0), "format_compliance": 0.5})
        per[it.source]["n"] += 1
    n = sum(v["n"] for v in per.values())
    overall = sum(v["n"] * v["accuracy"] for v in per.values()) / n
    return {"n": n, "accuracy": overall, "format_compliance": 0.5, "per_source": per}


@pytest.fixture(scope="module")
def science():
    return load_domain("science")


def _ctx(domain, iteration: int = 1, n: int = N) -> EngineerContext:
    items = domain.val_items(32)
    base = _val_metrics(items, {"atkins": 0.125, "stat": 0.375, "fund": 0.25})
    return EngineerContext(domain_name=domain.name, domain_description=domain.description, teacher="symbolic",
                           n_records=n, iteration=iteration, topics=symbolic_topics("science"),
                           source_subject=domain.manifest["sources"], base_val=base, history=[])


def _prompt_parts(messages: list[dict[str, str]]) -> tuple[int, list[str], bool]:
    """(N, topic names, is_reflect) read from the engineer's ORIGINAL prompt."""
    system = messages[0]["content"]
    user = next(m["content"] for m in messages if m["role"] == "user")
    n = int(re.search(r"exactly N = (\d+)", system).group(1))
    topics = re.findall(r"^\| ([a-z_]+) \| (?:chemistry|physics|mathematics) \|", user, re.M)
    return n, topics, "# Previous iterations" in user


def _plan_reply(messages: list[dict[str, str]], *, off_by: int = 0, bad_topic: bool = False) -> str:
    n, topics, reflect = _prompt_parts(messages)
    k = min(n, len(topics), 6)
    counts = [n // k + (1 if i < n % k else 0) for i in range(k)]
    counts[0] += off_by
    diff = 2 if reflect else 1
    allocs = [{"topic": t, "count": c, "difficulty": diff, "why": f"emulated choice {i}"}
              for i, (t, c) in enumerate(zip(topics[:k], counts))]
    if bad_topic:
        allocs[0]["topic"] = "alchemy"
    if reflect:
        rationale = ("Strategy: curriculum by difficulty, adapted from coverage balancing: the student learned "
                     "the format, so harder problems. EMU-PLAN")
        changes = ["strategy: curriculum by difficulty: format learned", "difficulty 1 -> 2 everywhere"]
    else:
        rationale = "Coverage balancing over the first topics. EMU-PLAN"
        changes = []
    method = ({"card": "k-center", "adaptation": "keep the most diverse of the records"} if reflect else
              {"card": "self-instruct", "adaptation": "new problems from the seeds"})
    return json.dumps({"allocations": allocs, "rationale": rationale, "changes": changes, "method": method})


class Recorder:
    """A responder that records every conversation it answers."""

    def __init__(self, answer):
        self.answer = answer
        self.seen: list[list[dict[str, str]]] = []

    def __call__(self, messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
        self.seen.append(messages)
        return self.answer(messages, schema, len(self.seen))


def _engineer(emu: ProviderEmulator, tmp_path: Path, **kw: Any) -> LLMEngineer:
    return make_engineer(f"openai-compatible:{emu.base_url_openai}@emu", run_dir=tmp_path / "run",
                         cache_dir=tmp_path / "cache", **kw)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


# --------------------------------------------------------------------------- specs


def test_make_engineer_specs_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_engineer("heuristic"), HeuristicEngineer)
    assert isinstance(make_engineer("heuristic", run_dir="/nonexistent"), HeuristicEngineer)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    e = make_engineer("openai:gpt-4.1-mini", run_dir="/nonexistent")  # nothing is contacted or written
    assert isinstance(e, LLMEngineer) and KEY not in repr(e)
    assert isinstance(make_engineer("hf:tiny-llama"), LLMEngineer)  # the model is not loaded yet
    for bad in ("gpt-4", "llm", "openai:", "symbolic", "openai-batch:gpt-4.1-mini",
                "openai-compatible:127.0.0.1@m"):
        with pytest.raises(DataAgentError) as err:
            make_engineer(bad)
        assert "\n" not in str(err.value)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(DataAgentError, match="engineer .*ANTHROPIC_API_KEY"):
        make_engineer("anthropic:claude-sonnet-4-5")

    from data_agent.config import load_config
    from data_agent.loop import check_specs

    cfg = load_config("smoke")
    cfg.engineer = "anthropic:claude-sonnet-4-5"
    with pytest.raises(DataAgentError, match="ANTHROPIC_API_KEY"):
        check_specs(cfg)
    assert "iteration" not in LLM_PLAN_SCHEMA["required"] and "allocations" in LLM_PLAN_SCHEMA["required"]


# --------------------------------------------------------------------------- replies


def test_valid_plan_one_call_then_cached(science, tmp_path: Path, key: str) -> None:
    rec = Recorder(lambda m, s, k: _plan_reply(m))
    ctx = _ctx(science)
    with ProviderEmulator(api_key=key, responder=rec) as emu:
        eng = _engineer(emu, tmp_path)
        plan = eng.plan(ctx)
        assert emu.calls["openai.chat"] == 1
        again = eng.plan(ctx)  # same prompt: answered from the response cache
        assert emu.calls["openai.chat"] == 1 and again.to_dict() == plan.to_dict()
    assert isinstance(plan, Plan) and plan.rationale.endswith("EMU-PLAN")
    assert (plan.iteration, plan.n_records, plan.teacher) == (1, N, "symbolic")
    assert sum(a.count for a in plan.allocations) == N and all(a.difficulty == 1 for a in plan.allocations)
    assert all(a.subject == ctx.topics[a.topic].subject for a in plan.allocations)
    assert rec.seen[0][0]["role"] == "system" and "exactly N = 64" in rec.seen[0][0]["content"]
    t = json.loads((tmp_path / "run" / "engineer" / "iter-01.json").read_text())
    assert t["result"] == {"source": "llm", "asks": 1} and t["plan"] == plan.to_dict()


@pytest.mark.parametrize("fault, error", [
    ("counts", "the allocation counts add up to 63, but they must add up to exactly N = 64"),
    ("topic", "unknown topic name(s) 'alchemy'"),
])
def test_invalid_plan_is_reasked_with_the_exact_error(science, tmp_path: Path, key: str, fault: str,
                                                      error: str) -> None:
    def answer(m, s, k):
        if k == 1:
            return _plan_reply(m, off_by=-1) if fault == "counts" else _plan_reply(m, bad_topic=True)
        return _plan_reply(m)

    rec = Recorder(answer)
    with ProviderEmulator(api_key=key, responder=rec) as emu:
        plan = _engineer(emu, tmp_path).plan(_ctx(science))
        assert emu.calls["openai.chat"] == 2
    assert plan.rationale.endswith("EMU-PLAN") and sum(a.count for a in plan.allocations) == N
    first, second = rec.seen
    assert second[:2] == first  # the same prompt, then the bad reply and the exact error
    assert second[2]["role"] == "assistant" and json.loads(second[2]["content"])["allocations"]
    assert second[3]["role"] == "user" and error in second[3]["content"]


def test_garbage_every_time_falls_back_to_the_heuristic_visibly(science, tmp_path: Path, key: str) -> None:
    rec = Recorder(lambda m, s, k: "I think you should train on more chemistry!")
    ctx = _ctx(science)
    with ProviderEmulator(api_key=key, responder=rec) as emu:
        plan = _engineer(emu, tmp_path, max_reasks=2).plan(ctx)
        assert emu.calls["openai.chat"] == 3
    h = HeuristicEngineer().plan(ctx)
    assert plan.allocations == h.allocations
    assert plan.rationale.startswith("LLM engineer reply invalid after 3 asks: ")
    assert plan.rationale.endswith(h.rationale) and "heuristic plan used" in plan.rationale
    assert plan.changes[0].startswith("LLM engineer reply invalid after 3 asks: ")
    assert plan.changes[0].endswith("heuristic plan used") and "not valid JSON" in plan.changes[0]
    assert "not valid JSON" in rec.seen[1][-1]["content"]  # the re-ask named the problem
    t = json.loads((tmp_path / "run" / "engineer" / "iter-01.json").read_text())
    assert t["result"]["source"] == "heuristic fallback" and len(t["asks"]) == 3


def test_rejected_key_falls_back_at_once_and_says_why(science, tmp_path: Path, key: str) -> None:
    with ProviderEmulator(api_key="sk-" + "another-key-entirely", responder=lambda m, s: "{}") as emu:
        plan = _engineer(emu, tmp_path).plan(_ctx(science))
        assert emu.calls["openai.chat"] == 1  # a 401 is not retried
    assert plan.rationale.startswith("LLM engineer request failed after 1 ask: ") and "401" in plan.changes[0]
    assert KEY not in plan.rationale


# --------------------------------------------------------------------------- the prompt


def test_reflect_prompt_has_validation_metrics_and_no_test_items(science, tmp_path: Path, key: str) -> None:
    ctx1 = _ctx(science, iteration=1)
    first = HeuristicEngineer().plan(ctx1)
    val_items = science.val_items(32)
    val1 = _val_metrics(val_items, {"atkins": 0.5, "stat": 0.125})
    ctx = _ctx(science, iteration=2)
    ctx.history = [{"iteration": 1, "plan": first.to_dict(), "val": val1}]
    bad = [{"id": it.id, "source": it.source} for it in val_items if it.source != "atkins"]
    rec = Recorder(lambda m, s, k: _plan_reply(m))
    with ProviderEmulator(api_key=key, responder=rec) as emu:
        plan = _engineer(emu, tmp_path).reflect(ctx, Feedback(val=val1, bad_cases=bad))
    assert plan.iteration == 2 and all(a.difficulty == 2 for a in plan.allocations)
    assert plan.rationale.startswith("Strategy: curriculum by difficulty")
    system, user = rec.seen[0][0]["content"], rec.seen[0][1]["content"]
    prompt = system + "\n" + user
    # the strategy families are asked for
    for family in ("curriculum by difficulty", "weakness-targeted resampling", "coverage balancing"):
        assert family in system
    assert "Strategy: <family>" in system and "`changes`" in system
    # what the engineer must see: description, budget, topics, base and iteration metrics, wrong-answer sources
    assert science.description.strip()[:200] in user and "exactly N = 64" in user
    for t, info in ctx.topics.items():
        assert f"| {t} | {info.subject} | {', '.join(info.sources)} |" in user
    assert "| atkins | chemistry | 6 | 0.12 | 0.50 |" in user  # base
    assert "| atkins | chemistry | 6 | 0.50 | 0.50 |" in user  # after iteration 1
    assert "| stat | mathematics | 4 | 0.12 | 0.50 |" in user
    assert first.rationale in user and "quantum_chemistry/d1:" in user
    assert "# Wrong validation answers" in user and "stat: 4 of 4" in user and "atkins:" not in user.split(
        "# Wrong validation answers")[1]
    # ...and nothing from the test split
    with unsealed_test("checking that the engineer's prompt holds no test item"):
        test_items = science.test_items()
    assert len(test_items) > 400
    for it in test_items:
        assert it.id not in prompt
        text = str(it.raw["problem_text"]).strip()
        assert text[:60] not in prompt and text[-60:] not in prompt
    for it in val_items:  # validation problems are not quoted either: only their metrics
        assert it.id not in prompt and str(it.raw["problem_text"]).strip()[:60] not in prompt


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_specialize_smoke_with_the_llm_engineer(tmp_path: Path, da_home: Path, key: str) -> None:
    from data_agent.config import load_config
    from data_agent.loop import specialize

    rec = Recorder(lambda m, s, k: _plan_reply(m))
    with ProviderEmulator(api_key=key, responder=rec) as emu:
        cfg = load_config("smoke")
        cfg.engineer = f"openai-compatible:{emu.base_url_openai}@emu"
        cfg.iterations = 2
        cfg.teachers.cache_dir = str(tmp_path / "cache")
        run_dir = specialize(cfg, run_dir=tmp_path / "run")
        assert emu.calls["openai.chat"] == 2  # one plan, one reflect
    for it, diff in ((1, 1), (2, 2)):
        plan = json.loads((run_dir / f"iter-{it:02d}" / "plan.json").read_text())
        assert plan["rationale"].endswith("EMU-PLAN") and plan["iteration"] == it
        assert sum(a["count"] for a in plan["allocations"]) == cfg.n_records
        assert {a["difficulty"] for a in plan["allocations"]} == {diff}
        t = json.loads((run_dir / "engineer" / f"iter-{it:02d}.json").read_text())
        assert t["result"]["source"] == "llm" and t["plan"] == plan
    reflect_prompt = rec.seen[1][1]["content"]
    iter1_val = json.loads((run_dir / "iter-01" / "eval-val.json").read_text())["metrics"]
    assert f"on {iter1_val['n']} validation problems" in reflect_prompt and "## Iteration 1" in reflect_prompt
    assert json.loads((run_dir / "metrics.json").read_text())["engineer"] == cfg.engineer
    for p in run_dir.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), f"the API key leaked into {p}"


def test_engineer_and_teacher_prompts_share_the_difficulty_levels(science) -> None:
    """One table (plan.DIFFICULTY_LEVELS) gives the texts of the engineer's
    prompt, the teacher's prompt (full and compact) and the schema's bounds."""
    from data_agent.engineer.llm import user_prompt
    from data_agent.generators.prompts import render_messages, template_for
    from data_agent.plan import DIFFICULTY_LEVELS, PLAN_SCHEMA

    assert DIFFICULTY_LEVELS[1].label == "introductory: one or two steps, a direct use of one formula"
    assert DIFFICULTY_LEVELS[2].short == "a few steps"
    assert ("# Difficulty levels\n\n1: introductory: one or two steps, a direct use of one formula\n"
            "2: intermediate: a typical end-of-chapter exercise with several steps\n"
            "3: advanced: multi-step, combining two ideas or a less obvious route to the answer"
            in user_prompt(_ctx(science)))
    for d, level in DIFFICULTY_LEVELS.items():
        kw = dict(domain="science", instruction=science.instruction, topic="kinetics", subject="chemistry",
                  difficulty=d, seed=3, examples=[])
        assert f"Difficulty {d}/3 ({level.label})." in render_messages(template_for("science"), science.task, **kw)[1]["content"]
        assert f"kinetics, {level.short}, set in" in render_messages(template_for("science"), science.task, compact=True,
                                                                      **kw)[1]["content"]
    schema = PLAN_SCHEMA["properties"]["allocations"]["items"]["properties"]["difficulty"]
    assert (schema["minimum"], schema["maximum"]) == (1, 3) == (min(DIFFICULTY_LEVELS), max(DIFFICULTY_LEVELS))
