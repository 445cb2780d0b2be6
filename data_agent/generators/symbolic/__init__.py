"""The symbolic teacher's template libraries, one per domain.

Each template writes a problem with an exact sympy-computed answer and a short
worked solution that ends with the final line of its library's task::

    from data_agent.generators.symbolic import TEMPLATES, generate
    p = generate("perfect_gas_pressure", seed=7, difficulty=2)
    p.problem, p.unit, p.solution, p.answer

``generate`` is deterministic in ``(template, seed, difficulty)``. Libraries:
``science`` (:mod:`~data_agent.generators.symbolic.science`), ``code``
(:mod:`~data_agent.generators.symbolic.code`, checked by running each function in a sandbox) and
``finance`` (:mod:`~data_agent.generators.symbolic.finance`). A new domain's
library is a subpackage that registers its templates inside
:func:`~data_agent.generators.symbolic.base.library_scope`, imported below.
"""

from __future__ import annotations

import random

from . import code, finance, science  # noqa: F401  (register the libraries)
from .base import DIFFICULTIES, LIBRARIES, Library, Problem, Template, registry, scale_to_unit
from .science import SUBJECTS

TEMPLATES: dict[str, Template] = dict(sorted(registry().items()))


def library(domain: str) -> Library | None:
    """The template library of ``domain`` (a pack name), if there is one."""
    return LIBRARIES.get(domain)


def templates_for(subject: str | None = None, topic: str | None = None,
                  source: str | None = None, domain: str | None = None) -> list[Template]:
    """Templates matching every given filter (subject, topic, source id, library domain)."""
    return [t for t in TEMPLATES.values()
            if (subject is None or t.subject == subject)
            and (topic is None or t.topic == topic)
            and (source is None or source in t.sources)
            and (domain is None or (t.library is not None and t.library.domain == domain))]


def topics(domain: str | None = None) -> dict[str, list[str]]:
    """Topic -> names of its templates (of one library, or of all)."""
    out: dict[str, list[str]] = {}
    for t in templates_for(domain=domain):
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


__all__ = ["TEMPLATES", "DIFFICULTIES", "LIBRARIES", "SUBJECTS", "Library", "Problem", "Template", "generate",
           "library", "scale_to_unit", "templates_for", "topics"]
