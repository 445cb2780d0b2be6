"""Physical chemistry III: quantum chemistry and spectroscopy (quan, chemmc, atkins)."""

from __future__ import annotations

import sympy as sp

from . import constants as C
from ..base import Ctx, Resample, X, ev, fill, num, q, res, sig_round, template

CHEM = "chemistry"
HS = r"6.626 \times 10^{-34}"
CS = r"2.998 \times 10^{8}"
MES = r"9.109 \times 10^{-31}"
US = r"1.6605 \times 10^{-27}"
ES = r"1.602 \times 10^{-19}"
NAS = r"6.022 \times 10^{23}"

# ------------------------------------------------------------------ particle in a box

_x, _a, _b = sp.symbols("x a b", real=True)
_L = sp.Symbol("L", positive=True)
_n = sp.Symbol("n", integer=True, positive=True)
_BOX_PROB = sp.integrate(2 / _L * sp.sin(_n * sp.pi * _x / _L) ** 2, (_x, _a, _b))


@template("particle_in_a_box", "quantum_chemistry", CHEM, ("quan", "chemmc", "atkins"))
def particle_in_a_box(c: Ctx):
    v = c.variant()
    L = c.u("L_nm", 0.2, 2.0)
    Lm = X(L) / 10**9
    if c.d == 1:
        n = c.i("n", 1, 5)
        ans = n**2 * C.h**2 / (8 * C.me * Lm**2)
        ask = fill(r"the energy of the level $n = @n$", n=n)
        steps = [r"$E_n = \frac{n^2h^2}{8m_\mathrm{e}L^2}$.",
                 fill(r"$E_{@n} = \frac{(@n)^2(@h)^2}{8(@me)(@L \times 10^{-9})^2} = @ANS \mathrm{~J}$.", n=n, h=HS, me=MES, L=L)]
        unit = r"$\mathrm{J}$"
    elif c.d == 2:
        n1 = c.i("n1", 1, 4)
        n2 = c.i("n2", n1 + 1, n1 + 3)
        dE = (n2**2 - n1**2) * C.h**2 / (8 * C.me * Lm**2)
        ans = C.h * C.c / dE * 10**9
        ask = fill(r"the wavelength of the photon absorbed in the transition $n = @a \rightarrow @b$", a=n1, b=n2)
        steps = [fill(r"$\Delta E = \frac{(n_2^2 - n_1^2)h^2}{8m_\mathrm{e}L^2} = \frac{(@d)(@h)^2}{8(@me)(@L \times 10^{-9})^2} = @E \mathrm{~J}$.",
                      d=n2**2 - n1**2, h=HS, me=MES, L=L, E=res(ev(dE))),
                 fill(r"$\lambda = hc/\Delta E = (@h)(@c)/(@E) = @ANS \mathrm{~nm}$.", h=HS, c=CS, E=res(ev(dE)))]
        unit = r"$\mathrm{nm}$"
    else:
        n = c.i("n", 1, 4)
        f1 = c.rng.uniform(0.0, 0.7)
        f2 = c.rng.uniform(f1 + 0.05, min(1.0, f1 + 0.4))
        x1 = sig_round(L * f1, 2) if f1 > 0.02 else 0.0
        x2 = sig_round(L * f2, 2)
        if not 0 <= x1 < x2 <= L:
            raise Resample
        c.set(x1_nm=x1, x2_nm=x2)
        ans = _BOX_PROB.subs({_L: X(L), _n: n, _a: X(x1), _b: X(x2)})
        ask = fill(r"the probability of finding the electron between $x = @x1$ and $x = @x2 \mathrm{~nm}$ when it is in the state $n = @n$",
                   x1=x1, x2=x2, n=n)
        steps = [r"$P = \int_{x_1}^{x_2}\frac{2}{L}\sin^2\frac{n\pi x}{L}\,dx = \left[\frac{x}{L} - \frac{1}{2n\pi}\sin\frac{2n\pi x}{L}\right]_{x_1}^{x_2}$.",
                 fill(r"With $L = @L$, $n = @n$: $P = \frac{@d}{@L} - \frac{1}{@t\pi}\left(\sin\frac{@u\pi (@x2)}{@L} - \sin\frac{@u\pi (@x1)}{@L}\right) = @ANS$.",
                      L=L, n=n, d=num(sig_round(x2 - x1, 6)), t=2 * n, u=2 * n, x1=x1, x2=x2)]
        unit = ""
    text = [
        "An electron is confined to a one-dimensional box of length @L. Calculate @ask.",
        "Consider an electron in a one-dimensional infinite square well of width @L. What is @ask?",
        "Treating an electron as a particle in a one-dimensional box of length @L, find @ask.",
    ][v]
    return c.done(fill(text, L=q(L, C.NM), ask=ask), unit, steps, ans)


# ------------------------------------------------------------------ photons

@template("photon_energy", "quantum_chemistry", CHEM, ("chemmc", "quan", "atkins"))
def photon_energy(c: Ctx):
    v = c.variant()
    lam = c.u("lambda_nm", 100, 1000)
    lm = X(lam) / 10**9
    E = C.h * C.c / lm
    s1 = fill(r"$E = hc/\lambda = (@h)(@c)/(@l \times 10^{-9}) = @E \mathrm{~J}$.", h=HS, c=CS, l=lam, E=res(ev(E)))
    if c.d == 1:
        ans = E
        ask = "the energy of one photon"
        steps = [s1.replace(res(ev(E)) + r" \mathrm{~J}", r"@ANS \mathrm{~J}")]
        unit = r"$\mathrm{J}$"
    elif c.d == 2:
        ans = E * C.NA / 1000
        ask = "the energy of one mole of these photons"
        steps = [s1, fill(r"$E_\mathrm{m} = N_\mathrm{A}E = (@NA)(@E) \mathrm{~J} \mathrm{~mol}^{-1} = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.",
                          NA=NAS, E=res(ev(E)))]
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    else:
        P = c.u("P_W", 1, 100)
        tm = c.u("t_min", 0.5, 30)
        Etot = X(P) * X(tm) * 60
        ans = Etot / E
        ask = fill(r"the number of photons emitted by a @P source in @t", P=q(P, C.W), t=q(tm, C.MIN))
        steps = [s1,
                 fill(r"Energy emitted: $Pt = (@P)(@t \times 60) = @Et \mathrm{~J}$.", P=P, t=tm, Et=res(ev(Etot))),
                 fill(r"$N = Pt/E = @Et/(@E) = @ANS$.", Et=res(ev(Etot)), E=res(ev(E)))]
        unit = ""
    text = [
        "Light of wavelength @l is used in an experiment. Calculate @ask.",
        "Calculate @ask for radiation of wavelength @l.",
        "What is @ask when the wavelength of the light is @l?",
    ][v]
    return c.done(fill(text, l=q(lam, C.NM), ask=ask), unit, steps, ans)


# (name, mass / u) for de Broglie at level 3
PARTICLES = [("a neutron", 1.00866), ("a proton", 1.00728), ("a helium-4 atom", 4.00260), ("a hydrogen atom", 1.00783),
             ("a deuteron", 2.01355)]


@template("de_broglie_wavelength", "quantum_chemistry", CHEM, ("quan", "chemmc", "atkins"))
def de_broglie_wavelength(c: Ctx):
    v = c.variant()
    if c.d == 1:
        vel = c.lu("v", 1e5, 1e7)
        ans = C.h / (C.me * X(vel)) * 10**12
        who = fill(r"an electron moving at @v", v=q(vel, C.MS))
        steps = [r"$\lambda = h/p = h/(m_\mathrm{e}v)$.",
                 fill(r"$\lambda = (@h)/((@me)(@v)) \mathrm{~m} = @ANS \mathrm{~pm}$.", h=HS, me=MES, v=num(vel))]
    elif c.d == 2:
        V = c.lu("V", 10, 20000)
        p = sp.sqrt(2 * C.me * C.e * X(V))
        ans = C.h / p * 10**12
        who = fill(r"an electron accelerated from rest through a potential difference of @V", V=q(V, C.V))
        steps = [fill(r"$p = \sqrt{2m_\mathrm{e}eV} = \sqrt{2(@me)(@e)(@V)} = @p \mathrm{~kg} \mathrm{~m} \mathrm{~s}^{-1}$.",
                      me=MES, e=ES, V=V, p=res(ev(p))),
                 fill(r"$\lambda = h/p = (@h)/(@p) \mathrm{~m} = @ANS \mathrm{~pm}$.", h=HS, p=res(ev(p)))]
    else:
        name, mu = c.pick(PARTICLES)
        c.set(particle=name, mass_u=mu)
        Eev = c.lu("E_eV", 0.01, 50)
        m = X(mu) * C.amu
        Ej = X(Eev) * C.e
        p = sp.sqrt(2 * m * Ej)
        ans = C.h / p * 10**12
        who = fill(r"@n (mass $@m \mathrm{~u}$) with a kinetic energy of @E", n=name, m=mu, E=q(Eev, C.EV))
        steps = [fill(r"$m = (@m)(@u) = @M \mathrm{~kg}$, $E_\mathrm{k} = (@E)(@e) = @J \mathrm{~J}$.",
                      m=mu, u=US, M=res(ev(m)), E=Eev, e=ES, J=res(ev(Ej))),
                 fill(r"$p = \sqrt{2mE_\mathrm{k}} = @p \mathrm{~kg} \mathrm{~m} \mathrm{~s}^{-1}$.", p=res(ev(p))),
                 fill(r"$\lambda = h/p = (@h)/(@p) \mathrm{~m} = @ANS \mathrm{~pm}$.", h=HS, p=res(ev(p)))]
    text = [
        "Calculate the de Broglie wavelength of @who.",
        "What is the de Broglie wavelength associated with @who?",
        "Find the wavelength of the matter wave of @who.",
    ][v]
    return c.done(fill(text, who=who), r"$\mathrm{pm}$", steps, ans)


SERIES = [("Lyman", 1), ("Balmer", 2), ("Paschen", 3), ("Brackett", 4), ("Pfund", 5)]
RH_CM = C.RH / 100  # cm^-1


@template("hydrogen_spectrum", "atomic_structure", CHEM, ("atkins", "chemmc", "quan"))
def hydrogen_spectrum(c: Ctx):
    v = c.variant()
    series, n1 = c.pick(SERIES)
    c.set(series=series, n1=n1)
    n2 = c.i("n2", n1 + 1, n1 + 5)
    nu = RH_CM * (sp.Rational(1, n1**2) - sp.Rational(1, n2**2))
    s1 = fill(r"$\tilde{\nu} = R_\mathrm{H}\left(\frac{1}{@a^2} - \frac{1}{@b^2}\right) = (109677.6)(@f) = @nu \mathrm{~cm}^{-1}$.",
              a=n1, b=n2, f=res(ev(sp.Rational(1, n1**2) - sp.Rational(1, n2**2))), nu=res(ev(nu), 6))
    line = fill(r"the line of the @s series of atomic hydrogen that arises from the upper level $n = @n$", s=series, n=n2)
    if c.d == 1:
        ans, ask, unit = nu, "the wavenumber of", r"$\mathrm{cm}^{-1}$"
        steps = [s1.replace(res(ev(nu), 6) + r" \mathrm", r"@ANS \mathrm")]
    elif c.d == 2:
        ans, ask, unit = 10**7 / nu, "the wavelength of", r"$\mathrm{nm}$"
        steps = [s1, fill(r"$\lambda = 1/\tilde{\nu} = 10^7/@nu \mathrm{~nm} = @ANS \mathrm{~nm}$.", nu=res(ev(nu), 6))]
    else:
        Ej = C.h * C.c * nu * 100
        ans, ask, unit = Ej / C.e, "the photon energy of", r"$\mathrm{eV}$"
        steps = [s1,
                 fill(r"$E = hc\tilde{\nu} = (@h)(@c)(@nu \times 10^2 \mathrm{~m}^{-1}) = @E \mathrm{~J}$.", h=HS, c=CS,
                      nu=res(ev(nu), 6), E=res(ev(Ej))),
                 fill(r"$E = @E/(@e) = @ANS \mathrm{~eV}$.", E=res(ev(Ej)), e=ES)]
    text = [
        "Calculate @ask @line.",
        "Using the Rydberg formula, find @ask @line.",
        "What is @ask @line?",
    ][v]
    return c.done(fill(text, ask=ask, line=line), unit, steps, ans)


# (label, m1 / u, m2 / u, force constant / N m^-1)
VIB = [(r"^1\mathrm{H}^{35}\mathrm{Cl}", 1.0078, 34.9689, 516.3), (r"^1\mathrm{H}^{79}\mathrm{Br}", 1.0078, 78.9183, 411.5),
       (r"^1\mathrm{H}^{19}\mathrm{F}", 1.0078, 18.9984, 965.7), (r"^{12}\mathrm{C}^{16}\mathrm{O}", 12.0000, 15.9949, 1902.0),
       (r"^{14}\mathrm{N}^{16}\mathrm{O}", 14.0031, 15.9949, 1595.0), (r"^1\mathrm{H}_2", 1.0078, 1.0078, 575.0),
       (r"^{35}\mathrm{Cl}_2", 34.9689, 34.9689, 329.0), (r"^{16}\mathrm{O}_2", 15.9949, 15.9949, 1177.0),
       (r"^{14}\mathrm{N}_2", 14.0031, 14.0031, 2294.0)]


@template("harmonic_oscillator_vibration", "spectroscopy", CHEM, ("atkins", "quan", "chemmc"))
def harmonic_oscillator_vibration(c: Ctx):
    v = c.variant()
    lab, m1, m2, k = c.pick(VIB)
    c.set(molecule=lab, k=k)
    if c.d == 1:
        mu = sig_round(m1 * m2 / (m1 + m2), 5)
        c.set(mu_u=mu)
        muE = X(mu)
        mol = fill(r"$@l$ (effective mass $\mu = @mu \mathrm{~u}$, force constant $k_\mathrm{f} = @k \mathrm{~N} \mathrm{~m}^{-1}$)",
                   l=lab, mu=mu, k=k)
        steps = []
    else:
        c.set(m1_u=m1, m2_u=m2)
        muE = X(m1) * X(m2) / (X(m1) + X(m2))
        mol = fill(r"$@l$ (atomic masses $@a \mathrm{~u}$ and $@b \mathrm{~u}$, force constant $k_\mathrm{f} = @k \mathrm{~N} \mathrm{~m}^{-1}$)",
                   l=lab, a=m1, b=m2, k=k)
        steps = [fill(r"$\mu = m_1m_2/(m_1+m_2) = @mu \mathrm{~u} = @kg \mathrm{~kg}$.", mu=res(ev(muE), 5), kg=res(ev(muE * C.amu)))]
    mkg = muE * C.amu
    omega = sp.sqrt(X(k) / mkg)
    if c.d < 3:
        ans = omega / (2 * sp.pi * C.c) / 100
        ask = "the vibrational wavenumber"
        steps.insert(0, r"$\tilde{\nu} = \frac{1}{2\pi c}\sqrt{k_\mathrm{f}/\mu}$.")
        steps.append(fill(r"$\tilde{\nu} = \frac{1}{2\pi(@c)}\sqrt{@k/(@kg)} \mathrm{~m}^{-1} = @ANS \mathrm{~cm}^{-1}$.",
                          c=CS, k=k, kg=res(ev(mkg))))
        unit = r"$\mathrm{cm}^{-1}$"
    else:
        E0 = C.hbar * omega / 2
        ans = E0 * C.NA / 1000
        ask = "the zero-point vibrational energy per mole"
        steps.append(fill(r"$\omega = \sqrt{k_\mathrm{f}/\mu} = @w \mathrm{~s}^{-1}$, $E_0 = \tfrac{1}{2}\hbar\omega = @E \mathrm{~J}$.",
                          w=res(ev(omega)), E=res(ev(E0))))
        steps.append(fill(r"$E_{0,\mathrm{m}} = N_\mathrm{A}E_0 = @ANS \mathrm{~kJ} \mathrm{~mol}^{-1}$.", E=res(ev(E0))))
        unit = r"$\mathrm{kJ} \mathrm{~mol}^{-1}$"
    text = [
        "Treat the vibration of @mol as a harmonic oscillator. Calculate @ask.",
        "Calculate @ask of @mol, modelled as a harmonic oscillator.",
        "Find @ask for the harmonic oscillator model of @mol.",
    ][v]
    return c.done(fill(text, mol=mol, ask=ask), unit, steps, ans)


# (label, m1 / u, m2 / u, bond length / pm)
ROT = [(r"^1\mathrm{H}^{35}\mathrm{Cl}", 1.0078, 34.9689, 127.5), (r"^{12}\mathrm{C}^{16}\mathrm{O}", 12.0000, 15.9949, 112.8),
       (r"^1\mathrm{H}^{79}\mathrm{Br}", 1.0078, 78.9183, 141.4), (r"^1\mathrm{H}^{19}\mathrm{F}", 1.0078, 18.9984, 91.7),
       (r"^{14}\mathrm{N}^{16}\mathrm{O}", 14.0031, 15.9949, 115.1), (r"^1\mathrm{H}^{127}\mathrm{I}", 1.0078, 126.9045, 160.9),
       (r"^{23}\mathrm{Na}^{35}\mathrm{Cl}", 22.9898, 34.9689, 236.1)]


@template("rigid_rotor_rotation", "spectroscopy", CHEM, ("atkins", "quan", "chemmc"))
def rigid_rotor_rotation(c: Ctx):
    v = c.variant()
    lab, m1, m2, R = c.pick(ROT)
    c.set(molecule=lab, R_pm=R)
    Rm = X(R) / 10**12
    if c.d == 1:
        mu = sig_round(m1 * m2 / (m1 + m2), 5)
        c.set(mu_u=mu)
        muE = X(mu)
        mol = fill(r"$@l$ (reduced mass $@mu \mathrm{~u}$, bond length $@R \mathrm{~pm}$)", l=lab, mu=mu, R=R)
        ans = muE * C.amu * Rm**2
        ask = "the moment of inertia"
        steps = [r"$I = \mu R^2$.",
                 fill(r"$I = (@mu \times @u)(@R \times 10^{-12})^2 = @ANS \mathrm{~kg} \mathrm{~m}^2$.", mu=mu, u=US, R=R)]
        unit = r"$\mathrm{kg} \mathrm{~m}^2$"
    else:
        c.set(m1_u=m1, m2_u=m2)
        muE = X(m1) * X(m2) / (X(m1) + X(m2))
        mol = fill(r"$@l$ (atomic masses $@a \mathrm{~u}$ and $@b \mathrm{~u}$, bond length $@R \mathrm{~pm}$)",
                   l=lab, a=m1, b=m2, R=R)
        I = muE * C.amu * Rm**2
        steps = [fill(r"$\mu = m_1m_2/(m_1+m_2) = @mu \mathrm{~u}$; $I = \mu R^2 = @I \mathrm{~kg} \mathrm{~m}^2$.",
                      mu=res(ev(muE), 5), I=res(ev(I)))]
        if c.d == 2:
            ans = C.h / (8 * sp.pi**2 * C.c * I) / 100
            ask = "the rotational constant $\\tilde{B}$"
            steps.append(fill(r"$\tilde{B} = \frac{h}{8\pi^2 cI} = \frac{@h}{8\pi^2(@c)(@I)} \mathrm{~m}^{-1} = @ANS \mathrm{~cm}^{-1}$.",
                              h=HS, c=CS, I=res(ev(I))))
            unit = r"$\mathrm{cm}^{-1}$"
        else:
            J = c.i("J", 0, 4)
            B = C.h / (8 * sp.pi**2 * I)
            ans = 2 * B * (J + 1) / 10**9
            ask = fill(r"the frequency of the rotational transition $J = @a \rightarrow @b$", a=J, b=J + 1)
            steps.append(fill(r"$B = \frac{h}{8\pi^2 I} = @B \mathrm{~Hz}$.", B=res(ev(B))))
            steps.append(fill(r"$\nu = 2B(J+1) = 2(@B)(@j) \mathrm{~Hz} = @ANS \mathrm{~GHz}$.", B=res(ev(B)), j=J + 1))
            unit = r"$\mathrm{GHz}$"
    text = [
        "Model @mol as a rigid rotor. Calculate @ask.",
        "Calculate @ask of @mol, treating the molecule as a rigid rotor.",
        "For @mol treated as a rigid rotor, what is @ask?",
    ][v]
    return c.done(fill(text, mol=mol, ask=ask), unit, steps, ans)
