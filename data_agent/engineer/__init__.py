"""The data engineer: plan schema, heuristic planner and reflection, LLM engineer."""

from typing import Any

from ..plan import PLAN_SCHEMA, Allocation, Plan, PlanError, TopicInfo, validate_plan
from .heuristic import EngineerContext, Feedback, HeuristicEngineer, UniformEngineer

__all__ = ["EngineerContext", "Feedback", "HeuristicEngineer", "UniformEngineer", "TopicInfo", "PLAN_SCHEMA", "Allocation", "Plan",
           "PlanError", "validate_plan", "make_engineer"]


def make_engineer(spec: str | None, **kw: Any):
    """Engineer from a CLI spec: ``heuristic`` (offline) -> :class:`HeuristicEngineer`;
    ``uniform`` -> :class:`UniformEngineer` (the control: an even spread, no reflection);
    a model spec (``openai:<model>``, ``anthropic:<model>``,
    ``openai-compatible:<base_url>@<model>``, ``vllm:<model>``, ``hf:<model>``)
    -> :class:`~data_agent.engineer.llm.LLMEngineer` with ``kw`` (``run_dir``,
    ``cache_dir``, ``max_reasks``, ...). Validates the spec and the API key
    without any network call; a bad spec raises :class:`DataAgentError`."""
    if spec in ("heuristic", "", None):
        return HeuristicEngineer()
    if spec == "uniform":
        return UniformEngineer()
    from .llm import LLMEngineer

    return LLMEngineer(str(spec), **kw)
