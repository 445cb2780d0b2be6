"""The task seam: one answer contract per task kind.

A domain pack names its task in ``pack.json`` (``"scorer": {"kind": "boxed_numeric", ...}``);
the other keys of ``scorer`` are the task's settings (e.g. ``rel_tol``). The task owns
everything that depends on the form of the answer, and nothing else in the project
names an answer format:

* the answer-format text given to the student (the pack's instruction says it) and to
  teachers (:attr:`Task.answer_rule`, :meth:`Task.final_line`);
* reading the pack's evaluation and seed rows, whose field names are the benchmark's
  (:meth:`Task.item`, :meth:`Task.seed_view`);
* answer extraction and scoring with the benchmark's official rule
  (:meth:`Task.extract`, :meth:`Task.is_correct`, :meth:`Task.follows_format`);
* the stop pattern for decoding (:meth:`Task.finished`);
* the JSON schema of a teacher's problem document (:attr:`Task.problem_schema`), the
  grammar for local teachers (:meth:`Task.grammar`) and the record a document becomes
  (:meth:`Task.record_fields`);
* the format and answer-agreement validators (:meth:`Task.validators`);
* a failure classifier for wrong outputs (:meth:`Task.classify`).

Adding a task kind is one module here with a :func:`register`-ed subclass,
imported by the package's ``__init__`` (see the README's "Architecture" section).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Mapping

from ..errors import DataAgentError
from ..records import EvalItem, Record, Verdict

__all__ = ["FAILURE_CLASSES", "AnswerAgreementValidator", "FinalLineValidator", "Task", "TaskError", "clip",
           "ebnf_bounded", "expressions_equivalent", "read_literal", "get_task", "is_looping", "known_kinds", "register", "task_for_schema"]


class TaskError(DataAgentError):
    """An unknown task kind or a bad task setting."""


FAILURE_CLASSES: dict[str, str] = {
    "no_answer": "no final answer line (or an unfinished one)",
    "looping": "no answer: the output degenerated into a repetition loop",
    "unparsable": "an answer line whose answer cannot be read",
    "wrong_value": "a readable answer that is wrong",
    "wrong_magnitude": "a numeric answer off by a factor of ten or more",
    "close": "a numeric answer near the gold but outside the tolerance",
    "wrong_type": "a readable literal of another type than the gold (e.g. a list for a tuple)",
    "missing": "no output at all (a predictions file without this item)",
}
"""The failure classes a task may report for a wrong output (``None`` = correct)."""

_LOOP_RE = re.compile(r"(.{1,24}?)\1{7,}\s*$", re.DOTALL)


def is_looping(text: str, tail: int = 200) -> bool:
    """Whether ``text`` ends in a short unit repeated many times (``0.0000000...``,
    ``the the the ...``): greedy decoding that degenerated into a loop."""
    t = (text or "")[-tail:]
    m = _LOOP_RE.search(t)
    return bool(m) and len(m.group(0).strip()) >= 16


class Task:
    """One answer contract. Subclasses set the class attributes and implement the
    methods that raise ``NotImplementedError``; instances carry the pack's
    ``scorer`` settings."""

    kind: ClassVar[str] = ""
    """The ``scorer.kind`` of ``pack.json`` that selects this task."""
    problem_schema: ClassVar[dict[str, Any]] = {}
    """JSON Schema of the problem document a teacher returns (a record is made from it)."""
    answer_rule: ClassVar[str] = ""
    """How a worked solution must end, in words for a teacher prompt."""
    answer_rule_short: ClassVar[str] = ""
    """The same rule in fewer words (the generic prompt)."""
    settings_schema: ClassVar[dict[str, type | tuple[type, ...]]] = {}
    """The settings this task accepts in ``pack.json`` ``scorer`` and their types."""
    # The wording of the answer in teacher prompts (fields of data_agent.generators.prompts templates).
    answer_kind: ClassVar[str] = "answers"
    """Plural noun phrase: "problems with ..."."""
    answer_kind_one: ClassVar[str] = "a single answer"
    """Singular: "practice problems ... with ..."."""
    own_details: ClassVar[str] = "with details of your own"
    """How a variation differs from the examples."""
    fields_doc: ClassVar[str] = ""
    """The document's fields, one bullet each, the final-line rule included."""
    fields_brief: ClassVar[str] = ""
    """The same in one paragraph (the generic prompt)."""
    reply_shape: ClassVar[str] = ""
    """The document's shape in one line, e.g. ``{"problem": ..., "answer": ...}``."""
    example_format: ClassVar[str] = "Example {n} ({source}):\nProblem: {problem}\nWorked solution: {solution}\nAnswer: {answer}"
    """One style example (``str.format`` over a :meth:`seed_view` plus ``n``)."""
    compact_fields: ClassVar[str] = ""
    """One sentence naming the fields in order (the compact prompt of small local teachers)."""
    format_validator: ClassVar[str] = "answer_format"
    """Name of the final-line validator (the key its rejections are counted under)."""
    missing_answer: ClassVar[str] = "answer: no final answer"
    """Rejection reason of a record whose output gives no answer."""
    row_fields: ClassVar[dict[str, str]] = {}
    """Logical name -> the pack field that holds it in this task's rows: ``id``,
    ``source``, ``problem`` and ``answer`` (and ``solution`` for seeds, plus any
    the task adds, e.g. ``unit``). ``data-agent init-domain`` writes a user's rows
    under these names, so every task that a pack can be made for declares them."""
    format_examples: ClassVar[tuple[dict[str, Any], ...]] = ()
    """Made-up seed views (``{"problem", "solution", "answer", ...}``) that show
    the answer format; a pack made without seeds shows them in its sample submission."""
    paraphrase_thresholds: ClassVar[dict[str, float]] = {}
    """The task's own defaults for the decontamination paraphrase check, over
    :data:`data_agent.validators.DEFAULT_PARAPHRASE` (a pack's
    ``decontamination.paraphrase`` goes over both)."""
    near_duplicate_thresholds: ClassVar[dict[str, float]] = {}
    """The task's own defaults for the near-duplicate check (``jaccard``,
    ``cosine``); a pack's ``dedup`` goes over them."""
    verification: ClassVar[str | None] = None
    """How a record's answer is machine-checked (:mod:`data_agent.validators.verify`):
    ``"computation"`` (the teacher's sympy expression or Python snippet is
    recomputed), ``"program"`` (the problem's own program is run) or ``None``
    (no machine check; self-consistency still applies)."""
    default_limits: ClassVar[dict[str, int]] = {"input": 8_000, "output": 16_000}
    """Most characters a record's field may hold (the ``length`` validator); a
    pack overrides any of them with ``"limits": {"input": ..., "output": ...}``
    in its ``scorer`` object (every task accepts that setting)."""

    def __init__(self, settings: Mapping[str, Any] | None = None):
        settings = dict(settings or {})
        settings.pop("kind", None)
        limits = settings.pop("limits", None)
        self.limits: dict[str, int] = {**self.default_limits, **self._check_limits(limits)}
        """The length limit of each record field (defaults overridden by ``scorer.limits``)."""
        for k, v in settings.items():
            want = self.settings_schema.get(k)
            if want is None:
                known = ", ".join(sorted(self.settings_schema)) or "none"
                raise TaskError(f"task {self.kind!r}: unknown setting {k!r} (known: {known})")
            if isinstance(v, bool) or not isinstance(v, want):
                names = " or ".join(t.__name__ for t in (want if isinstance(want, tuple) else (want,)))
                raise TaskError(f"task {self.kind!r}: setting {k!r} must be {names}, got {v!r}")
        self.settings = settings

    def _check_limits(self, limits: Any) -> dict[str, int]:
        if limits is None:
            return {}
        if not isinstance(limits, Mapping):
            raise TaskError(f"task {self.kind!r}: setting 'limits' must be an object of field -> characters, "
                            f"got {limits!r}")
        for k, v in limits.items():
            if k not in self.default_limits:
                raise TaskError(f"task {self.kind!r}: limits: unknown field {k!r} "
                                f"(known: {', '.join(sorted(self.default_limits))})")
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise TaskError(f"task {self.kind!r}: limits: {k!r} must be a positive integer, got {v!r}")
        return dict(limits)

    def __repr__(self) -> str:
        return f"<task {self.kind} {self.settings}>"

    @property
    def rule_summary(self) -> str:
        """The scoring rule in one short line (``data-agent domains``); ``""`` when
        the task does not state one."""
        return ""

    # ------------------------------------------------------------------ answer text

    def final_line(self, answer_text: str) -> str:
        """The line a worked solution ends with, for an answer written as ``answer_text``."""
        raise NotImplementedError

    def finished(self, output: str) -> bool:
        """Decoding may stop: ``output`` has written its final answer line."""
        raise NotImplementedError

    # ------------------------------------------------------------------ pack rows

    def item(self, row: Mapping[str, Any]) -> EvalItem:
        """An evaluation row of the pack (the benchmark's field names) -> an item.
        Raises ``KeyError`` for a missing field, ``ValueError`` for a bad value."""
        raise NotImplementedError

    def seed_view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A seed row -> ``{"id", "source", "problem", "solution", "answer", ...}``:
        the fields of :attr:`problem_schema` that a style example shows."""
        raise NotImplementedError

    # ------------------------------------------------------------------ teacher documents

    def grammar(self) -> str | None:
        """An EBNF grammar (xgrammar) tighter than :attr:`problem_schema` for local
        ``hf:`` teachers, or ``None`` to constrain by the schema alone."""
        return None

    def check_document(self, doc: Mapping[str, Any]) -> str:
        """Beyond the schema: ``""`` when the document is usable, else why not."""
        return ""

    def record_fields(self, doc: Mapping[str, Any]) -> tuple[str, str, Any]:
        """A problem document -> (``input``, ``output``, known answer) of a record."""
        raise NotImplementedError

    def example_document(self, view: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
        """A seed view as the document a teacher must write (compact prompts)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ scoring

    def extract(self, output: str) -> Any:
        """The answer an output gives, or ``None`` when it gives none."""
        raise NotImplementedError

    def is_correct(self, output: str, item: EvalItem) -> bool:
        """The benchmark's official rule (each deviation documented in the task's module)."""
        raise NotImplementedError

    def follows_format(self, output: str) -> bool:
        """The format-compliance metric: the output gives a readable answer."""
        return self.extract(output) is not None

    def classify(self, output: str, item: EvalItem) -> str | None:
        """``None`` when correct, else one of :data:`FAILURE_CLASSES`."""
        if self.is_correct(output, item):
            return None
        if self.extract(output) is None:
            if is_looping(output):
                return "looping"
            return "unparsable" if self.has_answer_line(output) else "no_answer"
        return "wrong_value"

    def has_answer_line(self, output: str) -> bool:
        """Whether the output contains an answer line at all (readable or not)."""
        return self.extract(output) is not None

    def score_row(self, item: EvalItem, output: str) -> dict[str, Any]:
        """The per-item row of an evaluation file."""
        failure = self.classify(output, item)
        return {"id": item.id, "source": item.source, "gold": item.gold, **item.info,
                "prediction": self.extract(output), "correct": failure is None,
                "formatted": self.follows_format(output), "failure": failure, "output": output}

    # ------------------------------------------------------------------ validators

    def validators(self) -> list[Any]:
        """The format and answer-agreement validators for records of this task
        (objects with ``name`` and ``check(record) -> Verdict``)."""
        return [FinalLineValidator(self), AnswerAgreementValidator(self)]

    def answers_agree(self, given: Any, known: Any) -> bool:
        """Whether a record's final answer matches the generator's known answer."""
        return given == known

    def disagreement(self, given: Any, known: Any) -> str:
        """Rejection reason of a record whose answer differs from the known one."""
        return f"answer: final answer {given!r} disagrees with the known answer {known!r}"

    def final_line_error(self, output: str) -> str:
        """``""`` when a training output ends with the exact final answer line, else why not."""
        raise NotImplementedError

    # ------------------------------------------------------------------ verification

    def read_value(self, text: Any) -> Any:
        """A recomputed value (a sandboxed program's ``repr``, or a number) as
        this task's answer type, or ``None`` when it is not one."""
        if not isinstance(text, str):
            return text
        ok, value = read_literal(text)
        return value if ok else text.strip()

    def value_agrees(self, value: Any, known: Any) -> bool:
        """Whether a recomputed value matches a record's stated answer (the
        task's tolerance; see each task)."""
        return value is not None and self.answers_agree(value, known)

    def program(self, input_text: str) -> tuple[str, str] | None:
        """``(code, call)`` of the program a problem states (``"program"`` verification)."""
        return None


class FinalLineValidator:
    """The record's output ends with the task's exact final answer line."""

    def __init__(self, task: Task):
        self.task = task
        self.name = task.format_validator

    def check(self, record: Record) -> Verdict:
        why = self.task.final_line_error(record.output)
        return Verdict(not why, f"format: {why}" if why else "", self.name)


class AnswerAgreementValidator:
    """The answer in the final line agrees with the generator's known answer (when it has one)."""

    name = "answer_agreement"

    def __init__(self, task: Task):
        self.task = task

    def check(self, record: Record) -> Verdict:
        if record.answer is None:
            return Verdict(True, validator=self.name)
        given = self.task.extract(record.output)
        if given is None:
            return Verdict(False, self.task.missing_answer, self.name)
        if self.task.answers_agree(given, record.answer):
            return Verdict(True, validator=self.name)
        return Verdict(False, self.task.disagreement(given, record.answer), self.name)


# --------------------------------------------------------------------------- helpers


def read_literal(text: Any, limit: int = 100_000) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is a string that reads as a Python literal
    (``ast.literal_eval``, at most ``limit`` characters), else ``(False, None)``;
    never raises."""
    import ast

    if not isinstance(text, str):
        return False, None
    s = text.strip()
    if not s or len(s) > limit:
        return False, None
    try:
        return True, ast.literal_eval(s)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def expressions_equivalent(a: Any, b: Any) -> bool:
    """Whether two answers written as expressions are mathematically equal
    (math-verify: LaTeX or plain, e.g. ``2\\sqrt{3}`` and ``3.4641016``). Used
    to verify training records, never to score. Its timeouts need the main
    thread; elsewhere the answer is ``False`` (not verified)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        from math_verify import parse, verify

        def read(x: Any):  # LaTeX is read as such only between dollars
            t = str(x).strip()
            return parse(f"${t}$" if "\\" in t and not t.startswith("$") else t)

        gold, pred = read(a), read(b)
        return bool(gold and pred and verify(gold, pred))
    except Exception:  # noqa: BLE001 - math-verify on malformed text: not verified
        return False


def clip(text: Any, limit: int) -> str:
    """``text`` as a clean string (newlines normalised, runs of blank lines folded),
    cut to ``limit`` characters with a ``[...]`` mark."""
    s = str(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    s = re.sub(r"\n{3,}", "\n\n", s)
    return s if len(s) <= limit else s[:limit].rstrip() + " [...]"


def ebnf_bounded(name: str, lo: int, hi: int) -> str:
    """EBNF rules (xgrammar): ``name`` matches ``lo`` to ``hi`` JSON string
    characters of the rule ``ch`` (``lo`` mandatory ones, then a chain of optional
    ones: far cheaper to match on CPU than a counted repetition)."""
    first = " ".join(["ch"] * lo + [f"{name}_0"])
    rules = [f"{name} ::= {first}"]
    n = hi - lo
    rules += [f'{name}_{k} ::= "" | ch {name}_{k + 1}' for k in range(n)]
    rules.append(f'{name}_{n} ::= ""')
    return "\n".join(rules)


# --------------------------------------------------------------------------- registry

_TASKS: dict[str, type[Task]] = {}


def register(cls: type[Task]) -> type[Task]:
    """Class decorator: make ``cls`` the task of ``scorer.kind == cls.kind``."""
    if not cls.kind or cls.kind in _TASKS:
        raise ValueError(f"duplicate or empty task kind {cls.kind!r}")
    _TASKS[cls.kind] = cls
    return cls


def known_kinds() -> list[str]:
    return sorted(_TASKS)


def get_task(kind: str, settings: Mapping[str, Any] | None = None) -> Task:
    """The task of ``kind`` with the pack's ``scorer`` settings."""
    if not kind:
        raise TaskError(f"no task kind given ('kind'; known: {', '.join(known_kinds())})")
    cls = _TASKS.get(str(kind))
    if cls is None:
        raise TaskError(f"unknown task kind {kind!r} (known: {', '.join(known_kinds())})")
    return cls(settings)


def task_for_schema(schema: Any) -> Task | None:
    """The task whose problem schema is ``schema`` (default settings), if any: how a
    backend that sees only a request (a local grammar, the emulator) finds its task."""
    for cls in _TASKS.values():
        if cls.problem_schema == schema:
            return cls()
    if not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping):
        return None
    for cls in _TASKS.values():  # the schema with optional extra fields (e.g. a computation to verify with)
        own = cls.problem_schema
        if own and schema.get("required") == own.get("required") and all(
                schema["properties"].get(k) == v for k, v in own.get("properties", {}).items()) and all(
                schema.get(k) == v for k, v in own.items() if k != "properties"):
            return cls()
    return None
