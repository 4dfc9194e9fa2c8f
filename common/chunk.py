"""Stream chunks: an Arrow record batch of rows plus an `ops` column.

A chunk is the unit of data on every stream. `ops[i]` says whether row `i`
is inserted, deleted, or is one half of an update. An UPDATE_DELETE is
always immediately followed by its UPDATE_INSERT in the same chunk; code
that separates the two halves (a dispatcher sending them to different
actors, a join reordering rows) turns them into plain DELETE and INSERT.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.types import DataType, TypeName


class Op(enum.IntEnum):
    INSERT = 1
    DELETE = 2
    UPDATE_DELETE = 3
    UPDATE_INSERT = 4


OPS_TYPE = pa.int8()
_PRETTY_OPS = {"+": Op.INSERT, "-": Op.DELETE, "U-": Op.UPDATE_DELETE, "U+": Op.UPDATE_INSERT}
_OP_PRETTY = {v: k for k, v in _PRETTY_OPS.items()}
# sign of each op code: inserts count +1, deletes -1 (index 0 unused)
_SIGN_TABLE = np.array([0, 1, -1, -1, 1], dtype=np.int64)


def column_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def arrow_schema(types: Sequence[DataType]) -> pa.Schema:
    return pa.schema([pa.field(f"c{i}", t.arrow) for i, t in enumerate(types)])


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """Rows with their ops. `data`'s columns are positional (`c0`, `c1`, ...)."""

    ops: pa.Array
    data: pa.RecordBatch

    # -- construction -------------------------------------------------

    @staticmethod
    def from_arrays(ops: pa.Array | np.ndarray | Sequence[int], arrays: Sequence[pa.Array]) -> StreamChunk:
        if not isinstance(ops, pa.Array):
            ops = pa.array(np.asarray(ops, dtype=np.int8), OPS_TYPE)
        return StreamChunk(ops, pa.RecordBatch.from_arrays(list(arrays), column_names(len(arrays))))

    @staticmethod
    def inserts(batch: pa.RecordBatch) -> StreamChunk:
        """A chunk that inserts every row of `batch`."""
        ops = pa.array(np.full(batch.num_rows, Op.INSERT, dtype=np.int8), OPS_TYPE)
        return StreamChunk.from_arrays(ops, batch.columns)

    @staticmethod
    def from_rows(rows: Sequence[Sequence[object]], types: Sequence[DataType],
                  ops: Sequence[Op] | None = None) -> StreamChunk:
        """Build from Python rows (values as `common.types` describes)."""
        cols = list(zip(*rows)) if rows else [() for _ in types]
        arrays = [pa.array(list(col), t.arrow) for col, t in zip(cols, types)]
        if ops is None:
            ops = [Op.INSERT] * len(rows)
        return StreamChunk.from_arrays([int(o) for o in ops], arrays)

    @staticmethod
    def empty(types: Sequence[DataType]) -> StreamChunk:
        return StreamChunk.from_rows([], types)

    @staticmethod
    def concat(chunks: Sequence[StreamChunk]) -> StreamChunk:
        if len(chunks) == 1:
            return chunks[0]
        ops = pa.concat_arrays([c.ops for c in chunks])
        first = chunks[0].data
        columns = [pa.concat_arrays([c.data.column(i) for c in chunks]) for i in range(first.num_columns)]
        return StreamChunk(ops, pa.RecordBatch.from_arrays(columns, schema=first.schema))

    # -- access -------------------------------------------------------

    @property
    def num_rows(self) -> int:
        return self.data.num_rows

    @property
    def num_columns(self) -> int:
        return self.data.num_columns

    def column(self, i: int) -> pa.Array:
        return self.data.column(i)

    @property
    def columns(self) -> list[pa.Array]:
        return list(self.data.columns)

    def ops_numpy(self) -> np.ndarray:
        return self.ops.to_numpy(zero_copy_only=False).astype(np.int8, copy=False)

    def signs(self) -> np.ndarray:
        """+1 for INSERT/UPDATE_INSERT, -1 for DELETE/UPDATE_DELETE, as int64."""
        return _SIGN_TABLE[self.ops_numpy()]

    def rows(self) -> list[tuple[object, ...]]:
        cols = [c.to_pylist() for c in self.data.columns]
        return list(zip(*cols)) if cols else [() for _ in range(self.num_rows)]

    def op_list(self) -> list[Op]:
        return [Op(o) for o in self.ops_numpy().tolist()]

    # -- transformation -----------------------------------------------

    def filter(self, mask: pa.Array | np.ndarray) -> StreamChunk:
        """Keep rows where mask is true. Callers keep update pairs intact or call `fix_update_pairs`."""
        if isinstance(mask, np.ndarray):
            mask = pa.array(mask, pa.bool_())
        return StreamChunk(pc.filter(self.ops, mask), self.data.filter(mask))

    def take(self, indices: pa.Array | np.ndarray) -> StreamChunk:
        if isinstance(indices, np.ndarray):
            indices = pa.array(indices, pa.int64())
        return StreamChunk(pc.take(self.ops, indices), self.data.take(indices))

    def project(self, indices: Sequence[int]) -> StreamChunk:
        return StreamChunk.from_arrays(self.ops, [self.data.column(i) for i in indices])

    def with_columns(self, arrays: Sequence[pa.Array]) -> StreamChunk:
        return StreamChunk.from_arrays(self.ops, arrays)

    def with_ops(self, ops: np.ndarray) -> StreamChunk:
        return StreamChunk(pa.array(ops.astype(np.int8), OPS_TYPE), self.data)

    def slice(self, offset: int, length: int) -> StreamChunk:
        return StreamChunk(self.ops.slice(offset, length), self.data.slice(offset, length))

    def split(self, max_rows: int) -> list[StreamChunk]:
        """Cut into chunks of at most `max_rows`, never between the halves of an update."""
        n = self.num_rows
        if n <= max_rows:
            return [self]
        ops = self.ops_numpy()
        out, start = [], 0
        while start < n:
            end = min(start + max_rows, n)
            if end < n and ops[end - 1] == Op.UPDATE_DELETE:
                end += 1
            out.append(self.slice(start, end - start))
            start = end
        return out

    def fix_update_pairs(self) -> StreamChunk:
        """Turn update halves whose partner is missing into plain DELETE/INSERT."""
        ops = self.ops_numpy()
        fixed = normalize_update_pairs(ops)
        return self if fixed is ops else self.with_ops(fixed)

    # -- test helpers ---------------------------------------------------

    @staticmethod
    def from_pretty(text: str, types: Sequence[DataType]) -> StreamChunk:
        """Parse lines like `+ 1 a`, `U- 1 a`; `.` is NULL. For tests."""
        ops: list[Op] = []
        rows: list[list[object]] = []
        for line in text.strip().splitlines():
            parts = line.split()
            if not parts:
                continue
            ops.append(_PRETTY_OPS[parts[0]])
            rows.append([_parse_pretty(v, t) for v, t in zip(parts[1:], types)])
        return StreamChunk.from_rows(rows, types, ops)

    def to_pretty(self) -> str:
        lines = []
        for op, row in zip(self.op_list(), self.rows()):
            vals = " ".join("." if v is None else str(v) for v in row)
            lines.append(f"{_OP_PRETTY[op]} {vals}".rstrip())
        return "\n".join(lines)


def normalize_update_pairs(ops: np.ndarray) -> np.ndarray:
    """Return ops where every UPDATE_DELETE is directly followed by an UPDATE_INSERT.

    Broken halves become DELETE / INSERT. Returns the same array when nothing changes.
    """
    ud = ops == Op.UPDATE_DELETE
    ui = ops == Op.UPDATE_INSERT
    if not ud.any() and not ui.any():
        return ops
    paired_ud = ud.copy()
    paired_ud[:-1] &= ui[1:]
    if len(ops):
        paired_ud[-1] = False
    paired_ui = np.zeros_like(ui)
    paired_ui[1:] = paired_ud[:-1]
    if np.array_equal(paired_ud, ud) and np.array_equal(paired_ui, ui):
        return ops
    out = ops.copy()
    out[ud & ~paired_ud] = Op.DELETE
    out[ui & ~paired_ui] = Op.INSERT
    return out


def _parse_pretty(v: str, t: DataType) -> object:
    if v == ".":
        return None
    if t.is_integer:
        return int(v)
    if t.is_float:
        return float(v)
    if t.name is TypeName.BOOLEAN:
        return v in ("t", "true")
    if t.name is TypeName.NUMERIC:
        from decimal import Decimal

        return Decimal(v)
    if t.name is TypeName.VARCHAR:
        return v
    return pa.array([v]).cast(t.arrow).to_pylist()[0]


def record_batch(arrays: Iterable[pa.Array]) -> pa.RecordBatch:
    arrays = list(arrays)
    return pa.RecordBatch.from_arrays(arrays, column_names(len(arrays)))
