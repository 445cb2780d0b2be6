"""Method cards: the shipped library, the heuristic engineer's rule, the adapt scaffold's checks, the trajectory."""

from __future__ import annotations

import pytest

from data_agent.engineer import EngineerContext, Feedback, HeuristicEngineer
from data_agent.engineer.llm import check_reply
from data_agent.engineer.methods import BUCKETS, CardError, _load, cards, heuristic_card
from data_agent.loop import trajectory
from data_agent.plan import TopicInfo


def test_the_library_has_fifteen_cards_in_three_buckets_each_complete():
    cs = cards()
    assert len(cs) >= 15
    by_bucket = {b: {c.id for c in cs.values() if c.bucket == b} for b in BUCKETS}
    assert by_bucket["generation"] >= {"self-instruct", "evol-depth", "evol-breadth", "seed-variation",
                                       "persona-diversity", "failure-targeted", "curriculum", "format-drills"}
    assert by_bucket["curation"] >= {"self-consistency", "program-verified", "rejection-sampling"}
    assert by_bucket["selection"] >= {"k-center", "loss-el2n", "difficulty-targeting", "dedup-coverage"}
    for c in cs.values():
        assert c.idea and c.when and c.knobs and c.failure_modes and c.citation, c.id
        assert any(ch.isdigit() for ch in c.citation), c.id  # a year
    with pytest.raises(CardError, match=r"cards/bad.json:1: malformed JSON"):
        _load("bad.json", "{oops")
    with pytest.raises(CardError, match=r"cards/x.json: card 0: missing idea"):
        _load("x.json", '{"bucket": "selection", "cards": [{"id": "a", "title": "t", "when": "w", "knobs": ["k"], '
                        '"failure_modes": ["f"], "citation": "c 2020"}]}')


def _val(acc, fmt, per=None):
    return {"accuracy": acc, "accuracy_ci95": [0, acc + 0.1], "format_compliance": fmt, "n": 32,
            "per_source": per or {"atkins": {"n": 32, "accuracy": acc, "format_compliance": fmt}}}


def _hist(*vals_and_cards):
    return [{"iteration": k + 1, "val": v, "plan": {"method": {"card": c, "bucket": b}, "changes": [],
                                                    "allocations": [], "rationale": "r"},
             "generation": {"teacher_usage": {"requests": 10, "tokens": 0, "dollars": 0.0}}}
            for k, (v, c, b) in enumerate(vals_and_cards)]


def test_the_heuristic_rule_drills_format_then_targets_failures_and_rotates_buckets_on_a_plateau():
    base = _val(0.0, 0.1)
    assert heuristic_card(1, base, [])[0] == "format-drills"
    h = _hist((_val(0.1, 0.8), "format-drills", "generation"))
    assert heuristic_card(2, base, h)[0] == "failure-targeted"
    h = _hist((_val(0.6, 0.9), "format-drills", "generation"))
    assert heuristic_card(2, base, h)[0] == "curriculum"
    plateau = _hist((_val(0.1, 0.8), "format-drills", "generation"), (_val(0.1, 0.8), "failure-targeted",
                                                                     "generation"))
    card, how = heuristic_card(3, base, plateau)
    assert card == "k-center" and "rotate from the generation bucket to selection" in how
    plateau2 = plateau + _hist((_val(0.05, 0.8), "k-center", "selection"))[0:1]
    plateau2[-1]["iteration"] = 3
    assert heuristic_card(4, base, plateau2)[0] == "rejection-sampling"


def _ctx(history=None, scaffold="adapt", base=None):
    return EngineerContext(domain_name="science", domain_description="d", teacher="t", n_records=8, iteration=len(
        history or []) + 1, topics={"thermo": TopicInfo(subject="chemistry", sources=["atkins"])},
        source_subject={"atkins": "chemistry"}, base_val=base or _val(0.0, 0.1), history=history or [],
        selection={"policy": "first", "overgenerate": 1.0}, scaffold=scaffold)


def test_heuristic_plans_carry_their_card_and_a_plateau_switches_the_selection():
    eng = HeuristicEngineer()
    p = eng.plan(_ctx())
    assert p.method["card"] == "format-drills" and p.method["bucket"] == "generation"
    assert p.selection == {"policy": "first", "overgenerate": 1.0}
    hist = _hist((_val(0.0, 0.05), "format-drills", "generation"))
    hist[0]["plan"] = {**p.to_dict()}
    ctx = _ctx(hist)
    r = eng.reflect(ctx, Feedback(val=hist[0]["val"]))
    assert r.method["card"] == "k-center" and r.selection == {"policy": "k_center", "overgenerate": 2.0}
    assert r.changes[0].startswith("method: format-drills -> k-center [selection]")
    assert any(c.startswith("selection: first -> k_center, over-generating x2") for c in r.changes)


def _reply(card=None, adaptation="adapted to the student"):
    doc = {"allocations": [{"topic": "thermo", "count": 8, "difficulty": 1}], "rationale": "because"}
    if card:
        doc["method"] = {"card": card, "adaptation": adaptation}
    return doc


def test_the_adapt_scaffold_requires_a_known_card_and_a_new_bucket_after_a_plateau():
    plan, err = check_reply(_reply(), _ctx())
    assert plan is None and "`method` is missing" in err
    plan, err = check_reply(_reply("magic"), _ctx())
    assert plan is None and "unknown method card 'magic'" in err
    plan, err = check_reply(_reply("self-instruct"), _ctx())
    assert err is None and plan["method"] == {"card": "self-instruct", "bucket": "generation",
                                              "adaptation": "adapted to the student"}
    flat = _hist((_val(0.0, 0.5), "self-instruct", "generation"))  # no gain over the base (0.0)
    plan, err = check_reply(_reply("evol-depth"), _ctx(flat))
    assert plan is None and "take this plan's card from another bucket (curation or selection)" in err
    plan, err = check_reply(_reply("k-center"), _ctx(flat))
    assert err is None and plan["method"]["bucket"] == "selection"
    gain = _hist((_val(0.2, 0.5), "self-instruct", "generation"))
    assert check_reply(_reply("evol-depth"), _ctx(gain))[1] is None  # improved: the same bucket is fine
    assert check_reply(_reply(), _ctx(flat, scaffold="open"))[1] is None  # open: no card needed


def test_the_trajectory_tells_new_families_from_local_tweaks():
    h = _hist((_val(0.1, 0.5), "format-drills", "generation"), (_val(0.2, 0.6), "format-drills", "generation"),
              (_val(0.15, 0.6), "k-center", "selection"))
    rows = trajectory(_val(0.0, 0.1), h)
    assert [r["kind"] for r in rows] == ["new family", "local tweak", "new family"]
    assert [r["card"] for r in rows] == ["format-drills", "format-drills", "k-center"]
    assert rows[2]["gain_over_best_before"] == pytest.approx(-0.05) and rows[0]["cost"]["requests"] == 10


def test_plan_v2_fields_are_bounded_and_new_skills_need_an_llm_teacher():
    from data_agent.engineer import UniformEngineer
    from data_agent.plan import Plan, PlanError, validate_plan

    base = {"iteration": 1, "n_records": 2, "teacher": "t", "rationale": "r",
            "allocations": [{"topic": "a", "count": 2, "difficulty": 1}]}
    ok = {**base, "allocations": [{"topic": "a", "count": 2, "difficulty": 1, "guidance": "short",
                                   "seeds": ["s1"], "description": "what it covers", "card": "curriculum"}]}
    p = Plan.from_dict(ok)
    assert p.to_dict()["schema_version"] == 2 and p.allocations[0].seeds == ["s1"]
    assert Plan.from_dict(p.to_dict()).to_dict() == p.to_dict()  # round trip, version key included
    assert "guidance" not in Plan.from_dict(base).to_dict()["allocations"][0]  # a v1 allocation stays as it was
    for bad, where in (({"guidance": "x" * 501}, "allocations/0/guidance"),
                       ({"seeds": ["a", "b", "c", "d", "e"]}, "allocations/0/seeds")):
        with pytest.raises(PlanError, match=f"plan: {where}"):
            validate_plan({**base, "allocations": [{**base["allocations"][0], **bad}]})
    # a new skill: only for an LLM teacher, and only with a description
    reply = {"allocations": [{"topic": "hydraulics", "count": 8, "difficulty": 1}], "rationale": "r",
             "method": {"card": "evol-breadth", "adaptation": "a neighbouring skill"}}
    ctx = _ctx()
    ctx.teacher = "openai:gpt-x"
    assert "propose a new skill: give it a `description`" in check_reply(reply, ctx)[1]
    reply["allocations"][0]["description"] = "pressure in fluids"
    plan, err = check_reply(reply, ctx)
    assert err is None and plan["allocations"][0]["description"] == "pressure in fluids"
    ctx.teacher = "symbolic"
    assert "the symbolic teacher writes only its own topics" in check_reply(reply, ctx)[1]
    ctx.teacher, ctx.seed_ids = "openai:gpt-x", ["seed-1"]
    reply["allocations"][0]["seeds"] = ["seed-9"]
    assert "unknown seed id(s) 'seed-9'" in check_reply(reply, ctx)[1]
    # the uniform control: an even spread at difficulty 1, the same every iteration
    u = UniformEngineer().plan(_ctx())
    assert [(a.topic, a.count, a.difficulty) for a in u.allocations] == [("thermo", 8, 1)] and u.method is None


def test_every_plan_names_its_stopping_decision_and_the_heuristic_stops_by_rule():
    from data_agent.engineer import UniformEngineer
    from data_agent.plan import Plan, PlanError, validate_plan

    eng = HeuristicEngineer()
    p = eng.plan(_ctx())
    assert p.stopping["decision"] == "continue" and not p.stops()
    assert UniformEngineer().plan(_ctx()).stopping["decision"] == "continue"
    flat = _hist((_val(0.0, 0.5), "format-drills", "generation"))
    flat[0]["plan"] = p.to_dict()
    r = eng.reflect(_ctx(flat), Feedback(val=flat[0]["val"]))
    assert r.stopping == {"decision": "continue", "reason": "1 iteration(s) in a row without a validation gain "
                          "beyond the interval (best 0.000); a new method may still help"}
    gain = _hist((_val(0.5, 0.9), "format-drills", "generation"))  # above the base's CI upper end (0.1)
    gain[0]["plan"] = p.to_dict()
    assert "gained beyond the interval" in eng.reflect(_ctx(gain), Feedback(val=gain[0]["val"])).stopping["reason"]
    solved = _hist((_val(1.0, 1.0), "format-drills", "generation"))
    solved[0]["plan"] = p.to_dict()
    assert eng.reflect(_ctx(solved), Feedback(val=solved[0]["val"])).stops()
    # a budget with less left than the last iteration spent: another iteration would run out midway
    doc = {"costs": {"iteration": {"calls": 30, "dollars": 0.5},
                     "budget_left": {"max_calls": {"limit": 100, "used": 80, "left": 20}}}}
    r = eng.reflect(_ctx(flat), Feedback(val=flat[0]["val"], document=doc))
    assert r.stops() and r.stopping["reason"].startswith("the max_calls budget has 20 left, less than the last "
                                                         "iteration spent (30)")
    doc["costs"]["budget_left"]["max_calls"]["left"] = 40
    assert not eng.reflect(_ctx(flat), Feedback(val=flat[0]["val"], document=doc)).stops()
    # the schema: a known decision with a reason; the first plan cannot stop; an older plan reads as continue
    base = {"iteration": 2, "n_records": 2, "teacher": "t", "rationale": "r",
            "allocations": [{"topic": "a", "count": 2, "difficulty": 1}]}
    assert Plan.from_dict({**base, "stopping": {"decision": "stop", "reason": "why"}}).stops()
    assert not Plan.from_dict(base).stops() and "stopping" not in Plan.from_dict(base).to_dict()
    for bad, msg in (({"decision": "pause", "reason": "x"}, "plan: stopping/decision"),
                     ({"decision": "stop"}, "plan: stopping: 'reason' is a required property")):
        with pytest.raises(PlanError, match=msg):
            validate_plan({**base, "stopping": bad})
    with pytest.raises(PlanError, match="plan: stopping: iteration 1 cannot stop"):
        validate_plan({**base, "iteration": 1, "stopping": {"decision": "stop", "reason": "x"}})
    # an LLM reply: a missing decision is "continue", said so; the first plan's "stop" is refused
    plan, err = check_reply(_reply("self-instruct"), _ctx())
    assert plan["stopping"] == {"decision": "continue", "reason": "the engineer's reply named no stopping decision"}
    plan, err = check_reply({**_reply("self-instruct"), "stopping": {"decision": "stop", "reason": "done"}}, _ctx())
    assert plan is None and '"stop" in the first plan' in err
    # a stop makes no data, so the bucket rotation after a plateau does not apply to it
    plan, err = check_reply({**_reply("evol-depth"), "stopping": {"decision": "stop", "reason": " flat "}}, _ctx(flat))
    assert err is None and plan["stopping"] == {"decision": "stop", "reason": "flat"}
    assert "another bucket" in check_reply({**_reply("evol-depth"), "stopping": {"decision": "continue",
                                                                                  "reason": "x"}}, _ctx(flat))[1]
