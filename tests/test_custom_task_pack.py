"""A pack with another task kind and its own skills runs the whole loop: the task
seam, not science, decides the teacher's document, the validators and the scoring."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from data_agent.domain import DomainError, load_domain, ngram_hashes, unsealed_test
from data_agent.tasks import get_task
from data_agent.tasks.exact_match import normalise
from data_agent.testing.emulator import default_responder

KEY = "emulator-" + "toy-pack-key"
INSTRUCTION = "Answer the question in one or two sentences, then give the answer alone on a last line 'Final answer: <answer>'."
SKILLS = [
    {"name": "capital_cities", "subject": "geography", "description": "the capital city of a named country",
     "sources": ["geo"]},
    {"name": "chemical_symbols", "subject": "chemistry", "description": "the symbol of a named chemical element",
     "sources": ["chem"]},
]
CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Canada", "Ottawa"),
            ("Egypt", "Cairo"), ("Norway", "Oslo"), ("Chile", "Santiago"), ("Spain", "Madrid"), ("Ghana", "Accra")]
SYMBOLS = [("sodium", "Na"), ("iron", "Fe"), ("gold", "Au"), ("silver", "Ag"), ("potassium", "K"), ("tin", "Sn"),
           ("lead", "Pb"), ("copper", "Cu"), ("mercury", "Hg"), ("tungsten", "W")]


def _rows(offset: int, n: int) -> list[dict]:
    rows = []
    for k in range(offset, offset + n):
        country, capital = CAPITALS[k]
        element, symbol = SYMBOLS[k]
        rows.append({"id": f"geo-{k}", "source": "geo", "input": f"What is the capital of {country}?",
                     "answer": capital})
        rows.append({"id": f"chem-{k}", "source": "chem", "input": f"What is the chemical symbol of {element}?",
                     "answer": [symbol, symbol.upper()]})
    return rows


def build_toy_pack(root: Path) -> Path:
    """An ``exact_match`` pack with two skills: 4 seed, 6 validation and 6 test rows."""
    root.mkdir(parents=True, exist_ok=True)

    def jsonl(name: str, rows: list[dict]) -> None:
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    seeds = [{**r, "solution": "This is a well-known fact.\nFinal answer: "
                               + (r["answer"] if isinstance(r["answer"], str) else r["answer"][0])}
             for r in _rows(0, 2)]
    jsonl("seeds.jsonl", seeds)
    jsonl("val.jsonl", _rows(2, 3))
    jsonl("test.jsonl", _rows(5, 3))
    (root / "description.md").write_text("# toyqa\n\nShort factual questions with one-word answers.\n")
    sample = [{"instruction": INSTRUCTION, "input": s["input"], "output": s["solution"]} for s in seeds[:2]]
    (root / "sample_submission.json").write_text(json.dumps(sample, indent=2))
    evals = _rows(2, 6)
    hashes = sorted(set().union(*(ngram_hashes(r["input"], 8) for r in evals)))
    (root / "decontamination.json").write_text(json.dumps({"n": 8, "hashes": hashes}))
    files = {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in
             ("val.jsonl", "test.jsonl", "seeds.jsonl", "sample_submission.json", "description.md",
              "decontamination.json")}
    manifest = {"name": "toyqa", "title": "Toy short-answer questions", "instruction": INSTRUCTION,
                "description": "description.md", "scorer": {"kind": "exact_match"},
                "splits": {"val": "val.jsonl", "test": "test.jsonl"}, "seeds": "seeds.jsonl",
                "sample_submission": "sample_submission.json", "decontamination": {"file": "decontamination.json", "n": 8},
                "sources": {"geo": "geography", "chem": "chemistry"}, "skills": SKILLS, "files": files,
                "counts": {"val": 6, "test": 6, "seeds": 4}}
    (root / "pack.json").write_text(json.dumps(manifest, indent=2))
    return root


def test_exact_match_rule_and_items(tmp_path: Path) -> None:
    dom = load_domain(build_toy_pack(tmp_path / "toyqa"))
    task = dom.task
    assert task.kind == "exact_match"
    assert sorted(dom.skills()) == ["capital_cities", "chemical_symbols"]
    assert dom.skills()["capital_cities"].description == "the capital city of a named country"
    items = {i.id: i for i in dom.val_items()}
    paris = items["geo-2"]
    assert paris.gold == "Nairobi"
    cases = [
        ("Nairobi is the capital.\nFinal answer: Nairobi", True),
        ("Final answer:   nairobi.", True),         # case, spacing, a trailing period
        ("Final answer: \"Nairobi\"", True),        # surrounding quotes
        ("Final answer: Nairobi City", False),      # no partial credit
        ("The answer is Nairobi.", False),          # no answer line
        ("Final answer: Lima\nFinal answer: Nairobi", True),  # the last line counts
        ("Final answer: Nairobi\nFinal answer: Lima", False),
        ("Final answer:", False),                   # an empty answer
        ("The answer is therefore \\boxed{Nairobi}.", False),  # another task's format earns nothing here
    ]
    for output, want in cases:
        assert task.is_correct(output, paris) is want, output
    chem = items["chem-2"]
    assert task.is_correct("Final answer: AU", chem) and task.is_correct("Final answer: Au", chem)
    assert task.classify("no idea", paris) == "no_answer"
    assert task.classify("Final answer:", paris) == "unparsable"
    assert task.classify("Final answer: Lima", paris) == "wrong_value"
    assert task.classify("ha " * 40, paris) == "looping"
    assert normalise("  Ｐaris. ") == "paris"


def test_a_broken_task_setting_is_a_one_line_error(tmp_path: Path) -> None:
    root = build_toy_pack(tmp_path / "toyqa")
    m = json.loads((root / "pack.json").read_text())
    m["scorer"] = {"kind": "fuzzy_match"}
    (root / "pack.json").write_text(json.dumps(m))
    with pytest.raises(DomainError, match=r"pack.json: scorer: unknown task kind 'fuzzy_match' \(known: boxed_numeric, .*exact_match"):
        load_domain(root)
    m["scorer"] = {"kind": "exact_match", "rel_tol": 0.1}
    (root / "pack.json").write_text(json.dumps(m))
    with pytest.raises(DomainError, match="unknown setting 'rel_tol'"):
        load_domain(root)
    m["scorer"] = {"kind": "boxed_numeric", "rel_tol": "wide"}
    (root / "pack.json").write_text(json.dumps(m))
    with pytest.raises(DomainError, match="setting 'rel_tol' must be"):
        load_domain(root)
    m["scorer"] = {"kind": "exact_match"}
    m["skills"] = [{"name": "a"}, {"name": "a"}]
    (root / "pack.json").write_text(json.dumps(m))
    with pytest.raises(DomainError, match=r"skills\[1\]: duplicate skill name 'a'"):
        load_domain(root)
    for scorer, message in [({"kind": "boxed_numeric", "rel_tol": -1}, "must be between 0 and 1"),
                            ("exact_match", "expected an object with a 'kind'"),
                            ({}, "no task kind given")]:
        m2 = {**m, "skills": SKILLS, "scorer": scorer}
        (root / "pack.json").write_text(json.dumps(m2))
        with pytest.raises(DomainError, match=message):
            load_domain(root)
    for change, message in [({"name": "../evil"}, "must be a plain name"),
                            ({"splits": {"val": "test.jsonl", "test": "test.jsonl"}}, "must be different files"),
                            ({"splits": ["val.jsonl"]}, "'splits' must be an object")]:
        (root / "pack.json").write_text(json.dumps({**m, "skills": SKILLS, "scorer": {"kind": "exact_match"},
                                                    **change}))
        with pytest.raises(DomainError, match=message):
            load_domain(root)


def test_the_sample_submission_must_show_the_tasks_format(tmp_path: Path) -> None:
    from data_agent.validators import validate_submission

    root = build_toy_pack(tmp_path / "toyqa")
    dom = load_domain(root)
    assert validate_submission(root / "sample_submission.json", dom).ok
    sample = json.loads((root / "sample_submission.json").read_text())
    sample[1]["output"] = "The answer is Paris."
    (root / "sample_submission.json").write_text(json.dumps(sample))
    m = json.loads((root / "pack.json").read_text())
    m["files"]["sample_submission.json"] = hashlib.sha256((root / "sample_submission.json").read_bytes()).hexdigest()
    (root / "pack.json").write_text(json.dumps(m))
    with pytest.raises(DomainError, match=r"sample_submission.json: record 1: output does not end with a "
                                          r"'Final answer: \.\.\.' line"):
        load_domain(root)


def test_a_seed_with_its_own_answer_line_makes_a_valid_example_document() -> None:
    task = get_task("exact_match")
    doc = task.example_document({"problem": "What is the capital of Peru?", "answer": "Lima",
                                 "solution": "Peru's seat of government.\nFinal answer: Lima"}, 400)
    assert doc["solution"] == "Peru's seat of government.\nFinal answer: Lima"
    assert task.final_line_error(doc["solution"]) == ""


def test_symbolic_teacher_refuses_a_domain_without_a_library(tmp_path: Path) -> None:
    from data_agent.config import load_config
    from data_agent.errors import DataAgentError
    from data_agent.loop import specialize

    cfg = load_config("smoke")
    cfg.domain = str(build_toy_pack(tmp_path / "toyqa"))
    with pytest.raises(DataAgentError, match="no template library for domain 'toyqa'"):
        specialize(cfg, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists(), "the run directory was created before the check"


@pytest.mark.slow
def test_smoke_run_on_a_toy_exact_match_pack(tmp_path: Path, da_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from data_agent.api import evaluate

    from conftest import RecordingResponder, emulated_smoke_run

    pack = build_toy_pack(tmp_path / "toyqa")
    responder = RecordingResponder(default_responder)
    run_dir, cfg, _ = emulated_smoke_run(tmp_path, monkeypatch, KEY, responder, domain=str(pack))

    # The prompts carry the pack's skills and the task's answer line, nothing of science.
    users = responder.user_prompts()
    assert users
    assert all("capital cities" in u or "chemical symbols" in u for u in users)
    assert any("the capital city of a named country" in u for u in users)
    assert any("the symbol of a named chemical element" in u for u in users)
    assert all("Final answer: <the answer>" in u for u in users)
    assert not any("boxed" in u or "kinetics" in u for u in users)
    plan = json.loads((run_dir / "iter-01" / "plan.json").read_text())
    assert {a["topic"] for a in plan["allocations"]} <= {"capital_cities", "chemical_symbols"}

    # Training data in the task's format; rejections counted under the task's validator.
    sub = json.loads((run_dir / "iter-01" / "submission.json").read_text())
    assert len(sub) == cfg.n_records
    assert all(r["output"].split("\n")[-1].startswith("Final answer: ") for r in sub)

    # Scoring is the exact_match rule: every row's verdict is the task's, recomputed.
    task = get_task("exact_match")
    items = {i.id: i for i in load_domain(pack).val_items()}
    rows = json.loads((run_dir / "iter-01" / "eval-val.json").read_text())["items"]
    assert rows and all(r["correct"] == task.is_correct(r["output"], items[r["id"]]) for r in rows)
    assert all(r["failure"] in (None, "no_answer", "unparsable", "wrong_value", "looping") for r in rows)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["domain"] == "toyqa" and metrics["test"]["n"] == cfg.eval.test_subset

    # The test split was read once, by the final step, and the audit says so.
    audit = json.loads((run_dir / "audit.json").read_text())
    assert len(audit["test_reads"]) == 1 and audit["test_reads"][0]["reason"].startswith("final scoring")

    # Predictions made elsewhere are scored by the same rule.
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": i, "output": f"Final answer: {it.gold if isinstance(it.gold, str) else it.gold[1]}"}) + "\n"
                             for i, it in items.items()))
    assert evaluate(str(pack), split="val", predictions=preds)["metrics"]["accuracy"] == 1.0
    preds.write_text("".join(json.dumps({"id": i, "output": "The answer is therefore \\boxed{1.000}."}) + "\n"
                             for i in items))
    assert evaluate(str(pack), split="val", predictions=preds)["metrics"]["accuracy"] == 0.0
    with unsealed_test("checking the toy pack's test rows"):
        assert len(load_domain(pack).test_items()) == 6


def test_items_without_a_prediction_are_counted_as_missing(tmp_path: Path) -> None:
    from data_agent.api import evaluate

    root = build_toy_pack(tmp_path / "toyqa")
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": "geo-2", "output": "Final answer: Nairobi"}) + "\n"
                     + json.dumps({"id": "geo-3", "output": "Final answer: Rome"}) + "\n")
    m = evaluate(str(root), split="val", predictions=preds)["metrics"]
    assert m["missing"] == 4 and m["failures"] == {"missing": 4, "wrong_value": 1}


def test_the_config_files_domain_is_used_unless_the_option_is_given(tmp_path: Path, monkeypatch) -> None:
    from data_agent import cli, loop

    root = build_toy_pack(tmp_path / "toyqa")
    seen = []
    monkeypatch.setattr(loop, "specialize", lambda cfg, **kw: seen.append(cfg.domain) or tmp_path)
    conf = tmp_path / "c.toml"
    conf.write_text(f'domain = "{root}"\n')
    cli.app(["specialize", "--preset", "smoke", "--config", str(conf)], standalone_mode=False)
    cli.app(["specialize", "--preset", "smoke", "--config", str(conf), "--domain", "science"], standalone_mode=False)
    cli.app(["specialize", "--preset", "smoke"], standalone_mode=False)
    assert seen == [str(root), "science", "science"]
