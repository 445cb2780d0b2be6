"""Curation from a pool the user already has (``data-agent curate``).

Instead of asking a teacher, each iteration *selects* its N records from a
fixed pool: the engineer's plan says how many of which topic and with which
selection policy (:mod:`data_agent.generators.selection`); the rest of the
loop (training, validation, reflection, the sealed test at the end) is the
same as ``specialize``.

* The pool is a JSONL file, one record per line: ``input`` and ``output``
  (non-empty strings) and optionally ``id``, ``topic``, ``subject``,
  ``difficulty``, ``answer`` (checked against the output's final answer, as a
  generator's known answer is), ``computation`` (recomputed as a teacher's
  is, :mod:`data_agent.validators.verify`), ``verification`` and ``template`` (a
  sub-skill, for the ``coverage`` policy). The record's instruction is always
  the pack's; other fields are ignored. A malformed line is an error naming it,
  before any work starts.
* Every pool record goes once through the same validators as generated data
  (:func:`data_agent.validators.default_pipeline`: format, answer agreement,
  exact and near duplicates within the pool, decontamination against the
  validation and test fingerprints); the verdicts are stored in
  ``run_dir/curation/pool.jsonl`` (reused by later iterations and by a resumed
  run) and the rejections counted by reason in every iteration's
  generation.json, metrics.json and report.md.
* Records without a topic form the topic ``pool``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from ..domain import Domain
from ..errors import DataAgentError
from ..plan import Plan, TopicInfo
from ..records import JsonlAppender, Record, atomic_write_json, read_pool, read_text
from ..validators import default_pipeline
from .generate import GenerationResult, QuantityError, stable_seed
from .selection import SelectionContext, check_policy, select
from .selection import summary as selection_summary

__all__ = ["CurationError", "PoolSession", "read_user_pool", "DEFAULT_TOPIC"]

DEFAULT_TOPIC = "pool"
"""The topic of pool records that name none."""


class CurationError(DataAgentError):
    """A pool file is malformed, or too small for the plan."""


def _line_error(path: Path, line: int, why: str) -> CurationError:
    return CurationError(f"{path}:{line}: {why}")


def read_user_pool(path: Path | str, domain: Domain) -> list[Record]:
    """The pool file's records (see the module docstring); every malformed line
    is an error naming the file and line."""
    path = Path(path)
    text = read_text(path, CurationError)
    out: list[Record] = []
    ids: set[str] = set()
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise _line_error(path, i, f"malformed JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise _line_error(path, i, f"expected a JSON object, got {type(row).__name__}")
        for f in ("input", "output"):
            v = row.get(f)
            if not isinstance(v, str) or not v.strip():
                raise _line_error(path, i, f"field {f!r} must be a non-empty string"
                                  + ("" if f in row else f" (missing; fields: {', '.join(sorted(row)) or 'none'})"))
        for f in ("id", "topic", "subject", "template"):
            if f in row and not isinstance(row[f], (str, int)):
                raise _line_error(path, i, f"field {f!r} must be a string, got {type(row[f]).__name__}")
        difficulty = row.get("difficulty", 0)
        if isinstance(difficulty, bool) or not isinstance(difficulty, int):
            raise _line_error(path, i, f"field 'difficulty' must be an integer, got {difficulty!r}")
        rid = str(row.get("id", f"pool-{i:06d}"))
        if rid in ids:
            raise _line_error(path, i, f"duplicate id {rid!r}")
        ids.add(rid)
        verification, computation = row.get("verification"), row.get("computation")
        out.append(Record(instruction=domain.instruction, input=row["input"], output=row["output"], id=rid,
                          generator="pool", template=str(row.get("template", row.get("topic", ""))),
                          topic=str(row.get("topic") or DEFAULT_TOPIC), subject=str(row.get("subject", "")),
                          difficulty=difficulty, attempt=len(out), answer=row.get("answer"),
                          verification=verification if isinstance(verification, dict) else None,
                          computation=computation if isinstance(computation, dict) else None))
    if not out:
        raise CurationError(f"{path}: the pool holds no records")
    return out


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class PoolSession:
    """The "teacher" of a curation run: the user's pool, validated once.

    Has the session interface the loop uses (``topics``, ``note``, ``usage``,
    ``close``) and :meth:`curate`, which stands in for generation."""

    def __init__(self, path: Path | str, domain: Domain, run_dir: Path | None = None, verify: str = "when_given"):
        self.path = Path(path)
        self.domain = domain
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.verify = verify
        self.records = read_user_pool(self.path, domain)
        self._checked: list[Record] | None = None
        self._summary: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return f"pool:{self.path.name}"

    def topics(self) -> dict[str, TopicInfo]:
        """The pool's topics: a pack skill's description where the name is one,
        else the topic serves every evaluation source."""
        skills = self.domain.skills()
        sources = sorted((self.domain.manifest.get("sources") or {}))
        count = Counter(r.topic for r in self.records)
        subject: dict[str, Counter] = {}
        for r in self.records:
            subject.setdefault(r.topic, Counter())[r.subject] += 1
        out = {}
        for t, n in sorted(count.items()):
            if t in skills:
                out[t] = skills[t]
            else:
                out[t] = TopicInfo(subject=subject[t].most_common(1)[0][0], sources=sources,
                                   description=f"{n} records of the pool {self.path.name}")
        return out

    def note(self) -> str:
        return f"{len(self.records)} pool records"

    def usage(self) -> dict[str, Any]:
        return {"teacher": self.name, "requests": 0, "tokens": 0, "dollars": 0.0,
                "iteration": {"requests": 0, "tokens": 0, "dollars": 0.0}}

    def close(self) -> None:
        return None

    # ------------------------------------------------------------------ validation, once

    def checked(self, progress: Callable[[int, int], None] | None = None, batch: int = 256) -> list[Record]:
        """The pool's records with their verdicts, through the default pipeline
        once; stored in ``run_dir/curation/pool.jsonl`` as they are checked, so
        a resumed run continues where it stopped."""
        if self._checked is not None:
            return self._checked
        store = self.run_dir / "curation" if self.run_dir is not None else None
        done: list[Record] = []
        pipeline = default_pipeline(self.domain, verify=self.verify)
        if store is not None:
            meta_path = store / "source.json"
            digest = _file_hash(self.path)
            if meta_path.is_file():
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                if meta.get("sha256") != digest:
                    raise CurationError(f"{self.path}: the pool changed since this run checked it "
                                        f"(sha256 {meta.get('sha256', '?')[:12]}... then, {digest[:12]}... now); "
                                        f"restore it or start a new run")
            else:
                atomic_write_json(meta_path, {"path": str(self.path), "sha256": digest, "records": len(self.records)})
            done = read_pool(store / "pool.jsonl")
            for r in done:  # replay through the stateful validators (duplicates within the pool)
                pipeline.replay(r)
        out = store / "pool.jsonl" if store is not None else None
        appender = JsonlAppender(out) if out is not None else None
        todo = self.records[len(done):]
        if progress:
            progress(len(done), len(self.records))
        for b in range(0, len(todo), batch):
            chunk = todo[b:b + batch]
            pipeline.prepare(chunk)
            for r in chunk:
                pipeline.check(r)
            if appender is not None:
                appender.append([r.to_dict() for r in chunk])
            done.extend(chunk)
            if progress:
                progress(len(done), len(self.records))
        self._checked, self._summary = done, pipeline.summary()
        return done

    # ------------------------------------------------------------------ selection, each iteration

    def curate(self, plan: Plan, *, run_seed: int, selection: str = "first",
               selection_context: SelectionContext | None = None,
               progress: Callable[[int, int], None] | None = None) -> GenerationResult:
        """The plan's records, selected from the pool's accepted records topic by
        topic with the plan's policy; a topic short of records passes its
        shortfall to topics with records to spare."""
        policy, _ = plan.selection_choice(selection)
        check_policy(policy)
        records = self.checked(progress)
        accepted = [r for r in records if r.accepted]
        topics = sorted({a.topic for a in plan.allocations if a.count > 0})
        want = {t: sum(a.count for a in plan.allocations if a.topic == t) for t in topics}
        by_topic = {t: [r for r in accepted if r.topic == t] for t in topics}
        notes: list[str] = []
        unknown = [t for t in topics if t not in {r.topic for r in self.records}]
        if unknown:
            raise CurationError(f"plan asks for topic(s) {', '.join(unknown)} that the pool {self.path} does not have")
        if len(accepted) < plan.n_records:
            raise QuantityError(f"only {len(accepted)} of the pool's {len(records)} records pass the validators, "
                                f"the plan needs {plan.n_records}; rejections: {self._summary.get('rejected_by_kind')}."
                                f" The verdicts are in {self.run_dir / 'curation' / 'pool.jsonl' if self.run_dir else 'memory'}")
        short = {t: want[t] - len(by_topic[t]) for t in topics if want[t] > len(by_topic[t])}
        for t, n in short.items():
            want[t] -= n
            notes.append(f"topic {t}: only {len(by_topic[t])} valid pool records; {n} moved to other topics")
        moved = sum(short.values())
        if moved:
            spare_topics = sorted({r.topic for r in accepted} - set(short))
            for t in spare_topics:
                by_topic.setdefault(t, [r for r in accepted if r.topic == t])
                want.setdefault(t, 0)
            while moved:
                spare = [t for t in spare_topics if len(by_topic[t]) > want[t]]
                if not spare:  # cannot happen: enough accepted records overall
                    raise QuantityError(f"the pool cannot fill {plan.n_records} records")
                for t in spare:
                    if moved and len(by_topic[t]) > want[t]:
                        want[t] += 1
                        moved -= 1
        keys = sorted(want)
        chosen = select({k: by_topic[t] for k, t in enumerate(keys)}, {k: want[t] for k, t in enumerate(keys)},
                        policy=policy, seed=stable_seed(run_seed, plan.iteration, "selection"),
                        context=selection_context)
        considered = [r for t in keys for r in by_topic[t]]
        summary = selection_summary(chosen, considered, policy, 1.0, selection_context)
        chosen = [dataclasses.replace(r, iteration=plan.iteration) for r in chosen]
        assert len(chosen) == plan.n_records, (len(chosen), plan.n_records)
        return GenerationResult(records=chosen, requests=0, pipeline=dict(self._summary), notes=notes,
                                selection={**summary,
                                           "pool": str(self.path), "pool_records": len(records)})
