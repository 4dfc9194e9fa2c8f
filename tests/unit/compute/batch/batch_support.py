"""Test fixtures for the batch executors: an in-memory table reader, a recording DML sink, plan builders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from common.batch_plan import BatchNode, BatchScan, BatchValues
from common.catalog import ROW_ID_COLUMN, ColumnDesc, OrderType, TableDesc
from common.chunk import StreamChunk, column_names
from common.expr import Cast, Expr, FuncCall, InputRef, Literal
from common.functions import resolve
from common.types import BIGINT, DataType
from compute.batch import BatchContext, execute
from compute.expr import EvalContext


@dataclass
class MemoryReader:
    """Serves each table as a fixed list of batches and counts how many were pulled."""

    tables: dict[int, list[pa.RecordBatch]] = field(default_factory=dict)
    pulled: int = 0
    epochs: list[int] = field(default_factory=list)

    def add(self, desc: TableDesc, rows: Sequence[Sequence[object]], batch_rows: int = 3) -> None:
        self.tables[desc.table_id] = batches_of(rows, desc.types, batch_rows)

    async def scan(self, table: TableDesc, epoch: int) -> AsyncIterator[pa.RecordBatch]:
        self.epochs.append(epoch)
        for batch in self.tables[table.table_id]:
            self.pulled += 1
            yield batch


@dataclass
class RecordingSink:
    writes: list[tuple[int, StreamChunk]] = field(default_factory=list)

    async def write(self, table_id: int, chunk: StreamChunk) -> None:
        self.writes.append((table_id, chunk))


def batches_of(rows: Sequence[Sequence[object]], types: Sequence[DataType], batch_rows: int) -> list[pa.RecordBatch]:
    out = []
    for start in range(0, len(rows), batch_rows):
        part = rows[start:start + batch_rows]
        arrays = [pa.array([r[i] for r in part], t.arrow) for i, t in enumerate(types)]
        out.append(pa.RecordBatch.from_arrays(arrays, column_names(len(types))))
    return out


def table_desc(table_id: int, types: Sequence[DataType], row_id: bool = False) -> TableDesc:
    columns = [ColumnDesc(f"col{i}", t) for i, t in enumerate(types)]
    if row_id:
        columns.append(ColumnDesc(ROW_ID_COLUMN, BIGINT, hidden=True))
    pk = (len(columns) - 1,) if row_id else (0,)
    return TableDesc(table_id, tuple(columns), pk, (OrderType.ASC,), ())


def scan(desc: TableDesc) -> BatchScan:
    return BatchScan(desc, tuple(range(len(desc.columns))), desc.types)


def values(rows: Sequence[Sequence[object]], types: Sequence[DataType]) -> BatchValues:
    return BatchValues(tuple(tuple(Literal(v, t) for v, t in zip(r, types)) for r in rows), tuple(types))


def col(index: int, type_: DataType) -> InputRef:
    return InputRef(index, type_)


def lit(value: object, type_: DataType) -> Literal:
    return Literal(value, type_)


def fn(name: str, *args: Expr) -> FuncCall:
    """A call as the binder builds it: the overload PostgreSQL picks, arguments cast to its signature."""
    sig = resolve(name, [a.type for a in args])
    cast = tuple(a if a.type == t else Cast(a, t) for a, t in zip(args, sig.arg_types))
    return FuncCall(sig.func, cast, sig.return_type)


def make_ctx(reader: MemoryReader | None = None, dml: RecordingSink | None = None,
             cancelled: asyncio.Event | None = None, epoch: int = 1 << 16) -> BatchContext:
    flag = cancelled if cancelled is not None else asyncio.Event()
    return BatchContext(epoch, reader or MemoryReader(), dml, EvalContext(), flag)


async def collect(plan: BatchNode, ctx: BatchContext) -> pa.Table:
    """Run `plan` and check every batch it yields has the plan's schema."""
    batches = [b async for b in execute(plan, ctx)]
    schema = pa.schema([pa.field(n, t.arrow) for n, t in zip(column_names(len(plan.types)), plan.types)])
    for b in batches:
        assert b.schema.names == schema.names and b.schema.types == schema.types
        assert b.num_rows > 0
    return pa.Table.from_batches(batches, schema)


async def rows_of(plan: BatchNode, ctx: BatchContext) -> list[tuple[object, ...]]:
    table = await collect(plan, ctx)
    cols = [c.to_pylist() for c in table.columns]
    return list(zip(*cols)) if cols else []
