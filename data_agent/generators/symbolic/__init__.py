"""The symbolic teacher's template library.

Each template writes a textbook-style numeric science problem (physical
chemistry, physics, mathematics; modelled on the SciBench books) with an exact
sympy-computed answer and a short worked solution::

    from data_agent.generators.symbolic import TEMPLATES, generate
    p = generate("perfect_gas_pressure", seed=7, difficulty=2)
    p.problem, p.unit, p.solution, p.answer

``generate`` is deterministic in ``(template, seed, difficulty)``.
"""

from __future__ import annotations

import random

from . import chem_kinetics, chem_quantum, chem_thermo, mathematics, physics  # noqa: F401  (register templates)
from .base import DIFFICULTIES, SUBJECTS, Problem, Template, registry, scale_to_unit

TEMPLATES: dict[str, Template] = dict(sorted(registry().items()))


def templates_for(subject: str | None = None, topic: str | None = None,
                  source: str | None = None) -> list[Template]:
    """Templates matching every given filter (subject, topic, SciBench book id)."""
    return [t for t in TEMPLATES.values()
            if (subject is None or t.subject == subject)
            and (topic is None or t.topic == topic)
            and (source is None or source in t.sources)]


def topics() -> dict[str, list[str]]:
    """Topic -> names of its templates."""
    out: dict[str, list[str]] = {}
    for t in TEMPLATES.values():
        out.setdefault(t.topic, []).append(t.name)
    return out


def generate(template: str, seed: int, difficulty: int) -> Problem:
    """The problem of ``template`` for ``seed`` at ``difficulty`` (1..3); deterministic."""
    try:
        t = TEMPLATES[template]
    except KeyError:
        raise KeyError(f"unknown symbolic template {template!r}") from None
    rng = random.Random(f"symbolic:{template}:{int(seed)}:{int(difficulty)}")
    return t.generate(rng, difficulty)


__all__ = ["TEMPLATES", "DIFFICULTIES", "SUBJECTS", "Problem", "Template", "generate", "scale_to_unit",
           "templates_for", "topics"]
