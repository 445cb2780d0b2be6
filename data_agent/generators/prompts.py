"""Prompt templates that ask an LLM teacher for one new problem.

Templates are keyed by domain name (``PROMPTS["science"]``) with a generic
fallback (``PROMPTS["generic"]``). A prompt asks for a NEW problem on one
topic at one difficulty, a concise worked solution ending with exactly
``The answer is therefore \\boxed{X.XXX}.`` and the numeric answer, as a JSON
document matching :data:`~data_agent.generators.teachers.base.PROBLEM_SCHEMA`. It shows
two of the pack's seed problems (worked solutions, never validation or test
items) for style, chosen deterministically from the request's seed.

Templates use ``str.format`` fields: ``{subject}``, ``{topic}``,
``{difficulty}``, ``{difficulty_label}``, ``{variation}``, ``{scenario}``,
``{instruction}``, ``{examples}`` and ``{domain}`` (literal braces are doubled).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..plan import difficulty_level

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
    """System and user message templates (``str.format`` fields, see the module docstring)."""

    system: str
    user: str
    example: str = ("Example {n} ({source}):\nProblem: {problem}\nUnit of the answer: {unit}\n"
                    "Worked solution: {solution}\nAnswer: {answer}")
    """One style example; fields ``n``, ``source``, ``problem``, ``unit``, ``solution``, ``answer``."""
    compact_system: str = "You write new {subject} problems with numeric answers, each as one JSON object."
    """System message of the compact prompt (small local teachers, see :func:`render_messages`)."""
    compact_user: str = (
        "Write one new {subject} problem on {topic}, {difficulty_short}, set in {scenario}, with numbers of your "
        "own. Give the problem, the unit of its answer, short solution steps that compute the answer, then the "
        "answer.\n\n"
        "Example (a real textbook problem: do not reuse it):\n{example_json}\n\n"
        "Now a new problem on {topic}:"
    )
    """User message of the compact prompt: one style example, written as the JSON
    document the teacher must produce (``example_json``)."""


_SCIENCE = PromptTemplate(
    system=(
        "You write college-level {subject} problems with numeric answers, in the style of the textbooks used by "
        "SciBench (physical chemistry, quantum chemistry, thermodynamics, physics, calculus, differential equations, "
        "statistics). Every problem you write is NEW: never copy or paraphrase an example or a known textbook "
        "problem. You check your arithmetic. You reply with one JSON object and nothing else."
    ),
    user=(
        "Write ONE new {subject} problem on the topic \"{topic}\".\n"
        "Difficulty {difficulty}/3 ({difficulty_label}).\n"
        "Variation {variation}: set it in {scenario}, with numbers of your own.\n\n"
        "Fields of the JSON object:\n"
        "- \"problem\": a self-contained statement that gives every value needed, with units (LaTeX allowed); "
        "it must not reveal the answer.\n"
        "- \"unit\": the unit of the final answer, e.g. \"$\\mathrm{{kJ}} \\mathrm{{~mol}}^{{-1}}$\" or \"m/s\"; "
        "when the answer is expressed in a power of ten, put that power in the unit "
        "(e.g. \"$10^{{-19}} \\mathrm{{~J}}$\"); \"\" for a pure number.\n"
        "- \"solution\": a concise worked solution (a few short steps with the numbers substituted) whose last "
        "sentence is exactly: The answer is therefore \\boxed{{X.XXX}}.  where X.XXX is the answer in that unit "
        "with exactly three digits after the decimal point (e.g. \\boxed{{0.280}}, \\boxed{{-12.500}}).\n"
        "- \"answer\": the same number as in the box, as a JSON number.\n\n"
        "The student who learns from your solution is told: \"{instruction}\"\n\n"
        "Style examples (real textbook problems: do NOT reuse their content or numbers):\n\n"
        "{examples}\n\n"
        "Reply with only the JSON object {{\"problem\": ..., \"unit\": ..., \"solution\": ..., \"answer\": ...}}."
    ),
)

_GENERIC = PromptTemplate(
    system=(
        "You write new, self-contained practice problems for the domain \"{domain}\" with a single numeric "
        "answer. Never copy an example. Check your arithmetic. Reply with one JSON object and nothing else."
    ),
    user=(
        "Write ONE new problem on the topic \"{topic}\" ({subject}).\n"
        "Difficulty {difficulty}/3 ({difficulty_label}).\n"
        "Variation {variation}: set it in {scenario}, with numbers of your own.\n\n"
        "Fields: \"problem\" (the statement with every value needed), \"unit\" (the unit of the answer, \"\" if "
        "none), \"solution\" (concise worked steps whose last sentence is exactly: The answer is therefore "
        "\\boxed{{X.XXX}}.  with exactly three digits after the decimal point) and \"answer\" (the boxed number, "
        "as a JSON number).\n\n"
        "The student who learns from your solution is told: \"{instruction}\"\n\n"
        "Style examples (do NOT reuse them):\n\n{examples}\n\n"
        "Reply with only the JSON object."
    ),
)

PROMPTS: dict[str, PromptTemplate] = {"science": _SCIENCE, "generic": _GENERIC}
"""Prompt templates by domain name; ``generic`` is the fallback."""


def template_for(domain_name: str) -> PromptTemplate:
    """The domain's template, or the generic one."""
    return PROMPTS.get(domain_name, PROMPTS["generic"])


def _clean(text: Any, limit: int) -> str:
    s = str(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    s = re.sub(r"\n{3,}", "\n\n", s)
    return s if len(s) <= limit else s[:limit].rstrip() + " [...]"


def format_example(template: PromptTemplate, seed: dict[str, Any], n: int, *, max_chars: int = 1200) -> str:
    """One seed problem rendered as a style example."""
    unit = re.sub(r"\s+", " ", str(seed.get("unit") or "")).strip() or "(none)"
    return template.example.format(n=n, source=str(seed.get("source", "")).strip() or "seed",
                                   problem=_clean(seed.get("problem_text"), max_chars), unit=unit,
                                   solution=_clean(seed.get("solution"), max_chars),
                                   answer=str(seed.get("answer_number", "")).strip())


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


def example_json(seed: dict[str, Any], *, max_chars: int = 300) -> str:
    """A seed problem as the one-line JSON document a compact prompt asks for:
    fields in the order ``problem``, ``unit``, ``solution``, ``answer`` (the
    order of :func:`~data_agent.generators.teachers.hf_structured.problem_grammar`), the
    solution cut to ``max_chars`` and ending with the boxed answer (three decimals)."""
    try:
        answer: Any = float(str(seed.get("answer_number", "")).strip())
        boxed = f"{answer:.3f}"
        answer = int(answer) if answer == int(answer) and abs(answer) < 1e15 else answer
    except ValueError:
        answer, boxed = str(seed.get("answer_number", "")).strip(), str(seed.get("answer_number", "")).strip()
    doc = {"problem": re.sub(r"\s+", " ", _clean(seed.get("problem_text"), max_chars)),
           "unit": re.sub(r"\s+", " ", str(seed.get("unit") or "")).strip(),
           "solution": re.sub(r"\s+", " ", _clean(seed.get("solution"), max_chars))
                       + f" The answer is therefore \\boxed{{{boxed}}}.",
           "answer": answer}
    return json.dumps(doc, ensure_ascii=False)


def render_messages(template: PromptTemplate, *, domain: str, instruction: str, topic: str, subject: str,
                    difficulty: int, seed: int, examples: Sequence[dict[str, Any]], example_chars: int = 1200,
                    compact: bool = False) -> tuple[dict[str, str], ...]:
    """The system and user messages of one request, each example's problem and
    solution cut to ``example_chars`` characters.

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
    }
    if compact:
        fields["difficulty_short"] = difficulty_level(difficulty).short
        fields["example_json"] = example_json(examples[0], max_chars=example_chars) if examples else "(none)"
        return ({"role": "system", "content": template.compact_system.format(**fields)},
                {"role": "user", "content": template.compact_user.format(**fields)})
    fields["examples"] = "\n\n".join(format_example(template, ex, i + 1, max_chars=example_chars)
                                      for i, ex in enumerate(examples)) or "(none)"
    return ({"role": "system", "content": template.system.format(**fields)},
            {"role": "user", "content": template.user.format(**fields)})
