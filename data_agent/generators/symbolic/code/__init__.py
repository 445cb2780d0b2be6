"""The code library: small Python functions over strings, lists, dicts and
integers with an input, in the style of CRUXEval, for the ``code`` pack, whose
task is ``python_literal``.

Every family (one template each) writes its function at three difficulty
levels (more statements, longer inputs and more loop turns at higher levels),
computes the output in plain Python together with a trace of the key
intermediate values, and checks that output against a sandboxed run of the
function (:mod:`data_agent.validators.sandbox`); the answer is the sandbox's
``repr``. Topics: string_methods, list_ops, dict_ops, arithmetic,
loops_conditionals, sorting, comprehension, set_ops.
"""

from ..base import library_scope, plain_document
from .base import SUBJECT

SUBJECTS = (SUBJECT,)

with library_scope("code", "python_literal", SUBJECTS, document=plain_document) as LIBRARY:
    from . import collections_, dicts, lists, numbers, strings  # noqa: F401  (register)

__all__ = ["LIBRARY", "SUBJECTS"]
