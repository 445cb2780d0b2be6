"""The ``boxed_numeric`` task (science, SciBench): a number in the last ``\\boxed{}``.

Scoring, answer extraction and the training-data format, shared by student evaluation and validators.

What SciBench's official scorer does (github mandyyyyii/scibench @ e14e0ca, ``eval/eval_zero.py``
with the helpers in ``eval/post_process.py``; ``eval_zeroCot.py`` and ``eval_few.py`` score the same way):

* The answer is ``parse_math_answer(output)`` = ``remove_boxed(last_boxed_only_string(output))``.
  ``last_boxed_only_string`` looks for the last occurrence of ``oxed`` and returns it up to its
  matching closing brace, or None when those braces never close: an output whose last ``\\boxed{``
  is unclosed has no answer, with no fallback to an earlier box. ``remove_boxed`` requires the text to
  start with ``oxed{`` (so ``\\boxed {1}`` gives no answer) and, when the content holds an ``=``, keeps
  only what follows the last ``=``, leading spaces dropped: ``\\boxed{x = 22.000}`` is ``22.000``.
* ``equiv`` removes every comma from that answer, parses the gold ``answer_number`` with ``float()``
  and calls the answer correct when ``math.isclose(pred, gold, rel_tol=0.05)`` holds for ``float()``
  of the whole answer or of its first whitespace-separated token (both are tried, so
  ``\\boxed{x = 3.52 J}`` is 3.52). ``math.isclose`` measures against the larger of the two numbers:
  a prediction 5.1% above the gold passes, 5.1% below fails. A gold that ``float()`` rejects (a
  thousands comma, a Unicode minus) can never be matched.
* Units that carry a power of ten: ``remove_not(unit)`` splits the unit at its ``$10^{n}$`` and keeps
  what follows. When that rest is not empty, the prompt shows the unit with the power stripped
  (``$10^{-19} \\mathrm{~J}$`` is shown as ``The unit of the answer is \\mathrm{~J}$.``), the gold is
  converted to full units by ``cal_not((answer_number, unit))`` (answer x 10^n), and the prediction
  by ``cal_not(parse_not(pred))``: ``parse_not`` splits it at ``\\times`` or ``*`` and ``cal_not``
  evaluates ``a x 10^n``; a prediction with neither is compared as written, so it must be the
  full-unit value (``3.52e-19``) and the scaled number (``3.520``) is wrong. When the unit is only a
  power (``$10^{42}$``, nothing after it), nothing is converted: the prompt shows the unit as it is
  and the gold stays in scaled units.

Ours takes the same last box (no fallback), the same text after the last ``=`` and the same
``math.isclose(rel_tol=0.05)``. It differs on units with a power because our prompt
(:func:`format_problem`) shows the unit with its power (``The unit of the answer is
$10^{-19} \\mathrm{~J}$``): the gold number is then in those scaled units, so a prediction is
accepted in the scaled units (``3.520``) and also written out in full units (``3.52 \\times 10^{-19}``,
``3.52e-19``), whatever the unit looks like. Beyond the official rule, numbers are normalised in code
(thousands commas in the gold too, Unicode minus, ``\\times 10^{n}``, simple fractions, ``$`` and
unit markup inside the box), with math-verify as the fallback parser for other LaTeX; the first token
is tried only when the whole answer does not parse. README.md ("Scoring: where we differ from
SciBench's official rule") lists every deviation.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any, Mapping

from ..records import EvalItem
from .base import Task, TaskError, clip, ebnf_bounded, register

BOXED = "\\boxed"
ANSWER_SENTENCE_RE = re.compile(r"The answer is therefore \\boxed\{(?P<ans>[^{}]*)\}\.\s*$")
THREE_DECIMALS_RE = re.compile(r"^-?\d+\.\d{3}$")

_MINUS = dict.fromkeys(map(ord, "\u2212\u2013\u2012\u2014\ufe63\uff0d"), "-")
_SCALED_UNIT_RE = re.compile(r"10\s*\^\s*\{?\s*([+-]?\s*\d+)\s*\}?")
_SCI_RE = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))\s*(?:\\times|\\cdot|\*|×|x)\s*10\s*\^\s*\{?\s*([+-]?\d+)\s*\}?$"
)
_POW10_RE = re.compile(r"^10\s*\^\s*\{?\s*([+-]?\d+)\s*\}?$")
_FRAC_RE = re.compile(r"^([+-]?)\\[dt]?frac\s*\{\s*([^{}]+?)\s*\}\s*\{\s*([^{}]+?)\s*\}$")
_SLASH_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*/\s*([+-]?\d+(?:\.\d+)?)$")


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}``, or None.

    Only the last ``\\boxed`` counts, as in SciBench's ``last_boxed_only_string``: when it is not
    followed by ``{`` or its braces never close, the output has no answer; an earlier box is not
    used instead.
    """
    if not text:
        return None
    start = text.rfind(BOXED)
    if start == -1:
        return None
    i = start + len(BOXED)
    if not text.startswith("{", i):
        return None
    depth = 0
    for j in range(i, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j]
    return None


def boxed_answer(text: str) -> str | None:
    """The answer written in the last box: what follows its last ``=``, else all of it.

    SciBench's ``remove_boxed`` does the same, so ``\\boxed{x = 22.000}`` and
    ``\\boxed{a = b = 22.000}`` both answer ``22.000``. None when there is no box.
    """
    boxed = last_boxed(text)
    if boxed is None:
        return None
    if "=" in boxed:
        boxed = boxed.split("=")[-1]
    return boxed.strip()


def _clean(s: str) -> str:
    s = s.translate(_MINUS)
    s = s.replace("$", "").replace("\\!", "").replace("\\,", "").replace("\\;", "").replace("~", " ")
    s = s.replace("\\left", "").replace("\\right", "").replace("{,}", "")
    s = re.sub(r"\\(?:text|mathrm|mathbf|operatorname)\s*\{[^{}]*\}", " ", s)
    s = s.replace(",", "")  # thousands separators, as the official scorer does
    s = s.strip().rstrip(".").strip()
    if s.startswith("{") and s.endswith("}") and s.count("{") == 1:
        s = s[1:-1].strip()
    return s


def parse_number(text: str | None) -> float | None:
    """Parse one number from an answer string; None when it is not a number.

    Handles thousands commas, Unicode minus, a leading '+', plain/e notation,
    ``a \\times 10^{n}``, ``10^{n}``, ``\\frac{a}{b}`` and ``a/b``; other LaTeX
    goes through math-verify.
    """
    if text is None:
        return None
    s = _clean(str(text))
    if not s:
        return None
    try:
        v = float(s)
        return v if math.isfinite(v) else None
    except ValueError:
        pass
    m = _SCI_RE.match(s)
    if m:
        return float(m.group(1)) * 10.0 ** int(m.group(2))
    m = _POW10_RE.match(s)
    if m:
        return 10.0 ** int(m.group(1))
    m = _FRAC_RE.match(s)
    if m:
        num, den = parse_number(m.group(2)), parse_number(m.group(3))
        if num is not None and den not in (None, 0):
            return (-1 if m.group(1) == "-" else 1) * num / den
    m = _SLASH_RE.match(s)
    if m and float(m.group(2)) != 0:
        return float(m.group(1)) / float(m.group(2))
    if "\\" in s or "^" in s:
        return _math_verify_number(s)
    return None


def _math_verify_number(s: str) -> float | None:
    # Boxed answers are short; a long one is not a number, and bounding the input
    # bounds the parse (math-verify's own timeout uses signals, main thread only).
    if len(s) > 200:
        return None
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    try:
        from math_verify import LatexExtractionConfig, parse

        parsed = parse(f"${s}$", extraction_config=[LatexExtractionConfig()], parsing_timeout=None)
    except Exception:
        return None
    for p in parsed:
        try:
            if hasattr(p, "is_number") and p.is_number:
                v = float(p.evalf())
                if math.isfinite(v):
                    return v
        except Exception:
            continue
    return None


def normalise_number(answer_number: str) -> float:
    """Gold answer string -> float ('+65.49', '89,034.79', Unicode minus...)."""
    v = parse_number(answer_number)
    if v is None:
        raise ValueError(f"gold answer {answer_number!r} is not a number")
    return v


def unit_power(unit: str | None) -> int | None:
    """The power of ten a SciBench unit carries (``$10^{-19} J$`` -> -19), else None."""
    if not unit:
        return None
    m = _SCALED_UNIT_RE.search(unit)
    return int(m.group(1).replace(" ", "")) if m else None


def format_answer(value: float) -> str:
    """The answer as the instruction demands: a decimal with three digits."""
    s = f"{value:.3f}"
    return "0.000" if s == "-0.000" else s


def _candidates(boxed: str) -> list[float]:
    whole = parse_number(boxed)
    if whole is not None:
        return [whole]
    out = []
    cleaned = _clean(boxed)
    if cleaned:
        first = cleaned.split()[0]
        v = parse_number(first)
        if v is not None:
            out.append(v)
    return out


def extract_prediction(output: str) -> float | None:
    """The number a model gave: the last box's answer (after its last ``=``), parsed; None when absent."""
    boxed = boxed_answer(output)
    if boxed is None:
        return None
    c = _candidates(boxed)
    return c[0] if c else None


def is_correct(output: str, gold: float, unit: str | None = None, rel_tol: float = 0.05) -> bool:
    """SciBench's rule on a model output, scaled or full units (see module docstring)."""
    boxed = boxed_answer(output)
    if boxed is None:
        return False
    golds = [gold]
    p = unit_power(unit)
    if p:
        golds.append(gold * 10.0 ** p)
    for pred in _candidates(boxed):
        for g in golds:
            if math.isclose(pred, g, rel_tol=rel_tol):
                return True
    return False


def follows_format(output: str) -> bool:
    """True when the last box holds a parsable number (the format-compliance metric)."""
    return extract_prediction(output) is not None


def strict_format_ok(output: str) -> tuple[bool, str]:
    """The training-data format: ends with ``The answer is therefore \\boxed{X.XXX}.``"""
    m = ANSWER_SENTENCE_RE.search(output or "")
    if not m:
        return False, "output does not end with 'The answer is therefore \\boxed{...}.'"
    if last_boxed(output) != m.group("ans"):
        return False, "the final sentence's box is not the last box"
    if not THREE_DECIMALS_RE.match(m.group("ans")):
        return False, f"boxed answer {m.group('ans')!r} is not a decimal with three digits after the point"
    return True, ""


# ----------------------------------------------------------------------------- the pack's rows


def clean_unit(unit: str | None) -> str:
    """SciBench units carry stray whitespace and CRLFs; '$' alone means none."""
    u = re.sub(r"\s+", " ", (unit or "")).strip()
    if not u.replace("$", "").strip():
        return ""
    return u


def format_problem(problem_text: str, unit: str | None) -> str:
    """The ``input`` a student sees: the problem and the unit of the answer."""
    text = (problem_text or "").replace("\r\n", "\n").strip()
    u = clean_unit(unit)
    return f"{text}\nThe unit of the answer is {u}." if u else text


# ----------------------------------------------------------------------------- teacher documents

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "problem": {"type": "string", "minLength": 10},
        "unit": {"type": "string"},
        "solution": {"type": "string", "minLength": 10},
        "answer": {"type": "number"},
    },
    "required": ["problem", "unit", "solution", "answer"],
    "additionalProperties": False,
}
"""The JSON document a teacher returns for one problem of this task (the
symbolic teacher and the LLM prompt templates alike)."""

PROBLEM_MAX_CHARS = 400
"""Grammar bound (``hf:`` teachers): characters of JSON text in ``problem``."""
UNIT_MAX_CHARS = 40
"""Grammar bound: characters of ``unit``."""
SOLUTION_MAX_CHARS = 500
"""Grammar bound: characters of ``solution``, its final sentence included."""
ANSWER_MAX_DIGITS = 7
"""Grammar bound: integer digits of the answer."""

FINAL_SENTENCE = "The answer is therefore \\boxed{%s}."
_DONE_RE = re.compile(r"The answer is therefore \\boxed\{[^{}]*\}\.")


def problem_grammar() -> str:
    """The EBNF grammar (xgrammar) of a problem reply for ``hf:`` teachers, tighter
    than :data:`PROBLEM_SCHEMA` (every document it admits is valid against it):

    * one line, fields in the order ``problem``, ``unit``, ``solution``,
      ``answer``: the solution ends by boxing its result and ``answer`` repeats it
      right after (a small model copies a number it has just written far more
      reliably than it keeps one across a whole solution;
      ``scripts/bench_hf_teacher.py`` measures how often they agree);
    * bounded strings (CPU time): ``problem`` 20-:data:`PROBLEM_MAX_CHARS`,
      ``unit`` <= :data:`UNIT_MAX_CHARS`, ``solution`` <= :data:`SOLUTION_MAX_CHARS`
      characters (of JSON text; the only escapes are ``\\" \\\\ \\/``: a small model
      writes LaTeX such as ``\\text`` or ``\\nu`` with one backslash, which JSON reads as
      a tab or a newline; the grammar makes it write ``\\\\text``, the LaTeX it meant);
      ``answer`` a plain decimal with at most :data:`ANSWER_MAX_DIGITS` integer
      digits and 6 decimals;
    * the solution ends with the final sentence (three decimals), the format the
      validators require.

    The grammar constrains form only: the model writes every field and picks every
    number. Whether its boxed number equals its ``answer`` (and whether the
    problem is any good) is checked downstream by the validators, as for any teacher.
    """
    head = FINAL_SENTENCE.split("%s")[0]
    box = head.replace("\\", "\\\\\\\\")  # JSON text of one backslash, escaped for EBNF
    body = SOLUTION_MAX_CHARS - len(FINAL_SENTENCE % "-0.000") - 1
    root = (
        'root ::= "{\\"problem\\": \\"" problem "\\", \\"unit\\": \\"" unit "\\", \\"solution\\": \\"" '
        f'solution " "? "{box}" "-"? [0-9]{{1,{ANSWER_MAX_DIGITS}}} "." [0-9]{{3}} "}}.\\", \\"answer\\": " number "}}"'
    )
    return "\n".join([
        root,
        'ch ::= [^"\\\\\\x00-\\x1f] | "\\\\" ["\\\\/]',
        f'number ::= "-"? ("0" | [1-9] [0-9]{{0,{ANSWER_MAX_DIGITS - 1}}}) ("." [0-9]{{1,6}})?',
        ebnf_bounded("problem", 20, PROBLEM_MAX_CHARS),
        ebnf_bounded("unit", 0, UNIT_MAX_CHARS),
        ebnf_bounded("solution", 10, body),
    ]) + "\n"


# ----------------------------------------------------------------------------- the task


@register
class BoxedNumeric(Task):
    """SciBench: a numeric answer in the last ``\\boxed{}``, 5% relative tolerance."""

    kind = "boxed_numeric"
    problem_schema = PROBLEM_SCHEMA
    settings_schema = {"rel_tol": (int, float)}
    format_validator = "boxed_format"
    missing_answer = "answer: no boxed number"
    answer_rule = ("whose last sentence is exactly: The answer is therefore \\boxed{X.XXX}.  where X.XXX is the "
                   "answer in that unit with exactly three digits after the decimal point (e.g. \\boxed{0.280}, "
                   "\\boxed{-12.500})")
    """The solution rule of the SciBench-style teacher prompt."""
    answer_rule_short = ("whose last sentence is exactly: The answer is therefore \\boxed{X.XXX}.  with exactly "
                         "three digits after the decimal point")
    """The same rule in the generic prompt's shorter words."""
    answer_kind = "numeric answers"
    answer_kind_one = "a single numeric answer"
    own_details = "with numbers of your own"
    fields_doc = (
        "- \"problem\": a self-contained statement that gives every value needed, with units (LaTeX allowed); "
        "it must not reveal the answer.\n"
        "- \"unit\": the unit of the final answer, e.g. \"$\\mathrm{kJ} \\mathrm{~mol}^{-1}$\" or \"m/s\"; "
        "when the answer is expressed in a power of ten, put that power in the unit "
        "(e.g. \"$10^{-19} \\mathrm{~J}$\"); \"\" for a pure number.\n"
        f"- \"solution\": a concise worked solution (a few short steps with the numbers substituted) {answer_rule}.\n"
        "- \"answer\": the same number as in the box, as a JSON number.")
    fields_brief = (
        "Fields: \"problem\" (the statement with every value needed), \"unit\" (the unit of the answer, \"\" if "
        f"none), \"solution\" (concise worked steps {answer_rule_short}) and \"answer\" (the boxed number, "
        "as a JSON number).")
    reply_shape = '{"problem": ..., "unit": ..., "solution": ..., "answer": ...}'
    example_format = ("Example {n} ({source}):\nProblem: {problem}\nUnit of the answer: {unit}\n"
                      "Worked solution: {solution}\nAnswer: {answer}")
    compact_fields = "Give the problem, the unit of its answer, short solution steps that compute the answer, then the answer."

    row_fields = {"id": "id", "source": "source", "problem": "problem_text", "answer": "answer_number",
                  "unit": "unit", "solution": "solution"}
    format_examples = (
        {"problem": "A car accelerates uniformly from rest to $20 \\mathrm{~m} \\mathrm{~s}^{-1}$ in "
                    "$8 \\mathrm{~s}$. What distance does it cover in that time?",
         "unit": "$\\mathrm{m}$", "solution": "With uniform acceleration from rest, s = (v/2) t = (20/2)(8) = 80 m.",
         "answer": "80"},
        {"problem": "How much heat raises the temperature of $2.0 \\mathrm{~kg}$ of water by "
                    "$5.0 \\mathrm{~K}$? Take the specific heat capacity as $4.18 \\mathrm{~kJ} "
                    "\\mathrm{~kg}^{-1} \\mathrm{~K}^{-1}$.",
         "unit": "$\\mathrm{kJ}$", "solution": "q = m c dT = (2.0)(4.18)(5.0) = 41.8 kJ.", "answer": "41.8"},
    )

    @property
    def rule_summary(self) -> str:
        return f"last \\boxed{{}} number, {self.rel_tol:.0%} relative tolerance"

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        if not 0 < self.rel_tol < 1:
            raise TaskError(f"task {self.kind!r}: setting 'rel_tol' must be between 0 and 1, got {self.rel_tol!r}")

    @property
    def rel_tol(self) -> float:
        return float(self.settings.get("rel_tol", 0.05))

    # answer text
    def final_line(self, answer_text: str) -> str:
        return FINAL_SENTENCE % answer_text

    def finished(self, output: str) -> bool:
        return bool(_DONE_RE.search(output or ""))

    # pack rows (SciBench field names)
    def item(self, row: Mapping[str, Any]) -> EvalItem:
        return EvalItem(id=str(row["id"]), source=str(row["source"]).strip(),
                        input=format_problem(row["problem_text"], row.get("unit", "")),
                        gold=normalise_number(str(row["answer_number"])),
                        info={"unit": clean_unit(row.get("unit", ""))}, raw=dict(row))

    def seed_view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": str(row.get("id", "")), "source": str(row.get("source", "")).strip(),
                "problem": str(row.get("problem_text") or ""), "unit": str(row.get("unit") or ""),
                "solution": str(row.get("solution") or ""), "answer": str(row.get("answer_number", "")).strip()}

    # teacher documents
    def grammar(self) -> str | None:
        return problem_grammar()

    def check_document(self, doc: Mapping[str, Any]) -> str:
        return "" if math.isfinite(float(doc["answer"])) else "answer is not a finite number"

    def record_fields(self, doc: Mapping[str, Any]) -> tuple[str, str, Any]:
        return format_problem(doc["problem"], doc.get("unit", "")), doc["solution"].strip(), float(doc["answer"])

    def example_document(self, view: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
        """Fields in the order ``problem``, ``unit``, ``solution``, ``answer`` (the
        order of :func:`problem_grammar`), the solution cut to ``max_chars`` and
        ending with the boxed answer (three decimals)."""
        raw = str(view.get("answer", "")).strip()
        try:
            answer: Any = float(raw)
            boxed = f"{answer:.3f}"
            answer = int(answer) if answer == int(answer) and abs(answer) < 1e15 else answer
        except ValueError:
            answer, boxed = raw, raw
        return {"problem": re.sub(r"\s+", " ", clip(view.get("problem"), max_chars)),
                "unit": re.sub(r"\s+", " ", str(view.get("unit") or "")).strip(),
                "solution": re.sub(r"\s+", " ", clip(view.get("solution"), max_chars)) + " " + self.final_line(boxed),
                "answer": answer}

    # scoring
    def extract(self, output: str) -> float | None:
        return extract_prediction(output)

    def is_correct(self, output: str, item: EvalItem) -> bool:
        return is_correct(output, item.gold, item.info.get("unit"), rel_tol=self.rel_tol)

    def has_answer_line(self, output: str) -> bool:
        return BOXED + "{" in (output or "")

    def classify(self, output: str, item: EvalItem) -> str | None:
        failure = super().classify(output, item)
        if failure != "wrong_value":
            return failure
        pred, gold = self.extract(output), float(item.gold)
        p = unit_power(item.info.get("unit"))
        golds = [gold] + ([gold * 10.0 ** p] if p else [])
        ratios = [abs(pred / g) for g in golds if g != 0 and pred != 0]
        if ratios and all(r >= 10 or r <= 0.1 for r in ratios):
            return "wrong_magnitude"
        if any(math.isclose(pred, g, rel_tol=3 * self.rel_tol) for g in golds):
            return "close"
        return "wrong_value"

    # validators
    verification = "computation"

    def read_value(self, text: Any) -> float | None:
        v = super().read_value(text)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        return float(v)

    def value_agrees(self, value: Any, known: Any) -> bool:
        """The recomputed value within the boxed answer's precision of the stated
        answer (the agreement check's tolerance, relative 1e-3), tighter than the
        scorer's 5%: a training record's answer should be right, not nearly."""
        value = self.read_value(value)
        return value is not None and self.answers_agree(value, float(known))

    def answers_agree(self, given: Any, known: Any) -> bool:
        # The box holds the answer rounded to three decimals.
        return math.isclose(given, known, rel_tol=1e-3, abs_tol=0.0005 + 1e-12)

    def disagreement(self, given: Any, known: Any) -> str:
        return f"answer: boxed {given} disagrees with the known answer {known:.6g}"

    def final_line_error(self, output: str) -> str:
        ok, why = strict_format_ok(output)
        return "" if ok else why
