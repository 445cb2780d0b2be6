"""Tests of the symbolic template library (data_agent.generators.symbolic).

Every template's answer is re-derived here from ``Problem.params`` with plain
``math`` / ``numpy`` / ``scipy`` (no sympy, no template code): one independent
checker per template, returning the answer in the template's *base* unit; the
power of ten a problem puts into its unit (``$10^{-19} \\mathrm{~J}$``) is
parsed back out of ``Problem.unit``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import subprocess
import sys
from functools import lru_cache

import jsonschema
import numpy as np
import pytest
import scipy.constants as sc
from scipy import integrate, stats

from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
from data_agent.generators.teachers.base import Teacher, TeacherRequest
from data_agent.generators.symbolic import TEMPLATES as ALL_TEMPLATES
from data_agent.generators.symbolic import Problem, Template, generate, scale_to_unit, templates_for, topics
from data_agent.generators.teachers.symbolic import SymbolicTeacher

TEMPLATES = {n: t for n, t in ALL_TEMPLATES.items() if t.library.domain == "science"}
"""The science library's templates (the other libraries have their own tests)."""

# ----------------------------------------------------------------------------- constants (scipy, CODATA)

R = sc.R
H = sc.h
C = sc.c
NA = sc.N_A
KB = sc.k
E = sc.e
F = sc.physical_constants["Faraday constant"][0]
ME = sc.m_e
MP = sc.m_p
AMU = sc.physical_constants["atomic mass constant"][0]
G = sc.G
KE = 1 / (4 * math.pi * sc.epsilon_0)
ATM = sc.atm
GRAV = 9.81
T0 = 273.15
R_LATM = R / ATM * 1000
RH_CM = sc.Rydberg / (1 + ME / MP) / 100


def _quad(f, a, b):
    return integrate.quad(f, a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def _rad(d):
    return math.radians(d)


# ----------------------------------------------------------------------------- chemistry checkers

def ck_perfect_gas_pressure(P, d):
    n = P["n"] if "n" in P else P["m"] / P["M"]
    if d < 3:
        return n * R * P["T"] / (P["V"] * 1e-3) / ATM
    return n * R * (P["T_C"] + T0) / (P["V_cm3"] * 1e-6) / 1000


def ck_van_der_waals_pressure(P, d):
    n = P["m"] / P["M"] if d == 2 else P["n"]
    p = n * R_LATM * P["T"] / (P["V"] - n * P["b"]) - P["a"] * n**2 / P["V"] ** 2
    return p if d < 3 else p * (P["V"] / n) / (R_LATM * P["T"])


def ck_isothermal_reversible_work(P, d):
    if d == 1:
        return -P["n"] * R * P["T"] * math.log(P["V_f"] / P["V_i"])
    if d == 2:
        return -P["n"] * R * P["T"] * math.log(P["p_i"] / P["p_f"])
    return -P["m"] / P["M"] * R * (P["T_C"] + T0) * math.log(P["V_f_cm3"] / P["V_i_cm3"]) / 1000


def ck_expansion_work_constant_pressure(P, d):
    if d == 1:
        return -P["p_ex"] * ATM * P["dV"] * 1e-3
    if d == 2:
        return -P["p_ex_kPa"] * 1e3 * (P["A_cm2"] * 1e-4) * (P["d_cm"] * 1e-2)
    return -P["m"] / P["M"] * R * (P["T_C"] + T0)


def ck_adiabatic_expansion(P, d):
    if d < 3:
        Tf = P["T_i"] * (P["V_i"] / P["V_f"]) ** (R / P["Cv"])
        return Tf if d == 1 else P["n"] * P["Cv"] * (Tf - P["T_i"])
    gamma = P["Cp"] / (P["Cp"] - R)
    return P["p_i_kPa"] * (P["V_i_cm3"] / P["V_f_cm3"]) ** gamma


def ck_heating_enthalpy(P, d):
    if d == 1:
        return P["n"] * P["Cp"] * (P["T2"] - P["T1"]) / 1000
    if d == 2:
        return P["m"] / P["M"] * P["Cp"] * (P["T2_C"] - P["T1_C"]) / 1000
    a, b, c = P["a"], P["b"], P["c"]
    return P["n"] * _quad(lambda T: a + b * T + c / T**2, P["T1"], P["T2"]) / 1000


def ck_entropy_heating(P, d):
    if d == 1:
        return P["n"] * P["Cp"] * math.log(P["T2"] / P["T1"])
    if d == 2:
        return P["m"] / P["M"] * P["Cp"] * math.log((P["T2_C"] + T0) / (P["T1_C"] + T0))
    return P["n"] * P["Cv"] * math.log(P["T2"] / P["T1"]) + P["n"] * R * math.log(P["V2"] / P["V1"])


def ck_entropy_of_vaporization(P, d):
    if d == 1:
        return P["dH_vap"] * 1000 / P["T_b"]
    if d == 2:
        return P["m"] / P["M"] * P["dH_vap"] * 1000 / P["T_b"]
    return P["m_kg"] * 1000 * P["h_vap_J_per_g"] / (P["T_b_C"] + T0) / 1000


def ck_gibbs_energy_temperature(P, d):
    if d == 1:
        return P["dH"] - P["T"] * P["dS"] / 1000
    if d == 2:
        dS = (P["dH"] - P["dG1"]) / P["T1"]
        return P["dH"] - P["T2"] * dS
    return P["dH"] * 1000 / P["dS"] - T0


def ck_combustion_enthalpy(P, d):
    nC, nH, nO = P["nC"], P["nH"], P["nO"]
    dcH = nC * P["dfH_CO2"] + nH / 2 * P["dfH_H2O"] - P["dfH_fuel"]
    if d == 1:
        return dcH
    if d == 2:
        dng = nC - (nC + nH / 4 - nO / 2) - P["fuel_gas"]
        return dcH - dng * R * 298.15 / 1000
    return -P["m"] / P["M"] * dcH


def ck_clausius_clapeyron(P, d):
    if d == 1:
        return P["p1_kPa"] * math.exp(-P["dH_vap"] * 1000 / R * (1 / P["T2"] - 1 / P["T1"]))
    if d == 2:
        return R * math.log(P["p2_kPa"] / P["p1_kPa"]) / (1 / P["T1"] - 1 / P["T2"]) / 1000
    T1 = P["T1_C"] + T0
    inv = 1 / T1 - R * math.log(P["p2_Torr"] / P["p1_Torr"]) / (P["dH_vap"] * 1000)
    return 1 / inv - T0


def ck_first_order_kinetics(P, d):
    if d == 1:
        return P["A0"] * math.exp(-P["k"] * P["t"])
    if d == 2:
        return 100 * 0.5 ** (P["t"] / P["t_half"])
    k = math.log(2) / (P["t_half_h"] * 60)
    return math.log(P["A0"] / P["A"]) / k


def ck_second_order_kinetics(P, d):
    if d == 1:
        return 1 / (1 / P["A0"] + P["k"] * P["t"])
    if d == 2:
        return (1 / P["A"] - 1 / P["A0"]) / P["t"]
    a0 = P["A0_mmol"] / 1000
    a = a0 * (1 - P["percent_reacted"] / 100)
    return (1 / a - 1 / a0) / P["k_per_min"] * 60


def ck_arrhenius_equation(P, d):
    if d == 1:
        return math.exp(-P["Ea"] * 1000 / R * (1 / P["T2"] - 1 / P["T1"]))
    if d == 2:
        return R * math.log(P["k2"] / P["k1"]) / (1 / P["T1"] - 1 / P["T2"]) / 1000
    T1 = P["T1_C"] + T0
    return 1 / (1 / T1 - R * math.log(P["factor"]) / (P["Ea"] * 1000)) - T0


def ck_equilibrium_constant_gibbs(P, d):
    if d == 1:
        return math.exp(-P["dG"] * 1000 / (R * P["T"]))
    if d == 2:
        dG = P["dH"] - P["T"] * P["dS"] / 1000
        return math.exp(-dG * 1000 / (R * P["T"]))
    dG = sum(P[f"nu_{i}"] * P[f"dfG_{i}"] for i in range(P["n_species"]))
    return math.exp(-dG * 1000 / (R * 298.15))


def ck_van_t_hoff_equation(P, d):
    if d == 1:
        return P["K1"] * math.exp(-P["dH"] * 1000 / R * (1 / P["T2"] - 1 / P["T1"]))
    T1, T2 = (P["T1"], P["T2"]) if d == 2 else (P["T1_C"] + T0, P["T2_C"] + T0)
    dH = R * math.log(P["K2"] / P["K1"]) / (1 / T1 - 1 / T2)
    if d == 2:
        return dH / 1000
    dG1 = -R * T1 * math.log(P["K1"])
    return (dH - dG1) / T1


def ck_nernst_equation(P, d):
    if d == 1:
        return P["E0"] - R * 298.15 / (P["n"] * F) * math.log(P["Q"])
    Q = P["c_anode_ion"] / P["c_cathode_ion"]
    if d == 2:
        return P["E0"] - R * 298.15 / (2 * F) * math.log(Q)
    return (P["E_cathode"] - P["E_anode"]) - R * (P["T_C"] + T0) / (2 * F) * math.log(Q)


def ck_cell_gibbs_energy(P, d):
    if d == 1:
        return -P["n"] * F * P["E0"] / 1000
    E0 = P["E_cathode"] - P["E_anode"]
    if d == 2:
        return -2 * F * E0 / 1000
    return math.exp(2 * F * E0 / (R * 298.15))


def ck_particle_in_a_box(P, d):
    L = P["L_nm"] * 1e-9
    if d == 1:
        return P["n"] ** 2 * H**2 / (8 * ME * L**2)
    if d == 2:
        dE = (P["n2"] ** 2 - P["n1"] ** 2) * H**2 / (8 * ME * L**2)
        return H * C / dE * 1e9
    Ln, k = P["L_nm"], P["n"]
    return _quad(lambda x: 2 / Ln * math.sin(k * math.pi * x / Ln) ** 2, P["x1_nm"], P["x2_nm"])


def ck_photon_energy(P, d):
    En = H * C / (P["lambda_nm"] * 1e-9)
    if d == 1:
        return En
    if d == 2:
        return En * NA / 1000
    return P["P_W"] * P["t_min"] * 60 / En


def ck_de_broglie_wavelength(P, d):
    if d == 1:
        p = ME * P["v"]
    elif d == 2:
        p = math.sqrt(2 * ME * E * P["V"])
    else:
        p = math.sqrt(2 * P["mass_u"] * AMU * P["E_eV"] * E)
    return H / p * 1e12


def ck_hydrogen_spectrum(P, d):
    nu = RH_CM * (1 / P["n1"] ** 2 - 1 / P["n2"] ** 2)
    if d == 1:
        return nu
    if d == 2:
        return 1e7 / nu
    return H * C * nu * 100 / E


def _mu(P):
    return P["mu_u"] if "mu_u" in P else P["m1_u"] * P["m2_u"] / (P["m1_u"] + P["m2_u"])


def ck_harmonic_oscillator_vibration(P, d):
    omega = math.sqrt(P["k"] / (_mu(P) * AMU))
    if d < 3:
        return omega / (2 * math.pi * C) / 100
    return 0.5 * sc.hbar * omega * NA / 1000


def ck_rigid_rotor_rotation(P, d):
    inertia = _mu(P) * AMU * (P["R_pm"] * 1e-12) ** 2
    if d == 1:
        return inertia
    if d == 2:
        return H / (8 * math.pi**2 * C * inertia) / 100
    return 2 * H / (8 * math.pi**2 * inertia) * (P["J"] + 1) / 1e9


# ----------------------------------------------------------------------------- physics checkers

def ck_constant_acceleration(P, d):
    if d == 1:
        return P["v0"] * P["t"] + 0.5 * P["a"] * P["t"] ** 2
    if d == 2:
        return 2 * P["d"] / P["v0"]
    v = P["v0_kmh"] / 3.6
    return v * P["t_reaction"] + v**2 / (2 * P["a"])


def ck_projectile_motion(P, d):
    th = _rad(P["theta_deg"])
    v0 = P["v0"]
    if d == 1:
        return 2 * v0 * math.sin(th) / GRAV
    if d == 2:
        return v0**2 * math.sin(2 * th) / GRAV
    roots = np.roots([-GRAV / 2, v0 * math.sin(th), P["h"]])
    return v0 * math.cos(th) * float(max(roots.real))


def ck_inclined_plane(P, d):
    th = _rad(P["theta_deg"])
    if d == 1:
        return GRAV * math.sin(th)
    a = GRAV * (math.sin(th) - P["mu_k"] * math.cos(th))
    return a if d == 2 else math.sqrt(2 * a * P["L_cm"] / 100)


def ck_atwood_machine(P, d):
    m1, m2 = (P["m1"], P["m2"]) if d < 3 else (P["m1_g"] / 1000, P["m2_g"] / 1000)
    a = (m1 - m2) * GRAV / (m1 + m2)
    if d == 1:
        return a
    if d == 2:
        return 2 * m1 * m2 * GRAV / (m1 + m2)
    return math.sqrt(2 * a * P["d_cm"] / 100)


def ck_spring_launch_energy(P, d):
    if d == 1:
        return 0.5 * P["k"] * P["x"] ** 2
    if d == 2:
        return P["x"] * math.sqrt(P["k"] / P["m"])
    return 0.5 * P["k"] * (P["x_cm"] / 100) ** 2 / (P["m_g"] / 1000 * GRAV) * 100


def ck_work_and_power(P, d):
    if d == 1:
        return P["m"] * GRAV * P["h"]
    if d == 2:
        return P["m"] * GRAV * P["h"] / P["t"]
    return P["m_t"] * 1000 * GRAV * P["h"] / (P["t_min"] * 60) / (P["efficiency_pct"] / 100) / 1000


def ck_collision_1d(P, d):
    if d < 3:
        m1, m2, v1, v2 = P["m1"], P["m2"], P["v1"], P["v2"]
    else:
        m1, m2, v1, v2 = P["m1_g"] / 1000, P["m2_g"] / 1000, P["v1_cms"] / 100, P["v2_cms"] / 100
    if d == 3:  # elastic: solve momentum + energy conservation numerically
        # v1' = ((m1 - m2) v1 + 2 m2 v2)/(m1 + m2) follows from the two conservation laws; check both hold
        v1p = ((m1 - m2) * v1 + 2 * m2 * v2) / (m1 + m2)
        v2p = v1p + (v1 - v2)  # relative velocity reverses
        assert math.isclose(m1 * v1 + m2 * v2, m1 * v1p + m2 * v2p, rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(m1 * v1**2 + m2 * v2**2, m1 * v1p**2 + m2 * v2p**2, rel_tol=1e-9)
        return v1p
    vf = (m1 * v1 + m2 * v2) / (m1 + m2)
    if d == 1:
        return vf
    return 0.5 * m1 * v1**2 + 0.5 * m2 * v2**2 - 0.5 * (m1 + m2) * vf**2


def ck_ballistic_pendulum(P, d):
    m, M = P["m_g"] / 1000, P["M"]
    if d < 3:
        V = m * P["v"] / (m + M)
        return V if d == 1 else V**2 / (2 * GRAV) * 100
    return (m + M) / m * math.sqrt(2 * GRAV * P["h_cm"] / 100)


def ck_spring_mass_oscillator(P, d):
    if d == 1:
        return 2 * math.pi * math.sqrt(P["m"] / P["k"])
    if d == 2:
        return P["A_cm"] / 100 * math.sqrt(P["k"] / P["m"])
    k = P["m0_g"] / 1000 * GRAV / (P["dx_cm"] / 100)
    return 2 * math.pi * math.sqrt(P["m"] / k)


def ck_simple_pendulum(P, d):
    if d == 1:
        return 2 * math.pi * math.sqrt(P["L"] / GRAV)
    if d == 2:
        return math.sqrt(2 * GRAV * P["L"] * (1 - math.cos(_rad(P["theta0_deg"]))))
    T = P["t"] / P["N"]
    return 4 * math.pi**2 * (P["L_cm"] / 100) / T**2


def ck_resistor_network(P, d):
    if d == 1:
        return 1 / (1 / P["R1"] + 1 / P["R2"])
    Rp = 1 / (1 / P["R2"] + 1 / P["R3"])
    current = P["V"] / (P["R1"] + Rp)
    if d == 2:
        return current * 1000
    return (current * Rp) ** 2 / P["R3"] * 1000


def ck_rc_circuit(P, d):
    tau = P["R_kohm"] * 1e3 * P["C_uF"] * 1e-6
    if d == 1:
        return tau * 1000
    if d == 2:
        return P["emf"] * (1 - math.exp(-P["t_ms"] / 1000 / tau))
    return -tau * math.log(1 - P["percent"] / 100) * 1000


def ck_thin_lens(P, d):
    f = P["f"] if d < 3 else 1 / ((P["n"] - 1) * (1 / P["R1"] + 1 / P["R2"]))
    di = 1 / (1 / f - 1 / P["d_o"])
    return -di / P["d_o"] * P["h_o"] if d == 2 else di


def ck_snell_refraction(P, d):
    n2 = C / P["v_medium"] if d == 2 else P["n2"]
    th1 = _rad(P["theta1_deg"])
    th2 = math.asin(math.sin(th1) / n2)
    if d < 3:
        return math.degrees(th2)
    return P["t_mm"] * math.sin(th1 - th2) / math.cos(th2)


def ck_circular_orbit(P, d):
    GM = G * P["M"]
    if d == 1:
        return math.sqrt(GM / (P["r_km"] * 1000)) / 1000
    if d == 2:
        r = P["R"] + P["h_km"] * 1000
        return 2 * math.pi * math.sqrt(r**3 / GM) / 60
    r = (GM * (P["T_h"] * 3600) ** 2 / (4 * math.pi**2)) ** (1 / 3)
    return (r - P["R"]) / 1000


def ck_escape_speed(P, d):
    if d == 2:
        Rm = P["R_km"] * 1000
        M = 4 / 3 * math.pi * Rm**3 * P["rho"]
        return math.sqrt(2 * G * M / Rm) / 1000
    GM = G * P["M"]
    if d == 1:
        return math.sqrt(2 * GM / P["R"]) / 1000
    return math.sqrt(2 * GM * (1 / P["R"] - 1 / (P["R"] + P["h_km"] * 1000))) / 1000


def ck_coulomb_force(P, d):
    q1, q2, dd = P["q1_uC"] * 1e-6, P["q2_uC"] * 1e-6, P["d_cm"] / 100
    if d == 1:
        return KE * abs(q1 * q2) / dd**2
    if d == 2:
        q3, xx = P["q3_uC"] * 1e-6, P["x_cm"] / 100
        f = np.array([1.0, 0.0]) * KE * q1 * q3 / xx**2 - np.array([1.0, 0.0]) * KE * q2 * q3 / (dd - xx) ** 2
        return float(np.linalg.norm(f))
    return P["d_cm"] / (1 + math.sqrt(P["q2_uC"] / P["q1_uC"]))


def ck_electric_field_point_charges(P, d):
    if d == 1:
        return KE * abs(P["q_nC"]) * 1e-9 / (P["r_cm"] / 100) ** 2
    if d == 2:
        a = P["d_cm"] / 200
        return abs(KE * P["q1_nC"] * 1e-9 / a**2 - KE * P["q2_nC"] * 1e-9 / a**2)
    # vector sum of the fields of +q at (-a, 0) and -q at (a, 0) at the point (0, y)
    a, y, q = P["d_cm"] / 200, P["y_cm"] / 100, P["q_nC"] * 1e-9
    pt = np.array([0.0, y])
    field = np.zeros(2)
    for charge, pos in ((q, np.array([-a, 0.0])), (-q, np.array([a, 0.0]))):
        rv = pt - pos
        field += KE * charge * rv / np.linalg.norm(rv) ** 3
    return float(np.linalg.norm(field))


# ----------------------------------------------------------------------------- mathematics checkers

def ck_definite_integral(P, d):
    if d == 1:
        return _quad(lambda x: P["c"] * x ** P["n"], P["a"], P["b"])
    if d == 2:
        return _quad(lambda x: P["c1"] * x ** P["n"] + P["c2"] / x, P["a"], P["b"])
    form = P["form"]
    if form in ("x_sin", "x_cos"):
        b = math.pi * P["b_pi_num"] / P["b_pi_den"]
        fn = math.sin if form == "x_sin" else math.cos
        return _quad(lambda x: x * fn(P["K"] * x), 0, b)
    if form == "x_log":
        return _quad(lambda x: x * math.log(x), 1, P["b"])
    power = 1 if form == "x_exp" else 2
    return _quad(lambda x: x**power * math.exp(-P["K"] * x), 0, P["b"])


def ck_area_between_curves(P, d):
    if d == 1:
        return _quad(lambda x: P["k"] * x - x**2, 0, P["k"])
    if d == 2:
        r1, r2 = sorted(np.roots([1, -P["m"], -P["b"]]).real)
        return _quad(lambda x: P["m"] * x + P["b"] - x**2, r1, r2)
    r = math.sqrt(P["c"])
    return _quad(lambda x: abs(x**3 - P["c"] * x), -r, r)


def ck_volume_of_revolution(P, d):
    if d == 1:
        return math.pi * _quad(lambda x: (P["c"] * math.sqrt(x)) ** 2, 0, P["b"])
    if d == 2:
        a, m = P["a"], P["m"]
        return math.pi * _quad(lambda x: (m * x) ** 2 - (a * x**2) ** 2, 0, m / a)
    a, k = P["a"], P["k"]
    return 2 * math.pi * _quad(lambda x: x * a * (k * x - x**2), 0, k)


def ck_geometric_series(P, d):
    a, r = P["a"], P["r_num"] / P["r_den"]
    if d == 1:
        return a / (1 - r)
    if d == 2:
        return a * r ** P["m"] / (1 - r)
    return a * r / (1 - r) ** 2


def ck_telescoping_series(P, d):
    c = P["c"]
    if d == 1:
        k = P["k"]
        return c / k * sum(1 / j for j in range(1, k + 1))
    if d == 2:
        return sum(c / (n * (n + P["k"])) for n in range(1, P["N"] + 1))
    a, b = P["a"], P["b"]
    return c / (a * (a + b))


def ck_maclaurin_series_sum(P, d):
    a, x = P["a"], P["x"]
    f = {"exp": lambda: math.exp(x), "cos": lambda: math.cos(x), "sin": lambda: math.sin(x), "log1p": lambda: math.log1p(x),
         "neglog": lambda: -math.log(1 - x), "geo2": lambda: 1 / (1 - x) ** 2}[P["kind"]]
    return a * f()


def ck_first_order_linear_ode(P, d):
    y0, t1 = P["y0"], P["t1"]
    if d == 1:
        a, b = P["a"], P["b"]
        return b / a + (y0 - b / a) * math.exp(-a * t1)
    if d == 2:
        a, b = P["a"], P["b"]
        return b / a * t1 - b / a**2 + (y0 + b / a**2) * math.exp(-a * t1)
    p, m, b = P["p"], P["m"], P["b"]
    return b * t1**m / (m + p) + (y0 - b / (m + p)) * t1 ** (-p)


def ck_exponential_growth_decay(P, d):
    if d == 1:
        return P["P0"] * math.exp(P["k"] * P["t"])
    if d == 2:
        return P["P0"] * 2 ** (P["t"] / P["T_double"])
    k = math.log(P["P1"] / P["P0"]) / P["t1"]
    return math.log(P["P2"] / P["P0"]) / k * 60


def ck_newton_cooling(P, d):
    Ts, T0_ = P["T_s"], P["T0"]
    if d == 1:
        return Ts + (T0_ - Ts) * math.exp(-P["k"] * P["t"])
    k = math.log((T0_ - Ts) / (P["T1"] - Ts)) / P["t1"]
    if d == 2:
        return Ts + (T0_ - Ts) * math.exp(-k * P["t2"])
    return math.log((T0_ - Ts) / (P["T2"] - Ts)) / k * 60


def ck_mixing_tank(P, d):
    V, r, Q0 = P["V"], P["r"], P["Q0"]
    if d == 1:
        return Q0 * math.exp(-r * P["t"] / V)
    cin = P["c_in"] if d == 2 else P["c_in_gL"] / 1000
    Qinf = V * cin
    if d == 2:
        return Qinf + (Q0 - Qinf) * math.exp(-r * P["t"] / V)
    return -V / r * math.log((P["Q_target"] - Qinf) / (Q0 - Qinf))


def ck_second_order_linear_ode(P, d):
    t1 = P["t1"]
    if d == 1:
        w = math.sqrt(P["w2"])
        return P["y0"] * math.cos(w * t1) + P["v0"] / w * math.sin(w * t1)
    if d == 2:
        r1, r2 = P["r1"], P["r2"]
        c1, c2 = np.linalg.solve([[1.0, 1.0], [-r1, -r2]], [P["y0"], P["v0"]])
        return c1 * math.exp(-r1 * t1) + c2 * math.exp(-r2 * t1)
    al = P["gamma"] / (2 * P["m"])
    be = math.sqrt(P["k"] / P["m"] - al**2)
    return P["x0_cm"] * math.exp(-al * t1) * (math.cos(be * t1) + al / be * math.sin(be * t1))


def ck_binomial_probability(P, d):
    n, k = P["n"], P["k"]
    p = P["p"] if d < 3 else P["p_percent"] / 100
    if d == 1:
        return stats.binom.pmf(k, n, p)
    if d == 2:
        return stats.binom.cdf(k, n, p)
    return stats.binom.sf(k - 1, n, p)


def ck_normal_distribution(P, d):
    mu, s = P["mu"], P["sigma"]
    if d == 1:
        return stats.norm.cdf(P["x"], mu, s)
    if d == 2:
        return stats.norm.cdf(P["b"], mu, s) - stats.norm.cdf(P["a"], mu, s)
    return stats.norm.sf(P["x"], mu, s / math.sqrt(P["n"]))


def ck_poisson_probability(P, d):
    k = P["k"]
    if d < 3:
        lam = P["lambda"]
        return stats.poisson.pmf(k, lam) if d == 1 else stats.poisson.cdf(k, lam)
    lam = P["rate_per_h"] * P["t_min"] / 60
    return stats.poisson.sf(k - 1, lam)


def ck_expected_value(P, d):
    if d < 3:
        xs = np.array([P[f"x{i}"] for i in range(P["m"])], dtype=float)
        ps = np.array([P[f"p{i}"] for i in range(P["m"])], dtype=float)
        assert math.isclose(ps.sum(), 1.0)
        mean = float(xs @ ps)
        return mean if d == 1 else float(((xs - mean) ** 2) @ ps)
    k, b = P["k"], P["b"]
    norm = _quad(lambda x: x**k, 0, b)
    return _quad(lambda x: x * x**k / norm, 0, b)


def ck_confidence_interval(P, d):
    z = stats.norm.ppf(0.5 + P["confidence_pct"] / 200)
    if d < 3:
        margin = z * P["sigma"] / math.sqrt(P["n"])
        return margin if d == 1 else P["xbar"] + margin
    return math.ceil((z * P["sigma"] / P["E"]) ** 2)


CHECKERS = {name[3:]: fn for name, fn in dict(globals()).items() if name.startswith("ck_") and callable(fn)}

# ----------------------------------------------------------------------------- helpers

SEEDS = range(4)
DIFFS = (1, 2, 3)


@lru_cache(maxsize=None)
def gen(name: str, seed: int, d: int) -> Problem:
    return generate(name, seed, d)


def unit_power(unit: str) -> int:
    m = re.search(r"10\^\{(-?\d+)\}", unit)
    return int(m.group(1)) if m else 0


def opening(text: str, words: int = 3) -> str:
    return " ".join(re.sub(r"[0-9.]+", "#", text).split()[:words])


# ----------------------------------------------------------------------------- registry

def test_template_counts():
    assert len(TEMPLATES) >= 45
    for subject in ("chemistry", "physics", "mathematics"):
        assert len(templates_for(subject=subject)) >= 12, subject
    assert all(isinstance(t, Template) for t in TEMPLATES.values())
    assert all(t.name == name for name, t in TEMPLATES.items())
    books = {"atkins", "chemmc", "quan", "matter", "thermo", "fund", "class", "calculus", "diff", "stat"}
    for t in TEMPLATES.values():
        assert t.subject in ("chemistry", "physics", "mathematics")
        assert t.sources and set(t.sources) <= books, t.name
        assert t.topic
    covered = {s for t in TEMPLATES.values() for s in t.sources}
    assert covered == books


def test_every_template_has_an_independent_checker():
    missing = set(TEMPLATES) - set(CHECKERS)
    assert not missing, f"templates without a checker in this test: {sorted(missing)}"
    assert not set(CHECKERS) - set(TEMPLATES)


def test_templates_for_and_topics():
    t = topics("science")
    assert sorted(n for names in t.values() for n in names) == sorted(TEMPLATES)
    assert "perfect_gas_pressure" in t["perfect_gas"]
    assert all(x.topic == "kinetics" for x in templates_for(topic="kinetics"))
    assert {x.name for x in templates_for(source="stat")} >= {"binomial_probability", "normal_distribution"}
    assert templates_for(subject="physics", topic="optics")
    assert templates_for(subject="nothing") == []


# ----------------------------------------------------------------------------- answers

@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_answer_matches_independent_computation(name):
    check = CHECKERS[name]
    for d in DIFFS:
        for seed in SEEDS:
            p = gen(name, seed, d)
            expected = float(check(p.params, d)) / 10.0 ** unit_power(p.unit)
            assert math.isclose(p.answer, expected, rel_tol=1e-6, abs_tol=1e-9), (name, d, seed, p.answer, expected, p.params)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_problem_format(name):
    for d in DIFFS:
        for seed in SEEDS:
            p = gen(name, seed, d)
            assert (p.template, p.difficulty) == (name, d)
            assert (p.topic, p.subject) == (TEMPLATES[name].topic, TEMPLATES[name].subject)
            ans = f"{p.answer:.3f}"
            assert ans not in ("0.000", "-0.000")
            assert len(ans.lstrip("-").replace(".", "").lstrip("0")) >= 3, (name, d, seed, ans)  # >= 3 significant digits
            lines = p.solution.split("\n")
            assert lines[-1] == f"The answer is therefore \\boxed{{{ans}}}."
            assert 2 <= len(lines) <= 6, p.solution
            assert len(p.solution.split()) <= 120, p.solution
            assert "@" not in p.problem + p.solution
            assert p.problem.count("$") % 2 == 0 and p.solution.count("$") % 2 == 0
            assert "\\boxed" not in p.problem and len(p.problem) >= 30
            assert p.unit == "" or (p.unit.startswith("$") and p.unit.endswith("$"))
            assert json.loads(json.dumps(p.params)) == p.params
            assert all(isinstance(v, (int, float, str)) for v in p.params.values())
            assert math.isfinite(p.answer)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_wording_variants(name):
    variants, openings = set(), set()
    for seed in range(30):
        p = gen(name, seed, 2)
        variants.add(p.params["variant"])
        openings.add(opening(p.problem))
    assert len(variants) >= 3
    assert len(openings) >= 3, openings


def test_determinism_in_process():
    for name in list(TEMPLATES)[::3]:
        a = generate(name, 11, 3)
        b = generate(name, 11, 3)
        assert a == b
        assert generate(name, 12, 3) != a or generate(name, 13, 3) != a


def test_determinism_across_processes():
    names = ["perfect_gas_pressure", "particle_in_a_box", "projectile_motion", "second_order_linear_ode",
             "maclaurin_series_sum", "definite_integral"]
    code = ("import json,sys; from data_agent.generators.symbolic import generate; "
            "print(json.dumps([generate(n, s, d).to_dict() for n in sys.argv[1:] for s in (0, 1) for d in (1, 2, 3)]))")
    outs = []
    for hashseed in ("1", "12345"):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {**os.environ, "PYTHONHASHSEED": hashseed,
               "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        r = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(json.loads(r.stdout))
    assert outs[0] == outs[1]
    here = [generate(n, s, d).to_dict() for n in names for s in (0, 1) for d in (1, 2, 3)]
    assert json.loads(json.dumps(here)) == outs[0]


def test_bad_arguments():
    with pytest.raises(KeyError):
        generate("no_such_template", 0, 1)
    with pytest.raises(ValueError):
        generate("perfect_gas_pressure", 0, 4)


# ----------------------------------------------------------------------------- scale_to_unit

def test_scale_to_unit():
    assert scale_to_unit(12.5, "$\\mathrm{atm}$") == (12.5, "$\\mathrm{atm}$")
    assert scale_to_unit(0.05, "") == (0.05, "")
    v, u = scale_to_unit(3.972e-19, "$\\mathrm{J}$")
    assert math.isclose(v, 3.972) and u == "$10^{-19} \\mathrm{~J}$"
    v, u = scale_to_unit(-6.8e24, "")
    assert math.isclose(v, -6.8) and u == "$10^{24}$"
    v, u = scale_to_unit(123456.0, "$\\mathrm{N} / \\mathrm{C}$")
    assert math.isclose(v, 1.23456) and u.startswith("$10^{5}") and u.endswith("$")
    v, u = scale_to_unit(0.0099996, "")  # rounding edge: mantissa must stay below 10 after 3-decimal rounding
    assert f"{v:.3f}" == "1.000" and u == "$10^{-2}$"
    assert scale_to_unit(0.0, "$\\mathrm{J}$") == (0.0, "$\\mathrm{J}$")


# ----------------------------------------------------------------------------- the teacher

def _req(meta):
    return TeacherRequest(messages=({"role": "user", "content": "symbolic"},), metadata=meta)


def test_symbolic_teacher_round_trip():
    teacher = SymbolicTeacher()
    assert isinstance(teacher, Teacher)
    assert (teacher.backend, teacher.model) == ("symbolic", "sympy")
    metas = [{"template": "nernst_equation", "seed": 3, "difficulty": 2},
             {"template": "definite_integral", "seed": 5, "difficulty": 3, "extra": "kept"},
             {"template": "nope", "seed": 1, "difficulty": 1},
             {"template": "nernst_equation", "seed": "x", "difficulty": 1},
             {"template": "nernst_equation", "seed": 1, "difficulty": 7},
             {"seed": 1, "difficulty": 1}]
    out = asyncio.run(teacher.generate([_req(m) for m in metas]))
    assert len(out) == len(metas)
    for resp, meta in zip(out[:2], metas[:2]):
        assert resp.ok and resp.error is None
        assert resp.finish_reason == "stop" and resp.cost == 0 and resp.usage.total_tokens == 0
        doc = json.loads(resp.text)
        jsonschema.validate(doc, PROBLEM_SCHEMA)
        assert resp.parsed == doc
        p = generate(meta["template"], meta["seed"], meta["difficulty"])
        assert doc == {"problem": p.problem, "unit": p.unit, "solution": p.solution, "answer": p.answer}
        assert resp.metadata == {**meta, "topic": p.topic, "subject": p.subject,
                                 "verification": {"status": "verified", "method": "symbolic",
                                                  "detail": f"computed exactly by template {meta['template']}"}}
    for resp, meta in zip(out[2:], metas[2:]):
        assert not resp.ok and resp.error
        assert resp.text == "" and resp.parsed is None
        assert resp.metadata == meta
    again = asyncio.run(teacher.generate([_req(metas[0])]))
    assert again[0].text == out[0].text


# ----------------------------------------------------------------------------- the text shows the params

# The checkers above recompute answers from Problem.params; these tests tie the params to the text, so that
# a template that prints one number and computes with another fails.

TEXT_SEEDS = range(6)

PARAMS_NOT_PRINTED = {
    # params a template shows in another form than num() (a word, a fraction, a coefficient of an equation),
    # derived from others, or looked up by the solver (tabulated data)
    "area_between_curves": {"c", "k", "m"},  # coefficients of the curves
    "combustion_enthalpy": {"fuel_gas", "nH", "nO"},  # in the fuel's formula
    "definite_integral": {"K", "b_pi_den", "b_pi_num", "c1", "n"},  # inside the integrand and its limits
    "entropy_heating": {"Cp"},  # tabulated heat capacity
    "equilibrium_constant_gibbs": {"n_species"},  # the species listed
    "expansion_work_constant_pressure": {"M"},  # tabulated molar mass
    "expected_value": {"m"},  # the number of outcomes listed
    "exponential_growth_decay": {"target_factor"},  # the target population is printed
    "first_order_linear_ode": {"a", "t1"},  # a coefficient (1 is not written), t1 as a fraction
    "geometric_series": {"r_den", "r_num"},  # the ratio, as a reduced fraction
    "heating_enthalpy": {"Cp"},  # tabulated heat capacity
    "hydrogen_spectrum": {"n1"},  # the series named (Balmer, Pfund...)
    "maclaurin_series_sum": {"a", "x"},  # inside the series, as a fraction; a = 1 is not written
    "second_order_linear_ode": {"r1", "r2", "t1", "v0"},  # roots behind the coefficients, fractions
    "volume_of_revolution": {"a", "c", "k", "m"},  # coefficients of the curves
}
"""Numeric params that are not printed as given quantities (``variant`` never is)."""

NUMBERS_NOT_PARAMS = {
    # numbers a template prints that are fixed by its wording, not sampled
    "cell_gibbs_energy": {298.15},
    "equilibrium_constant_gibbs": {298.15},
    "nernst_equation": {298.15},
    "expected_value": {0.0},  # the density's support starts at 0
    "volume_of_revolution": {0.0},
    "second_order_kinetics": {2.0},  # 2A -> P
}

_GIVEN_RE = re.compile(r"^\s*(?:(?P<m>-?\d+(?:\.\d+)?)(?:\s*\\times\s*10\^\{(?P<e>-?\d+)\})?(?![\d.])"
                       r"|(?P<s>-?)10\^\{(?P<p>-?\d+)\})")
"""A given quantity as :func:`symbolic.base.num` writes it, at the start of an inline math span (``q()``)."""


def _given_quantities(text: str) -> list[float]:
    """The numbers the problem text gives: the leading number of each ``$...$`` span."""
    out = []
    for span in re.findall(r"\$([^$]*)\$", text):
        m = _GIVEN_RE.match(span)
        if not m:
            continue
        if m.group("m") is not None:
            out.append(float(m.group("m")) * (10.0 ** int(m.group("e")) if m.group("e") else 1.0))
        else:
            out.append(float(m.group("s") + "1") * 10.0 ** int(m.group("p")))
    return out


def _numeric_params(p: Problem) -> dict[str, float]:
    return {k: v for k, v in p.params.items()
            if k != "variant" and isinstance(v, (int, float)) and not isinstance(v, bool)}


def _printed(value: float, text: str) -> bool:
    """``value`` appears in ``text`` as num() writes it (or its magnitude: a sign put into words)."""
    from data_agent.generators.symbolic.base import num

    return any(re.search(r"(?<![\d.])" + re.escape(num(v)) + r"(?![\d])", text)
               for v in {value, abs(value)})


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_param_is_printed_in_the_text(name):
    skip = PARAMS_NOT_PRINTED.get(name, set())
    for d in (1, 2, 3):
        for seed in TEXT_SEEDS:
            p = generate(name, seed, d)
            for k, v in _numeric_params(p).items():
                if k not in skip:
                    assert _printed(v, p.problem), f"{name} d={d} seed={seed}: param {k}={v!r} not in {p.problem!r}"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_given_number_is_a_param(name):
    allowed = NUMBERS_NOT_PARAMS.get(name, set())
    for d in (1, 2, 3):
        for seed in TEXT_SEEDS:
            p = generate(name, seed, d)
            values = list(_numeric_params(p).values())
            for g in _given_quantities(p.problem):
                assert (any(math.isclose(abs(g), abs(v), rel_tol=1e-9, abs_tol=1e-15) for v in values)
                        or g in allowed), f"{name} d={d} seed={seed}: {g!r} is no param of {p.params}: {p.problem!r}"


def test_the_exemptions_are_needed():
    """Each exemption above is used (a template that starts printing a param loses it), and the
    given quantities are found at all."""
    found = sum(len(_given_quantities(generate(name, 0, d).problem)) for name in TEMPLATES for d in (1, 2, 3))
    assert found > 2 * len(TEMPLATES), found
    for name, keys in PARAMS_NOT_PRINTED.items():
        for k in keys:
            assert any(k in (ps := _numeric_params(p := generate(name, seed, d))) and not _printed(ps[k], p.problem)
                       for d in (1, 2, 3) for seed in TEXT_SEEDS), (name, k)
    for name, nums in NUMBERS_NOT_PARAMS.items():
        for x in nums:
            assert any(x in _given_quantities(generate(name, seed, d).problem)
                       and x not in _numeric_params(generate(name, seed, d)).values()
                       for d in (1, 2, 3) for seed in TEXT_SEEDS), (name, x)
