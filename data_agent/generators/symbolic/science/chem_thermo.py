"""Physical chemistry I: gases and thermodynamics (atkins, matter, thermo)."""

from __future__ import annotations

import sympy as sp

from . import constants as C
from ..base import F30, Ctx, Resample, X, ev, fill, num, q, res, sig_round, template

CHEM = "chemistry"

# (name, molar mass / g mol^-1)
GASES = [("nitrogen", 28.02), ("oxygen", 32.00), ("carbon dioxide", 44.01), ("methane", 16.04),
         ("argon", 39.95), ("helium", 4.003), ("neon", 20.18), ("xenon", 131.29)]

# van der Waals constants: (name, M, a / atm dm^6 mol^-2, b / dm^3 mol^-1)
VDW = [("argon", 39.95, 1.337, 0.0320), ("nitrogen", 28.02, 1.352, 0.0387), ("oxygen", 32.00, 1.364, 0.0319),
       ("carbon dioxide", 44.01, 3.610, 0.0429), ("methane", 16.04, 2.273, 0.0431),
       ("ammonia", 17.03, 4.169, 0.0371), ("xenon", 131.29, 4.137, 0.0516), ("neon", 20.18, 0.205, 0.0167)]

# (name, M / g mol^-1, Cp,m / J K^-1 mol^-1, lowest and highest temperature / degC for sampling)
HEATABLE = [("liquid water", 18.02, 75.29, 10, 90), ("liquid ethanol", 46.07, 111.46, 5, 70),
            ("liquid benzene", 78.11, 136.1, 10, 75), ("nitrogen gas", 28.02, 29.13, -50, 400),
            ("carbon dioxide gas", 44.01, 37.11, 0, 400), ("solid copper", 63.55, 24.44, -50, 500),
            ("solid aluminium", 26.98, 24.35, -50, 500), ("solid iron", 55.85, 25.10, -50, 600)]

# Cp,m = a + b T + c / T^2 (J K^-1 mol^-1), valid roughly 298-1500 K
CP_POLY = [("nitrogen", 28.58, 3.77e-3, -0.50e5), ("carbon dioxide", 44.22, 8.79e-3, -8.62e5),
           ("oxygen", 29.96, 4.18e-3, -1.67e5), ("ammonia", 29.75, 25.1e-3, -1.55e5),
           ("methane", 23.64, 47.86e-3, -1.92e5), ("hydrogen", 27.28, 3.26e-3, 0.50e5)]

# (liquid, Delta_vap H / kJ mol^-1, normal boiling point / K, M / g mol^-1)
LIQUIDS = [("water", 40.7, 373.15, 18.02), ("ethanol", 38.6, 351.4, 46.07), ("benzene", 30.8, 353.2, 78.11),
           ("methanol", 35.3, 337.8, 32.04), ("acetone", 29.1, 329.4, 58.08),
           ("chloroform", 29.4, 334.9, 119.38), ("diethyl ether", 26.5, 307.6, 74.12),
           ("tetrachloromethane", 30.0, 350.0, 153.82)]

R_LATM = C.R / C.atm * 1000  # dm^3 atm K^-1 mol^-1
RS = "8.3145"                # R as written in solutions
RL = "0.08206"


def _kelvin(tc: float) -> float:
    return round(tc + 273.15, 2)


# ---------------------------------------------------------------- perfect gas

@template("perfect_gas_pressure", "perfect_gas", CHEM, ("atkins", "matter"))
def perfect_gas_pressure(c: Ctx):
    gas, M = c.pick(GASES)
    c.set(gas=gas)
    v = c.variant()
    if c.d == 1:
        n = c.u("n", 0.2, 5.0)
        T = c.u("T", 250, 600)
        V = c.u("V", 1.0, 50.0)
        amt, who, tt, vv = q(n, C.MOL), gas, q(T, C.K), q(V, C.DM3)
    else:
        m = c.u("m", 1.0, 80.0)
        c.set(M=M)
        n = m / M
        amt, who = q(m, C.G_), fill(r"@g ($M = @M \mathrm{~g} \mathrm{~mol}^{-1}$)", g=gas, M=M)
        if c.d == 2:
            T = c.u("T", 250, 600)
            V = c.u("V", 1.0, 50.0)
            tt, vv = q(T, C.K), q(V, C.DM3)
        else:
            Tc = c.u("T_C", 5, 300)
            V = c.u("V_cm3", 200, 5000)
            T = _kelvin(Tc)
            tt, vv = q(Tc, C.DEGC), q(V, C.CM3)
    text = [
        "A sample of @who containing @amt is held in a vessel of volume @vv at @tt. Assuming perfect-gas behaviour, calculate the pressure of the gas.",
        "Calculate the pressure exerted by @amt of @who confined to a volume of @vv at @tt, treating the gas as perfect.",
        "What pressure is exerted by @amt of @who in a container of @vv held at @tt, if the gas behaves perfectly?",
    ][v]
    text = fill(text, who=who, amt=amt, vv=vv, tt=tt)
    nE = X(n) if c.d == 1 else X(c.params["m"]) / X(M)
    steps = ["Perfect gas law: $p = nRT/V$."]
    if c.d >= 2:
        steps.append(fill(r"$n = m/M = @m/@M = @n \mathrm{~mol}$.", m=c.params["m"], M=M, n=res(ev(nE))))
    if c.d < 3:
        ans = nE * R_LATM * X(T) / X(V)
        steps.append(fill(r"$p = (@n)(@R)(@T)/@V = @ANS \mathrm{~atm}$.", n=res(ev(nE)) if c.d > 1 else n,
                          R=RL, T=T, V=V))
        unit = r"$\mathrm{atm}$"
    else:
        ans = nE * C.R * (X(Tc) + C.T0) / (X(V) * sp.Rational(1, 10**6)) / 1000
        steps.append(fill(r"$T = @T \mathrm{~K}$, $V = @V \times 10^{-6} \mathrm{~m}^3$.", T=T, V=V))
        steps.append(fill(r"$p = (@n)(@R)(@T)/(@V \times 10^{-6}) \mathrm{~Pa} = @ANS \mathrm{~kPa}$.",
                          n=res(ev(nE)), R=RS, T=T, V=V))
        unit = r"$\mathrm{kPa}$"
    return c.done(text, unit, steps, ans)


@template("van_der_waals_pressure", "real_gas", CHEM, ("atkins", "matter"))
def van_der_waals_pressure(c: Ctx):
    gas, M, a, b = c.pick(VDW)
    c.set(gas=gas, a=a, b=b)
    v = c.variant()
    T = c.u("T", 250, 700)
    V = c.u("V", 0.5, 20.0)
    if c.d == 2:
        m = c.u("m", 5.0, 200.0)
        c.set(M=M)
        nE = X(m) / X(M)
        amt = fill(r"$@m \mathrm{~g}$ of @g ($M = @M \mathrm{~g} \mathrm{~mol}^{-1}$)", m=m, g=gas, M=M)
    else:
        n = c.u("n", 0.2, 5.0)
        nE = X(n)
        amt = fill(r"$@n \mathrm{~mol}$ of @g", n=n, g=gas)
    n = ev(nE)
    if V / n < 6 * b:
        raise Resample
    consts = fill(r"($a = @a \mathrm{~dm}^6 \mathrm{~atm} \mathrm{~mol}^{-2}$, $b = @b \mathrm{~dm}^3 \mathrm{~mol}^{-1}$)",
                  a=a, b=b)
    ask = "the compression factor $Z = pV_\\mathrm{m}/RT$" if c.d == 3 else "the pressure exerted"
    text = [
        "Using the van der Waals equation @consts, calculate @ask when @amt occupies @V at @T.",
        "A vessel of volume @V contains @amt at @T. Treating the gas as a van der Waals gas @consts, find @ask.",
        "Estimate @ask for @amt held in @V at @T, using the van der Waals equation with @consts.",
    ][v]
    text = fill(text, consts=consts, ask=ask, amt=amt, V=q(V, C.DM3), T=q(T, C.K))
    p = nE * R_LATM * X(T) / (X(V) - nE * X(b)) - X(a) * nE**2 / X(V) ** 2
    steps = [r"van der Waals: $p = \frac{nRT}{V - nb} - a\frac{n^2}{V^2}$."]
    if c.d == 2:
        steps.append(fill(r"$n = @m/@M = @n \mathrm{~mol}$.", m=c.params["m"], M=M, n=res(n)))
    pv = ev(p)
    if c.d < 3:
        steps.append(fill(r"$p = \frac{(@n)(@R)(@T)}{@V - (@n)(@b)} - \frac{(@a)(@n)^2}{(@V)^2} = @ANS \mathrm{~atm}$.",
                          n=res(n) if c.d == 2 else n, R=RL, T=T, V=V, a=a, b=b))
        return c.done(text, r"$\mathrm{atm}$", steps, p)
    Vm = X(V) / nE
    Z = p * Vm / (R_LATM * X(T))
    steps.append(fill(r"$p = @p \mathrm{~atm}$ and $V_\mathrm{m} = V/n = @Vm \mathrm{~dm}^3 \mathrm{~mol}^{-1}$.",
                      p=res(pv), Vm=res(ev(Vm))))
    steps.append(fill(r"$Z = pV_\mathrm{m}/RT = (@p)(@Vm)/((@R)(@T)) = @ANS$.", p=res(pv), Vm=res(ev(Vm)), R=RL, T=T))
    return c.done(text, "", steps, Z)


# ---------------------------------------------------------------- work

@template("isothermal_reversible_work", "thermodynamics", CHEM, ("atkins", "thermo"))
def isothermal_reversible_work(c: Ctx):
    gas, M = c.pick(GASES)
    c.set(gas=gas)
    v = c.variant()
    steps = [r"Reversible isothermal: $w = -nRT\ln(V_\mathrm{f}/V_\mathrm{i})$."]
    if c.d == 1:
        n = c.u("n", 0.2, 5.0)
        T = c.u("T", 250, 600)
        Vi = c.u("V_i", 1.0, 20.0)
        Vf = c.u("V_f", 1.0, 40.0)
        if abs(Vf / Vi - 1) < 0.2:
            raise Resample
        change = fill(r"from @a to @b", a=q(Vi, C.DM3), b=q(Vf, C.DM3))
        amt, tt = q(n, C.MOL), q(T, C.K)
        w = -X(n) * C.R * X(T) * sp.log(X(Vf) / X(Vi))
        steps.append(fill(r"$w = -(@n)(@R)(@T)\ln(@Vf/@Vi) = @ANS \mathrm{~J}$.", n=n, R=RS, T=T, Vf=Vf, Vi=Vi))
        unit = r"$\mathrm{J}$"
    elif c.d == 2:
        n = c.u("n", 0.2, 5.0)
        T = c.u("T", 250, 600)
        pi = c.u("p_i", 0.5, 10.0)
        pf = c.u("p_f", 0.5, 10.0)
        if abs(pf / pi - 1) < 0.2:
            raise Resample
        change = fill(r"from a pressure of @a to @b", a=q(pi, C.ATM), b=q(pf, C.ATM))
        amt, tt = q(n, C.MOL), q(T, C.K)
        w = -X(n) * C.R * X(T) * sp.log(X(pi) / X(pf))
        steps.append(r"Boyle's law gives $V_\mathrm{f}/V_\mathrm{i} = p_\mathrm{i}/p_\mathrm{f}$.")
        steps.append(fill(r"$w = -(@n)(@R)(@T)\ln(@pi/@pf) = @ANS \mathrm{~J}$.", n=n, R=RS, T=T, pi=pi, pf=pf))
        unit = r"$\mathrm{J}$"
    else:
        m = c.u("m", 2.0, 100.0)
        c.set(M=M)
        Tc = c.u("T_C", 0, 250)
        Vi = c.u("V_i_cm3", 200, 3000)
        Vf = c.u("V_f_cm3", 200, 6000)
        if abs(Vf / Vi - 1) < 0.2:
            raise Resample
        T = _kelvin(Tc)
        change = fill(r"from @a to @b", a=q(Vi, C.CM3), b=q(Vf, C.CM3))
        amt = fill(r"$@m \mathrm{~g}$", m=m)
        gas = fill(r"@g ($M = @M \mathrm{~g} \mathrm{~mol}^{-1}$)", g=gas, M=M)
        tt = q(Tc, C.DEGC)
        nE = X(m) / X(M)
        w = -nE * C.R * (X(Tc) + C.T0) * sp.log(X(Vf) / X(Vi)) / 1000
        steps.append(fill(r"$n = @m/@M = @n \mathrm{~mol}$, $T = @T \mathrm{~K}$.", m=m, M=M, n=res(ev(nE)), T=T))
        steps.append(fill(r"$w = -(@n)(@R)(@T)\ln(@Vf/@Vi) \mathrm{~J} = @ANS \mathrm{~kJ}$.",
                          n=res(ev(nE)), R=RS, T=T, Vf=Vf, Vi=Vi))
        unit = r"$\mathrm{kJ}$"
    text = [
        "A sample of @amt of @gas changes volume reversibly and isothermally at @tt, @change. Calculate the work $w$ done on the gas.",
        "Calculate $w$ when @amt of @gas, behaving as a perfect gas, is taken reversibly and isothermally at @tt @change.",
        "Find the work done on @amt of @gas (a perfect gas) during a reversible isothermal change at @tt @change.",
    ][v]
    return c.done(fill(text, amt=amt, gas=gas, tt=tt, change=change), unit, steps, w)


METALS = [("magnesium", "Mg", 24.31), ("zinc", "Zn", 65.38), ("iron", "Fe", 55.85)]


@template("expansion_work_constant_pressure", "thermodynamics", CHEM, ("atkins", "matter"))
def expansion_work_constant_pressure(c: Ctx):
    v = c.variant()
    if c.d == 1:
        p = c.u("p_ex", 0.5, 5.0)
        dV = c.u("dV", 0.5, 20.0)
        what = fill(r"expands by @dV against a constant external pressure of @p", dV=q(dV, C.DM3), p=q(p, C.ATM))
        w = -X(p) * C.atm * X(dV) / 1000
        steps = [r"Against a constant external pressure: $w = -p_\mathrm{ex}\Delta V$.",
                 fill(r"$w = -(@p \times 101325 \mathrm{~Pa})(@dV \times 10^{-3} \mathrm{~m}^3) = @ANS \mathrm{~J}$.",
                      p=p, dV=dV)]
        subject = "A gas"
    elif c.d == 2:
        p = c.u("p_ex_kPa", 50, 500)
        A = c.u("A_cm2", 10, 200)
        dx = c.u("d_cm", 2, 50)
        what = fill(r"pushes a piston of cross-sectional area @A out through @d against a constant external pressure of @p",
                    A=q(A, r"\mathrm{~cm}^2"), d=q(dx, C.CM), p=q(p, C.KPA))
        dV = X(A) * X(dx) / 10**6
        w = -X(p) * 1000 * dV
        steps = [r"$w = -p_\mathrm{ex}\Delta V$ with $\Delta V = Ad$.",
                 fill(r"$\Delta V = (@A \times 10^{-4})(@d \times 10^{-2}) = @dV \mathrm{~m}^3$.", A=A, d=dx, dV=res(ev(dV))),
                 fill(r"$w = -(@p \times 10^3)(@dV) = @ANS \mathrm{~J}$.", p=p, dV=res(ev(dV)))]
        subject = "A gas in a cylinder"
    else:
        name, sym, M = c.pick(METALS)
        c.set(metal=name, M=M)
        m = c.u("m", 2.0, 50.0)
        Tc = c.u("T_C", 10, 40)
        T = _kelvin(Tc)
        what = None
        nE = X(m) / X(M)
        w = -nE * C.R * (X(Tc) + C.T0)
        steps = [fill(r"$\mathrm{@s} + 2\mathrm{HCl} \rightarrow \mathrm{@{s}Cl_2} + \mathrm{H_2}$, so $n(\mathrm{H_2}) = @m/@M = @n \mathrm{~mol}$.",
                      s=sym, m=m, M=M, n=res(ev(nE))),
                 r"Open vessel: $w = -p_\mathrm{ex}\Delta V = -nRT$.",
                 fill(r"$w = -(@n)(@R)(@T) = @ANS \mathrm{~J}$.", n=res(ev(nE)), R=RS, T=T)]
        text = [
            "A piece of @metal of mass @m reacts completely with excess dilute hydrochloric acid in an open beaker at @T. Calculate the work $w$ done on the system as the hydrogen produced pushes back the atmosphere.",
            "Calculate the work $w$ done when @m of @metal dissolves in excess hydrochloric acid in an open vessel at @T (treat the hydrogen evolved as a perfect gas).",
            "Excess hydrochloric acid is added to @m of @metal in an open flask held at @T. What is the expansion work $w$ associated with the hydrogen gas released?",
        ][v]
        return c.done(fill(text, metal=name, m=q(m, C.G_), T=q(Tc, C.DEGC)), r"$\mathrm{J}$", steps, w)
    text = [
        "@subject @what. Calculate the work $w$ done on the gas.",
        "Calculate the work $w$ when a gas @what.",
        "Find $w$, the work done on the system, when a gas @what.",
    ][v]
    return c.done(fill(text, subject=subject, what=what), r"$\mathrm{J}$", steps, w)


@template("adiabatic_expansion", "thermodynamics", CHEM, ("atkins", "thermo"))
def adiabatic_expansion(c: Ctx):
    v = c.variant()
    Cv = c.pick([12.47, 20.79, 20.8, 21.0, 25.0, 28.5])
    Vi = c.u("V_i", 0.5, 5.0)
    Vf = c.u("V_f", 1.0, 20.0)
    if Vf / Vi < 1.3:
        raise Resample
    if c.d < 3:
        c.set(Cv=Cv)
        n = c.u("n", 0.2, 5.0)
        Ti = c.u("T_i", 280, 600)
        Tf = X(Ti) * (X(Vi) / X(Vf)) ** F30(C.R / X(Cv))
        what = fill(r"@n of a perfect gas with $C_{V,\mathrm{m}} = @Cv \mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$, initially at @Ti",
                    n=q(n, C.MOL), Cv=Cv, Ti=q(Ti, C.K))
        vols = fill(r"from @a to @b", a=q(Vi, C.DM3), b=q(Vf, C.DM3))
        ask = "the final temperature" if c.d == 1 else "the work $w$ done on the gas"
        steps = [r"Reversible adiabatic: $T_\mathrm{f} = T_\mathrm{i}(V_\mathrm{i}/V_\mathrm{f})^{R/C_{V,\mathrm{m}}}$."]
        if c.d == 1:
            steps.append(fill(r"$T_\mathrm{f} = (@Ti)(@Vi/@Vf)^{@R/@Cv} = @ANS \mathrm{~K}$.", Ti=Ti, Vi=Vi, Vf=Vf, R=RS, Cv=Cv))
            ans, unit = Tf, r"$\mathrm{K}$"
        else:
            steps.append(fill(r"$T_\mathrm{f} = (@Ti)(@Vi/@Vf)^{@R/@Cv} = @Tf \mathrm{~K}$.", Ti=Ti, Vi=Vi, Vf=Vf, R=RS, Cv=Cv,
                              Tf=res(ev(Tf))))
            ans = X(n) * X(Cv) * (Tf - X(Ti))
            steps.append(fill(r"$w = nC_{V,\mathrm{m}}\Delta T = (@n)(@Cv)(@Tf - @Ti) = @ANS \mathrm{~J}$.", n=n, Cv=Cv,
                              Tf=res(ev(Tf)), Ti=Ti))
            unit = r"$\mathrm{J}$"
    else:
        Cp = round(Cv + 8.3145, 2)
        c.set(Cp=Cp)
        pi = c.u("p_i_kPa", 100, 2000)
        Vi_ = c.params.pop("V_i")
        Vf_ = c.params.pop("V_f")
        Vi, Vf = round(Vi_ * 1000), round(Vf_ * 1000)
        c.set(V_i_cm3=float(Vi), V_f_cm3=float(Vf))
        what = fill(r"a perfect gas with $C_{p,\mathrm{m}} = @Cp \mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$, initially at @pi",
                    Cp=Cp, pi=q(pi, C.KPA))
        vols = fill(r"from @a to @b", a=q(Vi, C.CM3), b=q(Vf, C.CM3))
        ask = "the final pressure"
        CvE = X(Cp) - C.R
        gam = X(Cp) / CvE
        ans = X(pi) * (sp.Integer(Vi) / sp.Integer(Vf)) ** F30(gam)
        steps = [fill(r"$C_{V,\mathrm{m}} = C_{p,\mathrm{m}} - R = @Cv$, so $\gamma = @Cp/@Cv = @g$.", Cv=res(ev(CvE)), Cp=Cp,
                      g=res(ev(gam))),
                 r"Reversible adiabatic: $p_\mathrm{f} = p_\mathrm{i}(V_\mathrm{i}/V_\mathrm{f})^{\gamma}$.",
                 fill(r"$p_\mathrm{f} = (@pi)(@Vi/@Vf)^{@g} = @ANS \mathrm{~kPa}$.", pi=pi, Vi=Vi, Vf=Vf, g=res(ev(gam)))]
        unit = r"$\mathrm{kPa}$"
    text = [
        "A sample of @what, expands reversibly and adiabatically @vols. Calculate @ask.",
        "Calculate @ask when @what, undergoes a reversible adiabatic expansion @vols.",
        "Consider @what. It expands reversibly and adiabatically @vols. What is @ask?",
    ][v]
    return c.done(fill(text, what=what, vols=vols, ask=ask), unit, steps, ans)


# ---------------------------------------------------------------- heat, entropy, Gibbs energy

_T = sp.Symbol("T", positive=True)
_T1, _T2 = sp.symbols("T1 T2", positive=True)
_a, _b, _c = sp.symbols("a b c", real=True)
_CP_INTEGRAL = sp.integrate(_a + _b * _T + _c / _T**2, (_T, _T1, _T2))


@template("heating_enthalpy", "thermochemistry", CHEM, ("atkins", "thermo", "matter"))
def heating_enthalpy(c: Ctx):
    v = c.variant()
    extra = ""
    if c.d < 3:
        name, M, Cp, lo, hi = c.pick(HEATABLE)
        c.set(substance=name, Cp=Cp)
        if c.d == 1:
            n = c.u("n", 0.5, 10.0)
            T1 = c.u("T1", lo + 273.15, hi + 273.15 - 10)
            T2 = c.u("T2", T1 + 5, hi + 273.15)
            nE, amt, t1, t2 = X(n), q(n, C.MOL), q(T1, C.K), q(T2, C.K)
            steps = [r"At constant pressure: $\Delta H = nC_{p,\mathrm{m}}\Delta T$.",
                     fill(r"$\Delta H = (@n)(@Cp)(@T2 - @T1) \mathrm{~J} = @ANS \mathrm{~kJ}$.", n=n, Cp=Cp, T2=T2, T1=T1)]
            dT = X(T2) - X(T1)
        else:
            c.set(M=M)
            m = c.u("m", 10, 1000)
            T1 = c.u("T1_C", lo, hi - 10, 2)
            T2 = c.u("T2_C", T1 + 5, hi, 2)
            if T2 <= T1:
                raise Resample
            nE = X(m) / X(M)
            amt = q(m, C.G_)
            name = fill(r"@s ($M = @M \mathrm{~g} \mathrm{~mol}^{-1}$)", s=name, M=M)
            t1, t2 = q(T1, C.DEGC), q(T2, C.DEGC)
            dT = X(T2) - X(T1)
            steps = [r"$\Delta H = nC_{p,\mathrm{m}}\Delta T$ with $n = m/M$ ($\Delta T$ is the same in K and ${ }^{\circ}\mathrm{C}$).",
                     fill(r"$n = @m/@M = @n \mathrm{~mol}$, $\Delta T = @dT \mathrm{~K}$.", m=m, M=M, n=res(ev(nE)), dT=num(ev(dT))),
                     fill(r"$\Delta H = (@n)(@Cp)(@dT) \mathrm{~J} = @ANS \mathrm{~kJ}$.", n=res(ev(nE)), Cp=Cp, dT=num(ev(dT)))]
        ans = nE * X(Cp) * dT / 1000
        what = f"{name}"
    else:
        name, a, b, cc = c.pick(CP_POLY)
        c.set(substance=name, a=a, b=b, c=cc)
        n = c.u("n", 0.5, 10.0)
        T1 = c.u("T1", 298, 600)
        T2 = c.u("T2", T1 + 50, 1500)
        nE, amt, t1, t2 = X(n), q(n, C.MOL), q(T1, C.K), q(T2, C.K)
        what = f"{name} gas"
        extra = fill(r" For this gas $C_{p,\mathrm{m}}/(\mathrm{J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}) = a + bT + c/T^2$ with $a = @a$, $b = @b \mathrm{~K}^{-1}$ and $c = @c \mathrm{~K}^2$.",
                     a=a, b=b, c=cc)
        integral = _CP_INTEGRAL.subs({_a: X(a), _b: X(b), _c: X(cc), _T1: X(T1), _T2: X(T2)})
        ans = nE * integral / 1000
        steps = [r"$\Delta H = n\int_{T_1}^{T_2} C_{p,\mathrm{m}}\,dT = n\left[a(T_2-T_1) + \tfrac{b}{2}(T_2^2-T_1^2) - c\left(\tfrac{1}{T_2}-\tfrac{1}{T_1}\right)\right]$.",
                 fill(r"The integral is $@I \mathrm{~J} \mathrm{~mol}^{-1}$.", I=res(ev(integral))),
                 fill(r"$\Delta H = (@n)(@I) \mathrm{~J} = @ANS \mathrm{~kJ}$.", n=n, I=res(ev(integral)))]
    text = [
        "Calculate the enthalpy change when @amt of @what is heated at constant pressure from @t1 to @t2.",
        "How much heat is needed to raise the temperature of @amt of @what from @t1 to @t2 at constant pressure?",
        "At constant pressure, @amt of @what is warmed from @t1 to @t2. Find $\\Delta H$ for the process.",
    ][v]
    return c.done(fill(text, amt=amt, what=what, t1=t1, t2=t2) + extra, r"$\mathrm{kJ}$", steps, ans)


@template("entropy_heating", "entropy", CHEM, ("atkins", "thermo"))
def entropy_heating(c: Ctx):
    v = c.variant()
    if c.d < 3:
        name, M, Cp, lo, hi = c.pick(HEATABLE)
        c.set(substance=name, Cp=Cp)
        if c.d == 1:
            n = c.u("n", 0.5, 10.0)
            T1 = c.u("T1", lo + 273.15, hi + 273.15 - 10)
            T2 = c.u("T2", lo + 273.15, hi + 273.15)
            if abs(T2 - T1) < 5:
                raise Resample
            nE, amt, t1, t2 = X(n), q(n, C.MOL), q(T1, C.K), q(T2, C.K)
            ans = nE * X(Cp) * sp.log(X(T2) / X(T1))
            steps = [r"$\Delta S = nC_{p,\mathrm{m}}\ln(T_2/T_1)$.",
                     fill(r"$\Delta S = (@n)(@Cp)\ln(@T2/@T1) = @ANS \mathrm{~J} \mathrm{~K}^{-1}$.", n=n, Cp=Cp, T2=T2, T1=T1)]
        else:
            c.set(M=M)
            m = c.u("m", 10, 1000)
            T1 = c.u("T1_C", lo, hi, 2)
            T2 = c.u("T2_C", lo, hi, 2)
            if abs(T2 - T1) < 5:
                raise Resample
            nE = X(m) / X(M)
            amt = q(m, C.G_)
            name = fill(r"@s ($M = @M \mathrm{~g} \mathrm{~mol}^{-1}$)", s=name, M=M)
            t1, t2 = q(T1, C.DEGC), q(T2, C.DEGC)
            K1, K2 = _kelvin(T1), _kelvin(T2)
            ans = nE * X(Cp) * sp.log((X(T2) + C.T0) / (X(T1) + C.T0))
            steps = [fill(r"$n = @m/@M = @n \mathrm{~mol}$; $T_1 = @K1 \mathrm{~K}$, $T_2 = @K2 \mathrm{~K}$.", m=m, M=M,
                          n=res(ev(nE)), K1=K1, K2=K2),
                     fill(r"$\Delta S = nC_{p,\mathrm{m}}\ln(T_2/T_1) = (@n)(@Cp)\ln(@K2/@K1) = @ANS \mathrm{~J} \mathrm{~K}^{-1}$.",
                          n=res(ev(nE)), Cp=Cp, K1=K1, K2=K2)]
        what = name
        text = [
            "Calculate the entropy change when @amt of @what is taken from @t1 to @t2 at constant pressure.",
            "What is $\\Delta S$ for @amt of @what when its temperature changes from @t1 to @t2 at constant pressure?",
            "At constant pressure, @amt of @what goes from @t1 to @t2. Find the change in its entropy.",
        ][v]
        return c.done(fill(text, amt=amt, what=what, t1=t1, t2=t2), r"$\mathrm{J} \mathrm{~K}^{-1}$", steps, ans)
    Cv = c.pick([12.47, 20.79, 20.8, 21.0, 25.0, 28.5], "Cv")
    n = c.u("n", 0.5, 5.0)
    T1 = c.u("T1", 250, 500)
    T2 = c.u("T2", 250, 700)
    V1 = c.u("V1", 1.0, 20.0)
    V2 = c.u("V2", 1.0, 40.0)
    if abs(T2 / T1 - 1) < 0.05 or abs(V2 / V1 - 1) < 0.1:
        raise Resample
    sT = X(n) * X(Cv) * sp.log(X(T2) / X(T1))
    sV = X(n) * C.R * sp.log(X(V2) / X(V1))
    ans = sT + sV
    if abs(ev(ans)) < 0.2:
        raise Resample
    steps = [r"$\Delta S = nC_{V,\mathrm{m}}\ln(T_2/T_1) + nR\ln(V_2/V_1)$.",
             fill(r"Heating term $(@n)(@Cv)\ln(@T2/@T1) = @a$; volume term $(@n)(@R)\ln(@V2/@V1) = @b$.",
                  n=n, Cv=Cv, T2=T2, T1=T1, R=RS, V2=V2, V1=V1, a=res(ev(sT)), b=res(ev(sV))),
             fill(r"$\Delta S = @a + (@b) = @ANS \mathrm{~J} \mathrm{~K}^{-1}$.", a=res(ev(sT)), b=res(ev(sV)))]
    what = fill(r"@n of a perfect gas with $C_{V,\mathrm{m}} = @Cv \mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$", n=q(n, C.MOL), Cv=Cv)
    st1 = fill("@V, @T", V=q(V1, C.DM3), T=q(T1, C.K))
    st2 = fill("@V, @T", V=q(V2, C.DM3), T=q(T2, C.K))
    text = [
        "Calculate the entropy change when @what is taken from @s1 to @s2.",
        "What is $\\Delta S$ for @what whose state changes from @s1 to @s2?",
        "Suppose @what goes from an initial state @s1 to a final state @s2. Find the change in entropy of the gas.",
    ][v]
    return c.done(fill(text, what=what, s1=st1, s2=st2), r"$\mathrm{J} \mathrm{~K}^{-1}$", steps, ans)


@template("entropy_of_vaporization", "entropy", CHEM, ("atkins", "matter", "thermo"))
def entropy_of_vaporization(c: Ctx):
    name, dH, Tb, M = c.pick(LIQUIDS)
    c.set(liquid=name, dH_vap=dH)
    v = c.variant()
    if c.d == 1:
        c.set(T_b=Tb)
        ans = X(dH) * 1000 / X(Tb)
        steps = [r"At the transition temperature: $\Delta_\mathrm{vap}S = \Delta_\mathrm{vap}H/T_\mathrm{b}$.",
                 fill(r"$\Delta_\mathrm{vap}S = @H \times 10^3/@T = @ANS \mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$.", H=dH, T=Tb)]
        unit = r"$\mathrm{J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$"
        amt = "one mole"
        tb = q(Tb, C.K)
        hh = q(dH, C.KJMOL)
    elif c.d == 2:
        c.set(T_b=Tb, M=M)
        m = c.u("m", 5, 500)
        nE = X(m) / X(M)
        ans = nE * X(dH) * 1000 / X(Tb)
        steps = [fill(r"$n = m/M = @m/@M = @n \mathrm{~mol}$.", m=m, M=M, n=res(ev(nE))),
                 fill(r"$\Delta S = n\Delta_\mathrm{vap}H/T_\mathrm{b} = (@n)(@H \times 10^3)/@T = @ANS \mathrm{~J} \mathrm{~K}^{-1}$.",
                      n=res(ev(nE)), H=dH, T=Tb)]
        unit = r"$\mathrm{J} \mathrm{~K}^{-1}$"
        amt = fill(r"$@m \mathrm{~g}$ ($M = @M \mathrm{~g} \mathrm{~mol}^{-1}$)", m=m, M=M)
        tb = q(Tb, C.K)
        hh = q(dH, C.KJMOL)
    else:
        Tbc = round(Tb - 273.15, 2)
        hs = round(dH * 1000 / M, 1)
        c.set(T_b_C=Tbc, h_vap_J_per_g=hs)
        c.params.pop("dH_vap")
        mk = c.u("m_kg", 0.1, 5.0)
        ans = X(mk) * 1000 * X(hs) / (X(Tbc) + C.T0) / 1000
        Tk = _kelvin(Tbc)
        steps = [fill(r"$q = mh = (@m \times 10^3 \mathrm{~g})(@h \mathrm{~J} \mathrm{~g}^{-1}) = @q \mathrm{~J}$; $T_\mathrm{b} = @T \mathrm{~K}$.",
                      m=mk, h=hs, q=res(ev(X(mk) * 1000 * X(hs))), T=Tk),
                 fill(r"$\Delta S = q/T_\mathrm{b} = @q/@T \mathrm{~J} \mathrm{~K}^{-1} = @ANS \mathrm{~kJ} \mathrm{~K}^{-1}$.",
                      q=res(ev(X(mk) * 1000 * X(hs))), T=Tk)]
        unit = r"$\mathrm{kJ} \mathrm{~K}^{-1}$"
        amt = q(mk, C.KG)
        tb = q(Tbc, C.DEGC)
        hh = fill(r"$@h \mathrm{~J} \mathrm{~g}^{-1}$", h=hs)
    text = [
        "The enthalpy of vaporization of @liq is @hh at its normal boiling point, @tb. Calculate the entropy change when @amt of @liq vaporizes at this temperature.",
        "Calculate the entropy of vaporization of @amt of @liq at its boiling point (@tb), given that its enthalpy of vaporization is @hh.",
        "What is the entropy change for the vaporization of @amt of @liq at @tb, where its enthalpy of vaporization is @hh?",
    ][v]
    return c.done(fill(text, liq=name, hh=hh, tb=tb, amt=amt), unit, steps, ans)


@template("gibbs_energy_temperature", "gibbs_energy", CHEM, ("atkins", "thermo"))
def gibbs_energy_temperature(c: Ctx):
    v = c.variant()
    sign = c.pick([1, -1])
    dH = c.u("dH", 10, 250) * sign
    c.set(dH=dH)
    if c.d == 1:
        dS = c.u("dS", 20, 300) * c.pick([1, -1])
        c.set(dS=dS)
        T = c.u("T", 250, 1200)
        ans = X(dH) - X(T) * X(dS) / 1000
        if abs(ev(ans)) < 1:
            raise Resample
        data = fill(r"$\Delta_\mathrm{r}H^\circ = @H \mathrm{~kJ} \mathrm{~mol}^{-1}$ and $\Delta_\mathrm{r}S^\circ = @S \mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$",
                    H=dH, S=dS)
        ask = fill(r"the standard reaction Gibbs energy at @T", T=q(T, C.K))
        steps = [r"$\Delta_\mathrm{r}G^\circ = \Delta_\mathrm{r}H^\circ - T\Delta_\mathrm{r}S^\circ$.",
                 fill(r"$\Delta_\mathrm{r}G^\circ = @H - (@T)(@S \times 10^{-3}) = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.", H=dH, T=T, S=dS)]
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    elif c.d == 2:
        T1 = c.u("T1", 280, 400)
        T2 = c.u("T2", 300, 1200)
        G1 = sig_round(dH - T1 * c.rng.uniform(-300, 300) / 1000, 3)
        c.set(dG1=G1)
        if abs(T2 - T1) < 20 or abs(G1) < 1:
            raise Resample
        dS = (X(dH) - X(G1)) / X(T1)
        ans = X(dH) - X(T2) * dS
        if abs(ev(ans)) < 1:
            raise Resample
        data = fill(r"$\Delta_\mathrm{r}G^\circ = @G \mathrm{~kJ} \mathrm{~mol}^{-1}$ at @T1 and $\Delta_\mathrm{r}H^\circ = @H \mathrm{~kJ} \mathrm{~mol}^{-1}$",
                    G=G1, T1=q(T1, C.K), H=dH)
        ask = fill(r"$\Delta_\mathrm{r}G^\circ$ at @T2, assuming $\Delta_\mathrm{r}H^\circ$ and $\Delta_\mathrm{r}S^\circ$ do not depend on temperature",
                   T2=q(T2, C.K))
        steps = [fill(r"$\Delta_\mathrm{r}S^\circ = (\Delta_\mathrm{r}H^\circ - \Delta_\mathrm{r}G^\circ)/T_1 = (@H - (@G))/@T1 = @S \mathrm{~kJ} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$.",
                      H=dH, G=G1, T1=T1, S=res(ev(dS))),
                 fill(r"$\Delta_\mathrm{r}G^\circ(T_2) = @H - (@T2)(@S) = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.", H=dH, T2=T2, S=res(ev(dS)))]
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    else:
        Tstar = c.rng.uniform(350, 1500)
        dS = float(f"{dH * 1000 / Tstar:.3g}")
        c.set(dS=dS)
        ans = X(dH) * 1000 / X(dS) - C.T0
        if abs(ev(ans)) < 1:
            raise Resample
        change = "spontaneous" if dH > 0 else "non-spontaneous"
        data = fill(r"$\Delta_\mathrm{r}H^\circ = @H \mathrm{~kJ} \mathrm{~mol}^{-1}$ and $\Delta_\mathrm{r}S^\circ = @S \mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}$ (both independent of temperature)",
                    H=dH, S=dS)
        ask = f"the temperature above which the reaction becomes {change}"
        Tk = ev(X(dH) * 1000 / X(dS))
        steps = [r"The sign of $\Delta_\mathrm{r}G^\circ$ changes where $\Delta_\mathrm{r}H^\circ = T\Delta_\mathrm{r}S^\circ$.",
                 fill(r"$T = \Delta_\mathrm{r}H^\circ/\Delta_\mathrm{r}S^\circ = (@H \times 10^3)/(@S) = @T \mathrm{~K}$.", H=dH, S=dS, T=res(ev(Tk), 5)),
                 fill(r"$\theta = @T - 273.15 = @ANS { }^{\circ} \mathrm{C}$.", T=res(Tk, 5))]
        unit = r"${ }^{\circ} \mathrm{C}$"
    text = [
        "For a certain reaction, @data. Calculate @ask.",
        "A reaction has @data. Find @ask.",
        "Given that @data for a reaction, determine @ask.",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)


# (fuel, formula, C, H, O, Delta_f H / kJ mol^-1, gas? 1/0, molar mass)
FUELS = [("methane", "CH_4(g)", 1, 4, 0, -74.81, 1, 16.04), ("ethane", "C_2H_6(g)", 2, 6, 0, -84.68, 1, 30.07),
         ("propane", "C_3H_8(g)", 3, 8, 0, -103.85, 1, 44.10), ("butane", "C_4H_{10}(g)", 4, 10, 0, -126.15, 1, 58.12),
         ("methanol", "CH_3OH(l)", 1, 4, 1, -238.66, 0, 32.04), ("ethanol", "C_2H_5OH(l)", 2, 6, 1, -277.69, 0, 46.07),
         ("benzene", "C_6H_6(l)", 6, 6, 0, 49.0, 0, 78.11), ("glucose", "C_6H_{12}O_6(s)", 6, 12, 6, -1268.0, 0, 180.16),
         ("octane", "C_8H_{18}(l)", 8, 18, 0, -249.9, 0, 114.23)]
DFH_CO2, DFH_H2O = -393.51, -285.83


@template("combustion_enthalpy", "thermochemistry", CHEM, ("atkins", "matter"))
def combustion_enthalpy(c: Ctx):
    name, formula, nC, nH, nO, dfh, gas, M = c.pick(FUELS)
    c.set(fuel=name, nC=nC, nH=nH, nO=nO, dfH_fuel=dfh, fuel_gas=gas, dfH_CO2=DFH_CO2, dfH_H2O=DFH_H2O)
    v = c.variant()
    dcH = nC * X(DFH_CO2) + sp.Rational(nH, 2) * X(DFH_H2O) - X(dfh)
    nO2 = sp.Integer(nC) + sp.Rational(nH, 4) - sp.Rational(nO, 2)
    data = fill(r"$\Delta_\mathrm{f}H^\circ$ values ($\mathrm{kJ} \mathrm{~mol}^{-1}$): $\mathrm{@F}$ $@f$, $\mathrm{CO_2(g)}$ $@co2$, $\mathrm{H_2O(l)}$ $@h2o$",
                F=formula, f=dfh, co2=DFH_CO2, h2o=DFH_H2O)
    eq = fill(r"$\mathrm{@F} + @o \mathrm{~O_2(g)} \rightarrow @x \mathrm{~CO_2(g)} + @y \mathrm{~H_2O(l)}$",
              F=formula, o=num(ev(nO2)), x=nC, y=num(nH / 2))
    s1t = r"$\Delta_\mathrm{c}H^\circ = @x(@co2) + @y(@h2o) - (@f) = @H \mathrm{~kJ} \mathrm{~mol}^{-1}$."
    s1 = fill(s1t, x=nC, co2=DFH_CO2, y=num(nH / 2), h2o=DFH_H2O, f=dfh, H=res(ev(dcH), 6))
    if c.d == 1:
        ask = f"the standard enthalpy of combustion of {name} at 298 K"
        steps = [eq + ".", fill(s1t, x=nC, co2=DFH_CO2, y=num(nH / 2), h2o=DFH_H2O, f=dfh, H="@ANS")]
        ans, unit = dcH, r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    elif c.d == 2:
        ask = f"the standard internal energy of combustion of {name} at 298.15 K"
        dng = sp.Integer(nC) - nO2 - gas
        ans = dcH - dng * C.R * sp.Rational("298.15") / 1000
        steps = [eq + ".", s1,
                 fill(r"$\Delta n_\mathrm{gas} = @d$, so $\Delta_\mathrm{c}U^\circ = \Delta_\mathrm{c}H^\circ - \Delta n_\mathrm{gas}RT = @H - (@d)(@R \times 10^{-3})(298.15) = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.",
                      d=num(ev(dng)), H=res(ev(dcH), 6), R=RS)]
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    else:
        c.set(M=M)
        m = c.u("m", 1.0, 500.0)
        ask = fill(r"the heat released when @m of @n ($M = @M \mathrm{~g} \mathrm{~mol}^{-1}$) burns completely at constant pressure",
                   m=q(m, C.G_), n=name, M=M)
        nE = X(m) / X(M)
        ans = -nE * dcH
        steps = [eq + ".", s1,
                 fill(r"$n = @m/@M = @n \mathrm{~mol}$, so $q = -n\Delta_\mathrm{c}H^\circ = @ANS \mathrm{~kJ}$.", m=m, M=M, n=res(ev(nE)))]
        unit = r"$\mathrm{kJ}$"
    text = [
        "Using the standard enthalpies of formation at 298 K, @data, calculate @ask.",
        "Calculate @ask, given @data.",
        "From the data @data, determine @ask.",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)


@template("clausius_clapeyron", "phase_equilibria", CHEM, ("atkins", "thermo", "matter"))
def clausius_clapeyron(c: Ctx):
    name, dH, Tb, M = c.pick(LIQUIDS)
    c.set(liquid=name)
    v = c.variant()
    if c.d == 1:
        c.set(dH_vap=dH)
        T1 = c.u("T1", Tb - 60, Tb - 5)
        p1 = c.u("p1_kPa", 5, 90)
        T2 = c.u("T2", Tb - 50, Tb + 20)
        if abs(T2 - T1) < 5:
            raise Resample
        ans = X(p1) * sp.exp(-X(dH) * 1000 / C.R * (1 / X(T2) - 1 / X(T1)))
        data = fill(r"The vapour pressure of @liq is @p1 at @T1 and its enthalpy of vaporization is @H.",
                    liq=name, p1=q(p1, C.KPA), T1=q(T1, C.K), H=q(dH, C.KJMOL))
        ask = fill(r"the vapour pressure of @liq at @T2", liq=name, T2=q(T2, C.K))
        x = ev(-X(dH) * 1000 / C.R * (1 / X(T2) - 1 / X(T1)))
        steps = [r"Clausius-Clapeyron: $\ln(p_2/p_1) = -\frac{\Delta_\mathrm{vap}H}{R}\left(\frac{1}{T_2} - \frac{1}{T_1}\right)$.",
                 fill(r"$\ln(p_2/p_1) = -\frac{@H \times 10^3}{@R}\left(\frac{1}{@T2} - \frac{1}{@T1}\right) = @x$.", H=dH, R=RS,
                      T2=T2, T1=T1, x=res(x)),
                 fill(r"$p_2 = (@p1)e^{@x} = @ANS \mathrm{~kPa}$.", p1=p1, x=res(x))]
        unit = r"$\mathrm{kPa}$"
    elif c.d == 2:
        T1 = c.u("T1", Tb - 60, Tb - 20)
        T2 = c.u("T2", T1 + 10, Tb + 10)
        p1 = c.u("p1_kPa", 5, 60)
        p2 = float(f"{p1 * ev(sp.exp(-X(dH) * 1000 / C.R * (1 / X(T2) - 1 / X(T1)))):.3g}")
        c.set(p2_kPa=p2)
        ans = C.R * sp.log(X(p2) / X(p1)) / (1 / X(T1) - 1 / X(T2)) / 1000
        data = fill(r"The vapour pressure of @liq is @p1 at @T1 and @p2 at @T2.", liq=name, p1=q(p1, C.KPA),
                    T1=q(T1, C.K), p2=q(p2, C.KPA), T2=q(T2, C.K))
        ask = f"the enthalpy of vaporization of {name}"
        steps = [r"$\Delta_\mathrm{vap}H = \frac{R\ln(p_2/p_1)}{1/T_1 - 1/T_2}$.",
                 fill(r"$\ln(@p2/@p1) = @l$, $1/@T1 - 1/@T2 = @d \mathrm{~K}^{-1}$.", p2=p2, p1=p1, T1=T1, T2=T2,
                      l=res(ev(sp.log(X(p2) / X(p1)))), d=res(ev(1 / X(T1) - 1 / X(T2)))),
                 fill(r"$\Delta_\mathrm{vap}H = (@R)(@l)/(@d) \mathrm{~J} \mathrm{~mol}^{-1} = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.",
                      R=RS, l=res(ev(sp.log(X(p2) / X(p1)))), d=res(ev(1 / X(T1) - 1 / X(T2))))]
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    else:
        c.set(dH_vap=dH)
        T1c = c.u("T1_C", Tb - 273.15 - 40, Tb - 273.15 - 5, 3)
        p1 = c.u("p1_Torr", 50, 600)
        p2 = c.u("p2_Torr", 100, 1500)
        if abs(p2 / p1 - 1) < 0.1:
            raise Resample
        T1 = _kelvin(T1c)
        inv = 1 / (X(T1c) + C.T0) - C.R * sp.log(X(p2) / X(p1)) / (X(dH) * 1000)
        ans = 1 / inv - C.T0
        if abs(ev(ans)) < 1:
            raise Resample
        data = fill(r"The vapour pressure of @liq is @p1 at @T1 and its enthalpy of vaporization is @H.",
                    liq=name, p1=q(p1, C.TORR), T1=q(T1c, C.DEGC), H=q(dH, C.KJMOL))
        ask = fill(r"the temperature at which the vapour pressure of @liq reaches @p2", liq=name, p2=q(p2, C.TORR))
        steps = [fill(r"$T_1 = @T1 \mathrm{~K}$; $\frac{1}{T_2} = \frac{1}{T_1} - \frac{R\ln(p_2/p_1)}{\Delta_\mathrm{vap}H}$.", T1=T1),
                 fill(r"$\frac{1}{T_2} = \frac{1}{@T1} - \frac{@R\ln(@p2/@p1)}{@H \times 10^3} = @inv \mathrm{~K}^{-1}$, $T_2 = @T2 \mathrm{~K}$.",
                      T1=T1, R=RS, p2=p2, p1=p1, H=dH, inv=res(ev(inv)), T2=res(ev(1 / inv), 5)),
                 fill(r"$\theta_2 = @T2 - 273.15 = @ANS { }^{\circ} \mathrm{C}$.", T2=res(ev(1 / inv), 5))]
        unit = r"${ }^{\circ} \mathrm{C}$"
    text = [
        "@data Assuming the enthalpy of vaporization is constant, estimate @ask.",
        "Use the Clausius-Clapeyron equation to find @ask. @data",
        "Estimate @ask from the following data. @data",
    ][v]
    return c.done(fill(text, data=data, ask=ask), unit, steps, ans)
