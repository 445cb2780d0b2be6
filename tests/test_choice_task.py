"""The ``choice`` task: the letter on the last ``Final answer:`` line decides."""

from __future__ import annotations

import pytest

from data_agent.records import Record
from data_agent.tasks import get_task, task_for_schema
from data_agent.tasks.choice import option_labels, read_letter

TASK = get_task("choice")
ROW = {"id": "q1", "input": "Which is a prime number?", "options": ["4", "7", "9", "12"], "answer": "B"}


@pytest.mark.parametrize("output, correct", [
    ("7 has no divisors but 1 and itself.\nFinal answer: B", True),
    ("Final answer: b", True),                 # case
    ("Final answer: (B)", True),               # parentheses
    ("Final answer: B.", True),                # a period
    ("Final answer: (b).", True),
    ("Final answer: [B]", True),
    ("Final answer: B)", True),
    ("Final answer:   B  ", True),             # spacing
    ("Final answer: A\nFinal answer: B", True),  # the last line counts
    ("Final answer: B\nFinal answer: A", False),
    ("Final answer: C", False),                # another letter
    ("Final answer: B. 7", False),             # letter and option text: not read
    ("Final answer: 7", False),                # the option text is never matched
    ("Final answer: B or C", False),
    ("Final answer: BC", False),
    ("Final answer:", False),
    ("The answer is B.", False),               # no answer line
    ("The answer is therefore \\boxed{B}.", False),  # another task's format
])
def test_the_letter_rule(output: str, correct: bool) -> None:
    item = TASK.item(ROW)
    assert item.gold == "B"
    assert TASK.is_correct(output, item) is correct, output


def test_rows_with_options_are_shown_with_letters_and_may_give_the_option_text() -> None:
    item = TASK.item({**ROW, "answer": "7"})
    assert item.gold == "B"
    assert item.input == "Which is a prime number?\nA. 4\nB. 7\nC. 9\nD. 12"
    assert TASK.item({**ROW, "answer": "(d)"}).gold == "D"


def test_rows_without_options_must_label_the_gold_letter() -> None:
    row = {"id": "q2", "input": "Pick the largest.\n(A) 3\n(B) 30\n(C) 13", "answer": "b."}
    assert TASK.item(row).gold == "B" and TASK.item(row).input == row["input"]
    assert option_labels("Q?\nA) x\nB: y\nC. z\n(D) w and (E) v") == {"A", "B", "C", "D", "E"}
    with pytest.raises(ValueError, match=r"field 'answer': 'D' is not an option label of the input \(labels found: A, B, C\)"):
        TASK.item({**row, "answer": "D"})


@pytest.mark.parametrize("change, message", [
    ({"answer": "E"}, r"field 'answer': 'E' names no option \(the row has 4\)"),
    ({"answer": "eleven"}, r"field 'answer': expected an option letter or the text of an option"),
    ({"answer": 2}, r"field 'answer' must be a non-empty string"),
    ({"options": ["only one"]}, r"field 'options' must be a list of 2 to 26"),
    ({"options": "4|7"}, r"field 'options' must be a list"),
    ({"input": ""}, r"field 'input' must be a non-empty string"),
])
def test_bad_rows(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TASK.item({**ROW, **change})
    with pytest.raises(KeyError):
        TASK.item({"id": "x", "input": "Q?"})


def test_read_letter() -> None:
    assert [read_letter(s) for s in ("a", " (C) ", "[z].", "B)", "AB", "", None, "1")] == \
        ["A", "C", "Z", "B", None, None, None, None]


def test_teacher_documents_and_validators() -> None:
    assert task_for_schema(TASK.problem_schema) is not None and task_for_schema(TASK.problem_schema).kind == "choice"
    assert task_for_schema(get_task("exact_match").problem_schema).kind == "exact_match"
    doc = {"problem": "Which is even?\nA. 3\nB. 8\nC. 5", "solution": "8 = 2 x 4.\nFinal answer: B", "answer": "B"}
    assert TASK.check_document(doc) == ""
    assert "not one of the problem's options" in TASK.check_document({**doc, "answer": "D"})
    assert "does not list labelled options" in TASK.check_document({**doc, "problem": "Which is even, 3 or 8?"})
    inp, out, known = TASK.record_fields(doc)
    assert known == "B" and TASK.final_line_error(out) == ""
    assert TASK.final_line_error("Because.\nFinal answer: Paris") == "the final line gives no option letter"
    assert "more than one" in TASK.final_line_error("Final answer: A\nFinal answer: B")
    assert "does not end with" in TASK.final_line_error("Final answer: A\nso there")
    fmt, agree = TASK.validators()
    rec = Record(instruction="i", input=inp, output=out, answer="B")
    assert fmt.check(rec).ok and agree.check(rec).ok
    assert not agree.check(Record(instruction="i", input=inp, output=out, answer="C")).ok
    assert TASK.classify("Final answer: maybe", TASK.item(ROW)) == "unparsable"
    assert TASK.classify("no idea", TASK.item(ROW)) == "no_answer"
    assert TASK.classify("Final answer: A", TASK.item(ROW)) == "wrong_value"
    assert TASK.finished("Final answer: B\n") and not TASK.finished("Final answer: ")
