"""Physical constants (CODATA 2018) as exact sympy rationals, plus LaTeX unit
fragments shared by the templates."""

from __future__ import annotations

import sympy as sp

_r = sp.Rational

h = _r("6.62607015e-34")          # J s
hbar = h / (2 * sp.pi)
c = _r(299792458)                 # m s^-1
kB = _r("1.380649e-23")           # J K^-1
NA = _r("6.02214076e23")          # mol^-1
e = _r("1.602176634e-19")         # C
R = NA * kB                       # 8.314462618... J K^-1 mol^-1
F = NA * e                        # 96485.33212... C mol^-1
me = _r("9.1093837015e-31")       # kg
mp = _r("1.67262192369e-27")      # kg
mn = _r("1.67492749804e-27")      # kg
amu = _r("1.66053906660e-27")     # kg
G = _r("6.67430e-11")             # N m^2 kg^-2
eps0 = _r("8.8541878128e-12")     # F m^-1
ke = 1 / (4 * sp.pi * eps0)       # N m^2 C^-2
Rinf = _r("10973731.568160")      # m^-1
RH = Rinf / (1 + me / mp)         # hydrogen Rydberg, m^-1
atm = _r(101325)                  # Pa
bar = _r(100000)                  # Pa
torr = atm / 760                  # Pa
g = _r("9.81")                    # m s^-2 (standard value used in the texts)
T0 = _r("273.15")                 # K at 0 degC

# LaTeX unit fragments for inline quantities ("$2.5 \mathrm{~mol}$")
MOL = r"\mathrm{~mol}"
K = r"\mathrm{~K}"
DEGC = r"{ }^{\circ} \mathrm{C}"
ATM = r"\mathrm{~atm}"
KPA = r"\mathrm{~kPa}"
TORR = r"\mathrm{~Torr}"
BAR = r"\mathrm{~bar}"
DM3 = r"\mathrm{~dm}^3"
CM3 = r"\mathrm{~cm}^3"
G_ = r"\mathrm{~g}"
KG = r"\mathrm{~kg}"
J = r"\mathrm{~J}"
KJ = r"\mathrm{~kJ}"
KJMOL = r"\mathrm{~kJ} \mathrm{~mol}^{-1}"
JMOL = r"\mathrm{~J} \mathrm{~mol}^{-1}"
JKMOL = r"\mathrm{~J} \mathrm{~K}^{-1} \mathrm{~mol}^{-1}"
GMOL = r"\mathrm{~g} \mathrm{~mol}^{-1}"
S = r"\mathrm{~s}"
MIN = r"\mathrm{~min}"
M = r"\mathrm{~m}"
CM = r"\mathrm{~cm}"
MM = r"\mathrm{~mm}"
KM = r"\mathrm{~km}"
NM = r"\mathrm{~nm}"
PM = r"\mathrm{~pm}"
MS = r"\mathrm{~m} \mathrm{~s}^{-1}"
MS2 = r"\mathrm{~m} \mathrm{~s}^{-2}"
N_ = r"\mathrm{~N}"
NPM = r"\mathrm{~N} \mathrm{~m}^{-1}"
V = r"\mathrm{~V}"
W = r"\mathrm{~W}"
OHM = r"\ \Omega"
KOHM = r"\mathrm{~k} \Omega"
UF = r"\ \mu \mathrm{F}"
UC = r"\ \mu \mathrm{C}"
NC = r"\mathrm{~nC}"
U = r"\mathrm{~u}"
MOLDM3 = r"\mathrm{~mol} \mathrm{~dm}^{-3}"
CM1 = r"\mathrm{~cm}^{-1}"
EV = r"\mathrm{~eV}"
