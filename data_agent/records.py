"""The record type, the evaluation item, validator verdicts, JSONL pools and
submission.json I/O.

A record is what a submission holds (``instruction``, ``input``, ``output``)
plus lineage that stays outside submission.json: which generator made it, from
which template/topic and seed, in which iteration, the known answer and every
validator's verdict. An :class:`EvalItem` is one evaluation problem as the
domain's task reads it from the pack.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import DataAgentError


class SubmissionError(DataAgentError):
    """A submission file is malformed."""


@dataclass(frozen=True)
class EvalItem:
    """One evaluation problem, ready to prompt a student and score its reply."""

    id: str
    source: str
    """The benchmark's source (book, subset...): the stratum of subsets and per-source metrics."""
    input: str
    """What the student sees after the instruction."""
    gold: Any
    """The gold answer as the task defines it (a number for ``boxed_numeric``, any JSON value for others)."""
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Task-specific facts the scorer needs (e.g. the unit), copied into evaluation rows."""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The pack's row as read."""


@dataclass(frozen=True)
class Verdict:
    """A validator's decision on one record."""

    ok: bool
    reason: str = ""
    validator: str = ""


@dataclass
class Record:
    instruction: str
    input: str
    output: str
    id: str = ""
    generator: str = ""
    template: str = ""
    topic: str = ""
    subject: str = ""
    difficulty: int = 0
    iteration: int = 0
    seed: int = 0
    attempt: int = 0
    """Index of the teacher request within its plan allocation (resume continues after the last one)."""
    answer: Any = None
    """The generator's known answer, when it has one (the symbolic teacher always does)."""
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    accepted: bool | None = None

    def submission_view(self) -> dict[str, str]:
        return {"instruction": self.instruction, "input": self.input, "output": self.output}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Record":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def read_text(path: Path, error: type[DataAgentError] = SubmissionError) -> str:
    """A file's text, read as UTF-8. A missing or unreadable file raises ``error``
    ("<path>: file not found"), and so does one that is not UTF-8, naming the
    line of the first bad byte ("<path>:<line>: not UTF-8 text (byte 0xff)")."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise error(f"{path}:{line}: not UTF-8 text (byte 0x{data[e.start]:02x})") from None


def parse_json(text: str, path: Path, error: type[DataAgentError] = SubmissionError, line: int = 1) -> Any:
    """``json.loads(text)``; malformed JSON raises ``error`` naming the file and
    line ("<path>:<line>: malformed JSON (<msg>)"). ``line`` is the file line
    ``text`` starts on (a JSONL line's number)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{path}:{line + e.lineno - 1}: malformed JSON ({e.msg})") from None


def read_json(path: Path, error: type[DataAgentError] = SubmissionError) -> Any:
    """A JSON file's content; a missing file or malformed JSON raises ``error``
    naming the file (and line), as :func:`read_text` and :func:`parse_json` say."""
    return parse_json(read_text(path, error), path, error)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


class JsonlAppender:
    """Append-only JSONL with an fsync per batch: records already written survive a crash."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if not lines:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())


def read_pool(path: Path) -> list[Record]:
    """Read a pool; a torn last line (a crash mid-write) is dropped, any other
    malformed line is an error naming the line."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(Record.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as e:
            if i >= len(lines) - 1:  # the last, unterminated line: torn write
                break
            raise DataAgentError(f"{path}:{i}: malformed pool line ({e})") from None
    return out


def write_submission(path: Path, records: list[Record]) -> None:
    atomic_write_json(path, [r.submission_view() for r in records])


def read_submission(path: Path, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """Read submission.json; errors name the file, record index and field."""
    path = Path(path)
    data = read_json(path, SubmissionError)
    if not isinstance(data, list):
        raise SubmissionError(f"{path}: expected a JSON list of records, got {type(data).__name__}")
    if fields is not None:
        for i, r in enumerate(data):
            if not isinstance(r, dict):
                raise SubmissionError(f"{path}: record {i}: expected an object, got {type(r).__name__}")
            missing = [f for f in fields if f not in r]
            extra = [k for k in r if k not in fields]
            if missing:
                raise SubmissionError(f"{path}: record {i}: missing field {missing[0]!r}")
            if extra:
                raise SubmissionError(f"{path}: record {i}: unexpected field {extra[0]!r} "
                                      f"(expected exactly {', '.join(fields)})")
    return data
