"""The finance library's template type: a builder writes the scenario, the worked steps and
the exact answer; the template rounds it and writes the precision the problem asks for.

Conventions:

* every number the problem prints is a sampled parameter, recorded in ``params`` exactly as
  printed (a rate of 5.25% is the param 5.25; amounts are whole dollars or cents), so the
  text, the params and the answer agree;
* answers are computed with ``fractions.Fraction`` where they are rational and with mpmath at
  50 significant digits otherwise (powers with fractional exponents, logarithms, exponentials,
  and the roots of IRR and yield to maturity, found with ``mpmath.findroot``);
* the answer is rounded half-up to the builder's preferred number of decimals, or to more when
  that rounding would move it by more than 0.1% of the exact value (half the task's 0.2%
  tolerance): the problem then asks for that precision ("Answer to three decimal places."),
  so a student who rounds as asked and one who gives the exact value both meet the rule;
* in steps the token ``@ANS`` stands for the rounded answer as the final line writes it.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Callable

import mpmath

from ....tasks.numeric_tolerance import format_answer
from ..base import DIFFICULTIES, FunctionTemplate, Problem, Resample, register

MAX_DECIMALS = 6
PRECISION_WORDS = {0: "the nearest integer", 1: "one decimal place", 2: "two decimal places",
                   3: "three decimal places", 4: "four decimal places", 5: "five decimal places",
                   6: "six decimal places"}
COMPANIES = ("Northwind Traders", "Harbor Analytics", "Maple Ridge Foods", "Bluestone Logistics", "Crescent Apparel",
             "Summit Robotics", "Oakline Pharma", "Riverbend Energy", "Granite Software", "Willow Retail")
PEOPLE = ("Maria", "David", "Aisha", "Kenji", "Laura", "Omar", "Sofia", "Daniel", "Priya", "Lucas")


def fmt(x: int | float) -> str:
    """A given number as the problem prints it: thousands commas, no trailing zeros."""
    if isinstance(x, int):
        return f"{x:,}"
    s = f"{x:,.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def money(x: int | float) -> str:
    """``$12,500`` / ``$12,500.5`` (cents when the amount has them: ``$12,500.50``)."""
    if isinstance(x, float) and x != int(x):
        return f"${x:,.2f}"
    return f"${fmt(int(x))}"


def pct(x: int | float) -> str:
    return f"{fmt(x)}%"


def r(x: Any, sig: int = 6) -> str:
    """An intermediate result for a worked step (``sig`` significant digits, commas)."""
    v = float(x)
    if v == 0:
        return "0"
    digits = max(0, sig - 1 - math.floor(math.log10(abs(v))))
    s = f"{v:,.{min(digits, 8)}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def F(x: int | float | str) -> Fraction:
    """The exact value of a printed parameter."""
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


def M(x: Any) -> mpmath.mpf:
    """A high-precision value (exact parameters go through their decimal text)."""
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(str(x)) if isinstance(x, float) else mpmath.mpf(x)


class FCtx:
    """What a builder sees: the rng, the difficulty and the params recorder."""

    def __init__(self, rng: random.Random, difficulty: int):
        self.rng = rng
        self.d = difficulty
        self.params: dict[str, Any] = {}

    def i(self, name: str, lo: int, hi: int) -> int:
        v = self.rng.randint(lo, hi)
        self.params[name] = v
        return v

    def amount(self, name: str, lo: int, hi: int, step: int = 100) -> int:
        """A whole-dollar amount, a multiple of ``step`` in [lo, hi]."""
        v = self.rng.randint(lo // step, hi // step) * step
        self.params[name] = v
        return v

    def dec(self, name: str, lo: float, hi: float, dp: int = 2) -> float:
        """A number with ``dp`` decimals in [lo, hi] (a rate in percent, a price...)."""
        v = round(self.rng.uniform(lo, hi), dp)
        v = int(v) if dp == 0 else v
        self.params[name] = v
        return v

    def pick(self, options: Any, name: str | None = None) -> Any:
        v = self.rng.choice(list(options))
        if name is not None:
            self.params[name] = v
        return v

    def company(self) -> str:
        return self.pick(COMPANIES)

    def person(self) -> str:
        return self.pick(PEOPLE)

    def done(self, text: str, question: str, steps: list[str], answer: Any, decimals: int = 2,
             percent: bool = False, unit_hint: str = "") -> "Draft":
        """``answer``: the exact value (Fraction, mpf, int) or a bool. ``question`` is the
        last sentence; the precision sentence is added after it."""
        return Draft(text, question, list(steps), answer, decimals, percent, unit_hint, dict(self.params))


@dataclass
class Draft:
    text: str
    question: str
    steps: list[str]
    answer: Any
    decimals: int
    percent: bool
    unit_hint: str
    params: dict


def rounded(value: Any, decimals: int) -> Decimal:
    """``value`` rounded half-up to ``decimals`` places (from its 40-digit decimal text)."""
    d = Decimal(mpmath.nstr(M(value) if not isinstance(value, mpmath.mpf) else value, 40, strip_zeros=False))
    return d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def choose_decimals(value: Any, preferred: int) -> tuple[int, Decimal]:
    """The preferred decimals, or more until rounding moves the value by at most 0.1%."""
    exact = M(value) if not isinstance(value, mpmath.mpf) else value
    for dp in range(preferred, MAX_DECIMALS + 1):
        q = rounded(exact, dp)
        if q != 0 and abs(M(str(q)) - exact) <= abs(exact) / 1000:
            return dp, q
    raise Resample


def precision_sentence(dp: int, percent: bool, unit_hint: str) -> str:
    what = "as a percentage " if percent else ""
    hint = f" {unit_hint}" if unit_hint else ""
    return f"Answer{hint} {what}to {PRECISION_WORDS[dp]}."


class FinanceTemplate(FunctionTemplate):
    """A finance template backed by a builder (see the module docstring); it keeps
    the science library's constructor and retry bound, not its SciBench-style
    power-of-ten rescaling."""

    builder: Callable[[FCtx], Draft]

    def generate(self, rng: random.Random, difficulty: int) -> Problem:
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be 1, 2 or 3, got {difficulty!r}")
        for _ in range(self.max_attempts):
            with mpmath.workdps(50):
                try:
                    d = self.builder(FCtx(rng, difficulty))
                    if isinstance(d.answer, bool):
                        answer: Any = d.answer
                        text_ans = format_answer(answer)
                        tail = 'Answer "True" or "False".'
                    else:
                        dp, q = choose_decimals(d.answer, d.decimals)
                        answer = float(q)
                        text_ans = format_answer(answer, dp)
                        tail = precision_sentence(dp, d.percent, d.unit_hint)
                except (Resample, ZeroDivisionError):
                    continue
            steps = [s.replace("@ANS", text_ans) for s in d.steps]
            sep = "\n" if "\n" in d.text.strip() else " "  # a table ends the scenario: the question on its own line
            problem = f"{d.text.strip()}{sep}{d.question.strip()} {tail}"
            solution = "\n".join(steps + [self.library.task.final_line(text_ans)])
            return Problem(template=self.name, topic=self.topic, subject=self.subject, difficulty=difficulty,
                           problem=problem, unit="", solution=solution, answer=answer,
                           params=json.loads(json.dumps(d.params)))
        raise RuntimeError(f"template {self.name}: no valid parameters after {self.max_attempts} draws")


def template(name: str, topic: str, subject: str, sources: tuple[str, ...]):
    """Decorator registering a builder as a :class:`FinanceTemplate`."""

    def deco(fn: Callable[[FCtx], Draft]) -> Callable[[FCtx], Draft]:
        register(FinanceTemplate(name, topic, subject, sources, fn))
        return fn

    return deco


def findroot(f: Callable[[mpmath.mpf], mpmath.mpf], lo: float, hi: float) -> mpmath.mpf:
    """The root of ``f`` in [lo, hi] (mpmath's Anderson-Bjorck bracketing solver, at the working
    precision of 50 digits); :class:`Resample` when ``f`` has the same sign at both ends."""
    a, b = M(lo), M(hi)
    if f(a) * f(b) > 0:
        raise Resample
    return mpmath.findroot(f, (a, b), solver="anderson")
