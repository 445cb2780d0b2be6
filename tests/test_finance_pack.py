"""The finance pack (domains/finance, built by scripts/build_finance_pack.py from FinanceReasoning)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_agent.domain import load_domain, ngram_hashes, read_jsonl, unsealed_test
from data_agent.generators.symbolic import topics

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "domains" / "finance"
SRC = ROOT.parent / "shared" / "data" / "financereasoning"


@pytest.fixture(scope="module")
def rows():
    return {k: read_jsonl(PACK / f"{k}.jsonl") for k in ("val", "test", "seeds")}


def _contexts(rs):
    return {r["context"] for r in rs if r["context"].strip() not in ("", "[]")}


def test_pack_loads_and_every_row_reads_with_the_task():
    dom = load_domain(PACK)
    assert dom.task.kind == "numeric_tolerance" and dom.task.rel_tol == 0.002
    assert dom.task.limits["input"] >= 9000
    val = dom.val_items()
    with unsealed_test("test of the pack's rows"):
        test = dom.test_items()
    assert len(val) == dom.manifest["counts"]["val"] and len(test) == dom.manifest["counts"]["test"]
    assert len(val) + len(test) + sum(s["source"] != "TAT-QA" for s in dom.seeds()) == 2238
    for it in val + test:
        assert isinstance(it.gold, (bool, int, float)) and it.input.rstrip().endswith(it.raw["question"].strip())
        assert len(it.input) <= dom.task.limits["input"]
    assert {it.source for it in val} == {"CodeFinQA", "CodeTAT-QA", "FinCode", "FinanceMath", "FinanceReasoning"}
    assert set(dom.manifest["sources"]) == {it.source for it in val}
    assert "instruction" in dom.sample_submission()[0] and dom.task.final_line("[ANSWER]") in dom.instruction


def test_splits_are_disjoint_by_id_and_by_context(rows):
    ids = [r["id"] for k in rows for r in rows[k]]
    assert len(ids) == len(set(ids))
    ctx = {k: _contexts(v) for k, v in rows.items()}
    assert not ctx["val"] & ctx["test"], "a context crosses validation and test"
    assert not ctx["seeds"] & (ctx["val"] | ctx["test"]), "a seed context is an evaluation context"
    questions = {r["question"].strip() for r in rows["val"] + rows["test"]}
    assert not any(s["question"].strip() in questions for s in rows["seeds"])
    fr_seeds = [s for s in rows["seeds"] if s["source"] != "TAT-QA"]
    n = len(fr_seeds) + len(rows["val"]) + len(rows["test"])
    assert n == 2238
    assert 0.05 < len(fr_seeds) / n < 0.15 and 0.15 < len(rows["val"]) / n < 0.25


def test_seeds_have_worked_solutions_ending_with_the_final_line(rows):
    dom = load_domain(PACK)
    assert {dom.task.item(s).source for s in rows["seeds"]} == {"TAT-QA", "CodeFinQA", "CodeTAT-QA", "FinCode",
                                                                "FinanceMath", "FinanceReasoning"}
    for s in rows["seeds"]:
        if s["source"] == "TAT-QA":
            assert s["solution"].startswith(s["derivation"].strip())
        else:
            assert s["python_solution"].strip() in s["solution"]
        assert dom.task.final_line_error(s["solution"]) == ""
        assert dom.task.is_correct(s["solution"], dom.task.item(s))


def _build_module():
    spec = importlib.util.spec_from_file_location("build_finance_pack", ROOT / "scripts" / "build_finance_pack.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_decontamination_covers_the_evaluation_inputs(rows):
    build = _build_module()
    hashes = load_domain(PACK).contamination_hashes()
    seed = set().union(*(ngram_hashes(build.fingerprint_text(s), 8) for s in rows["seeds"]))
    for r in rows["val"][:50] + rows["test"][:50]:
        assert ngram_hashes(build.fingerprint_text(r), 8) - seed <= hashes
        assert ngram_hashes(r["question"], 8) - ngram_hashes(build.fingerprint_text(r), 8) <= \
            ngram_hashes(r["question"][-120:], 8), "only the closing precision sentence is left out"
    # the benchmark's precision sentence is an instruction, not content: a generated problem may repeat it
    assert not ngram_hashes("What is it? Answer as a percentage to two decimal places.", 8) & hashes
    assert build.fingerprint_text({"question": "What is X? Answer to the nearest integer.", "context": ""}) == \
        "Question: What is X?"


def test_skills_are_the_symbolic_topics():
    dom = load_domain(PACK)
    assert set(dom.skills()) == set(topics("finance"))
    assert "TAT-QA" in dom.skills()["financial_ratios"].sources


def test_tatqa_seeds_share_nothing_with_the_evaluation_items(rows):
    hashes = load_domain(PACK).contamination_hashes()
    tatqa = [s for s in rows["seeds"] if s["source"] == "TAT-QA"]
    assert tatqa
    for s in tatqa:
        assert not ngram_hashes(_build_module().fingerprint_text(s), 8) & hashes, s["id"]


def test_tatqa_derivations_are_evaluated_exactly():
    build = _build_module()
    from fractions import Fraction

    assert build.arithmetic("(($1,271-$276)/$276) * 100") == Fraction(127100 - 27600, 276)
    assert build.arithmetic("-(2 + 3) * 4") == -20
    assert build.arithmetic("__import__('os')") is None and build.arithmetic("2 ** 8") is None
    assert build.arithmetic("1/0") is None


@pytest.mark.skipif(not SRC.is_dir(), reason="the FinanceReasoning source data is not here")
def test_the_build_is_deterministic(tmp_path):
    out = tmp_path / "finance"
    """Every file but the fingerprints (which embed every item for minutes:
    tests/test_decontamination.py checks the shipped ones against the pack's
    items) is rebuilt identically."""
    cp = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_finance_pack.py"), "--src", str(SRC),
                         "--out", str(out), "--no-fingerprints"], capture_output=True, text=True, timeout=300,
                        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert cp.returncode == 0, cp.stderr[-2000:]
    built = json.loads((out / "pack.json").read_text())
    shipped = json.loads((PACK / "pack.json").read_text())
    shipped["files"].pop("fingerprints.json")
    shipped["decontamination"].pop("fingerprints")
    assert built == shipped
