"""The numeric_tolerance task (FinanceReasoning's rule): an edge-case table of outputs and golds."""

from __future__ import annotations

import pytest

from data_agent.records import EvalItem, Record
from data_agent.tasks import TaskError, get_task, task_for_schema
from data_agent.tasks.numeric_tolerance import (PROBLEM_SCHEMA, NumericTolerance, format_answer, format_input,
                                                matches, normalise, render_context, source_group)

TASK = get_task("numeric_tolerance")


def item(gold, src="CodeFinQA-test-1"):
    return EvalItem(id="x", source=source_group(src), input="q", gold=gold)


def out(answer: str) -> str:
    return f"Step 1: compute.\nTherefore, the answer is {answer}"


# (answer text on the final line, gold, correct?)
CASES = [
    ("12.5%", 12.5, True),                      # % dropped: percent golds are in percent
    ("0.125", 12.5, False),                     # ... so the fraction is wrong
    ("$1,234.56.", 1234.56, True),              # currency symbol, thousands comma, final period
    ("-$1,234.56", -1234.56, True),             # a minus before the currency symbol stays
    ("€ 99", 99, True), ("£99", 99, True), ("¥99", 99, True), ("₹99", 99, True),
    ("USD 2,000", 2000, True),
    ("1,234,567", 1234567, True),
    ("1,234", 1, False),                        # the official eval reads (1, 234) -> 1; we read 1234
    ("1,23", 123, False),                       # badly grouped: no answer
    ("5 million", 5, True),                     # scale words dropped: the gold is in the question's unit
    ("5 million", 5e6, False),
    ("$3.2bn", 3.2, True), ("12k", 12, True), ("4.5 m", 4.5, True), ("7 thousand", 7, True),
    ("x = 3 = 22.5", 22.5, True),               # the value after the last '='
    ("NPV ≈ 10.4", 10.4, True),
    ("-4052", -4052, True),
    ("\u22124052", -4052, True),                # Unicode minus
    ("(27)", 27, True),                         # parentheses: the number itself, as the official eval
    ("(27)", -27, False),
    ("1.5e6", 1500000, True), ("1.5 x 10^6", 1.5e6, True), ("1.5 × 10^6", 1.5e6, True),
    ("1.5 \\times 10^{6}", 1.5e6, True), ("2.5E-3", 0.0025, True),
    ("approximately 12.5 dollars per share", 12.5, True),
    ("12 or 13", 12, True),
    ("12 to 13", 12, False),                    # two numbers: no answer
    ("3/4", 0.75, False),                       # no arithmetic
    ("**42**", 42, True),
    ("True.", True, True), ("true", True, True), ("yes", True, True), ("False", False, True),
    ("no", False, True), ("False", True, False), ("yes", False, False),
    ("the lease is a capital lease: true", True, True),
    ("1", True, False), ("True", 1, False),    # booleans match booleans only
    ("0", 0, True), ("0.0", 0, True), ("-0", 0, True),
    ("0.0001", 0, False),                       # gold 0 needs exactly 0
    ("none", 5, False), ("", 5, False),
]


@pytest.mark.parametrize("answer,gold,correct", CASES)
def test_edge_cases(answer, gold, correct):
    assert TASK.is_correct(out(answer), item(gold)) is correct, (answer, gold, TASK.extract(out(answer)))


@pytest.mark.parametrize("gold", [100.0, 12.345, -8.0, 2500000.0, 0.0123])
def test_tolerance_boundary_is_0_002(gold):
    """1.0019 x gold passes and 1.0021 x gold fails: fails under rel_tol 0.003 or 0.001."""
    for factor, ok in ((1.0019, True), (0.9981, True), (1.0021, False), (0.9979, False), (1.0, True)):
        pred = gold * factor
        assert TASK.is_correct(out(repr(pred)), item(gold)) is ok, (gold, factor)
    assert matches(100.2, 100.0) and matches(99.8, 100.0)          # the boundary itself is inside
    assert not matches(100.2000001, 100.0) and not matches(99.7999999, 100.0)


def test_rel_tol_is_a_pack_setting():
    loose = get_task("numeric_tolerance", {"kind": "numeric_tolerance", "rel_tol": 0.01})
    assert loose.is_correct(out("100.9"), item(100)) and not TASK.is_correct(out("100.9"), item(100))
    with pytest.raises(TaskError, match="rel_tol"):
        get_task("numeric_tolerance", {"rel_tol": 2})
    with pytest.raises(TaskError, match="rel_tol"):
        get_task("numeric_tolerance", {"rel_tol": "0.1"})


def test_missing_and_several_answer_lines():
    assert TASK.extract("The NPV is 12.5 dollars.") is None
    assert TASK.classify("The NPV is 12.5 dollars.", item(12.5)) == "no_answer"
    assert TASK.classify(out("a lot"), item(12.5)) == "unparsable"
    two = "Therefore, the answer is 10.\nWait, I made an error.\nTherefore, the answer is 12.5."
    assert TASK.extract(two) == 12.5 and TASK.is_correct(two, item(12.5))
    assert "more than one" in TASK.final_line_error(two)
    assert TASK.extract("so the answer is 7 and\nthen the answer is 9") == 9


def test_failure_classes():
    assert TASK.classify(out("1250"), item(12.5)) == "wrong_magnitude"
    assert TASK.classify(out("12.6"), item(12.5)) == "close"
    assert TASK.classify(out("14"), item(12.5)) == "wrong_value"
    assert TASK.classify(out("12.5"), item(12.5)) is None


def test_final_line_and_finished_agree():
    line = TASK.final_line("12.35")
    assert line == "Therefore, the answer is 12.35."
    assert TASK.final_line_error("Work.\n" + line) == ""
    assert TASK.final_line_error("Work.\n" + TASK.final_line("True")) == ""
    for bad in ("Work.\nTherefore, the answer is $12.35.", "Work.\nTherefore, the answer is 12.35%.",
                "Work.\nTherefore, the answer is 1,235.", "Work.\nTherefore, the answer is 12.35",
                "Work.\nThe answer is 12.35.", line + "\nMore text."):
        assert TASK.final_line_error(bad), bad
    assert not TASK.finished("Therefore, the answer is 12.")  # may still be 12.5: wait for the line's end
    assert TASK.finished("Therefore, the answer is 12.5.\n")
    assert not TASK.finished("Step 1: the rate is 5%.\n")


def test_format_answer():
    assert format_answer(True) == "True" and format_answer(False) == "False"
    assert format_answer(12.5, 2) == "12.50" and format_answer(-0.001, 2) == "0.00"
    assert format_answer(1152) == "1152" and format_answer(0.01) == "0.01" and format_answer(1e-7) == "0.0000001"
    for v in (12.5, -3.25, 1152, 0.01):
        assert normalise(format_answer(v)) == v


def test_rows_and_inputs():
    row = {"id": "fr-test-0", "question": "What is X? Answer to two decimal places.", "context": "['| a |\\n| 1 |']",
           "ground_truth": 0.01, "source": "FinanceMath-validation-12", "level": "medium"}
    it = TASK.item(row)
    assert it.source == "FinanceMath" and it.gold == 0.01 and it.info == {"level": "medium"}
    assert it.input == "| a |\n| 1 |\n\nQuestion: What is X? Answer to two decimal places."
    assert render_context("[]") == "" and format_input("Q?", "[]") == "Question: Q?"
    assert format_input("Q?", "A table.") == "A table.\n\nQuestion: Q?"
    assert source_group("CodeTAT-QA-test-8") == "CodeTAT-QA" and source_group("FinCode") == "FinCode"
    # a gold written as text (a CSV cell) is read as the number or boolean it spells, nothing looser
    assert TASK.item({**row, "ground_truth": "12"}).gold == 12 and TASK.item({**row, "ground_truth": " -0.5 "}).gold == -0.5
    assert TASK.item({**row, "ground_truth": "False"}).gold is False
    for bad in ("12 USD", "1,234", "nan", "inf", "", "twelve"):
        with pytest.raises(ValueError, match="ground_truth"):
            TASK.item({**row, "ground_truth": bad})
    with pytest.raises(KeyError):
        TASK.item({k: v for k, v in row.items() if k != "ground_truth"})
    assert TASK.item({**row, "ground_truth": True}).gold is True


def test_schema_is_its_own_and_documents_become_records():
    assert task_for_schema(PROBLEM_SCHEMA).kind == "numeric_tolerance"
    assert isinstance(task_for_schema(PROBLEM_SCHEMA), NumericTolerance)
    doc = {"problem": "A bond pays 5% ... What is its price? Answer to two decimal places.",
           "solution": "Price = 1000.\n" + TASK.final_line("1000.00"), "answer": 1000}
    assert TASK.check_document(doc) == "" and TASK.check_document({**doc, "answer": float("nan")})
    inp, output, known = TASK.record_fields(doc)
    rec = Record(id="r", instruction="i", input=inp, output=output, answer=known)
    verdicts = [v.check(rec) for v in TASK.validators()]
    assert all(v.ok for v in verdicts), verdicts
    wrong = Record(id="r", instruction="i", input=inp, output=output, answer=999.0)
    assert not TASK.validators()[1].check(wrong).ok
    b = Record(id="b", instruction="i", input=inp, output="Yes.\n" + TASK.final_line("True"), answer=True)
    assert all(v.check(b).ok for v in TASK.validators())
    assert not TASK.validators()[1].check(Record(id="b", instruction="i", input=inp,
                                                 output="Yes.\n" + TASK.final_line("True"), answer=1.0)).ok
