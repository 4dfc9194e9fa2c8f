"""Building SSTs from sorted entry tables: cut into blocks and objects at key boundaries, add meta and footer.

Cuts are computed with numpy over estimated row sizes; Python steps once
per block, not per row. A key's versions always stay together, so a block
may exceed the target when one key has many versions.
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
    groups: list[list[_Block]] = []
    current: list[_Block] = []
    current_bytes = 0
    for table_id, table in runs:
        if table.num_rows == 0:
            continue
        if split_tables and current:
            groups.append(current)
            current, current_bytes = [], 0
        for block in _blocks(table_id, table.combine_chunks(), block_size):
            if current and current_bytes + block.nbytes > sst_target_bytes:
                groups.append(current)
                current, current_bytes = [], 0
            current.append(block)
            current_bytes += block.nbytes
    if current:
        groups.append(current)
    return [_encode_sst(g, compression) for g in groups]


def _encode_sst(blocks: list[_Block], compression: str | None) -> BuiltSst:
    parts: list[bytes] = []
    offset = 0
    schemas: dict[int, pa.Schema] = {}
    cols: dict[str, list] = {k: [] for k in ("table_ids", "first", "last", "offsets", "lengths", "crcs", "rows")}
    hashes: list[np.ndarray] = []
    min_epoch, max_epoch, entries = None, None, 0
    for b in blocks:
        batch = b.table.combine_chunks().to_batches()[0]
        data = encode_block(batch, compression)
        prefix = table_prefix(b.table_id)
        keys = batch.column(0)
        schemas.setdefault(b.table_id, batch.schema)
        cols["table_ids"].append(b.table_id)
        cols["first"].append(prefix + keys[0].as_py())
        cols["last"].append(prefix + keys[len(keys) - 1].as_py())
        cols["offsets"].append(offset)
        cols["lengths"].append(len(data))
        cols["crcs"].append(zlib.crc32(data))
        cols["rows"].append(batch.num_rows)
        hashes.append(key_hashes(b.table_id, keys.filter(pa.array(first_of_key(b.table)))))
        mm = pc.min_max(batch.column(EPOCH)).as_py()
        min_epoch = mm["min"] if min_epoch is None else min(min_epoch, mm["min"])
        max_epoch = mm["max"] if max_epoch is None else max(max_epoch, mm["max"])
        entries += batch.num_rows
        parts.append(data)
        offset += len(data)
    assert min_epoch is not None and max_epoch is not None
    bloom = BloomFilter.build(np.concatenate(hashes))
    index = index_table(cols["table_ids"], cols["first"], cols["last"], cols["offsets"], cols["lengths"],
                        cols["crcs"], cols["rows"])
    smallest, largest = cols["first"][0], cols["last"][-1]
    meta = encode_meta(schemas=schemas, index=index, bloom=bloom, smallest_key=smallest, largest_key=largest,
                       min_epoch=min_epoch, max_epoch=max_epoch, entry_count=entries)
    parts.append(meta)
    parts.append(encode_footer(offset, meta))
    return BuiltSst(b"".join(parts), tuple(sorted(schemas)), smallest, largest, min_epoch, max_epoch, entries)
