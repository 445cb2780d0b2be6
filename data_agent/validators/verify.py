"""Verified answers: a record's answer recomputed by a machine, or agreed on by
independent solutions, before the record is accepted.

Three ways, chosen by the domain's task (:attr:`data_agent.tasks.Task.verification`):

* **computation** (numeric and expression answers): an LLM teacher returns,
  beside its problem document, ``"computation": {"sympy": "<expression>"}``
  and/or ``{"python": "<snippet that sets answer>"}``
  (:data:`COMPUTATION_SCHEMA`). An expression is read by Python's ``ast``
  parser and built into a sympy expression from a whitelist of numbers,
  operators, constants and functions (:func:`evaluate_expression`): nothing is
  passed to ``eval``. A snippet runs in the sandbox of
  :mod:`data_agent.validators.sandbox` (time and memory limits, no network, no
  writes outside a temporary directory) and its variable ``answer`` is read
  back. Every computation given must agree with the record's answer within
  the task's tolerance (:meth:`~data_agent.tasks.Task.value_agrees`; for an
  expression answer, math-verify's equivalence).
* **program** (``python_literal``): the problem's own function is run on its
  input in the sandbox; the output must equal the record's answer as a literal.
* **self-consistency** (any task, ``teachers.self_consistency`` k > 1): the
  teacher solves each new problem k - 1 more times without seeing the answer;
  the record's answer must be the majority answer and reach the agreement
  threshold (:class:`SelfConsistencyValidator`).

Each record's ``verification`` (lineage, never in submission.json) says what
was checked and how: ``verified`` (a machine recomputed the answer),
``agreed`` (self-consistency), ``unverified`` (nothing to check with) or
``failed`` (the record is rejected, and the reason says why).
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any, Callable, Iterable, Sequence

from ..records import Record, Verdict
from .sandbox import run_python

__all__ = ["COMPUTATION_SCHEMA", "ComputationError", "ComputationValidator", "SelfConsistencyValidator",
           "evaluate_expression", "with_computation"]

COMPUTATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sympy": {"type": "string", "minLength": 1, "maxLength": 2000},
        "python": {"type": "string", "minLength": 1, "maxLength": 4000},
    },
    "additionalProperties": False,
}
"""The machine-checkable computation a teacher returns with a problem."""

COMPUTATION_FIELD = "computation"

COMPUTATION_PROMPT = (
    "Also give \"computation\": an object with \"sympy\", one arithmetic expression (numbers, + - * / ** and "
    "functions such as sqrt, exp, log, sin, cos, pi) whose value is the answer, and/or \"python\", a short Python "
    "snippet (standard library only, no input or files) that computes the answer into a variable named answer. "
    "It is run to check your answer.")
"""The sentence added to a teacher prompt when the task verifies by computation."""


def with_computation(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (a task's problem schema) with the optional ``computation`` object."""
    out = dict(schema)
    out["properties"] = {**schema.get("properties", {}), COMPUTATION_FIELD: COMPUTATION_SCHEMA}
    return out


class ComputationError(ValueError):
    """An expression that cannot be evaluated safely (the message says why)."""


MAX_EXPRESSION_CHARS = 2000
MAX_DEPTH = 60
MAX_EXPONENT = 1000
"""Largest exponent (in absolute value) a checked expression may raise to: no 9**9**9."""
MAX_FACTORIAL = 1000


def _functions() -> dict[str, tuple[Callable[..., Any], tuple[int, ...]]]:
    import sympy as sp

    def log(x, base=None):
        return sp.log(x) if base is None else sp.log(x, base)

    return {
        "sqrt": (sp.sqrt, (1,)), "cbrt": (sp.cbrt, (1,)), "exp": (sp.exp, (1,)), "log": (log, (1, 2)),
        "ln": (sp.log, (1,)), "log10": (lambda x: sp.log(x, 10), (1,)), "log2": (lambda x: sp.log(x, 2), (1,)),
        "sin": (sp.sin, (1,)), "cos": (sp.cos, (1,)), "tan": (sp.tan, (1,)), "asin": (sp.asin, (1,)),
        "acos": (sp.acos, (1,)), "atan": (sp.atan, (1,)), "atan2": (sp.atan2, (2,)), "sinh": (sp.sinh, (1,)),
        "cosh": (sp.cosh, (1,)), "tanh": (sp.tanh, (1,)), "abs": (sp.Abs, (1,)), "Abs": (sp.Abs, (1,)),
        "floor": (sp.floor, (1,)), "ceiling": (sp.ceiling, (1,)), "ceil": (sp.ceiling, (1,)),
        "factorial": (sp.factorial, (1,)), "binomial": (sp.binomial, (2,)), "comb": (sp.binomial, (2,)),
        "Rational": (sp.Rational, (1, 2)), "min": (sp.Min, (1, 2, 3, 4, 5, 6, 7, 8)),
        "Min": (sp.Min, (1, 2, 3, 4, 5, 6, 7, 8)), "max": (sp.Max, (1, 2, 3, 4, 5, 6, 7, 8)),
        "Max": (sp.Max, (1, 2, 3, 4, 5, 6, 7, 8)), "degrees": (lambda x: x * 180 / sp.pi, (1,)),
        "radians": (lambda x: x * sp.pi / 180, (1,)),
    }


def _constants() -> dict[str, Any]:
    import sympy as sp

    return {"pi": sp.pi, "E": sp.E, "e": sp.E}


def _bounded_number(x: Any, what: str, limit: float) -> None:
    try:
        v = abs(float(x))
    except (TypeError, ValueError):
        raise ComputationError(f"{what} must be a number") from None
    if not math.isfinite(v) or v > limit:
        raise ComputationError(f"{what} {v:g} is beyond {limit:g}")


def evaluate_expression(text: str) -> float:
    """The real value of an arithmetic expression, built as a sympy expression
    from the parsed syntax tree (no ``eval``). ``^`` means power. Raises
    :class:`ComputationError` for anything outside the whitelist, a complex or
    infinite value, or an expression too large to evaluate quickly."""
    import sympy as sp

    s = str(text or "").strip()
    if not s:
        raise ComputationError("empty expression")
    if len(s) > MAX_EXPRESSION_CHARS:
        raise ComputationError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(s.replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise ComputationError(f"not an expression ({type(e).__name__})") from None
    funcs, consts = _functions(), _constants()
    binops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Mod: operator.mod, ast.FloorDiv: lambda a, b: sp.floor(a / b)}

    def build(node: ast.AST, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ComputationError("expression nested too deeply")
        if isinstance(node, ast.Expression):
            return build(node.body, depth + 1)
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if isinstance(node.value, int):
                if abs(node.value) > 10 ** 60:
                    raise ComputationError("integer literal too large")
                return sp.Integer(node.value)
            if isinstance(node.value, float):
                if not math.isfinite(node.value):
                    raise ComputationError("non-finite literal")
                return sp.Float(repr(node.value), 30)
            raise ComputationError(f"literal {type(node.value).__name__} is not a number")
        if isinstance(node, ast.Name):
            if node.id in consts:
                return consts[node.id]
            raise ComputationError(f"unknown name {node.id!r} (a checked expression holds numbers only)")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            v = build(node.operand, depth + 1)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            left, right = build(node.left, depth + 1), build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow):
                _bounded_number(right.evalf(15), "exponent", MAX_EXPONENT)
                return left ** right
            op = binops.get(type(node.op))
            if op is None:
                raise ComputationError(f"operator {type(node.op).__name__} is not allowed")
            if isinstance(node.op, (ast.Div, ast.Mod, ast.FloorDiv)) and right == 0:
                raise ComputationError("division by zero")
            return op(left, right)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ComputationError(f"calling {type(node.func).__name__} is not allowed")
            if node.func.id not in funcs:
                raise ComputationError(f"function {node.func.id!r} is not allowed")
            if node.keywords:
                raise ComputationError("keyword arguments are not allowed")
            fn, arities = funcs[node.func.id]
            if len(node.args) not in arities:
                raise ComputationError(f"{node.func.id} takes {' or '.join(map(str, arities))} argument(s)")
            args = [build(a, depth + 1) for a in node.args]
            if node.func.id in ("factorial", "binomial", "comb"):
                for a in args:
                    _bounded_number(a.evalf(15), f"{node.func.id} argument", MAX_FACTORIAL)
            return fn(*args)
        raise ComputationError(f"{type(node).__name__} is not allowed in a checked expression")

    try:
        expr = build(tree, 0)
        value = sp.N(expr, 30)
    except ComputationError:
        raise
    except (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError) as e:
        raise ComputationError(f"cannot evaluate ({type(e).__name__}: {str(e)[:80]})") from None
    if value.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or not value.is_real:
        raise ComputationError(f"the value {str(value)[:40]} is not a finite real number")
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ComputationError(f"the value {str(value)[:40]} is not a number") from None
    if not math.isfinite(out):
        raise ComputationError("the value is not finite")
    return out


def _fail(why: str, kind: str) -> Verdict:
    return Verdict(False, f"verification: {why}", ComputationValidator.name, kind)


class ComputationValidator:
    """Recomputes a record's answer from the teacher's computation (or, for
    ``python_literal``, from the problem's own program) and rejects the record
    when they disagree or the computation fails; records without anything to
    check are accepted as ``unverified`` unless ``required``. Sets each
    checked record's ``verification``."""

    name = "verification"

    def __init__(self, task: Any, *, required: bool = False, timeout_s: float = 3.0, memory_mb: int = 256):
        self.task = task
        self.required = required
        self.timeout_s, self.memory_mb = timeout_s, memory_mb

    def _snippet(self, code: str) -> tuple[Any, str]:
        res = run_python(code, "answer", timeout_s=self.timeout_s, memory_mb=self.memory_mb)
        if not res.ok:
            return None, f"the python snippet was stopped ({res.status}: {res.error[:160]})"
        return res.value, ""

    def check(self, record: Record) -> Verdict:
        if record.answer is None:  # nothing stated to check against (the agreement check already passed)
            return Verdict(True, validator=self.name)
        if (record.verification or {}).get("status") == "verified":  # e.g. the symbolic teacher's exact answer
            return Verdict(True, validator=self.name)
        how = getattr(self.task, "verification", None)
        checks: list[tuple[str, Any]] = []  # (method, recomputed value as the task reads it)
        if how == "program":
            program = self.task.program(record.input)
            if program is None:
                return self._unverified(record, "the problem holds no function call to run")
            value, why = self._run_program(*program)
            if why:
                record.verification = {"status": "failed", "method": "program", "detail": why}
                return _fail(why, "program failed")
            checks.append(("program", value))
        elif how == "computation":
            comp = record.computation or {}
            if not comp:
                return self._unverified(record, "the teacher gave no computation")
            if comp.get("sympy"):
                try:
                    checks.append(("sympy", evaluate_expression(comp["sympy"])))
                except ComputationError as e:
                    record.verification = {"status": "failed", "method": "sympy", "detail": str(e)}
                    return _fail(f"the sympy expression cannot be evaluated ({e})", "computation failed")
            if comp.get("python"):
                value, why = self._snippet(comp["python"])
                if why:
                    record.verification = {"status": "failed", "method": "python", "detail": why}
                    return _fail(why, "computation failed")
                checks.append(("python", self.task.read_value(value)))
        else:
            return self._unverified(record, "the task has no machine check")
        for method, value in checks:
            if value is None or not self.task.value_agrees(value, record.answer):
                record.verification = {"status": "failed", "method": method, "value": _jsonable(value)}
                return _fail(f"the {method} computation gives {_short(value)}, but the answer is "
                             f"{_short(record.answer)}", "disagrees with its computation")
        record.verification = {"status": "verified", "method": "+".join(m for m, _ in checks),
                               "value": _jsonable(checks[0][1])}
        return Verdict(True, validator=self.name)

    def _run_program(self, code: str, call: str) -> tuple[Any, str]:
        res = run_python(code, call, timeout_s=self.timeout_s, memory_mb=self.memory_mb)
        if not res.ok:
            return None, f"the problem's function was stopped ({res.status}: {res.error[:160]})"
        return self.task.read_value(res.value), ""

    def _unverified(self, record: Record, why: str) -> Verdict:
        record.verification = {"status": "unverified", "method": "none", "detail": why}
        if self.required:
            return _fail(f"{why}, and verification is required", "unverified")
        return Verdict(True, validator=self.name)


def _short(v: Any) -> str:
    s = f"{v:.6g}" if isinstance(v, float) else repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, (int, float, str, bool)) or v is None else repr(v)[:200]


Solver = Callable[[Sequence[Record], int], list[list[Any]]]
"""(records, k) -> for each record, the answers of k independent solutions (``None`` for an unusable one)."""


class SelfConsistencyValidator:
    """Accepts a record when independent solutions of its problem agree with its
    answer: the record's answer plus ``k - 1`` more (from ``solve``, asked in
    :meth:`prepare` for a whole batch at once) vote, answers grouped by the
    task's agreement rule; the record's answer must win the vote with at least
    ``agreement`` of the k votes."""

    name = "self_consistency"

    def __init__(self, task: Any, solve: Solver, k: int, agreement: float = 0.5):
        if k < 2:
            raise ValueError("self-consistency needs k >= 2 solutions")
        self.task, self.solve, self.k, self.agreement = task, solve, int(k), float(agreement)
        self._answers: dict[int, list[Any]] = {}

    def prepare(self, records: Iterable[Record]) -> None:
        todo = [r for r in records if r.answer is not None and id(r) not in self._answers
                and not self.task.final_line_error(r.output)]
        if not todo:
            return
        for r, answers in zip(todo, self.solve(todo, self.k - 1)):
            self._answers[id(r)] = list(answers)

    def votes(self, record: Record) -> tuple[int, int, Any]:
        """(votes for the record's answer, votes for the largest group, that group's answer)."""
        answers = [record.answer] + [a for a in self._answers.get(id(record), [])]
        groups: list[tuple[Any, int]] = []
        for a in answers:
            if a is None:
                continue
            for g, (rep, n) in enumerate(groups):
                if self.task.answers_agree(a, rep) or self.task.answers_agree(rep, a):
                    groups[g] = (rep, n + 1)
                    break
            else:
                groups.append((a, 1))
        mine = groups[0][1] if groups else 0
        top = max(groups, key=lambda g: g[1]) if groups else (None, 0)
        return mine, top[1], top[0]

    def check(self, record: Record) -> Verdict:
        if record.answer is None:
            return Verdict(True, validator=self.name)
        if id(record) not in self._answers:
            self.prepare([record])
        others = self._answers.get(id(record), [])
        mine, top, top_answer = self.votes(record)
        share = mine / self.k
        info = {"method": "self-consistency", "k": self.k, "agree": mine,
                "answers": [_jsonable(a) for a in others], "threshold": self.agreement}
        prior = record.verification if (record.verification or {}).get("status") == "verified" else None
        if mine < top or share < self.agreement:
            record.verification = {"status": "failed", **info}
            lead = "" if mine >= top else f"; the majority answer is {_short(top_answer)} ({top} of {self.k})"
            return Verdict(False, f"self_consistency: {mine} of {self.k} solutions give the answer "
                                  f"{_short(record.answer)} (needs {self.agreement:.0%}){lead}",
                           self.name, "minority answer" if mine < top else "below the agreement threshold")
        record.verification = {**prior, "self_consistency": info} if prior else {"status": "agreed", **info}
        return Verdict(True, validator=self.name)
