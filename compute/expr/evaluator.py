"""Evaluating bound expressions over Arrow record batches, a whole column at a time.

Every node yields a column as long as the batch. Functions run as
registered kernels (see `compute.expr.kernel`). CASE, COALESCE, AND and OR
behave as PostgreSQL's do row by row: a branch or operand a row does not
reach is never evaluated for that row, so `CASE WHEN x = 0 THEN 0 ELSE 1/x
END` cannot fail. They first try the cheap way (everything over the whole
batch) and fall back to evaluating each part on only the rows that reach
it when that raises.

In ErrorMode.NULL a failing kernel is retried on halves of its input until
the failing rows are isolated; those rows become NULL, the others keep
their values, and `on_error` hears how many rows failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import EddyError, FeatureNotSupported, InternalError, NumericValueOutOfRange
from common.expr import Case, Cast, Expr, FuncCall, InputRef, Literal, OuterRef
from common.functions import is_deterministic
from common.types import TypeName

# Kernel modules register themselves on import.
from compute.expr import (  # noqa: F401
    arithmetic,
    array_functions,
    comparison,
    math_functions,
    string_functions,
    system_functions,
    temporal_functions,
    to_char,
)
from compute.expr.cast import cast_array
from compute.expr.context import ErrorMode, EvalContext
from compute.expr.kernel import CONSTANTS, KERNELS, TABLE_ARGUMENT, reorder, take, valid_mask

_DEFAULT = EvalContext()


def evaluate(expr: Expr, batch: pa.RecordBatch, ctx: EvalContext | None = None) -> pa.Array:
    """The column `expr` computes over `batch` (of length batch.num_rows, of type expr.type)."""
    ctx = ctx or _DEFAULT
    if ctx.now is None and _reads_clock(expr):
        ctx = EvalContext(ctx.mode, ctx.format, ctx.on_error, dt.datetime.now(dt.UTC), ctx.params)
    return _eval(expr, batch, ctx)


def evaluate_predicate(expr: Expr, batch: pa.RecordBatch, ctx: EvalContext | None = None) -> pa.Array:
    """A boolean filter mask: NULL counts as false."""
    out = evaluate(expr, batch, ctx)
    return out.fill_null(False) if out.null_count else out


def _reads_clock(expr: Expr) -> bool:
    if isinstance(expr, FuncCall):
        return not is_deterministic(expr.func) or any(_reads_clock(a) for a in expr.args)
    if isinstance(expr, Cast):
        return _reads_clock(expr.arg)
    if isinstance(expr, Case):
        parts = [p for b in expr.branches for p in b] + ([expr.default] if expr.default is not None else [])
        return any(_reads_clock(p) for p in parts)
    return False


def _eval(expr: Expr, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    if isinstance(expr, InputRef):
        col = batch.column(expr.index)
        return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if isinstance(expr, Literal):
        return _literal(expr, batch.num_rows)
    if isinstance(expr, OuterRef):
        if expr.param not in ctx.params:
            raise InternalError(f"correlation parameter {expr.param} is not bound")
        return _literal(Literal(ctx.params[expr.param], expr.type), batch.num_rows)
    if isinstance(expr, Cast):
        arg = _eval(expr.arg, batch, ctx)
        src, dst = expr.arg.type, expr.type
        return _apply(lambda a: cast_array(a[0], src, dst, ctx), [arg], dst.arrow, ctx)
    if isinstance(expr, Case):
        return _case(expr, batch, ctx)
    return _call(expr, batch, ctx)


def _literal(lit: Literal, n: int) -> pa.Array:
    t = lit.type.arrow
    value = lit.value
    if lit.type.name is TypeName.NUMERIC and isinstance(value, (Decimal, int, float)):
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
        try:
            value = exact.quantize(Decimal(1).scaleb(-lit.type.effective_scale), rounding=ROUND_HALF_UP)
            return pa.repeat(pa.scalar(value, t), n)
        except (InvalidOperation, pa.ArrowInvalid):
            raise NumericValueOutOfRange("numeric field overflow",
                                         detail=f"{exact} does not fit NUMERIC's {t.precision - t.scale} digits "
                                                f"before the decimal point") from None
    return pa.repeat(pa.scalar(value, t), n)


def _call(call: FuncCall, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    name = call.func
    if name in ("and", "or"):
        return _logical(call, batch, ctx)
    if name == "coalesce":
        return _coalesce(call, batch, ctx)
    constant = CONSTANTS.get(name)
    if constant is not None:
        return pa.repeat(constant(call, ctx), batch.num_rows)
    fn = KERNELS.get(name)
    if fn is None:
        raise FeatureNotSupported(f"function {name} is not implemented")
    operands = call.args[:-1] if name in TABLE_ARGUMENT else call.args
    args = [_eval(a, batch, ctx) for a in operands]
    return _apply(lambda a: fn(a, call, ctx), args, call.type.arrow, ctx)


def _apply(fn: Callable[[list[pa.Array]], pa.Array], args: list[pa.Array], out_type: pa.DataType,
           ctx: EvalContext) -> pa.Array:
    try:
        return fn(args)
    except EddyError as err:
        if ctx.mode is ErrorMode.RAISE or not args:
            raise
        n = len(args[0])
        pieces, failed, first = _isolate(fn, args, out_type, 0, n)
        if ctx.on_error is not None:
            ctx.on_error(first or err, failed)
        return pa.concat_arrays(pieces) if pieces else pa.array([], out_type)


def _isolate(fn: Callable[[list[pa.Array]], pa.Array], args: list[pa.Array], out_type: pa.DataType,
             lo: int, hi: int) -> tuple[list[pa.Array], int, EddyError | None]:
    """Results for rows [lo, hi) of an input known to fail somewhere, failing rows NULL."""
    if hi - lo == 1:
        try:
            return [fn([a.slice(lo, 1) for a in args]).cast(out_type)], 0, None
        except EddyError as e:
            return [pa.nulls(1, out_type)], 1, e
    mid = (lo + hi) // 2
    pieces: list[pa.Array] = []
    failed = 0
    first: EddyError | None = None
    for a, b in ((lo, mid), (mid, hi)):
        try:
            pieces.append(fn([x.slice(a, b - a) for x in args]).cast(out_type))
        except EddyError:
            sub, count, err = _isolate(fn, args, out_type, a, b)
            pieces.extend(sub)
            failed += count
            first = first or err
    return pieces, failed, first


# -- forms that do not evaluate every operand on every row ----------------------


def _subset(batch: pa.RecordBatch, rows: np.ndarray) -> pa.RecordBatch:
    return batch.take(pa.array(rows, pa.int64()))


def _case(expr: Case, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    out_type = expr.type.arrow
    try:
        probe = ctx.probe()
        conds = [_truth(_eval(c, batch, probe)) for c, _ in expr.branches]
        results = [_eval(r, batch, probe) for _, r in expr.branches]
        default = (_eval(expr.default, batch, probe) if expr.default is not None
                   else pa.nulls(batch.num_rows, out_type))
    except EddyError:
        return _case_lazy(expr, batch, ctx)
    if not conds:
        return default
    struct = pa.StructArray.from_arrays(conds, [f"c{i}" for i in range(len(conds))])
    return pc.case_when(struct, *results, default)


def _truth(arr: pa.Array) -> pa.Array:
    return arr.fill_null(False) if arr.null_count else arr


def _case_lazy(expr: Case, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    n = batch.num_rows
    remaining = np.arange(n)
    pieces: list[pa.Array] = []
    order: list[np.ndarray] = []
    for cond, result in expr.branches:
        if len(remaining) == 0:
            break
        sub = _subset(batch, remaining)
        hit = np.asarray(_truth(_eval(cond, sub, ctx)).to_numpy(zero_copy_only=False), dtype=bool)
        chosen = remaining[hit]
        if len(chosen):
            pieces.append(_eval(result, _subset(batch, chosen), ctx))
            order.append(chosen)
        remaining = remaining[~hit]
    if len(remaining):
        if expr.default is not None:
            pieces.append(_eval(expr.default, _subset(batch, remaining), ctx))
        else:
            pieces.append(pa.nulls(len(remaining), expr.type.arrow))
        order.append(remaining)
    return reorder([p.cast(expr.type.arrow) for p in pieces], order, n)


def _coalesce(call: FuncCall, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    try:
        probe = ctx.probe()
        args = [_eval(a, batch, probe) for a in call.args]
    except EddyError:
        return _coalesce_lazy(call, batch, ctx)
    return args[0] if len(args) == 1 else pc.coalesce(*args)


def _coalesce_lazy(call: FuncCall, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    n = batch.num_rows
    result = _eval(call.args[0], batch, ctx)
    for arg in call.args[1:]:
        missing = np.flatnonzero(~valid_mask(result))
        if len(missing) == 0:
            break
        filler = _eval(arg, _subset(batch, missing), ctx)
        present = np.flatnonzero(valid_mask(result))
        result = reorder([take(result, present), filler.cast(result.type)], [present, missing], n)
    return result


def _logical(call: FuncCall, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    combine = pc.and_kleene if call.func == "and" else pc.or_kleene
    try:
        probe = ctx.probe()
        args = [_eval(a, batch, probe) for a in call.args]
    except EddyError:
        return _logical_lazy(call, batch, ctx)
    out = args[0]
    for a in args[1:]:
        out = combine(out, a)
    return out


def _logical_lazy(call: FuncCall, batch: pa.RecordBatch, ctx: EvalContext) -> pa.Array:
    """AND/OR evaluating each operand only on the rows earlier operands left undecided."""
    n = batch.num_rows
    decisive = call.func == "or"  # the value that settles the row: true for OR, false for AND
    combine = pc.and_kleene if call.func == "and" else pc.or_kleene
    result = _eval(call.args[0], batch, ctx)
    for arg in call.args[1:]:
        settled = np.asarray(pc.equal(result, decisive).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        open_rows = np.flatnonzero(~settled)
        if len(open_rows) == 0:
            break
        value = _eval(arg, _subset(batch, open_rows), ctx)
        merged = combine(take(result, open_rows), value)
        done = np.flatnonzero(settled)
        result = reorder([take(result, done), merged], [done, open_rows], n)
    return result
