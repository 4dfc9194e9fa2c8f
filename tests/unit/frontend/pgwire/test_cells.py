"""DataRow assembly from column cells, against a straightforward per-row reference."""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from frontend.pgwire.cells import ColumnCells, assemble_data_rows, fixed_cells, string_cells


def reference(columns: list[list[bytes | None]], nrows: int) -> bytes:
    out = b""
    for r in range(nrows):
        body = struct.pack(">h", len(columns))
        for col in columns:
            cell = col[r]
            body += struct.pack(">i", -1) if cell is None else struct.pack(">i", len(cell)) + cell
        out += b"D" + struct.pack(">i", len(body) + 4) + body
    return out


def to_cells(col: list[bytes | None]) -> ColumnCells:
    lengths = np.array([-1 if c is None else len(c) for c in col], dtype=np.int64)
    payload = np.frombuffer(b"".join(c for c in col if c is not None), dtype=np.uint8)
    return ColumnCells(lengths, payload)


@given(st.integers(0, 12).flatmap(lambda n: st.lists(
    st.lists(st.none() | st.binary(max_size=12), min_size=n, max_size=n), max_size=6).map(lambda cols: (n, cols))))
def test_assembly_equals_reference(case: tuple[int, list[list[bytes | None]]]) -> None:
    nrows, columns = case
    assert assemble_data_rows([to_cells(c) for c in columns], nrows) == reference(columns, nrows)


def test_rows_without_columns() -> None:
    assert assemble_data_rows([], 2) == reference([], 2) == b"D\0\0\0\x06\0\0" * 2


def test_fixed_cells_drop_null_values() -> None:
    cells = fixed_cells(np.array([1, 2, 3], dtype=">i2"), np.array([True, False, True]))
    assert cells.lengths.tolist() == [2, -1, 2]
    assert cells.payload.tobytes() == b"\0\1\0\3"


@given(st.lists(st.none() | st.text(max_size=8), max_size=20), st.integers(0, 5), st.booleans())
def test_string_cells_of_sliced_and_large_arrays(values: list[str | None], start: int, large: bool) -> None:
    arr = pa.array(values, pa.large_string() if large else pa.string()).slice(min(start, len(values)))
    expected = [None if v is None else v.encode() for v in values[min(start, len(values)):]]
    assert assemble_data_rows([string_cells(arr)], len(arr)) == reference([expected], len(arr))


def test_string_cells_ignore_bytes_behind_nulls() -> None:
    # Arrow allows a NULL slot to span bytes; they must not leak into the output.
    arr = pa.StringArray.from_buffers(2, pa.py_buffer(np.array([0, 3, 5], np.int32).tobytes()),
                                      pa.py_buffer(b"abcde"), pa.py_buffer(bytes([0b10])))
    assert assemble_data_rows([string_cells(arr)], 2) == reference([[None, b"de"]], 2)
