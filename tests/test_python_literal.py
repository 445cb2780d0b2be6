"""The python_literal task (CRUXEval output prediction): the answer line, literal comparison, edge cases."""

from __future__ import annotations

import pytest

from data_agent.records import EvalItem, Record
from data_agent.tasks import FAILURE_CLASSES, get_task, task_for_schema
from data_agent.tasks.python_literal import MAX_LITERAL_CHARS, format_problem, parse_literal

TASK = get_task("python_literal")


def _item(gold: str) -> EvalItem:
    return EvalItem(id="x", source="cruxeval", input="...", gold=gold)


def line(text: str) -> str:
    return TASK.final_line(text)


# (output, gold, correct, failure class or None)
RULE_TABLE = [
    # quotes: the same string either way
    (line('"abc"'), "'abc'", True, None),
    (line("'it\\'s'"), '"it\'s"', True, None),
    # dict and set order do not matter
    (line("{2, 1}"), "{1, 2}", True, None),
    (line("{'b': 2, 'a': 1}"), "{'a': 1, 'b': 2}", True, None),
    (line("set()"), "set()", True, None),
    # tuples are not lists (as the official assert sees it)
    (line("[1, 2]"), "(1, 2)", False, "wrong_type"),
    (line("(1, 2)"), "(1, 2)", True, None),
    (line("(1,)"), "(1, )", True, None),
    # Python equality: True == 1 and 1.0 == 1, as the official assert accepts
    (line("True"), "1", True, None),
    (line("1.0"), "1", True, None),
    (line("1e999"), "1e999", True, None),
    # a wrong value of the right type
    (line("[1, 3]"), "[1, 2]", False, "wrong_value"),
    (line("'ABC'"), "'abc'", False, "wrong_value"),
    # nested brackets and markers' look-alikes inside strings
    (line("'[a] (b) {c}'"), "'[a] (b) {c}'", True, None),
    (line("[[1, [2, ('x]', 3)]], {}]"), "[[1, [2, ('x]', 3)]], {}]", True, None),
    # trailing text after the closing marker, prose before the opening one
    (line("42") + " and that is final.", "42", True, None),
    ("The call returns 42, so " + line("42"), "42", True, None),
    # several answer lines: the last wins
    (line("1") + "\nWait, I was wrong.\n" + line("2"), "2", True, None),
    (line("2") + "\nWait, I was wrong.\n" + line("1"), "2", False, "wrong_value"),
    # no marker, an unfinished one, an empty one
    ("The output is 42.", "42", False, "no_answer"),
    ("[ANSWER] 42", "42", False, "no_answer"),
    (line(""), "42", False, "unparsable"),
    # not a literal: never executed
    (line("f(3)"), "9", False, "unparsable"),
    (line("'ab' * 2"), "'abab'", False, "unparsable"),
    (line("float('nan')"), "0.0", False, "unparsable"),
    (line("[1, 2"), "[1, 2]", False, "unparsable"),
    (line("__import__('os').system('true')"), "0", False, "unparsable"),
    # huge and deeply nested inputs are refused, not parsed
    (line("[" + "1, " * (MAX_LITERAL_CHARS // 3 + 10) + "1]"), "[1]", False, "unparsable"),
    (line("[" * 3000 + "]" * 3000), "[]", False, "unparsable"),
    # a degenerate loop without an answer line
    ("f(x) = " + "ab" * 60, "1", False, "looping"),
]


@pytest.mark.parametrize("output, gold, correct, failure", RULE_TABLE)
def test_rule_table(output: str, gold: str, correct: bool, failure: str | None) -> None:
    item = _item(gold)
    assert TASK.is_correct(output, item) is correct
    assert TASK.classify(output, item) == failure
    assert failure is None or failure in FAILURE_CLASSES


def test_extract_returns_the_literal_text_and_json_safe_rows() -> None:
    assert TASK.extract(line("(1, 'a')")) == "(1, 'a')"
    assert TASK.extract("nothing here") is None
    row = TASK.score_row(_item("{1, 2}"), line("{2, 1}"))
    assert row["prediction"] == "{2, 1}" and row["correct"] and row["formatted"] and row["failure"] is None
    import json
    json.dumps(row)  # a set prediction stays text: the evaluation file is JSON


def test_parse_literal_never_raises() -> None:
    for bad in (None, 3, "", "   ", "(" * 100_000, "lambda: 1", "x" * (MAX_LITERAL_CHARS + 1)):
        assert parse_literal(bad) == (False, None)
    assert parse_literal("  [1, (2,)] ") == (True, [1, (2,)])


def test_finished_only_after_a_closed_answer_line() -> None:
    assert not TASK.finished("We call f ... [ANSWER] 'ab")
    assert TASK.finished("We call f ...\n" + line("'ab'"))


def test_final_line_error_for_training_outputs() -> None:
    good = "We call f with 3.\nIt returns 3 * 3 = 9.\n" + line("9")
    assert TASK.final_line_error(good) == ""
    assert "does not end" in TASK.final_line_error(good + "\nThat is all.")
    assert "more than one" in TASK.final_line_error(line("8") + "\n" + good)
    assert "not a Python literal" in TASK.final_line_error("trace\n" + line("f(3)"))
    assert "no answer" in TASK.final_line_error("trace\n" + line(""))
    assert TASK.final_line_error("") == "empty output"


def test_items_documents_and_validators() -> None:
    row = {"id": "sample_9", "code": "def f(x):\n    return x * 2", "input": "[1]", "output": "[1, 1]"}
    item = TASK.item(row)
    assert item.input == "```python\ndef f(x):\n    return x * 2\n```\nWhat is the output of f([1])?"
    assert item.gold == "[1, 1]" and item.source == "cruxeval" and item.id == "sample_9"
    with pytest.raises(ValueError, match="not a Python literal"):
        TASK.item({**row, "output": "f(1)"})
    with pytest.raises(KeyError):
        TASK.item({k: v for k, v in row.items() if k != "code"})
    view = TASK.seed_view({**row, "solution": "It doubles the list.\n" + line("[1, 1]")})
    assert view["problem"] == item.input and view["answer"] == "[1, 1]"
    doc = TASK.example_document(view, 2000)
    assert TASK.final_line_error(doc["solution"]) == ""
    assert TASK.check_document({"problem": item.input, "solution": "s", "answer": "[1, 1]"}) == ""
    assert "not a Python literal" in TASK.check_document({"problem": item.input, "solution": "s", "answer": "f(1)"})
    # the task is found by its schema (the schema differs from every other task's)
    assert type(task_for_schema(TASK.problem_schema)) is type(TASK)
    assert task_for_schema(get_task("exact_match").problem_schema).kind == "exact_match"
    # the answer-agreement validator compares literals, not strings
    fmt, agree = TASK.validators()
    rec = Record(instruction="i", input=item.input, output="trace\n" + line('{"b": 2, "a": 1}'),
                 answer="{'a': 1, 'b': 2}")
    assert fmt.check(rec).ok and agree.check(rec).ok
    rec.answer = "{'a': 1}"
    assert not agree.check(rec).ok
    assert format_problem(" def f(): pass ", " ") == "```python\ndef f(): pass\n```\nWhat is the output of f()?"
