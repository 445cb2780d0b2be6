"""``exact_match``: a short text answer on a final ``Final answer: ...`` line.

The rule (for packs of short-answer questions, e.g. an entity, a label or a
word): the prediction is the text after the last ``Final answer:`` of the
output, up to the end of that line. It is correct when, after normalisation,
it equals the gold answer or one of the gold answers (a pack row's ``answer``
may be a string or a list of accepted strings). Normalisation: Unicode NFKC,
case-folding, surrounding quotes and a trailing period removed, runs of
whitespace collapsed. Nothing else is forgiven: no partial credit, no
substring match.

Pack rows: ``{"id", "source" (optional), "input", "answer"}``; seed rows add a
``solution``. Teachers return ``{"problem", "solution", "answer"}`` where the
solution ends with the final line.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from ..records import EvalItem
from .base import Task, clip, expressions_equivalent, register

MARKER = "Final answer:"
_LINE_RE = re.compile(r"Final answer:[ \t]*([^\n]*)")
_DONE_RE = re.compile(r"Final answer:[ \t]*\S[^\n]*\n")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "problem": {"type": "string", "minLength": 5},
        "solution": {"type": "string", "minLength": 5},
        "answer": {"type": "string", "minLength": 1},
    },
    "required": ["problem", "solution", "answer"],
    "additionalProperties": False,
}


def normalise(text: Any) -> str:
    """The comparison form of an answer (see the module docstring): quotes and a
    trailing period come off in either order (``"Ottawa."`` and ``"Ottawa".``)."""
    s = " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())
    while True:
        t = s.rstrip(".").strip()
        if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'`":
            t = t[1:-1].strip()
        if t == s:
            return s
        s = t


@register
class ExactMatch(Task):
    """A short answer compared exactly after light normalisation."""

    kind = "exact_match"
    problem_schema = PROBLEM_SCHEMA
    answer_rule = f"whose last line is exactly: {MARKER} <the answer>  (the answer alone, on one line)"
    answer_rule_short = answer_rule
    answer_kind = "short answers"
    answer_kind_one = "a single short answer"
    fields_doc = ("- \"problem\": a self-contained question that gives everything needed; it must not reveal the "
                  "answer.\n"
                  f"- \"solution\": a concise reasoning {answer_rule}.\n"
                  "- \"answer\": the same answer as in the final line, as a JSON string.")
    fields_brief = (f"Fields: \"problem\" (the question), \"solution\" (concise reasoning {answer_rule_short}) and "
                    "\"answer\" (the final answer, as a JSON string).")
    reply_shape = '{"problem": ..., "solution": ..., "answer": ...}'
    compact_fields = "Give the question, a short reasoning, then the answer."
    row_fields = {"id": "id", "source": "source", "problem": "input", "answer": "answer", "solution": "solution"}
    format_examples = (
        {"problem": "Which planet of the solar system is known as the Red Planet?",
         "solution": "Iron oxide dust on its surface gives the fourth planet from the Sun its red colour.",
         "answer": "Mars"},
        {"problem": "What is the chemical formula of table salt?",
         "solution": "Table salt is sodium chloride: one sodium ion for each chloride ion.", "answer": "NaCl"},
    )

    @property
    def rule_summary(self) -> str:
        return "last 'Final answer:' line equals a gold text (case, quotes, final period ignored)"

    # answer text
    def final_line(self, answer_text: str) -> str:
        return f"{MARKER} {answer_text}"

    def finished(self, output: str) -> bool:
        return bool(_DONE_RE.search(output or ""))

    # pack rows
    def item(self, row: Mapping[str, Any]) -> EvalItem:
        gold = row["answer"]
        golds = gold if isinstance(gold, list) else [gold]
        if not golds or not all(isinstance(g, str) and g.strip() for g in golds):
            raise ValueError("field 'answer' must be a non-empty string or a list of them")
        return EvalItem(id=str(row["id"]), source=str(row.get("source") or "all").strip(), input=str(row["input"]),
                        gold=gold, raw=dict(row))

    def seed_view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        answer = row.get("answer", "")
        return {"id": str(row.get("id", "")), "source": str(row.get("source") or "all").strip(),
                "problem": str(row.get("input") or ""), "solution": str(row.get("solution") or ""),
                "answer": answer[0] if isinstance(answer, list) and answer else str(answer)}

    # teacher documents
    def check_document(self, doc: Mapping[str, Any]) -> str:
        a = str(doc["answer"])
        if not a.strip():
            return "answer is blank"
        if "\n" in a.strip():
            return "answer spans several lines"
        return ""

    def record_fields(self, doc: Mapping[str, Any]) -> tuple[str, str, Any]:
        return doc["problem"].strip(), doc["solution"].strip(), doc["answer"].strip()

    def example_document(self, view: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
        """The seed's solution without its own answer line, cut to ``max_chars``,
        then the final line on a line of its own (as :meth:`final_line_error` wants)."""
        answer = str(view.get("answer", "")).strip()
        steps = [ln for ln in str(view.get("solution") or "").split("\n") if MARKER not in ln]
        return {"problem": " ".join(clip(view.get("problem"), max_chars).split()),
                "solution": clip("\n".join(steps), max_chars) + "\n" + self.final_line(answer),
                "answer": answer}

    # scoring
    def extract(self, output: str) -> str | None:
        found = _LINE_RE.findall(output or "")
        if not found:
            return None
        ans = found[-1].strip()
        return ans or None

    def has_answer_line(self, output: str) -> bool:
        return MARKER in (output or "")

    def is_correct(self, output: str, item: EvalItem) -> bool:
        pred = self.extract(output)
        if pred is None:
            return False
        golds = item.gold if isinstance(item.gold, list) else [item.gold]
        return normalise(pred) in {normalise(g) for g in golds}

    # validators
    verification = "computation"

    def value_agrees(self, value: Any, known: Any) -> bool:
        """Equal after the scorer's normalisation, or the same value or
        expression by math-verify (``0.5`` and ``\\frac{1}{2}``)."""
        if value is None:
            return False
        text = f"{value:.12g}" if isinstance(value, float) else str(value)
        return self.answers_agree(text, known) or expressions_equivalent(known, text)

    def answers_agree(self, given: Any, known: Any) -> bool:
        return normalise(given) == normalise(known)

    def final_line_error(self, output: str) -> str:
        lines = [ln for ln in (output or "").strip().split("\n") if ln.strip()]
        if not lines or not lines[-1].strip().startswith(MARKER):
            return f"output does not end with a '{MARKER} ...' line"
        if not lines[-1].strip()[len(MARKER):].strip():
            return "the final line gives no answer"
        if sum(MARKER in ln for ln in lines) > 1:
            return f"more than one '{MARKER}' line"
        return ""
