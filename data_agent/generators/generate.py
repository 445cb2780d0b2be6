"""From a plan to exactly N valid records.

Each plan allocation (topic, count, difficulty) becomes teacher requests; every
reply becomes a record that goes through the validator pipeline and is appended
(with its verdicts) to the iteration's ``pool.jsonl`` before anything else
happens, so a crash loses nothing. Generation *tops up*: it keeps asking until
each allocation has its count of valid records, moves the shortfall of an
allocation that keeps failing to the others, and stops with a clear error when
the request budget runs out first.

A resumed run reads the pool back, keeps its accepted records and continues
with the next request index of each allocation: no record is lost or duplicated.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import jsonschema

from ..domain import Domain
from ..errors import DataAgentError
from ..plan import Plan
from ..records import JsonlAppender, Record, read_pool
from ..tasks import Task
from ..validators import Pipeline
from ..validators.verify import COMPUTATION_SCHEMA
from .engine.runner import run_interruptible
from .selection import SelectionContext, check_policy, select
from .selection import summary as selection_summary
from .teachers.sanitise import clean_value
from .teachers.base import RequestBuilder, TeacherCall, TeacherRequest, TeacherResponse, parse_json_text


class QuantityError(DataAgentError):
    """The generation budget ran out before N valid records existed."""




def stable_seed(*parts: Any) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def parse_problem_reply(resp: TeacherResponse, task: Task) -> tuple[dict[str, Any] | None, str]:
    """A teacher reply -> ``task``'s problem document, or (None, reason) when garbled."""
    if resp.error:
        return None, f"teacher error: {resp.error}"
    doc = resp.parsed
    if doc is None:
        try:
            doc = parse_json_text(resp.text or "")
        except ValueError:
            return None, "garbled reply: not JSON" + (" (truncated)" if resp.finish_reason == "length" else "")
        doc = clean_value(doc)  # a JSON escape may hide a lone surrogate or a key (see teachers.sanitise)
    computation = None
    if isinstance(doc, dict) and "computation" in doc:  # checked apart: the task's schema does not name it
        doc = dict(doc)
        computation = doc.pop("computation")
        try:
            jsonschema.validate(computation, COMPUTATION_SCHEMA)
        except jsonschema.ValidationError as e:
            return None, f"garbled reply: computation: {e.message}"
    try:
        jsonschema.validate(doc, task.problem_schema)
    except jsonschema.ValidationError as e:
        return None, f"garbled reply: {e.message}"
    why = task.check_document(doc)
    if why:
        return None, f"garbled reply: {why}"
    if computation:
        doc["computation"] = computation
    return doc, ""


def record_from_doc(doc: dict[str, Any], domain: Domain, *, rid: str, generator: str, topic: str, subject: str,
                    difficulty: int, iteration: int, seed: int, attempt: int, template: str) -> Record:
    """The problem document -> a submission record (instruction/input/output) with lineage."""
    input_text, output, answer = domain.task.record_fields(doc)
    return Record(instruction=domain.instruction, input=input_text, output=output, id=rid, generator=generator,
                  template=template, topic=topic, subject=subject, difficulty=difficulty, iteration=iteration,
                  seed=seed, attempt=attempt, answer=answer,
                  computation=dict(doc["computation"]) if isinstance(doc.get("computation"), dict) else None)


def _clip_fields(rec: Record, limits: dict[str, int]) -> None:
    """Cut the over-long fields of a record rejected by the ``length`` validator."""
    for f, limit in limits.items():
        text = getattr(rec, f, "") or ""
        if len(text) > limit:
            setattr(rec, f, text[:limit] + f" [... {len(text) - limit:,} characters cut]")


@dataclass
class GenerationResult:
    records: list[Record]
    requests: int
    pipeline: dict[str, Any]
    notes: list[str]
    selection: dict[str, Any] = field(default_factory=dict)
    """What the selection kept (:func:`data_agent.generators.selection.summary`)."""


def generate_for_plan(plan: Plan, domain: Domain, *, teacher_name: str, call: TeacherCall, build: RequestBuilder,
                      pipeline: Pipeline, pool_path: Path, run_seed: int, max_requests: int,
                      batch_size: int = 32, progress: Callable[[int, int], None] | None = None,
                      selection: str = "first", selection_context: SelectionContext | None = None
                      ) -> GenerationResult:
    """Generate until every allocation has its count of valid records (see module
    docstring), then, when the plan over-generates (``plan.selection``), on
    toward that many times the count as far as the request budget allows; keep
    each allocation's count with the plan's selection policy (``selection`` when
    the plan names none; :mod:`data_agent.generators.selection`)."""
    policy, factor = plan.selection_choice(selection)
    check_policy(policy)
    pool = JsonlAppender(pool_path)
    previous = read_pool(pool_path)
    allocs = [a for a in plan.allocations if a.count > 0]
    want = {i: a.count for i, a in enumerate(allocs)}
    accepted: dict[int, list[Record]] = {i: [] for i in want}
    attempts = {i: 0 for i in want}
    key_of = {(a.topic, a.difficulty): i for i, a in enumerate(allocs)}
    notes: list[str] = []

    # Resume: replay the pool through the stateful validators' memory.
    for r in previous:
        i = key_of.get((r.topic, r.difficulty))
        if i is None:
            continue
        attempts[i] = max(attempts[i], r.attempt + 1)
        if r.accepted:
            accepted[i].append(r)
        pipeline.replay(r)
    requests_made = sum(attempts.values())
    cap = {i: max(4, math.ceil(a.count * 3)) for i, a in enumerate(allocs)}
    exhausted: set[int] = set()

    def total_ok(target: dict[int, int]) -> int:
        return sum(min(len(accepted[i]), target[i]) for i in target)

    def run_batch(target: dict[int, int], caps: dict[int, int], budget_left: int) -> int:
        """Ask for what each allocation still lacks of ``target``; returns the requests made."""
        batch: list[tuple[int, TeacherRequest, int, int]] = []
        for i in target:
            short = target[i] - len(accepted[i])
            if short <= 0:
                continue
            # First ask for exactly what is missing; later rounds scale by the observed yield.
            tried = attempts[i]
            rate = (len(accepted[i]) / tried) if tried else 1.0
            n = math.ceil(short / max(rate, 0.2))
            n = min(n, caps[i] - attempts[i] if i not in exhausted else 0)
            for _ in range(max(0, n)):
                if len(batch) >= min(batch_size, budget_left):
                    break
                a = allocs[i]
                k = attempts[i]
                seed = stable_seed(run_seed, plan.iteration, a.topic, a.difficulty, k)
                batch.append((i, build(a.topic, a.difficulty, k, seed, plan.iteration), k, seed))
                attempts[i] += 1
        if not batch:
            return 0
        responses = run_interruptible(call([b[1] for b in batch]))
        made: list[tuple[int, Record, bool]] = []  # (allocation, record, still to check)
        for (i, req, k, seed), resp in zip(batch, responses):
            a = allocs[i]
            rid = f"it{plan.iteration:02d}-{a.topic}-d{a.difficulty}-{k:04d}"
            meta = {**req.metadata, **(resp.metadata or {})}
            doc, why = parse_problem_reply(resp, domain.task)
            if doc is None:
                rec = Record(instruction=domain.instruction, input="", output=(resp.text or "")[:2000], id=rid,
                             generator=teacher_name, template=str(meta.get("template", "")), topic=a.topic,
                             subject=a.subject, difficulty=a.difficulty, iteration=plan.iteration, seed=seed,
                             attempt=k, verdicts=[{"validator": "teacher_reply", "ok": False, "reason": why}],
                             accepted=False)
                pipeline.reject_external("teacher_reply")
            else:
                rec = record_from_doc(doc, domain, rid=rid, generator=teacher_name, topic=a.topic,
                                      subject=str(meta.get("subject", a.subject)), difficulty=a.difficulty,
                                      iteration=plan.iteration, seed=seed, attempt=k,
                                      template=str(meta.get("template", "")))
                if isinstance(meta.get("verification"), dict):  # a generator that computed its answer exactly
                    rec.verification = dict(meta["verification"])
            made.append((i, rec, doc is not None))
        pipeline.prepare([rec for _, rec, todo in made if todo])  # batched work (embeddings) first
        rows = []
        for i, rec, todo in made:
            if todo:
                pipeline.check(rec)
                if rec.accepted:
                    accepted[i].append(rec)
                elif rec.verdicts and rec.verdicts[-1]["validator"] == "length":
                    _clip_fields(rec, domain.task.limits)  # the pool keeps the rejection, not the megabytes
            rows.append(rec.to_dict())
        pool.append(rows)  # stored before use
        if progress:
            progress(total_ok(want), plan.n_records)
        return len(batch)

    if progress:
        progress(total_ok(want), plan.n_records)
    while total_ok(want) < plan.n_records:
        # Move the shortfall of allocations that keep failing to the others.
        for i in list(want):
            short = want[i] - len(accepted[i])
            if short > 0 and attempts[i] >= cap[i] and i not in exhausted:
                exhausted.add(i)
                others = [j for j in want if j not in exhausted]
                if not others:
                    break
                want[i] = len(accepted[i])
                for k in range(short):
                    j = others[k % len(others)]
                    want[j] += 1
                    cap[j] += 3
                notes.append(f"allocation {allocs[i].topic}/d{allocs[i].difficulty}: {short} record(s) moved to "
                             f"other topics after {attempts[i]} requests")
        if total_ok(want) >= plan.n_records:  # a surplus elsewhere already covers a moved shortfall
            break
        budget_left = max_requests - requests_made
        if budget_left <= 0 or all(i in exhausted for i in want if want[i] > len(accepted[i])):
            raise QuantityError(
                f"only {total_ok(want)} of {plan.n_records} valid records after {requests_made} teacher requests "
                f"(budget {max_requests}); rejections: {dict(pipeline.rejections)}. Raise --max-generation-factor "
                f"or check the teacher. Everything generated is kept in {pool_path}")
        requests_made += run_batch(want, cap, budget_left)

    if factor > 1:  # over-generate for the selection, within the request budget; a shortfall is no error
        target = {i: math.ceil(want[i] * factor) for i in want}
        caps = {i: max(cap[i], math.ceil(target[i] * 3)) for i in want}
        exhausted.clear()
        while total_ok(target) < sum(target.values()):
            budget_left = max_requests - requests_made
            made = run_batch(target, caps, budget_left) if budget_left > 0 else 0
            if not made:
                notes.append(f"over-generation x{factor:g}: {total_ok(target)} of {sum(target.values())} valid "
                             f"records within the request budget ({requests_made} of {max_requests} requests)")
                break
            requests_made += made

    everything = [r for i in want for r in accepted[i]]
    selected = select(accepted, want, policy=policy, seed=stable_seed(run_seed, plan.iteration, "selection"),
                      context=selection_context)
    assert len(selected) == plan.n_records, (len(selected), plan.n_records)
    return GenerationResult(records=selected, requests=requests_made, pipeline=pipeline.summary(), notes=notes,
                            selection=selection_summary(selected, everything, policy, factor, selection_context))


__all__ = ["generate_for_plan", "parse_problem_reply", "QuantityError", "GenerationResult", "stable_seed"]
