"""Mathematics (calculus, diff, stat): integrals, areas/volumes, series, ODEs, probability and statistics.

The heavy sympy work (``integrate``, ``summation``, ``dsolve``) is done once per
problem *structure* with symbolic parameters and cached; each problem then
substitutes its sampled numbers into the cached closed form.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..base import Ctx, Resample, X, ev, fill, num, q, res, template

MATH = "mathematics"
x = sp.Symbol("x", real=True)
t = sp.Symbol("t", positive=True)
n = sp.Symbol("n", integer=True, nonnegative=True)
_K = sp.Symbol("K", positive=True)
_A, _B = sp.symbols("A B", real=True)
_Y = sp.Function("y")
C_MIN = r"\mathrm{~min}"
C_KG = r"\mathrm{~kg}"


def _L(e: sp.Expr) -> str:
    return sp.latex(e)


def _cf(v) -> str:
    """Coefficient as written before a symbol: '' for 1, '-' for -1, else its LaTeX and a space."""
    v = sp.nsimplify(v)
    return "" if v == 1 else "-" if v == -1 else _L(v) + " "


def _exact(e: sp.Expr) -> str:
    """LaTeX of an exact value, unless it is long-winded."""
    s = sp.latex(sp.nsimplify(e) if e.is_Rational else e)
    return s if len(s) <= 60 else ""


def _eq_exact(e: sp.Expr) -> str:
    s = _exact(e)
    return f" = {s}" if s and not e.is_Float else ""


# ------------------------------------------------------------------ integrals

_INT_FORMS = {
    "x_exp": x * sp.exp(-_K * x),
    "x2_exp": x**2 * sp.exp(-_K * x),
    "x_sin": x * sp.sin(_K * x),
    "x_cos": x * sp.cos(_K * x),
    "x_log": x * sp.log(x),
}


@lru_cache(maxsize=None)
def _int_form(name: str) -> sp.Expr:
    return sp.integrate(_INT_FORMS[name], (x, _A, _B))


@template("definite_integral", "integration", MATH, ("calculus",))
def definite_integral(c: Ctx):
    v = c.variant()
    if c.d == 1:
        k = c.i("c", 1, 9)
        p = c.i("n", 2, 5)
        a = c.i("a", 0, 2)
        b = c.i("b", a + 1, a + 3)
        f = k * x**p
        ans = sp.integrate(f, (x, a, b))
        steps = [fill(r"An antiderivative is $F(x) = @F$.", F=_L(sp.Rational(k, p + 1) * x ** (p + 1))),
                 fill(r"$F(@b) - F(@a) = \frac{@k(@b^{@m} - @a^{@m})}{@m}@ex = @ANS$.", k=k if k != 1 else "", a=a, b=b, m=p + 1,
                      ex=_eq_exact(ans))]
        lo, hi = sp.Integer(a), sp.Integer(b)
    elif c.d == 2:
        k1 = c.i("c1", 1, 9)
        p = c.i("n", 1, 4)
        k2 = c.i("c2", 1, 9) * c.pick([1, -1])
        c.set(c2=k2)
        a = c.i("a", 1, 3)
        b = c.i("b", a + 1, a + 4)
        f = k1 * x**p + k2 / x
        ans = sp.integrate(f, (x, a, b))
        poly = sp.Rational(k1, p + 1) * (sp.Integer(b) ** (p + 1) - sp.Integer(a) ** (p + 1))
        logt = k2 * sp.log(sp.Rational(b, a))
        steps = [fill(r"$\int \left(@f\right)dx = @F$.", f=_L(f), F=_L(sp.Rational(k1, p + 1) * x ** (p + 1)) + (" + " if k2 > 0 else " - ") + f"{abs(k2) if abs(k2) != 1 else ''}\\ln x"),
                 fill(r"Polynomial part: $@P$; logarithmic part: $@k2\ln(@b/@a) = @l$.", P=_L(poly), k2=k2, b=b, a=a, l=res(ev(logt))),
                 fill(r"Total: $@E = @ANS$.", E=_L(ans))]
        lo, hi = sp.Integer(a), sp.Integer(b)
    else:
        form = c.pick(sorted(_INT_FORMS), "form")
        if form == "x_log":
            lo, hi = sp.Integer(1), sp.Integer(c.i("b", 2, 6))
            kk = sp.Integer(1)
            c.set(a=1)
        elif form in ("x_sin", "x_cos"):
            kk = sp.Integer(c.i("K", 1, 3))
            num_, den = c.pick([(1, 6), (1, 4), (1, 3), (1, 2), (2, 3), (1, 1)])
            c.set(a=0, b_pi_num=num_, b_pi_den=den)
            lo, hi = sp.Integer(0), sp.pi * num_ / den
        else:
            kk = X(c.pick([0.5, 1.0, 2.0, 3.0], "K"))
            lo, hi = sp.Integer(0), sp.Integer(c.i("b", 1, 4))
            c.set(a=0)
        f = _INT_FORMS[form].subs(_K, kk)
        ans = _int_form(form).subs({_K: kk, _A: lo, _B: hi})
        u = {"x_exp": "u = x", "x2_exp": "u = x^2 \\text{ (twice)}", "x_sin": "u = x", "x_cos": "u = x", "x_log": "u = \\ln x"}[form]
        prim = sp.integrate(f, x)
        steps = [fill(r"Integrate by parts with $@u$: an antiderivative is $@F$.", u=u, F=_L(sp.simplify(prim))),
                 fill(r"Evaluating between $@a$ and $@b$ gives $@E = @ANS$.", a=_L(lo), b=_L(hi), E=_L(sp.simplify(ans)))]
    integral = fill(r"$\int_{@a}^{@b} @f \, dx$", a=_L(lo), b=_L(hi), f=_L(f) if c.d != 2 else r"\left(" + _L(f) + r"\right)")
    text = [
        "Evaluate the definite integral @I.",
        "Compute @I.",
        "Find the numerical value of @I.",
    ][v]
    return c.done(fill(text, I=integral), "", steps, ans)


@template("area_between_curves", "areas_volumes", MATH, ("calculus",))
def area_between_curves(c: Ctx):
    v = c.variant()
    if c.d == 1:
        k = c.i("k", 1, 6)
        ans = sp.integrate(k * x - x**2, (x, 0, k))
        f = _L(k * x - x**2)
        curves = fill(r"the parabola $y = @f$ and the $x$-axis", f=f)
        steps = [fill(r"The curve meets the axis at $x = 0$ and $x = @k$.", k=k),
                 fill(r"$A = \int_0^{@k} (@f)\,dx = \frac{@k^3}{6}@ex = @ANS$.", k=k, f=f, ex=_eq_exact(ans))]
    elif c.d == 2:
        m = c.i("m", -3, 3)
        b = c.i("b", 1, 6)
        disc = sp.Integer(m**2 + 4 * b)
        r1, r2 = (m - sp.sqrt(disc)) / 2, (m + sp.sqrt(disc)) / 2
        line = sp.expand(m * x + b)
        ans = sp.integrate(line - x**2, (x, r1, r2))
        curves = fill(r"the parabola $y = x^2$ and the line $y = @l$", l=_L(line))
        steps = [fill(r"Intersections: $x^2 = @l \Rightarrow x = @r1$ and $x = @r2$.", l=_L(line), r1=_L(r1), r2=_L(r2)),
                 fill(r"$A = \int_{x_1}^{x_2} (@l - x^2)\,dx = \frac{(x_2 - x_1)^3}{6} = \frac{(@d)^3}{6} = @ANS$.", l=_L(line), d=_L(sp.sqrt(disc)))]
    else:
        k = c.i("c", 1, 9)
        root = sp.sqrt(k)
        half = sp.integrate(k * x - x**3, (x, 0, root))
        ans = 2 * half
        kx = _L(k * x)
        curves = fill(r"the curves $y = x^3$ and $y = @kx$", kx=kx)
        steps = [fill(r"Intersections: $x^3 = @kx \Rightarrow x = 0, \pm @r$.", kx=kx, r=_L(root)),
                 r"The two lobes have equal area by symmetry.",
                 fill(r"$A = 2\int_0^{@r} (@f)\,dx = 2\left(@h\right) = @ANS$.", r=_L(root), f=_L(k * x - x**3), h=_L(half))]
    text = [
        "Find the area of the region enclosed by @curves.",
        "Compute the area bounded by @curves.",
        "What is the area of the finite region between @curves?",
    ][v]
    return c.done(fill(text, curves=curves), "", steps, ans)


@template("volume_of_revolution", "areas_volumes", MATH, ("calculus",))
def volume_of_revolution(c: Ctx):
    v = c.variant()
    if c.d == 1:
        k = c.i("c", 1, 5)
        b = c.i("b", 1, 6)
        f = k * sp.sqrt(x)
        ans = sp.pi * sp.integrate(f**2, (x, 0, b))
        region = fill(r"the region under $y = @f$ for $0 \le x \le @b$, rotated about the $x$-axis", f=_L(f), b=b)
        steps = [r"Disc method: $V = \pi\int_0^b y^2\,dx$.",
                 fill(r"$V = \pi\int_0^{@b} @g\,dx = @E = @ANS$.", b=b, g=_L(sp.expand(f**2)), E=_L(ans))]
    elif c.d == 2:
        a = c.i("a", 1, 3)
        m = c.i("m", 1, 4)
        xr = sp.Rational(m, a)
        ans = sp.pi * sp.integrate((m * x) ** 2 - (a * x**2) ** 2, (x, 0, xr))
        par = _L(a * x**2)
        region = fill(r"the region between $y = @l$ and $y = @p$, rotated about the $x$-axis", l=_L(m * x), p=par)
        steps = [fill(r"The curves meet at $x = 0$ and $x = @r$.", r=_L(xr)),
                 fill(r"Washer method: $V = \pi\int_0^{@r} \left[(@l)^2 - (@p)^2\right]dx = @E = @ANS$.", r=_L(xr), l=_L(m * x), p=par, E=_L(ans))]
    else:
        a = c.i("a", 1, 3)
        k = c.i("k", 1, 4)
        f = sp.expand(a * (k * x - x**2))
        shell = sp.expand(x * f)
        ans = 2 * sp.pi * sp.integrate(shell, (x, 0, k))
        region = fill(r"the region between $y = @f$ and the $x$-axis, rotated about the $y$-axis", f=_L(f))
        steps = [fill(r"The curve meets the $x$-axis at $x = 0$ and $x = @k$.", k=k),
                 fill(r"Shell method: $V = 2\pi\int_0^{@k} x\,y\,dx = 2\pi\int_0^{@k} (@s)\,dx$.", k=k, s=_L(shell)),
                 fill(r"$V = @E = @ANS$.", E=_L(ans))]
    text = [
        "Find the volume of the solid generated by @region.",
        "Compute the volume of the solid obtained from @region.",
        "What is the volume of the solid of revolution formed by @region?",
    ][v]
    return c.done(fill(text, region=region), "", steps, ans)


# ------------------------------------------------------------------ series

_R = sp.Symbol("R", real=True)
_C = sp.Symbol("C", real=True)
_M = sp.Symbol("M", integer=True, positive=True)


@lru_cache(maxsize=None)
def _geo(kind: str) -> sp.Expr:
    if kind == "inf":
        return sp.summation(_C * _R**n, (n, 0, sp.oo))
    if kind == "tail":
        return sp.summation(_C * _R**n, (n, _M, sp.oo))
    return sp.summation(_C * n * _R**n, (n, 1, sp.oo))


def _frac(c: Ctx) -> sp.Rational:
    den = c.i("r_den", 2, 9)
    num_ = c.rng.choice([i for i in range(-(den - 1), den) if i != 0])
    c.set(r_num=num_)
    return sp.Rational(num_, den)


@template("geometric_series", "series", MATH, ("calculus",))
def geometric_series(c: Ctx):
    v = c.variant()
    a = c.i("a", 1, 20)
    r = _frac(c)
    if c.d == 1:
        ans = sp.piecewise_fold(_geo("inf").subs({_C: a, _R: r}))
        s = fill(r"\sum_{n=0}^{\infty} @a\left(@r\right)^n", a=a, r=_L(r))
        steps = [r"Geometric series with $|r| < 1$: $\sum_{n=0}^{\infty} ar^n = \frac{a}{1 - r}$.",
                 fill(r"$\frac{@a}{1 - (@r)} = @E = @ANS$.", a=a, r=_L(r), E=_L(ans))]
    elif c.d == 2:
        m = c.i("m", 1, 4)
        ans = _geo("tail").subs({_C: a, _R: r, _M: m})
        s = fill(r"\sum_{n=@m}^{\infty} @a\left(@r\right)^n", a=a, r=_L(r), m=m)
        steps = [fill(r"First term $a r^{@m} = @f$, ratio $r = @r$.", m=m, f=_L(a * r**m), r=_L(r)),
                 fill(r"Sum $= \frac{\text{first term}}{1 - r} = \frac{@f}{1 - (@r)} = @E = @ANS$.", f=_L(a * r**m), r=_L(r), E=_L(ans))]
    else:
        ans = _geo("n").subs({_C: a, _R: r})
        s = fill(r"\sum_{n=1}^{\infty} @a\, n\left(@r\right)^n", a=a, r=_L(r))
        steps = [r"Differentiate $\sum_{n=0}^{\infty} r^n = \frac{1}{1-r}$ and multiply by $r$: $\sum_{n=1}^{\infty} nr^n = \frac{r}{(1-r)^2}$.",
                 fill(r"With $r = @r$: $\frac{r}{(1-r)^2} = @g$.", r=_L(r), g=_L(r / (1 - r) ** 2)),
                 fill(r"Multiply by $@a$: $@E = @ANS$.", a=a, E=_L(ans))]
    ans = sp.piecewise_fold(ans)
    text = [
        "Find the sum of the series $@s$.",
        "Evaluate $@s$.",
        "Determine the value of the convergent series $@s$.",
    ][v]
    return c.done(fill(text, s=s), "", steps, ans)


@lru_cache(maxsize=None)
def _tele(kind: str, k: int) -> sp.Expr:
    m = sp.Symbol("m", integer=True, positive=True)
    if kind == "inf":
        return sp.summation(1 / (m * (m + k)), (m, 1, sp.oo))
    return sp.summation(1 / (m * (m + k)), (m, 1, _M))


@template("telescoping_series", "series", MATH, ("calculus",))
def telescoping_series(c: Ctx):
    v = c.variant()
    cc = c.i("c", 1, 12)
    if c.d == 1:
        k = c.i("k", 1, 3)
        ans = cc * _tele("inf", k)
        s = fill(r"\sum_{n=1}^{\infty} \frac{@c}{n(n+@k)}", c=cc, k=k)
        steps = [fill(r"Partial fractions: $\frac{1}{n(n+@k)} = \frac{1}{@k}\left(\frac{1}{n} - \frac{1}{n+@k}\right)$; the sum telescopes.", k=k),
                 fill(r"$\sum = \frac{@c}{@k}\left(1 + \dots + \frac{1}{@k}\right) = @E = @ANS$.", c=cc, k=k, E=_L(ans))]
    elif c.d == 2:
        k = c.i("k", 1, 2)
        N = c.i("N", 5, 40)
        ans = cc * _tele("fin", k).subs(_M, N)
        s = fill(r"\sum_{n=1}^{@N} \frac{@c}{n(n+@k)}", c=cc, k=k, N=N)
        steps = [fill(r"$\frac{1}{n(n+@k)} = \frac{1}{@k}\left(\frac{1}{n} - \frac{1}{n+@k}\right)$, so only the first and last @k terms survive.", k=k),
                 fill(r"$\sum = \frac{@c}{@k}\left[@head - @tail\right] = @E = @ANS$.", c=cc, k=k,
                      head=" + ".join(_L(sp.Rational(1, i)) for i in range(1, k + 1)),
                      tail=" - ".join(_L(sp.Rational(1, N + i)) for i in range(1, k + 1)), E=_L(ans))]
    else:
        a = c.i("a", 1, 3)
        b = c.i("b", 0, 3)
        m = sp.Symbol("m", integer=True, positive=True)
        ans = sp.summation(cc / ((a * m + b) * (a * m + a + b)), (m, 1, sp.oo))
        s = fill(r"\sum_{n=1}^{\infty} \frac{@c}{(@u)(@w)}", c=cc, u=_L(a * sp.Symbol("n") + b), w=_L(a * sp.Symbol("n") + a + b))
        steps = [fill(r"$\frac{1}{(@u)(@w)} = \frac{1}{@a}\left(\frac{1}{@u} - \frac{1}{@w}\right)$.", u=_L(a * sp.Symbol("n") + b),
                      w=_L(a * sp.Symbol("n") + a + b), a=a),
                 fill(r"The series telescopes to $\frac{@c}{@a}\cdot\frac{1}{@f} = @E = @ANS$.", c=cc, a=a, f=a + b, E=_L(ans))]
    text = [
        "Find the sum $@s$.",
        "Evaluate the telescoping series $@s$.",
        "Compute the exact value of $@s$.",
    ][v]
    return c.done(fill(text, s=s), "", steps, ans)


_X = sp.Symbol("X", real=True)
_TAYLOR = {
    "exp": (_X**n / sp.factorial(n), 0, r"e^{x}"),
    "cos": ((-1) ** n * _X ** (2 * n) / sp.factorial(2 * n), 0, r"\cos x"),
    "sin": ((-1) ** n * _X ** (2 * n + 1) / sp.factorial(2 * n + 1), 0, r"\sin x"),
    "log1p": ((-1) ** (n + 1) * _X**n / n, 1, r"\ln(1 + x)"),
    "neglog": (_X**n / n, 1, r"-\ln(1 - x)"),
    "geo2": ((n + 1) * _X**n, 0, r"\frac{1}{(1 - x)^2}"),
}


@lru_cache(maxsize=None)
def _taylor(kind: str) -> sp.Expr:
    term, lo, _ = _TAYLOR[kind]
    return sp.summation(term, (n, lo, sp.oo))


@template("maclaurin_series_sum", "series", MATH, ("calculus",))
def maclaurin_series_sum(c: Ctx):
    v = c.variant()
    kind = {1: lambda: "exp", 2: lambda: c.pick(["cos", "sin"]), 3: lambda: c.pick(["log1p", "neglog", "geo2"])}[c.d]()
    c.set(kind=kind)
    if kind in ("exp", "cos", "sin"):
        xv = X(c.pick([0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 1.2, 1.5, 2.0, 2.5, 3.0], "x"))
    else:
        xv = X(c.pick([0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75], "x"))
    a = c.i("a", 1, 6)
    term, lo, fname = _TAYLOR[kind]
    closed = sp.piecewise_fold(_taylor(kind))
    ans = a * closed.subs(_X, xv)
    if isinstance(ans, sp.Piecewise):
        ans = ans.args[0][0]
    s = fill(r"\sum_{n=@lo}^{\infty} @a@t", lo=lo, a=a if a != 1 else "", t=_L(term.subs(_X, sp.UnevaluatedExpr(xv))))
    val = ans / a
    steps = [fill(r"This is @a times the Maclaurin series $\sum_{n=@lo}^{\infty} @t = @f$ evaluated at $x = @x$.", a=a, lo=lo,
                  t=_L(term.subs(_X, sp.Symbol("x"))), f=fname, x=_L(xv)),
             fill(r"Sum $= @a \cdot @val = @ANS$.", a=a, val=_L(val))]
    text = [
        "Find the sum of the series $@s$.",
        "Evaluate $@s$ by recognising a known power series.",
        "What is the value of $@s$?",
    ][v]
    return c.done(fill(text, s=s), "", steps, ans)


# ------------------------------------------------------------------ differential equations

@lru_cache(maxsize=None)
def _ode(kind: str, p: int = 0, m: int = 0) -> sp.Expr:
    """Closed-form IVP solution y(t) with symbolic parameters."""
    y = _Y(t)
    a, b, y0, k, ts, t0, V, r, cin, q0, w, v0 = sp.symbols("a b y0 k T_s T_0 V r c_in Q_0 w v_0", positive=True)
    if kind == "lin_const":
        sol = sp.dsolve(sp.Eq(y.diff(t) + a * y, b), y, ics={_Y(0): y0})
    elif kind == "lin_t":
        sol = sp.dsolve(sp.Eq(y.diff(t) + a * y, b * t), y, ics={_Y(0): y0})
    elif kind == "euler":
        sol = sp.dsolve(sp.Eq(t * y.diff(t) + p * y, b * t**m), y, ics={_Y(1): y0})
    elif kind == "growth":
        sol = sp.dsolve(sp.Eq(y.diff(t), k * y), y, ics={_Y(0): y0})
    elif kind == "cooling":
        sol = sp.dsolve(sp.Eq(y.diff(t), -k * (y - ts)), y, ics={_Y(0): t0})
    elif kind == "mixing":
        sol = sp.dsolve(sp.Eq(y.diff(t), r * cin - r * y / V), y, ics={_Y(0): q0})
    elif kind == "sho":
        sol = sp.dsolve(y.diff(t, 2) + w**2 * y, y, ics={_Y(0): y0, y.diff(t).subs(t, 0): v0})
    elif kind == "over":
        r1, r2 = sp.symbols("r1 r2", positive=True)
        sol = sp.dsolve(y.diff(t, 2) + (r1 + r2) * y.diff(t) + r1 * r2 * y, y, ics={_Y(0): y0, y.diff(t).subs(t, 0): v0})
    elif kind == "under":
        al, be = sp.symbols("alpha beta", positive=True)
        sol = sp.dsolve(y.diff(t, 2) + 2 * al * y.diff(t) + (al**2 + be**2) * y, y, ics={_Y(0): y0, y.diff(t).subs(t, 0): v0})
    else:  # pragma: no cover
        raise KeyError(kind)
    return sol.rhs


def _S(name: str) -> sp.Symbol:
    return sp.Symbol(name, positive=True)


def _ode_sub(kind: str, vals: dict, p: int = 0, m: int = 0) -> sp.Expr:
    return _ode(kind, p, m).subs({_S(k): v for k, v in vals.items()})


@template("first_order_linear_ode", "differential_equations", MATH, ("diff",))
def first_order_linear_ode(c: Ctx):
    v = c.variant()
    y0 = c.i("y0", -5, 8)
    if c.d == 1:
        a = c.pick([0.5, 1.0, 1.5, 2.0, 3.0], "a")
        b = c.i("b", -6, 10)
        t1 = c.pick([0.5, 1.0, 1.5, 2.0, 3.0], "t1")
        sol = _ode_sub("lin_const", {"a": X(a), "b": b, "y0": y0})
        ode = fill(r"$y' + @{a}y = @b$, $y(0) = @y0$", a=_cf(X(a)), b=b, y0=y0)
        steps = [r"Integrating factor $e^{at}$ gives $y = \frac{b}{a} + \left(y_0 - \frac{b}{a}\right)e^{-at}$.",
                 fill(r"Here $y(t) = @s$.", s=_L(sol))]
    elif c.d == 2:
        a = c.pick([0.5, 1.0, 2.0, 3.0], "a")
        b = c.i("b", 1, 8) * c.pick([1, -1])
        c.set(b=b)
        t1 = c.pick([0.5, 1.0, 1.5, 2.0], "t1")
        sol = _ode_sub("lin_t", {"a": X(a), "b": b, "y0": y0})
        ode = fill(r"$y' + @{a}y = @{b}t$, $y(0) = @y0$", a=_cf(X(a)), b=_cf(b), y0=y0)
        steps = [r"Integrating factor $e^{at}$: $(ye^{at})' = bte^{at}$, so $y = \frac{b}{a}t - \frac{b}{a^2} + Ce^{-at}$.",
                 fill(r"$y(0) = @y0$ fixes $C$: $y(t) = @s$.", y0=y0, s=_L(sol))]
    else:
        p = c.i("p", 1, 3)
        m = c.i("m", 1, 2)
        b = c.i("b", 1, 6)
        t1 = c.pick([1.5, 2.0, 2.5, 3.0, 4.0], "t1")
        sol = _ode_sub("euler", {"b": b, "y0": y0}, p, m)
        ode = fill(r"$t y' + @{p}y = @r$ for $t > 0$, $y(1) = @y0$", p=_cf(p), r=_L(b * t**m), y0=y0)
        steps = [fill(r"Divide by $t$ and use the integrating factor $@tp$: $(@{tp}y)' = @r$.", tp=_L(t**p), r=_L(b * t ** (m + p - 1))),
                 fill(r"Integrate and apply $y(1) = @y0$: $y(t) = @s$.", y0=y0, s=_L(sp.simplify(sol)))]
    ans = sol.subs(t, X(t1))
    steps.append(fill(r"$y(@t) = @ANS$.", t=_L(X(t1))))
    text = [
        "Solve the initial-value problem @ode and find $y(@t)$.",
        "Let $y$ satisfy @ode. Compute $y(@t)$.",
        "For the solution of @ode, what is the value of $y$ at $t = @t$?",
    ][v]
    return c.done(fill(text, ode=ode, t=_L(X(t1))), "", steps, ans)


@template("exponential_growth_decay", "differential_equations", MATH, ("diff", "calculus"))
def exponential_growth_decay(c: Ctx):
    v = c.variant()
    P0 = c.i("P0", 100, 5000)
    if c.d == 1:
        k = c.u("k", 0.02, 0.5, 2)
        tt = c.u("t", 1, 20, 2)
        sol = _ode_sub("growth", {"k": X(k), "y0": P0})
        ans = sol.subs(t, X(tt))
        sit = fill(r"A bacterial population grows according to $dP/dt = kP$ with $k = @k \mathrm{~h}^{-1}$, starting from @P cells.", k=k, P=P0)
        ask = fill(r"How many cells are there after @t?", t=q(tt, r"\mathrm{~h}"))
        steps = [r"$P(t) = P_0e^{kt}$.", fill(r"$P(@t) = @P e^{(@k)(@t)} = @ANS$.", P=P0, k=k, t=tt)]
    elif c.d == 2:
        Td = c.u("T_double", 0.5, 12, 2)
        tt = c.u("t", 1, 36, 2)
        kk = sp.log(2) / X(Td)
        sol = _ode_sub("growth", {"k": kk, "y0": P0})
        ans = sol.subs(t, X(tt))
        sit = fill(r"A culture of @P bacteria grows exponentially with a doubling time of @T.", P=P0, T=q(Td, r"\mathrm{~h}"))
        ask = fill(r"What is the population after @t?", t=q(tt, r"\mathrm{~h}"))
        steps = [fill(r"$k = \ln 2/T_\mathrm{d} = 0.6931/@T = @k \mathrm{~h}^{-1}$.", T=Td, k=res(ev(kk))),
                 fill(r"$P(@t) = @P e^{(@k)(@t)} = @ANS$.", P=P0, k=res(ev(kk)), t=tt)]
    else:
        t1 = c.u("t1", 1, 10, 2)
        f1 = c.u("growth_factor", 1.2, 4.0, 2)
        P1 = int(round(P0 * f1))
        c.params.pop("growth_factor")
        c.set(P1=P1)
        target = c.pick([2, 3, 5, 10], "target_factor")
        P2 = P0 * target
        c.set(P2=P2)
        if P1 <= P0 or P2 <= P1:
            raise Resample
        kk = sp.log(sp.Rational(P1, P0)) / X(t1)
        ans = sp.log(sp.Rational(P2, P0)) / kk * 60
        sit = fill(r"A population modelled by $dP/dt = kP$ has @P individuals at $t = 0$ and @P1 after @t1.", P=P0, P1=P1, t1=q(t1, r"\mathrm{~h}"))
        ask = fill(r"How long after $t = 0$ does it take to reach @P2?", P2=P2)
        steps = [fill(r"$k = \frac{1}{t_1}\ln\frac{P_1}{P_0} = \frac{\ln(@P1/@P)}{@t1} = @k \mathrm{~h}^{-1}$.", P1=P1, P=P0, t1=t1, k=res(ev(kk))),
                 fill(r"$t = \frac{1}{k}\ln\frac{@P2}{@P} = @th \mathrm{~h}$.", P2=P2, P=P0, th=res(ev(ans / 60))),
                 r"In minutes: $t = @ANS \mathrm{~min}$."]
    text = [
        "@sit @ask",
        "Exponential growth model: @sit @ask",
        "Consider the following growth problem. @sit @ask",
    ][v]
    unit = r"$\mathrm{min}$" if c.d == 3 else ""
    return c.done(fill(text, sit=sit, ask=ask), unit, steps, ans)


@template("newton_cooling", "differential_equations", MATH, ("diff",))
def newton_cooling(c: Ctx):
    v = c.variant()
    Ts = c.i("T_s", 10, 30)
    T0 = c.i("T0", 60, 200)
    obj = c.pick(["cup of coffee", "metal block", "bowl of soup", "cake taken from the oven", "hot iron bar"], "object")
    base = fill(r"A @o at @T0 is placed in a room kept at @Ts. Its temperature obeys Newton's law of cooling, $dT/dt = -k(T - T_s)$.",
                o=obj, T0=q(T0, r"{ }^{\circ} \mathrm{C}"), Ts=q(Ts, r"{ }^{\circ} \mathrm{C}"))
    if c.d == 1:
        k = c.u("k", 0.01, 0.2, 2)
        tt = c.u("t", 2, 60, 2)
        sol = _ode_sub("cooling", {"k": X(k), "T_s": Ts, "T_0": T0})
        ans = sol.subs(t, X(tt))
        data = fill(r" The constant is $k = @k \mathrm{~min}^{-1}$.", k=k)
        ask = fill(r"Find its temperature after @t.", t=q(tt, C_MIN))
        steps = [r"$T(t) = T_s + (T_0 - T_s)e^{-kt}$.", fill(r"$T(@t) = @Ts + (@d)e^{-(@k)(@t)} = @ANS { }^{\circ}\mathrm{C}$.", t=tt, Ts=Ts, d=T0 - Ts, k=k)]
    else:
        t1 = c.u("t1", 2, 30, 2)
        frac = c.rng.uniform(0.4, 0.9)
        T1 = round(Ts + (T0 - Ts) * frac, 1)
        c.set(T1=T1)
        kk = sp.log(sp.Integer(T0 - Ts) / (X(T1) - Ts)) / X(t1)
        data = fill(r" After @t1 its temperature is @T1.", t1=q(t1, C_MIN), T1=q(T1, r"{ }^{\circ} \mathrm{C}"))
        s1 = fill(r"$T - T_s = (T_0 - T_s)e^{-kt}$: $k = \frac{1}{@t1}\ln\frac{@d}{@d1} = @k \mathrm{~min}^{-1}$.", t1=t1, d=T0 - Ts, d1=num(round(T1 - Ts, 1)), k=res(ev(kk)))
        if c.d == 2:
            t2 = c.u("t2", t1 + 2, 90, 2)
            sol = _ode_sub("cooling", {"k": kk, "T_s": Ts, "T_0": T0})
            ans = sol.subs(t, X(t2))
            ask = fill(r"What is its temperature after @t2?", t2=q(t2, C_MIN))
            steps = [s1, fill(r"$T(@t2) = @Ts + (@d)e^{-(@k)(@t2)} = @ANS { }^{\circ}\mathrm{C}$.", t2=t2, Ts=Ts, d=T0 - Ts, k=res(ev(kk)))]
        else:
            T2 = c.u("T2", Ts + 1, T1 - 1, 3)
            if not Ts + 0.5 < T2 < T1:
                raise Resample
            ans = sp.log(sp.Integer(T0 - Ts) / (X(T2) - Ts)) / kk * 60
            ask = fill(r"How long after it is put in the room does it take to reach @T2?", T2=q(T2, r"{ }^{\circ} \mathrm{C}"))
            steps = [s1, fill(r"$t = \frac{1}{k}\ln\frac{@d}{@d2} = @tm \mathrm{~min}$.", d=T0 - Ts, d2=num(round(T2 - Ts, 3)), tm=res(ev(ans / 60))),
                     r"In seconds: $t = @ANS \mathrm{~s}$."]
    text = [
        "@base@data @ask",
        "Newton's law of cooling: @base@data @ask",
        "Cooling problem. @base@data @ask",
    ][v]
    unit = r"$\mathrm{s}$" if c.d == 3 else r"${ }^{\circ} \mathrm{C}$"
    return c.done(fill(text, base=base, data=data, ask=ask), unit, steps, ans)


@template("mixing_tank", "differential_equations", MATH, ("diff",))
def mixing_tank(c: Ctx):
    v = c.variant()
    V = c.step("V", 100, 2000, 50)
    r = c.step("r", 2, 40, 1)
    Q0 = c.u("Q0", 1, 100, 2)
    tank = fill(r"A tank holds @V of brine containing @Q of dissolved salt. Liquid is pumped in at @r, the mixture is kept uniform, and it drains at the same rate.",
                V=q(V, r"\mathrm{~L}"), Q=q(Q0, C_KG), r=q(r, r"\mathrm{~L} \mathrm{~min}^{-1}"))
    ode = r"$\frac{dQ}{dt} = r c_\mathrm{in} - \frac{r}{V}Q$"
    if c.d == 1:
        tt = c.u("t", 5, 120, 2)
        sol = _ode_sub("mixing", {"V": X(V), "r": X(r), "c_in": 0, "Q_0": X(Q0)})
        ans = sol.subs(t, X(tt))
        feed = " The incoming liquid is pure water."
        ask = fill(r"How much salt remains after @t?", t=q(tt, C_MIN))
        steps = [fill(r"@o with $c_\mathrm{in} = 0$ gives $Q = Q_0e^{-rt/V}$.", o=ode),
                 fill(r"$Q(@t) = @Q e^{-(@r)(@t)/@V} = @ANS \mathrm{~kg}$.", t=tt, Q=Q0, r=num(r), V=num(V))]
        unit = r"$\mathrm{kg}$"
    else:
        if c.d == 2:
            cin = c.u("c_in", 0.01, 0.3, 2)
            cinE = X(cin)
            feed = fill(r" The incoming brine contains @c of salt.", c=q(cin, r"\mathrm{~kg} \mathrm{~L}^{-1}"))
        else:
            cin = c.u("c_in_gL", 10, 300, 2)
            cinE = X(cin) / 1000
            feed = fill(r" The incoming brine contains @c of salt.", c=q(cin, r"\mathrm{~g} \mathrm{~L}^{-1}"))
        Qinf = X(V) * cinE
        sol = _ode_sub("mixing", {"V": X(V), "r": X(r), "c_in": cinE, "Q_0": X(Q0)})
        s1 = fill(r"@o has solution $Q = Vc_\mathrm{in} + (Q_0 - Vc_\mathrm{in})e^{-rt/V}$ with $Vc_\mathrm{in} = @Qi \mathrm{~kg}$.", o=ode, Qi=res(ev(Qinf)))
        if c.d == 2:
            tt = c.u("t", 5, 120, 2)
            ans = sol.subs(t, X(tt))
            ask = fill(r"How much salt is in the tank after @t?", t=q(tt, C_MIN))
            steps = [s1, fill(r"$Q(@t) = @Qi + (@d)e^{-(@r)(@t)/@V} = @ANS \mathrm{~kg}$.", t=tt, Qi=res(ev(Qinf)), d=res(ev(X(Q0) - Qinf)),
                              r=num(r), V=num(V))]
            unit = r"$\mathrm{kg}$"
        else:
            frac = c.rng.uniform(0.2, 0.8)
            Qt = float(f"{ev(X(Q0) + (Qinf - X(Q0)) * frac):.3g}")
            c.set(Q_target=Qt)
            ratio = (X(Qt) - Qinf) / (X(Q0) - Qinf)
            if not 0.05 < ev(ratio) < 0.95:
                raise Resample
            ans = -X(V) / X(r) * sp.log(ratio)
            ask = fill(r"How long does it take until the tank contains @Qt of salt?", Qt=q(Qt, C_KG))
            steps = [fill(r"$c_\mathrm{in} = @c \mathrm{~kg} \mathrm{~L}^{-1}$.", c=num(ev(cinE))), s1,
                     fill(r"$e^{-rt/V} = \frac{Q - Vc_\mathrm{in}}{Q_0 - Vc_\mathrm{in}} = @g$, so $t = -\frac{V}{r}\ln(@g) = @ANS \mathrm{~min}$.", g=res(ev(ratio)))]
            unit = r"$\mathrm{min}$"
    text = [
        "@tank@feed @ask",
        "Mixing problem: @tank@feed @ask",
        "Model the following with a first-order differential equation. @tank@feed @ask",
    ][v]
    return c.done(fill(text, tank=tank, feed=feed, ask=ask), unit, steps, ans)


@template("second_order_linear_ode", "differential_equations", MATH, ("diff", "class"))
def second_order_linear_ode(c: Ctx):
    v = c.variant()
    y0 = c.i("y0", -4, 6)
    v0 = c.i("v0", -5, 6)
    if y0 == 0 and v0 == 0:
        raise Resample
    t1 = c.pick([0.25, 0.5, 1.0, 1.5, 2.0], "t1")
    if c.d == 1:
        w2 = c.i("w2", 1, 16)
        sol = _ode_sub("sho", {"w": sp.sqrt(w2), "y0": y0, "v_0": v0})
        ode = fill(r"$y'' + @{w}y = 0$", w=_cf(w2))
        steps = [fill(r"Characteristic roots $\pm i\omega$ with $\omega = @w$: $y = y_0\cos\omega t + \frac{v_0}{\omega}\sin\omega t$.", w=_L(sp.sqrt(w2))),
                 fill(r"$y(t) = @s$.", s=_L(sol))]
    elif c.d == 2:
        r1 = c.i("r1", 1, 4)
        r2 = c.i("r2", r1 + 1, 6)
        sol = _ode_sub("over", {"r1": r1, "r2": r2, "y0": y0, "v_0": v0})
        ode = fill(r"$y'' + @b y' + @c y = 0$", b=r1 + r2, c=r1 * r2)
        steps = [fill(r"Characteristic equation $s^2 + @b s + @c = 0$ has roots $s = -@r1, -@r2$, so $y = C_1e^{-@r1 t} + C_2e^{-@r2 t}$.",
                      b=r1 + r2, c=r1 * r2, r1=r1, r2=r2),
                 fill(r"The initial conditions give $y(t) = @s$.", s=_L(sp.simplify(sol)))]
    else:
        m = c.u("m", 0.5, 5, 2)
        kf = c.u("k", 10, 200, 2)
        gam = c.u("gamma", 0.2, 3, 2)
        al = X(gam) / (2 * X(m))
        be2 = X(kf) / X(m) - al**2
        if ev(be2) <= 0.5:
            raise Resample
        be = sp.sqrt(be2)
        c.params.pop("y0"), c.params.pop("v0")
        x0 = c.i("x0_cm", 1, 10)
        c.set(v0=0)
        sol = _ode(("under")).subs({_S("alpha"): al, _S("beta"): be, _S("y0"): x0, _S("v_0"): 0})
        ans = sol.subs(t, X(t1))
        if abs(ev(ans)) < 0.05:
            raise Resample
        sysd = fill(r"A mass of @m hangs on a spring of stiffness @k and is subject to a damping force $-\gamma\dot{x}$ with $\gamma = @g \mathrm{~kg} \mathrm{~s}^{-1}$. It is pulled @x from equilibrium and released from rest.",
                    m=q(m, C_KG), k=q(kf, r"\mathrm{~N} \mathrm{~m}^{-1}"), g=gam, x=q(x0, r"\mathrm{~cm}"))
        steps = [fill(r"$m\ddot{x} + \gamma\dot{x} + kx = 0$: $\alpha = \gamma/2m = @a \mathrm{~s}^{-1}$, $\beta = \sqrt{k/m - \alpha^2} = @b \mathrm{~s}^{-1}$.",
                      a=res(ev(al)), b=res(ev(be))),
                 r"Underdamped with $x(0) = x_0$, $\dot{x}(0) = 0$: $x = x_0e^{-\alpha t}\left(\cos\beta t + \frac{\alpha}{\beta}\sin\beta t\right)$.",
                 fill(r"$x(@t) = @ANS \mathrm{~cm}$.", t=num(t1))]
        text = [
            "@sys Find its displacement @t later.",
            "Damped oscillator: @sys What is the displacement at $t = @tt \\mathrm{~s}$?",
            "Solve for the motion. @sys Give the position at time @t.",
        ][v]
        return c.done(fill(text, sys=sysd, t=q(t1, r"\mathrm{~s}"), tt=num(t1)), r"$\mathrm{cm}$", steps, ans)
    ans = sol.subs(t, X(t1))
    if abs(ev(ans)) < 0.02:
        raise Resample
    steps.append(fill(r"$y(@t) = @ANS$.", t=_L(X(t1))))
    ics = fill(r"$y(0) = @y0$, $y'(0) = @v0$", y0=y0, v0=v0)
    text = [
        "Solve @ode with @ics, and evaluate $y(@t)$.",
        "Let $y(t)$ solve the initial-value problem @ode, @ics. Find $y(@t)$.",
        "Find the value at $t = @t$ of the solution of @ode satisfying @ics.",
    ][v]
    return c.done(fill(text, ode=ode, ics=ics, t=_L(X(t1))), "", steps, ans)


# ------------------------------------------------------------------ probability and statistics

def _prob(ans: sp.Expr) -> sp.Expr:
    """Reject degenerate probabilities (too close to 0 or 1 to be interesting)."""
    if not 0.001 < ev(ans) < 0.999:
        raise Resample
    return ans


def _binom_terms(nn: int, p: sp.Expr, ks: range) -> sp.Expr:
    return sp.Add(*[sp.binomial(nn, k) * p**k * (1 - p) ** (nn - k) for k in ks])


@template("binomial_probability", "probability", MATH, ("stat",))
def binomial_probability(c: Ctx):
    v = c.variant()
    nn = c.i("n", 4, 20)
    if c.d < 3:
        pp = c.u("p", 0.05, 0.95, 2)
        pE = X(pp)
        ptxt = num(pp)
    else:
        pct = c.step("p_percent", 5, 95, 5)
        pE = X(pct) / 100
        ptxt = f"{num(pct)}\\%"
    k = c.i("k", 1, nn - 1)
    if c.d == 1:
        ans = _binom_terms(nn, pE, range(k, k + 1))
        ev_txt = fill(r"exactly @k", k=k)
        steps = [r"$P(X = k) = \binom{n}{k}p^k(1-p)^{n-k}$.",
                 fill(r"$P(X = @k) = \binom{@n}{@k}(@p)^{@k}(@q)^{@m} = @ANS$.", k=k, n=nn, p=num(ev(pE)), q=num(round(1 - ev(pE), 4)), m=nn - k)]
    elif c.d == 2:
        ans = _binom_terms(nn, pE, range(0, k + 1))
        ev_txt = fill(r"at most @k", k=k)
        steps = [fill(r"$P(X \le @k) = \sum_{j=0}^{@k} \binom{@n}{j}(@p)^j(@q)^{@n-j}$.", k=k, n=nn, p=num(ev(pE)), q=num(round(1 - ev(pE), 4))),
                 r"Summing the terms gives $@ANS$."]
    else:
        below = _binom_terms(nn, pE, range(0, k))
        ans = 1 - below
        ev_txt = fill(r"at least @k", k=k)
        steps = [fill(r"$p = @p$; use the complement: $P(X \ge @k) = 1 - P(X \le @km)$.", p=num(ev(pE)), k=k, km=k - 1),
                 fill(r"$P(X \le @km) = \sum_{j=0}^{@km}\binom{@n}{j}p^j(1-p)^{@n-j} = @b$.", km=k - 1, n=nn, b=res(ev(below), 5)),
                 fill(r"$P(X \ge @k) = 1 - @b = @ANS$.", k=k, b=res(ev(below), 5))]
    text = [
        "Each of @n independent trials succeeds with probability $@p$. What is the probability of @e successes?",
        "A machine produces items that are defective with probability $@p$, independently. In a batch of @n items, find the probability that @e are defective.",
        "Let $X \\sim \\mathrm{Bin}(@n, @p)$. Compute the probability that $X$ @e2.",
    ][v]
    e2 = {1: f"equals ${k}$", 2: f"is at most ${k}$", 3: f"is at least ${k}$"}[c.d]
    return c.done(fill(text, n=nn, p=ptxt, e=ev_txt, e2=e2), "", steps, _prob(ans))


def _Phi(z: sp.Expr) -> sp.Expr:
    return (1 + sp.erf(z / sp.sqrt(2))) / 2


@template("normal_distribution", "statistics", MATH, ("stat",))
def normal_distribution(c: Ctx):
    v = c.variant()
    mu = c.u("mu", 10, 500, 3)
    sd = c.u("sigma", 0.05 * mu, 0.3 * mu, 2)
    qty = c.pick(["the mass of a packet in grams", "the lifetime of a battery in hours", "a test score", "the length of a rod in millimetres",
                  "the daily demand for a product"], "quantity")
    if c.d == 1:
        xv = c.u("x", mu - 2.5 * sd, mu + 2.5 * sd, 3)
        z = (X(xv) - X(mu)) / X(sd)
        ans = _Phi(z)
        ask = fill(r"$P(X < @x)$", x=xv)
        steps = [fill(r"$z = (x - \mu)/\sigma = (@x - @mu)/@s = @z$.", x=xv, mu=mu, s=sd, z=res(ev(z))),
                 fill(r"$P = \Phi(z) = \tfrac{1}{2}\left[1 + \mathrm{erf}(z/\sqrt{2})\right] = @ANS$.")]
    elif c.d == 2:
        a = c.u("a", mu - 2.5 * sd, mu + 1.5 * sd, 3)
        b = c.u("b", a + 0.3 * sd, mu + 3 * sd, 3)
        if b <= a:
            raise Resample
        za, zb = (X(a) - X(mu)) / X(sd), (X(b) - X(mu)) / X(sd)
        ans = _Phi(zb) - _Phi(za)
        ask = fill(r"$P(@a < X < @b)$", a=a, b=b)
        steps = [fill(r"$z_1 = (@a - @mu)/@s = @z1$, $z_2 = (@b - @mu)/@s = @z2$.", a=a, b=b, mu=mu, s=sd, z1=res(ev(za)), z2=res(ev(zb))),
                 fill(r"$P = \Phi(z_2) - \Phi(z_1) = @p2 - @p1 = @ANS$.", p2=res(ev(_Phi(zb))), p1=res(ev(_Phi(za))))]
    else:
        m = c.i("n", 4, 50)
        se = X(sd) / sp.sqrt(m)
        xv = c.u("x", mu - 2.5 * ev(se), mu + 2.5 * ev(se), 4)
        z = (X(xv) - X(mu)) / se
        ans = 1 - _Phi(z)
        ask = fill(r"the probability that the mean of a random sample of @n observations exceeds @x", n=m, x=xv)
        steps = [fill(r"$\sigma_{\bar{X}} = \sigma/\sqrt{n} = @s/\sqrt{@n} = @se$.", s=sd, n=m, se=res(ev(se))),
                 fill(r"$z = (@x - @mu)/@se = @z$.", x=xv, mu=mu, se=res(ev(se)), z=res(ev(z))),
                 fill(r"$P(\bar{X} > @x) = 1 - \Phi(z) = @ANS$.", x=xv)]
    text = [
        "Suppose @qty, $X$, is normally distributed with mean $@mu$ and standard deviation $@s$. Find @ask.",
        "Let $X \\sim N(@mu, @s^2)$ model @qty. Compute @ask.",
        "Assume @qty is normal with $\\mu = @mu$ and $\\sigma = @s$. What is @ask?",
    ][v]
    return c.done(fill(text, qty=qty, mu=mu, s=sd, ask=ask), "", steps, _prob(ans))


def _pois(lam: sp.Expr, ks: range) -> sp.Expr:
    return sp.Add(*[sp.exp(-lam) * lam**k / sp.factorial(k) for k in ks])


@template("poisson_probability", "probability", MATH, ("stat",))
def poisson_probability(c: Ctx):
    v = c.variant()
    what = c.pick(["calls arrive at a help desk", "cars pass a checkpoint", "particles hit a detector", "emails arrive in an inbox",
                   "customers enter a shop"], "process")
    if c.d < 3:
        lam = c.u("lambda", 0.5, 12, 2)
        L = X(lam)
        k = c.i("k", int(0.5 * lam), max(2, int(1.5 * lam) + 1))
        rate = fill(r"on average @l times per minute", l=num(lam))
        span = "in a given minute"
    else:
        rh = c.u("rate_per_h", 6, 120, 2)
        tm = c.step("t_min", 5, 60, 5)
        L = X(rh) * X(tm) / 60
        k = c.i("k", max(1, int(0.5 * ev(L))), max(2, int(1.5 * ev(L)) + 1))
        rate = fill(r"at an average rate of @r per hour", r=num(rh))
        span = fill(r"in a @t-minute interval", t=num(tm))
    if c.d == 1:
        ans = _pois(L, range(k, k + 1))
        ask = fill(r"exactly @k such events occur", k=k)
        steps = [r"Poisson: $P(X = k) = e^{-\lambda}\lambda^k/k!$.",
                 fill(r"$P(X = @k) = e^{-@l}(@l)^{@k}/@k! = @ANS$.", k=k, l=num(ev(L)))]
    elif c.d == 2:
        ans = _pois(L, range(0, k + 1))
        ask = fill(r"at most @k such events occur", k=k)
        steps = [fill(r"$P(X \le @k) = e^{-\lambda}\sum_{j=0}^{@k}\lambda^j/j!$ with $\lambda = @l$.", k=k, l=num(ev(L))),
                 r"Summing the terms gives $@ANS$."]
    else:
        below = _pois(L, range(0, k))
        ans = 1 - below
        ask = fill(r"at least @k such events occur", k=k)
        steps = [fill(r"$\lambda = (@r)(@t/60) = @l$.", r=num(rh), t=num(tm), l=res(ev(L))),
                 fill(r"$P(X \le @km) = e^{-\lambda}\sum_{j=0}^{@km}\lambda^j/j! = @b$.", km=k - 1, b=res(ev(below), 5)),
                 fill(r"$P(X \ge @k) = 1 - @b = @ANS$.", k=k, b=res(ev(below), 5))]
    text = [
        "Events in which @w occur @rate, following a Poisson process. Find the probability that @ask @span.",
        "Assume @w @rate, as a Poisson process. What is the probability that @ask @span?",
        "Model with a Poisson distribution: @w @rate. Compute the probability that @ask @span.",
    ][v]
    return c.done(fill(text, w=what, rate=rate, ask=ask, span=span), "", steps, _prob(ans))


@template("expected_value", "probability", MATH, ("stat",))
def expected_value(c: Ctx):
    v = c.variant()
    if c.d < 3:
        m = c.i("m", 3, 5)
        vals = sorted(c.rng.sample(range(-5, 21), m))
        cuts = sorted(c.rng.sample(range(1, 20), m - 1))
        probs = [b - a for a, b in zip([0] + cuts, cuts + [20])]
        if min(probs) == 0:
            raise Resample
        pr = [sp.Rational(p_, 20) for p_ in probs]
        for i, (xv, p_) in enumerate(zip(vals, probs)):
            c.params[f"x{i}"] = xv
            c.params[f"p{i}"] = p_ / 20
        table = ", ".join(f"$P(X = {xv}) = {num(p_ / 20)}$" for xv, p_ in zip(vals, probs))
        E = sum(xv * p_ for xv, p_ in zip(vals, pr))
        terms = " + ".join(f"({xv})({num(float(p_))})" for xv, p_ in zip(vals, pr))
        if c.d == 1:
            ans = E
            ask = "the expected value $E[X]$"
            steps = [fill(r"$E[X] = \sum x\,P(x) = @t = @ANS$.", t=terms)]
        else:
            E2 = sum(xv**2 * p_ for xv, p_ in zip(vals, pr))
            ans = E2 - E**2
            ask = "the variance of $X$"
            steps = [fill(r"$E[X] = \sum x\,P(x) = @E$.", E=num(float(E))),
                     fill(r"$E[X^2] = \sum x^2P(x) = @E2$.", E2=num(float(E2))),
                     fill(r"$\mathrm{Var}(X) = E[X^2] - E[X]^2 = @E2 - (@E)^2 = @ANS$.", E2=num(float(E2)), E=num(float(E)))]
        desc = f"A discrete random variable $X$ has the distribution {table}."
    else:
        k = c.i("k", 1, 4)
        b = c.i("b", 1, 5)
        cc = sp.Symbol("c", positive=True)
        norm = sp.integrate(cc * x**k, (x, 0, b))
        cval = sp.solve(sp.Eq(norm, 1), cc)[0]
        ans = sp.integrate(x * cval * x**k, (x, 0, b))
        desc = fill(r"A continuous random variable $X$ has density $f(x) = c\,x^{@k}$ for $0 \le x \le @b$ and $0$ otherwise.", k=k, b=b)
        ask = "the expected value $E[X]$"
        steps = [fill(r"Normalisation: $\int_0^{@b} c x^{@k}dx = c\frac{@b^{@k1}}{@k1} = 1 \Rightarrow c = @c$.", b=b, k=k, k1=k + 1, c=_L(cval)),
                 fill(r"$E[X] = \int_0^{@b} x f(x)\,dx = @c\cdot\frac{@b^{@k2}}{@k2} = @E = @ANS$.", b=b, c=_L(cval), k2=k + 2, E=_L(ans))]
    text = [
        "@desc Find @ask.",
        "Compute @ask. @desc",
        "@desc What is @ask?",
    ][v]
    if v == 2:
        text = "Consider the following. " + text
    return c.done(fill(text, desc=desc, ask=ask), "", steps, ans)


@template("confidence_interval", "statistics", MATH, ("stat",))
def confidence_interval(c: Ctx):
    v = c.variant()
    conf = c.pick([80, 90, 95, 98, 99], "confidence_pct")
    z = sp.sqrt(2) * sp.erfinv(sp.Rational(conf, 100))
    sd = c.u("sigma", 0.5, 50, 2)
    zs = fill(r"$z^* = \Phi^{-1}(@p) = @z$", p=num(0.5 + conf / 200), z=res(ev(z), 5))
    if c.d < 3:
        m = c.i("n", 10, 400)
        E = z * X(sd) / sp.sqrt(m)
        if c.d == 1:
            ans = E
            setting = fill(r"A random sample of @n observations is taken from a population with known standard deviation $\sigma = @s$.", n=m, s=sd)
            ask = fill(r"the margin of error of a @c\% confidence interval for the population mean", c=conf)
            steps = [zs + ".", fill(r"$E = z^*\sigma/\sqrt{n} = (@z)(@s)/\sqrt{@n} = @ANS$.", z=res(ev(z), 5), s=sd, n=m)]
        else:
            xbar = c.u("xbar", 10 * sd, 200 * sd, 4)
            ans = X(xbar) + E
            setting = fill(r"A random sample of @n observations has mean $\bar{x} = @x$; the population standard deviation is known to be $\sigma = @s$.",
                           n=m, x=xbar, s=sd)
            ask = fill(r"the upper limit of the @c\% confidence interval for the population mean", c=conf)
            steps = [zs + fill(r", so $E = z^*\sigma/\sqrt{n} = @E$.", E=res(ev(E))),
                     fill(r"Upper limit $= \bar{x} + E = @x + @E = @ANS$.", x=xbar, E=res(ev(E)))]
    else:
        E = c.u("E", 0.05 * sd, 0.8 * sd, 2)
        raw = (z * X(sd) / X(E)) ** 2
        ans = sp.ceiling(raw)
        setting = fill(r"A population has known standard deviation $\sigma = @s$.", s=sd)
        ask = fill(r"the smallest sample size for which the @c\% confidence interval for the mean has margin of error at most $@E$", c=conf, E=E)
        steps = [zs + ".",
                 fill(r"$n \ge (z^*\sigma/E)^2 = ((@z)(@s)/@E)^2 = @r$.", z=res(ev(z), 5), s=sd, E=E, r=res(ev(raw), 6)),
                 r"Rounding up, $n = @ANS$."]
    text = [
        "@setting Find @ask.",
        "Compute @ask. @setting",
        "Statistics: @setting What is @ask?",
    ][v]
    return c.done(fill(text, setting=setting, ask=ask), "", steps, ans)
