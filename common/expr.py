"""Bound expressions and aggregate calls: the planner's output, the evaluator's input.

Expressions are trees of frozen dataclasses over the columns of one input
(by position). They are built by the frontend's binder, shipped inside plan
nodes, and evaluated over Arrow batches by `compute.expr`.

Function names in `FuncCall.func` are the canonical names of
`common.functions` (which also infers their types). Boolean connectives and
NULL tests are functions too: `and`, `or`, `not`, `is_null`,
`is_not_null`, `coalesce`, `in`, ...

An `OuterRef` is a correlated subquery's reference to a column of the
query around it: the batch apply that runs the subquery binds it, once per
distinct value of the outer row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

from common.types import BIGINT, DOUBLE, NUMERIC, DataType, TypeName


@dataclass(frozen=True, slots=True)
class InputRef:
    """The value of input column `index`."""

    index: int
    type: DataType


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant; `value` is a Python value of `type` (see common.types), None for NULL."""

    value: object
    type: DataType


@dataclass(frozen=True, slots=True)
class OuterRef:
    """The value of correlation parameter `param`, bound by the apply running this subquery."""

    param: int
    type: DataType


@dataclass(frozen=True, slots=True)
class FuncCall:
    """A scalar function or operator applied to its arguments (already cast to its signature)."""

    func: str
    args: tuple[Expr, ...]
    type: DataType


@dataclass(frozen=True, slots=True)
class Cast:
    """`arg::type`, with PostgreSQL's cast semantics (text input parsing, rounding, range checks)."""

    arg: Expr
    type: DataType


@dataclass(frozen=True, slots=True)
class Case:
    """CASE WHEN c1 THEN r1 ... ELSE default END; a missing default is NULL."""

    branches: tuple[tuple[Expr, Expr], ...]
    default: Expr | None
    type: DataType


Expr = Union[InputRef, Literal, FuncCall, Cast, Case, OuterRef]


def input_refs(expr: Expr) -> set[int]:
    """The input columns an expression reads."""
    out: set[int] = set()
    stack: list[Expr] = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, InputRef):
            out.add(e.index)
        elif isinstance(e, FuncCall):
            stack.extend(e.args)
        elif isinstance(e, Cast):
            stack.append(e.arg)
        elif isinstance(e, Case):
            for c, r in e.branches:
                stack.extend((c, r))
            if e.default is not None:
                stack.append(e.default)
    return out


def shift_inputs(expr: Expr, mapping: dict[int, int]) -> Expr:
    """Rewrite InputRef indices through `mapping` (old -> new)."""
    if isinstance(expr, InputRef):
        return InputRef(mapping[expr.index], expr.type)
    if isinstance(expr, FuncCall):
        return FuncCall(expr.func, tuple(shift_inputs(a, mapping) for a in expr.args), expr.type)
    if isinstance(expr, Cast):
        return Cast(shift_inputs(expr.arg, mapping), expr.type)
    if isinstance(expr, Case):
        return Case(tuple((shift_inputs(c, mapping), shift_inputs(r, mapping)) for c, r in expr.branches),
                    None if expr.default is None else shift_inputs(expr.default, mapping), expr.type)
    return expr


class AggKind(enum.Enum):
    COUNT_STAR = "count_star"
    COUNT = "count"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    AVG = "avg"
    # Batch-only aggregates (system catalog queries); the stream planner refuses them.
    ARRAY_AGG = "array_agg"
    STRING_AGG = "string_agg"
    BOOL_AND = "bool_and"
    BOOL_OR = "bool_or"


@dataclass(frozen=True, slots=True)
class AggOrder:
    """ORDER BY inside an aggregate call: input column `index`, its direction and NULL placement."""

    index: int
    descending: bool = False
    nulls_first: bool = False


@dataclass(frozen=True, slots=True)
class AggCall:
    """An aggregate over input columns `args` (empty for count(*)), returning `type`.

    `order_by` orders the values an order-sensitive aggregate (array_agg,
    string_agg) sees; string_agg's second argument is its delimiter.
    """

    kind: AggKind
    args: tuple[int, ...]
    arg_types: tuple[DataType, ...]
    type: DataType
    distinct: bool = False
    order_by: tuple[AggOrder, ...] = ()


def agg_return_type(kind: AggKind, arg: DataType | None) -> DataType:
    """PostgreSQL's result type of an aggregate."""
    if kind in (AggKind.COUNT_STAR, AggKind.COUNT):
        return BIGINT
    assert arg is not None
    if kind is AggKind.ARRAY_AGG:
        return DataType(TypeName.ARRAY, element=arg)
    if kind is AggKind.STRING_AGG:
        return arg
    if kind in (AggKind.BOOL_AND, AggKind.BOOL_OR):
        return DataType(TypeName.BOOLEAN)
    if kind in (AggKind.MIN, AggKind.MAX):
        return arg
    if kind is AggKind.SUM:
        if arg.name in (TypeName.SMALLINT, TypeName.INTEGER):
            return BIGINT
        if arg.name is TypeName.BIGINT:
            return NUMERIC
        if arg.name is TypeName.NUMERIC:
            return NUMERIC
        return arg  # real, double precision, interval
    if kind is AggKind.AVG:
        if arg.is_integer or arg.name is TypeName.NUMERIC:
            return NUMERIC
        if arg.is_float:
            return DOUBLE
        return arg  # interval
    raise ValueError(kind)


def agg_state_types(agg: AggCall) -> tuple[DataType, ...]:
    """The columns one aggregate keeps per group in a hash agg's result state table.

    COUNT: the count. SUM: the running sum and how many non-NULL values it
    holds (the sum is NULL when none). AVG: the running sum in a wide type
    and the count. MIN/MAX: the current extreme (retractable inputs also keep
    every value in a separate table, see HashAggNode.minmax_tables).
    """
    if agg.kind in (AggKind.COUNT_STAR, AggKind.COUNT):
        return (BIGINT,)
    if agg.kind is AggKind.SUM:
        return (agg.type, BIGINT)
    if agg.kind is AggKind.AVG:
        arg = agg.arg_types[0]
        acc = NUMERIC if (arg.is_integer or arg.name is TypeName.NUMERIC) else agg.type
        return (acc, BIGINT)
    return (agg.type,)
