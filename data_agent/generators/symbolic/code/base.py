"""The code library's template type: a builder writes a small Python function, its
input, the output computed in-process, and the trace; the output is checked by
running the function in the sandbox (:func:`data_agent.validators.sandbox.run_python`).

A builder ``(rng, difficulty) -> Fn`` mirrors the function it writes in plain
Python, so the trace can show the concrete intermediate values; the answer is
the ``repr`` the sandboxed run returns, and it must equal the builder's own
value (same type, ``==``), else the template is wrong and generation of that
problem fails with a clear error (a request error for the symbolic teacher;
the run goes on).
"""

from __future__ import annotations

import ast
import random
import string
from dataclasses import dataclass, field
from typing import Any, Callable

from ....tasks.python_literal import format_problem
from ....validators.sandbox import SandboxError, run_python
from ..base import DIFFICULTIES, Problem, Resample, Template, register

SUBJECT = "python"
SOURCES = ("cruxeval",)
SANDBOX_TIMEOUT_S = 5.0
SANDBOX_MEMORY_MB = 256


@dataclass
class Fn:
    """What a builder returns: the function's code, the call's arguments, the value and the trace steps."""

    code: str
    args: tuple
    value: Any
    steps: list[str] = field(default_factory=list)


Builder = Callable[[random.Random, int], Fn]

_RESULTS: dict[tuple[str, str], str] = {}
"""Sandbox results by (code, call): a template's problem is generated more than once (tests, resume)."""


def sandbox_value(code: str, call: str) -> str:
    """The ``repr`` the sandboxed run of ``code`` then ``call`` returns (cached);
    raises :class:`SandboxError` when the run fails."""
    key = (code, call)
    if key not in _RESULTS:
        _RESULTS[key] = run_python(code, call, timeout_s=SANDBOX_TIMEOUT_S, memory_mb=SANDBOX_MEMORY_MB).unwrap()
    return _RESULTS[key]


class CodeTemplate(Template):
    """A template backed by a builder (see the module docstring)."""

    max_attempts = 50

    def __init__(self, name: str, topic: str, builder: Builder):
        self.name = name
        self.topic = topic
        self.subject = SUBJECT
        self.sources = SOURCES
        self.builder = builder
        self.__doc__ = builder.__doc__

    def draft(self, rng: random.Random, difficulty: int) -> Fn:
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be 1, 2 or 3, got {difficulty!r}")
        for _ in range(self.max_attempts):
            try:
                return self.builder(rng, difficulty)
            except Resample:
                continue
        raise RuntimeError(f"template {self.name}: no valid parameters after {self.max_attempts} draws")

    def generate(self, rng: random.Random, difficulty: int) -> Problem:
        fn = self.draft(rng, difficulty)
        call_args = ", ".join(repr(a) for a in fn.args)
        call = f"f({call_args})"
        try:
            answer = sandbox_value(fn.code, call)
        except SandboxError as e:
            raise RuntimeError(f"template {self.name}: the sandboxed run failed: {e}") from None
        got = ast.literal_eval(answer)
        if type(got) is not type(fn.value) or got != fn.value:
            raise RuntimeError(f"template {self.name}: the sandbox returned {answer}, the template computed "
                               f"{fn.value!r}")
        steps = [f"We call {call}."] + fn.steps + [f"So f returns {answer}."]
        solution = "\n".join(steps + [self.library.task.final_line(answer)])
        return Problem(template=self.name, topic=self.topic, subject=self.subject, difficulty=difficulty,
                       problem=format_problem(fn.code, call_args), unit="", solution=solution, answer=answer,
                       params={"code": fn.code, "call": call})


def family(name: str, topic: str) -> Callable[[Builder], Builder]:
    """Decorator registering a builder as a :class:`CodeTemplate`."""

    def deco(fn: Builder) -> Builder:
        register(CodeTemplate(name, topic, fn))
        return fn

    return deco


# ----------------------------------------------------------------------------- sampling helpers

LETTERS = string.ascii_lowercase


def word(rng: random.Random, lo: int = 3, hi: int = 7, alphabet: str = LETTERS) -> str:
    """A random lower-case word (CRUXEval's inputs are mostly such strings)."""
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def words(rng: random.Random, n: int, lo: int = 3, hi: int = 7) -> list[str]:
    return [word(rng, lo, hi) for _ in range(n)]


def distinct_words(rng: random.Random, n: int, lo: int = 3, hi: int = 7) -> list[str]:
    """:func:`words` that are all different (dict keys), else :class:`Resample`."""
    out = words(rng, n, lo, hi)
    if len(set(out)) < len(out):
        raise Resample
    return out


def ints(rng: random.Random, n: int, lo: int = -9, hi: int = 20) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(n)]


def code(*lines: str) -> str:
    """The function's source from its lines (four-space indents written by the caller)."""
    return "\n".join(lines)
