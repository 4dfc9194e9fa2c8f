"""The COPY sub-protocol: CopyIn/CopyOut responses, CopyData framing, and reading a client's copy stream.

COPY TO sends one CopyData message per row (psycopg and libpq parse them a
row at a time), framed for a whole array of rows at once with numpy. COPY
FROM hands the payloads of the client's CopyData messages on as they come;
Flush and Sync are ignored until CopyDone, as PostgreSQL ignores them, and
any other message ends the copy with an error.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import ProtocolViolation, QueryCanceled
from frontend.pgwire.backend import message
from frontend.pgwire.framing import Limits, MessageBuffer, read_message

COPY_DATA = ord("d")
COPY_DONE_TYPE = ord("c")
COPY_FAIL = ord("f")
_IGNORED_IN_COPY = frozenset(b"HS")

COPY_DONE = message(b"c")


def _copy_response(msg_type: bytes, columns: int, binary: bool) -> bytes:
    fmt = 1 if binary else 0
    return message(msg_type, struct.pack(f">bh{columns}h", fmt, columns, *([fmt] * columns)))


def copy_in_response(columns: int, binary: bool = False) -> bytes:
    return _copy_response(b"G", columns, binary)


def copy_out_response(columns: int, binary: bool = False) -> bytes:
    return _copy_response(b"H", columns, binary)


def copy_data(payload: bytes) -> bytes:
    return message(b"d", payload)


def copy_data_messages(rows: pa.Array) -> bytes:
    """One CopyData message per element of a string or binary array (no NULLs), back to back.

    Each row gets its 5-byte header prepended by one Arrow kernel; the data
    buffer of the result is then the messages, in order.
    """
    n = len(rows)
    if n == 0:
        return b""
    rows = rows.cast(pa.large_binary())
    lengths = np.asarray(pc.binary_length(rows).to_numpy(zero_copy_only=False), np.int64)
    header = np.empty((n, 5), np.uint8)
    header[:, 0] = COPY_DATA
    header[:, 1:] = (lengths + 4).astype(">i4").view(np.uint8).reshape(n, 4)
    headers = pa.FixedSizeBinaryArray.from_buffers(pa.binary(5), n, [None, pa.py_buffer(header)])
    joined = pc.binary_join_element_wise(headers.cast(pa.large_binary()), rows, pa.scalar(b"", pa.large_binary()))
    offsets = np.frombuffer(joined.buffers()[1], np.int64, count=n + 1, offset=joined.offset * 8)
    return joined.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]


async def client_copy_data(reader: asyncio.StreamReader, limits: Limits) -> AsyncIterator[bytes]:
    """The payloads of CopyData messages up to CopyDone; CopyFail raises QueryCanceled."""
    while True:
        msg_type, body = await read_message(reader, limits)
        if msg_type == COPY_DATA:
            if body:
                yield body
        elif msg_type == COPY_DONE_TYPE:
            return
        elif msg_type == COPY_FAIL:
            buf = MessageBuffer(body)
            reason = buf.cstring()
            raise QueryCanceled(f"COPY from stdin failed: {reason}")
        elif msg_type not in _IGNORED_IN_COPY:
            raise ProtocolViolation(f"unexpected message type 0x{msg_type:02X} during COPY from stdin")
