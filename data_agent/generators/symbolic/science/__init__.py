"""The science library: textbook-style numeric problems (physical chemistry,
physics, mathematics; modelled on the SciBench books) for the ``science`` pack,
whose task is ``boxed_numeric``."""

from ..base import library_scope

SUBJECTS = ("chemistry", "physics", "mathematics")

with library_scope("science", "boxed_numeric", SUBJECTS) as LIBRARY:
    from . import chem_kinetics, chem_quantum, chem_thermo, mathematics, physics  # noqa: F401  (register)

__all__ = ["LIBRARY", "SUBJECTS"]
