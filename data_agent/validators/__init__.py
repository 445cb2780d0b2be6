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
                           self.name)
        return Verdict(True, validator=self.name)


@dataclass
class Pipeline:
    validators: list[Any]
    rejections: Counter = field(default_factory=Counter)
    checked: int = 0
    accepted: int = 0

    def check(self, record: Record) -> Verdict:
        """Run validators in order; the first failure rejects. Stateful validators
        (dedup) learn an accepted record."""
        self.checked += 1
        record.verdicts = []
        for v in self.validators:
            verdict = v.check(record)
            record.verdicts.append({"validator": v.name, "ok": verdict.ok, "reason": verdict.reason})
            if not verdict.ok:
                self.rejections[v.name] += 1
                record.accepted = False
                return verdict
        for v in self.validators:
            if hasattr(v, "accept"):
                v.accept(record)
        self.accepted += 1
        record.accepted = True
        return Verdict(True)

    def reject_external(self, reason_key: str) -> None:
        """Count a rejection that happened before a record existed (e.g. a garbled teacher reply)."""
        self.checked += 1
        self.rejections[reason_key] += 1

    def summary(self) -> dict[str, Any]:
        return {"checked": self.checked, "accepted": self.accepted, "rejected_by_reason": dict(self.rejections)}


def default_pipeline(domain: Domain, seen_inputs: Iterable[str] = ()) -> Pipeline:
    fields = domain.submission_fields()
    return Pipeline([
        LengthValidator(domain.task.limits),
        SchemaValidator(fields),
        InstructionValidator(domain.instruction),
        InjectionValidator(),
        *domain.task.validators(),
        ExactDedupValidator(seen_inputs),
        NgramDecontaminationValidator(domain.contamination_hashes(), domain.decontamination_n),
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
    "AnswerAgreementValidator", "ExactDedupValidator", "NgramDecontaminationValidator", "default_pipeline",
    "validate_submission", "SubmissionReport", "SubmissionError", "DataAgentError", "record_schema",
]
