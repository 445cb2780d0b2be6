"""Prompt templates that ask an LLM teacher for one new problem.

Templates are keyed by domain name (``PROMPTS["science"]``) with a generic
fallback (``PROMPTS["generic"]``); they hold the domain's style. A prompt asks
for a NEW problem on one topic at one difficulty, as the JSON document of the
domain's task (:attr:`data_agent.tasks.Task.problem_schema`): the task supplies
the wording of the fields and of the final answer line, so no template names an
answer format. It shows two of the pack's seed problems (worked solutions,
never validation or test items) for style, chosen deterministically from the
request's seed.

Templates use ``str.format`` fields: ``{subject}``, ``{topic}``,
``{topic_description}``, ``{difficulty}``, ``{difficulty_label}``,
``{variation}``, ``{scenario}``, ``{instruction}``, ``{examples}``, ``{domain}``
and the task's texts (:data:`TASK_TEXTS`); literal braces are doubled.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..plan import difficulty_level
from ..tasks import Task, clip

__all__ = ["PROMPTS", "PromptTemplate", "example_json", "format_example", "pick_examples", "render_messages",
           "template_for"]

SCENARIOS: dict[str, tuple[str, ...]] = {
    "chemistry": ("a laboratory measurement", "an industrial process", "an atmospheric or environmental setting",
                  "a biochemical or medical context", "an idealised textbook system", "a spectroscopic experiment",
                  "a materials or battery application", "a historical experiment"),
    "physics": ("a laboratory experiment", "an everyday situation", "a sports or vehicle setting",
                "an astronomical or space setting", "an engineering device", "an idealised textbook system",
                "a medical or biological context", "a geophysical setting"),
    "mathematics": ("a purely mathematical formulation", "a geometric setting", "a physical or biological application",
                    "a probability experiment with cards, dice, coins or draws", "a data or survey context",
                    "an economic or growth model", "an engineering application", "a population or decay model"),
}
_DEFAULT_SCENARIOS = ("a realistic applied setting", "an idealised textbook setting", "a laboratory measurement",
                      "an everyday situation")


@dataclass(frozen=True)
class PromptTemplate:
    """System and user message templates (``str.format`` fields, see the module docstring).

    The wording of the answer (which fields the document has, how the solution
    ends, what one style example shows) comes from the domain's task
    (:mod:`data_agent.tasks`) through the fields ``answer_kind``,
    ``answer_kind_one``, ``own_details``, ``fields_doc``, ``fields_brief``,
    ``reply_shape`` and ``compact_fields``; a template holds the domain's style only."""

    system: str
    user: str
    compact_system: str = "You write new {subject} problems with {answer_kind}, each as one JSON object."
    """System message of the compact prompt (small local teachers, see :func:`render_messages`)."""
    compact_user: str = (
        "Write one new {subject} problem on {topic}, {difficulty_short}, set in {scenario}, {own_details}. "
        "{compact_fields}\n\n"
        "Example (a real textbook problem: do not reuse it):\n{example_json}\n\n"
        "Now a new problem on {topic}:"
    )
    """User message of the compact prompt: one style example, written as the JSON
    document the teacher must produce (``example_json``)."""


_SCIENCE = PromptTemplate(
    system=(
        "You write college-level {subject} problems with {answer_kind}, in the style of the textbooks used by "
        "SciBench (physical chemistry, quantum chemistry, thermodynamics, physics, calculus, differential equations, "
        "statistics). Every problem you write is NEW: never copy or paraphrase an example or a known textbook "
        "problem. You check your arithmetic. You reply with one JSON object and nothing else."
    ),
    user=(
        "Write ONE new {subject} problem on the topic \"{topic}\".\n"
        "{topic_description}"
        "Difficulty {difficulty}/3 ({difficulty_label}).\n"
        "Variation {variation}: set it in {scenario}, {own_details}.\n\n"
        "Fields of the JSON object:\n{fields_doc}\n\n"
        "The student who learns from your solution is told: \"{instruction}\"\n\n"
        "Style examples (real textbook problems: do NOT reuse their content or numbers):\n\n"
        "{examples}\n\n"
        "Reply with only the JSON object {reply_shape}."
    ),
)

_GENERIC = PromptTemplate(
    system=(
        "You write new, self-contained practice problems for the domain \"{domain}\" with {answer_kind_one}. "
        "Never copy an example. Check your arithmetic. Reply with one JSON object and nothing else."
    ),
    user=(
        "Write ONE new problem on the topic \"{topic}\" ({subject}).\n"
        "{topic_description}"
        "Difficulty {difficulty}/3 ({difficulty_label}).\n"
        "Variation {variation}: set it in {scenario}, {own_details}.\n\n"
        "{fields_brief}\n\n"
        "The student who learns from your solution is told: \"{instruction}\"\n\n"
        "Style examples (do NOT reuse them):\n\n{examples}\n\n"
        "Reply with only the JSON object."
    ),
)

TASK_TEXTS = ("answer_kind", "answer_kind_one", "own_details", "fields_doc", "fields_brief", "reply_shape",
              "compact_fields")
"""The template fields filled from the domain's task (see :class:`PromptTemplate`)."""

PROMPTS: dict[str, PromptTemplate] = {"science": _SCIENCE, "generic": _GENERIC}
"""Prompt templates by domain name; ``generic`` is the fallback."""


def template_for(domain_name: str) -> PromptTemplate:
    """The domain's template, or the generic one."""
    return PROMPTS.get(domain_name, PROMPTS["generic"])


def format_example(task: Task, view: dict[str, Any], n: int, *, max_chars: int = 1200) -> str:
    """One seed problem (a :meth:`~data_agent.tasks.Task.seed_view`) rendered as a
    style example in the task's ``example_format``: problem and solution cut to
    ``max_chars``, any other field on one line (``(none)`` when empty)."""
    fields = {k: (clip(v, max_chars) if k in ("problem", "solution") else
                  re.sub(r"\s+", " ", str(v or "")).strip() or "(none)")
              for k, v in view.items() if k not in ("id", "source", "answer")}
    return task.example_format.format(n=n, source=str(view.get("source", "")).strip() or "seed",
                                      answer=str(view.get("answer", "")).strip(), **fields)


def pick_examples(seeds: Sequence[dict[str, Any]], sources: Sequence[str], seed: int, k: int = 2
                  ) -> list[dict[str, Any]]:
    """``k`` seed problems chosen deterministically from ``seed``, those whose
    ``source`` is among ``sources`` first (others fill up when too few)."""
    wanted = {s.strip() for s in sources}
    preferred = [s for s in seeds if str(s.get("source", "")).strip() in wanted]
    others = [s for s in seeds if str(s.get("source", "")).strip() not in wanted]
    rng = random.Random(f"examples:{seed}")
    chosen = rng.sample(preferred, min(k, len(preferred)))
    if len(chosen) < k and others:
        chosen += rng.sample(others, min(k - len(chosen), len(others)))
    return chosen


def example_json(task: Task, view: dict[str, Any], *, max_chars: int = 300) -> str:
    """A seed problem as the one-line JSON document a compact prompt asks for
    (:meth:`~data_agent.tasks.Task.example_document`: the document's field order is
    the one the task's grammar for local teachers produces)."""
    return json.dumps(task.example_document(view, max_chars), ensure_ascii=False)


def render_messages(template: PromptTemplate, task: Task, *, domain: str, instruction: str, topic: str,
                    subject: str, difficulty: int, seed: int, examples: Sequence[dict[str, Any]],
                    example_chars: int = 1200, compact: bool = False, topic_description: str = ""
                    ) -> tuple[dict[str, str], ...]:
    """The system and user messages of one request for ``task``'s documents, each
    example (a seed row of the pack) cut to ``example_chars`` characters.

    ``compact``: the template's short prompt for small local teachers
    (``hf:``), whose CPU time grows with the prompt and whose decoding grammar
    (:mod:`data_agent.generators.teachers.hf_structured`) already fixes the reply's form:
    a few lines and the first example as a JSON document."""
    scenarios = SCENARIOS.get(subject, _DEFAULT_SCENARIOS)
    rng = random.Random(f"scenario:{seed}")
    fields = {
        "domain": domain,
        "subject": subject or "science",
        "topic": topic.replace("_", " "),
        "difficulty": int(difficulty),
        "difficulty_label": difficulty_level(difficulty).label,
        "variation": f"{int(seed) % 1_000_000:06d}",
        "scenario": rng.choice(scenarios),
        "instruction": instruction,
        "topic_description": f"The topic covers: {topic_description.strip()}\n" if topic_description.strip() else "",
        **{k: getattr(task, k) for k in TASK_TEXTS},
    }
    views = [task.seed_view(ex) for ex in examples]
    if compact:
        fields["difficulty_short"] = difficulty_level(difficulty).short
        fields["example_json"] = example_json(task, views[0], max_chars=example_chars) if views else "(none)"
        return ({"role": "system", "content": template.compact_system.format(**fields)},
                {"role": "user", "content": template.compact_user.format(**fields)})
    fields["examples"] = "\n\n".join(format_example(task, v, i + 1, max_chars=example_chars)
                                      for i, v in enumerate(views)) or "(none)"
    return ({"role": "system", "content": template.system.format(**fields)},
            {"role": "user", "content": template.user.format(**fields)})
