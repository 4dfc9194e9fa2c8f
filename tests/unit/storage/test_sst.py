"""SST format: round trips, block cuts at key boundaries, checksums, ranged reads for point lookups."""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.memcomparable import table_prefix
from storage.errors import DataCorrupted
from storage.object_store.memory import MemoryObjectStore
from storage.sst import FOOTER_SIZE, decode_sst
from storage.sst_builder import SstWriter, build_ssts
from storage.sstable_store import SstableStore
from storage.version import SstInfo, sst_object_key
from tests.unit.storage.storage_helpers import ENTRY_SCHEMA, CountingStore, entries


def _items(n: int, versions: int = 1) -> list[tuple[bytes, int, tuple[int, str] | None]]:
    out: list[tuple[bytes, int, tuple[int, str] | None]] = []
    for i in range(n):
        for v in range(versions):
            row = None if (i + v) % 7 == 0 else (i * 10 + v, f"value-{i}-{v}")
            out.append((b"key-%06d" % i, 100 + v, row))
    return out


def _info(object_id: int, built_data: bytes, b: object) -> SstInfo:
    return SstInfo(object_id, sst_object_key(object_id), len(built_data), b.table_ids,  # type: ignore[attr-defined]
                   b.smallest_key, b.largest_key, b.min_epoch, b.max_epoch, b.entry_count)  # type: ignore[attr-defined]


def test_round_trip_many_blocks_two_tables() -> None:
    t1, t2 = entries(_items(500, 3)), entries(_items(40))
    [built] = build_ssts([(1, t1), (2, t2)], block_size=2048)
    meta, blocks = decode_sst(built.data, "sst/x")
    assert meta.block_count == len(blocks) > 10
    assert built.table_ids == (1, 2)
    assert meta.entry_count == built.entry_count == 1540
    assert (meta.min_epoch, meta.max_epoch) == (100, 102)
    assert meta.smallest_key == table_prefix(1) + b"key-000000"
    assert meta.largest_key == table_prefix(2) + b"key-000039"
    per_table: dict[int, list[pa.RecordBatch]] = {1: [], 2: []}
    for table_id, block in zip(meta.block_tables, blocks):
        per_table[table_id].append(block.batch)
    assert pa.Table.from_batches(per_table[1]).equals(t1)
    assert pa.Table.from_batches(per_table[2]).equals(t2)


def test_block_and_sst_cuts_never_split_a_key() -> None:
    t = entries(_items(300, 5))
    ssts = build_ssts([(1, t)], block_size=512, sst_target_bytes=8192)
    assert len(ssts) > 2
    previous_last = b""
    for built in ssts:
        meta, blocks = decode_sst(built.data, "sst/x")
        for i, block in enumerate(blocks):
            keys = block.batch.column(0).to_pylist()
            assert keys[0] > previous_last[4:] or not previous_last  # no key continues from the last block
            assert table_prefix(1) + keys[0] == meta.first_keys[i]
            assert table_prefix(1) + keys[-1] == meta.last_keys[i]
            previous_last = meta.last_keys[i]


def test_compaction_output_splits_tables() -> None:
    ssts = build_ssts([(1, entries(_items(10))), (2, entries(_items(10)))], split_tables=True)
    assert [s.table_ids for s in ssts] == [(1,), (2,)]


@pytest.mark.parametrize("compression", [None, "zstd", "lz4"])
def test_compression_round_trips(compression: str | None) -> None:
    t = entries(_items(200))
    [built] = build_ssts([(5, t)], block_size=1024, compression=compression)
    _, blocks = decode_sst(built.data, "sst/x")
    assert pa.Table.from_batches([b.batch for b in blocks]).equals(t)


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.binary(max_size=12), st.one_of(st.none(), st.tuples(st.integers(-2**63, 2**63 - 1),
                                                                              st.text(max_size=20))),
                       min_size=1, max_size=200),
       st.integers(64, 4096))
def test_round_trip_any_keys(rows: dict[bytes, tuple[int, str] | None], block_size: int) -> None:
    t = entries([(k, 7, v) for k, v in rows.items()])
    [built] = build_ssts([(9, t)], block_size=block_size)
    meta, blocks = decode_sst(built.data, "sst/any")
    assert pa.Table.from_batches([b.batch for b in blocks], schema=ENTRY_SCHEMA).equals(t)
    for key, row in rows.items():
        i = meta.block_for_key(table_prefix(9) + key)
        assert i is not None
        assert blocks[i].find(key, 7) == (True, row)
        assert blocks[i].find(key, 6) == (False, None)


@pytest.mark.parametrize("where", ["block", "meta", "footer"])
async def test_corruption_is_detected_and_names_the_object(where: str) -> None:
    [built] = build_ssts([(1, entries(_items(200)))], block_size=1024)
    data = bytearray(built.data)
    meta, _ = decode_sst(built.data, "x")
    pos = {"block": meta.offsets[1] + 5, "meta": len(data) - FOOTER_SIZE - 10, "footer": len(data) - 2}[where]
    data[pos] ^= 0xFF
    key = sst_object_key(42)
    with pytest.raises(DataCorrupted, match=key) as err:
        decode_sst(bytes(data), key)
    assert err.value.sqlstate == "XX001"
    # The ranged read path checks the same sums.
    store = MemoryObjectStore()
    await store.put(key, bytes(data))
    reader = SstableStore(store)
    info = _info(42, built.data, built)
    with pytest.raises(DataCorrupted, match=key):
        m = await reader.meta(info)
        for i in range(m.block_count):
            await reader.block(info, m, i)


async def test_point_lookup_reads_ranges_only() -> None:
    [built] = build_ssts([(1, entries(_items(5000)))], block_size=4096)
    store = CountingStore(MemoryObjectStore())
    info = _info(1, built.data, built)
    await store.put(info.object_key, built.data)
    reader = SstableStore(store)
    meta = await reader.meta(info)
    ukey = table_prefix(1) + b"key-002500"
    i = meta.block_for_key(ukey)
    assert i is not None
    block = await reader.block(info, meta, i)
    assert block.find(b"key-002500", 200) == (True, (25000, "value-2500-0"))
    assert store.gets == []
    assert len(store.ranges) == 3  # footer, meta, one block
    assert store.bytes_read < len(built.data) / 4
    store.reset()
    again = await reader.block(info, await reader.meta(info), i)  # both cached now
    assert again is block and store.ranges == []


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(3, 120), min_size=1, max_size=6), st.sampled_from([256, 1024, 4096]),
       st.sampled_from([2048, 16384, 1 << 20]), st.booleans())
def test_writer_fed_in_pieces_builds_the_same_ssts(piece_rows: list[int], block_size: int, target: int,
                                                   split: bool) -> None:
    """Block and SST cuts do not depend on how a table's entries arrive: piece by piece equals all at once."""
    t1, t2 = entries(_items(300, 2)), entries(_items(50))
    whole = build_ssts([(1, t1), (2, t2)], block_size=block_size, sst_target_bytes=target, split_tables=split)
    writer = SstWriter(block_size=block_size, sst_target_bytes=target, split_tables=split)
    pieced: list = []
    for table_id, t in ((1, t1), (2, t2)):
        keys, pos, sizes = t.column(0).to_pylist(), 0, itertools.cycle(piece_rows)
        while pos < t.num_rows:
            end = min(pos + next(sizes), t.num_rows)
            while end < t.num_rows and keys[end] == keys[end - 1]:
                end += 1  # a key's versions stay in one piece
            pieced += writer.add(table_id, t.slice(pos, end - pos))
            pos = end
    pieced += writer.finish()
    assert len(pieced) == len(whole)
    for a, b in zip(pieced, whole):
        assert (a.table_ids, a.smallest_key, a.largest_key, a.min_epoch, a.max_epoch, a.entry_count) == \
            (b.table_ids, b.smallest_key, b.largest_key, b.min_epoch, b.max_epoch, b.entry_count)
        (meta_a, blocks_a), (meta_b, blocks_b) = decode_sst(a.data, "a"), decode_sst(b.data, "b")
        assert (meta_a.first_keys, meta_a.last_keys, meta_a.rows) == (meta_b.first_keys, meta_b.last_keys, meta_b.rows)
        assert meta_a.bloom.to_bytes() == meta_b.bloom.to_bytes()
        assert all(x.batch.equals(y.batch) for x, y in zip(blocks_a, blocks_b))
