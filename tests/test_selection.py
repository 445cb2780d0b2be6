"""The selection seam: which N of the accepted records a submission keeps."""

import pytest

from data_agent.errors import DataAgentError
from data_agent.generators.selection import POLICIES, select
from data_agent.records import Record


def _recs(n, offset=0):
    return [Record(instruction="i", input=f"q{offset + k}", output="o", attempt=offset + k) for k in range(n)]


def test_first_keeps_the_earliest_requests_of_each_allocation():
    accepted = {0: list(reversed(_recs(5))), 1: _recs(3, 100)}
    out = select(accepted, {0: 2, 1: 3}, policy="first")
    assert [r.attempt for r in out] == [0, 1, 100, 101, 102]


def test_random_is_seeded_distinct_and_keeps_the_counts():
    accepted = {0: _recs(20), 1: _recs(10, 100)}
    a = select(accepted, {0: 5, 1: 4}, policy="random", seed=7)
    b = select(accepted, {0: 5, 1: 4}, policy="random", seed=7)
    c = select(accepted, {0: 5, 1: 4}, policy="random", seed=8)
    assert [r.attempt for r in a] == [r.attempt for r in b] != [r.attempt for r in c]
    assert len(a) == 9 and len({r.attempt for r in a}) == 9
    assert sum(r.attempt < 100 for r in a) == 5 and sum(r.attempt >= 100 for r in a) == 4
    assert [r.attempt for r in a[:5]] == sorted(r.attempt for r in a[:5])  # request order kept
    assert set(POLICIES) >= {"first", "random"}


def test_unknown_policy_and_a_policy_that_miscounts_are_errors(monkeypatch):
    with pytest.raises(DataAgentError, match="unknown selection policy 'best'"):
        select({0: _recs(3)}, {0: 2}, policy="best")
    monkeypatch.setitem(POLICIES, "greedy", lambda recs, n, seed, ctx: list(recs))
    with pytest.raises(DataAgentError, match="returned 3 records for an allocation that needs 2"):
        select({0: _recs(3)}, {0: 2}, policy="greedy")


def test_an_unknown_policy_in_the_config_fails_before_the_run_starts(tmp_path):
    from data_agent.config import load_config
    from data_agent.loop import specialize

    with pytest.raises(DataAgentError, match="selection \\(--selection\\): expected one of first, random, verified_first, .*got 'best'"):
        load_config("smoke", overrides={"selection": "best"})
    cfg = load_config("smoke")
    object.__setattr__(cfg, "selection", "best")  # past the configuration's own check: the loop checks too
    with pytest.raises(DataAgentError, match="unknown selection policy 'best' \\(known: first, random, verified_first, k_center, loss, el2n, coverage\\)"):
        specialize(cfg, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- the policies over an over-generated pool

import numpy as np

from data_agent.generators.selection import SelectionContext, summary
from data_agent.plan import Plan, PlanError, validate_plan


def _rec(k, **kw):
    return Record(instruction="i", input=kw.pop("input", f"q{k}"), output="o", attempt=k, id=f"r{k}", **kw)


def test_verified_first_keeps_verified_records_before_earlier_unverified_ones():
    recs = [_rec(k, verification={"status": s}) for k, s in enumerate(
        ["unverified", "verified", "failed", "agreed", "unverified", "verified"])]
    out = select({0: recs}, {0: 3}, policy="verified_first")
    assert [r.attempt for r in out] == [1, 3, 5]
    assert [r.attempt for r in select({0: recs}, {0: 4}, policy="verified_first")] == [1, 3, 5, 0]
    s = summary(out, recs, "verified_first", 2.0)
    assert s["verified_kept"] == 3 and s["verified_accepted"] == 3 and s["kept"] == 3 and s["accepted"] == 6


def test_k_center_keeps_one_of_each_cluster_instead_of_the_earliest_near_copies():
    # three clusters of near-identical inputs; the first five requests all come from cluster a
    centers = {"a": np.array([1.0, 0, 0]), "b": np.array([0, 1.0, 0]), "c": np.array([0, 0, 1.0])}
    labels = ["a"] * 5 + ["b"] * 3 + ["c"] * 2
    recs = [_rec(k, input=f"{lab} {k}") for k, lab in enumerate(labels)]

    def embed(texts):
        v = np.stack([centers[t.split()[0]] + 0.01 * int(t.split()[1]) for t in texts])
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    out = select({0: recs}, {0: 3}, policy="k_center", context=SelectionContext(embed=embed))
    assert sorted(r.input.split()[0] for r in out) == ["a", "b", "c"]
    assert [r.input.split()[0] for r in select({0: recs}, {0: 3}, policy="first")] == ["a", "a", "a"]


def test_loss_and_el2n_keep_the_hardest_records_after_leaving_out_the_noisiest_tenth():
    recs = [_rec(k) for k in range(20)]
    loss = {f"q{k}": float(k) for k in range(20)}  # the later, the harder; q19 and q18 are the top tenth
    el2n = {f"q{k}": float(20 - k) for k in range(20)}  # the opposite order
    seen = []

    def scores(rs):
        seen.append(len(rs))
        return [{"loss": loss[r.input], "el2n": el2n[r.input]} for r in rs]

    ctx = SelectionContext(scores=scores, student="s")
    out = select({0: recs[:10], 1: recs[10:]}, {0: 3, 1: 3}, policy="loss", context=ctx)
    assert [r.attempt for r in out] == [6, 7, 8, 16, 17, 18]  # top 1 of each 10 left out
    assert seen == [20]  # scored once, in one batch, for both allocations
    s = summary(out, recs, "loss", 1.0, ctx)
    assert s["mean_loss_kept"] == 12.0 and s["scored_with"] == "s"
    out = select({0: recs}, {0: 4}, policy="el2n", context=SelectionContext(scores=scores))
    assert [r.attempt for r in out] == [2, 3, 4, 5]  # el2n highest for q0, q1 (left out), then q2..q5
    with pytest.raises(DataAgentError, match="needs the student's scores"):
        select({0: recs}, {0: 4}, policy="loss")


def test_coverage_takes_every_sub_skill_once_before_repeating_one():
    templates = ["t1"] * 6 + ["t2", "t3"]
    recs = [_rec(k, template=t) for k, t in enumerate(templates)]
    out = select({0: recs}, {0: 4}, policy="coverage")
    assert sorted(r.template for r in out) == ["t1", "t1", "t2", "t3"]
    assert [r.template for r in select({0: recs}, {0: 4}, policy="first")] == ["t1"] * 4


def test_a_plan_names_its_policy_and_over_generation_within_bounds():
    base = {"iteration": 1, "n_records": 2, "teacher": "t", "rationale": "r",
            "allocations": [{"topic": "a", "count": 2, "difficulty": 1}]}
    p = Plan.from_dict({**base, "selection": {"policy": "k_center", "overgenerate": 2}})
    assert p.selection_choice() == ("k_center", 2.0) and p.to_dict()["selection"]["policy"] == "k_center"
    assert Plan.from_dict(base).selection_choice("random") == ("random", 1.0)
    assert "selection" not in Plan.from_dict(base).to_dict()
    for bad, where in (({"policy": "best"}, "selection/policy"), ({"policy": "loss", "overgenerate": 9}, "selection/overgenerate"),
                       ({"overgenerate": 2}, "selection")):
        with pytest.raises(PlanError, match=f"plan: {where}"):
            validate_plan({**base, "selection": bad})


def test_record_scores_are_the_students_completion_loss_and_el2n(da_home):
    """The loss of a record equals the model's own masked cross-entropy on the
    completion tokens; EL2N lies in [0, sqrt 2]."""
    import torch

    from data_agent.models import load_model, load_tokenizer, resolve_student
    from data_agent.trainers.record_scores import _token_ids, record_scores

    path = resolve_student("tiny-llama")
    recs = [_rec(0, input="What is 2 + 2?"), Record(instruction="Solve.", input="A long problem " * 20,
                                                   output="The answer is therefore \\boxed{4.000}.")]
    out = record_scores(path, recs, batch_size=2)
    tok, model = load_tokenizer(path), load_model(path)
    for r, s in zip(recs, out):
        ids, start = _token_ids(tok, r, 1024)
        labels = torch.tensor([[-100] * start + ids[start:]])
        with torch.inference_mode():
            want = float(model(input_ids=torch.tensor([ids]), labels=labels).loss)
        assert s["loss"] == pytest.approx(want, rel=1e-3)
        assert 0.0 <= s["el2n"] <= 2 ** 0.5
