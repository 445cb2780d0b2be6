"""The symbolic teacher: the Teacher seam backed by the sympy template library.

Each request names a template, a seed and a difficulty in its ``metadata``;
the reply is the problem document of the template library's task
(:attr:`data_agent.tasks.Task.problem_schema`; the library's ``document``
writes it: ``problem``, ``unit``, ``solution``, ``answer`` for science). Free, offline and deterministic; bad
requests come back with ``error`` set instead of raising.
"""

from __future__ import annotations

import json
from typing import Any

from .base import TeacherRequest, TeacherResponse, Usage
from ..symbolic import TEMPLATES, generate


class SymbolicTeacher:
    """Teacher backend ``symbolic`` (model ``sympy``)."""

    backend = "symbolic"
    model = "sympy"

    def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        meta: dict[str, Any] = dict(request.metadata or {})
        try:
            name, seed, difficulty = self._parse(meta)
            p = generate(name, seed, difficulty)
        except Exception as e:  # never raise for a single bad request
            return TeacherResponse(text="", parsed=None, usage=Usage(), finish_reason="error", cost=0.0,
                                   model=self.model, error=f"{type(e).__name__}: {e}", metadata=meta)
        doc = TEMPLATES[name].library.document(p)
        return TeacherResponse(text=json.dumps(doc, ensure_ascii=False), parsed=doc, usage=Usage(), finish_reason="stop",
                               cost=0.0, model=self.model, error=None,
                               metadata={**meta, "topic": p.topic, "subject": p.subject,
                                         "verification": {"status": "verified", "method": "symbolic",
                                                          "detail": f"computed exactly by template {name}"}})

    async def generate(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        return [self.generate_one(r) for r in requests]

    async def aclose(self) -> None:
        return None

    @staticmethod
    def _parse(meta: dict[str, Any]) -> tuple[str, int, int]:
        name = meta.get("template")
        if not isinstance(name, str) or name not in TEMPLATES:
            raise KeyError(f"unknown symbolic template {name!r}")
        seed, difficulty = meta.get("seed"), meta.get("difficulty")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"metadata 'seed' must be an int, got {seed!r}")
        if isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
            raise ValueError(f"metadata 'difficulty' must be 1, 2 or 3, got {difficulty!r}")
        return name, seed, int(difficulty)


__all__ = ["SymbolicTeacher"]
