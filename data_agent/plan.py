"""The contract between the data engineer and the generators.

:class:`TopicInfo` describes one topic (skill) a teacher can write about; the
pack lists its own, and the symbolic teacher reports those of its template
library. A :class:`Plan` is what the engineer asks the generators for in one
iteration: a JSON document checked against :data:`PLAN_SCHEMA`; the heuristic
engineer and an LLM engineer produce the same type.

This module sits at the bottom of the layers: the engineer writes plans, the
generators read them, and neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import jsonschema

from .config import MAX_OVERGENERATE, SELECTION_POLICIES
from .errors import DataAgentError

@dataclass(frozen=True)
class DifficultyLevel:
    """How prompts describe one difficulty level of an allocation."""

    label: str
    """The full description (the teacher's prompt and the engineer's)."""
    short: str
    """A few words (the compact teacher prompt)."""


DIFFICULTY_LEVELS: dict[int, DifficultyLevel] = {
    1: DifficultyLevel(label="introductory: one or two steps, a direct use of one formula", short="one or two steps"),
    2: DifficultyLevel(label="intermediate: a typical end-of-chapter exercise with several steps", short="a few steps"),
    3: DifficultyLevel(label="advanced: multi-step, combining two ideas or a less obvious route to the answer",
                       short="several steps"),
}
"""The difficulty levels a plan may ask for, by number."""

DEFAULT_DIFFICULTY = 2
"""The level :func:`difficulty_level` falls back to for a number outside the table."""


def difficulty_level(difficulty: int) -> DifficultyLevel:
    """The level's texts; an unknown level reads as :data:`DEFAULT_DIFFICULTY`."""
    return DIFFICULTY_LEVELS.get(int(difficulty), DIFFICULTY_LEVELS[DEFAULT_DIFFICULTY])


PLAN_VERSION = 2
"""The plan schema's version: 2 added per-allocation skills of the engineer's own
(``description``), teacher ``guidance``, grounding ``seeds`` and the method
``card`` each applies, and the plan's ``method``, ``selection`` and ``stopping``
decision (all optional, so a plan written before any of them still reads)."""
MAX_DESCRIPTION = 300
MAX_GUIDANCE = 500
"""Characters of teacher guidance an allocation may add to the teacher prompt."""
MAX_SEEDS = 4
STOP_DECISIONS = ("continue", "stop")
"""A plan's ``stopping.decision``: ``continue`` (run this plan) or ``stop`` (the
engineer expects no more from new data: the loop ends before this plan's data is
made, and the run goes on to choose its best iteration and score the test split)."""

PLAN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://data-agent.local/schemas/plan-v{PLAN_VERSION}.json",
    "title": "data-agent plan",
    "type": "object",
    "properties": {
        "schema_version": {"const": PLAN_VERSION},
        "iteration": {"type": "integer", "minimum": 1},
        "n_records": {"type": "integer", "minimum": 1},
        "teacher": {"type": "string", "minLength": 1},
        "allocations": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "topic": {"type": "string", "minLength": 1},
                    "subject": {"type": "string"},
                    "count": {"type": "integer", "minimum": 0},
                    "difficulty": {"type": "integer", "minimum": min(DIFFICULTY_LEVELS),
                                   "maximum": max(DIFFICULTY_LEVELS)},
                    "why": {"type": "string"},
                    "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
                    "guidance": {"type": "string", "maxLength": MAX_GUIDANCE},
                    "seeds": {"type": "array", "items": {"type": "string", "minLength": 1},
                              "maxItems": MAX_SEEDS},
                    "card": {"type": "string"},
                    "adaptation": {"type": "string", "maxLength": MAX_GUIDANCE},
                },
                "required": ["topic", "count", "difficulty"],
                "additionalProperties": False,
            },
        },
        "rationale": {"type": "string", "minLength": 1},
        "changes": {"type": "array", "items": {"type": "string"}},
        "method": {
            "type": "object",
            "properties": {
                "card": {"type": "string", "minLength": 1},
                "bucket": {"enum": ["generation", "curation", "selection"]},
                "adaptation": {"type": "string", "minLength": 1, "maxLength": 1000},
            },
            "required": ["card", "adaptation"],
            "additionalProperties": False,
        },
        "selection": {
            "type": "object",
            "properties": {
                "policy": {"enum": list(SELECTION_POLICIES)},
                "overgenerate": {"type": "number", "minimum": 1, "maximum": MAX_OVERGENERATE},
            },
            "required": ["policy"],
            "additionalProperties": False,
        },
        "stopping": {
            "type": "object",
            "properties": {
                "decision": {"enum": list(STOP_DECISIONS)},
                "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
            },
            "required": ["decision", "reason"],
            "additionalProperties": False,
        },
    },
    "required": ["iteration", "n_records", "teacher", "allocations", "rationale"],
    "additionalProperties": False,
}


@dataclass
class TopicInfo:
    """One topic (skill) a teacher can write problems on."""

    subject: str
    """The broad subject (e.g. ``chemistry``), shown to teachers."""
    sources: list[str]
    """The evaluation sources (``EvalItem.source``) this topic serves."""
    description: str = ""
    """What the topic covers, in a sentence (given to LLM teachers and engineers)."""


class PlanError(DataAgentError):
    """A plan does not match the plan schema or is inconsistent."""


@dataclass
class Allocation:
    topic: str
    count: int
    difficulty: int
    subject: str = ""
    why: str = ""
    description: str = ""
    """A skill of the engineer's own (not in the pack): what it covers (LLM teachers only)."""
    guidance: str = ""
    """Added to the teacher prompt of this allocation's requests."""
    seeds: list[str] = field(default_factory=list)
    """Seed ids the teacher grounds on (style examples), instead of a random pick."""
    card: str = ""
    adaptation: str = ""


@dataclass
class Plan:
    iteration: int
    n_records: int
    teacher: str
    allocations: list[Allocation]
    rationale: str
    changes: list[str] = field(default_factory=list)
    method: dict[str, Any] | None = None
    """The method card the plan applies and how it adapts it: ``{"card", "bucket",
    "adaptation"}`` (:mod:`data_agent.engineer.methods`)."""
    selection: dict[str, Any] | None = None
    """``{"policy": ..., "overgenerate": ...}``: generate ``overgenerate`` times
    each allocation's count of valid records, then keep its count with the
    policy; ``None``: the run's ``--selection`` with no over-generation."""
    stopping: dict[str, Any] | None = None
    """The engineer's stopping decision, ``{"decision": "continue"|"stop", "reason"}``
    (:data:`STOP_DECISIONS`); ``None`` (a plan from before the field): continue."""

    def stops(self) -> bool:
        """Whether the engineer decided to stop instead of running this plan."""
        return (self.stopping or {}).get("decision") == "stop"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("method", "selection", "stopping"):
            if d[key] is None:
                del d[key]
        for a in d["allocations"]:  # a version-1 allocation stays as it was
            for key in ("description", "guidance", "seeds", "card", "adaptation"):
                if not a[key]:
                    del a[key]
        return {"schema_version": PLAN_VERSION, **d}

    def selection_choice(self, default_policy: str = "first") -> tuple[str, float]:
        """(policy, over-generation factor) of this plan."""
        s = self.selection or {}
        return str(s.get("policy", default_policy)), float(s.get("overgenerate", 1.0))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Plan":
        validate_plan(d)
        d = {k: v for k, v in d.items() if k != "schema_version"}
        return cls(**{**d, "allocations": [Allocation(**a) for a in d["allocations"]]})


def validate_plan(d: dict[str, Any]) -> None:
    v = jsonschema.Draft202012Validator(PLAN_SCHEMA)
    err = jsonschema.exceptions.best_match(v.iter_errors(d))
    if err is not None:
        where = "/".join(map(str, err.absolute_path)) or "plan"
        raise PlanError(f"plan: {where}: {err.message}")
    if (d.get("stopping") or {}).get("decision") == "stop" and d["iteration"] == 1:
        raise PlanError("plan: stopping: iteration 1 cannot stop (no student has been trained on data yet); "
                        "decide 'continue'")
    total = sum(a["count"] for a in d["allocations"])
    if total != d["n_records"]:
        raise PlanError(f"plan: allocations add up to {total} records, n_records is {d['n_records']}")
