"""``choice``: a multiple-choice question answered with the letter of an option.

The rule: the prediction is the text after the last ``Final answer:`` of the
output, up to the end of that line. It is read as an option letter when it is a
single letter A-Z alone, in either case, optionally in parentheses or brackets
(or with a closing parenthesis only) and optionally followed by a period: ``B``,
``b``, ``(B)``, ``[B]``, ``B)``, ``B.``, ``(b).``. Anything else on that line (``B. Paris``, ``B or C``, ``Paris``) gives
no answer. The output is correct when the letter equals the gold letter. No
partial credit, and the option text is never matched: the letter decides.

Pack rows: ``{"id", "source" (optional), "input", "answer", "options" (optional)}``.

* With ``options`` (a list of 2 to 26 strings) the student sees the question
  followed by one line per option, ``A. <first option>``, ``B. <second>``...; the
  ``answer`` is the gold letter or the exact text of one option.
* Without ``options`` the ``input`` already lists the options, each labelled at
  the start of a line (``A.``, ``A)``, ``(A)``, ``A:``) or inline as ``(A)``; the
  ``answer`` is the gold letter, which must be one of those labels.

Seed rows add a ``solution``. Teachers return ``{"problem", "solution",
"answer"}``: the problem lists its options with such labels, the solution ends
with the final line and the answer is the letter of the correct option.
"""

from __future__ import annotations

import re
import string
from typing import Any, Mapping

from ..records import EvalItem
from .base import Task, clip, register

MARKER = "Final answer:"
LETTERS = string.ascii_uppercase
_LINE_RE = re.compile(r"Final answer:[ \t]*([^\n]*)")
_DONE_RE = re.compile(r"Final answer:[ \t]*\S[^\n]*\n")
_LETTER_RE = re.compile(r"^(?:\(\s*([A-Za-z])\s*\)|\[\s*([A-Za-z])\s*\]|([A-Za-z])\)?)\s*\.?$")
_LABEL_LINE_RE = re.compile(r"^[ \t]*[(\[]?([A-Z])(?:[)\].:]|[)\]][.:])[ \t]+\S", re.MULTILINE)
_LABEL_INLINE_RE = re.compile(r"\(([A-Z])\)[ \t]*\S")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "multiple-choice problem",
    "type": "object",
    "properties": {
        "problem": {"type": "string", "minLength": 10},
        "solution": {"type": "string", "minLength": 5},
        "answer": {"type": "string", "pattern": "^[A-Z]$"},
    },
    "required": ["problem", "solution", "answer"],
    "additionalProperties": False,
}


def read_letter(text: Any) -> str | None:
    """The option letter an answer text gives (upper case), or ``None`` (the
    accepted forms are in the module docstring)."""
    m = _LETTER_RE.match(str(text or "").strip())
    if not m:
        return None
    return next(g for g in m.groups() if g).upper()


def option_labels(text: str) -> set[str]:
    """The option letters a question text labels (``A.``/``A)``/``(A)``/``A:`` at
    the start of a line, or ``(A)`` inline)."""
    return set(_LABEL_LINE_RE.findall(text or "")) | set(_LABEL_INLINE_RE.findall(text or ""))


def with_options(question: str, options: list[str]) -> str:
    """The question followed by one ``<letter>. <option>`` line per option."""
    return str(question).rstrip() + "\n" + "\n".join(f"{LETTERS[i]}. {o.strip()}" for i, o in enumerate(options))


@register
class Choice(Task):
    """A multiple-choice answer: the letter of the right option."""

    kind = "choice"
    problem_schema = PROBLEM_SCHEMA
    answer_rule = (f"whose last line is exactly: {MARKER} <letter>  (the letter of the correct option alone, "
                   "e.g. B)")
    answer_rule_short = answer_rule
    answer_kind = "multiple-choice questions"
    answer_kind_one = "a single correct option"
    own_details = "with a question and options of your own"
    fields_doc = ("- \"problem\": a self-contained question followed by its options, one per line, labelled "
                  "\"A. \", \"B. \", \"C. \"...; exactly one option is correct and the question must not "
                  "reveal which.\n"
                  f"- \"solution\": a concise reasoning {answer_rule}.\n"
                  "- \"answer\": the letter of the correct option, as a JSON string (e.g. \"B\").")
    fields_brief = (f"Fields: \"problem\" (the question with its options labelled A., B., C., ...), \"solution\" "
                    f"(concise reasoning {answer_rule_short}) and \"answer\" (the letter, as a JSON string).")
    reply_shape = '{"problem": ..., "solution": ..., "answer": ...}'
    compact_fields = "Give the question with options A., B., C., a short reasoning, then the letter."
    row_fields = {"id": "id", "source": "source", "problem": "input", "answer": "answer", "solution": "solution",
                  "options": "options"}
    format_examples = (
        {"problem": "Which gas do green plants take in from the air for photosynthesis?\nA. Oxygen\n"
                    "B. Carbon dioxide\nC. Nitrogen\nD. Helium",
         "solution": "Photosynthesis builds sugars from water and carbon dioxide, releasing oxygen.", "answer": "B"},
        {"problem": "How many sides does a hexagon have?\nA. Five\nB. Seven\nC. Six\nD. Eight",
         "solution": "The prefix hexa- means six.", "answer": "C"},
    )

    @property
    def rule_summary(self) -> str:
        return "letter on the last 'Final answer:' line equals the gold letter (case, (), . ignored)"

    # answer text
    def final_line(self, answer_text: str) -> str:
        return f"{MARKER} {answer_text}"

    def finished(self, output: str) -> bool:
        return bool(_DONE_RE.search(output or ""))

    # pack rows
    def _question(self, row: Mapping[str, Any]) -> tuple[str, str]:
        """(the text the student sees, the gold letter) of a row."""
        question = row["input"]
        if not isinstance(question, str) or not question.strip():
            raise ValueError("field 'input' must be a non-empty string")
        answer = row["answer"]
        if not isinstance(answer, str) or not answer.strip():
            raise ValueError("field 'answer' must be a non-empty string (an option letter)")
        options = row.get("options")
        if options is None:
            letter = read_letter(answer)
            if letter is None:
                raise ValueError(f"field 'answer': expected an option letter A-Z, got {answer!r}")
            labels = option_labels(question)
            if letter not in labels:
                found = ", ".join(sorted(labels)) or "none"
                raise ValueError(f"field 'answer': {letter!r} is not an option label of the input "
                                 f"(labels found: {found})")
            return question, letter
        if (not isinstance(options, list) or not 2 <= len(options) <= len(LETTERS)
                or not all(isinstance(o, str) and o.strip() for o in options)):
            raise ValueError("field 'options' must be a list of 2 to 26 non-empty strings")
        texts = [o.strip() for o in options]
        if answer.strip() in texts:
            letter = LETTERS[texts.index(answer.strip())]
        else:
            letter = read_letter(answer)
            if letter is None:
                raise ValueError(f"field 'answer': expected an option letter or the text of an option, got {answer!r}")
            if LETTERS.index(letter) >= len(texts):
                raise ValueError(f"field 'answer': {letter!r} names no option (the row has {len(texts)})")
        return with_options(question, texts), letter

    def item(self, row: Mapping[str, Any]) -> EvalItem:
        text, letter = self._question(row)
        return EvalItem(id=str(row["id"]), source=str(row.get("source") or "all").strip(), input=text, gold=letter,
                        raw=dict(row))

    def seed_view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        text, letter = self._question(row)
        return {"id": str(row.get("id", "")), "source": str(row.get("source") or "all").strip(), "problem": text,
                "solution": str(row.get("solution") or ""), "answer": letter}

    # teacher documents
    def check_document(self, doc: Mapping[str, Any]) -> str:
        letter = read_letter(doc["answer"])
        if letter is None:
            return "answer is not an option letter"
        labels = option_labels(str(doc["problem"]))
        if len(labels) < 2:
            return "the problem does not list labelled options"
        if letter not in labels:
            return f"answer {letter!r} is not one of the problem's options ({', '.join(sorted(labels))})"
        return ""

    def record_fields(self, doc: Mapping[str, Any]) -> tuple[str, str, Any]:
        return doc["problem"].strip(), doc["solution"].strip(), read_letter(doc["answer"])

    def example_document(self, view: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
        """The seed's solution without its own answer line, cut to ``max_chars``,
        then the final line; the problem keeps its option lines."""
        answer = read_letter(view.get("answer")) or str(view.get("answer", "")).strip()
        steps = [ln for ln in str(view.get("solution") or "").split("\n") if MARKER not in ln]
        return {"problem": clip(view.get("problem"), max_chars),
                "solution": clip("\n".join(steps), max_chars) + "\n" + self.final_line(answer),
                "answer": answer}

    # scoring
    def _answer_text(self, output: str) -> str | None:
        found = _LINE_RE.findall(output or "")
        return found[-1].strip() if found else None

    def extract(self, output: str) -> str | None:
        return read_letter(self._answer_text(output))

    def has_answer_line(self, output: str) -> bool:
        return MARKER in (output or "")

    def is_correct(self, output: str, item: EvalItem) -> bool:
        pred = self.extract(output)
        return pred is not None and pred == str(item.gold).upper()

    # validators
    def answers_agree(self, given: Any, known: Any) -> bool:
        return read_letter(given) is not None and read_letter(given) == read_letter(known)

    def final_line_error(self, output: str) -> str:
        lines = [ln for ln in (output or "").strip().split("\n") if ln.strip()]
        if not lines or not lines[-1].strip().startswith(MARKER):
            return f"output does not end with a '{MARKER} <letter>' line"
        if sum(MARKER in ln for ln in lines) > 1:
            return f"more than one '{MARKER}' line"
        if read_letter(lines[-1].strip()[len(MARKER):]) is None:
            return "the final line gives no option letter"
        return ""
