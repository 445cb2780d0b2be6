"""Answer contracts, one module per task kind (chosen by ``pack.json`` ``scorer.kind``).

* :mod:`~data_agent.tasks.boxed_numeric`: SciBench, a number in the last ``\\boxed{}``;
* :mod:`~data_agent.tasks.exact_match`: a short text answer on a ``Final answer:`` line;
* :mod:`~data_agent.tasks.python_literal`: CRUXEval, a function's output as a Python literal on an ``[ANSWER]`` line;
* :mod:`~data_agent.tasks.numeric_tolerance`: FinanceReasoning, a number within 0.2% (or True/False);
* :mod:`~data_agent.tasks.choice`: the letter of a multiple-choice option on a ``Final answer:`` line.

:mod:`~data_agent.tasks.base` defines the seam (:class:`Task`) and the registry.
"""

from .base import (FAILURE_CLASSES, AnswerAgreementValidator, FinalLineValidator, Task, TaskError, clip,
                   ebnf_bounded, get_task, is_looping, known_kinds, register, task_for_schema)
from . import boxed_numeric, choice, exact_match, numeric_tolerance, python_literal  # noqa: E402,F401  (register the task kinds)

__all__ = ["FAILURE_CLASSES", "AnswerAgreementValidator", "FinalLineValidator", "Task", "TaskError", "clip",
           "ebnf_bounded", "get_task", "is_looping", "known_kinds", "register", "task_for_schema"]
