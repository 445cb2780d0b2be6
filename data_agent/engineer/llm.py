"""The LLM data engineer: a model writes the plan, with the heuristic as a safety net.

:class:`LLMEngineer` has the interface of
:class:`~data_agent.engineer.heuristic.HeuristicEngineer` (``plan(ctx)``,
``reflect(ctx, feedback)``) and returns the same :class:`Plan`. Each call sends
one request to the model named by the spec (``openai:...``, ``anthropic:...``,
``openai-compatible:URL@model``, ``hf:...``, ``vllm:...``) through the one
:class:`~data_agent.generators.engine.runner.TeacherRunner` (retries, circuit breaker,
SQLite response cache), asking for a JSON document matching
:data:`LLM_PLAN_SCHEMA` (:data:`PLAN_SCHEMA` without ``iteration``,
``n_records`` and ``teacher``, which are filled in here).

What the model sees: the domain description, the record budget, the topics
(name, subject, the evaluation sources they resemble), the difficulty levels, the
base student's validation metrics per source and, when reflecting, every
previous plan (allocations, rationale, changes) with its validation metrics per
source and the sources of the last iteration's wrong validation answers.
Validation only: the :class:`EngineerContext` holds nothing from the test split.

The reply is checked (JSON schema, known topic names, counts adding up to the
budget); an invalid reply is re-asked with the exact error, up to
``max_reasks`` times. If no valid plan comes back (invalid replies, or the
request itself failed), the heuristic engineer's plan is used and the plan says
so in ``rationale`` and ``changes`` (so it is visible in ``plan.json`` and on
the console). Every exchange is kept in ``<run_dir>/engineer/iter-NN.json``.

API keys come from the environment only (``require_key``) and are never written.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataAgentError
from .heuristic import EngineerContext, Feedback, HeuristicEngineer
from ..plan import DIFFICULTY_LEVELS, PLAN_SCHEMA, SELECTION_POLICIES, Plan, PlanError, validate_plan
from ..generators.engine.wire_audit import WireAuditError
from .methods import BUCKETS, cards, improved

if TYPE_CHECKING:
    from ..generators.engine.client import TeacherClient

__all__ = ["LLMEngineer", "LLM_PLAN_SCHEMA", "ENGINEER_SPEC_FORMS", "STRATEGY_FAMILIES", "check_reply"]

logger = logging.getLogger(__name__)

ENGINEER_SPEC_FORMS = ("heuristic", "uniform", "openai:<model>", "anthropic:<model>", "openai-compatible:<base_url>@<model>",
                       "vllm:<model path or name>", "hf:<model path or name>")

FILLED_IN = ("iteration", "n_records", "teacher")
"""Plan fields the engineer fills in itself (the model may give them; they are overwritten)."""


def _llm_plan_schema() -> dict[str, Any]:
    s = copy.deepcopy(PLAN_SCHEMA)
    s.pop("$schema", None)  # some APIs reject meta keywords in a response schema; draft 2020-12 is the default
    s["title"] = "data-agent plan (model reply)"
    s["required"] = [k for k in s["required"] if k not in FILLED_IN]
    return s


LLM_PLAN_SCHEMA: dict[str, Any] = _llm_plan_schema()
"""The JSON schema of the model's reply: :data:`PLAN_SCHEMA` with ``iteration``,
``n_records`` and ``teacher`` optional."""

STRATEGY_FAMILIES: dict[str, str] = {
    "curriculum by difficulty": "raise (or lower) difficulty topic by topic as the student masters a level",
    "weakness-targeted resampling": "move budget to the topics behind the sources with the most wrong answers",
    "coverage balancing": "spread the budget over every source's topics in proportion to the validation split",
    "format-first drilling": "many short, easy problems so the student learns the exact answer sentence",
    "consolidation of strengths": "keep budget where accuracy rose, to make the gains stick",
    "diversity expansion": "bring in topics the previous plans skipped or starved",
}
"""Method families the reflect prompt names, so that the model chooses (and
switches) strategies instead of only nudging counts."""


# ------------------------------------------------------------------ reply checks


def check_reply(doc: Any, ctx: EngineerContext) -> tuple[dict[str, Any] | None, str | None]:
    """``(plan dict, None)`` for an acceptable reply, else ``(None, exact error)``.

    Accepts the JSON schema, topic names of ``ctx.topics`` only, counts adding
    up to ``ctx.n_records``. Repeated (topic, difficulty) pairs are merged,
    zero counts dropped, ``subject`` set from the topic list, and
    ``iteration``/``n_records``/``teacher`` filled in from ``ctx``.
    """
    import jsonschema

    v = jsonschema.Draft202012Validator(LLM_PLAN_SCHEMA)
    err = jsonschema.exceptions.best_match(v.iter_errors(doc))
    if err is not None:
        where = "/".join(map(str, err.absolute_path)) or "(root)"
        return None, f"schema violation at {where}: {err.message[:300]}"
    llm_teacher = ctx.teacher != "symbolic" and not ctx.teacher.startswith("pool:")
    unknown = sorted({a["topic"] for a in doc["allocations"] if a["topic"] not in ctx.topics
                      and not (llm_teacher and str(a.get("description", "")).strip())})
    if unknown:
        extra = ("; or propose a new skill: give it a `description` (what it covers)" if llm_teacher else
                 " (the symbolic teacher writes only its own topics)")
        return None, (f"unknown topic name(s) {', '.join(repr(t) for t in unknown)}; use only: "
                      f"{', '.join(sorted(ctx.topics))}{extra}")
    known_seeds = set(ctx.seed_ids)
    bad_seeds = sorted({sid for a in doc["allocations"] for sid in a.get("seeds", []) if sid not in known_seeds})
    if bad_seeds:
        return None, (f"unknown seed id(s) {', '.join(repr(x) for x in bad_seeds[:5])}; ground on seeds listed in the "
                      f"user message only")
    bad_cards = sorted({a["card"] for a in doc["allocations"] if a.get("card") and a["card"] not in cards()})
    if bad_cards:
        return None, f"unknown method card(s) {', '.join(map(repr, bad_cards))} in allocations"
    total = sum(a["count"] for a in doc["allocations"])
    if total != ctx.n_records:
        return None, (f"the allocation counts add up to {total}, but they must add up to exactly "
                      f"N = {ctx.n_records}")
    merged: dict[tuple[str, int], dict[str, Any]] = {}
    for a in doc["allocations"]:
        if a["count"] <= 0:
            continue
        key = (a["topic"], a["difficulty"])
        if key in merged:
            m = merged[key]
            m["count"] += a["count"]
            if a.get("why") and a["why"] not in m["why"]:
                m["why"] = f"{m['why']}; {a['why']}" if m["why"] else a["why"]
        else:
            info = ctx.topics.get(a["topic"])
            merged[key] = {"topic": a["topic"], "count": a["count"], "difficulty": a["difficulty"],
                           "subject": info.subject if info else str(a.get("subject", "")),
                           "why": str(a.get("why", ""))}
            for extra in ("description", "guidance", "card", "adaptation"):
                if str(a.get(extra, "")).strip():
                    merged[key][extra] = str(a[extra]).strip()
            if a.get("seeds"):
                merged[key]["seeds"] = list(a["seeds"])
    plan = {"iteration": ctx.iteration, "n_records": ctx.n_records, "teacher": ctx.teacher,
            "allocations": list(merged.values()), "rationale": doc["rationale"].strip(),
            "changes": [str(c) for c in doc.get("changes", [])]}
    stopping = doc.get("stopping")
    if stopping:
        if stopping["decision"] == "stop" and ctx.iteration == 1:
            return None, ('`stopping.decision` is "stop" in the first plan: no student has been trained on data yet; '
                          'decide "continue"')
        if not str(stopping["reason"]).strip():
            return None, "`stopping.reason` is empty: say why you continue or stop"
        plan["stopping"] = {"decision": stopping["decision"], "reason": str(stopping["reason"]).strip()}
    else:
        plan["stopping"] = {"decision": "continue", "reason": "the engineer's reply named no stopping decision"}
    method = doc.get("method")
    if method:
        if method.get("card") not in cards():
            return None, (f"unknown method card {method.get('card')!r}; cite one of: {', '.join(sorted(cards()))}")
        c = cards()[method["card"]]
        plan["method"] = {"card": c.id, "bucket": c.bucket, "adaptation": str(method["adaptation"]).strip()}
    elif ctx.scaffold == "adapt":
        return None, ("`method` is missing: cite one method card by id in `method.card` and say in "
                      "`method.adaptation` how this plan adapts it")
    if ctx.scaffold == "adapt" and ctx.history and plan["stopping"]["decision"] != "stop":  # a stop makes no data
        vals = [ctx.base_val or {"accuracy": 0.0}] + [h["val"] for h in ctx.history]
        last_bucket = str((ctx.history[-1]["plan"].get("method") or {}).get("bucket", ""))
        if not improved(vals) and last_bucket and plan["method"]["bucket"] == last_bucket:
            others = [b for b in BUCKETS if b != last_bucket]
            return None, (f"validation accuracy did not improve after the last plan's {last_bucket} method: take "
                          f"this plan's card from another bucket ({' or '.join(others)})")
    if doc.get("selection"):
        plan["selection"] = dict(doc["selection"])
    elif ctx.selection:
        plan["selection"] = dict(ctx.selection)
    if not plan["rationale"]:
        return None, "the rationale is empty"
    try:
        validate_plan(plan)
    except PlanError as e:  # should not happen after the checks above
        return None, str(e)
    return plan, None


# ------------------------------------------------------------------ prompts


def _pct(x: Any) -> str:
    try:
        return f"{float(x):.2f}"
    except (TypeError, ValueError):
        return "n/a"


def _metrics_table(val: dict[str, Any] | None, source_subject: dict[str, str]) -> str:
    if not val:
        return "(no validation metrics)"
    per = val.get("per_source") or {}
    lines = [f"overall: accuracy {_pct(val.get('accuracy'))}, answer-format compliance "
             f"{_pct(val.get('format_compliance'))} on {val.get('n', '?')} validation problems",
             "| source | subject | n | accuracy | format compliance |", "|---|---|---|---|---|"]
    for s in sorted(per):
        m = per[s]
        lines.append(f"| {s} | {source_subject.get(s, '')} | {m.get('n', '?')} | {_pct(m.get('accuracy'))} | "
                     f"{_pct(m.get('format_compliance'))} |")
    return "\n".join(lines)


def system_prompt(ctx: EngineerContext, reflect: bool) -> str:
    fields = ('{"allocations": [{"topic": "<a listed topic name>", "count": <integer >= 0>, '
              '"difficulty": <1, 2 or 3>, "why": "<one sentence>"}, ...], '
              '"rationale": "<why this plan>", "changes": ["<one change and its reason>", ...], '
              '"stopping": {"decision": "continue" or "stop", "reason": "<why>"}}')
    text = (
        f"You are the data engineer of a small student language model for the domain '{ctx.domain_name}'. "
        "Each iteration you decide which training problems a teacher model writes for the student: how many "
        "problems of which topic at which difficulty. The student is then fine-tuned on exactly those records "
        "and scored on a validation split. You only ever see validation results; a separate test split is "
        "held out and never shown to you, so do not ask for it.\n\n"
        f"Reply with one JSON object and nothing else (no prose, no code fences):\n{fields}\n\n"
        "Rules:\n"
        "- use only the topic names listed in the user message, spelled exactly;\n"
        f"- the counts must add up to exactly N = {ctx.n_records};\n"
        "- a topic may appear twice only with different difficulties;\n"
        "- difficulty is 1, 2 or 3 (levels described in the user message);\n"
        "- `why` says, per allocation, which validation sources it serves and why this amount;\n"
        "- optionally, per allocation: `guidance` (at most 500 characters) is added to the teacher's prompt for "
        "it, `seeds` (up to 4 seed ids from the user message) are the style examples it grounds on, and `card` and "
        "`adaptation` say which method card it applies and how;\n"
        + ("- with this LLM teacher you may propose a new skill: an allocation whose `topic` is a new name, with a "
           "`description` (at most 300 characters) of what it covers;\n"
           if ctx.teacher != "symbolic" and not ctx.teacher.startswith("pool:") else "")
        + "- optionally, `\"selection\": {\"policy\": ..., \"overgenerate\": <1 to 4>}` has the teacher write "
        "`overgenerate` times each count of valid problems and keeps the count with the policy: "
        + ", ".join(SELECTION_POLICIES) + " (verified_first: answers checked by a program first; k_center: the "
        "most diverse; loss/el2n: those the student finds hardest; coverage: every sub-skill once before repeats);\n"
        "- `stopping` is your stopping decision: \"continue\" runs this plan; from iteration 2 on, \"stop\" ends the "
        "run before this plan's data is made (when you expect no gain from more data, e.g. validation has not "
        "improved beyond its interval under several different methods), and the best iteration so far is kept. "
        "Say why in `reason`."
    )
    listing = "\n".join(f"- {c.brief()}" for c in sorted(cards().values(), key=lambda c: (c.bucket, c.id)))
    if ctx.scaffold == "adapt":
        text += (
            "\n\nMethod cards (data-engineering methods from the literature, in three buckets):\n" + listing
            + "\n\nEvery plan applies one card: `\"method\": {\"card\": \"<card id>\", \"adaptation\": \"<how this "
            "plan adapts it to this student and domain>\"}`. When validation accuracy did not improve after the "
            "last plan, take the card from another bucket than the last plan's card: do not only tune counts."
        )
    else:
        text += ("\n\nYou may name the method you apply in `\"method\": {\"card\": \"<card id>\", \"adaptation\": "
                 "\"...\"}`, with one of these card ids:\n" + listing)
    if reflect:
        text += (
            "\n\nWhen you revise a plan, do not only tune counts locally. Name the data-engineering strategy "
            "you adopt and the prior strategy you adapt, chosen from these families (or another you name): "
            + "; ".join(f"{k} ({v})" for k, v in STRATEGY_FAMILIES.items())
            + ". Start `rationale` with \"Strategy: <family>, adapted from <the prior plan's strategy>: <why>\" "
              "and make the first entry of `changes` \"strategy: <family>: <why>\". If validation accuracy did "
              "not improve under a strategy, consider switching to a different family instead of nudging the "
              "same one."
        )
    return text


def user_prompt(ctx: EngineerContext, feedback: Feedback | None = None) -> str:
    parts = [f"# Domain: {ctx.domain_name}\n\n{ctx.domain_description.strip()}"]
    parts.append(f"# Budget\n\nIteration {ctx.iteration}. Allocate exactly N = {ctx.n_records} training records "
                 f"(teacher: {ctx.teacher}).")
    topic_lines = ["| topic | subject | resembles sources |", "|---|---|---|"]
    for t in sorted(ctx.topics):
        info = ctx.topics[t]
        topic_lines.append(f"| {t} | {info.subject} | {', '.join(info.sources) or '-'} |")
    parts.append(f"# Topics ({len(ctx.topics)})\n\n" + "\n".join(topic_lines))
    if ctx.seed_ids:
        shown = ctx.seed_ids[:40]
        parts.append(f"# Seed ids ({len(ctx.seed_ids)}; an allocation's `seeds` may name up to 4)\n\n"
                     + ", ".join(shown) + (" ..." if len(ctx.seed_ids) > len(shown) else ""))
    parts.append("# Difficulty levels\n\n" + "\n".join(f"{k}: {v.label}" for k, v in DIFFICULTY_LEVELS.items()))
    parts.append("# Base student (before any training), validation split\n\n"
                 + _metrics_table(ctx.base_val, ctx.source_subject))
    if feedback is not None:
        hist = []
        for h in ctx.history:
            p = h["plan"]
            allocs = ", ".join(f"{a['topic']}/d{a['difficulty']}:{a['count']}" for a in p["allocations"])
            changes = "\n".join(f"  - {c}" for c in p.get("changes") or []) or "  (none)"
            hist.append(f"## Iteration {h['iteration']}\n\nallocations (topic/difficulty:count): {allocs}\n\n"
                        f"rationale: {p['rationale']}\n\nchanges:\n{changes}\n\n"
                        f"validation after training on it:\n{_metrics_table(h.get('val'), ctx.source_subject)}")
        parts.append("# Previous iterations\n\n" + ("\n\n".join(hist) or "(none)"))
        wrong: dict[str, int] = {}
        for b in feedback.bad_cases:
            wrong[str(b.get("source", "?"))] = wrong.get(str(b.get("source", "?")), 0) + 1
        per = feedback.val.get("per_source") or {}
        wl = ", ".join(f"{s}: {wrong[s]} of {per.get(s, {}).get('n', '?')}" for s in sorted(wrong,
                       key=lambda s: (-wrong[s], s))) or "none"
        parts.append(f"# Wrong validation answers of the last iteration, by source\n\n{wl}")
        doc = feedback.document or {}
        if doc.get("failure_classes"):
            parts.append("# How the student failed (validation)\n\n" + "\n".join(
                f"- {c}: {v['count']} ({v['means']})" for c, v in doc["failure_classes"].items()))
        if doc.get("failures_sample"):
            cases = []
            for f in doc["failures_sample"]:
                cases.append(f"## {f['id']} ({f['source']}, {f['failure']})\n\nproblem: {f['problem']}\n\n"
                             f"gold: {f['gold']}\n\nstudent's output: {f['output']}\n\n"
                             f"answer read from it: {f['extracted']}")
            parts.append("# A sample of the student's wrong validation answers\n\n" + "\n\n".join(cases))
        rej = (doc.get("rejections") or {}).get("by_reason") or {}
        if rej:
            parts.append("# Why the teacher's records were rejected last iteration\n\n" + "\n".join(
                f"- {k}: {v}" for k, v in sorted(rej.items(), key=lambda kv: -kv[1])))
        parts.append(f"# Task\n\nWrite the plan for iteration {ctx.iteration}: reflect on what the previous plans "
                     "did to the validation metrics, name the strategy you adopt and the prior strategy you adapt "
                     "(in `rationale` and as the first entry of `changes`), and list every other change versus "
                     "the last plan in `changes`.")
    else:
        parts.append(f"# Task\n\nWrite the plan for iteration {ctx.iteration}: the first data the student is "
                     "trained on. Explain the strategy in `rationale`; `changes` may be empty.")
    return "\n\n".join(parts)


def build_messages(ctx: EngineerContext, feedback: Feedback | None = None) -> list[dict[str, str]]:
    """The chat messages of a plan (``feedback is None``) or reflect request."""
    return [{"role": "system", "content": system_prompt(ctx, reflect=feedback is not None)},
            {"role": "user", "content": user_prompt(ctx, feedback)}]


def _reask_messages(base: list[dict[str, str]], reply_text: str, error: str, n: int) -> list[dict[str, str]]:
    msgs = [dict(m) for m in base]
    if reply_text.strip():
        msgs.append({"role": "assistant", "content": reply_text})
    msgs.append({"role": "user", "content": (
        f"That reply is not acceptable: {error}. Reply again with only the complete JSON plan (topic names from "
        f"the list, difficulties 1-3, counts adding up to exactly N = {n}).")})
    return msgs


# ------------------------------------------------------------------ the engineer


def _run_coro(coro: Any) -> Any:
    """Run ``coro`` to completion from sync code (in a worker thread if a loop is running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        from ..generators.engine.runner import run_interruptible

        return run_interruptible(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class LLMEngineer:
    """Planner/reflector backed by a model; same interface and Plan type as the heuristic engineer.

    Args:
        spec: model spec (``openai:``, ``anthropic:``, ``openai-compatible:URL@model``,
            ``vllm:``, ``hf:``). Parsed, and its API key looked up, at construction
            (no network); the model is first contacted by ``plan``.
        run_dir: where ``engineer/iter-NN.json`` transcripts go (none if ``None``).
        cache_dir: folder of ``teacher.sqlite`` (default ``$DATA_AGENT_HOME/cache``).
        max_reasks: re-asks after an invalid reply before the heuristic plan is used.
        use_cache: look up and store replies in the response cache.
        temperature, max_tokens, timeout, max_retries: request settings.
        teacher: an already built backend (tests); built from ``spec`` otherwise.

    Raises:
        DataAgentError: malformed spec, a batch or ``symbolic`` spec, or a missing API key.
    """

    name = "llm"

    def __init__(self, spec: str, *, run_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                 max_reasks: int = 2, use_cache: bool = True, temperature: float = 0.2, max_tokens: int = 4096,
                 timeout: float = 180.0, max_retries: int = 5, teacher: Any = None):
        from ..generators.teachers.specs import SpecError, parse_spec, require_key

        self.wire_audit: Any = None
        """Checks each request before it is sent (:mod:`data_agent.generators.engine.wire_audit`; set by the loop)."""
        try:
            self.spec = parse_spec(spec)
        except SpecError:
            raise DataAgentError(f"unknown engineer spec {spec!r}; use one of: "
                                 f"{'; '.join(ENGINEER_SPEC_FORMS)}") from None
        if self.spec.kind == "symbolic":
            raise DataAgentError("'symbolic' is a teacher, not an engineer; use one of: "
                                 f"{'; '.join(ENGINEER_SPEC_FORMS)}")
        if self.spec.is_batch:
            raise DataAgentError(f"engineer {spec!r}: a batch API takes hours per plan; use the online form "
                                 f"({self.spec.kind.removesuffix('-batch')}:{self.spec.model})")
        try:
            require_key(self.spec)  # fail fast; the key itself is read again when the client is built
        except DataAgentError as e:
            raise DataAgentError(str(e).replace("teacher", "engineer", 1)) from None
        if max_reasks < 0:
            raise ValueError("max_reasks must be >= 0")
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.max_reasks = max_reasks
        self.use_cache = use_cache
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self._given_teacher = teacher
        self._local_teacher: Any = None
        self._client: TeacherClient | None = None
        self.heuristic = HeuristicEngineer()
        self.last_transcript: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"LLMEngineer({str(self.spec)!r})"

    # -------------------------------------------------------------- interface

    def plan(self, ctx: EngineerContext) -> Plan:
        """The first plan, written by the model (heuristic fallback, flagged)."""
        return self._decide(ctx, None)

    def reflect(self, ctx: EngineerContext, feedback: Feedback) -> Plan:
        """The next plan from the validation history (heuristic fallback, flagged)."""
        return self._decide(ctx, feedback)

    def usage(self) -> dict[str, Any]:
        """Totals of the engineer's model calls."""
        if self._client is None:
            return {"calls": 0, "tokens": 0, "dollars": 0.0}
        c = self._client.meter.total
        return {"calls": c.calls, "tokens": c.tokens, "dollars": round(c.spent_dollars, 6), "cache_hits": c.cache_hits}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -------------------------------------------------------------- internals

    def _decide(self, ctx: EngineerContext, feedback: Feedback | None) -> Plan:
        base = build_messages(ctx, feedback)
        messages = base
        asks = 1 + self.max_reasks
        transcript: dict[str, Any] = {"engineer": str(self.spec), "iteration": ctx.iteration,
                                      "mode": "reflect" if feedback is not None else "plan",
                                      "schema": LLM_PLAN_SCHEMA, "messages": base, "asks": []}
        reason = "no reply"
        failed_request = False
        plan_dict: dict[str, Any] | None = None
        for k in range(asks):
            try:
                resp = self._ask(messages)
            except WireAuditError:
                raise  # test text in the engineer's request: the run stops, never falls back
            except Exception as e:  # noqa: BLE001 - circuit open, budget, backend bug: fall back, visibly
                from ..logging_utils import redact

                reason = redact(f"{type(e).__name__}: {e}")[:400]
                transcript["asks"].append({"error": reason})
                failed_request = True
                break
            text = resp.text or ""
            entry = {"reply": text, "cached": resp.cached, "usage": {"prompt_tokens": resp.usage.prompt_tokens,
                                                                     "completion_tokens": resp.usage.completion_tokens}}
            if k:
                entry["reask_note"] = messages[-1]["content"]
            transcript["asks"].append(entry)
            if resp.parsed is not None:
                plan_dict, reason = check_reply(resp.parsed, ctx)
            elif resp.error and not _is_content_problem(resp):
                reason = resp.error[:400]
                entry["error"] = reason
                failed_request = True
                break
            else:
                reason = _content_reason(resp)
            if plan_dict is not None:
                break
            entry["error"] = reason
            messages = _reask_messages(base, text, reason, ctx.n_records)
        if plan_dict is not None:
            plan = Plan.from_dict(plan_dict)
            transcript["result"] = {"source": "llm", "asks": len(transcript["asks"])}
        else:
            n = len(transcript["asks"])
            note = (f"LLM engineer request failed after {n} ask{'s' if n != 1 else ''}: {reason}; heuristic plan used"
                    if failed_request else
                    f"LLM engineer reply invalid after {n} ask{'s' if n != 1 else ''}: {reason}; heuristic plan used")
            logger.warning("%s (%s)", note, self.spec)
            h = self.heuristic.reflect(ctx, feedback) if feedback is not None else self.heuristic.plan(ctx)
            plan = Plan(iteration=h.iteration, n_records=h.n_records, teacher=h.teacher, allocations=h.allocations,
                        rationale=f"{note}. {h.rationale}", changes=[note, *h.changes], method=h.method,
                        selection=h.selection, stopping=h.stopping)
            validate_plan(plan.to_dict())
            transcript["result"] = {"source": "heuristic fallback", "asks": n, "reason": reason}
        transcript["plan"] = plan.to_dict()
        self.last_transcript = transcript
        self._save(ctx, transcript)
        return plan

    def _save(self, ctx: EngineerContext, transcript: dict[str, Any]) -> None:
        if self.run_dir is None:
            return
        from ..records import atomic_write_json

        try:
            atomic_write_json(self.run_dir / "engineer" / f"iter-{ctx.iteration:02d}.json", transcript)
        except OSError as e:  # a transcript must not fail the run
            logger.warning("could not write the engineer transcript: %s", e)

    def _ensure(self) -> TeacherClient:
        """The engineer's :class:`~data_agent.generators.engine.client.TeacherClient`
        (its own meter file, ``engineer/meter.json``; the teachers' response cache)."""
        if self._client is None:
            from ..generators.engine.client import TeacherClient
            from ..generators.engine.runner import RunnerConfig

            config = RunnerConfig(max_concurrency=1, max_reasks=0, max_retries=self.max_retries,
                                  timeout=None if self.spec.is_local else self.timeout, use_cache=self.use_cache)
            self._client = TeacherClient(
                self.spec, config, cache_dir=self.cache_dir, use_cache=self.use_cache,
                meter_path=self.run_dir / "engineer" / "meter.json" if self.run_dir is not None else None)
        self._client.wire_audit = self.wire_audit
        return self._client

    def _build_teacher(self) -> tuple[Any, bool]:
        """(teacher, owned): online clients are built per call (their connections
        belong to that call's event loop) and closed after it; local models are
        kept. The client wraps online ones, so that a garbled reply comes back to
        us (re-asked with the error)."""
        client = self._ensure()
        if self._given_teacher is not None:
            return client.wrap(self._given_teacher), False
        if self.spec.is_local:
            if self._local_teacher is None:
                self._local_teacher = client.build_teacher()
            return self._local_teacher, False
        return client.build_teacher(timeout=self.timeout), True

    def _ask(self, messages: list[dict[str, str]]) -> Any:
        from ..generators.teachers.base import SamplingParams, TeacherRequest

        client = self._ensure()
        request = TeacherRequest(messages=tuple(messages),
                                 params=SamplingParams(temperature=self.temperature, max_tokens=self.max_tokens,
                                                       seed=0),
                                 json_schema=LLM_PLAN_SCHEMA, metadata={"role": "engineer"})

        async def go() -> Any:
            teacher, owned = self._build_teacher()
            runner = client.runner(teacher)
            try:
                return (await runner.run([request]))[0]
            finally:
                if owned:
                    aclose = getattr(teacher, "aclose", None)
                    if aclose is not None:
                        try:
                            await aclose()
                        except Exception:  # noqa: BLE001 - closing must not hide the answer
                            pass

        return _run_coro(go())


def _is_content_problem(resp: Any) -> bool:
    """The model answered but the text is not an acceptable document."""
    return bool(resp.metadata.get("content_error")) or "InvalidOutput" in (resp.error or "")


def _content_reason(resp: Any) -> str:
    ce = resp.metadata.get("content_error")
    if ce:
        return str(ce)[:400]
    err = resp.error or "no JSON document in the reply"
    return err.removeprefix("InvalidOutput: ").split(" (after ")[0][:400]
