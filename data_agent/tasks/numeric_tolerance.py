"""``numeric_tolerance``: FinanceReasoning's rule, a number (or True/False) within 0.2% of the gold.

What the official scorer does (github BUPT-Reasoning-Lab/FinanceReasoning @ b0fe645,
``utils/evaluation_utils.py``, adapted from FinanceMath): an LLM (gpt-4o-mini) first extracts
the final answer from the chain of thought as a bare value; ``normalize`` then tries Python
``eval`` on it and, when that fails, lower-cases it, drops a trailing ``.``, removes
``£ € ¥ million billion thousand us usd rmb``, keeps what follows the last ``=`` (and ``≈``),
removes backticks, ``%``, ``$`` and ``°``, maps ``true``/``yes`` to True and ``false``/``no``
to False (any text containing ``true`` or ``false`` too), drops ``approximately``, keeps what
precedes `` or ``, strips a one-word unit before or after the number, rewrites ``10^n`` and
`` x ``/`` × ``, removes thousands commas from a well-grouped number and ``eval``-s the rest.
``get_acc`` then calls a number correct when ``gold - eps <= pred <= gold + eps`` with
``eps = 0.002 * |gold|`` (so a gold of 0 needs exactly 0), and compares booleans with ``==``.

Ours, for the student's output:

* the answer is read from the output's last final line, ``Therefore, the answer is <value>.``
  (the sentence the benchmark's chain-of-thought prompt asks for): the text after the last
  ``the answer is`` (any case) up to the end of its line;
* ``gold - eps <= pred <= gold + eps`` with ``eps = rel_tol * |gold|``, ``rel_tol`` = 0.002
  unless the pack's ``scorer.rel_tol`` says otherwise; a gold of 0 needs exactly 0;
* a boolean gold is matched by True/yes (True) or False/no (False), any case;
* normalisation: Unicode minus and dashes read as ``-``; markdown ``**`` and backticks
  dropped; the text after the last ``=`` or ``≈`` kept; ``approximately``/``about``/``~``
  dropped; the part before `` or `` kept; currency symbols and codes (``$ € £ ¥ ₹``, ``usd``,
  ``us``, ``rmb``, ``inr``, ``eur``, ``gbp``, ``rs``) dropped; ``%``, ``percent``,
  ``percentage points`` dropped, so ``12.5%`` reads 12.5 (the gold of a question asking for a
  percentage is in percent: 13.202, not 0.13202); scale words (``thousand``, ``million``,
  ``billion``, ``trillion``, ``k``, ``m``, ``mn``, ``bn``) dropped, so ``5 million`` reads 5 (the
  gold is in the unit the question or table uses: "in millions" golds are 1152, not 1.152e9);
  thousands separators in a well-grouped number removed (``1,234,567.5``); ``1.5e6``,
  ``1.5 x 10^6``, ``1.5 × 10^6``, ``1.5 * 10^6`` and ``1.5 \\times 10^{6}`` read as 1500000;
  a number in parentheses reads as that number, ``(27)`` is 27 (as the official ``eval``
  does; accounting-style negatives are not read as negative); words around a single number
  are ignored (``12.50 dollars per share``).

Deviations from the official scorer:

1. No LLM extraction: the answer is the value on the last ``Therefore, the answer is`` line;
   an output without one has no answer (the official extractor may find an answer elsewhere).
2. No Python ``eval``: arithmetic such as ``3/4`` or ``100*1.05`` is not evaluated (no answer);
   only the number forms listed above are read.
3. ``1,234`` is 1234 (the official ``eval`` reads the tuple ``(1, 234)`` and keeps 1); a badly
   grouped number (``1,23``) has no answer.
4. Booleans only match booleans: ``1``/``0`` do not match a True/False gold, and True/False do
   not match a numeric gold (the official ``==`` gives credit because ``True == 1`` in Python).
   A text with both ``true`` and ``false`` has no answer (the official rule picks True).
5. More currency and scale words are dropped (``₹``, ``inr``, ``eur``, ``gbp``, ``rs``,
   ``trillion``, ``k``, ``m``, ``mn``, ``bn``, ``percent``), as words only (the official rule
   removes ``us`` anywhere, even inside a word).
6. Unicode minus signs are minus signs (the official unit stripping turns ``−5.2`` into 5.2).
7. Any words around a single number are ignored (the official rule strips one word, or one or
   two characters, on either side); several numbers that are not one of the forms above
   (``12 to 13``) give no answer.
8. The student's input renders FinanceMath's list of tables (``['| a | b |...']``) as the
   tables themselves, and its empty list ``[]`` as no context.

Pack rows: the benchmark's fields (``question``, ``context``, ``ground_truth``, ``source``,
``level``, ...) plus an ``id``; seed rows add a worked ``solution`` that ends with the final
line. Teachers return ``{"problem", "solution", "answer"}`` (answer a number or a boolean).
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any, ClassVar, Mapping

from ..records import EvalItem
from .base import Task, TaskError, clip, register

MARKER = "Therefore, the answer is"
FINAL_LINE = MARKER + " %s."
_ANSWER_RE = re.compile(r"the answer is\b[ \t]*([^\n]*)", re.IGNORECASE)
_DONE_RE = re.compile(r"the answer is\b[ \t]*\S[^\n]*\n", re.IGNORECASE)
_STRICT_RE = re.compile(r"^Therefore, the answer is (?P<ans>-?\d+(?:\.\d+)?|True|False)\.$")

_MINUS = dict.fromkeys(map(ord, "\u2212\u2013\u2012\u2014\ufe63\uff0d"), "-")
_SYMBOL_RE = re.compile(r"[$€£¥₹]")
_CURRENCY_RE = re.compile(r"\b(?:usd|us|rmb|inr|eur|gbp|rs)\b\.?")
_PERCENT_RE = re.compile(r"%|\bpercentage points?\b|\bpercent(?:age)?\b|\bpp\b")
_SCALE_RE = re.compile(r"(?<=[\d\s])(?:thousands?|millions?|billions?|trillions?|mn|bn|k|m)\b")
_SCI_RE = re.compile(
    r"(?P<m>[+-]?(?:\d+\.?\d*|\.\d+))\s*(?:\\times|\\cdot|x|×|\*)\s*10\s*(?:\^|\*\*)\s*\{?\s*(?P<e>[+-]?\d+)\s*\}?")
_TOKEN_RE = re.compile(r"[+-]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:e[+-]?\d+)?")
_GROUPED_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[+-]?\d+)?$|^[+-]?\.\d+(?:e[+-]?\d+)?$")
_TRUE, _FALSE = {"true", "yes"}, {"false", "no"}


def normalise(text: Any) -> float | bool | None:
    """The value an answer text gives (see the module docstring), or ``None``."""
    if text is None:
        return None
    s = str(text).translate(_MINUS).strip().lower()
    s = s.replace("**", "").replace("`", "").replace("\\$", "$").replace("\\%", "%")
    for sep in ("=", "≈"):
        if sep in s:
            s = s.split(sep)[-1]
    s = s.strip().rstrip(".").strip()
    s = re.sub(r"\b(?:approximately|approx\.?|about|around|roughly)\b|~", " ", s)
    if " or " in s:
        s = s.split(" or ")[0]
    words = set(re.findall(r"[a-z]+", s))
    if s.strip(" .!\"'") in _TRUE:
        return True
    if s.strip(" .!\"'") in _FALSE:
        return False
    if not re.search(r"\d", s):
        has_t, has_f = "true" in words, "false" in words
        if has_t != has_f:
            return has_t
        return None
    s = _SYMBOL_RE.sub("", s)
    s = _CURRENCY_RE.sub(" ", s)
    s = _PERCENT_RE.sub(" ", s)
    s = _SCALE_RE.sub(" ", s)
    m = _SCI_RE.search(s)
    if m and not _TOKEN_RE.search(s[:m.start()] + " " + s[m.end():]):
        return _finite(float(m.group("m")) * 10.0 ** int(m.group("e")))
    tokens = _TOKEN_RE.findall(s)
    if len(tokens) != 1:
        return None
    tok = tokens[0].rstrip(",")
    if not _GROUPED_RE.match(tok):
        return None
    return _finite(float(tok.replace(",", "")))


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def answer_text(output: str) -> str | None:
    """The text of the output's last final line after ``the answer is``, or ``None``."""
    found = _ANSWER_RE.findall(output or "")
    if not found:
        return None
    return found[-1].strip() or None


def extract_prediction(output: str) -> float | bool | None:
    """The value the output's last final line gives, or ``None``."""
    return normalise(answer_text(output))


def matches(pred: Any, gold: Any, rel_tol: float = 0.002) -> bool:
    """The official comparison: booleans by equality (booleans only, deviation 4), numbers
    when ``gold - eps <= pred <= gold + eps`` with ``eps = rel_tol * |gold|``."""
    if pred is None:
        return False
    if isinstance(gold, bool) or isinstance(pred, bool):
        return isinstance(gold, bool) and isinstance(pred, bool) and pred == gold
    gold, pred = float(gold), float(pred)
    eps = abs(gold) * rel_tol
    return gold - eps <= pred <= gold + eps


def format_answer(value: float | bool, decimals: int | None = None) -> str:
    """An answer as the final line writes it: ``True``/``False``, or a plain decimal
    (``decimals`` digits when given, else the shortest repr, no exponent)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if decimals is not None:
        s = f"{value:.{decimals}f}"
    else:
        s = repr(float(value))
        if "e" in s or "E" in s:
            s = f"{value:.10f}".rstrip("0").rstrip(".")
        elif s.endswith(".0"):
            s = s[:-2]
    if re.fullmatch(r"-0(?:\.0*)?", s):
        s = s[1:]
    return s


# ----------------------------------------------------------------------------- the pack's rows

_SOURCE_RE = re.compile(r"^(?P<name>.+?)-(?:test|validation|dev|train)-\d+$")


def source_group(source: str) -> str:
    """The dataset an item comes from: ``CodeTAT-QA-test-8`` -> ``CodeTAT-QA``."""
    s = str(source or "").strip()
    m = _SOURCE_RE.match(s)
    return m.group("name") if m else (s or "all")


def render_context(context: Any) -> str:
    """The context as the student reads it: FinanceMath's list of Markdown tables as the
    tables (``[]`` is none), anything else as written."""
    s = str(context or "").replace("\r\n", "\n").strip()
    if s.startswith("[") and s.endswith("]"):
        try:
            parsed = ast.literal_eval(s)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return s
        if isinstance(parsed, list) and all(isinstance(t, str) for t in parsed):
            return "\n\n".join(t.strip() for t in parsed if t.strip())
    return s


def format_input(question: Any, context: Any) -> str:
    """The ``input`` a student sees: the context (when there is one), a blank line, the question."""
    q = str(question or "").replace("\r\n", "\n").strip()
    ctx = render_context(context)
    return f"{ctx}\n\nQuestion: {q}" if ctx else f"Question: {q}"


def gold_value(value: Any) -> float | bool:
    """A row's ``ground_truth``: a JSON number or true/false, or the same written as
    plain text (a CSV cell: ``"12.5"``, ``"-3"``, ``"True"``); nothing else is
    normalised, so a gold with a unit or a thousands comma is an error to fix in the file."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and text.lower().lstrip("+-") not in ("inf", "infinity", "nan"):
            return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", text) else number
    elif isinstance(value, bool):
        return value
    elif isinstance(value, (int, float)) and math.isfinite(value):
        return value
    raise ValueError(f"field 'ground_truth' must be a number or true/false, got {value!r}")


# ----------------------------------------------------------------------------- teacher documents

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "numeric_tolerance problem",
    "type": "object",
    "properties": {
        "problem": {"type": "string", "minLength": 10},
        "solution": {"type": "string", "minLength": 10},
        "answer": {"type": ["number", "boolean"]},
    },
    "required": ["problem", "solution", "answer"],
    "additionalProperties": False,
}
"""The JSON document a teacher returns for one problem (``title`` keeps it distinct from
every other task's schema: :func:`~data_agent.tasks.task_for_schema` matches by equality)."""


@register
class NumericTolerance(Task):
    """FinanceReasoning: a number within ``rel_tol`` (0.2%) of the gold, or True/False."""

    kind = "numeric_tolerance"
    problem_schema = PROBLEM_SCHEMA
    settings_schema = {"rel_tol": (int, float)}
    row_fields: ClassVar[dict[str, str]] = {
        # The student's input is built from two row fields: "question" and "context"
        # (format_input: the context, a blank line, "Question: " and the question).
        "id": "id", "problem": "question", "context": "context", "answer": "ground_truth",
        "solution": "solution", "source": "source",
    }
    """Logical names -> the pack row's field names (the benchmark's)."""
    format_validator = "answer_line"
    missing_answer = "answer: no final answer line"
    default_limits = {"input": 8_000, "output": 16_000}
    answer_rule = (f"whose last line is exactly: {FINAL_LINE % '<answer>'}  where <answer> is a plain number "
                   "rounded as the problem asks (no units, no % sign, no thousands commas, e.g. 12.35 or -4052), "
                   "or True or False for a yes/no question")
    answer_rule_short = (f"whose last line is exactly: {FINAL_LINE % '<answer>'}  with a plain number (no units, "
                         "no commas) or True/False")
    answer_kind = "numeric answers"
    answer_kind_one = "a single numeric answer"
    own_details = "with numbers of your own"
    fields_doc = (
        "- \"problem\": a self-contained finance question that gives every figure needed (a short scenario or a "
        "small table in the text) and says how to round the answer (e.g. \"Answer to two decimal places.\"); "
        "it must not reveal the answer.\n"
        f"- \"solution\": a concise worked solution (formulas with the numbers substituted) {answer_rule}.\n"
        "- \"answer\": the same value as in the final line, as a JSON number (or true/false).")
    fields_brief = (
        "Fields: \"problem\" (the question with every figure needed and the rounding asked for), \"solution\" "
        f"(concise worked steps {answer_rule_short}) and \"answer\" (the final value, as a JSON number or "
        "true/false).")
    reply_shape = '{"problem": ..., "solution": ..., "answer": ...}'
    compact_fields = "Give the question with its figures, short solution steps that compute the answer, then the answer."
    format_examples = (
        {"problem": "Question: A deposit of $2,000 earns 5% interest a year, compounded annually. What is it worth "
                    "after 3 years? Answer to two decimal places.",
         "solution": "FV = 2000 x 1.05^3 = 2000 x 1.157625 = 2315.25.", "answer": "2315.25"},
        {"problem": "Question: Revenue rose from 80 to 92 (in millions). What is the growth rate as a percentage? "
                    "Answer to one decimal place.",
         "solution": "Growth = (92 - 80) / 80 = 0.15, that is 15.0%.", "answer": "15.0"},
    )

    @property
    def rule_summary(self) -> str:
        return (f"last 'Therefore, the answer is' value within {100 * self.rel_tol:g}% of the gold (gold 0 exactly), "
                "or True/False")

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        if not 0 <= self.rel_tol < 1:
            raise TaskError(f"task {self.kind!r}: setting 'rel_tol' must be in [0, 1), got {self.rel_tol!r}")

    @property
    def rel_tol(self) -> float:
        return float(self.settings.get("rel_tol", 0.002))

    # answer text
    def final_line(self, answer_text: str) -> str:
        return FINAL_LINE % answer_text

    def finished(self, output: str) -> bool:
        return bool(_DONE_RE.search(output or ""))

    # pack rows
    def item(self, row: Mapping[str, Any]) -> EvalItem:
        question = row["question"]
        if not isinstance(question, str) or not question.strip():
            raise ValueError("field 'question' must be a non-empty string")
        return EvalItem(id=str(row["id"]), source=source_group(row.get("source", "")),
                        input=format_input(question, row.get("context", "")), gold=gold_value(row["ground_truth"]),
                        info={"level": str(row.get("level") or "")}, raw=dict(row))

    def seed_view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        answer = row.get("ground_truth", "")
        return {"id": str(row.get("id", "")), "source": source_group(row.get("source", "")),
                "problem": format_input(row.get("question", ""), row.get("context", "")),
                "solution": str(row.get("solution") or ""),
                "answer": format_answer(answer) if isinstance(answer, (bool, int, float)) else str(answer)}

    # teacher documents
    def check_document(self, doc: Mapping[str, Any]) -> str:
        a = doc["answer"]
        if isinstance(a, bool):
            return ""
        return "" if isinstance(a, (int, float)) and math.isfinite(a) else "answer is not a finite number"

    def record_fields(self, doc: Mapping[str, Any]) -> tuple[str, str, Any]:
        a = doc["answer"]
        return doc["problem"].strip(), doc["solution"].strip(), a if isinstance(a, bool) else float(a)

    def example_document(self, view: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
        """The seed's solution without its own answer line, cut to ``max_chars``, then
        the final line on a line of its own."""
        raw = str(view.get("answer", "")).strip()
        value = normalise(raw)
        steps = [ln for ln in str(view.get("solution") or "").split("\n") if not _ANSWER_RE.search(ln)]
        return {"problem": " ".join(clip(view.get("problem"), max_chars).split()),
                "solution": clip("\n".join(steps), max_chars) + "\n" + self.final_line(raw),
                "answer": value if value is not None else raw}

    # scoring
    def extract(self, output: str) -> float | bool | None:
        return extract_prediction(output)

    def has_answer_line(self, output: str) -> bool:
        return bool(_ANSWER_RE.search(output or ""))

    def is_correct(self, output: str, item: EvalItem) -> bool:
        return matches(self.extract(output), item.gold, self.rel_tol)

    def classify(self, output: str, item: EvalItem) -> str | None:
        failure = super().classify(output, item)
        if failure != "wrong_value":
            return failure
        pred, gold = self.extract(output), item.gold
        if isinstance(pred, bool) or isinstance(gold, bool):
            return "wrong_value"
        pred, gold = float(pred), float(gold)
        if pred != 0 and gold != 0 and (abs(pred / gold) >= 10 or abs(pred / gold) <= 0.1):
            return "wrong_magnitude"
        if matches(pred, gold, 5 * self.rel_tol):
            return "close"
        return "wrong_value"

    # validators
    verification = "computation"

    def read_value(self, text: Any) -> Any:
        v = super().read_value(text)
        if isinstance(v, bool):
            return v
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        return float(v)

    def value_agrees(self, value: Any, known: Any) -> bool:
        """The official rule, with the stated answer as the gold."""
        value = self.read_value(value)
        return value is not None and matches(value, known, self.rel_tol)

    def answers_agree(self, given: Any, known: Any) -> bool:
        if isinstance(given, bool) or isinstance(known, bool):
            return isinstance(given, bool) and isinstance(known, bool) and given == known
        return math.isclose(float(given), float(known), rel_tol=1e-9, abs_tol=1e-9)

    def final_line_error(self, output: str) -> str:
        lines = [ln.strip() for ln in (output or "").strip().split("\n") if ln.strip()]
        if not lines or not lines[-1].startswith(MARKER):
            return f"output does not end with a '{FINAL_LINE % '...'}' line"
        if not _STRICT_RE.match(lines[-1]):
            return (f"final line {lines[-1][:80]!r} is not '{FINAL_LINE % '<number>'}' with a plain number "
                    "(no units, commas or %) or True/False")
        if sum(bool(_ANSWER_RE.search(ln)) for ln in lines) > 1:
            return "more than one 'the answer is' line"
        return ""
