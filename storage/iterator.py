"""Vectorized merging of entry tables: the read path's and compaction's one way to combine sources.

An entry table has the columns `_key`, `_epoch`, `_tomb`, `c0..cn` (see
`storage.sst`). Sources (shared-buffer batches, SST blocks) are
concatenated, sorted by key ascending and epoch descending with Arrow's
sort, and reduced by comparing each row with its neighbour, never by
stepping through rows in Python.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storage.sst import EPOCH, KEY, TOMB

_SORT_KEYS = [(KEY, "ascending"), (EPOCH, "descending")]


def concat_entries(pieces: Sequence[pa.Table | pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    tables = []
    for p in pieces:
        t = pa.Table.from_batches([p]) if isinstance(p, pa.RecordBatch) else p
        if not t.schema.equals(schema):
            t = t.cast(schema)
        tables.append(t)
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables).combine_chunks()


def sort_entries(table: pa.Table) -> pa.Table:
    """Key ascending, then epoch descending (newest version first). The sort is stable."""
    if table.num_rows <= 1:
        return table
    return table.take(pc.sort_indices(table, sort_keys=_SORT_KEYS))


def _key_array(table: pa.Table) -> pa.Array:
    col = table.column(KEY)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def first_of_key(table: pa.Table) -> np.ndarray:
    """True for each row whose key differs from the previous row's, in a sorted table."""
    n = table.num_rows
    mask = np.ones(n, dtype=bool)
    if n > 1:
        keys = _key_array(table)
        mask[1:] = pc.not_equal(keys.slice(1), keys.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    return mask


def _numpy(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return col.to_numpy() if isinstance(col, pa.ChunkedArray) else col.to_numpy(zero_copy_only=False)


def merge_visible(pieces: Sequence[pa.Table | pa.RecordBatch], schema: pa.Schema, read_epoch: int) -> pa.Table:
    """The live rows at `read_epoch`: per key the newest version at or below it, tombstones dropped.

    Returns an entry table sorted by key.
    """
    table = concat_entries(pieces, schema)
    if table.num_rows == 0:
        return table
    epochs = _numpy(table.column(EPOCH))
    if epochs.max() > read_epoch:
        table = table.filter(pa.array(epochs <= read_epoch))
    table = sort_entries(table)
    keep = first_of_key(table) & ~_numpy(table.column(TOMB)).astype(bool)
    return table if keep.all() else table.filter(pa.array(keep))


def merge_for_compaction(pieces: Sequence[pa.Table | pa.RecordBatch], schema: pa.Schema, watermark: int,
                         drop_tombstones: bool) -> pa.Table:
    """Keep every version newer than `watermark` plus, per key, the newest one at or below it.

    Readers never read below the watermark, so older versions are invisible.
    With `drop_tombstones` (the output goes to the bottom level, where nothing
    older lies beneath), a tombstone at or below the watermark hides nothing
    and goes too.
    """
    table = sort_entries(concat_entries(pieces, schema))
    n = table.num_rows
    if n == 0:
        return table
    epochs = _numpy(table.column(EPOCH))
    above = epochs > watermark
    first = first_of_key(table)
    # Within a key epochs descend, so the newest version at or below the
    # watermark is the first row at or below it: its predecessor is another
    # key or lies above the watermark.
    prev_above = np.zeros(n, dtype=bool)
    prev_above[1:] = above[:-1]
    newest_below = ~above & (first | prev_above)
    keep = above | newest_below
    if drop_tombstones:
        keep &= ~(newest_below & _numpy(table.column(TOMB)).astype(bool))
    return table if keep.all() else table.filter(pa.array(keep))


def key_range_mask(keys: pa.Array | pa.ChunkedArray, start: bytes, end: bytes | None) -> pa.Array:
    mask = pc.greater_equal(keys, pa.scalar(start, pa.binary()))
    if end is not None:
        mask = pc.and_(mask, pc.less(keys, pa.scalar(end, pa.binary())))
    return mask


def rows_of(table: pa.Table) -> list[tuple[Any, ...]]:
    """The value columns (after the three entry columns) as Python tuples."""
    cols = [table.column(i).to_pylist() for i in range(3, table.num_columns)]
    if not cols:
        return [() for _ in range(table.num_rows)]
    return list(zip(*cols))


# -- windowed merge: bounded memory over sorted sources ----------------------

PieceSource = AsyncIterator[pa.Table]


def _first_key(t: pa.Table) -> bytes:
    return t.column(0)[0].as_py()  # type: ignore[no-any-return]


def _last_key(t: pa.Table) -> bytes:
    return t.column(0)[t.num_rows - 1].as_py()  # type: ignore[no-any-return]


async def windows(sources: Sequence[PieceSource], *, reverse: bool = False) -> AsyncIterator[list[pa.Table]]:
    """Cut sorted sources into windows: each yield is the pieces of every source for one key range.

    Each source yields non-empty entry tables, each sorted, in key order
    (descending order of pieces when `reverse`), and never spreads one key
    over two pieces. A window ends at the smallest last key among the
    pieces held (largest first key when reversed): everything up to it is
    complete in every source, so a key's versions all fall in one window,
    and at least one held piece is used up, so memory stays at about one
    piece per source. Windows come in key order (descending if `reverse`).
    """
    held: list[pa.Table | None] = [None] * len(sources)
    done = [False] * len(sources)
    while True:
        need = [i for i, t in enumerate(held) if t is None and not done[i]]
        if need:
            got = await asyncio.gather(*(anext(sources[i], None) for i in need))
            for i, piece in zip(need, got):
                if piece is None:
                    done[i] = True
                else:
                    held[i] = piece
        live = [t for t in held if t is not None]
        if not live:
            return
        bound = max(_first_key(t) for t in live) if reverse else min(_last_key(t) for t in live)
        scalar = pa.scalar(bound, pa.binary())
        taken: list[pa.Table] = []
        for i, t in enumerate(held):
            if t is None:
                continue
            if reverse:
                n = pc.sum(pc.greater_equal(t.column(0), scalar)).as_py() or 0
                take, rest = t.slice(t.num_rows - n), t.slice(0, t.num_rows - n)
            else:
                n = pc.sum(pc.less_equal(t.column(0), scalar)).as_py() or 0
                take, rest = t.slice(0, n), t.slice(n)
            if take.num_rows:
                taken.append(take)
            held[i] = rest if rest.num_rows else None
        yield taken


async def merge_windows(sources: Sequence[PieceSource], schema: pa.Schema, read_epoch: int, *,
                        reverse: bool = False) -> AsyncIterator[pa.Table]:
    """Merge sorted sources a window at a time (see `windows`), yielding live rows in key order.

    Rows come in descending key order when `reverse`.
    """
    async for taken in windows(sources, reverse=reverse):
        merged = merge_visible(taken, schema, read_epoch)
        if merged.num_rows:
            yield merged.take(pa.array(np.arange(merged.num_rows - 1, -1, -1))) if reverse else merged
