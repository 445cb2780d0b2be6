"""The finance library: FinanceReasoning-style numeric problems (time value of money, NPV/IRR,
annuities and amortisation, bonds, growth, ratios read from a table, depreciation, cost of
capital, portfolios, options) for the ``finance`` pack, whose task is ``numeric_tolerance``.
Its template type (:mod:`.core`) rounds each exact answer to the precision the problem asks for."""

from ..base import library_scope, plain_document

SUBJECTS = ("corporate_finance", "fixed_income", "investments", "accounting")

with library_scope("finance", "numeric_tolerance", SUBJECTS, document=plain_document) as LIBRARY:
    from . import templates  # noqa: F401  (register)

__all__ = ["LIBRARY", "SUBJECTS"]
