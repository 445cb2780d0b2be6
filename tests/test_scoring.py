"""The scorer against SciBench's official rule (eval/eval_zero.py) on edge cases."""

import math

import pytest

from data_agent.stats import bootstrap_ci, paired_gain
from data_agent.tasks.boxed_numeric import (
    extract_prediction,
    format_answer,
    is_correct,
    last_boxed,
    normalise_number,
    parse_number,
    strict_format_ok,
    unit_power,
)


def official_equiv(model_output: str, answer: str) -> bool:
    """SciBench's equiv(): strip commas, isclose(rel_tol=0.05) on the whole or the first token."""
    model_output = model_output.replace(",", "")
    try:
        first = math.isclose(float(model_output.strip()), float(answer.strip()), rel_tol=0.05)
    except Exception:
        first = False
    try:
        second = math.isclose(float(model_output.strip().split()[0]), float(answer.strip()), rel_tol=0.05)
    except Exception:
        second = False
    return first or second


# (model output, gold answer_number, unit, expected verdict, what the case is about)
CASES = [
    ("The answer is therefore \\boxed{50.700}.", "50.7", "atm", True, "plain"),
    ("The answer is therefore \\boxed{53.2}.", "50.7", "atm", True, "within 5%"),
    ("The answer is therefore \\boxed{54.0}.", "50.7", "atm", False, "outside 5%"),
    ("\\boxed{89,034.790}", "89,034.79", "$", True, "thousands commas in both"),
    ("\\boxed{89034.79}", "89,034.79", "$", True, "comma only in gold"),
    ("\\boxed{-2.000}", "\u22122", "", True, "Unicode minus in gold"),
    ("\\boxed{\u22121.643}", "\u22121.642876", "", True, "Unicode minus in prediction"),
    ("\\boxed{65.490}", "+65.49", "kJ", True, "leading + in gold"),
    ("\\boxed{+65.490}", "+65.49", "kJ", True, "leading + in both"),
    ("\\boxed{-65.490}", "+65.49", "kJ", False, "sign matters"),
    ("\\boxed{2.000}", "2", "$10^6$ m", True, "scaled unit: answer in the scaled unit"),
    ("\\boxed{2 \\times 10^{6}}", "2", "$10^6$ m", True, "scaled unit: answer written out"),
    ("\\boxed{2000000}", "2", "$10^6$ m", True, "scaled unit: plain full value"),
    ("\\boxed{3.520}", "3.52", "$10^{-19} \\mathrm{~J}$", True, "negative power"),
    ("\\boxed{3.52 \\times 10^{-19}}", "3.52", "$10^{-19} \\mathrm{~J}$", True, "negative power written out"),
    ("\\boxed{3.52 \\times 10^{-18}}", "3.52", "$10^{-19} \\mathrm{~J}$", False, "wrong power"),
    ("\\boxed{\\frac{1}{2}}", "0.5", "", True, "nested braces: fraction"),
    ("\\boxed{{0.500}}", "0.5", "", True, "nested braces: extra group"),
    ("first \\boxed{1.000} then \\boxed{7.000}", "7", "", True, "several boxes: the last counts"),
    ("first \\boxed{7.000} then \\boxed{1.000}", "7", "", False, "several boxes: not the first"),
    ("The answer is 7.", "7", "", False, "no box"),
    ("\\boxed{}", "7", "", False, "empty box"),
    ("\\boxed{7.000 m/s}", "7", "m/s", True, "unit after the number: first token"),
    ("\\boxed{approximately 7}", "7", "", False, "words first"),
    ("\\boxed{1.5e3}", "1500", "", True, "e notation"),
    ("\\boxed{7.000", "7", "", False, "unbalanced box"),
]


@pytest.mark.parametrize("output,gold,unit,expected,why", CASES, ids=[c[4] for c in CASES])
def test_edge_cases(output, gold, unit, expected, why):
    assert is_correct(output, normalise_number(gold), unit) is expected, why


@pytest.mark.parametrize("output,gold,unit,expected,why",
                         [c for c in CASES if "\\times" not in c[0] and "frac" not in c[0] and "{{" not in c[0]
                          and "\u2212" not in c[0] + c[1] and "," not in c[1] and "+65.490}" not in c[0] and "10^" not in c[2]],
                         ids=lambda x: x if isinstance(x, str) and len(x) < 40 else None)
def test_agrees_with_official_rule_where_it_applies(output, gold, unit, expected, why):
    """Where the official rule can parse both sides, we give the same verdict."""
    boxed = last_boxed(output)
    official = boxed is not None and official_equiv(boxed, gold)
    assert is_correct(output, normalise_number(gold), unit) is official


def test_last_boxed_balanced():
    assert last_boxed("x \\boxed{\\frac{a}{b}} y") == "\\frac{a}{b}"
    assert last_boxed("\\boxed{1} \\boxed{2}") == "2"
    # the last box decides: when it never closes there is no answer, not the earlier box
    assert last_boxed("\\boxed{1} \\boxed{2") is None
    assert last_boxed("\\boxed{1} \\boxed {2}") is None
    assert last_boxed("nothing") is None


def test_parse_number_forms():
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("\u22123") == -3
    assert parse_number("+4") == 4
    assert parse_number("6.02 \\times 10^{23}") == pytest.approx(6.02e23)
    assert parse_number("10^{-3}") == pytest.approx(1e-3)
    assert parse_number("3/4") == 0.75
    assert parse_number("-\\frac{3}{4}") == -0.75
    assert parse_number("\\sqrt{4}") == pytest.approx(2.0)
    assert parse_number("abc") is None
    assert parse_number("") is None


def test_unit_power():
    assert unit_power("$10^{-19} \\mathrm{~J}$") == -19
    assert unit_power(" $10^6$ m") == 6
    assert unit_power("$\\mathrm{atm}$") is None


def test_format_answer_and_strict_format():
    assert format_answer(50.7) == "50.700"
    assert format_answer(-0.0001) == "0.000"
    ok, _ = strict_format_ok("Step.\nThe answer is therefore \\boxed{50.700}.")
    assert ok
    assert not strict_format_ok("The answer is therefore \\boxed{50.7}.")[0]
    assert not strict_format_ok("The answer is \\boxed{50.700}.")[0]
    assert not strict_format_ok("The answer is therefore \\boxed{50.700}. More text")[0]


def test_extract_prediction():
    assert extract_prediction("so \\boxed{1,000.250}.") == 1000.25
    assert extract_prediction("no box") is None


def test_bootstrap_and_gain():
    lo, hi = bootstrap_ci([1, 0] * 50)
    assert lo < 0.5 < hi
    g = paired_gain([False] * 100, [True] * 30 + [False] * 70)
    assert g["relative_gain"] is None and g["absolute_gain"] == pytest.approx(0.3)
    assert g["absolute_gain_ci95"][0] > 0
    g2 = paired_gain([True] * 2 + [False] * 8, [True] * 4 + [False] * 6)
    assert g2["relative_gain"] == pytest.approx(1.0)
    assert g2["relative_gain_ci95"] is not None
