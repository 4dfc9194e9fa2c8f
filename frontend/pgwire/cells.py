"""Encoded result cells per column, and DataRow messages assembled from them with numpy.

Each column is encoded once, as a whole, into `ColumnCells`: a length per
row (-1 for NULL) and the non-NULL cells' bytes back to back. Assembling
the DataRow messages of a batch then scatters every column's length words
and bytes to their places in one output buffer: the work is a few array
operations per column, never a Python step per cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_DATA_ROW = ord("D")
_EMPTY_LENGTHS = np.zeros(0, np.int64)
_EMPTY_BYTES = np.zeros(0, np.uint8)


@dataclass(frozen=True, slots=True)
class ColumnCells:
    """One column's cells: `lengths[i]` is -1 for NULL or cell i's size; `payload` holds the cells in order."""

    lengths: np.ndarray
    payload: np.ndarray


def validity(arr: pa.Array) -> np.ndarray | None:
    """Which values are not NULL, or None when all of them are."""
    if arr.null_count == 0:
        return None
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def fixed_cells(values: np.ndarray, valid: np.ndarray | None) -> ColumnCells:
    """Cells of a fixed-width type from an array of already-encoded (big-endian or structured) values."""
    width = values.dtype.itemsize
    if valid is None:
        lengths = np.full(len(values), width, np.int64)
    else:
        values = values[valid]
        lengths = np.where(valid, width, -1).astype(np.int64)
    return ColumnCells(lengths, np.ascontiguousarray(values).view(np.uint8).reshape(-1))


def string_cells(arr: pa.Array) -> ColumnCells:
    """Cells of a string column: its UTF-8 bytes as they are, read straight from the Arrow buffers."""
    n = len(arr)
    if n == 0:
        return ColumnCells(_EMPTY_LENGTHS, _EMPTY_BYTES)
    valid = validity(arr)
    if valid is not None:
        # Arrow does not promise that NULL slots are empty; filling them makes them so.
        arr = pc.fill_null(arr, "")
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type, count=n + 1,
                            offset=arr.offset * np.dtype(offset_type).itemsize).astype(np.int64)
    data = _EMPTY_BYTES if buffers[2] is None else np.frombuffer(buffers[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    if valid is not None:
        lengths[~valid] = -1
    return ColumnCells(lengths, data[offsets[0]:offsets[-1]])


def _put_words(out: np.ndarray, starts: np.ndarray, words: np.ndarray) -> None:
    """Write big-endian words (one per start) at arbitrary byte offsets of `out`."""
    width = words.dtype.itemsize
    out[starts[:, None] + np.arange(width)] = words.view(np.uint8).reshape(-1, width)


def _scatter(out: np.ndarray, starts: np.ndarray, sizes: np.ndarray, payload: np.ndarray) -> None:
    """Copy consecutive segments of `payload` (of `sizes`) to `out[starts[i]:starts[i] + sizes[i]]`."""
    total = len(payload)
    if total == 0:
        return
    source_starts = np.cumsum(sizes) - sizes
    shift = np.repeat(starts - source_starts, sizes)
    out[np.arange(total, dtype=np.int64) + shift] = payload


def assemble_data_rows(columns: Sequence[ColumnCells], nrows: int) -> bytes:
    """The DataRow messages of `nrows` rows whose cells are `columns`."""
    if nrows == 0:
        return b""
    sizes = [np.maximum(c.lengths, 0) for c in columns]
    # A DataRow's length word counts itself, the column count and 4 + size per cell.
    body = np.full(nrows, 6, np.int64)
    for size in sizes:
        body += 4 + size
    starts = np.cumsum(body + 1) - (body + 1)
    out = np.empty(int(body.sum()) + nrows, np.uint8)
    out[starts] = _DATA_ROW
    _put_words(out, starts + 1, body.astype(">i4"))
    _put_words(out, starts + 5, np.full(nrows, len(columns), ">i2"))
    pos = starts + 7
    for cells, size in zip(columns, sizes):
        _put_words(out, pos, cells.lengths.astype(">i4"))
        _scatter(out, pos + 4, size, cells.payload)
        pos = pos + 4 + size
    return out.tobytes()


def concat_cells(parts: Sequence[ColumnCells], valid: np.ndarray | None) -> ColumnCells:
    """Cells whose bytes are, row by row, the bytes of each part's cell one after another.

    A NULL cell of a part contributes nothing; rows where `valid` is False
    come out NULL.
    """
    if not parts:
        raise ValueError("concat_cells needs at least one part")
    n = len(parts[0].lengths)
    sizes = [np.maximum(p.lengths, 0) for p in parts]
    total = np.zeros(n, np.int64)
    for size in sizes:
        total += size
    if valid is not None:
        total = np.where(valid, total, 0)
        sizes = [np.where(valid, s, 0) for s in sizes]
    out = np.empty(int(total.sum()), np.uint8)
    pos = np.cumsum(total) - total
    for part, size in zip(parts, sizes):
        payload = part.payload
        if valid is not None and not valid.all():
            keep = np.repeat(valid, np.maximum(part.lengths, 0))
            payload = payload[keep]
        _scatter(out, pos, size, payload)
        pos = pos + size
    lengths = total if valid is None else np.where(valid, total, -1)
    return ColumnCells(lengths.astype(np.int64), out)
