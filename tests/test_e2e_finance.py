"""End to end on the finance pack with the smoke preset and the symbolic finance library."""

import json

import pytest

from data_agent.config import load_config
from data_agent.domain import load_domain
from data_agent.generators.symbolic import TEMPLATES
from data_agent.loop import specialize
from data_agent.records import read_pool
from data_agent.validators import validate_submission

pytestmark = pytest.mark.slow


def test_smoke_loop_on_finance(tmp_path, da_home):
    cfg = load_config("smoke", overrides={"domain": "finance"})
    run_dir = specialize(cfg, run_dir=tmp_path / "run")
    m = json.loads((run_dir / "metrics.json").read_text())
    assert len(m["iterations"]) == cfg.iterations
    assert m["test"]["base"]["n"] == m["test"]["final"]["n"] == cfg.eval.test_subset
    dom = load_domain("finance")
    for it in range(1, cfg.iterations + 1):
        d = run_dir / f"iter-{it:02d}"
        sub = json.loads((d / "submission.json").read_text())
        assert len(sub) == cfg.n_records
        assert validate_submission(d / "submission.json", dom, expected_n=cfg.n_records).ok
        for rec in sub:
            assert dom.task.final_line_error(rec["output"]) == "" and rec["instruction"] == dom.instruction
        pool = read_pool(d / "pool.jsonl")
        assert {r.template for r in pool} <= {n for n, t in TEMPLATES.items() if t.library.domain == "finance"}
        rows = json.loads((d / "eval-val.json").read_text())["items"]
        assert {r["source"] for r in rows} <= set(dom.manifest["sources"])
    reads = json.loads((run_dir / "audit.json").read_text())["test_reads"]
    assert len(reads) == 1 and reads[0]["domain"] == "finance"
