"""Validators: ``check(record) -> Verdict``; a pipeline runs them in order and
counts rejections by reason.

The generic checks live here (length, schema, instruction, prompt injection,
dedup, decontamination); the answer-format and answer-agreement checks are the
domain's task's (:meth:`data_agent.tasks.Task.validators`), which uses the same
answer extraction as the scorer."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

import jsonschema

from ..domain import Domain, ngram_hashes
from ..errors import DataAgentError
from ..records import Record, SubmissionError, Verdict, read_submission
from ..tasks import AnswerAgreementValidator, FinalLineValidator


class Validator(Protocol):
    name: str

    def check(self, record: Record) -> Verdict: ...


def record_schema(fields: list[str]) -> dict[str, Any]:
    """JSON Schema of one submission record: exactly ``fields``, non-empty strings."""
    return {
        "type": "object",
        "properties": {f: {"type": "string", "minLength": 1, "pattern": r"\S"} for f in fields},
        "required": list(fields),
        "additionalProperties": False,
    }


class SchemaValidator:
    name = "schema"

    def __init__(self, fields: list[str]):
        self._validator = jsonschema.Draft202012Validator(record_schema(fields))

    def check(self, record: Record) -> Verdict:
        err = jsonschema.exceptions.best_match(self._validator.iter_errors(record.submission_view()))
        if err is None:
            return Verdict(True, validator=self.name)
        where = "/".join(map(str, err.absolute_path)) or "record"
        return Verdict(False, f"schema: {where}: {err.message}", self.name)


class LengthValidator:
    """Rejects a record with a field longer than the task's limit
    (:attr:`data_agent.tasks.Task.limits`: input 8,000 and output 16,000
    characters unless the pack's ``scorer.limits`` says otherwise). First in
    the pipeline, so no later check sees a huge text."""

    name = "length"

    def __init__(self, limits: dict[str, int]):
        self.limits = dict(limits)

    def check(self, record: Record) -> Verdict:
        for f, limit in self.limits.items():
            n = len(getattr(record, f, "") or "")
            if n > limit:
                return Verdict(False, f"length: {f} too long ({n:,} characters; the limit is {limit:,})", self.name)
        return Verdict(True, validator=self.name)


INJECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((why, re.compile(p, re.IGNORECASE)) for why, p in (
    ("tells the model to ignore its instructions",
     r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+)?"
     r"(?:previous\s+|prior\s+|above\s+|earlier\s+|preceding\s+|system\s+)?(?:instructions|prompts?|rules)\b"),
    ("mentions a system prompt", r"\bsystem\s+prompt"),
    ("asks for evaluation data",
     r"\b(?:reveal|print|output|show|leak|dump|repeat|give)\b(?:\s+\w+){0,3}?\s+(?:the\s+)?"
     r"(?:test|evaluation|eval|validation|held[- ]out|hidden)\s+(?:set|split|data|answers|labels)\b"),
    ("asks for an API key", r"\bapi[\s_-]?keys?\b"),
    ("tells the model what it is", r"\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be)\s+(?:an?\s+)?"
                                   r"(?:unrestricted|jailbroken|ai\b|language\s+model|assistant\b|dan\b)"),
))
"""Prompt-injection shapes (reason, pattern), matched in a record's input and
output: text that addresses the model or asks for secrets or evaluation data.
Few and narrow on purpose: none matches a science seed or a symbolic problem
(tests/test_hostile_replies.py checks them all)."""


class InjectionValidator:
    """Rejects a record whose input or output matches :data:`INJECTION_PATTERNS`."""

    name = "injection"

    def __init__(self, patterns: tuple[tuple[str, re.Pattern[str]], ...] = INJECTION_PATTERNS):
        self.patterns = patterns

    def check(self, record: Record) -> Verdict:
        for f in ("input", "output"):
            text = getattr(record, f, "") or ""
            for why, pattern in self.patterns:
                m = pattern.search(text)
                if m:
                    return Verdict(False, f"injection: {f} {why} ({m.group(0)[:60]!r})", self.name)
        return Verdict(True, validator=self.name)


class InstructionValidator:
    name = "instruction"

    def __init__(self, instruction: str):
        self.instruction = instruction

    def check(self, record: Record) -> Verdict:
        if record.instruction != self.instruction:
            return Verdict(False, "instruction differs from the domain's instruction", self.name)
        return Verdict(True, validator=self.name)


def normalise_text(s: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


class ExactDedupValidator:
    """Rejects a record whose normalised input was already accepted (stateful)."""

    name = "dedup"

    def __init__(self, seen: Iterable[str] = ()):
        self.seen: set[str] = {normalise_text(s) for s in seen}

    def check(self, record: Record) -> Verdict:
        key = normalise_text(record.input)
        if key in self.seen:
            return Verdict(False, "dedup: duplicate input", self.name)
        return Verdict(True, validator=self.name)

    def accept(self, record: Record) -> None:
        self.seen.add(normalise_text(record.input))


class NgramDecontaminationValidator:
    """Rejects a record sharing a word n-gram with any validation or test problem."""

    name = "decontamination"

    def __init__(self, hashes: set[str], n: int = 8):
        self.hashes = hashes
        self.n = n

    def check(self, record: Record) -> Verdict:
        overlap = ngram_hashes(record.input, self.n) & self.hashes
        if overlap:
            return Verdict(False, f"decontamination: shares {len(overlap)} {self.n}-gram(s) with evaluation problems",
                           self.name, f"{self.n}-gram overlap")
        return Verdict(True, validator=self.name)


DEFAULT_NEAR_JACCARD = 0.8
"""Estimated Jaccard similarity of two records' input word 3-grams (numbers
kept: a template's problems with other numbers are different exercises) above
which the later one is a near-duplicate (``dedup.jaccard`` in the pack)."""
DEFAULT_NEAR_COSINE = 0.95
"""Embedding cosine of two records' inputs, numbers masked, above which the
later one is a near-duplicate when it also has the same numbers
(``dedup.cosine`` in the pack). A problem reworded in two or three places
measures 0.95 to 0.97; the same template with other numbers is excluded by
the numbers, however close its wording."""
DEFAULT_NEAR_NUMBERS = 0.75
"""Jaccard similarity of two records' sets of numbers from which they count as
having the same numbers (``dedup.numbers``); two inputs without numbers do."""
MAX_EMBEDDED_CHARS = 50_000
"""Longer inputs (rejected by the length check anyway) are not embedded."""


class MaskedEmbeddings:
    """The all-MiniLM-L6-v2 embeddings of record inputs with their numbers
    masked (:func:`data_agent.fingerprints.embedding_text`), computed a batch at
    a time and shared by the near-duplicate and the paraphrase checks: one
    embedding per record. Keeps at most ``limit`` texts."""

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self._v: dict[str, Any] = {}

    def prepare(self, texts: Iterable[str]) -> None:
        from ..embeddings import embed
        from ..fingerprints import embedding_text

        todo = sorted({t for t in texts if t and len(t) <= MAX_EMBEDDED_CHARS and t not in self._v})
        if todo:
            if len(self._v) + len(todo) > self.limit:
                self._v.clear()
            self._v.update(zip(todo, embed([embedding_text(t) for t in todo])))

    def get(self, text: str):
        """The embedding of ``text`` (computed now if it was not prepared), or ``None`` (empty or huge)."""
        if text not in self._v:
            self.prepare([text])
        return self._v.get(text)


class NearDuplicateValidator:
    """Rejects a record whose input nearly repeats an accepted record's, in this
    pool or in earlier iterations' data (``seen``: ``(label, input)`` pairs):

    * by MinHash LSH over word 3-grams, numbers kept (datasketch), or
    * by the embedding cosine of the inputs with numbers masked, when the two
      also have the same numbers (:data:`DEFAULT_NEAR_NUMBERS`): the same
      problem reworded is a duplicate, the same template with other numbers is
      another exercise.

    The reason names the earlier record. Stateful: :meth:`accept` remembers a record."""

    name = "near_duplicate"

    def __init__(self, seen: Iterable[tuple[str, str]] = (), jaccard: float = DEFAULT_NEAR_JACCARD,
                 cosine: float = DEFAULT_NEAR_COSINE, numbers: float = DEFAULT_NEAR_NUMBERS,
                 embeddings: MaskedEmbeddings | None = None):
        from datasketch import MinHashLSH

        from ..fingerprints import NUM_PERM

        self.jaccard, self.cosine, self.numbers = float(jaccard), float(cosine), float(numbers)
        self.embeddings = embeddings or MaskedEmbeddings()
        self.lsh = MinHashLSH(threshold=self.jaccard, num_perm=NUM_PERM)
        self._sigs: dict[str, Any] = {}  # LSH key -> signature
        self._labels: list[str] = []
        self._mat: Any = None  # embeddings of remembered inputs, rows 0.._rows (capacity doubles)
        self._row_label: list[int] = []
        self._row_numbers: list[set[bytes]] = []
        seen = list(seen)
        self.embeddings.prepare(text for _, text in seen)
        for label, text in seen:
            self._remember(label, text)

    @staticmethod
    def _minhash(text: str):
        from ..fingerprints import minhash, shingles

        return minhash(shingles(text, mask_numbers=False))

    def prepare(self, records: Iterable[Record]) -> None:
        self.embeddings.prepare(r.input for r in records)

    def _same_numbers(self, a: set[bytes], b: set[bytes]) -> bool:
        if not a and not b:
            return True
        return len(a & b) / len(a | b) >= self.numbers

    def _remember(self, label: str, text: str) -> None:
        from ..fingerprints import numbers

        if not text:
            return
        key = f"{len(self._labels)}"
        m = self._minhash(text)
        self.lsh.insert(key, m)
        self._sigs[key] = m
        self._labels.append(label)
        v = self.embeddings.get(text)
        if v is not None:
            import numpy as np

            n = len(self._row_label)
            if self._mat is None or n == len(self._mat):
                grown = np.zeros((max(64, 2 * n), len(v)), dtype=np.float32)
                if self._mat is not None:
                    grown[:n] = self._mat
                self._mat = grown
            self._mat[n] = v
            self._row_label.append(len(self._labels) - 1)
            self._row_numbers.append(numbers(text))

    def check(self, record: Record) -> Verdict:
        import numpy as np

        from ..fingerprints import numbers

        if not record.input or not self._labels:
            return Verdict(True, validator=self.name)
        m = self._minhash(record.input)
        best = max(((self._sigs[k].jaccard(m), k) for k in self.lsh.query(m)), default=None)
        if best is not None and best[0] >= self.jaccard:
            return Verdict(False, f"near_duplicate: input repeats {self._labels[int(best[1])]}'s (word 3-gram Jaccard "
                                  f"{best[0]:.2f}, threshold {self.jaccard:.2f})", self.name, "word 3-grams")
        v = self.embeddings.get(record.input)
        if v is not None and self._row_label:
            cos = self._mat[:len(self._row_label)] @ v
            near = np.flatnonzero(cos >= self.cosine)
            if len(near):
                mine = numbers(record.input)
                for j in near[np.argsort(-cos[near])]:
                    if self._same_numbers(mine, self._row_numbers[j]):
                        return Verdict(False, f"near_duplicate: input repeats {self._labels[self._row_label[j]]}'s "
                                              f"(embedding cosine {cos[j]:.3f} with numbers masked, threshold "
                                              f"{self.cosine:.3f}; the same numbers)", self.name, "embedding")
        return Verdict(True, validator=self.name)

    def accept(self, record: Record) -> None:
        self._remember(f"record {record.id}" if record.id else f"record {len(self._labels) + 1}", record.input)


DEFAULT_CONTAINMENT = 0.55
"""Share of an evaluation item's word 3-grams (numbers masked, common phrasing
left out) in a record's input or output from which the record is contaminated,
unless the pack says otherwise (``decontamination.containment``)."""
DEFAULT_PARAPHRASE = {"cosine": 0.8, "cosine_few_numbers": 0.86, "numbers": 0.75}
"""When a record's input paraphrases an evaluation item (``decontamination.paraphrase`` in the pack):
the estimated cosine of their number-masked embeddings is at least ``cosine``
(``cosine_few_numbers`` for an item with fewer than two numbers, whose wording
alone must be closer), and the input holds at least ``numbers`` of the item's
numbers (an item without numbers: no condition). A paraphrase keeps a
problem's numbers; the same question with other numbers is another exercise.
Chosen with ``scripts/bench_decontam.py``."""


class ContaminationValidator:
    """Rejects a record that contains an evaluation item (light edits included)
    or paraphrases one, naming the item; from the pack's per-item fingerprints
    (:mod:`data_agent.fingerprints`), never from the split itself.

    * **containment**: the estimated share of an item's shingles in the record's
      input, and separately in its output (a solution that quotes a problem), at
      least ``containment``;
    * **paraphrase**: the record input's embedding close to an item's, and the
      item's numbers in it (:data:`DEFAULT_PARAPHRASE`).

    :meth:`prepare` embeds a batch of records at once; :meth:`check` embeds a
    record it has not seen."""

    name = "decontamination"

    def __init__(self, fingerprints, containment: float = DEFAULT_CONTAINMENT,
                 paraphrase: dict[str, float] | None = None, embeddings: MaskedEmbeddings | None = None):
        self.fp = fingerprints
        self.containment = float(containment)
        self.paraphrase = {**DEFAULT_PARAPHRASE, **(paraphrase or {})}
        self.embeddings = embeddings or MaskedEmbeddings()
        self._sketches: dict[str, Any] = {}

    def _item(self, k: int) -> str:
        split = {"val": "validation"}.get(self.fp.splits[k], self.fp.splits[k])
        return f"{split} item {self.fp.ids[k]}"

    def prepare(self, records: Iterable[Record]) -> None:
        self.embeddings.prepare(r.input for r in records)

    def _sketch(self, text: str):
        """The SimHash sketch of ``text``'s masked embedding, or ``None`` (empty or huge)."""
        from ..embeddings import sketch
        from ..fingerprints import SKETCH_BITS, SKETCH_SEED

        if text not in self._sketches:
            v = self.embeddings.get(text)
            if v is None:
                return None
            if len(self._sketches) > 50_000:
                self._sketches.clear()
            self._sketches[text] = sketch(v[None, :], SKETCH_BITS, SKETCH_SEED)[0]
        return self._sketches[text]

    def check(self, record: Record) -> Verdict:
        import numpy as np

        from ..fingerprints import numbers, shingles

        if not len(self.fp):
            return Verdict(True, validator=self.name)
        for f in ("input", "output"):
            c = self.fp.containments(shingles(getattr(record, f, "") or ""))
            k = int(c.argmax())
            if c[k] >= self.containment:
                return Verdict(False, f"decontamination: {f} contains {c[k]:.0%} of {self._item(k)}'s word "
                                      f"3-grams (threshold {self.containment:.0%})", self.name, f"{f} containment")
        sk = self._sketch(record.input)
        if sk is None:  # an empty or huge (length-rejected) input
            return Verdict(True, validator=self.name)
        p = self.paraphrase
        cos = self.fp.cosines(sk)
        near = np.flatnonzero(cos >= min(p["cosine"], p["cosine_few_numbers"]))
        if len(near):
            shared = self.fp.number_containments(numbers(record.input))
            for k in near[np.argsort(-cos[near])]:
                n = int(self.fp.n_numbers[k])
                if cos[k] >= (p["cosine"] if n >= 2 else p["cosine_few_numbers"]) and (
                        n == 0 or shared[k] >= p["numbers"]):
                    why = f"the input holds {shared[k]:.0%} of its {n} numbers" if n else "it has no numbers"
                    return Verdict(False, f"decontamination: input paraphrases {self._item(k)} (estimated embedding "
                                          f"cosine {cos[k]:.2f}; {why})", self.name, "paraphrase")
        return Verdict(True, validator=self.name)


def reason_key(validator: str, kind: str = "") -> str:
    """The counting key of a rejection: ``validator`` or ``validator: kind``."""
    return f"{validator}: {kind}" if kind else validator


@dataclass
class Pipeline:
    validators: list[Any]
    rejections: Counter = field(default_factory=Counter)
    """Rejections by validator."""
    reasons: Counter = field(default_factory=Counter)
    """Rejections by validator and kind of reason (:func:`reason_key`)."""
    checked: int = 0
    accepted: int = 0

    def check(self, record: Record) -> Verdict:
        """Run validators in order; the first failure rejects. Stateful validators
        (dedup) learn an accepted record."""
        self.checked += 1
        record.verdicts = []
        for v in self.validators:
            verdict = v.check(record)
            record.verdicts.append({"validator": v.name, "ok": verdict.ok, "reason": verdict.reason,
                                    **({"kind": verdict.kind} if verdict.kind else {})})
            if not verdict.ok:
                self.rejections[v.name] += 1
                self.reasons[reason_key(v.name, verdict.kind)] += 1
                record.accepted = False
                return verdict
        for v in self.validators:
            if hasattr(v, "accept"):
                v.accept(record)
        self.accepted += 1
        record.accepted = True
        return Verdict(True)

    def prepare(self, records: list[Record]) -> None:
        """Let validators that work faster in batches (embeddings) see ``records`` first."""
        for v in self.validators:
            if hasattr(v, "prepare"):
                v.prepare(records)

    def reject_external(self, reason_key: str) -> None:
        """Count a rejection that happened before a record existed (e.g. a garbled teacher reply)."""
        self.checked += 1
        self.rejections[reason_key] += 1
        self.reasons[reason_key] += 1

    def replay(self, record: Record) -> None:
        """Count a record read back from a pool file (a resumed run) as it was
        judged then; an accepted one is remembered by the stateful validators."""
        self.checked += 1
        if record.accepted:
            self.accepted += 1
            for v in self.validators:
                if hasattr(v, "accept"):
                    v.accept(record)
        else:
            self.count_replayed(record.verdicts)

    def count_replayed(self, verdicts: list[dict[str, Any]]) -> None:
        """Count a rejected record read back from a pool file (a resumed run)."""
        bad = next((v for v in verdicts if not v.get("ok")), {})
        name = bad.get("validator", "unknown")
        self.rejections[name] += 1
        self.reasons[reason_key(name, bad.get("kind", ""))] += 1

    def summary(self) -> dict[str, Any]:
        return {"checked": self.checked, "accepted": self.accepted, "rejected_by_reason": dict(self.rejections),
                "rejected_by_kind": dict(sorted(self.reasons.items()))}


def contamination_validator(domain: Domain, embeddings: MaskedEmbeddings | None = None
                            ) -> ContaminationValidator | None:
    """The pack's containment and paraphrase check, with its thresholds; ``None``
    when the pack has no per-item fingerprints."""
    fp = domain.fingerprints
    if fp is None:
        return None
    return ContaminationValidator(fp, domain.decontamination_threshold("containment", DEFAULT_CONTAINMENT),
                                  paraphrase_thresholds(domain), embeddings)


def paraphrase_thresholds(domain: Domain) -> dict[str, float]:
    """:data:`DEFAULT_PARAPHRASE`, with the task's defaults and then the pack's
    ``decontamination.paraphrase`` over it."""
    return {**DEFAULT_PARAPHRASE, **domain.task.paraphrase_thresholds,
            **(domain.manifest.get("decontamination", {}).get("paraphrase") or {})}


def near_duplicate_thresholds(domain: Domain) -> dict[str, float]:
    """The near-duplicate thresholds: defaults, the task's, then the pack's ``dedup``."""
    return {"jaccard": DEFAULT_NEAR_JACCARD, "cosine": DEFAULT_NEAR_COSINE, "numbers": DEFAULT_NEAR_NUMBERS,
            **domain.task.near_duplicate_thresholds, **(domain.manifest.get("dedup") or {})}


def decontamination_settings(domain: Domain) -> dict[str, Any]:
    """What the pipeline checks against the evaluation splits and earlier data,
    with its thresholds (for metrics.json and the report)."""
    from ..embeddings import MODEL_NAME

    fp = domain.fingerprints
    dedup = near_duplicate_thresholds(domain)
    out: dict[str, Any] = {"ngram_overlap": {"n": domain.decontamination_n, "fields": ["input"]},
                           "containment": None, "paraphrase": None,
                           "near_duplicate": {"jaccard": float(dedup.get("jaccard", DEFAULT_NEAR_JACCARD)),
                                              "cosine": float(dedup.get("cosine", DEFAULT_NEAR_COSINE)),
                                              "numbers": float(dedup.get("numbers", DEFAULT_NEAR_NUMBERS)),
                                              "against": "this pool and earlier iterations' records"}}
    if fp is not None:
        items = {s: fp.splits.count(s) for s in ("val", "test")}
        out["containment"] = {"threshold": domain.decontamination_threshold("containment", DEFAULT_CONTAINMENT),
                              "fields": ["input", "output"], "shingles": "word 3-grams, numbers masked",
                              "items": items}
        out["paraphrase"] = {"thresholds": paraphrase_thresholds(domain), "fields": ["input"], "model": MODEL_NAME,
                             "items": items}
    return out


def default_pipeline(domain: Domain, earlier: Iterable[tuple[str, str]] = (), *, verify: str = "when_given",
                     self_consistency: Any = None) -> Pipeline:
    """The validators every generated record goes through, in order. ``earlier``:
    ``(label, input)`` of records already used (earlier iterations' data), which
    a new record must not repeat exactly or nearly. ``verify``: ``when_given``,
    ``required`` or ``off`` (:class:`~data_agent.validators.verify.ComputationValidator`);
    ``self_consistency``: a :class:`~data_agent.validators.verify.SelfConsistencyValidator`
    to run last, or ``None``. The costly checks (sandboxed programs, extra
    teacher solutions) come after the cheap ones."""
    from .verify import ComputationValidator

    if verify not in ("when_given", "required", "off"):
        raise DataAgentError(f"verify must be when_given, required or off, got {verify!r}")
    earlier = list(earlier)
    dedup = near_duplicate_thresholds(domain)
    embeddings = MaskedEmbeddings()  # one embedding per record, for both embedding checks
    fields = domain.submission_fields()
    return Pipeline([
        LengthValidator(domain.task.limits),
        SchemaValidator(fields),
        InstructionValidator(domain.instruction),
        InjectionValidator(),
        *domain.task.validators(),
        ExactDedupValidator(text for _, text in earlier),
        NearDuplicateValidator(earlier, float(dedup.get("jaccard", DEFAULT_NEAR_JACCARD)),
                               float(dedup.get("cosine", DEFAULT_NEAR_COSINE)),
                               float(dedup.get("numbers", DEFAULT_NEAR_NUMBERS)), embeddings),
        NgramDecontaminationValidator(domain.contamination_hashes(), domain.decontamination_n),
        *[v for v in (contamination_validator(domain, embeddings),) if v is not None],
        *([ComputationValidator(domain.task, required=verify == "required")] if verify != "off" else []),
        *([self_consistency] if self_consistency is not None else []),
    ])


@dataclass
class SubmissionReport:
    path: str
    n: int
    expected_n: int | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_submission(path: Path, domain: Domain, expected_n: int | None = None) -> SubmissionReport:
    """Check a submission.json against the domain: exact fields, non-empty
    strings, the domain's instruction, the task's answer format, no duplicate
    inputs, no overlap with evaluation problems, and the record count."""
    fields = domain.submission_fields()
    rows = read_submission(path, fields)  # raises SubmissionError on shape problems
    pipe = default_pipeline(domain)
    problems = []
    for i, r in enumerate(rows):
        rec = Record(**{k: r[k] for k in ("instruction", "input", "output")})
        v = pipe.check(rec)
        if not v.ok:
            problems.append(f"{path}: record {i}: {v.reason}")
    if expected_n is not None and len(rows) != expected_n:
        problems.append(f"{path}: {len(rows)} records, expected {expected_n}")
    return SubmissionReport(str(path), len(rows), expected_n, problems)


__all__ = [
    "Verdict", "Validator", "Pipeline", "LengthValidator", "SchemaValidator", "InstructionValidator",
    "InjectionValidator", "INJECTION_PATTERNS", "FinalLineValidator",
    "AnswerAgreementValidator", "ExactDedupValidator", "MaskedEmbeddings", "NearDuplicateValidator", "NgramDecontaminationValidator", "ContaminationValidator",
    "contamination_validator", "decontamination_settings", "default_pipeline", "reason_key",
    "validate_submission", "SubmissionReport", "SubmissionError", "DataAgentError", "record_schema",
]
