"""Grammar-constrained decoding of the local transformers teacher (``hf:``, xgrammar)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
import pytest

from data_agent.errors import DataAgentError
from data_agent.generators.teachers import hf_structured
from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
from data_agent.generators.teachers.base import SamplingParams, TeacherRequest
from data_agent.generators.generate import parse_problem_reply
from data_agent.tasks import boxed_numeric
from data_agent.tasks.boxed_numeric import BoxedNumeric, strict_format_ok

needs_xgrammar = pytest.mark.skipif(not hf_structured.available(),
                                    reason="xgrammar not installed")

GOOD = {"problem": "A stone falls from rest for 2.0 s with $g = 9.81\\,\\mathrm{m/s^2}$. How far does it fall?",
        "unit": "m",
        "solution": "d = g t^2 / 2 = 9.81 * 4 / 2 = 19.62 m. The answer is therefore \\boxed{19.620}.",
        "answer": 19.62}


def _accepts(grammar, text: str, stop_id: int) -> bool:
    import xgrammar as xgr

    m = xgr.GrammarMatcher(grammar)
    return m.accept_string(text) and m.accept_token(stop_id)


@needs_xgrammar
def test_problem_grammar_is_tighter_than_the_schema(da_home: Path) -> None:
    from data_agent.models import load_tokenizer, resolve_student

    tok = load_tokenizer(resolve_student("tiny-llama"))
    dec = hf_structured.StructuredDecoding(tok, len(tok), [tok.eos_token_id])
    g = dec.grammar_for(PROBLEM_SCHEMA)
    assert dec.grammar_for(dict(PROBLEM_SCHEMA)) is g  # compiled once

    def ok(doc: dict) -> bool:
        return _accepts(g, json.dumps(doc), tok.eos_token_id)

    assert ok(GOOD)
    jsonschema.validate(GOOD, PROBLEM_SCHEMA)
    assert strict_format_ok(GOOD["solution"])[0]
    # field order problem, unit, solution, answer (the answer follows the box it repeats)
    assert not _accepts(g, json.dumps({k: GOOD[k] for k in ("problem", "unit", "answer", "solution")}),
                        tok.eos_token_id)
    assert not ok({**GOOD, "solution": "d = 19.62 m. The answer is therefore \\boxed{19.62}."})  # 2 decimals
    assert not ok({**GOOD, "solution": "d = 19.62 m. So the answer is 19.620."})
    assert not ok({**GOOD, "problem": "x" * (boxed_numeric.PROBLEM_MAX_CHARS + 1) + "?"})
    assert not ok({**GOOD, "problem": "too short"})
    assert not ok({**GOOD, "answer": "19.62"})
    # LaTeX needs its backslash escaped: a JSON \t or \n (tab, newline) is not admitted
    assert ok({**GOOD, "problem": GOOD["problem"] + " Use $\\text{m}$ and $\\nu$."})
    assert not ok({**GOOD, "problem": GOOD["problem"] + " Use $\text{m}$."})
    assert not ok({**GOOD, "problem": GOOD["problem"] + " Two\nlines."})
    assert not ok({**GOOD, "answer": 1e300})
    long_solution = "x" * (boxed_numeric.SOLUTION_MAX_CHARS - 60) + " The answer is therefore \\boxed{1.000}."
    assert ok({**GOOD, "solution": long_solution})
    assert not ok({**GOOD, "solution": "x" * boxed_numeric.SOLUTION_MAX_CHARS + long_solution})


@needs_xgrammar
@pytest.mark.slow
def test_hf_tiny_llama_structured_replies_are_schema_valid(da_home: Path, tmp_path: Path) -> None:
    """Even a random-weight model writes schema-valid problem documents whose
    solution ends with the required boxed sentence."""
    from data_agent.domain import load_domain
    from data_agent.generators.engine.llm_session import LLMSession

    with LLMSession("hf:tiny-llama", load_domain("science"), tmp_path / "run", max_tokens=512, use_cache=False,
                    teacher_options={"batch_size": 2}) as session:
        assert session.teacher.structured
        reqs = [session.build("kinetics", 2, k, 2000 + k, 1) for k in range(2)]
        user = reqs[0].messages[1]["content"]
        assert "Now a new problem on kinetics:" in user and len(user) < 1500  # the compact prompt
        example = json.loads(user.split("do not reuse it):\n", 1)[1].split("\n", 1)[0])
        assert list(example) == ["problem", "unit", "solution", "answer"]  # shown in the grammar's order
        out = asyncio.run(session.call(reqs))
        assert len(out) == 2
        for r in out:
            assert r.finish_reason == "stop" and r.error is None, r.text[-200:]
            doc = json.loads(r.text)
            jsonschema.validate(doc, PROBLEM_SCHEMA)
            assert list(doc) == ["problem", "unit", "solution", "answer"]
            assert strict_format_ok(doc["solution"])[0]
            parsed, why = parse_problem_reply(r, BoxedNumeric())
            assert parsed == doc and why == ""
        assert session.usage()["errors"] == 0

        # any other schema is compiled as given
        other = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
                 "additionalProperties": False}
        req = TeacherRequest(messages=({"role": "user", "content": "Is water wet? Reply in JSON."},),
                             params=SamplingParams(temperature=0.7, max_tokens=16, seed=1), json_schema=other)
        r = session.teacher.generate_sync([req])[0]
        jsonschema.validate(json.loads(r.text), other)


def test_hf_without_xgrammar_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from data_agent.generators.teachers.hf_backend import HFTeacher

    monkeypatch.setattr(hf_structured, "available", lambda: False)
    t = HFTeacher("tiny-llama")
    assert not t.structured
    assert "pip install 'data-agent[hf-structured]'" in capsys.readouterr().err
    with pytest.raises(DataAgentError, match="xgrammar"):
        HFTeacher("tiny-llama", structured=True)
    assert not HFTeacher("tiny-llama", structured=False).structured
    assert capsys.readouterr().err == ""


def test_compact_prompt_shows_one_example_in_the_grammar_form() -> None:
    """Small local teachers get a short prompt whose single style example is a
    document of the form their grammar produces (and the style seeds are never
    evaluation items)."""
    from data_agent.domain import load_domain
    from data_agent.generators.prompts import render_messages, template_for

    domain = load_domain("science")
    seeds = domain.seeds()
    seed = next(s for s in seeds if str(s.get("answer_number", "")).strip() not in ("", "0"))
    system, user = render_messages(template_for("science"), domain.task, domain="science", instruction=domain.instruction,
                                   topic="kinetics", subject="chemistry", difficulty=1, seed=7, examples=[seed],
                                   example_chars=300, compact=True)
    assert len(system["content"]) + len(user["content"]) < 1500
    doc = json.loads(user["content"].split("do not reuse it):\n", 1)[1].split("\n", 1)[0])
    assert list(doc) == ["problem", "unit", "solution", "answer"]
    assert strict_format_ok(doc["solution"])[0]
    assert doc["solution"].endswith(f"\\boxed{{{float(seed['answer_number']):.3f}}}.")
    jsonschema.validate(doc, PROBLEM_SCHEMA)
