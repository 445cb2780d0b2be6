"""The finance templates: time value of money, NPV/IRR, annuities and amortisation, bonds,
growth and returns, ratios read from a table, depreciation, cost of capital, portfolios and
options. Each builder's docstring's first line describes it (the pack's skill descriptions)."""

from __future__ import annotations

from fractions import Fraction

import mpmath

from ..base import Resample
from .core import FCtx, F, M, findroot, fmt, money, pct, r, template

CF, FI, INV, ACC = "corporate_finance", "fixed_income", "investments", "accounting"
TVM = ("FinanceReasoning", "FinanceMath", "FinCode")
MARKET = ("FinanceReasoning", "FinanceMath")
TABLE = ("CodeFinQA", "CodeTAT-QA")
DEPR = ("FinanceReasoning", "FinCode")
COMPOUNDING = {"semiannually": 2, "quarterly": 4, "monthly": 12}


def _compounding(c: FCtx) -> tuple[str, int]:
    word = c.pick(sorted(COMPOUNDING), "compounding")
    return word, COMPOUNDING[word]


def _flows(c: FCtx, n: int, lo: int, hi: int, step: int = 100) -> list[int]:
    return [c.amount(f"cf{t}", lo, hi, step) for t in range(1, n + 1)]


def _list(xs: list[str]) -> str:
    return ", ".join(xs[:-1]) + " and " + xs[-1] if len(xs) > 1 else xs[0]


def _table(header: list[str], rows: list[tuple[str, list[int | float]]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + name + " | " + " | ".join(fmt(v) for v in vals) + " |" for name, vals in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ time value of money

@template("future_value", "time_value_of_money", CF, TVM)
def future_value(c: FCtx):
    """Future value of a lump sum (annual, periodic or continuous compounding)."""
    who, pv, rate, n = c.person(), c.amount("pv", 1000, 50000, 100), c.dec("rate", 2, 9, 2), c.i("n", 2, 25)
    if c.d == 1:
        fv, how = F(pv) * (1 + F(rate) / 100) ** n, "compounded annually"
        step = f"FV = PV (1 + r)^n = {money(pv)} x (1 + {fmt(rate)}/100)^{n}"
    elif c.d == 2:
        how, m = _compounding(c)
        fv, how = F(pv) * (1 + F(rate) / 100 / m) ** (m * n), f"compounded {how}"
        step = f"FV = PV (1 + r/m)^(m n) with m = {m}: {money(pv)} x (1 + {fmt(rate)}/100/{m})^({m} x {n})"
    else:
        fv, how = M(pv) * mpmath.exp(M(rate) / 100 * n), "compounded continuously"
        step = f"FV = PV e^(r n) = {money(pv)} x e^({fmt(rate)}/100 x {n})"
    return c.done(f"{who} deposits {money(pv)} in an account that pays {pct(rate)} a year, {how}.",
                  f"What will the balance be after {n} years?", [step, "FV = @ANS"], fv)


@template("present_value", "time_value_of_money", CF, TVM)
def present_value(c: FCtx):
    """Present value of one or two future amounts."""
    fv, rate, n = c.amount("fv", 5000, 200000, 500), c.dec("rate", 2, 10, 2), c.i("n", 2, 20)
    text = f"An investor will receive {money(fv)} in {n} years. The discount rate is {pct(rate)} a year"
    if c.d == 1:
        pv = F(fv) / (1 + F(rate) / 100) ** n
        steps = [f"PV = FV / (1 + r)^n = {money(fv)} / (1 + {fmt(rate)}/100)^{n}"]
        text += ", compounded annually."
    elif c.d == 2:
        how, m = _compounding(c)
        pv = F(fv) / (1 + F(rate) / 100 / m) ** (m * n)
        steps = [f"PV = FV / (1 + r/m)^(m n) with m = {m}: {money(fv)} / (1 + {fmt(rate)}/100/{m})^({m * n})"]
        text += f", compounded {how}."
    else:
        fv2, n2 = c.amount("fv2", 5000, 100000, 500), c.i("n2", n + 1, n + 10)
        pv = F(fv) / (1 + F(rate) / 100) ** n + F(fv2) / (1 + F(rate) / 100) ** n2
        steps = [f"PV = {money(fv)} / (1 + {fmt(rate)}/100)^{n} + {money(fv2)} / (1 + {fmt(rate)}/100)^{n2}",
                 f"= {r(F(fv) / (1 + F(rate) / 100) ** n)} + {r(F(fv2) / (1 + F(rate) / 100) ** n2)}"]
        text += f", compounded annually, and a further {money(fv2)} in {n2} years."
    return c.done(text, "What is the present value of what the investor will receive?", steps + ["PV = @ANS"], pv)


@template("effective_annual_rate", "time_value_of_money", CF, TVM)
def effective_annual_rate(c: FCtx):
    """Effective annual rate from a quoted annual rate."""
    apr = c.dec("apr", 3, 24, 2)
    if c.d == 3:
        ear = (mpmath.exp(M(apr) / 100) - 1) * 100
        how, step = "compounded continuously", f"EAR = e^r - 1 = e^({fmt(apr)}/100) - 1"
    else:
        how, m = _compounding(c)
        ear = ((1 + F(apr) / 100 / m) ** m - 1) * 100
        step = f"EAR = (1 + APR/m)^m - 1 with m = {m}: (1 + {fmt(apr)}/100/{m})^{m} - 1"
        how = f"compounded {how}"
    return c.done(f"A lender quotes an annual percentage rate of {pct(apr)}, {how}.",
                  "What is the effective annual rate?", [step, "EAR = @ANS%"], ear, percent=True)


@template("years_to_target", "time_value_of_money", CF, TVM)
def years_to_target(c: FCtx):
    """Years for an investment to grow to a target."""
    pv, rate = c.amount("pv", 1000, 20000, 100), c.dec("rate", 2, 12, 2)
    target = c.amount("target", int(pv * 1.5) // 100 * 100 + 100, pv * 6, 100)
    if c.d == 1:
        n = mpmath.log(M(target) / pv) / mpmath.log(1 + M(rate) / 100)
        how, step = "compounded annually", f"n = ln(FV/PV) / ln(1 + r) = ln({fmt(target)}/{fmt(pv)}) / ln(1 + {fmt(rate)}/100)"
    elif c.d == 2:
        how, m = _compounding(c)
        n = mpmath.log(M(target) / pv) / (m * mpmath.log(1 + M(rate) / 100 / m))
        step = f"n = ln(FV/PV) / (m ln(1 + r/m)) with m = {m}: ln({fmt(target)}/{fmt(pv)}) / ({m} ln(1 + {fmt(rate)}/100/{m}))"
        how = f"compounded {how}"
    else:
        n = mpmath.log(M(target) / pv) / (M(rate) / 100)
        how, step = "compounded continuously", f"n = ln(FV/PV) / r = ln({fmt(target)}/{fmt(pv)}) / ({fmt(rate)}/100)"
    return c.done(f"An investment of {money(pv)} earns {pct(rate)} a year, {how}.",
                  f"How many years will it take to grow to {money(target)}?", [step, "n = @ANS years"], n)


# ------------------------------------------------------------------ NPV and IRR

def _project(c: FCtx, lo: int = 2):
    n = c.i("n", lo + c.d - 1, lo + c.d)
    cost = c.amount("cost", 5000, 100000, 1000)
    flows = _flows(c, n, max(500, cost // (n + 2) // 100 * 100), max(1000, cost // n * 2 // 100 * 100))
    text = (f"{c.company()} is considering a project that costs {money(cost)} today and is expected to generate "
            f"cash flows of {_list([money(x) for x in flows])} at the end of each of the next {n} years.")
    return n, cost, flows, text


def _npv(rate: Fraction, cost: int, flows: list[int]) -> Fraction:
    return -F(cost) + sum((F(x) / (1 + rate) ** t for t, x in enumerate(flows, 1)), Fraction(0))


@template("net_present_value", "npv_irr", CF, TVM)
def net_present_value(c: FCtx):
    """Net present value of a project's cash flows."""
    n, cost, flows, text = _project(c)
    rate = c.dec("rate", 4, 15, 1 if c.d == 1 else 2)
    npv = _npv(F(rate) / 100, cost, flows)
    terms = " + ".join(f"{fmt(x)}/(1 + {fmt(rate)}/100)^{t}" for t, x in enumerate(flows, 1))
    return c.done(text + f" The discount rate is {pct(rate)}.", "What is the project's net present value?",
                  [f"NPV = -{fmt(cost)} + {terms}", "NPV = @ANS"], npv)


@template("internal_rate_of_return", "npv_irr", CF, TVM)
def internal_rate_of_return(c: FCtx):
    """Internal rate of return of a project (a numeric root)."""
    n, cost, flows, text = _project(c)
    if sum(flows) <= cost * 1.05:
        raise Resample
    f = lambda x: -M(cost) + sum(M(cf) / (1 + x) ** t for t, cf in enumerate(flows, 1))  # noqa: E731
    irr = findroot(f, 0, 3) * 100
    return c.done(text, "What is the project's internal rate of return?",
                  [f"Solve 0 = -{fmt(cost)} + " + " + ".join(f"{fmt(x)}/(1 + IRR)^{t}" for t, x in enumerate(flows, 1)),
                   "numerically: IRR = @ANS%"], irr, percent=True)


@template("profitability_index", "npv_irr", CF, TVM)
def profitability_index(c: FCtx):
    """Profitability index: present value of inflows over the initial cost."""
    n, cost, flows, text = _project(c)
    rate = c.dec("rate", 4, 14, 2)
    pv = _npv(F(rate) / 100, 0, flows)
    return c.done(text + f" The discount rate is {pct(rate)}.", "What is the project's profitability index?",
                  [f"PV of inflows = {r(pv)}", f"PI = PV of inflows / cost = {r(pv)} / {fmt(cost)} = @ANS"],
                  pv / cost, decimals=3)


@template("payback_period", "npv_irr", CF, TVM)
def payback_period(c: FCtx):
    """Payback period (simple, or discounted at difficulty 3), with a fractional final year."""
    n, cost, flows, text = _project(c, lo=3)
    rate = c.dec("rate", 4, 12, 2) if c.d == 3 else None
    vals = [F(x) / (1 + F(rate) / 100) ** t if rate is not None else F(x) for t, x in enumerate(flows, 1)]
    cum, steps = Fraction(0), []
    for t, v in enumerate(vals, 1):
        if cum + v >= cost:
            years = (t - 1) + (F(cost) - cum) / v
            steps.append(f"After year {t - 1} {r(F(cost) - cum)} is still to recover; year {t} brings {r(v)}")
            break
        cum += v
    else:
        raise Resample
    what = "discounted payback period" if rate is not None else "payback period"
    extra = f" The discount rate is {pct(rate)}." if rate is not None else ""
    return c.done(text + extra, f"What is the project's {what} in years?",
                  steps + [f"{what} = @ANS years"], years)


@template("npv_accept_decision", "npv_irr", CF, TVM)
def npv_accept_decision(c: FCtx):
    """Accept-or-reject decision by the sign of NPV (a True/False answer)."""
    n, cost, flows, text = _project(c)
    rate = c.dec("rate", 4, 18, 2)
    npv = _npv(F(rate) / 100, cost, flows)
    if abs(npv) < cost / 200:
        raise Resample
    return c.done(text + f" The required return is {pct(rate)}.",
                  "Should the project be accepted, that is, is its net present value positive?",
                  [f"NPV = {r(npv)}", "accept: " + ("yes" if npv > 0 else "no")], bool(npv > 0))


# ------------------------------------------------------------------ annuities and amortisation

@template("annuity_future_value", "annuities_amortization", CF, TVM)
def annuity_future_value(c: FCtx):
    """Future value of an ordinary annuity or an annuity due."""
    who, pmt, rate, n = c.person(), c.amount("pmt", 100, 10000, 50), c.dec("rate", 2, 10, 2), c.i("n", 3, 30)
    i = F(rate) / 100
    fv = F(pmt) * ((1 + i) ** n - 1) / i
    when = "at the end of each year"
    steps = [f"FV = PMT ((1 + r)^n - 1) / r = {fmt(pmt)} x ((1 + {fmt(rate)}/100)^{n} - 1) / ({fmt(rate)}/100)"]
    if c.d >= 2:
        fv *= 1 + i
        when = "at the start of each year"
        steps.append(f"payments at the start of each year earn one more year: x (1 + {fmt(rate)}/100)")
    if c.d == 3:
        extra = c.amount("initial", 1000, 20000, 500)
        fv += F(extra) * (1 + i) ** n
        steps.append(f"plus the opening {money(extra)} grown: {fmt(extra)} x (1 + {fmt(rate)}/100)^{n}")
        who += f" opens the account with {money(extra)} and"
    return c.done(f"{who} saves {money(pmt)} {when} for {n} years in an account that earns {pct(rate)} a year.",
                  "How much will the account hold at the end of the last year?", steps + ["FV = @ANS"], fv)


@template("annuity_present_value", "annuities_amortization", CF, TVM)
def annuity_present_value(c: FCtx):
    """Present value of a level stream of payments."""
    pmt, rate, n = c.amount("pmt", 500, 50000, 100), c.dec("rate", 2, 12, 2), c.i("n", 3, 30)
    i = F(rate) / 100
    pv = F(pmt) * (1 - (1 + i) ** -n) / i
    steps = [f"PV = PMT (1 - (1 + r)^-n) / r = {fmt(pmt)} x (1 - (1 + {fmt(rate)}/100)^-{n}) / ({fmt(rate)}/100)"]
    when = "at the end of each year"
    if c.d >= 2:
        pv *= 1 + i
        when = "at the start of each year"
        steps.append(f"payments at the start of each year: x (1 + {fmt(rate)}/100)")
    text = f"A contract pays {money(pmt)} {when} for {n} years. The discount rate is {pct(rate)} a year."
    if c.d == 3:
        k = c.i("deferral", 2, 6)
        pv /= (1 + i) ** k
        steps.append(f"the payments start {k} years from now: / (1 + {fmt(rate)}/100)^{k}")
        text = (f"A contract pays {money(pmt)} a year for {n} years, the first payment {k} years from now and "
                f"valued as an annuity due at that date. The discount rate is {pct(rate)} a year.")
    return c.done(text, "What is the contract worth today?", steps + ["PV = @ANS"], pv)


def _loan(c: FCtx):
    principal, rate, years = c.amount("principal", 10000, 500000, 1000), c.dec("rate", 2, 9, 2), c.i("years", 2, 30)
    return principal, rate, years


@template("loan_payment", "annuities_amortization", CF, TVM)
def loan_payment(c: FCtx):
    """Level payment of an amortising loan."""
    principal, rate, years = _loan(c)
    if c.d == 1:
        i, n, per = F(rate) / 100, years, "annual"
    else:
        i, n, per = F(rate) / 1200, 12 * years, "monthly"
    pmt = F(principal) * i / (1 - (1 + i) ** -n)
    text = f"{c.person()} borrows {money(principal)} for {years} years at {pct(rate)} a year"
    text += ", repaid in equal annual instalments." if c.d == 1 else ", repaid in equal monthly instalments (interest compounded monthly)."
    steps = [f"periodic rate i = {r(i, 8)}, number of payments n = {n}",
             f"PMT = P i / (1 - (1 + i)^-n) = {fmt(principal)} x {r(i, 8)} / (1 - (1 + {r(i, 8)})^-{n})"]
    if c.d == 3:
        fee = c.amount("fee", 500, 5000, 100)
        text += f" The lender also adds a fee of {money(fee)} to the amount borrowed."
        pmt = (F(principal) + fee) * i / (1 - (1 + i) ** -n)
        steps[1] = f"PMT = (P + fee) i / (1 - (1 + i)^-n) = {fmt(principal + fee)} x {r(i, 8)} / (1 - (1 + {r(i, 8)})^-{n})"
    return c.done(text, f"What is the {per} payment?", steps + ["PMT = @ANS"], pmt)


def _given_payment(c: FCtx):
    principal, rate, years = _loan(c)
    i, n = F(rate) / 1200, 12 * years
    exact = F(principal) * i / (1 - (1 + i) ** -n)
    pmt = float(round(exact * 100)) / 100
    c.params["pmt"] = pmt
    k = c.i("k", 1, min(n - 1, 12 * c.d * 3))
    return principal, rate, years, i, n, pmt, k


def _balance(principal: int, i: Fraction, pmt: float, k: int) -> Fraction:
    g = (1 + i) ** k
    return F(principal) * g - F(pmt) * (g - 1) / i


@template("loan_balance", "annuities_amortization", CF, TVM)
def loan_balance(c: FCtx):
    """Outstanding balance of a loan after some payments."""
    principal, rate, years, i, n, pmt, k = _given_payment(c)
    bal = _balance(principal, i, pmt, k)
    return c.done(f"A {years}-year loan of {money(principal)} at {pct(rate)} a year (compounded monthly) is repaid "
                  f"by monthly payments of {money(pmt)}.", f"What is the balance outstanding right after payment {k}?",
                  [f"i = {fmt(rate)}/1200 = {r(i, 8)}",
                   f"B = P (1 + i)^k - PMT ((1 + i)^k - 1) / i = {fmt(principal)} x (1 + i)^{k} - {fmt(pmt)} x ((1 + i)^{k} - 1) / i",
                   "B = @ANS"], bal)


@template("loan_interest_portion", "annuities_amortization", CF, TVM)
def loan_interest_portion(c: FCtx):
    """Interest (or principal) part of one loan payment."""
    principal, rate, years, i, n, pmt, k = _given_payment(c)
    before = _balance(principal, i, pmt, k - 1)
    interest = before * i
    want = "interest" if c.d < 3 else "principal"
    ans = interest if want == "interest" else F(pmt) - interest
    return c.done(f"A {years}-year loan of {money(principal)} at {pct(rate)} a year (compounded monthly) is repaid "
                  f"by monthly payments of {money(pmt)}.", f"How much of payment {k} is {want}?",
                  [f"balance before payment {k}: {r(before)}", f"interest = balance x {fmt(rate)}/1200 = {r(interest)}",
                   f"{want} = @ANS"], ans)


@template("perpetuity_value", "annuities_amortization", CF, TVM)
def perpetuity_value(c: FCtx):
    """Value of a perpetuity, a growing perpetuity or a stock by the Gordon growth model."""
    rate = c.dec("rate", 5, 15, 2)
    if c.d == 1:
        pmt = c.amount("pmt", 100, 20000, 50)
        return c.done(f"A perpetuity pays {money(pmt)} at the end of every year. The discount rate is {pct(rate)}.",
                      "What is it worth today?", [f"PV = C / r = {fmt(pmt)} / ({fmt(rate)}/100) = @ANS"],
                      F(pmt) / (F(rate) / 100))
    g = c.dec("g", 1, rate - 1.5, 2)
    if c.d == 2:
        pmt = c.amount("pmt", 100, 20000, 50)
        return c.done(f"A stream pays {money(pmt)} next year, growing by {pct(g)} a year forever. "
                      f"The discount rate is {pct(rate)}.", "What is it worth today?",
                      [f"PV = C1 / (r - g) = {fmt(pmt)} / ({fmt(rate)}/100 - {fmt(g)}/100) = @ANS"],
                      F(pmt) / ((F(rate) - F(g)) / 100))
    d0 = c.dec("d0", 0.5, 6, 2)
    d1 = F(d0) * (1 + F(g) / 100)
    return c.done(f"{c.company()} has just paid a dividend of {money(d0)} per share. Dividends are expected to grow "
                  f"by {pct(g)} a year forever, and shareholders require {pct(rate)}.",
                  "What is the value of one share by the Gordon growth model?",
                  [f"D1 = D0 (1 + g) = {r(d1)}", f"P0 = D1 / (r - g) = {r(d1)} / ({fmt(rate)}/100 - {fmt(g)}/100) = @ANS"],
                  d1 / ((F(rate) - F(g)) / 100))


# ------------------------------------------------------------------ bonds

def _bond(c: FCtx):
    face = c.pick((1000, 1000, 100, 5000), "face")
    coupon = c.dec("coupon", 2, 10, 2 if c.d > 1 else 1)
    n = c.i("n", 2, 8 + 6 * c.d)
    m = 1 if c.d == 1 else 2
    return face, coupon, n, m, "annual" if m == 1 else "semiannual"


def _bond_price(face: int, coupon: float, ytm: mpmath.mpf, n: int, m: int) -> mpmath.mpf:
    cpn = M(face) * M(coupon) / 100 / m
    y = ytm / m
    return sum(cpn / (1 + y) ** t for t in range(1, n * m + 1)) + M(face) / (1 + y) ** (n * m)


@template("bond_price", "bonds", FI, MARKET)
def bond_price(c: FCtx):
    """Price of a coupon bond from its yield to maturity."""
    face, coupon, n, m, freq = _bond(c)
    ytm = c.dec("ytm", 1.5, 12, 2)
    price = _bond_price(face, coupon, M(ytm) / 100, n, m)
    return c.done(f"A {money(face)} bond pays a {pct(coupon)} coupon in {freq} payments and matures in {n} years. "
                  f"Its yield to maturity is {pct(ytm)} a year.", "What is the bond's price?",
                  [f"coupon per period = {fmt(face)} x {fmt(coupon)}/100 / {m} = {r(M(face) * M(coupon) / 100 / m)}; "
                   f"periods = {n * m}; yield per period = {fmt(ytm)}/100 / {m}",
                   "price = sum of coupon / (1 + y)^t + face / (1 + y)^N = @ANS"], price)


@template("bond_yield_to_maturity", "bonds", FI, MARKET)
def bond_yield_to_maturity(c: FCtx):
    """Yield to maturity of a coupon bond from its price (a numeric root)."""
    face, coupon, n, m, freq = _bond(c)
    price = c.dec("price", face * 0.8, face * 1.2, 2)
    ytm = findroot(lambda y: _bond_price(face, coupon, y, n, m) - M(price), -0.05, 1) * 100
    return c.done(f"A {money(face)} bond pays a {pct(coupon)} coupon in {freq} payments, matures in {n} years "
                  f"and sells for {money(price)}.",
                  "What is its yield to maturity (an annual rate, " + ("compounded annually" if m == 1 else
                                                                          "twice the semiannual yield") + ")?",
                  [f"Solve {fmt(price)} = sum of coupon / (1 + y/{m})^t + {fmt(face)} / (1 + y/{m})^{n * m}",
                   "numerically: YTM = @ANS%"], ytm, percent=True)


@template("current_yield", "bonds", FI, MARKET)
def current_yield(c: FCtx):
    """Current yield of a bond (annual coupon over price)."""
    face, coupon, n, m, freq = _bond(c)
    price = c.dec("price", face * 0.8, face * 1.2, 2)
    cy = F(face) * F(coupon) / F(price)
    return c.done(f"A {money(face)} bond with a {pct(coupon)} coupon paid in {freq} payments matures in {n} "
                  f"years and trades at {money(price)}.", "What is its current yield?",
                  [f"annual coupon = {fmt(face)} x {fmt(coupon)}/100 = {r(F(face) * F(coupon) / 100)}",
                   f"current yield = annual coupon / price = @ANS%"], cy, percent=True)


@template("zero_coupon_bond_price", "bonds", FI, MARKET)
def zero_coupon_bond_price(c: FCtx):
    """Price of a zero-coupon bond (annual, semiannual or continuous compounding)."""
    face, n, ytm = c.pick((1000, 100, 10000), "face"), c.i("n", 1, 30), c.dec("ytm", 1, 10, 2)
    if c.d == 1:
        price, how = F(face) / (1 + F(ytm) / 100) ** n, "compounded annually"
        step = f"P = F / (1 + y)^n = {fmt(face)} / (1 + {fmt(ytm)}/100)^{n}"
    elif c.d == 2:
        price, how = F(face) / (1 + F(ytm) / 200) ** (2 * n), "compounded semiannually"
        step = f"P = F / (1 + y/2)^(2n) = {fmt(face)} / (1 + {fmt(ytm)}/200)^{2 * n}"
    else:
        price, how = M(face) * mpmath.exp(-M(ytm) / 100 * n), "compounded continuously"
        step = f"P = F e^(-y n) = {fmt(face)} x e^(-{fmt(ytm)}/100 x {n})"
    return c.done(f"A {money(face)} zero-coupon bond matures in {n} years. Its yield is "
                  f"{pct(ytm)} a year, {how}.", "What is its price?", [step, "P = @ANS"], price)


@template("bond_duration", "bonds", FI, MARKET)
def bond_duration(c: FCtx):
    """Macaulay (or modified) duration of an annual-coupon bond."""
    face = c.pick((1000, 100), "face")
    coupon, n, ytm = c.dec("coupon", 2, 10, 1), c.i("n", 2, 4 + 2 * c.d), c.dec("ytm", 2, 10, 2)
    y = M(ytm) / 100
    cfs = [M(face) * M(coupon) / 100 + (M(face) if t == n else 0) for t in range(1, n + 1)]
    pvs = [cf / (1 + y) ** t for t, cf in enumerate(cfs, 1)]
    price = sum(pvs)
    mac = sum(t * p for t, p in enumerate(pvs, 1)) / price
    want, ans = ("Macaulay duration", mac) if c.d < 3 else ("modified duration", mac / (1 + y))
    steps = [f"price = {r(price)}", f"Macaulay duration = sum of t x PV(CF_t) / price = {r(mac)} years"]
    if c.d == 3:
        steps.append(f"modified duration = {r(mac)} / (1 + {fmt(ytm)}/100)")
    return c.done(f"A {money(face)} bond maturing in {n} years pays an annual coupon of "
                  f"{pct(coupon)} and yields {pct(ytm)} a year.", f"What is its {want} in years?", steps + [f"{want} = @ANS"], ans)


# ------------------------------------------------------------------ growth and returns

@template("compound_annual_growth_rate", "growth_and_returns", INV, ("FinanceReasoning", "FinanceMath", "CodeFinQA"))
def compound_annual_growth_rate(c: FCtx):
    """Compound annual growth rate between two values."""
    y0, n = c.i("year0", 2008, 2018), c.i("n", 2, 4 + 3 * c.d)
    start = c.amount("start", 1000, 90000, 100)
    end = c.amount("end", int(start * 0.6) // 100 * 100 + 100, start * 3, 100)
    if end == start:
        raise Resample
    c.params["year1"] = y0 + n
    cagr = ((M(end) / start) ** (M(1) / n) - 1) * 100
    return c.done(f"{c.company()} reported revenue of {money(start)} thousand in {y0} and {money(end)} thousand in "
                  f"{y0 + n}.", f"What was the compound annual growth rate of revenue over those {n} years?",
                  [f"CAGR = (end / start)^(1/n) - 1 = ({fmt(end)} / {fmt(start)})^(1/{n}) - 1", "CAGR = @ANS%"],
                  cagr, percent=True)


@template("holding_period_return", "growth_and_returns", INV, MARKET)
def holding_period_return(c: FCtx):
    """Holding-period return with dividends (annualised at difficulty 3)."""
    p0 = c.dec("p0", 10, 200, 2)
    p1 = c.dec("p1", p0 * 0.7, p0 * 1.5, 2)
    div = c.dec("div", 0.1, p0 * 0.06 + 0.2, 2)
    hpr = (F(p1) - F(p0) + F(div)) / F(p0)
    steps = [f"HPR = (P1 - P0 + D) / P0 = ({fmt(p1)} - {fmt(p0)} + {fmt(div)}) / {fmt(p0)} = {r(hpr * 100)}%"]
    if c.d < 3:
        held = "one year" if c.d == 1 else "the whole holding period"
        return c.done(f"{c.person()} bought a share for {money(p0)}, received dividends of {money(div)} and sold it "
                      f"for {money(p1)}.", f"What was the holding-period return over {held}?",
                      steps + ["HPR = @ANS%"], hpr * 100, percent=True)
    years = c.i("years", 2, 6)
    ann = ((1 + M(hpr)) ** (M(1) / years) - 1) * 100
    return c.done(f"{c.person()} bought a share for {money(p0)}, received dividends of {money(div)} in total and "
                  f"sold it {years} years later for {money(p1)}.", "What was the annualised holding-period return?",
                  steps + [f"annualised = (1 + HPR)^(1/{years}) - 1 = @ANS%"], ann, percent=True)


# ------------------------------------------------------------------ ratios read from a table

def _years(c: FCtx) -> tuple[int, int]:
    y = c.i("year1", 2015, 2023)
    c.params["year2"] = y + 1
    return y, y + 1


@template("liquidity_ratio", "financial_ratios", ACC, TABLE)
def liquidity_ratio(c: FCtx):
    """Current, quick or cash ratio read from a balance-sheet table."""
    y1, y2 = _years(c)
    rows = {k: [c.amount(f"{k}_{j}", lo, hi, 10) for j in (1, 2)] for k, lo, hi in
            (("cash", 200, 5000), ("receivables", 300, 6000), ("inventory", 300, 8000), ("current_liabilities", 800, 12000))}
    names = {"cash": "Cash and equivalents", "receivables": "Accounts receivable", "inventory": "Inventories",
             "current_liabilities": "Total current liabilities"}
    table = _table(["(in thousands)", str(y1), str(y2)], [(names[k], v) for k, v in rows.items()])
    j = c.pick((1, 2))
    year = y1 if j == 1 else y2
    cash, rec, inv, cl = (rows[k][j - 1] for k in ("cash", "receivables", "inventory", "current_liabilities"))
    if c.d == 1:
        what, num, expr = "current ratio", cash + rec + inv, f"({fmt(cash)} + {fmt(rec)} + {fmt(inv)}) / {fmt(cl)}"
    elif c.d == 2:
        what, num, expr = "quick ratio", cash + rec, f"({fmt(cash)} + {fmt(rec)}) / {fmt(cl)}"
    else:
        what, num, expr = "cash ratio", cash, f"{fmt(cash)} / {fmt(cl)}"
    return c.done(f"{c.company()} reports (current assets are cash, receivables and inventories):\n{table}\n",
                  f"What is the {what} in {year}?", [f"{what} = {expr}", f"{what} = @ANS"], F(num) / cl)


@template("profit_margin", "financial_ratios", ACC, TABLE)
def profit_margin(c: FCtx):
    """Gross, operating or net margin read from an income-statement table."""
    y1, y2 = _years(c)
    rev = [c.amount(f"revenue_{j}", 5000, 90000, 10) for j in (1, 2)]
    cogs = [c.amount(f"cogs_{j}", int(rv * 0.3) // 10 * 10, int(rv * 0.7) // 10 * 10, 10) for j, rv in enumerate(rev, 1)]
    opex = [c.amount(f"opex_{j}", int(rv * 0.05) // 10 * 10, int(rv * 0.2) // 10 * 10, 10) for j, rv in enumerate(rev, 1)]
    tax = [c.amount(f"tax_{j}", int(rv * 0.01) // 10 * 10, int(rv * 0.05) // 10 * 10 + 10, 10) for j, rv in enumerate(rev, 1)]
    table = _table(["(in millions)", str(y1), str(y2)], [("Revenue", rev), ("Cost of revenue", cogs),
                                                          ("Operating expenses", opex), ("Income taxes", tax)])
    j = c.pick((1, 2))
    k = j - 1
    year = y1 if j == 1 else y2
    if c.d == 1:
        what, num, expr = "gross margin", rev[k] - cogs[k], f"({fmt(rev[k])} - {fmt(cogs[k])}) / {fmt(rev[k])}"
    elif c.d == 2:
        what, num = "operating margin", rev[k] - cogs[k] - opex[k]
        expr = f"({fmt(rev[k])} - {fmt(cogs[k])} - {fmt(opex[k])}) / {fmt(rev[k])}"
    else:
        what, num = "net margin", rev[k] - cogs[k] - opex[k] - tax[k]
        expr = f"({fmt(rev[k])} - {fmt(cogs[k])} - {fmt(opex[k])} - {fmt(tax[k])}) / {fmt(rev[k])}"
    if num <= 0:
        raise Resample
    return c.done(f"{c.company()}'s income statement (there are no other items):\n{table}\n",
                  f"What was the {what} in {year}?", [f"{what} = {expr} x 100", f"{what} = @ANS%"],
                  F(num) * 100 / rev[k], percent=True)


@template("percentage_change", "financial_ratios", ACC, TABLE)
def percentage_change(c: FCtx):
    """Percentage change of a line item (or of a sum of items) between two years of a table."""
    y1, y2 = _years(c)
    items = ["Net revenue", "Interest expense", "Research and development", "Capital expenditures"]
    rows = [(name, [c.amount(f"item{i}_1", 100, 20000, 1), c.amount(f"item{i}_2", 100, 20000, 1)])
            for i, name in enumerate(items)]
    table = _table(["(in thousands)", str(y1), str(y2)], rows)
    a = c.pick(range(len(items)))
    if c.d < 3:
        old, new = rows[a][1]
        what, expr = items[a].lower(), f"({fmt(new)} - {fmt(old)}) / {fmt(old)}"
    else:
        b = (a + 1 + c.pick(range(len(items) - 1))) % len(items)
        old, new = rows[a][1][0] + rows[b][1][0], rows[a][1][1] + rows[b][1][1]
        what = f"{items[a].lower()} and {items[b].lower()} combined"
        expr = f"(({fmt(rows[a][1][1])} + {fmt(rows[b][1][1])}) - ({fmt(rows[a][1][0])} + {fmt(rows[b][1][0])})) / {fmt(old)}"
    if new == old:
        raise Resample
    return c.done(f"Selected figures of {c.company()}:\n{table}\n",
                  f"What was the percentage change in {what} from {y1} to {y2}?",
                  [f"change = {expr} x 100", "change = @ANS%"], F(new - old) * 100 / old, percent=True,
                  decimals=2 if c.d > 1 else 1)


@template("return_on_equity", "financial_ratios", ACC, TABLE)
def return_on_equity(c: FCtx):
    """Return on equity (ending or average equity) or return on assets from a table."""
    y1, y2 = _years(c)
    ni = [c.amount(f"net_income_{j}", 200, 9000, 10) for j in (1, 2)]
    eq = [c.amount(f"equity_{j}", 5000, 60000, 10) for j in (1, 2)]
    ta = [c.amount(f"assets_{j}", e + 1000, e * 3, 10) for j, e in enumerate(eq, 1)]
    table = _table(["(in millions)", str(y1), str(y2)], [("Net income", ni), ("Total shareholders' equity", eq),
                                                          ("Total assets", ta)])
    if c.d == 1:
        what, val, expr = "return on equity (on year-end equity)", F(ni[1]) / eq[1], f"{fmt(ni[1])} / {fmt(eq[1])}"
    elif c.d == 2:
        what, val = "return on average equity", F(ni[1]) / ((F(eq[0]) + eq[1]) / 2)
        expr = f"{fmt(ni[1])} / (({fmt(eq[0])} + {fmt(eq[1])}) / 2)"
    else:
        what, val = "return on average assets", F(ni[1]) / ((F(ta[0]) + ta[1]) / 2)
        expr = f"{fmt(ni[1])} / (({fmt(ta[0])} + {fmt(ta[1])}) / 2)"
    return c.done(f"{c.company()} reports:\n{table}\n", f"What was the {what} in {y2}?",
                  [f"{expr} x 100", f"= @ANS%"], val * 100, percent=True)


@template("leverage_ratio", "financial_ratios", ACC, TABLE)
def leverage_ratio(c: FCtx):
    """Debt-to-equity or debt ratio read from a balance-sheet table."""
    y1, y2 = _years(c)
    sd = [c.amount(f"short_debt_{j}", 100, 5000, 10) for j in (1, 2)]
    ld = [c.amount(f"long_debt_{j}", 1000, 30000, 10) for j in (1, 2)]
    eq = [c.amount(f"equity_{j}", 2000, 40000, 10) for j in (1, 2)]
    ol = [c.amount(f"other_liab_{j}", 200, 8000, 10) for j in (1, 2)]
    table = _table(["(in millions)", str(y1), str(y2)], [("Short-term debt", sd), ("Long-term debt", ld),
                                                          ("Other liabilities", ol), ("Shareholders' equity", eq)])
    j = c.pick((1, 2))
    k, year = j - 1, (y1, y2)[j - 1]
    if c.d == 1:
        what, val, expr = "debt-to-equity ratio (total debt over equity)", F(sd[k] + ld[k]) / eq[k], \
            f"({fmt(sd[k])} + {fmt(ld[k])}) / {fmt(eq[k])}"
    elif c.d == 2:
        what, val = "ratio of total liabilities to equity", F(sd[k] + ld[k] + ol[k]) / eq[k]
        expr = f"({fmt(sd[k])} + {fmt(ld[k])} + {fmt(ol[k])}) / {fmt(eq[k])}"
    else:
        assets = sd[k] + ld[k] + ol[k] + eq[k]
        what, val = "debt ratio (total debt over total assets, where assets equal liabilities plus equity)", \
            F(sd[k] + ld[k]) / assets
        expr = f"({fmt(sd[k])} + {fmt(ld[k])}) / {r(assets)}"
    return c.done(f"{c.company()}'s balance sheet:\n{table}\n", f"What is the {what} in {year}?",
                  [f"{expr}", "= @ANS"], val, decimals=3)


# ------------------------------------------------------------------ depreciation

def _asset(c: FCtx):
    cost = c.amount("cost", 10000, 500000, 1000)
    salvage = c.amount("salvage", 0, cost // 5, 500)
    life = c.i("life", 3, 12)
    return cost, salvage, life


@template("straight_line_depreciation", "depreciation", ACC, DEPR)
def straight_line_depreciation(c: FCtx):
    """Straight-line depreciation: annual or monthly charge, or book value after some years."""
    cost, salvage, life = _asset(c)
    text = (f"{c.company()} buys a machine for {money(cost)}. It has a useful life of {life} years and a salvage "
            f"value of {money(salvage)}, and is depreciated on a straight-line basis.")
    annual = (F(cost) - salvage) / life
    step = f"annual depreciation = ({fmt(cost)} - {fmt(salvage)}) / {life} = {r(annual)}"
    if c.d == 1:
        return c.done(text, "What is the annual depreciation expense?", [step, "= @ANS"], annual)
    if c.d == 2:
        k = c.i("k", 1, life - 1)
        return c.done(text, f"What is the machine's book value at the end of year {k}?",
                      [step, f"book value = {fmt(cost)} - {k} x {r(annual)} = @ANS"], F(cost) - k * annual)
    return c.done(text, "What is the monthly depreciation expense?", [step, f"monthly = {r(annual)} / 12 = @ANS"],
                  annual / 12)


@template("declining_balance_depreciation", "depreciation", ACC, DEPR)
def declining_balance_depreciation(c: FCtx):
    """Double-declining-balance depreciation charge in a given year."""
    cost, salvage, life = _asset(c)
    k = c.i("k", 1, min(life - 1, c.d + 1))
    rate = Fraction(2, life)
    bv = F(cost) * (1 - rate) ** (k - 1)
    dep = bv * rate
    if bv - dep < salvage:
        raise Resample
    return c.done(f"An asset costs {money(cost)}, has a useful life of {life} years and a salvage value of "
                  f"{money(salvage)}; it is written down at double the straight-line rate on its declining book value.",
                  f"How much depreciation is charged in year {k}?",
                  [f"rate = 2 / {life} = {r(rate)}", f"book value at the start of year {k} = {fmt(cost)} x (1 - {r(rate)})^{k - 1} = {r(bv)}",
                   f"depreciation = {r(bv)} x {r(rate)} = @ANS"], dep)


@template("sum_of_years_digits_depreciation", "depreciation", ACC, DEPR)
def sum_of_years_digits_depreciation(c: FCtx):
    """Sum-of-the-years'-digits depreciation (one year's charge, or accumulated)."""
    cost, salvage, life = _asset(c)
    k = c.i("k", 1, life)
    syd = life * (life + 1) // 2
    base = F(cost) - salvage
    text = (f"An asset costs {money(cost)}, has a useful life of {life} years and a salvage value of {money(salvage)}. "
            "It is depreciated by the sum-of-the-years'-digits method.")
    if c.d < 3:
        dep = base * (life - k + 1) / syd
        return c.done(text, f"What is the depreciation expense in year {k}?",
                      [f"sum of digits = {syd}", f"depreciation = ({fmt(cost)} - {fmt(salvage)}) x {life - k + 1} / {syd} = @ANS"],
                      dep)
    acc = base * sum(life - t + 1 for t in range(1, k + 1)) / syd
    return c.done(text, f"What is the accumulated depreciation at the end of year {k}?",
                  [f"sum of digits = {syd}", f"accumulated = ({fmt(cost)} - {fmt(salvage)}) x (sum of the first {k} "
                   f"remaining-life digits) / {syd} = @ANS"], acc)


# ------------------------------------------------------------------ cost of capital

@template("weighted_average_cost_of_capital", "cost_of_capital", CF, MARKET)
def weighted_average_cost_of_capital(c: FCtx):
    """Weighted average cost of capital (after-tax cost of debt; preferred stock at difficulty 3)."""
    e, d = c.amount("equity", 10, 900, 10), c.amount("debt", 10, 600, 10)
    re, rd = c.dec("re", 7, 16, 2), c.dec("rd", 2, 9, 2)
    text = (f"{c.company()} has equity with a market value of {money(e)} million and debt of {money(d)} million. "
            f"Its cost of equity is {pct(re)}")
    if c.d == 1:
        text += f" and its cost of debt {pct(rd)} (ignore taxes)."
        parts = [(F(e), F(re)), (F(d), F(rd))]
    else:
        tax = c.dec("tax", 15, 35, 0)
        text += f", its pre-tax cost of debt {pct(rd)} and its tax rate {pct(tax)}."
        parts = [(F(e), F(re)), (F(d), F(rd) * (1 - F(tax) / 100))]
    if c.d == 3:
        p, rp = c.amount("preferred", 10, 200, 10), c.dec("rp", 5, 10, 2)
        text += f" It also has preferred stock worth {money(p)} million with a cost of {pct(rp)}."
        parts.append((F(p), F(rp)))
    total = sum(v for v, _ in parts)
    wacc = sum(v * k for v, k in parts) / total
    return c.done(text, "What is its weighted average cost of capital?",
                  [f"total capital = {r(total)}", "WACC = sum of weight x cost = " +
                   " + ".join(f"{r(v / total)} x {r(k)}" for v, k in parts), "WACC = @ANS%"], wacc, percent=True)


@template("capm_expected_return", "cost_of_capital", CF, MARKET)
def capm_expected_return(c: FCtx):
    """CAPM required return (or Jensen's alpha at difficulty 3)."""
    rf, beta = c.dec("rf", 1, 5, 2), c.dec("beta", 0.4, 2.2, 2)
    if c.d == 2:
        mrp = c.dec("mrp", 3, 8, 2)
        er = F(rf) + F(beta) * F(mrp)
        return c.done(f"The risk-free rate is {pct(rf)} and the market risk premium {pct(mrp)}. A stock has a beta "
                      f"of {fmt(beta)}.", "What is its expected return under the CAPM?",
                      [f"E(R) = rf + beta x MRP = {fmt(rf)} + {fmt(beta)} x {fmt(mrp)} = @ANS%"], er, percent=True)
    rm = c.dec("rm", rf + 3, rf + 9, 2)
    er = F(rf) + F(beta) * (F(rm) - F(rf))
    step = f"E(R) = rf + beta (Rm - rf) = {fmt(rf)} + {fmt(beta)} x ({fmt(rm)} - {fmt(rf)}) = {r(er)}%"
    text = f"The risk-free rate is {pct(rf)} and the expected market return {pct(rm)}. A stock has a beta of {fmt(beta)}."
    if c.d == 1:
        return c.done(text, "What is its expected return under the CAPM?", [step.replace(f"{r(er)}%", "@ANS%")],
                      er, percent=True)
    actual = c.dec("actual", 2, 25, 2)
    return c.done(text + f" Over the year the stock returned {pct(actual)}.", "What is its Jensen's alpha?",
                  [step, f"alpha = {fmt(actual)} - {r(er)} = @ANS%"], F(actual) - er, percent=True)


# ------------------------------------------------------------------ portfolios

@template("portfolio_expected_return", "portfolio", INV, MARKET)
def portfolio_expected_return(c: FCtx):
    """Expected return of a portfolio from the amounts held and each asset's expected return."""
    k = c.d + 1
    names = ["stock A", "stock B", "a bond fund", "a real-estate fund"][:k]
    amts = [c.amount(f"amount{i}", 1000, 50000, 500) for i in range(k)]
    rets = [c.dec(f"ret{i}", -5 if c.d == 3 else 1, 18, 2) for i in range(k)]
    total = sum(amts)
    er = sum(F(a) * F(x) for a, x in zip(amts, rets)) / total
    holdings = _list([f"{money(a)} in {n} (expected return {pct(x)})" for a, n, x in zip(amts, names, rets)])
    return c.done(f"{c.person()} invests {holdings}.", "What is the portfolio's expected return?",
                  [f"weights = amount / {fmt(total)}", "E(Rp) = " + " + ".join(f"{r(F(a) / total)} x {fmt(x)}"
                                                                                for a, x in zip(amts, rets)),
                   "E(Rp) = @ANS%"], er, percent=True)


@template("portfolio_risk", "portfolio", INV, MARKET)
def portfolio_risk(c: FCtx):
    """Standard deviation (or variance) of a two-asset portfolio."""
    w = c.dec("w1", 10, 90, 0)
    s1, s2 = c.dec("sd1", 5, 40, 1), c.dec("sd2", 5, 40, 1)
    rho = c.dec("rho", -0.9, 0.95, 2)
    w1, w2 = F(w) / 100, 1 - F(w) / 100
    var = w1 ** 2 * F(s1) ** 2 + w2 ** 2 * F(s2) ** 2 + 2 * w1 * w2 * F(rho) * F(s1) * F(s2)
    c.params["w2"] = 100 - w
    text = (f"A portfolio holds {pct(w)} in asset X (standard deviation {pct(s1)}) and {pct(100 - w)} in asset Y "
            f"(standard deviation {pct(s2)}). The correlation between their returns is {fmt(rho)}.")
    step = (f"variance = w1^2 s1^2 + w2^2 s2^2 + 2 w1 w2 rho s1 s2 = {r(w1)}^2 x {fmt(s1)}^2 + {r(w2)}^2 x "
            f"{fmt(s2)}^2 + 2 x {r(w1)} x {r(w2)} x {fmt(rho)} x {fmt(s1)} x {fmt(s2)} = {r(var)} (%^2)")
    if c.d == 1:
        return c.done(text, "What is the variance of the portfolio's return, in squared percent?", [step, "= @ANS"], var)
    return c.done(text, "What is the standard deviation of the portfolio's return?",
                  [step, "standard deviation = sqrt(variance) = @ANS%"], mpmath.sqrt(M(var)), percent=True)


# ------------------------------------------------------------------ options

@template("option_payoff", "options", INV, MARKET)
def option_payoff(c: FCtx):
    """Payoff or profit of calls, puts and straddles at expiry."""
    strike = c.dec("strike", 20, 200, 0)
    spot = c.dec("spot", strike * 0.7, strike * 1.3, 2)
    if c.d == 1:
        kind = c.pick(("call", "put"), "kind")
        pay = max(F(spot) - F(strike), 0) if kind == "call" else max(F(strike) - F(spot), 0)
        if pay == 0:
            raise Resample
        return c.done(f"A European {kind} option has a strike price of {money(strike)}. At expiry the stock trades "
                      f"at {money(spot)}.", "What is the option's payoff per share?",
                      [f"payoff = max({'S - K' if kind == 'call' else 'K - S'}, 0) = @ANS"], pay)
    prem = c.dec("premium", 0.5, strike * 0.08, 2)
    if c.d == 2:
        kind = c.pick(("call", "put"), "kind")
        n = c.i("contracts", 1, 20)
        size = c.pick((100,), "contract_size")
        pay = max(F(spot) - F(strike), 0) if kind == "call" else max(F(strike) - F(spot), 0)
        profit = (pay - F(prem)) * n * size
        return c.done(f"An investor buys {n} {kind} option contracts ({size} shares each) with a strike price of "
                      f"{money(strike)} for a premium of {money(prem)} per share. At expiry the stock trades at "
                      f"{money(spot)}.", "What is the investor's total profit (negative for a loss)?",
                      [f"payoff per share = {r(pay)}", f"profit = ({r(pay)} - {fmt(prem)}) x {n} x {size} = @ANS"], profit)
    prem2 = c.dec("premium2", 0.5, strike * 0.08, 2)
    profit = abs(F(spot) - F(strike)) - F(prem) - F(prem2)
    if profit == 0:
        raise Resample
    return c.done(f"A trader buys a straddle: a call for {money(prem)} and a put for {money(prem2)}, both with a "
                  f"strike price of {money(strike)}. At expiry the stock trades at {money(spot)}.",
                  "What is the trader's profit per share (negative for a loss)?",
                  [f"payoff = |S - K| = {r(abs(F(spot) - F(strike)))}", f"profit = payoff - {fmt(prem)} - {fmt(prem2)} = @ANS"],
                  profit)


@template("put_call_parity", "options", INV, MARKET)
def put_call_parity(c: FCtx):
    """Call (or put) price from put-call parity."""
    strike, spot = c.dec("strike", 20, 200, 0), None
    spot = c.dec("spot", strike * 0.8, strike * 1.2, 2)
    rate, months = c.dec("rate", 1, 8, 2), c.i("months", 3, 24)
    t = F(months) / 12
    if c.d == 1:
        pv_k = F(strike) / (1 + F(rate) / 100) ** t if months % 12 == 0 else M(strike) / (1 + M(rate) / 100) ** M(t)
        how, pvs = "compounded annually", f"PV(K) = {fmt(strike)} / (1 + {fmt(rate)}/100)^({months}/12)"
    else:
        pv_k = M(strike) * mpmath.exp(-M(rate) / 100 * M(t))
        how, pvs = "continuously compounded", f"PV(K) = {fmt(strike)} x e^(-{fmt(rate)}/100 x {months}/12)"
    if c.d < 3:
        put = c.dec("put", 0.5, strike * 0.1, 2)
        call = M(put) + M(spot) - M(pv_k)
        if call <= 0:
            raise Resample
        return c.done(f"A stock trades at {money(spot)}. A European put on it with a strike price of {money(strike)} "
                      f"expiring in {months} months costs {money(put)}. The risk-free rate is {pct(rate)} a year, {how}.",
                      "What should a European call with the same strike and expiry cost, by put-call parity?",
                      [pvs + f" = {r(pv_k)}", f"C = P + S - PV(K) = {fmt(put)} + {fmt(spot)} - {r(pv_k)} = @ANS"], call)
    call = c.dec("call", 0.5, strike * 0.15, 2)
    put = M(call) - M(spot) + M(pv_k)
    if put <= 0:
        raise Resample
    return c.done(f"A stock trades at {money(spot)}. A European call on it with a strike price of {money(strike)} "
                  f"expiring in {months} months costs {money(call)}. The risk-free rate is {pct(rate)} a year, {how}.",
                  "What should a European put with the same strike and expiry cost, by put-call parity?",
                  [pvs + f" = {r(pv_k)}", f"P = C - S + PV(K) = {fmt(call)} - {fmt(spot)} + {r(pv_k)} = @ANS"], put)
