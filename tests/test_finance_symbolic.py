"""The finance template library (data_agent.generators.symbolic.finance).

Every template's answer is recomputed here from ``Problem.params`` (and, where the template
picks a table column or row without a param, from the question's words) with plain float
formulas and scipy's brentq for IRR and yield: nothing from the library's code.
"""

from __future__ import annotations

import asyncio
import json
import math
import re

import jsonschema
import pytest
from scipy.optimize import brentq

from data_agent.generators.symbolic import TEMPLATES as ALL, generate, topics
from data_agent.generators.teachers.symbolic import SymbolicTeacher
from data_agent.generators.teachers.base import TeacherRequest
from data_agent.records import Record
from data_agent.tasks import get_task
from data_agent.tasks.numeric_tolerance import PROBLEM_SCHEMA, matches
from data_agent.validators import InjectionValidator, LengthValidator

TEMPLATES = {n: t for n, t in ALL.items() if t.library.domain == "finance"}
TASK = get_task("numeric_tolerance")
SEEDS = range(4)
COMP = {"semiannually": 2, "quarterly": 4, "monthly": 12}
PRECISION = {"the nearest integer": 0, "one decimal place": 1, "two decimal places": 2, "three decimal places": 3,
             "four decimal places": 4, "five decimal places": 5, "six decimal places": 6}


def _pv(rate, flows):
    return sum(cf / (1 + rate) ** t for t, cf in enumerate(flows, 1))


def _flows(P):
    return [P[f"cf{t}"] for t in range(1, P["n"] + 1)]


def _col(P, text):
    year = int(re.search(r"in (\d{4})\?", text).group(1))
    return 1 if year == P["year1"] else 2


def _bond(face, coupon, y, n, m):
    c = face * coupon / 100 / m
    return sum(c / (1 + y / m) ** t for t in range(1, n * m + 1)) + face / (1 + y / m) ** (n * m)


def ck_future_value(P, d, text):
    r = P["rate"] / 100
    if d == 1:
        return P["pv"] * (1 + r) ** P["n"]
    if d == 2:
        m = COMP[P["compounding"]]
        return P["pv"] * (1 + r / m) ** (m * P["n"])
    return P["pv"] * math.exp(r * P["n"])


def ck_present_value(P, d, text):
    r = P["rate"] / 100
    if d == 1:
        return P["fv"] / (1 + r) ** P["n"]
    if d == 2:
        m = COMP[P["compounding"]]
        return P["fv"] / (1 + r / m) ** (m * P["n"])
    return P["fv"] / (1 + r) ** P["n"] + P["fv2"] / (1 + r) ** P["n2"]


def ck_effective_annual_rate(P, d, text):
    if d == 3:
        return 100 * math.expm1(P["apr"] / 100)
    m = COMP[P["compounding"]]
    return 100 * ((1 + P["apr"] / 100 / m) ** m - 1)


def ck_years_to_target(P, d, text):
    g, r = math.log(P["target"] / P["pv"]), P["rate"] / 100
    if d == 1:
        return g / math.log1p(r)
    if d == 2:
        m = COMP[P["compounding"]]
        return g / (m * math.log1p(r / m))
    return g / r


def ck_net_present_value(P, d, text):
    return _pv(P["rate"] / 100, _flows(P)) - P["cost"]


def ck_internal_rate_of_return(P, d, text):
    return 100 * brentq(lambda x: _pv(x, _flows(P)) - P["cost"], 1e-9, 3, xtol=1e-15, rtol=1e-14)


def ck_profitability_index(P, d, text):
    return _pv(P["rate"] / 100, _flows(P)) / P["cost"]


def ck_payback_period(P, d, text):
    flows = _flows(P)
    if d == 3:
        flows = [cf / (1 + P["rate"] / 100) ** t for t, cf in enumerate(flows, 1)]
    cum = 0.0
    for t, cf in enumerate(flows, 1):
        if cum + cf >= P["cost"]:
            return t - 1 + (P["cost"] - cum) / cf
        cum += cf
    raise AssertionError("never paid back")


def ck_npv_accept_decision(P, d, text):
    return _pv(P["rate"] / 100, _flows(P)) - P["cost"] > 0


def ck_annuity_future_value(P, d, text):
    r, n = P["rate"] / 100, P["n"]
    fv = P["pmt"] * ((1 + r) ** n - 1) / r
    if d >= 2:
        fv *= 1 + r
    if d == 3:
        fv += P["initial"] * (1 + r) ** n
    return fv


def ck_annuity_present_value(P, d, text):
    r, n = P["rate"] / 100, P["n"]
    pv = P["pmt"] * (1 - (1 + r) ** -n) / r
    if d >= 2:
        pv *= 1 + r
    if d == 3:
        pv /= (1 + r) ** P["deferral"]
    return pv


def ck_loan_payment(P, d, text):
    if d == 1:
        i, n = P["rate"] / 100, P["years"]
    else:
        i, n = P["rate"] / 1200, 12 * P["years"]
    principal = P["principal"] + (P["fee"] if d == 3 else 0)
    return principal * i / (1 - (1 + i) ** -n)


def _balance(P, k):
    i = P["rate"] / 1200
    bal = P["principal"]
    for _ in range(k):  # one payment at a time, as an amortisation schedule does
        bal = bal * (1 + i) - P["pmt"]
    return bal


def ck_loan_balance(P, d, text):
    return _balance(P, P["k"])


def ck_loan_interest_portion(P, d, text):
    interest = _balance(P, P["k"] - 1) * P["rate"] / 1200
    return interest if d < 3 else P["pmt"] - interest


def ck_perpetuity_value(P, d, text):
    r = P["rate"] / 100
    if d == 1:
        return P["pmt"] / r
    if d == 2:
        return P["pmt"] / (r - P["g"] / 100)
    return P["d0"] * (1 + P["g"] / 100) / (r - P["g"] / 100)


def ck_bond_price(P, d, text):
    return _bond(P["face"], P["coupon"], P["ytm"] / 100, P["n"], 1 if d == 1 else 2)


def ck_bond_yield_to_maturity(P, d, text):
    m = 1 if d == 1 else 2
    return 100 * brentq(lambda y: _bond(P["face"], P["coupon"], y, P["n"], m) - P["price"], -0.04, 1,
                        xtol=1e-15, rtol=1e-14)


def ck_current_yield(P, d, text):
    return P["face"] * P["coupon"] / P["price"]


def ck_zero_coupon_bond_price(P, d, text):
    y = P["ytm"] / 100
    return {1: P["face"] / (1 + y) ** P["n"], 2: P["face"] / (1 + y / 2) ** (2 * P["n"]),
            3: P["face"] * math.exp(-y * P["n"])}[d]


def ck_bond_duration(P, d, text):
    y, n = P["ytm"] / 100, P["n"]
    cfs = [P["face"] * P["coupon"] / 100 + (P["face"] if t == n else 0) for t in range(1, n + 1)]
    pvs = [cf / (1 + y) ** t for t, cf in enumerate(cfs, 1)]
    mac = sum(t * p for t, p in enumerate(pvs, 1)) / sum(pvs)
    return mac if d < 3 else mac / (1 + y)


def ck_compound_annual_growth_rate(P, d, text):
    assert P["year1"] - P["year0"] == P["n"]
    return 100 * ((P["end"] / P["start"]) ** (1 / P["n"]) - 1)


def ck_holding_period_return(P, d, text):
    hpr = (P["p1"] - P["p0"] + P["div"]) / P["p0"]
    return 100 * hpr if d < 3 else 100 * ((1 + hpr) ** (1 / P["years"]) - 1)


def ck_liquidity_ratio(P, d, text):
    j = _col(P, text)
    cash, rec, inv, cl = (P[f"{k}_{j}"] for k in ("cash", "receivables", "inventory", "current_liabilities"))
    return {1: (cash + rec + inv) / cl, 2: (cash + rec) / cl, 3: cash / cl}[d]


def ck_profit_margin(P, d, text):
    j = _col(P, text)
    rev, cogs, opex, tax = (P[f"{k}_{j}"] for k in ("revenue", "cogs", "opex", "tax"))
    return 100 * {1: rev - cogs, 2: rev - cogs - opex, 3: rev - cogs - opex - tax}[d] / rev


ITEMS = ["net revenue", "interest expense", "research and development", "capital expenditures"]


def ck_percentage_change(P, d, text):
    q = text.split("percentage change in ")[1].split(" from ")[0]
    rows = [i for i, name in enumerate(ITEMS) if name in q]
    old = sum(P[f"item{i}_1"] for i in rows)
    new = sum(P[f"item{i}_2"] for i in rows)
    assert len(rows) == (1 if d < 3 else 2)
    return 100 * (new - old) / old


def ck_return_on_equity(P, d, text):
    ni = P["net_income_2"]
    return 100 * {1: ni / P["equity_2"], 2: ni / ((P["equity_1"] + P["equity_2"]) / 2),
                  3: ni / ((P["assets_1"] + P["assets_2"]) / 2)}[d]


def ck_leverage_ratio(P, d, text):
    j = _col(P, text)
    sd, ld, ol, eq = (P[f"{k}_{j}"] for k in ("short_debt", "long_debt", "other_liab", "equity"))
    return {1: (sd + ld) / eq, 2: (sd + ld + ol) / eq, 3: (sd + ld) / (sd + ld + ol + eq)}[d]


def ck_straight_line_depreciation(P, d, text):
    annual = (P["cost"] - P["salvage"]) / P["life"]
    if d == 2:
        return P["cost"] - P["k"] * annual
    return annual if d == 1 else annual / 12


def ck_declining_balance_depreciation(P, d, text):
    bv = P["cost"]
    for _ in range(P["k"] - 1):
        bv -= bv * 2 / P["life"]
    return bv * 2 / P["life"]


def ck_sum_of_years_digits_depreciation(P, d, text):
    life, k = P["life"], P["k"]
    base, syd = P["cost"] - P["salvage"], sum(range(1, life + 1))
    if d < 3:
        return base * (life - k + 1) / syd
    return base * sum(life - t + 1 for t in range(1, k + 1)) / syd


def ck_weighted_average_cost_of_capital(P, d, text):
    rd = P["rd"] if d == 1 else P["rd"] * (1 - P["tax"] / 100)
    parts = [(P["equity"], P["re"]), (P["debt"], rd)] + ([(P["preferred"], P["rp"])] if d == 3 else [])
    return sum(v * k for v, k in parts) / sum(v for v, _ in parts)


def ck_capm_expected_return(P, d, text):
    if d == 2:
        return P["rf"] + P["beta"] * P["mrp"]
    er = P["rf"] + P["beta"] * (P["rm"] - P["rf"])
    return er if d == 1 else P["actual"] - er


def ck_portfolio_expected_return(P, d, text):
    k = d + 1
    amts, rets = [P[f"amount{i}"] for i in range(k)], [P[f"ret{i}"] for i in range(k)]
    return sum(a * x for a, x in zip(amts, rets)) / sum(amts)


def ck_portfolio_risk(P, d, text):
    w1, w2 = P["w1"] / 100, P["w2"] / 100
    assert math.isclose(w1 + w2, 1)
    var = (w1 * P["sd1"]) ** 2 + (w2 * P["sd2"]) ** 2 + 2 * w1 * w2 * P["rho"] * P["sd1"] * P["sd2"]
    return var if d == 1 else math.sqrt(var)


def ck_option_payoff(P, d, text):
    s, k = P["spot"], P["strike"]
    if d == 3:
        return abs(s - k) - P["premium"] - P["premium2"]
    pay = max(s - k, 0) if P["kind"] == "call" else max(k - s, 0)
    return pay if d == 1 else (pay - P["premium"]) * P["contracts"] * P["contract_size"]


def ck_put_call_parity(P, d, text):
    t = P["months"] / 12
    pv_k = P["strike"] / (1 + P["rate"] / 100) ** t if d == 1 else P["strike"] * math.exp(-P["rate"] / 100 * t)
    if d < 3:
        return P["put"] + P["spot"] - pv_k
    return P["call"] - P["spot"] + pv_k


CHECKERS = {name[3:]: f for name, f in globals().items() if name.startswith("ck_")}


def _decimals(text: str) -> int:
    m = re.search(r"to (the nearest integer|\w+ decimal places?)\.$", text)
    assert m, text
    return PRECISION[m.group(1)]


def test_library_size_and_topics():
    assert len(TEMPLATES) >= 30
    assert set(CHECKERS) == set(TEMPLATES), set(CHECKERS) ^ set(TEMPLATES)
    t = topics("finance")
    assert {"time_value_of_money", "npv_irr", "annuities_amortization", "bonds", "growth_and_returns",
            "financial_ratios", "depreciation", "cost_of_capital", "portfolio", "options"} == set(t)
    sources = {"CodeFinQA", "CodeTAT-QA", "FinanceReasoning", "FinanceMath", "FinCode"}
    assert {s for x in TEMPLATES.values() for s in x.sources} == sources
    assert all(x.library.task_kind == "numeric_tolerance" for x in TEMPLATES.values())


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_answer_matches_independent_computation(name):
    for d in (1, 2, 3):
        for seed in SEEDS:
            p = generate(name, seed, d)
            expected = CHECKERS[name](p.params, d, p.problem)
            if isinstance(expected, bool):
                assert p.answer is expected and p.problem.endswith('Answer "True" or "False".'), (name, d, seed)
                continue
            dp = _decimals(p.problem)
            # the answer is the exact value rounded as the problem asks, and within the 0.2% rule of it
            assert abs(p.answer - expected) <= 0.5 * 10 ** -dp + 1e-9 * max(1, abs(expected)), (name, d, seed, p.answer, expected)
            assert matches(p.answer, expected, 0.001) and matches(expected, p.answer), (name, d, seed, p.answer, expected)
            assert f"{p.answer:.{dp}f}" in p.solution.split("\n")[-1]


_NUMBER_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _numbers(text: str) -> list[float]:
    return [float(m.rstrip(",").replace(",", "")) for m in _NUMBER_RE.findall(text)]


def _numeric(p):
    return {k: v for k, v in p.params.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_printed_numbers_are_the_params(name):
    """Every number in the problem is a param and every numeric param is printed."""
    for d in (1, 2, 3):
        for seed in SEEDS:
            p = generate(name, seed, d)
            printed = _numbers(p.problem)
            values = [abs(v) for v in _numeric(p).values()]
            for x in printed:
                assert any(math.isclose(x, v, rel_tol=1e-12, abs_tol=1e-12) for v in values), (name, d, seed, x, p.problem)
            for k, v in _numeric(p).items():
                assert any(math.isclose(abs(v), x, rel_tol=1e-12, abs_tol=1e-12) for x in printed), (name, d, seed, k, v)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_records_pass_the_validators(name):
    checks = TASK.validators() + [LengthValidator(TASK.limits), InjectionValidator()]
    for d in (1, 2, 3):
        for seed in SEEDS:
            p = generate(name, seed, d)
            doc = TEMPLATES[name].library.document(p)
            jsonschema.validate(doc, PROBLEM_SCHEMA)
            assert TASK.check_document(doc) == ""
            inp, out, known = TASK.record_fields(doc)
            rec = Record(instruction="i", input=inp, output=out, answer=known)
            for v in checks:
                verdict = v.check(rec)
                assert verdict.ok, (name, d, seed, verdict.reason)
            assert TASK.extract(out) == p.answer
            assert 2 <= len(out.split("\n")) <= 8 and p.unit == ""


def test_determinism_and_variety():
    for name in TEMPLATES:
        assert generate(name, 7, 2) == generate(name, 7, 2)
        assert len({generate(name, s, 2).problem for s in range(6)}) >= 4, name


def test_bad_difficulty():
    with pytest.raises(ValueError):
        generate("bond_price", 0, 4)


def test_symbolic_teacher_writes_the_plain_document():
    meta = {"template": "internal_rate_of_return", "seed": 3, "difficulty": 2}
    resp = asyncio.run(SymbolicTeacher().generate([TeacherRequest(messages=({"role": "user", "content": "x"},),
                                                                  metadata=meta)]))[0]
    assert resp.ok
    doc = json.loads(resp.text)
    jsonschema.validate(doc, PROBLEM_SCHEMA)
    p = generate("internal_rate_of_return", 3, 2)
    assert doc == {"problem": p.problem, "solution": p.solution, "answer": p.answer}
