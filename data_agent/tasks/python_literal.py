"""``python_literal``: predict a Python function's output (CRUXEval output prediction).

The student sees a function ``f`` and a call (:func:`format_problem`)::

    ```python
    def f(text):
        return text.upper()
    ```
    What is the output of f('abc')?

and ends its reply with the answer line ``[ANSWER] <output> [/ANSWER]``, where
``<output>`` is the returned value written as a Python literal (``'ABC'``).

The rule:

* **Which line.** The prediction is the text between ``[ANSWER]`` and the next
  ``[/ANSWER]`` on the same line, in the **last** such pair of the output (an
  earlier answer line is not used). Text after the closing marker is ignored
  (so a string literal that itself contains ``[/ANSWER]`` cannot be given).
  An ``[ANSWER]`` that never closes on its line is no answer (failure
  ``no_answer``, as an unfinished line).
* **Reading it.** The prediction and the gold are read with
  :func:`ast.literal_eval`; they are never executed. A prediction longer than
  :data:`MAX_LITERAL_CHARS` characters, nested too deeply, or that is not a
  literal (``f(3)``, ``float('nan')``, ``x``) is no answer (failure
  ``unparsable``): the parser's ``ValueError``, ``TypeError``, ``SyntaxError``,
  ``MemoryError`` and ``RecursionError`` are caught.
* **Comparing.** Correct when ``gold == prediction`` as Python values, the
  comparison the official ``assert`` makes: ``{1, 2}`` equals ``{2, 1}``,
  ``{'a': 1, 'b': 2}`` equals ``{'b': 2, 'a': 1}``, ``'a'`` equals ``"a"``; a
  tuple is not a list (``(1, 2) != [1, 2]``), as in Python. ``True == 1`` and
  ``1.0 == 1`` hold in Python, so they are accepted, as the official assert
  accepts them (failure class ``wrong_type`` marks a wrong answer whose type
  differs from the gold's). ``1e999`` reads as ``inf`` and equals an ``inf``
  gold; NaN cannot be written as a literal, so no prediction is NaN.

Where this differs from the official CRUXEval scoring (facebookresearch/cruxeval
@ 190faf1: the prediction counts when ``assert <gold> == <pred>`` holds after
running the function's code, 3 s limit, pass@1):

=============================  ==================================  ==============================  =========
What                           Official                            Ours                            Direction
=============================  ==================================  ==============================  =========
Prediction that is an          executed next to the code, so       only literals count (what the   stricter
expression (``'ab' * 2``,      ``'ab' * 2`` or ``f('x')`` can      official prompt asks for: "a
``f('x')``, ``list('ab')``)    pass                                literal, no function calls")
Answer line                    ``[ANSWER] assert f(x) == y         ``[ANSWER] y [/ANSWER]``: the   other form
                               [/ANSWER]`` (the prompt's form)     literal alone
Very long / deeply nested      executed (3 s limit)                over ``MAX_LITERAL_CHARS``      stricter
prediction                                                         characters or too deep: no
                                                                   answer
pass@1                         estimated from several samples      one greedy output per problem   other
=============================  ==================================  ==============================  =========

Why: we never execute student output, so only what :func:`ast.literal_eval`
reads can be compared; the answer line is shorter to learn and to extract.

Pack rows keep CRUXEval's field names: ``{"id", "code", "input", "output"}``
(``source`` optional, ``cruxeval`` by default); seed rows add a ``solution``
ending with the answer line. Teachers return ``{"problem", "solution",
"answer"}``: the problem as the student sees it, a short step-by-step trace
ending with the answer line, and the output as a Python literal in a string.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Mapping

from ..records import EvalItem
from .base import Task, clip, is_looping, read_literal, register

OPEN, CLOSE = "[ANSWER]", "[/ANSWER]"
MAX_LITERAL_CHARS = 4_000
"""Longest answer text that is parsed (CRUXEval's longest gold output has 50 characters)."""

_PAIR_RE = re.compile(r"\[ANSWER\][ \t]*([^\n]*?)[ \t]*\[/ANSWER\]")
_OPEN_RE = re.compile(r"\[ANSWER\]")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "python_literal problem",
    "type": "object",
    "properties": {
        "problem": {"type": "string", "minLength": 10},
        "solution": {"type": "string", "minLength": 5},
        "answer": {"type": "string", "minLength": 1},
    },
    "required": ["problem", "solution", "answer"],
    "additionalProperties": False,
}

def parse_literal(text: Any) -> Any:
    """``(True, value)`` when ``text`` reads as a Python literal (at most
    :data:`MAX_LITERAL_CHARS` characters), else ``(False, None)``; never raises."""
    return read_literal(text, MAX_LITERAL_CHARS)


def literals_equal(a: Any, b: Any) -> bool:
    """Whether two literal texts read as equal Python values (``False`` when either does not read)."""
    ok_a, va = parse_literal(a)
    ok_b, vb = parse_literal(b)
    if not (ok_a and ok_b):
        return False
    try:
        return bool(va == vb)
    except (RecursionError, MemoryError, TypeError, ValueError):
        return False


_PROGRAM_RE = re.compile(r"```python\n(.*?)\n```\s*What is the output of f\((.*)\)\?$", re.DOTALL)


def format_problem(code: str, call_input: str) -> str:
    """What the student sees: the code in a fenced block, then the question with the call."""
    return f"```python\n{str(code).strip()}\n```\nWhat is the output of f({str(call_input).strip()})?"


def answer_lines(output: str) -> list[str]:
    """The text of every complete answer line pair, in order."""
    return _PAIR_RE.findall(output or "")


@register
class PythonLiteral(Task):
    """CRUXEval output prediction: the returned value as a Python literal on an answer line."""

    kind = "python_literal"
    problem_schema = PROBLEM_SCHEMA
    # The pack row's field names. The student's problem is built from two fields, ``code`` and
    # ``input`` (the call's arguments): "problem" names the code, "call" the arguments.
    row_fields: ClassVar[dict[str, str]] = {"id": "id", "problem": "code", "call": "input", "answer": "output",
                                            "solution": "solution", "source": "source"}
    format_validator = "answer_line"
    missing_answer = "answer: no readable [ANSWER] line"
    # Short Python functions look alike to a sentence embedding (two functions of one template that
    # differ in a constant are at cosine 0.98 or more) and hold few, small numbers: the embedding
    # checks need a closer match than for prose. Not yet measured by scripts/bench_decontam.py for code.
    paraphrase_thresholds: ClassVar[dict[str, float]] = {"cosine": 0.95, "cosine_few_numbers": 0.97}
    near_duplicate_thresholds: ClassVar[dict[str, float]] = {"cosine": 0.999}
    answer_rule = (f"whose last line is exactly: {OPEN} <output> {CLOSE}  where <output> is the value f returns, "
                   f"written as a Python literal (e.g. {OPEN} [1, 'a'] {CLOSE}, {OPEN} 'abc' {CLOSE}, "
                   f"{OPEN} (2, True) {CLOSE})")
    answer_rule_short = f"whose last line is exactly: {OPEN} <output> {CLOSE}  with the output as a Python literal"
    answer_kind = "output-prediction answers"
    answer_kind_one = "a single Python-literal answer"
    own_details = "with a function and input of your own"
    fields_doc = ("- \"problem\": a short Python function f in a ```python block, then the line "
                  "\"What is the output of f(<input>)?\"; it must not reveal the output.\n"
                  f"- \"solution\": a short step-by-step trace of the call {answer_rule}.\n"
                  "- \"answer\": the same output as in the final line, as a Python literal in a JSON string.")
    fields_brief = (f"Fields: \"problem\" (the function and the call), \"solution\" (a short trace "
                    f"{answer_rule_short}) and \"answer\" (the output as a Python literal, in a JSON string).")
    reply_shape = '{"problem": ..., "solution": ..., "answer": ...}'
    compact_fields = "Give the function and call, a short trace of the call, then the output as a Python literal."
    format_examples = (
        {"problem": format_problem("def f(xs):\n    return [x * 2 for x in xs if x % 2]", "[1, 2, 3]"),
         "solution": "f keeps the odd numbers 1 and 3 and doubles each of them.", "answer": "[2, 6]"},
        {"problem": format_problem("def f(s):\n    return s.upper().count('A')", "'banana'"),
         "solution": "s.upper() is 'BANANA', which holds three A's.", "answer": "3"},
    )

    @property
    def rule_summary(self) -> str:
        return "last [ANSWER] line equals the gold as a Python literal (ast.literal_eval, ==)"

    # answer text
    def final_line(self, answer_text: str) -> str:
        return f"{OPEN} {answer_text} {CLOSE}"

    def finished(self, output: str) -> bool:
        return bool(_PAIR_RE.search(output or ""))

    # pack rows (CRUXEval field names)
    def item(self, row: Mapping[str, Any]) -> EvalItem:
        code, call, gold = row["code"], row["input"], row["output"]
        for name, v in (("code", code), ("output", gold)):
            if not isinstance(v, str) or not v.strip():
                raise ValueError(f"field {name!r} must be a non-empty string")
        if not isinstance(call, str):  # "" is a call without arguments
            raise ValueError("field 'input' must be a string (the call's arguments)")
        if not parse_literal(gold)[0]:
            raise ValueError(f"field 'output' is not a Python literal: {gold[:80]!r}")
        return EvalItem(id=str(row["id"]), source=str(row.get("source") or "cruxeval").strip(),
                        input=format_problem(code, call), gold=gold, raw=dict(row))

    def seed_view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": str(row.get("id", "")), "source": str(row.get("source") or "cruxeval").strip(),
                "problem": format_problem(row.get("code", ""), row.get("input", "")),
                "solution": str(row.get("solution") or ""), "answer": str(row.get("output", ""))}

    # teacher documents
    def check_document(self, doc: Mapping[str, Any]) -> str:
        a = str(doc["answer"]).strip()
        if "\n" in a:
            return "answer spans several lines"
        if not parse_literal(a)[0]:
            return f"answer is not a Python literal: {a[:60]!r}"
        return ""

    def record_fields(self, doc: Mapping[str, Any]) -> tuple[str, str, Any]:
        return doc["problem"].strip(), doc["solution"].strip(), str(doc["answer"]).strip()

    def example_document(self, view: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
        """The seed's trace without its own answer line, cut to ``max_chars``, then the answer line."""
        answer = str(view.get("answer", "")).strip()
        steps = [ln for ln in str(view.get("solution") or "").split("\n") if OPEN not in ln]
        return {"problem": clip(view.get("problem"), max_chars),
                "solution": clip("\n".join(steps), max_chars) + "\n" + self.final_line(answer), "answer": answer}

    # scoring
    def extract(self, output: str) -> str | None:
        """The literal text of the last complete answer line, when it reads as a literal."""
        found = answer_lines(output)
        if not found:
            return None
        text = found[-1].strip()
        return text if parse_literal(text)[0] else None

    def has_answer_line(self, output: str) -> bool:
        return bool(answer_lines(output))

    def is_correct(self, output: str, item: EvalItem) -> bool:
        pred = self.extract(output)
        return pred is not None and literals_equal(pred, item.gold)

    def classify(self, output: str, item: EvalItem) -> str | None:
        if self.is_correct(output, item):
            return None
        pred = self.extract(output)
        if pred is None:
            if is_looping(output):
                return "looping"
            return "unparsable" if self.has_answer_line(output) else "no_answer"
        _, pv = parse_literal(pred)
        ok, gv = parse_literal(item.gold)
        return "wrong_type" if ok and type(pv) is not type(gv) else "wrong_value"

    # validators
    verification = "program"

    def program(self, input_text: str) -> tuple[str, str] | None:
        """The problem's function and its call (the form :func:`format_problem` writes)."""
        m = _PROGRAM_RE.match((input_text or "").strip())
        if not m:
            return None
        return m.group(1), f"f({m.group(2)})"

    def read_value(self, text: Any) -> str | None:
        """A sandboxed call's ``repr``, kept as literal text."""
        ok, _ = parse_literal(text)
        return str(text).strip() if ok else None

    def value_agrees(self, value: Any, known: Any) -> bool:
        return value is not None and literals_equal(str(value), str(known))

    def answers_agree(self, given: Any, known: Any) -> bool:
        return literals_equal(str(given), str(known))

    def final_line_error(self, output: str) -> str:
        lines = [ln for ln in (output or "").strip().split("\n") if ln.strip()]
        if not lines:
            return "empty output"
        last = lines[-1].strip()
        if not (last.startswith(OPEN) and last.endswith(CLOSE)) or len(_OPEN_RE.findall(last)) != 1:
            return f"output does not end with a '{OPEN} <output> {CLOSE}' line"
        if len(_OPEN_RE.findall(output)) > 1:
            return f"more than one '{OPEN}' line"
        text = last[len(OPEN):-len(CLOSE)].strip()
        if not text:
            return "the final line gives no answer"
        if not parse_literal(text)[0]:
            return f"the answer {text[:60]!r} is not a Python literal"
        return ""
