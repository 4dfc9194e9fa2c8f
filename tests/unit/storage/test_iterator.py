"""Vectorized merges agree with a per-key Python model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.iterator import merge_for_compaction, merge_visible, merge_windows, rows_of
from tests.unit.storage.storage_helpers import ENTRY_SCHEMA, entries

Item = tuple[bytes, int, tuple[int, str] | None]

items_st = st.lists(
    st.tuples(st.sampled_from([b"a", b"b", b"b\x00", b"c", b"d", b"e\xff"]), st.integers(1, 12),
              st.one_of(st.none(), st.tuples(st.integers(0, 99), st.sampled_from(["x", "y"])))),
    max_size=60, unique_by=lambda t: (t[0], t[1]))


def visible_model(items: list[Item], epoch: int) -> dict[bytes, tuple[int, str]]:
    out: dict[bytes, tuple[int, str]] = {}
    newest: dict[bytes, int] = {}
    for k, e, r in items:
        if e <= epoch and e > newest.get(k, -1):
            newest[k] = e
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
    return out


@settings(max_examples=200, deadline=None)
@given(items_st, st.integers(0, 13), st.integers(1, 4))
def test_merge_visible_matches_model(items: list[Item], epoch: int, parts: int) -> None:
    pieces = [entries(items[i::parts]) for i in range(parts)]
    merged = merge_visible(pieces, ENTRY_SCHEMA, epoch)
    assert dict(zip(merged.column(0).to_pylist(), rows_of(merged))) == visible_model(items, epoch)
    assert merged.column(0).to_pylist() == sorted(visible_model(items, epoch))


@settings(max_examples=200, deadline=None)
@given(items_st, st.integers(0, 13), st.booleans())
def test_compaction_keeps_what_readers_above_the_watermark_see(items: list[Item], watermark: int,
                                                               bottom: bool) -> None:
    merged = merge_for_compaction([entries(items)], ENTRY_SCHEMA, watermark, bottom)
    kept = list(zip(merged.column(0).to_pylist(), merged.column(1).to_pylist(), merged.column(2).to_pylist()))
    for epoch in range(watermark, 14):
        out = merge_visible([merged], ENTRY_SCHEMA, epoch)
        assert dict(zip(out.column(0).to_pylist(), rows_of(out))) == visible_model(items, epoch)
    for k in {k for k, _, _ in items}:
        below = [e for kk, e, _ in kept if kk == k and e <= watermark]
        assert len(below) <= 1  # at most one version at or below the watermark survives
        if bottom:
            assert not any(kk == k and e <= watermark and tomb for kk, e, tomb in kept)


async def _pieces(table: pa.Table, size: int, reverse: bool) -> AsyncIterator[pa.Table]:
    """Split a sorted entry table into pieces that never divide one key."""
    keys = table.column(0).to_pylist()
    cuts, start = [], 0
    while start < len(keys):
        end = min(start + size, len(keys))
        while end < len(keys) and keys[end] == keys[end - 1]:
            end += 1
        cuts.append((start, end))
        start = end
    for s, e in reversed(cuts) if reverse else cuts:
        await asyncio.sleep(0)
        yield table.slice(s, e - s)


@settings(max_examples=100, deadline=None)
@given(st.lists(items_st, min_size=1, max_size=4), st.integers(0, 13), st.integers(1, 5), st.booleans())
def test_windowed_merge_matches_model(sources: list[list[Item]], epoch: int, size: int, reverse: bool) -> None:
    async def run() -> list[tuple[bytes, tuple[int, str]]]:
        srcs = [_pieces(entries(s), size, reverse) for s in sources]
        out = []
        async for window in merge_windows(srcs, ENTRY_SCHEMA, epoch, reverse=reverse):
            out += list(zip(window.column(0).to_pylist(), rows_of(window)))
        return out

    # A key may lie in several sources (L0 SSTs, levels, shared buffer), but one
    # (key, epoch) version only in one.
    seen: set[tuple[bytes, int]] = set()
    unique: list[list[Item]] = []
    for s in sources:
        unique.append([it for it in s if (it[0], it[1]) not in seen])
        seen |= {(it[0], it[1]) for it in s}
    sources = unique
    allitems = [it for s in sources for it in s]
    expected = sorted(visible_model(allitems, epoch).items(), reverse=reverse)
    assert asyncio.run(run()) == expected
