"""Physical chemistry II: kinetics, equilibrium and electrochemistry (atkins, matter, chemmc, thermo)."""

from __future__ import annotations

import sympy as sp

from . import constants as C
from ..base import Ctx, Resample, X, ev, fill, num, q, res, sig_round, template

CHEM = "chemistry"
RS = "8.3145"
FS = "96485"
PER_S = r"\mathrm{~s}^{-1}"
PER_MIN = r"\mathrm{~min}^{-1}"
K2_UNIT = r"\mathrm{~dm}^3 \mathrm{~mol}^{-1} \mathrm{~s}^{-1}"
K2_UNIT_MIN = r"\mathrm{~dm}^3 \mathrm{~mol}^{-1} \mathrm{~min}^{-1}"
CONC = r"$\mathrm{mol} \mathrm{~dm}^{-3}$"
LN2 = sp.log(2)


def _kelvin(tc: float) -> float:
    return round(tc + 273.15, 2)


# ---------------------------------------------------------------- kinetics

@template("first_order_kinetics", "kinetics", CHEM, ("atkins", "matter", "chemmc"))
def first_order_kinetics(c: Ctx):
    v = c.variant()
    if c.d == 1:
        A0 = c.u("A0", 0.05, 2.0)
        k = c.lu("k", 1e-4, 1e-1)
        t = c.u("t", 1.0, 3.0 / k)
        ans = X(A0) * sp.exp(-X(k) * X(t))
        data = fill(r"A first-order reaction $\mathrm{A} \rightarrow \mathrm{P}$ has rate constant @k and initial concentration $[\mathrm{A}]_0 = @A0$.",
                    k=q(k, PER_S), A0=q(A0, C.MOLDM3)[1:-1])
        ask = fill(r"the concentration of A after @t", t=q(t, C.S))
        steps = [r"First order: $[\mathrm{A}] = [\mathrm{A}]_0 e^{-kt}$.",
                 fill(r"$[\mathrm{A}] = (@A0)e^{-(@k)(@t)} = @ANS \mathrm{~mol} \mathrm{~dm}^{-3}$.", A0=A0, k=k, t=t)]
        unit = CONC
    elif c.d == 2:
        th = c.u("t_half", 2.0, 200.0)
        t = c.u("t", 0.2 * th, 4 * th)
        ans = 100 * sp.Rational(1, 2) ** (X(t) / X(th))
        data = fill(r"A substance decays by first-order kinetics with a half-life of @th.", th=q(th, C.MIN))
        ask = fill(r"the percentage of the substance that remains after @t", t=q(t, C.MIN))
        kk = LN2 / X(th)
        steps = [fill(r"$k = \ln 2/t_{1/2} = 0.6931/@th = @k \mathrm{~min}^{-1}$.", th=th, k=res(ev(kk))),
                 fill(r"Fraction left $= e^{-kt} = e^{-(@k)(@t)} = @f$, i.e. $@ANS \%$.", k=res(ev(kk)), t=t, f=res(ev(ans / 100)))]
        unit = r"$\%$"
    else:
        th = c.u("t_half_h", 0.5, 48.0)
        A0 = c.u("A0", 0.1, 2.0)
        frac = c.u("A_frac", 0.05, 0.9, 2)
        A = sig_round(A0 * frac, 3)
        c.params.pop("A_frac")
        c.set(A=A)
        if A >= A0:
            raise Resample
        kk = LN2 / (X(th) * 60)
        ans = sp.log(X(A0) / X(A)) / kk
        data = fill(r"A first-order decomposition has a half-life of @th.", th=q(th, r"\mathrm{~h}"))
        ask = fill(r"the time needed for the concentration to fall from @A0 to @A",
                   A0=q(A0, C.MOLDM3), A=q(A, C.MOLDM3))
        steps = [fill(r"$t_{1/2} = @th \times 60 = @m \mathrm{~min}$, so $k = \ln 2/t_{1/2} = @k \mathrm{~min}^{-1}$.", th=th,
                      m=num(ev(X(th) * 60)), k=res(ev(kk))),
                 fill(r"$t = \frac{1}{k}\ln\frac{[\mathrm{A}]_0}{[\mathrm{A}]} = \frac{\ln(@A0/@A)}{@k} = @ANS \mathrm{~min}$.",
                      A0=A0, A=A, k=res(ev(kk)))]
        unit = r"$\mathrm{min}$"
    text = [
        "@data Calculate @ask.",
        "Find @ask, given the following. @data",
        "What is @ask? @data",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)


@template("second_order_kinetics", "kinetics", CHEM, ("atkins", "matter"))
def second_order_kinetics(c: Ctx):
    v = c.variant()
    if c.d == 1:
        A0 = c.u("A0", 0.05, 2.0)
        k = c.lu("k", 1e-3, 1.0)
        t = c.u("t", 10, 5 / (k * A0))
        ans = 1 / (1 / X(A0) + X(k) * X(t))
        data = fill(r"The reaction $2\mathrm{A} \rightarrow \mathrm{P}$ is second order in A with $k = @k$ and $[\mathrm{A}]_0 = @A0$.",
                    k=q(k, K2_UNIT)[1:-1], A0=q(A0, C.MOLDM3)[1:-1])
        ask = fill(r"the concentration of A after @t", t=q(t, C.S))
        steps = [r"Second order: $1/[\mathrm{A}] = 1/[\mathrm{A}]_0 + kt$.",
                 fill(r"$1/[\mathrm{A}] = 1/@A0 + (@k)(@t) = @inv$, so $[\mathrm{A}] = @ANS \mathrm{~mol} \mathrm{~dm}^{-3}$.",
                      A0=A0, k=k, t=t, inv=res(ev(1 / ans)))]
        unit = CONC
    elif c.d == 2:
        A0 = c.u("A0", 0.05, 2.0)
        frac = c.rng.uniform(0.15, 0.85)
        A = sig_round(A0 * frac, 3)
        c.set(A=A)
        t = c.u("t", 10, 5000)
        if A >= A0:
            raise Resample
        ans = (1 / X(A) - 1 / X(A0)) / X(t)
        data = fill(r"In a second-order reaction $2\mathrm{A} \rightarrow \mathrm{P}$ the concentration of A falls from @A0 to @A in @t.",
                    A0=q(A0, C.MOLDM3), A=q(A, C.MOLDM3), t=q(t, C.S))
        ask = "the rate constant"
        steps = [r"Second order: $kt = 1/[\mathrm{A}] - 1/[\mathrm{A}]_0$.",
                 fill(r"$1/@A - 1/@A0 = @d \mathrm{~dm}^3 \mathrm{~mol}^{-1}$.", A=A, A0=A0, d=res(ev(1 / X(A) - 1 / X(A0)))),
                 fill(r"$k = @d/@t = @ANS \mathrm{~dm}^3 \mathrm{~mol}^{-1} \mathrm{~s}^{-1}$.", d=res(ev(1 / X(A) - 1 / X(A0))), t=t)]
        unit = r"$\mathrm{dm}^3 \mathrm{~mol}^{-1} \mathrm{~s}^{-1}$"
    else:
        A0 = c.u("A0_mmol", 5, 500)
        k = c.lu("k_per_min", 0.01, 10.0)
        pct = c.pick([50, 60, 75, 80, 90, 95], "percent_reacted")
        A0M = X(A0) / 1000
        AM = A0M * (100 - pct) / 100
        ans = (1 / AM - 1 / A0M) / X(k) * 60
        data = fill(r"A second-order reaction $2\mathrm{A} \rightarrow \mathrm{P}$ has $k = @k$ and starts with $[\mathrm{A}]_0 = @A0$.",
                    k=q(k, K2_UNIT_MIN)[1:-1], A0=q(A0, r"\mathrm{~mmol} \mathrm{~dm}^{-3}")[1:-1])
        ask = f"the time required for {pct}% of A to react"
        steps = [fill(r"$[\mathrm{A}]_0 = @a \mathrm{~mol} \mathrm{~dm}^{-3}$, $[\mathrm{A}] = @b \mathrm{~mol} \mathrm{~dm}^{-3}$.",
                      a=res(ev(A0M)), b=res(ev(AM))),
                 fill(r"$t = (1/[\mathrm{A}] - 1/[\mathrm{A}]_0)/k = (@ib - @ia)/@k = @tm \mathrm{~min}$.",
                      ib=res(ev(1 / AM)), ia=res(ev(1 / A0M)), k=k, tm=res(ev(ans / 60))),
                 r"$t = @ANS \mathrm{~s}$."]
        unit = r"$\mathrm{s}$"
    text = [
        "@data Calculate @ask.",
        "Determine @ask for the following case. @data",
        "What is @ask? @data",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)


@template("arrhenius_equation", "kinetics", CHEM, ("atkins", "matter"))
def arrhenius_equation(c: Ctx):
    v = c.variant()
    if c.d == 1:
        Ea = c.u("Ea", 20, 150)
        T1 = c.u("T1", 270, 400)
        T2 = c.u("T2", 280, 500)
        if abs(T2 - T1) < 5:
            raise Resample
        x = -X(Ea) * 1000 / C.R * (1 / X(T2) - 1 / X(T1))
        ans = sp.exp(x)
        data = fill(r"A reaction has an activation energy of @Ea.", Ea=q(Ea, C.KJMOL))
        ask = fill(r"the ratio $k(@T2)/k(@T1)$ of the rate constants", T2=q(T2, C.K)[1:-1], T1=q(T1, C.K)[1:-1])
        steps = [r"Arrhenius: $\ln\frac{k_2}{k_1} = -\frac{E_\mathrm{a}}{R}\left(\frac{1}{T_2} - \frac{1}{T_1}\right)$.",
                 fill(r"$\ln\frac{k_2}{k_1} = -\frac{@Ea \times 10^3}{@R}\left(\frac{1}{@T2} - \frac{1}{@T1}\right) = @x$, so $k_2/k_1 = @ANS$.",
                      Ea=Ea, R=RS, T2=T2, T1=T1, x=res(ev(x)))]
        unit = ""
    elif c.d == 2:
        T1 = c.u("T1", 270, 400)
        T2 = c.u("T2", T1 + 10, T1 + 80)
        k1 = c.lu("k1", 1e-4, 10)
        Ea_h = c.rng.uniform(30, 150)
        k2 = sig_round(k1 * ev(sp.exp(-Ea_h * 1000 / C.R * (1 / X(T2) - 1 / X(T1)))), 3)
        c.set(k2=k2)
        ans = C.R * sp.log(X(k2) / X(k1)) / (1 / X(T1) - 1 / X(T2)) / 1000
        data = fill(r"The rate constant of a reaction is @k1 at @T1 and @k2 at @T2.", k1=q(k1, PER_S), T1=q(T1, C.K),
                    k2=q(k2, PER_S), T2=q(T2, C.K))
        ask = "the activation energy of the reaction"
        l = ev(sp.log(X(k2) / X(k1)))
        d = ev(1 / X(T1) - 1 / X(T2))
        steps = [r"$E_\mathrm{a} = \frac{R\ln(k_2/k_1)}{1/T_1 - 1/T_2}$.",
                 fill(r"$\ln(k_2/k_1) = @l$, $1/T_1 - 1/T_2 = @d \mathrm{~K}^{-1}$.", l=res(l), d=res(d)),
                 fill(r"$E_\mathrm{a} = (@R)(@l)/(@d) \mathrm{~J} \mathrm{~mol}^{-1} = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.", R=RS, l=res(l), d=res(d))]
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    else:
        Ea = c.u("Ea", 30, 150)
        T1c = c.u("T1_C", 5, 80, 2)
        r = c.pick([2, 3, 4, 5, 10], "factor")
        T1 = _kelvin(T1c)
        inv = 1 / (X(T1c) + C.T0) - C.R * sp.log(r) / (X(Ea) * 1000)
        ans = 1 / inv - C.T0
        data = fill(r"A reaction with activation energy @Ea runs at @T1.", Ea=q(Ea, C.KJMOL), T1=q(T1c, C.DEGC))
        ask = f"the temperature at which its rate constant becomes {r} times larger"
        steps = [fill(r"$T_1 = @T1 \mathrm{~K}$; $\frac{1}{T_2} = \frac{1}{T_1} - \frac{R\ln(k_2/k_1)}{E_\mathrm{a}}$.", T1=T1),
                 fill(r"$\frac{1}{T_2} = \frac{1}{@T1} - \frac{@R \ln @r}{@Ea \times 10^3} = @inv \mathrm{~K}^{-1}$, $T_2 = @T2 \mathrm{~K}$.",
                      T1=T1, R=RS, r=r, Ea=Ea, inv=res(ev(inv)), T2=res(ev(1 / inv), 5)),
                 fill(r"$\theta_2 = @T2 - 273.15 = @ANS { }^{\circ} \mathrm{C}$.", T2=res(ev(1 / inv), 5))]
        unit = r"${ }^{\circ} \mathrm{C}$"
    text = [
        "@data Calculate @ask.",
        "Using the Arrhenius equation, find @ask. @data",
        "Determine @ask from these data. @data",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)


# ---------------------------------------------------------------- equilibrium

# (equation, {species: (stoichiometric number, Delta_f G / kJ mol^-1)}) at 298.15 K
REACTIONS = [
    (r"\mathrm{N_2O_4(g)} \rightleftharpoons 2\mathrm{NO_2(g)}", [("NO_2(g)", 2, 51.31), ("N_2O_4(g)", -1, 97.89)]),
    (r"2\mathrm{SO_2(g)} + \mathrm{O_2(g)} \rightleftharpoons 2\mathrm{SO_3(g)}", [("SO_3(g)", 2, -371.06), ("SO_2(g)", -2, -300.19)]),
    (r"\mathrm{N_2(g)} + 3\mathrm{H_2(g)} \rightleftharpoons 2\mathrm{NH_3(g)}", [("NH_3(g)", 2, -16.45)]),
    (r"\mathrm{CO(g)} + \mathrm{H_2O(g)} \rightleftharpoons \mathrm{CO_2(g)} + \mathrm{H_2(g)}",
     [("CO_2(g)", 1, -394.36), ("CO(g)", -1, -137.17), ("H_2O(g)", -1, -228.57)]),
    (r"\mathrm{H_2(g)} + \mathrm{I_2(g)} \rightleftharpoons 2\mathrm{HI(g)}", [("HI(g)", 2, 1.70), ("I_2(g)", -1, 19.33)]),
    (r"\mathrm{PCl_5(g)} \rightleftharpoons \mathrm{PCl_3(g)} + \mathrm{Cl_2(g)}", [("PCl_3(g)", 1, -267.8), ("PCl_5(g)", -1, -305.0)]),
    (r"2\mathrm{NO(g)} + \mathrm{O_2(g)} \rightleftharpoons 2\mathrm{NO_2(g)}", [("NO_2(g)", 2, 51.31), ("NO(g)", -2, 86.55)]),
    (r"\mathrm{C_2H_4(g)} + \mathrm{H_2(g)} \rightleftharpoons \mathrm{C_2H_6(g)}", [("C_2H_6(g)", 1, -32.82), ("C_2H_4(g)", -1, 68.15)]),
]


@template("equilibrium_constant_gibbs", "equilibrium", CHEM, ("atkins", "thermo", "matter"))
def equilibrium_constant_gibbs(c: Ctx):
    v = c.variant()
    if c.d == 1:
        dG = c.u("dG", -40, 40)
        T = c.u("T", 273, 1000)
        if abs(dG) < 0.5:
            raise Resample
        x = -X(dG) * 1000 / (C.R * X(T))
        data = fill(r"For a reaction at @T, $\Delta_\mathrm{r}G^\circ = @G$.", T=q(T, C.K), G=q(dG, C.KJMOL)[1:-1])
        steps = [r"$K = \exp(-\Delta_\mathrm{r}G^\circ/RT)$.",
                 fill(r"$\ln K = -(@G \times 10^3)/((@R)(@T)) = @x$, so $K = @ANS$.", G=dG, R=RS, T=T, x=res(ev(x)))]
    elif c.d == 2:
        dH = c.u("dH", -150, 150)
        dS = c.u("dS", -200, 200)
        T = c.u("T", 273, 1000)
        G = X(dH) - X(T) * X(dS) / 1000
        if abs(ev(G)) < 0.5 or abs(ev(G)) > 80:
            raise Resample
        x = -G * 1000 / (C.R * X(T))
        data = fill(r"For a reaction, $\Delta_\mathrm{r}H^\circ = @H$ and $\Delta_\mathrm{r}S^\circ = @S$ (take both as independent of temperature).",
                    H=q(dH, C.KJMOL)[1:-1], S=q(dS, C.JKMOL)[1:-1])
        data += fill(r" Consider the reaction at @T.", T=q(T, C.K))
        steps = [fill(r"$\Delta_\mathrm{r}G^\circ = \Delta_\mathrm{r}H^\circ - T\Delta_\mathrm{r}S^\circ = @H - (@T)(@S \times 10^{-3}) = @G \mathrm{~kJ} \mathrm{~mol}^{-1}$.",
                      H=dH, T=T, S=dS, G=res(ev(G))),
                 fill(r"$\ln K = -\Delta_\mathrm{r}G^\circ/RT = @x$, so $K = @ANS$.", x=res(ev(x)))]
    else:
        eq, species = c.pick(REACTIONS)
        c.set(reaction=eq, n_species=len(species))
        for i, (sname, nu, g) in enumerate(species):
            c.params[f"species_{i}"] = sname
            c.params[f"nu_{i}"] = nu
            c.params[f"dfG_{i}"] = g
        G = sum(nu * X(g) for _, nu, g in species)
        x = -G * 1000 / (C.R * sp.Rational("298.15"))
        listing = ", ".join(fill(r"$\mathrm{@s}$: $@g$", s=s, g=g) for s, _, g in species)
        data = fill(r"Consider $@eq$ at $298.15 \mathrm{~K}$. The standard Gibbs energies of formation are (in $\mathrm{kJ} \mathrm{~mol}^{-1}$) @l; elements in their reference states have zero.",
                    eq=eq, l=listing)
        terms = " + ".join(f"({nu})({num(g)})" for _, nu, g in species)
        steps = [fill(r"$\Delta_\mathrm{r}G^\circ = \sum \nu\Delta_\mathrm{f}G^\circ = @t = @G \mathrm{~kJ} \mathrm{~mol}^{-1}$.", t=terms, G=res(ev(G), 5)),
                 fill(r"$\ln K = -(@G \times 10^3)/((@R)(298.15)) = @x$.", G=res(ev(G), 5), R=RS, x=res(ev(x))),
                 r"$K = e^{\ln K} = @ANS$."]
    ans = sp.exp(x)
    text = [
        "@data Calculate the equilibrium constant $K$.",
        "Find the standard equilibrium constant of the reaction. @data",
        "What is the value of the thermodynamic equilibrium constant? @data",
    ][v]
    return c.done(fill(text, data=data), "", steps, ans)


@template("van_t_hoff_equation", "equilibrium", CHEM, ("atkins", "thermo"))
def van_t_hoff_equation(c: Ctx):
    v = c.variant()
    if c.d == 1:
        dH = c.u("dH", -150, 150)
        K1 = c.lu("K1", 1e-3, 1e3)
        T1 = c.u("T1", 273, 400)
        T2 = c.u("T2", 280, 600)
        if abs(T2 - T1) < 10 or abs(dH) < 5:
            raise Resample
        x = -X(dH) * 1000 / C.R * (1 / X(T2) - 1 / X(T1))
        ans = X(K1) * sp.exp(x)
        data = fill(r"The equilibrium constant of a reaction is @K1 at @T1, and its standard reaction enthalpy is @H.",
                    K1=q(K1), T1=q(T1, C.K), H=q(dH, C.KJMOL))
        ask = fill(r"the equilibrium constant at @T2 (take $\Delta_\mathrm{r}H^\circ$ as constant)", T2=q(T2, C.K))
        steps = [r"van 't Hoff: $\ln\frac{K_2}{K_1} = -\frac{\Delta_\mathrm{r}H^\circ}{R}\left(\frac{1}{T_2} - \frac{1}{T_1}\right)$.",
                 fill(r"$\ln\frac{K_2}{K_1} = -\frac{@H \times 10^3}{@R}\left(\frac{1}{@T2} - \frac{1}{@T1}\right) = @x$.",
                      H=dH, R=RS, T2=T2, T1=T1, x=res(ev(x))),
                 fill(r"$K_2 = (@K1)e^{@x} = @ANS$.", K1=K1, x=res(ev(x)))]
        unit = ""
    else:
        if c.d == 2:
            T1 = c.u("T1", 273, 400)
            T2 = c.u("T2", T1 + 10, T1 + 100)
            Ta, Tb = X(T1), X(T2)
            tt = (q(T1, C.K), q(T2, C.K))
        else:
            T1 = c.u("T1_C", 5, 120)
            T2 = c.u("T2_C", T1 + 10, T1 + 100)
            Ta, Tb = X(T1) + C.T0, X(T2) + C.T0
            tt = (q(T1, C.DEGC), q(T2, C.DEGC))
        K1 = c.lu("K1", 1e-3, 1e3)
        dHh = c.rng.uniform(-150, 150)
        if abs(dHh) < 10:
            raise Resample
        K2 = sig_round(K1 * ev(sp.exp(-dHh * 1000 / C.R * (1 / Tb - 1 / Ta))), 3)
        c.set(K2=K2)
        dH = C.R * sp.log(X(K2) / X(K1)) / (1 / Ta - 1 / Tb)
        data = fill(r"The equilibrium constant of a reaction is @K1 at @T1 and @K2 at @T2.", K1=q(K1), T1=tt[0], K2=q(K2), T2=tt[1])
        l, d = ev(sp.log(X(K2) / X(K1))), ev(1 / Ta - 1 / Tb)
        steps = [r"$\Delta_\mathrm{r}H^\circ = \frac{R\ln(K_2/K_1)}{1/T_1 - 1/T_2}$."]
        if c.d == 2:
            ans = dH / 1000
            ask = "the standard reaction enthalpy, assuming it is independent of temperature"
            steps.append(fill(r"$\ln(K_2/K_1) = @l$, $1/T_1 - 1/T_2 = @d \mathrm{~K}^{-1}$.", l=res(l), d=res(d)))
            steps.append(fill(r"$\Delta_\mathrm{r}H^\circ = (@R)(@l)/(@d) \mathrm{~J} \mathrm{~mol}^{-1} = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.",
                              R=RS, l=res(l), d=res(d)))
            unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
        else:
            G1 = -C.R * Ta * sp.log(X(K1))
            ans = (dH - G1) / Ta
            ask = "the standard reaction entropy at the lower temperature (assume the reaction enthalpy is constant)"
            steps.append(fill(r"$T_1 = @a \mathrm{~K}$, $T_2 = @b \mathrm{~K}$; $\Delta_\mathrm{r}H^\circ = (@R)(@l)/(@d) = @H \mathrm{~J} \mathrm{~mol}^{-1}$.",
                              a=num(ev(Ta)), b=num(ev(Tb)), R=RS, l=res(l), d=res(d), H=res(ev(dH), 5)))
            steps.append(fill(r"$\Delta_\mathrm{r}G^\circ(T_1) = -RT_1\ln K_1 = @G \mathrm{~J} \mathrm{~mol}^{-1}$.", G=res(ev(G1), 5)))
            steps.append(fill(r"$\Delta_\mathrm{r}S^\circ = (\Delta_\mathrm{r}H^\circ - \Delta_\mathrm{r}G^\circ)/T_1 = (@H - (@G))/@a = @ANS \mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$.",
                              H=res(ev(dH), 5), G=res(ev(G1), 5), a=num(ev(Ta))))
            unit = r"$\mathrm{J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$"
    text = [
        "@data Calculate @ask.",
        "Use the van 't Hoff equation to find @ask. @data",
        "Estimate @ask, given the following information. @data",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)


# ---------------------------------------------------------------- electrochemistry

# (cell diagram, anode ion, cathode ion, E(anode couple) / V, E(cathode couple) / V), all 2-electron couples
CELLS = [("Zn", "Cu", -0.76, 0.34), ("Mg", "Cu", -2.37, 0.34), ("Zn", "Ni", -0.76, -0.23), ("Fe", "Cu", -0.44, 0.34),
         ("Cd", "Cu", -0.40, 0.34), ("Zn", "Pb", -0.76, -0.13), ("Ni", "Cu", -0.23, 0.34), ("Mg", "Zn", -2.37, -0.76)]


def _cell(an: str, ca: str) -> str:
    return fill(r"$\mathrm{@a(s)}|\mathrm{@a^{2+}(aq)}\|\mathrm{@c^{2+}(aq)}|\mathrm{@c(s)}$", a=an, c=ca)


@template("nernst_equation", "electrochemistry", CHEM, ("atkins", "chemmc"))
def nernst_equation(c: Ctx):
    v = c.variant()
    if c.d == 1:
        E0 = c.u("E0", -1.5, 1.5, 2)
        n = c.pick([1, 2, 3], "n")
        Q = c.lu("Q", 1e-4, 1e4, 2)
        T = sp.Rational("298.15")
        if abs(E0) < 0.05:
            raise Resample
        ans = X(E0) - C.R * T / (n * C.F) * sp.log(X(Q))
        data = fill(r"A cell reaction transfers $\nu = @n$ electrons and has $E^\circ_\mathrm{cell} = @E$. The reaction quotient is $Q = @Q$ and the temperature is $298.15 \mathrm{~K}$.",
                    n=n, E=q(E0, C.V)[1:-1], Q=num(Q))
        steps = [r"Nernst: $E = E^\circ - \frac{RT}{\nu F}\ln Q$.",
                 fill(r"$E = @E - \frac{(@R)(298.15)}{(@n)(@F)}\ln(@Q) = @ANS \mathrm{~V}$.", E=E0, R=RS, n=n, F=FS, Q=Q)]
    else:
        an, ca, Ea, Ec = c.pick(CELLS)
        c.set(anode=an, cathode=ca)
        ci = c.lu("c_anode_ion", 1e-3, 2.0, 2)
        cc = c.lu("c_cathode_ion", 1e-3, 2.0, 2)
        Qv = X(ci) / X(cc)
        conc = fill(r"$[\mathrm{@a^{2+}}] = @x \mathrm{~mol} \mathrm{~dm}^{-3}$ and $[\mathrm{@c^{2+}}] = @y \mathrm{~mol} \mathrm{~dm}^{-3}$",
                    a=an, c=ca, x=num(ci), y=num(cc))
        if c.d == 2:
            E0 = sig_round(Ec - Ea, 3)
            c.set(E0=E0)
            T = sp.Rational("298.15")
            Ts = "298.15"
            data = fill(r"For the cell @cell, $E^\circ_\mathrm{cell} = @E \mathrm{~V}$ at $298.15 \mathrm{~K}$. The concentrations are @conc.",
                        cell=_cell(an, ca), E=E0, conc=conc)
            steps = [fill(r"$\mathrm{@a} + \mathrm{@c^{2+}} \rightarrow \mathrm{@a^{2+}} + \mathrm{@c}$, $\nu = 2$, $Q = [\mathrm{@a^{2+}}]/[\mathrm{@c^{2+}}] = @Q$.",
                          a=an, c=ca, Q=res(ev(Qv)))]
        else:
            c.set(E_anode=Ea, E_cathode=Ec)
            E0 = X(Ec) - X(Ea)
            Tc = c.u("T_C", 5, 80, 2)
            T = X(Tc) + C.T0
            Ts = num(_kelvin(Tc))
            data = fill(r"Consider the cell @cell at @T, where @conc. The standard potentials are $E^\circ(\mathrm{@a^{2+}/@a}) = @Ea \mathrm{~V}$ and $E^\circ(\mathrm{@c^{2+}/@c}) = @Ec \mathrm{~V}$.",
                        cell=_cell(an, ca), T=q(Tc, C.DEGC), conc=conc, a=an, c=ca, Ea=Ea, Ec=Ec)
            steps = [fill(r"$E^\circ_\mathrm{cell} = E^\circ_\mathrm{R} - E^\circ_\mathrm{L} = @Ec - (@Ea) = @E \mathrm{~V}$; $T = @T \mathrm{~K}$.",
                          Ec=Ec, Ea=Ea, E=res(ev(E0)), T=Ts),
                     fill(r"$\nu = 2$, $Q = [\mathrm{@a^{2+}}]/[\mathrm{@c^{2+}}] = @Q$.", a=an, c=ca, Q=res(ev(Qv)))]
        ans = X(E0) - C.R * T / (2 * C.F) * sp.log(Qv)
        steps.append(fill(r"$E = E^\circ - \frac{RT}{2F}\ln Q = @E - \frac{(@R)(@T)}{2(@F)}\ln(@Q) = @ANS \mathrm{~V}$.",
                          E=res(ev(X(E0)), 4), R=RS, T=Ts, F=FS, Q=res(ev(Qv))))
    text = [
        "@data Calculate the cell potential.",
        "Use the Nernst equation to find the potential of the cell. @data",
        "What is the cell potential under the following conditions? @data",
    ][v]
    return c.done(fill(text, data=data), r"$\mathrm{V}$", steps, ans)


@template("cell_gibbs_energy", "electrochemistry", CHEM, ("atkins", "chemmc", "thermo"))
def cell_gibbs_energy(c: Ctx):
    v = c.variant()
    if c.d == 1:
        E0 = c.u("E0", -2.5, 2.5, 3)
        n = c.pick([1, 2, 3, 4], "n")
        if abs(E0) < 0.05:
            raise Resample
        ans = -n * C.F * X(E0) / 1000
        data = fill(r"A cell reaction in which $\nu = @n$ electrons are transferred has a standard cell potential of @E.", n=n, E=q(E0, C.V))
        ask = "the standard reaction Gibbs energy"
        steps = [r"$\Delta_\mathrm{r}G^\circ = -\nu FE^\circ_\mathrm{cell}$.",
                 fill(r"$\Delta_\mathrm{r}G^\circ = -(@n)(@F)(@E) \mathrm{~J} \mathrm{~mol}^{-1} = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.", n=n, F=FS, E=E0)]
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    else:
        an, ca, Ea, Ec = c.pick(CELLS)
        c.set(anode=an, cathode=ca, E_anode=Ea, E_cathode=Ec)
        E0 = X(Ec) - X(Ea)
        data = fill(r"Consider the cell @cell, for which $E^\circ(\mathrm{@a^{2+}/@a}) = @Ea \mathrm{~V}$ and $E^\circ(\mathrm{@c^{2+}/@c}) = @Ec \mathrm{~V}$.",
                    cell=_cell(an, ca), a=an, c=ca, Ea=Ea, Ec=Ec)
        steps = [fill(r"$E^\circ_\mathrm{cell} = E^\circ_\mathrm{R} - E^\circ_\mathrm{L} = @Ec - (@Ea) = @E \mathrm{~V}$, with $\nu = 2$.",
                      Ec=Ec, Ea=Ea, E=res(ev(E0)))]
        if c.d == 2:
            ans = -2 * C.F * E0 / 1000
            ask = "the standard reaction Gibbs energy of the cell reaction"
            steps.append(fill(r"$\Delta_\mathrm{r}G^\circ = -\nu FE^\circ = -2(@F)(@E) \mathrm{~J} \mathrm{~mol}^{-1} = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.",
                              F=FS, E=res(ev(E0))))
            unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
        else:
            x = 2 * C.F * E0 / (C.R * sp.Rational("298.15"))
            ans = sp.exp(x)
            ask = "the equilibrium constant of the cell reaction at $298.15 \\mathrm{~K}$"
            steps.append(fill(r"$\ln K = \nu FE^\circ/RT = 2(@F)(@E)/((@R)(298.15)) = @x$.", F=FS, E=res(ev(E0)), R=RS, x=res(ev(x))))
            steps.append(r"$K = e^{\ln K} = @ANS$.")
            unit = ""
    text = [
        "@data Calculate @ask.",
        "Find @ask. @data",
        "Determine @ask from the following. @data",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)
