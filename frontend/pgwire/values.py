"""Values in the client's chosen formats: result batches to DataRows, Bind parameters to Python values.

Format code 0 is text, written and read by `common.pgtext` with the
session's settings; format code 1 is binary (binary.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from common.errors import InternalError, InvalidBinaryRepresentation, InvalidParameterValue
from common.pgtext import FormatOptions, format_array, parse_text
from common.types import DataType
from frontend.pgwire.backend import BINARY_FORMAT, TEXT_FORMAT
from frontend.pgwire.binary import decode_binary, encode_binary_column
from frontend.pgwire.cells import ColumnCells, assemble_data_rows, string_cells
from frontend.pgwire.framing import decode_text

FORMAT_CODES = (TEXT_FORMAT, BINARY_FORMAT)


def check_format_codes(codes: Sequence[int]) -> None:
    for code in codes:
        if code not in FORMAT_CODES:
            raise InvalidParameterValue(f"unsupported format code: {code}")


def _column_cells(arr: pa.Array, t: DataType, fmt: int, opts: FormatOptions) -> ColumnCells:
    if fmt == BINARY_FORMAT:
        return encode_binary_column(arr, t)
    text = format_array(arr, t, opts)
    if text.null_count != arr.null_count:
        # NULL must stay NULL (length -1) whatever the formatter did with it.
        text = pc.if_else(arr.is_null(), pa.scalar(None, text.type), text)
    return string_cells(text)


def encode_rows(batch: pa.RecordBatch, types: Sequence[DataType], formats: Sequence[int],
                opts: FormatOptions) -> bytes:
    """The DataRow messages of `batch`, column i of type `types[i]` in format `formats[i]`."""
    if batch.num_columns != len(types):
        raise InternalError("internal error",
                            detail=f"result has {batch.num_columns} columns but {len(types)} were described")
    cells = [_column_cells(batch.column(i), t, f, opts) for i, (t, f) in enumerate(zip(types, formats))]
    return assemble_data_rows(cells, batch.num_rows)


def decode_param(index: int, data: bytes | None, fmt: int, t: DataType, opts: FormatOptions) -> object:
    """The Python value of Bind parameter `index` (0-based), or None for NULL."""
    if data is None:
        return None
    if fmt == TEXT_FORMAT:
        return parse_text(decode_text(data), t, opts)
    try:
        return decode_binary(data, t)
    except InvalidBinaryRepresentation as e:
        raise InvalidBinaryRepresentation(f"incorrect binary data format in bind parameter {index + 1}",
                                          detail=e.message) from None
