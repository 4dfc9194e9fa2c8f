"""The SST format: Arrow record batches as data blocks, a meta section and a fixed footer.

    [block 0][block 1]...[block n-1][meta][footer]

Each block holds the entries of one table, sorted by key ascending then
epoch descending, as one Arrow IPC record-batch message with columns
`_key` (table key), `_epoch` (uint64), `_tomb` (bool) and the table's
value columns `c0..cn` (NULL in a tombstone). A key's versions never
straddle two blocks (nor two SSTs), so a point lookup reads one block.
The meta holds each table's entry schema (once), the block index (table
id, first and last user key, offset, length, crc32, row count) as an
Arrow IPC stream, the bloom filter, the key and epoch bounds and the
entry count. The footer says where the meta is. A reader fetches the
footer, then the meta, then single blocks by ranged GETs.
"""

from __future__ import annotations

import bisect
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from storage.bloom import BloomFilter
from storage.errors import DataCorrupted

MAGIC = 0x45444459  # "EDDY"
FORMAT_VERSION = 1
FOOTER = struct.Struct(">QIIII")  # meta offset, meta length, meta crc32, format version, magic
FOOTER_SIZE = FOOTER.size
_META_HEAD = struct.Struct(">IQQQ")  # format version, min epoch, max epoch, entry count
_U32 = struct.Struct(">I")

KEY, EPOCH, TOMB = "_key", "_epoch", "_tomb"

_INDEX_SCHEMA = pa.schema([
    ("table_id", pa.uint32()),
    ("first_key", pa.binary()),
    ("last_key", pa.binary()),
    ("offset", pa.uint64()),
    ("length", pa.uint32()),
    ("crc", pa.uint32()),
    ("rows", pa.uint32()),
])


def entry_schema(value_schema: pa.Schema) -> pa.Schema:
    """The schema of a block: the three entry columns, then the table's value columns."""
    return pa.schema([pa.field(KEY, pa.binary()), pa.field(EPOCH, pa.uint64()), pa.field(TOMB, pa.bool_()),
                      *value_schema])


def value_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(list(schema)[3:])


@dataclass(frozen=True, slots=True)
class SstMeta:
    """The parsed meta of one SST; block positions are parallel tuples."""

    schemas: dict[int, pa.Schema]  # table id -> entry schema
    block_tables: tuple[int, ...]
    first_keys: tuple[bytes, ...]  # user keys
    last_keys: tuple[bytes, ...]
    offsets: tuple[int, ...]
    lengths: tuple[int, ...]
    crcs: tuple[int, ...]
    rows: tuple[int, ...]
    bloom: BloomFilter
    smallest_key: bytes
    largest_key: bytes
    min_epoch: int
    max_epoch: int
    entry_count: int
    encoded_size: int

    @property
    def block_count(self) -> int:
        return len(self.offsets)

    def block_for_key(self, user_key: bytes) -> int | None:
        """The one block that may hold `user_key`, if any."""
        i = bisect.bisect_right(self.first_keys, user_key) - 1
        if i < 0 or self.last_keys[i] < user_key:
            return None
        return i

    def blocks_in_range(self, start: bytes, end: bytes | None) -> range:
        """Blocks overlapping the user-key range [start, end)."""
        lo = bisect.bisect_left(self.last_keys, start)
        hi = len(self.first_keys) if end is None else bisect.bisect_left(self.first_keys, end)
        return range(lo, max(lo, hi))


class Block:
    """A decoded block; the Python key and epoch lists for point lookups are built on first use."""

    __slots__ = ("_epochs", "_keys", "batch", "nbytes")

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch
        self.nbytes = batch.nbytes
        self._keys: list[bytes] | None = None
        self._epochs: list[int] | None = None

    def find(self, key: bytes, epoch: int) -> tuple[bool, tuple[Any, ...] | None]:
        """The newest version of `key` at or below `epoch`: (found, row or None for a tombstone)."""
        if self._keys is None:
            self._keys = self.batch.column(0).to_pylist()
            self._epochs = self.batch.column(1).to_pylist()
        keys, epochs = self._keys, self._epochs
        assert epochs is not None
        i = bisect.bisect_left(keys, key)
        while i < len(keys) and keys[i] == key:
            if epochs[i] <= epoch:
                return True, self.row(i)
            i += 1
        return False, None

    def row(self, i: int) -> tuple[Any, ...] | None:
        b = self.batch
        if b.column(2)[i].as_py():
            return None
        return tuple(b.column(j)[i].as_py() for j in range(3, b.num_columns))


def encode_block(batch: pa.RecordBatch, compression: str | None) -> bytes:
    if compression is None:
        return batch.serialize().to_pybytes()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=pa.ipc.IpcWriteOptions(compression=compression)) as w:
        w.write_batch(batch)
    reader = pa.ipc.MessageReader.open_stream(sink.getvalue())
    reader.read_next_message()  # the schema, which the meta stores once per table
    return reader.read_next_message().serialize().to_pybytes()


def decode_block(data: bytes, meta: SstMeta, index: int, object_key: str) -> Block:
    if zlib.crc32(data) != meta.crcs[index] or len(data) != meta.lengths[index]:
        raise DataCorrupted(object_key, f"checksum mismatch in block {index}")
    try:
        msg = pa.ipc.read_message(pa.py_buffer(data))
        batch = pa.ipc.read_record_batch(msg, meta.schemas[meta.block_tables[index]])
    except (pa.ArrowException, KeyError) as e:
        raise DataCorrupted(object_key, f"block {index} does not decode: {e}") from e
    return Block(batch)


# -- meta and footer ---------------------------------------------------------


def _put_bytes(out: list[bytes], b: bytes) -> None:
    out.append(_U32.pack(len(b)))
    out.append(b)


def encode_meta(*, schemas: dict[int, pa.Schema], index: pa.Table, bloom: BloomFilter, smallest_key: bytes,
                largest_key: bytes, min_epoch: int, max_epoch: int, entry_count: int) -> bytes:
    out = [_META_HEAD.pack(FORMAT_VERSION, min_epoch, max_epoch, entry_count)]
    _put_bytes(out, smallest_key)
    _put_bytes(out, largest_key)
    out.append(_U32.pack(len(schemas)))
    for table_id in sorted(schemas):
        out.append(_U32.pack(table_id))
        _put_bytes(out, schemas[table_id].serialize().to_pybytes())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, _INDEX_SCHEMA) as w:
        w.write_table(index.cast(_INDEX_SCHEMA))
    _put_bytes(out, sink.getvalue().to_pybytes())
    _put_bytes(out, bloom.to_bytes())
    out.append(_U32.pack(MAGIC))
    return b"".join(out)


def index_table(table_ids: list[int], first_keys: list[bytes], last_keys: list[bytes], offsets: list[int],
                lengths: list[int], crcs: list[int], rows: list[int]) -> pa.Table:
    return pa.Table.from_arrays(
        [pa.array(table_ids, pa.uint32()), pa.array(first_keys, pa.binary()), pa.array(last_keys, pa.binary()),
         pa.array(offsets, pa.uint64()), pa.array(lengths, pa.uint32()), pa.array(crcs, pa.uint32()),
         pa.array(rows, pa.uint32())], schema=_INDEX_SCHEMA)


def encode_footer(meta_offset: int, meta: bytes) -> bytes:
    return FOOTER.pack(meta_offset, len(meta), zlib.crc32(meta), FORMAT_VERSION, MAGIC)


def decode_footer(data: bytes, object_key: str) -> tuple[int, int, int]:
    """(meta offset, meta length, meta crc32) from the last FOOTER_SIZE bytes of an SST."""
    if len(data) != FOOTER_SIZE:
        raise DataCorrupted(object_key, "truncated footer")
    offset, length, crc, version, magic = FOOTER.unpack(data)
    if magic != MAGIC:
        raise DataCorrupted(object_key, "bad footer magic")
    if version != FORMAT_VERSION:
        raise DataCorrupted(object_key, f"unknown sst format version {version}")
    return offset, length, crc


def decode_meta(data: bytes, crc: int, object_key: str) -> SstMeta:
    if zlib.crc32(data) != crc:
        raise DataCorrupted(object_key, "checksum mismatch in sst meta")
    try:
        return _parse_meta(memoryview(data))
    except (struct.error, pa.ArrowException, ValueError, IndexError) as e:
        raise DataCorrupted(object_key, f"sst meta does not parse: {e}") from e


def _parse_meta(data: memoryview) -> SstMeta:
    pos = 0

    def take_bytes() -> bytes:
        nonlocal pos
        (n,) = _U32.unpack_from(data, pos)
        b = bytes(data[pos + 4: pos + 4 + n])
        if len(b) != n:
            raise ValueError("section runs past the end")
        pos += 4 + n
        return b

    version, min_epoch, max_epoch, entry_count = _META_HEAD.unpack_from(data, 0)
    if version != FORMAT_VERSION:
        raise ValueError(f"unknown sst format version {version}")
    pos = _META_HEAD.size
    smallest, largest = take_bytes(), take_bytes()
    (n_tables,) = _U32.unpack_from(data, pos)
    pos += 4
    schemas: dict[int, pa.Schema] = {}
    for _ in range(n_tables):
        (table_id,) = _U32.unpack_from(data, pos)
        pos += 4
        schemas[table_id] = pa.ipc.read_schema(pa.py_buffer(take_bytes()))
    index = pa.ipc.open_stream(pa.py_buffer(take_bytes())).read_all()
    bloom = BloomFilter.from_bytes(take_bytes())
    (magic,) = _U32.unpack_from(data, pos)
    if magic != MAGIC:
        raise ValueError("bad meta magic")
    cols = [tuple(index.column(i).to_pylist()) for i in range(index.num_columns)]
    return SstMeta(schemas, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], bloom, smallest, largest,
                   min_epoch, max_epoch, entry_count, len(data))


def decode_sst(data: bytes, object_key: str) -> tuple[SstMeta, list[Block]]:
    """Parse a whole SST object (compaction reads SSTs whole); every checksum is verified."""
    offset, length, crc = decode_footer(data[-FOOTER_SIZE:], object_key)
    if offset + length + FOOTER_SIZE != len(data):
        raise DataCorrupted(object_key, "meta section out of bounds")
    meta = decode_meta(data[offset: offset + length], crc, object_key)
    view = memoryview(data)
    blocks = [decode_block(bytes(view[o: o + n]), meta, i, object_key)
              for i, (o, n) in enumerate(zip(meta.offsets, meta.lengths))]
    return meta, blocks


def block_table_key_bounds(meta: SstMeta, index: int) -> tuple[bytes, bytes]:
    """A block's first and last table key (its user keys without the table prefix)."""
    return meta.first_keys[index][4:], meta.last_keys[index][4:]
