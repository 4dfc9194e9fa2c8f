"""Set operations in logical plans: UNION, EXCEPT and INTERSECT, each [ALL], over inputs cast to common types."""

from __future__ import annotations

from collections.abc import Sequence

from common import functions
from common.batch_plan import SetFunction
from common.errors import SyntaxError_
from common.expr import AggCall, AggKind, Case, Cast, Expr, FuncCall, InputRef, Literal
from common.types import BIGINT, BOOLEAN
from frontend.planner.logical import Field, LAgg, LFilter, LogicalNode, LProject, LProjectSet, LUnion


def set_operation(op: str, left: LogicalNode, right: LogicalNode, distinct: bool) -> LogicalNode:
    """`op` (UNION, EXCEPT or INTERSECT) of two inputs; the output columns take the left's names."""
    if len(left.fields) != len(right.fields):
        raise SyntaxError_(f"each {op} query must have the same number of columns")
    types = [functions.common_type([a.type, b.type], op) for a, b in zip(left.fields, right.fields)]
    fields = tuple(Field(f.name, t) for f, t in zip(left.fields, types))
    left, right = cast_columns(left, types), cast_columns(right, types)
    if op == "UNION":
        union = LUnion((left, right), fields)
        return LAgg(union, tuple(range(len(fields))), (), fields) if distinct else union
    return _except_or_intersect(left, right, fields, op == "INTERSECT", distinct)


def _except_or_intersect(left: LogicalNode, right: LogicalNode, fields: tuple[Field, ...], intersect: bool,
                         distinct: bool) -> LogicalNode:
    """EXCEPT / INTERSECT [ALL] by counting each distinct row on either side (NULLs compare equal, as in
    PostgreSQL). A row is kept once, or, with ALL, l - r times (EXCEPT) or least(l, r) times (INTERSECT)."""
    n = len(fields)
    columns = tuple(InputRef(i, f.type) for i, f in enumerate(fields))

    def hidden(*names: str) -> tuple[Field, ...]:
        return (*fields, *(Field(name, BIGINT, hidden=True) for name in names))

    def tag(side: LogicalNode, marks: tuple[Expr, Expr]) -> LogicalNode:
        return LProject(side, (*columns, *marks), hidden("_on_left", "_on_right"))

    one, none = Literal(1, BIGINT), Literal(None, BIGINT)
    both = LUnion((tag(left, (one, none)), tag(right, (none, one))), hidden("_on_left", "_on_right"))
    counts = tuple(AggCall(AggKind.COUNT, (i,), (BIGINT,), BIGINT) for i in (n, n + 1))
    counted = LAgg(both, tuple(range(n)), counts, hidden("_left", "_right"))
    on_left, on_right = InputRef(n, BIGINT), InputRef(n + 1, BIGINT)
    zero = Literal(0, BIGINT)
    times: Expr
    if intersect:
        times = FuncCall("least", (on_left, on_right), BIGINT)
    else:
        times = FuncCall("subtract", (on_left, on_right), BIGINT)
        if distinct:
            times = Case(((FuncCall("equal", (on_right, zero), BOOLEAN), on_left),), zero, BIGINT)
    with_times = LProject(counted, (*columns, times), hidden("_times"))
    kept = LFilter(with_times, FuncCall("greater_than", (InputRef(n, BIGINT), zero), BOOLEAN))
    if distinct:
        return LProject(kept, columns, fields)
    series = SetFunction("generate_series", (one, InputRef(n, BIGINT)), BIGINT)
    return LProject(LProjectSet(kept, (series,), hidden("_times", "_i")), columns, fields)


def cast_columns(plan: LogicalNode, types: Sequence) -> LogicalNode:
    """`plan` with each column cast to `types` (the common types of a UNION's inputs)."""
    fields = plan.fields
    if all(f.type == t for f, t in zip(fields, types)):
        return plan
    exprs = tuple(InputRef(i, f.type) if f.type == t else Cast(InputRef(i, f.type), t)
                  for i, (f, t) in enumerate(zip(fields, types)))
    return LProject(plan, exprs, tuple(Field(f.name, t, f.qualifier, f.hidden) for f, t in zip(fields, types)))
