"""Apply: a subquery's value (scalar, EXISTS, IN or ARRAY) for every row of the outer query.

Materializes its input. An uncorrelated subquery runs once and its value
applies to every row. A correlated one runs once per distinct binding of
its parameters among the rows that need it (those where the guard holds),
with the parameters bound in the evaluation context; each run's value is
scattered to the rows of that binding with one array operation. Output is
the input columns plus the subquery's column.

Errors are PostgreSQL's: a scalar subquery returning two rows fails with
21000 when a row uses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.batch_plan import ApplyKind, BatchApply
from common.errors import CardinalityViolation
from common.types import DataType
from compute.batch.arrays import materialize, output_batch, slices
from compute.batch.context import BatchContext
from compute.batch.keys import group_codes, normalize
from compute.expr import evaluate, evaluate_predicate


async def execute_apply(node: BatchApply, input: AsyncIterator[pa.RecordBatch],
                        ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    from compute.batch.executor import execute

    batch = await materialize(input, node.input.types)
    n = batch.num_rows
    out_type = node.types[-1]
    rows = np.arange(n)
    if node.guard is not None and n:
        rows = np.flatnonzero(np.asarray(evaluate_predicate(node.guard, batch, ctx.eval_ctx)
                                         .to_numpy(zero_copy_only=False), bool))
    test = evaluate(node.test, batch, ctx.eval_ctx) if node.test is not None else None
    pieces: list[pa.Array] = []
    order: list[np.ndarray] = []
    for binding, members in _bindings(node, batch, rows, ctx):
        sub_ctx = ctx.with_params(binding) if binding else ctx
        result = await materialize(execute(node.subquery, sub_ctx), node.subquery.types)
        column = result.column(0) if result.num_columns else pa.nulls(result.num_rows)
        pieces.append(_value(node.kind, column, out_type, members, test))
        order.append(members)
    missing = np.setdiff1d(np.arange(n), np.concatenate(order) if order else np.zeros(0, np.int64))
    if len(missing):
        pieces.append(pa.nulls(len(missing), out_type.arrow))
        order.append(missing)
    value = _reorder(pieces, order, n, out_type)
    for part in slices(output_batch([*batch.columns, value], n)):
        yield part


def _bindings(node: BatchApply, batch: pa.RecordBatch, rows: np.ndarray,
              ctx: BatchContext) -> list[tuple[dict[int, object], np.ndarray]]:
    """(parameter values, the rows having them) for each distinct binding among `rows`."""
    if not len(rows):
        return []
    if not node.params:
        return [({}, rows)]
    subset = batch.take(pa.array(rows, pa.int64()))
    columns = [evaluate(e, subset, ctx.eval_ctx) for _, e in node.params]
    groups = group_codes(columns, len(rows))
    order = np.argsort(groups.codes, kind="stable")
    bounds = np.searchsorted(groups.codes[order], np.arange(groups.num_groups + 1))
    out = []
    for g, first in enumerate(groups.first):
        binding = {pid: col[int(first)].as_py() for (pid, _), col in zip(node.params, columns)}
        out.append((binding, rows[order[bounds[g]:bounds[g + 1]]]))
    return out


def _value(kind: ApplyKind, column: pa.Array, out_type: DataType, members: np.ndarray,
           test: pa.Array | None) -> pa.Array:
    """The apply's column for the rows `members`, from one run's result `column`."""
    m = len(members)
    if kind is ApplyKind.EXISTS:
        return pa.repeat(pa.scalar(len(column) > 0), m)
    if kind is ApplyKind.SCALAR:
        if len(column) > 1:
            raise CardinalityViolation("more than one row returned by a subquery used as an expression")
        value = column[0] if len(column) else pa.scalar(None, column.type)
        return pa.repeat(value.cast(out_type.arrow), m)
    if kind is ApplyKind.ARRAY:
        values = column.cast(out_type.item.arrow)
        offsets = pa.array(np.arange(m + 1, dtype=np.int64) * len(values), pa.int32())
        return pa.ListArray.from_arrays(offsets, pa.concat_arrays([values] * m) if m else values.slice(0, 0))
    assert test is not None
    return _in(test.take(pa.array(members, pa.int64())), column)


def _in(probe: pa.Array, values: pa.Array) -> pa.Array:
    """`probe IN (values)` with SQL's NULLs: NULL when not found and either side holds a NULL."""
    if not len(values):
        return pa.repeat(pa.scalar(False), len(probe))
    present = values.drop_null()
    found = pc.is_in(normalize(probe), value_set=normalize(present.cast(probe.type)))
    unknown = pc.or_(probe.is_null(), pa.scalar(values.null_count > 0))
    return pc.if_else(pc.and_(pc.invert(found), unknown), pa.scalar(None, pa.bool_()), found)


def _reorder(pieces: list[pa.Array], order: list[np.ndarray], n: int, out_type: DataType) -> pa.Array:
    if not pieces:
        return pa.array([], out_type.arrow)
    merged = pa.concat_arrays([p.cast(out_type.arrow) for p in pieces])
    positions = np.concatenate(order)
    inverse = np.empty(n, np.int64)
    inverse[positions] = np.arange(n)
    return merged.take(pa.array(inverse))
