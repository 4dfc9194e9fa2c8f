"""Joins: INNER, LEFT, RIGHT, FULL and CROSS, on equal keys plus a residual condition.

Materializes both inputs, then finds every (left row, right row) pair with
equal, non-NULL keys (every pair for a join without keys) by sorting the
right side's group codes, so no Python runs per row. Pairs are processed in
slices: the `condition` is evaluated over each slice of joined rows, and the
surviving pairs are emitted and marked matched. An outer join then emits
each row of its preserved side that no surviving pair used, padded with
NULLs, even if it had key matches that failed the condition. Output is
`output_indices` over the left columns then the right columns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np
import pyarrow as pa

from common.batch_plan import BatchHashJoin, JoinType
from common.expr import Expr, input_refs
from compute.batch.arrays import BATCH_ROWS, materialize, offload, output_batch
from compute.batch.context import BatchContext
from compute.batch.keys import group_codes
from compute.expr import EvalContext, evaluate_predicate


def join_pairs(left: Sequence[pa.Array], right: Sequence[pa.Array], n_left: int,
               n_right: int) -> tuple[np.ndarray, np.ndarray]:
    """Row index pairs whose keys are all equal and non-NULL, in left row order then right row order.

    With no key columns every pair matches (a cross product).
    """
    if not left:
        return (np.repeat(np.arange(n_left, dtype=np.int64), n_right),
                np.tile(np.arange(n_right, dtype=np.int64), n_left))
    columns = [pa.concat_arrays([lk.cast(t), rk.cast(t)])
               for lk, rk in zip(left, right) for t in [_common_type(lk.type, rk.type)]]
    groups = group_codes(columns, n_left + n_right)
    codes, has_null = groups.codes, groups.has_null
    right_rows = np.flatnonzero(~has_null[n_left:])
    right_codes = codes[n_left:][right_rows]
    by_code = right_rows[np.argsort(right_codes, kind="stable")]
    per_code = np.bincount(right_codes, minlength=groups.num_groups)
    code_start = np.cumsum(per_code) - per_code
    left_rows = np.flatnonzero(~has_null[:n_left])
    left_codes = codes[:n_left][left_rows]
    counts = per_code[left_codes]
    total = int(counts.sum())
    left_idx = np.repeat(left_rows, counts)
    run_start = np.repeat(np.cumsum(counts) - counts, counts)
    right_idx = by_code[np.repeat(code_start[left_codes], counts) + np.arange(total) - run_start]
    return left_idx, right_idx


def _common_type(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The type both sides' keys are compared in (the planner normally makes them equal)."""
    if a == b:
        return a
    if pa.types.is_integer(a) and pa.types.is_integer(b):
        return pa.int64()
    if pa.types.is_floating(a) or pa.types.is_floating(b):
        return pa.float64()
    if pa.types.is_decimal(a) or pa.types.is_decimal(b):
        return pa.decimal128(38, max(getattr(a, "scale", 0), getattr(b, "scale", 0)))
    return a


class _Joiner:
    """Builds joined batches of the two materialized sides, reading only the columns needed."""

    def __init__(self, node: BatchHashJoin, left: pa.RecordBatch, right: pa.RecordBatch) -> None:
        self.node = node
        self.left = left
        self.right = right
        self.width_left = left.num_columns
        needed = set(node.output_indices)
        if node.condition is not None:
            needed |= input_refs(node.condition)
        self.needed = needed

    def joined(self, left_idx: np.ndarray | None, right_idx: np.ndarray | None, n: int) -> pa.RecordBatch:
        """Full-width rows for index pairs; a None side is all NULL (outer-join padding)."""
        takes = [None if idx is None else pa.array(idx, pa.int64()) for idx in (left_idx, right_idx)]
        columns = []
        for i in range(self.width_left + self.right.num_columns):
            side, take, j = ((self.left, takes[0], i) if i < self.width_left
                             else (self.right, takes[1], i - self.width_left))
            col = side.column(j)
            if i not in self.needed or take is None:
                columns.append(pa.nulls(n, col.type))
            else:
                columns.append(col.take(take))
        return output_batch(columns, n)

    def output(self, joined: pa.RecordBatch) -> pa.RecordBatch:
        return output_batch([joined.column(i) for i in self.node.output_indices], joined.num_rows)


def _matches(condition: Expr | None, joined: pa.RecordBatch, eval_ctx: EvalContext) -> np.ndarray:
    if condition is None:
        return np.ones(joined.num_rows, bool)
    mask = evaluate_predicate(condition, joined, eval_ctx)
    return mask.to_numpy(zero_copy_only=False).astype(bool)


async def execute_hash_join(node: BatchHashJoin, left_input: AsyncIterator[pa.RecordBatch],
                            right_input: AsyncIterator[pa.RecordBatch],
                            ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    left = await materialize(left_input, node.left.types)
    right = await materialize(right_input, node.right.types)
    left_keys = [left.column(i) for i in node.left_keys]
    right_keys = [right.column(i) for i in node.right_keys]
    left_idx, right_idx = await offload(left.num_rows + right.num_rows, join_pairs,
                                        left_keys, right_keys, left.num_rows, right.num_rows)
    joiner = _Joiner(node, left, right)
    left_matched = np.zeros(left.num_rows, bool)
    right_matched = np.zeros(right.num_rows, bool)
    for start in range(0, len(left_idx), BATCH_ROWS):
        li, ri = left_idx[start:start + BATCH_ROWS], right_idx[start:start + BATCH_ROWS]
        joined = joiner.joined(li, ri, len(li))
        keep = _matches(node.condition, joined, ctx.eval_ctx)
        left_matched[li[keep]] = True
        right_matched[ri[keep]] = True
        if keep.any():
            yield joiner.output(joined.filter(pa.array(keep)))
    if node.join_type in (JoinType.LEFT, JoinType.FULL):
        unmatched = np.flatnonzero(~left_matched)
        for start in range(0, len(unmatched), BATCH_ROWS):
            rows = unmatched[start:start + BATCH_ROWS]
            yield joiner.output(joiner.joined(rows, None, len(rows)))
    if node.join_type in (JoinType.RIGHT, JoinType.FULL):
        unmatched = np.flatnonzero(~right_matched)
        for start in range(0, len(unmatched), BATCH_ROWS):
            rows = unmatched[start:start + BATCH_ROWS]
            yield joiner.output(joiner.joined(None, rows, len(rows)))
