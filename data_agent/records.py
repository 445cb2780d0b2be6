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
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

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
    kind: str = ""
    """A short class of the reason (``"paraphrase"``, ``"output containment"``...)
    for counts; the reason itself names the specifics."""


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
    computation: dict[str, Any] | None = None
    """The teacher's machine-checkable computation of the answer (``{"sympy": ...}``
    and/or ``{"python": ...}``; :mod:`data_agent.validators.verify`)."""
    verification: dict[str, Any] | None = None
    """How the record's answer was checked: ``{"status": "verified" | "agreed" |
    "unverified" | "failed", "method": ..., ...}`` (``verified``: recomputed by a
    program, sympy or the symbolic teacher's exact computation; ``agreed``:
    self-consistency reached its threshold)."""

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


def temp_sibling(path: Path) -> tuple[int, Path]:
    """Create a new, uniquely named file next to ``path`` (``<name>.<random>.tmp``)
    and return its open descriptor and path: two processes writing the same file
    never share a temporary file. The file gets the usual permissions (umask)."""
    path = Path(path)
    while True:
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a uniquely named temporary file, fsync it and rename it over ``path``,
    so a crash or a full disk never leaves half a file; the temporary file is
    removed when anything fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_sibling(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of the UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _complete_size(fd: int, size: int) -> int:
    """The length of the file's prefix that ends with its last newline (0 if none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        chunk = os.pread(fd, pos - start, start)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            return start + nl + 1
        pos = start
    return 0


def _truncate_torn_tail_fd(fd: int) -> int:
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return 0
    keep = _complete_size(fd, size)
    os.ftruncate(fd, keep)
    os.fsync(fd)
    return size - keep


def truncate_torn_tail(path: Path) -> int:
    """Cut a JSONL file back to the end of its last complete line (a torn last
    line is what a crash or a full disk mid-append leaves); returns the number of
    bytes dropped (0 when the file is whole or missing)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        return _truncate_torn_tail_fd(fd)
    finally:
        os.close(fd)


class JsonlAppender:
    """Append-only JSONL with an fsync per batch: records already written survive a crash.

    A batch is all or nothing: it goes out in one write of the encoded bytes and
    a failed write (a full disk) is cut back to the previous size. Before each
    batch a torn last line left by an earlier process is truncated, so a new line
    never glues onto a fragment; ``on_truncate(path, bytes_dropped)`` is told.
    """

    def __init__(self, path: Path, on_truncate: Callable[[Path, int], None] | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.on_truncate = on_truncate

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        if not data:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            dropped = _truncate_torn_tail_fd(fd)
            if dropped and self.on_truncate is not None:
                self.on_truncate(self.path, dropped)
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:  # a regular file takes it in one write unless the disk fills up
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)


def read_pool_rows(path: Path, convert: Callable[[dict[str, Any]], Any] = dict,
                   error: type[DataAgentError] = DataAgentError) -> list[Any]:
    """A pool's lines, each a JSON object passed through ``convert``; a torn last
    line (a crash mid-write) is dropped, any other malformed line (or one that
    ``convert`` rejects with ``TypeError``) is an ``error`` naming the line."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise error(f"{path}:{i}: expected a JSON object, got {type(row).__name__}")
            out.append(convert(row))
        except (json.JSONDecodeError, TypeError) as e:
            if i >= len(lines) - 1:  # the last, unterminated line: torn write
                break
            raise error(f"{path}:{i}: malformed pool line ({e})") from None
    return out


def read_pool(path: Path) -> list[Record]:
    """Read a pool as records (see :func:`read_pool_rows`)."""
    return read_pool_rows(path, Record.from_dict)


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
