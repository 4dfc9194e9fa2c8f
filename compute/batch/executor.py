"""The batch executor registry: runs a batch plan tree and streams its result.

`execute(plan, ctx)` builds one async iterator of Arrow record batches per
plan node, children first, and wires them together. Every edge checks for
cancellation before passing a batch on and makes sure the batch has the
columns `c0..cn` typed as the node's `types` say, so each executor can rely
on its inputs' layout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pyarrow as pa

from common.batch_plan import (
    BatchApply,
    BatchArrow,
    BatchDml,
    BatchFilter,
    BatchHashAgg,
    BatchHashJoin,
    BatchLimit,
    BatchNode,
    BatchProject,
    BatchProjectSet,
    BatchRecursiveUnion,
    BatchScan,
    BatchSort,
    BatchTableFunction,
    BatchUnion,
    BatchValues,
    BatchWindow,
    BatchWorkTable,
)
from common.chunk import column_names
from common.errors import InternalError
from compute.batch.apply import execute_apply
from compute.batch.arrays import cast_array, closing
from compute.batch.arrow_ipc import execute_arrow
from compute.batch.context import BatchContext
from compute.batch.dml import execute_dml
from compute.batch.filter import execute_filter
from compute.batch.hash_agg import execute_hash_agg
from compute.batch.hash_join import execute_hash_join
from compute.batch.limit import execute_limit
from compute.batch.project import execute_project
from compute.batch.scan import execute_scan
from compute.batch.set_function import execute_project_set, execute_table_function
from compute.batch.sort import execute_sort
from compute.batch.union import execute_recursive_union, execute_union, execute_work_table
from compute.batch.values import execute_values
from compute.batch.window import execute_window

Stream = AsyncIterator[pa.RecordBatch]


def execute(plan: BatchNode, ctx: BatchContext) -> Stream:
    """Stream the rows `plan` produces over `ctx`'s snapshot, as batches with columns `c0..cn`."""
    build = _BUILDERS.get(type(plan))
    if build is None:
        raise InternalError(f"no batch executor for {type(plan).__name__}")
    return _edge(build(plan, ctx), plan, ctx)


def _unary(run: Callable[[Any, Stream, BatchContext], Stream]) -> Callable[[Any, BatchContext], Stream]:
    return lambda node, ctx: run(node, execute(node.input, ctx), ctx)


def _join(node: BatchHashJoin, ctx: BatchContext) -> Stream:
    return execute_hash_join(node, execute(node.left, ctx), execute(node.right, ctx), ctx)


_BUILDERS: dict[type, Callable[[Any, BatchContext], Stream]] = {
    BatchScan: execute_scan,
    BatchValues: execute_values,
    BatchArrow: execute_arrow,
    BatchProject: _unary(execute_project),
    BatchFilter: _unary(execute_filter),
    BatchHashAgg: _unary(execute_hash_agg),
    BatchHashJoin: _join,
    BatchSort: _unary(execute_sort),
    BatchLimit: _unary(execute_limit),
    BatchDml: _unary(execute_dml),
    BatchApply: _unary(execute_apply),
    BatchUnion: execute_union,
    BatchRecursiveUnion: execute_recursive_union,
    BatchWorkTable: execute_work_table,
    BatchTableFunction: execute_table_function,
    BatchProjectSet: _unary(execute_project_set),
    BatchWindow: _unary(execute_window),
}


async def _edge(stream: Stream, plan: BatchNode, ctx: BatchContext) -> Stream:
    """Pass `stream` on, checking for cancellation and conforming each batch to the node's schema."""
    ctx.check_cancelled()
    names = column_names(len(plan.types))
    arrow_types = [t.arrow for t in plan.types]
    async with closing(stream) as it:
        async for batch in it:
            ctx.check_cancelled()
            if batch.schema.names != names or batch.schema.types != arrow_types:
                if batch.num_columns != len(names):
                    raise InternalError(f"{type(plan).__name__} produced {batch.num_columns} columns, "
                                        f"expected {len(names)}")
                batch = pa.RecordBatch.from_arrays(
                    [cast_array(c, t) for c, t in zip(batch.columns, arrow_types)], names)
            yield batch
