"""Core types and helpers of the symbolic template library.

A :class:`Template` turns ``(rng, difficulty)`` into a :class:`Problem`: a
textbook-style numeric question, its unit, a short worked solution and an
answer computed with sympy. Most templates are plain *builder* functions
registered with :func:`template`; a builder receives a :class:`Ctx` (the rng,
the difficulty and a params recorder) and returns ``ctx.done(...)``.

Conventions used by the builders:

* every sampled number is rounded to a few significant figures *before* it is
  written into the text and into ``params``, so the text, the params and the
  answer agree exactly;
* answers are sympy expressions built from exact rationals (:func:`X`) and
  evaluated with 30 digits;
* the answer is rescaled by a power of ten (see :func:`scale_to_unit`) so that
  the 3-decimal answer string keeps at least 3 significant digits; the power
  is put into the unit, SciBench style (``$10^{-19} \\mathrm{~J}$``);
* in solution lines the token ``@ANS`` stands for the final value, written
  exactly as in the final line (times the power of ten when the unit carries one);
  the final line itself is written by the library's task
  (:meth:`data_agent.tasks.Task.final_line`).

Templates belong to one domain's *library*: a package registers its templates
inside :func:`library_scope` (``with library_scope(domain, task_kind, subjects):``),
which records the domain, the task kind and the subjects its templates may use.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import sympy as sp

from ...tasks import Task, get_task


@dataclass(frozen=True)
class Problem:
    """One generated problem (see the package docstring for the conventions)."""

    template: str
    topic: str
    subject: str
    difficulty: int
    problem: str
    unit: str
    solution: str
    answer: Any
    params: dict = field(default_factory=dict, compare=True, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "topic": self.topic,
            "subject": self.subject,
            "difficulty": self.difficulty,
            "problem": self.problem,
            "unit": self.unit,
            "solution": self.solution,
            "answer": self.answer,
            "params": dict(self.params),
        }


DIFFICULTIES = (1, 2, 3)


def science_document(p: "Problem") -> dict[str, Any]:
    """The problem document of a numeric-with-unit library (the ``boxed_numeric``
    task's teacher schema): ``problem``, ``unit``, ``solution``, ``answer``."""
    return {"problem": p.problem, "unit": p.unit, "solution": p.solution, "answer": p.answer}


def plain_document(p: "Problem") -> dict[str, Any]:
    """The problem document of a library whose task has no unit field:
    ``problem``, ``solution``, ``answer``."""
    return {"problem": p.problem, "solution": p.solution, "answer": p.answer}


@dataclass(frozen=True)
class Library:
    """One domain's template library: its domain pack, its task and its subjects."""

    domain: str
    """The pack name (``pack.json`` ``name``) whose problems the templates imitate."""
    task_kind: str
    """The task whose final answer line the solutions end with."""
    subjects: tuple[str, ...]
    """The subjects a template of this library may declare."""
    document: Callable[["Problem"], dict[str, Any]] = science_document
    """A problem -> the document its task's teacher schema describes (what the symbolic teacher replies)."""

    @property
    def task(self) -> Task:
        return get_task(self.task_kind)


LIBRARIES: dict[str, Library] = {}
"""Template libraries by domain name."""
_current: list[Library] = []


@contextlib.contextmanager
def library_scope(domain: str, task_kind: str, subjects: tuple[str, ...],
                  document: Callable[[Problem], dict[str, Any]] = science_document) -> Iterator[Library]:
    """Templates registered inside this block belong to ``domain``'s library;
    ``document`` turns one of its problems into its task's teacher document."""
    lib = LIBRARIES.setdefault(domain, Library(domain, task_kind, tuple(subjects), document))
    _current.append(lib)
    try:
        yield lib
    finally:
        _current.pop()


class Template:
    """One kind of problem. Subclasses implement :meth:`generate`."""

    name: str = ""
    topic: str = ""
    subject: str = ""
    sources: tuple[str, ...] = ()
    library: Library | None = None
    """The library the template was registered in (set by :func:`register`)."""

    def generate(self, rng: random.Random, difficulty: int) -> Problem:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Template {self.name} ({self.subject}/{self.topic})>"


class Resample(Exception):
    """Raised by a builder when the sampled parameters are unusable; the
    template draws again from the same rng (so generation stays deterministic)."""


# --------------------------------------------------------------------------
# numbers: rounding, exact conversion, LaTeX display
# --------------------------------------------------------------------------

def sig_round(x: float, sig: int = 3) -> float:
    """``x`` rounded to ``sig`` significant figures (as a clean float)."""
    if x == 0:
        return 0.0
    return float(f"{x:.{sig}g}")


def X(x: Any) -> sp.Expr:
    """Exact sympy number for a parameter (floats through their repr)."""
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, bool):
        raise TypeError("bool is not a number here")
    if isinstance(x, int):
        return sp.Integer(x)
    if isinstance(x, float):
        return sp.Rational(repr(x))
    if isinstance(x, str):
        return sp.Rational(x)
    raise TypeError(f"cannot convert {x!r}")


def F30(expr: Any) -> sp.Float:
    """A 30-digit Float for an exponent: powers of exact rationals to exact
    non-integer exponents with huge numerators make sympy factor enormous integers."""
    return sp.Float(sp.N(expr, 30), 30)


def ev(expr: Any) -> float:
    """Numeric value of a sympy expression (30 digits, then float)."""
    if isinstance(expr, (int, float)):
        return float(expr)
    val = sp.N(expr, 30)
    if not val.is_real:
        val = sp.re(val) if abs(complex(val).imag) < 1e-25 else val
    return float(val)


def _sci(mant: str, exp: int) -> str:
    if mant in ("1", "-1"):
        return ("-" if mant.startswith("-") else "") + f"10^{{{exp}}}"
    return f"{mant} \\times 10^{{{exp}}}"


def num(x: float | int) -> str:
    """LaTeX for a *given* quantity (shown exactly, no trailing zeros)."""
    if isinstance(x, int):
        return str(x)
    if x == 0:
        return "0"
    ax = abs(x)
    if 1e-3 <= ax < 1e5:
        s = f"{x:.10g}"
        if "e" in s:  # pragma: no cover - cannot happen in this range
            s = f"{x:f}".rstrip("0").rstrip(".")
        return s
    e = math.floor(math.log10(ax))
    m = x / 10**e
    ms = f"{m:.8g}"
    if abs(float(ms)) >= 10:  # rounding edge
        e += 1
        ms = f"{x / 10**e:.8g}"
    return _sci(ms, e)


def res(x: float, sig: int = 4) -> str:
    """LaTeX for an *intermediate* result, ``sig`` significant figures."""
    if x == 0:
        return "0"
    ax = abs(x)
    e = math.floor(math.log10(ax))
    if -3 <= e < 4:
        s = f"{x:.{sig}g}"
        if "e" in s:
            s = f"{float(s):f}".rstrip("0").rstrip(".")
        return s
    if 4 <= e < 6:
        return f"{sig_round(x, sig):.0f}"
    m = x / 10**e
    ms = f"{m:.{sig - 1}f}"
    if abs(float(ms)) >= 10:
        e += 1
        ms = f"{x / 10**e:.{sig - 1}f}"
    return f"{ms} \\times 10^{{{e}}}"


def q(x: float | int, unit: str = "") -> str:
    """Inline math for a quantity: ``q(2.5, MOL)`` -> ``$2.5 \\mathrm{~mol}$``."""
    return f"${num(x)} {unit}$" if unit else f"${num(x)}$"


class _Fill(string.Template):
    delimiter = "@"


def fill(text: str, **kw: Any) -> str:
    """Substitute ``@name`` / ``@{name}`` placeholders (``$`` and braces stay LaTeX)."""
    kw.setdefault("ANS", "@ANS")  # the final value is filled in by the template
    return _Fill(text).substitute({k: (v if isinstance(v, str) else num(v)) for k, v in kw.items()})


# --------------------------------------------------------------------------
# units and the power-of-ten rescaling
# --------------------------------------------------------------------------

def _scale(value: float, unit: str, lo: float, hi: float) -> tuple[float, str, int]:
    av = abs(value)
    if value == 0 or lo <= av < hi:
        return value, unit, 0
    p = math.floor(math.log10(av))
    if round(av / 10.0**p, 3) >= 10:
        p += 1
    scaled = value / 10.0**p
    u = unit.strip()
    if not u:
        new = f"$10^{{{p}}}$"
    elif u.startswith("$") and u.endswith("$") and u.count("$") == 2:
        inner = u[1:-1].strip()
        if inner.startswith("\\mathrm{") and not inner.startswith("\\mathrm{~"):
            inner = "\\mathrm{~" + inner[len("\\mathrm{"):]
        new = f"$10^{{{p}}} {inner}$"
    else:
        new = f"$10^{{{p}}}$ {u}"
    return scaled, new, p


def scale_to_unit(value: float, unit: str) -> tuple[float, str]:
    """If ``|value| >= 1e5`` or ``0 < |value| < 1e-2`` divide by a power of ten
    ``10**p`` (``p = floor(log10|value|)``, so the mantissa is in [1, 10)) and
    put ``10^{p}`` into the unit (``$\\mathrm{J}$`` -> ``$10^{-19} \\mathrm{~J}$``,
    ``""`` -> ``$10^{-3}$``); otherwise return both unchanged."""
    v, u, _ = _scale(value, unit, 1e-2, 1e5)
    return v, u


# The templates rescale a little more eagerly (below 0.1) so that the 3-decimal
# answer always keeps >= 3 significant digits.
_TEMPLATE_LO = 0.1
_TEMPLATE_HI = 1e5


# --------------------------------------------------------------------------
# the builder context and the function-backed template
# --------------------------------------------------------------------------

class Ctx:
    """What a builder sees: the rng, the difficulty and a params recorder."""

    def __init__(self, rng: random.Random, difficulty: int):
        self.rng = rng
        self.d = difficulty
        self.params: dict[str, Any] = {}

    # sampling -------------------------------------------------------------
    def u(self, name: str, lo: float, hi: float, sig: int = 3) -> float:
        """Uniform in [lo, hi], rounded to ``sig`` significant figures."""
        v = sig_round(self.rng.uniform(lo, hi), sig)
        self.params[name] = v
        return v

    def lu(self, name: str, lo: float, hi: float, sig: int = 3) -> float:
        """Log-uniform in [lo, hi] (both > 0), rounded."""
        v = sig_round(math.exp(self.rng.uniform(math.log(lo), math.log(hi))), sig)
        self.params[name] = v
        return v

    def step(self, name: str, lo: float, hi: float, st: float) -> float:
        """A multiple of ``st`` in [lo, hi]."""
        k = self.rng.randint(0, int(round((hi - lo) / st)))
        v = float(sig_round(lo + k * st, 10))
        self.params[name] = v
        return v

    def i(self, name: str, lo: int, hi: int) -> int:
        v = self.rng.randint(lo, hi)
        self.params[name] = v
        return v

    def pick(self, options: list | tuple, name: str | None = None) -> Any:
        v = self.rng.choice(list(options))
        if name is not None:
            self.params[name] = v
        return v

    def set(self, **kw: Any) -> None:
        self.params.update(kw)

    def variant(self, n: int = 3) -> int:
        v = self.rng.randrange(n)
        self.params["variant"] = v
        return v

    # result ---------------------------------------------------------------
    def done(self, text: str, unit: str, steps: list[str], answer: Any) -> "Draft":
        return Draft(text=text, unit=unit, steps=list(steps), answer=answer, params=dict(self.params))


@dataclass
class Draft:
    text: str
    unit: str
    steps: list[str]
    answer: Any
    params: dict


Builder = Callable[[Ctx], Draft]

_REGISTRY: dict[str, Template] = {}


def _fmt_ans(scaled: float, p: int) -> str:
    s = f"{scaled:.3f}"
    return s if p == 0 else f"{s} \\times 10^{{{p}}}"


class FunctionTemplate(Template):
    """A template backed by a builder function."""

    max_attempts = 200

    def __init__(self, name: str, topic: str, subject: str, sources: tuple[str, ...], builder: Builder,
                 doc: str = ""):
        self.name = name
        self.topic = topic
        self.subject = subject
        self.sources = tuple(sources)
        self.builder = builder
        self.__doc__ = doc or builder.__doc__

    def generate(self, rng: random.Random, difficulty: int) -> Problem:
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be 1, 2 or 3, got {difficulty!r}")
        for _ in range(self.max_attempts):
            try:
                d = self.builder(Ctx(rng, difficulty))
                value = ev(d.answer)
            except (Resample, ZeroDivisionError):
                continue
            if not math.isfinite(value) or value == 0:
                continue
            scaled, unit, p = _scale(value, d.unit, _TEMPLATE_LO, _TEMPLATE_HI)
            ans_str = f"{scaled:.3f}"
            if float(ans_str) == 0:
                continue
            steps = [s.replace("@ANS", _fmt_ans(scaled, p)) for s in d.steps]
            solution = "\n".join(steps + [self.library.task.final_line(ans_str)])
            params = json.loads(json.dumps(d.params))  # JSON-serialisable, detached copy
            return Problem(template=self.name, topic=self.topic, subject=self.subject,
                           difficulty=difficulty, problem=d.text, unit=unit, solution=solution,
                           answer=scaled, params=params)
        raise RuntimeError(f"template {self.name}: no valid parameters after {self.max_attempts} draws")


def template(name: str, topic: str, subject: str, sources: tuple[str, ...]) -> Callable[[Builder], Builder]:
    """Decorator registering a builder function as a :class:`FunctionTemplate`."""

    def deco(fn: Builder) -> Builder:
        register(FunctionTemplate(name, topic, subject, sources, fn))
        return fn

    return deco


def register(t: Template) -> Template:
    """Add ``t`` to the registry and to the library of the enclosing :func:`library_scope`."""
    if not t.name or t.name in _REGISTRY:
        raise ValueError(f"duplicate or empty template name {t.name!r}")
    if not _current:
        raise ValueError(f"template {t.name!r} registered outside a library_scope")
    lib = _current[-1]
    if t.subject not in lib.subjects:
        raise ValueError(f"template {t.name!r}: bad subject {t.subject!r} for the {lib.domain} library "
                         f"(expected one of {', '.join(lib.subjects)})")
    t.library = lib
    _REGISTRY[t.name] = t
    return t


def registry() -> dict[str, Template]:
    return _REGISTRY


_WS = re.compile(r"\s+")


def opening(text: str, words: int = 3) -> str:
    """The first few words of a problem with digits masked (for variety checks)."""
    return " ".join(_WS.split(re.sub(r"[0-9.]+", "#", text).strip())[:words])
