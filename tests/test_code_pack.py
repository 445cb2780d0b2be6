"""The code pack (CRUXEval): deterministic hash split, disjoint by id, every row read by its task."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from data_agent.domain import load_domain, read_jsonl, unsealed_test
from data_agent.validators import validate_submission

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "domains" / "code"
SRC = ROOT.parent / "shared" / "data" / "cruxeval"
needs_source = pytest.mark.skipif(not (SRC / "cruxeval.jsonl").is_file(),
                                  reason="the CRUXEval source data (../shared/data/cruxeval) is not here")


def _builder():
    spec = importlib.util.spec_from_file_location("build_code_pack", ROOT / "scripts" / "build_code_pack.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pack_loads_and_counts() -> None:
    dom = load_domain("code")
    assert dom.task.kind == "python_literal"
    m = dom.manifest
    seeds, val = dom.seeds(), dom.val_items()
    with unsealed_test("test of the pack's counts"):
        test = dom.test_items()
    assert m["counts"] == {"seeds": len(seeds), "val": len(val), "test": len(test)}
    assert len(seeds) + len(val) + len(test) == 800
    # about 10% / 20% / 70%
    assert 60 <= len(seeds) <= 110 and 130 <= len(val) <= 190 and 520 <= len(test) <= 600
    assert "MIT" in m["attribution"] and (PACK / "LICENSE").read_text().startswith("MIT License")
    assert m["scorer"] == {"kind": "python_literal"} and set(m["sources"]) == {"cruxeval"}
    assert all(item.source == "cruxeval" for item in val)


def test_splits_are_disjoint_by_id_and_follow_the_hash_rule() -> None:
    rows = {name: read_jsonl(PACK / f"{name}.jsonl") for name in ("seeds", "val", "test")}
    ids = {name: [r["id"] for r in rs] for name, rs in rows.items()}
    all_ids = [i for v in ids.values() for i in v]
    assert len(all_ids) == len(set(all_ids)) == 800
    want = {"seeds": {0}, "val": {1, 2}, "test": set(range(3, 10))}
    for name, vs in ids.items():
        assert {int(hashlib.sha256(i.encode()).hexdigest(), 16) % 10 for i in vs} <= want[name]


@needs_source
def test_rows_are_the_benchmark_s_rows_unchanged() -> None:
    rows = {name: read_jsonl(PACK / f"{name}.jsonl") for name in ("seeds", "val", "test")}
    all_ids = [r["id"] for rs in rows.values() for r in rs]
    source_ids = {json.loads(line)["id"] for line in (SRC / "cruxeval.jsonl").read_text().splitlines() if line}
    assert set(all_ids) == source_ids
    # rows are copied unchanged from the benchmark
    src = {json.loads(line)["id"]: json.loads(line) for line in (SRC / "cruxeval.jsonl").read_text().splitlines() if line}
    for rs in rows.values():
        for r in rs:
            assert {k: r[k] for k in ("id", "code", "input", "output")} == {k: src[r["id"]][k] for k in
                                                                           ("id", "code", "input", "output")}


def test_every_row_reads_with_the_task_and_seeds_end_with_the_answer_line() -> None:
    dom = load_domain("code")
    task = dom.task
    for name in ("seeds", "val", "test"):
        for r in read_jsonl(PACK / f"{name}.jsonl"):
            item = task.item(r)
            assert item.input.startswith("```python\n") and "def f(" in item.input and item.input.endswith("?")
    for s in dom.seeds():
        assert task.final_line_error(s["solution"]) == ""
        assert task.is_correct(s["solution"], task.item(s))


@needs_source
def test_rebuild_is_identical(tmp_path: Path) -> None:
    """Every file but the fingerprints (which embed every item: tests/test_decontamination.py
    checks the shipped ones against the pack's items) is rebuilt byte for byte."""
    _builder().build(SRC, tmp_path / "code", fingerprints=False)
    shipped = json.loads((PACK / "pack.json").read_text())
    for name in shipped["files"]:
        if name != "fingerprints.json":
            assert (tmp_path / "code" / name).read_bytes() == (PACK / name).read_bytes(), name
    shipped["files"].pop("fingerprints.json")
    shipped["decontamination"].pop("fingerprints")
    assert json.loads((tmp_path / "code" / "pack.json").read_text()) == shipped


def test_sample_submission_validates(tmp_path: Path) -> None:
    dom = load_domain("code")
    rep = validate_submission(PACK / "sample_submission.json", dom)
    assert rep.ok, rep.problems
    # a record whose output ends otherwise is caught
    sample = json.loads((PACK / "sample_submission.json").read_text())
    sample[0]["output"] += "\nThat is all."
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(sample))
    rep = validate_submission(bad, dom)
    assert not rep.ok and "does not end" in rep.problems[0]


def test_decontamination_catches_an_evaluation_function() -> None:
    from data_agent.records import Record
    from data_agent.validators import NgramDecontaminationValidator

    dom = load_domain("code")
    item = dom.val_items()[0]
    v = NgramDecontaminationValidator(dom.contamination_hashes(), dom.decontamination_n)
    long_code = max(dom.val_items(), key=lambda i: len(i.raw["code"]))
    assert not v.check(Record(instruction="", input=long_code.input, output="")).ok
    assert v.check(Record(instruction="", input="```python\ndef f(x):\n    return x\n```", output="")).ok
    assert item.id
