"""Validators: ``check(record) -> Verdict``; a pipeline runs them in order and
counts rejections by reason.

The generic checks live here (schema, instruction, dedup, decontamination); the
answer-format and answer-agreement checks are the domain's task's
(:meth:`data_agent.tasks.Task.validators`), which uses the same answer
extraction as the scorer."""

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
        SchemaValidator(fields),
        InstructionValidator(domain.instruction),
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
    "Verdict", "Validator", "Pipeline", "SchemaValidator", "InstructionValidator", "FinalLineValidator",
    "AnswerAgreementValidator", "ExactDedupValidator", "NgramDecontaminationValidator", "default_pipeline",
    "validate_submission", "SubmissionReport", "SubmissionError", "DataAgentError", "record_schema",
]
