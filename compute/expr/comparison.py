"""Comparisons, IN, IS [NOT] DISTINCT FROM, NULL and boolean tests, NOT, GREATEST/LEAST, NULLIF and LIKE.

PostgreSQL orders NaN above every other float and equal to itself, and
compares intervals by their whole span (a month is 30 days), so
'1 mon' = '30 days'. Everything else uses Arrow's comparisons. NULLs
follow three-valued logic: `x IN (1, NULL)` is NULL when nothing matches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import FeatureNotSupported, InvalidEscapeSequence
from common.expr import FuncCall, Literal
from common.pgtext import format_array
from common.types import DataType, TypeName
from compute.expr.context import EvalContext
from compute.expr.kernel import all_valid, from_numpy, kernel, per_distinct, raise_if, take, valid_mask, values
from compute.expr.temporal import interval_span

_ARROW_CMP = {"equal": pc.equal, "not_equal": pc.not_equal, "less_than": pc.less,
              "less_than_or_equal": pc.less_equal, "greater_than": pc.greater,
              "greater_than_or_equal": pc.greater_equal}


def _from_order(op: str, lt: np.ndarray, eq: np.ndarray) -> np.ndarray:
    return {"equal": eq, "not_equal": ~eq, "less_than": lt, "less_than_or_equal": lt | eq,
            "greater_than": ~(lt | eq), "greater_than_or_equal": ~lt}[op]


def compare(op: str, a: pa.Array, b: pa.Array, t: DataType) -> pa.Array:
    """`a op b` for two columns of type `t`, NULL where either side is NULL."""
    if t.is_float:
        ok = all_valid([a, b])
        x, y = values(a), values(b)
        nx, ny = np.isnan(x), np.isnan(y)
        eq = (x == y) | (nx & ny)
        lt = ((x < y) & ~ny) | (~nx & ny)
        return from_numpy(_from_order(op, lt, eq), pa.bool_(), ok)
    if t.is_list or t.name is TypeName.RECORD:
        return _compare_composites(op, a, b, t)
    if t.name is TypeName.INTERVAL:
        ok = all_valid([a, b])
        (da, ua), (db, ub) = interval_span(a), interval_span(b)
        eq = (da == db) & (ua == ub)
        lt = (da < db) | ((da == db) & (ua < ub))
        return from_numpy(_from_order(op, lt, eq), pa.bool_(), ok)
    return _ARROW_CMP[op](a, b)


def _compare_composites(op: str, a: pa.Array, b: pa.Array, t: DataType) -> pa.Array:
    """Arrays and records are equal when their elements are; catalogs only ever test (in)equality."""
    if op not in ("equal", "not_equal"):
        raise FeatureNotSupported(f"ordering comparisons of {t.display()} values are not supported")
    eq = pc.equal(format_array(a, t), format_array(b, t))
    return eq if op == "equal" else pc.invert(eq)


@kernel(*_ARROW_CMP)
def comparison(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return compare(call.func, args[0], args[1], call.args[0].type)


@kernel("is_distinct_from", "is_not_distinct_from")
def distinct(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    a, b = args
    va, vb = valid_mask(a), valid_mask(b)
    eq = values(compare("equal", a, b, call.args[0].type), False)
    same = (va & vb & eq) | (~va & ~vb)
    return pa.array(~same if call.func == "is_distinct_from" else same, pa.bool_())


@kernel("in")
def in_list(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    value, items = args[0], args[1:]
    t = call.args[0].type
    literals = call.args[1:]
    if (len(items) > 4 and all(isinstance(e, Literal) for e in literals)
            and t.name is not TypeName.INTERVAL):
        return _in_set(value, [e.value for e in literals if isinstance(e, Literal)], t)
    n = len(value)
    found = np.zeros(n, dtype=bool)
    unknown = np.zeros(n, dtype=bool)
    for item in items:
        eq = compare("equal", value, item, t)
        ok = valid_mask(eq)
        found |= ok & values(eq, False)
        unknown |= ~ok
    return from_numpy(found, pa.bool_(), found | ~unknown)


def _in_set(value: pa.Array, items: Sequence[object], t: DataType) -> pa.Array:
    present = [v for v in items if v is not None]
    found = values(pc.is_in(value, value_set=pa.array(present, t.arrow)), False)
    unknown = ~valid_mask(value) | (len(present) < len(items))
    return from_numpy(found, pa.bool_(), found | ~unknown)


@kernel("is_null")
def is_null(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return args[0].is_null()


@kernel("is_not_null")
def is_not_null(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return args[0].is_valid()


@kernel("is_true", "is_not_true", "is_false", "is_not_false")
def boolean_test(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    target = call.func in ("is_true", "is_not_true")
    hit = pc.equal(args[0], pa.scalar(target)).fill_null(False)
    return pc.invert(hit) if call.func.startswith("is_not_") else hit


@kernel("not")
def logical_not(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return pc.invert(args[0])


@kernel("greatest", "least")
def extreme(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    op = "greater_than" if call.func == "greatest" else "less_than"
    result = args[0]
    for arg in args[1:]:
        better = values(compare(op, arg, result, call.type), False)
        take_new = (better | ~valid_mask(result)) & valid_mask(arg)
        result = pc.if_else(pa.array(take_new), arg, result)
    return result


@kernel("nullif")
def nullif(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    a, b = args
    eq = values(compare("equal", a, b, call.args[0].type), False)
    return pc.if_else(pa.array(eq), pa.scalar(None, a.type), a)


# -- LIKE -------------------------------------------------------------------


def _like(text: pa.Array, pattern: str, ignore_case: bool) -> pa.Array:
    body = pattern.rstrip("\\")
    if (len(pattern) - len(body)) % 2 == 1:
        # PostgreSQL only notices the dangling escape if matching reaches it.
        prefix = pattern[:-1]
        reached = pc.match_like(text, prefix + "_%", ignore_case=ignore_case).fill_null(False)
        raise_if(values(reached, False),
                 lambda i: InvalidEscapeSequence("LIKE pattern must not end with escape character"))
        return pc.if_else(text.is_valid(), False, pa.scalar(None, pa.bool_()))
    return pc.match_like(text, pattern, ignore_case=ignore_case)


@kernel("like", "not_like", "ilike", "not_ilike")
def like(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, patterns = args
    ignore_case = call.func in ("ilike", "not_ilike")

    def match(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        pattern = key[0]
        assert isinstance(pattern, str)
        return _like(take(text, rows), pattern, ignore_case)

    out = per_distinct([patterns], len(text), match, pa.bool_())
    return pc.invert(out) if call.func.startswith("not_") else out
