"""What a batch query runs against: the snapshot reader, the DML sink and cancellation.

A `BatchContext` is built once per statement by whoever executes the plan
(a compute node for a distributed query, the frontend in single-process
mode) and is shared, read-only, by every executor of the plan tree.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

from common.catalog import TableDesc
from common.chunk import StreamChunk
from common.errors import QueryCanceled
from compute.expr import EvalContext


class TableReader(Protocol):
    """Reads a table's committed rows; the production one reads the LSM state store."""

    def scan(self, table: TableDesc, epoch: int) -> AsyncIterator[pa.RecordBatch]:
        """Every row of `table` visible at `epoch`, columns `c0..cn` = `table.columns`."""
        ...


class DmlSink(Protocol):
    """Hands a statement's changes to the table's DML actor."""

    async def write(self, table_id: int, chunk: StreamChunk) -> None:
        """Apply `chunk` to table `table_id` as one transaction."""
        ...


@dataclass(frozen=True, slots=True)
class BatchContext:
    """Everything a batch plan needs besides the plan itself.

    `cancelled` is polled between batches: either a predicate or an event
    that the session sets when the client sends a CancelRequest.
    `work_tables` holds the rows each running recursive union's previous
    round added, by work table id; it is shared by every context derived
    from this one.
    """

    epoch: int
    reader: TableReader
    dml: DmlSink | None
    eval_ctx: EvalContext
    cancelled: Callable[[], bool] | asyncio.Event
    work_tables: dict[int, pa.RecordBatch] = field(default_factory=dict)

    def with_params(self, params: dict[int, object]) -> BatchContext:
        """The same context with correlation parameters bound (an apply running its subquery)."""
        return dataclasses.replace(self, eval_ctx=self.eval_ctx.with_params(params))

    def is_cancelled(self) -> bool:
        c = self.cancelled
        return c.is_set() if isinstance(c, asyncio.Event) else c()

    def check_cancelled(self) -> None:
        """Raise QueryCanceled if the statement was cancelled."""
        if self.is_cancelled():
            raise QueryCanceled("canceling statement due to user request")
