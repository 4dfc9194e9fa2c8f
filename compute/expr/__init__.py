"""Vectorized evaluation of bound expressions over Arrow batches, with PostgreSQL semantics."""

from compute.expr.context import ErrorMode, EvalContext
from compute.expr.evaluator import evaluate, evaluate_predicate

__all__ = ["ErrorMode", "EvalContext", "evaluate", "evaluate_predicate"]
