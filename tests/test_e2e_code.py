"""End to end on the smoke preset for the code pack: the symbolic code library, a tiny student, the sealed test."""

import json
from pathlib import Path

import pytest

from data_agent import domain as domain_mod
from data_agent.config import load_config
from data_agent.loop import specialize
from data_agent.records import read_pool
from data_agent.validators import validate_submission

pytestmark = pytest.mark.slow


def test_smoke_loop_on_the_code_pack(tmp_path: Path, da_home) -> None:
    cfg = load_config("smoke", None, {"domain": "code"})
    run_dir = specialize(cfg, run_dir=tmp_path / "run")
    m = json.loads((run_dir / "metrics.json").read_text())
    assert len(m["iterations"]) == cfg.iterations
    assert m["test"]["base"]["n"] == m["test"]["final"]["n"] == cfg.eval.test_subset
    dom = domain_mod.load_domain("code")
    for it in range(1, cfg.iterations + 1):
        d = run_dir / f"iter-{it:02d}"
        sub = json.loads((d / "submission.json").read_text())
        assert len(sub) == cfg.n_records
        assert validate_submission(d / "submission.json", dom, expected_n=cfg.n_records).ok
        pool = read_pool(d / "pool.jsonl")
        assert all(r.generator and r.topic in {"string_methods", "list_ops", "dict_ops", "arithmetic",
                                               "loops_conditionals", "sorting", "comprehension", "set_ops"}
                   for r in pool)
        assert all(dom.task.extract(s["output"]) is not None for s in sub)
    reads = json.loads((run_dir / "audit.json").read_text())["test_reads"]
    assert len(reads) == 1 and reads[0]["domain"] == "code"
    rows = json.loads((run_dir / "base" / "eval-test.json").read_text())["items"]
    assert all(r["failure"] is None or r["failure"] in {"no_answer", "looping", "unparsable", "wrong_value",
                                                        "wrong_type"} for r in rows)
