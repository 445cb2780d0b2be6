"""The data engineer: plan schema, heuristic planner and reflection."""

from .heuristic import EngineerContext, Feedback, HeuristicEngineer, TopicInfo
from .plan import PLAN_SCHEMA, Allocation, Plan, PlanError, validate_plan

__all__ = ["EngineerContext", "Feedback", "HeuristicEngineer", "TopicInfo", "PLAN_SCHEMA", "Allocation", "Plan",
           "PlanError", "validate_plan", "make_engineer"]


def make_engineer(spec: str):
    """Engineer from a CLI spec. Only the offline heuristic engineer exists so far."""
    if spec in ("heuristic", "", None):
        return HeuristicEngineer()
    from ..errors import DataAgentError

    raise DataAgentError(f"engineer {spec!r} is not supported yet: use 'heuristic'")
