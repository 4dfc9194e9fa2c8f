"""Building SSTs from sorted entry tables: cut into blocks and objects at key boundaries, add meta and footer.

Cuts are computed with numpy over estimated row sizes; Python steps once
per block, not per row. A key's versions always stay together, so a block
may exceed the target when one key has many versions. Blocks are encoded
as soon as they are cut, so a writer holds at most one SST's bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.memcomparable import table_prefix
from storage.bloom import BloomFilter, key_hashes
from storage.iterator import first_of_key
from storage.sst import EPOCH, encode_block, encode_footer, encode_meta, index_table


@dataclass(frozen=True, slots=True)
class BuiltSst:
    """An SST's bytes and the facts the version records about it (the object id comes at upload)."""

    data: bytes
    table_ids: tuple[int, ...]
    smallest_key: bytes
    largest_key: bytes
    min_epoch: int
    max_epoch: int
    entry_count: int


@dataclass(slots=True)
class _Block:
    table_id: int
    table: pa.Table  # entries of one table, sorted
    nbytes: int


def row_sizes(table: pa.Table) -> np.ndarray:
    """Approximate encoded bytes of each row, for placing block and SST cuts."""
    n = table.num_rows
    sizes = np.zeros(n, dtype=np.int64)
    for col in table.columns:
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        t = arr.type
        if pa.types.is_binary(t) or pa.types.is_string(t):
            sizes += pc.binary_length(arr).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64) + 4
        elif pa.types.is_boolean(t):
            sizes += 1
        else:
            sizes += max(1, t.bit_width // 8)
    return sizes


def _cut_points(sizes: np.ndarray, starts: np.ndarray, target: int) -> list[int]:
    """Cut positions (row indexes, last one = n) so each piece is about `target` bytes.

    `starts` are the rows where a new key begins; cuts fall only there.
    """
    n = len(sizes)
    cum = np.cumsum(sizes)
    allowed = np.append(starts, n)
    cuts: list[int] = []
    pos, base = 0, 0
    while pos < n:
        idx = int(np.searchsorted(cum, base + target, side="left")) + 1  # first row past the target
        cut = int(allowed[np.searchsorted(allowed, min(max(idx, pos + 1), n))])
        cuts.append(cut)
        base = int(cum[cut - 1])
        pos = cut
    return cuts


def _blocks(table_id: int, table: pa.Table, block_size: int) -> list[_Block]:
    sizes = row_sizes(table)
    starts = np.flatnonzero(first_of_key(table))
    out, pos = [], 0
    for cut in _cut_points(sizes, starts, block_size):
        out.append(_Block(table_id, table.slice(pos, cut - pos), int(sizes[pos:cut].sum())))
        pos = cut
    return out


def build_ssts(runs: Sequence[tuple[int, pa.Table]], *, block_size: int = 64 << 10,
               sst_target_bytes: int = 64 << 20, split_tables: bool = False,
               compression: str | None = None) -> list[BuiltSst]:
    """Encode sorted runs, one per table in ascending table id, into SSTs.

    Each run must be sorted by key ascending, epoch descending. A new SST
    starts when the current one reaches `sst_target_bytes`, and at every
    table when `split_tables` (compaction output keeps tables apart).
    """
    writer = SstWriter(block_size=block_size, sst_target_bytes=sst_target_bytes, split_tables=split_tables,
                       compression=compression)
    out: list[BuiltSst] = []
    for table_id, table in runs:
        out += writer.add(table_id, table)
    return out + writer.finish()


@dataclass(frozen=True, slots=True)
class _EncodedBlock:
    table_id: int
    schema: pa.Schema
    data: bytes
    first_key: bytes  # user keys (table prefix included)
    last_key: bytes
    rows: int
    key_hashes: np.ndarray
    min_epoch: int
    max_epoch: int
    nbytes: int  # the estimate SST cuts are placed by


class SstWriter:
    """Builds SSTs from sorted entry tables fed a piece at a time, keeping at most one SST's encoded blocks.

    `add` takes the next piece of a table's entries (table ids ascending, keys
    ascending across pieces, a key's versions never split over two pieces) and
    returns the SSTs it completed; `finish` returns the rest. Block cuts do not
    depend on how the entries were divided into pieces: the tail of each piece
    that does not fill a block waits for the next piece.
    """

    def __init__(self, *, block_size: int = 64 << 10, sst_target_bytes: int = 64 << 20, split_tables: bool = False,
                 compression: str | None = None) -> None:
        self._block_size = block_size
        self._target = sst_target_bytes
        self._split_tables = split_tables
        self._compression = compression
        self._blocks: list[_EncodedBlock] = []
        self._bytes = 0
        self._tail: _Block | None = None  # the last block cut, which the next piece of its table may extend

    def add(self, table_id: int, table: pa.Table) -> list[BuiltSst]:
        if table.num_rows == 0:
            return []
        out: list[BuiltSst] = []
        if self._tail is not None and self._tail.table_id == table_id:
            table = pa.concat_tables([self._tail.table, table])
            self._tail = None
        else:
            out += self._flush_tail()
            if self._split_tables and self._blocks:
                out.append(self._seal())
        blocks = _blocks(table_id, table.combine_chunks(), self._block_size)
        for b in blocks[:-1]:
            out += self._append(b)
        self._tail = blocks[-1]
        return out

    def finish(self) -> list[BuiltSst]:
        out = self._flush_tail()
        if self._blocks:
            out.append(self._seal())
        return out

    def _flush_tail(self) -> list[BuiltSst]:
        """The last block cut so far, which no further entries of its table will join."""
        tail, self._tail = self._tail, None
        return [] if tail is None else self._append(tail)

    def _append(self, block: _Block) -> list[BuiltSst]:
        out = []
        if self._blocks and self._bytes + block.nbytes > self._target:
            out.append(self._seal())
        self._blocks.append(_encode_block(block, self._compression))
        self._bytes += block.nbytes
        return out

    def _seal(self) -> BuiltSst:
        built = _encode_sst(self._blocks)
        self._blocks, self._bytes = [], 0
        return built


def _encode_block(b: _Block, compression: str | None) -> _EncodedBlock:
    batch = b.table.combine_chunks().to_batches()[0]
    prefix = table_prefix(b.table_id)
    keys = batch.column(0)
    mm = pc.min_max(batch.column(EPOCH)).as_py()
    return _EncodedBlock(
        b.table_id, batch.schema, encode_block(batch, compression), prefix + keys[0].as_py(),
        prefix + keys[len(keys) - 1].as_py(), batch.num_rows,
        key_hashes(b.table_id, keys.filter(pa.array(first_of_key(b.table)))), mm["min"], mm["max"], b.nbytes)


def _encode_sst(blocks: list[_EncodedBlock]) -> BuiltSst:
    offsets, pos = [], 0
    schemas: dict[int, pa.Schema] = {}
    for b in blocks:
        schemas.setdefault(b.table_id, b.schema)
        offsets.append(pos)
        pos += len(b.data)
    min_epoch, max_epoch = min(b.min_epoch for b in blocks), max(b.max_epoch for b in blocks)
    entries = sum(b.rows for b in blocks)
    bloom = BloomFilter.build(np.concatenate([b.key_hashes for b in blocks]))
    index = index_table([b.table_id for b in blocks], [b.first_key for b in blocks], [b.last_key for b in blocks],
                        offsets, [len(b.data) for b in blocks], [zlib.crc32(b.data) for b in blocks],
                        [b.rows for b in blocks])
    smallest, largest = blocks[0].first_key, blocks[-1].last_key
    meta = encode_meta(schemas=schemas, index=index, bloom=bloom, smallest_key=smallest, largest_key=largest,
                       min_epoch=min_epoch, max_epoch=max_epoch, entry_count=entries)
    data = b"".join([*(b.data for b in blocks), meta, encode_footer(pos, meta)])
    return BuiltSst(data, tuple(sorted(schemas)), smallest, largest, min_epoch, max_epoch, entries)
