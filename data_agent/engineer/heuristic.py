"""The heuristic data engineer (offline default).

``plan`` spreads the record budget over the teacher's topics in proportion to
how much each validation source needs it; ``reflect`` reads the last
iteration's validation metrics (validation only: the test split never reaches
an engineer) and moves budget toward the sources with the lowest accuracy,
raises difficulty where the student is saturated, and writes down why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain import largest_remainder
from ..feedback import BUDGET_USAGE, budget_used
from ..plan import Allocation, Plan, TopicInfo, validate_plan
from .methods import card as get_card
from .methods import heuristic_card, plateau

CARD_SELECTION = {"k-center": {"policy": "k_center", "overgenerate": 2.0},
                  "loss-el2n": {"policy": "loss", "overgenerate": 2.0},
                  "rejection-sampling": {"policy": "verified_first", "overgenerate": 1.5}}
"""The selection a selection or curation card sets in a heuristic plan (the
generation cards keep the run's own ``--selection``, and so does every card
when the run chose a policy other than ``first``)."""
POLICY_CARD = {"k_center": "k-center", "loss": "loss-el2n", "el2n": "loss-el2n", "verified_first": "rejection-sampling",
               "coverage": "dedup-coverage"}
"""The card that a run's own selection policy applies (a plateau's rotation cites it)."""


def _method(ctx: "EngineerContext") -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The heuristic's card for this iteration as a plan ``method``, and the plan's selection."""
    card_id, how = heuristic_card(ctx.iteration, ctx.base_val, ctx.history)
    run_policy = str((ctx.selection or {}).get("policy", "first"))
    if card_id in CARD_SELECTION and run_policy != "first":
        # The run chose its selection (--selection): keep it, and cite the card that applies it.
        if run_policy in POLICY_CARD:
            card_id = POLICY_CARD[run_policy]
            how = f"{how.split(':')[0]}: the run's own selection, {run_policy}"
        else:
            how = f"{how} (with the run's own selection, {run_policy}, instead of the card's)"
        c = get_card(card_id)
        return {"card": c.id, "bucket": c.bucket, "adaptation": how}, ctx.selection
    c = get_card(card_id)
    return ({"card": c.id, "bucket": c.bucket, "adaptation": how},
            CARD_SELECTION.get(c.id, ctx.selection))


def _stopping(ctx: "EngineerContext", feedback: "Feedback | None") -> dict[str, str]:
    """The heuristic's stopping decision, by rule: stop when a set budget has less
    left than the last iteration spent of it (another iteration would run out
    midway), or when validation is solved; continue otherwise, saying how long
    validation has gone without a gain beyond the interval (the run's
    ``--patience`` rule, applied by the loop before each plan, acts on that)."""
    if feedback is None or not ctx.history:
        return {"decision": "continue", "reason": "first plan: no student has been trained on data yet"}
    costs = (feedback.document or {}).get("costs") or {}
    spent = costs.get("iteration") or {}
    for key, left in sorted((costs.get("budget_left") or {}).items()):
        used = budget_used(spent, key) if key in BUDGET_USAGE else None
        if used and left.get("left", 0) < used:
            return {"decision": "stop", "reason": f"the {key} budget has {left['left']:g} left, less than the last "
                                                  f"iteration spent ({used:g}): another would run out midway"}
    last = ctx.history[-1]["val"]
    if last.get("accuracy", 0) >= 1.0:
        return {"decision": "stop", "reason": "validation accuracy is 1.000: nothing is left to learn on it"}
    since, best = plateau([ctx.base_val or {"accuracy": 0.0}] + [h["val"] for h in ctx.history])
    if since == 0:
        return {"decision": "continue", "reason": f"iteration {ctx.history[-1]['iteration']} gained beyond the "
                                                  f"interval (validation accuracy {last['accuracy']:.3f})"}
    return {"decision": "continue", "reason": f"{since} iteration(s) in a row without a validation gain beyond the "
                                              f"interval (best {best['accuracy']:.3f}); a new method may still help"}


@dataclass
class EngineerContext:
    """What the engineer knows: the domain, the topics the teacher can write,
    the budget and the validation history (never anything from the test split)."""

    domain_name: str
    domain_description: str
    teacher: str
    n_records: int
    iteration: int
    topics: dict[str, TopicInfo]
    source_subject: dict[str, str]
    base_val: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    """One entry per finished iteration: ``{"iteration", "plan", "val"}`` (val = metrics dict)."""
    selection: dict[str, Any] | None = None
    """The run's selection policy and over-generation (``--selection``,
    ``--overgenerate``), which a plan keeps unless it names its own."""
    seed_ids: list[str] = field(default_factory=list)
    """The pack's seed ids (an allocation may ground its teacher requests on some)."""
    scaffold: str = "adapt"
    """``adapt``: an LLM engineer's every plan cites a method card and rotates
    buckets when validation did not improve; ``open``: the choice is free."""


@dataclass
class Feedback:
    """Validation results of the last iteration: metrics and bad cases (VAL only)."""

    val: dict[str, Any]
    bad_cases: list[dict[str, Any]] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)
    """The iteration's error analysis (:func:`data_agent.feedback.build_feedback`:
    failure classes, a sample of failures, the pool's rejections, costs)."""


class HeuristicEngineer:
    """Deterministic planner/reflector with the same Plan type as an LLM engineer."""

    name = "heuristic"
    saturation = 0.5
    """Validation accuracy of a source above which its topics get harder problems."""

    def _need(self, src_metrics: dict[str, Any] | None) -> float:
        if not src_metrics:
            return 1.0
        acc = float(src_metrics.get("accuracy", 0.0))
        fmt = float(src_metrics.get("format_compliance", 0.0))
        return 0.15 + (1.0 - acc) + 0.25 * (1.0 - fmt)

    def _topic_weights(self, ctx: EngineerContext, per_source: dict[str, Any], shares: dict[str, float]
                       ) -> tuple[dict[str, float], dict[str, list[str]]]:
        by_source: dict[str, list[str]] = {}
        for t, info in ctx.topics.items():
            for s in info.sources:
                by_source.setdefault(s, []).append(t)
        weights = {t: 0.0 for t in ctx.topics}
        for s, share in shares.items():
            ts = by_source.get(s, [])
            for t in ts:
                weights[t] += share * self._need(per_source.get(s)) / len(ts)
        # topics that match no validation source still get a little budget
        floor = 0.1 * min((w for w in weights.values() if w > 0), default=1.0)
        return {t: max(w, floor) for t, w in weights.items()}, by_source

    def _shares(self, val: dict[str, Any] | None, ctx: EngineerContext) -> dict[str, float]:
        per = (val or {}).get("per_source") or {}
        if per:
            total = sum(v.get("n", 0) for v in per.values()) or 1
            return {s: v.get("n", 0) / total for s, v in per.items()}
        return {s: 1.0 / len(ctx.source_subject) for s in ctx.source_subject}

    def _allocations(self, ctx: EngineerContext, val: dict[str, Any] | None, difficulty: dict[str, int],
                     why: dict[str, str]) -> list[Allocation]:
        per_source = (val or {}).get("per_source") or {}
        weights, _ = self._topic_weights(ctx, per_source, self._shares(val, ctx))
        counts = largest_remainder(weights, ctx.n_records)
        return [Allocation(topic=t, subject=ctx.topics[t].subject, count=counts[t], difficulty=difficulty[t],
                           why=why.get(t, "")) for t in sorted(ctx.topics) if counts[t] > 0] or [
            Allocation(topic=sorted(ctx.topics)[0], count=ctx.n_records, difficulty=1)]

    def plan(self, ctx: EngineerContext) -> Plan:
        per_source = (ctx.base_val or {}).get("per_source") or {}
        difficulty = {t: 1 for t in ctx.topics}
        why = {}
        for t, info in ctx.topics.items():
            accs = [per_source[s]["accuracy"] for s in info.sources if s in per_source]
            why[t] = (f"covers {', '.join(info.sources)}; base validation accuracy there "
                      f"{(sum(accs) / len(accs)):.2f}" if accs else f"covers {', '.join(info.sources) or 'no source'}")
        allocs = self._allocations(ctx, ctx.base_val, difficulty, why)
        weakest = sorted(per_source.items(), key=lambda kv: (kv[1]["accuracy"], kv[0]))[:3]
        rationale = (
            f"Iteration {ctx.iteration}: {ctx.n_records} records from the {ctx.teacher} teacher over "
            f"{len(allocs)} topics. Budget follows each validation source's share of the split, weighted by how far "
            f"the base student is from solving it (1 - accuracy) and from the answer format (1 - format compliance)."
            + (" Weakest sources: " + ", ".join("%s (%.2f)" % (s, m["accuracy"]) for s, m in weakest) + "."
               if weakest else "")
            + " Difficulty starts at 1 (one-step problems) so the student first learns the answer format and "
              "the basic relations."
        )
        method, selection = _method(ctx)
        p = Plan(iteration=ctx.iteration, n_records=ctx.n_records, teacher=ctx.teacher, allocations=allocs,
                 rationale=rationale + f" Method: {method['card']} ({method['adaptation']}).", changes=[],
                 method=method, selection=selection, stopping=_stopping(ctx, None))
        validate_plan(p.to_dict())
        return p

    def reflect(self, ctx: EngineerContext, feedback: Feedback) -> Plan:
        last = ctx.history[-1]
        prev_plan = last["plan"]
        prev_diff = {a["topic"]: a["difficulty"] for a in prev_plan["allocations"]}
        prev_count = {a["topic"]: a["count"] for a in prev_plan["allocations"]}
        per_source = feedback.val.get("per_source") or {}
        base_per = (ctx.base_val or {}).get("per_source") or {}
        changes: list[str] = []
        difficulty, why = {}, {}
        for t, info in ctx.topics.items():
            d = prev_diff.get(t, 1)
            accs = [per_source[s]["accuracy"] for s in info.sources if s in per_source]
            fmts = [per_source[s]["format_compliance"] for s in info.sources if s in per_source]
            acc = sum(accs) / len(accs) if accs else None
            fmt = sum(fmts) / len(fmts) if fmts else None
            if acc is not None and acc >= self.saturation and d < 3:
                changes.append(f"{t}: validation accuracy {acc:.2f} on {', '.join(info.sources)} is saturated; "
                               f"difficulty {d} -> {d + 1}")
                d += 1
            elif fmt is not None and fmt >= 0.9 and acc is not None and acc > 0 and d < 2:
                changes.append(f"{t}: answer format learned (compliance {fmt:.2f}); difficulty {d} -> {d + 1} for "
                               f"multi-step problems")
                d += 1
            difficulty[t] = d
            why[t] = (f"validation accuracy {acc:.2f}, format {fmt:.2f} on {', '.join(info.sources)}"
                      if acc is not None else "no validation source maps here")
        allocs = self._allocations(ctx, feedback.val, difficulty, why)
        for a in allocs:
            before = prev_count.get(a.topic, 0)
            if abs(a.count - before) >= max(2, 0.25 * max(before, 1)):
                changes.append(f"{a.topic}: {before} -> {a.count} records")
        worst = sorted(per_source.items(), key=lambda kv: (kv[1]["accuracy"], kv[0]))[:3]
        best = sorted(per_source.items(), key=lambda kv: (-kv[1]["accuracy"], kv[0]))[:2]
        delta = ""
        if base_per:
            gains = {s: per_source[s]["accuracy"] - base_per[s]["accuracy"] for s in per_source if s in base_per}
            if gains:
                delta = " Change since the base student: " + ", ".join(
                    f"{s} {g:+.2f}" for s, g in sorted(gains.items())) + "."
        rationale = (
            f"Iteration {ctx.iteration} reflects on iteration {last['iteration']} "
            f"(validation accuracy {feedback.val.get('accuracy', 0):.3f}, format compliance "
            f"{feedback.val.get('format_compliance', 0):.3f}, {len(feedback.bad_cases)} wrong validation answers)."
            f"{delta} Budget moves toward the weakest sources "
            "(" + ", ".join("%s %.2f" % (s, m["accuracy"]) for s, m in worst) + ")"
            + (" and away from the strongest (" + ", ".join("%s %.2f" % (s, m["accuracy"]) for s, m in best) + ")"
               if best and worst and best[0][1]["accuracy"] > worst[0][1]["accuracy"] else "")
            + "; topics whose sources are saturated get harder problems."
        )
        method, selection = _method(ctx)
        prev = (prev_plan.get("method") or {}).get("card")
        if method["card"] != prev:
            changes.insert(0, f"method: {prev or 'none'} -> {method['card']} [{method['bucket']}]: "
                              f"{method['adaptation']}")
        if selection != prev_plan.get("selection"):
            changes.append(f"selection: {(prev_plan.get('selection') or {}).get('policy', 'first')} -> "
                           f"{(selection or {}).get('policy', 'first')}"
                           + (f", over-generating x{selection['overgenerate']:g}"
                              if selection and selection.get("overgenerate", 1) > 1 else ""))
        p = Plan(iteration=ctx.iteration, n_records=ctx.n_records, teacher=ctx.teacher, allocations=allocs,
                 rationale=rationale + f" Method: {method['card']} ({method['adaptation']}).",
                 changes=changes or ["no topic changed by more than a quarter of its budget"],
                 method=method, selection=selection, stopping=_stopping(ctx, feedback))
        validate_plan(p.to_dict())
        return p


class UniformEngineer:
    """The "does the engineer help at all" control: the same total records
    spread evenly over every topic, at difficulty 1, every iteration, with no
    reflection and no method card (``--engineer uniform``)."""

    name = "uniform"

    def plan(self, ctx: EngineerContext) -> Plan:
        topics = sorted(ctx.topics)
        counts = largest_remainder({t: 1.0 for t in topics}, ctx.n_records)
        allocs = [Allocation(topic=t, subject=ctx.topics[t].subject, count=counts[t], difficulty=1,
                             why="uniform baseline") for t in topics if counts[t] > 0]
        p = Plan(iteration=ctx.iteration, n_records=ctx.n_records, teacher=ctx.teacher, allocations=allocs,
                 rationale=f"Uniform baseline: {ctx.n_records} records spread evenly over {len(allocs)} topics at "
                           "difficulty 1, whatever validation says.",
                 changes=["none: the uniform baseline does not reflect"] if ctx.iteration > 1 else [],
                 selection=ctx.selection,
                 stopping={"decision": "continue", "reason": "the uniform baseline runs every iteration"})
        validate_plan(p.to_dict())
        return p

    def reflect(self, ctx: EngineerContext, feedback: Feedback) -> Plan:
        return self.plan(ctx)
