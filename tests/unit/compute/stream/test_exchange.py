"""Exchange: hash dispatch by vnode, and barrier alignment in merge."""

from __future__ import annotations

import asyncio

import numpy as np

from common.chunk import Op, StreamChunk
from common.message import Barrier, Watermark
from common.types import BIGINT, VARCHAR
from common.vnode import VNODE_COUNT, compute_vnodes
from compute.stream.channel import Channel
from compute.stream.dispatch import split_by_vnode
from compute.stream.merge import MergeExecutor
from tests.helpers.stream import barrier

T = (BIGINT, VARCHAR)


def test_rows_go_to_the_owner_of_their_vnode_and_split_updates_become_delete_insert() -> None:
    chunk = StreamChunk.from_pretty("+ 1 a\n+ 2 b\n+ 3 c\nU- 4 d\nU+ 5 d\n+ 6 e", T)
    owner = np.arange(VNODE_COUNT) % 3
    parts = split_by_vnode(chunk, (0,), owner, 3)
    vnodes = compute_vnodes([chunk.column(0)], chunk.num_rows)
    seen = 0
    for i, part in enumerate(parts):
        if part is None:
            continue
        seen += part.num_rows
        assert all(owner[v] == i for v in compute_vnodes([part.column(0)], part.num_rows))
    assert seen == chunk.num_rows
    if owner[vnodes[3]] != owner[vnodes[4]]:
        ops = {r[0]: op for p in parts if p is not None for op, r in zip(p.op_list(), p.rows())}
        assert ops[4] == Op.DELETE and ops[5] == Op.INSERT


async def test_merge_holds_a_channel_after_its_barrier_until_all_channels_have_it() -> None:
    a, b = Channel(1, 9), Channel(2, 9)
    merge = MergeExecutor(T, [a, b], 9, 5)
    out: list = []  # type: ignore[type-arg]

    async def consume() -> None:
        async for m in merge.execute():
            out.append(m)
            if isinstance(m, Barrier) and m == barrier(2):
                return

    task = asyncio.create_task(consume())
    await a.send(barrier(1))
    await b.send(barrier(1))
    await a.send(StreamChunk.from_pretty("+ 1 a", T))
    await a.send(barrier(2))
    await a.send(StreamChunk.from_pretty("+ 2 after", T))  # belongs to the next epoch
    await b.send(StreamChunk.from_pretty("+ 3 b", T))
    await b.send(barrier(2))
    await asyncio.wait_for(task, 5)
    assert out[0] == barrier(1) and out[-1] == barrier(2)
    # "+ 2 after" is not read before the barrier (the chunks between may arrive coalesced)
    rows = sorted(r for m in out[1:-1] for r in m.to_pretty().splitlines())
    assert rows == ["+ 1 a", "+ 3 b"]


async def test_merge_coalesces_waiting_chunks_and_keeps_watermarks_in_order() -> None:
    a, b = Channel(1, 9), Channel(2, 9)
    merge = MergeExecutor(T, [a, b], 9, 5)
    for i in range(3):
        await a.send(StreamChunk.from_pretty(f"+ {i} a", T))
        await b.send(StreamChunk.from_pretty(f"+ {10 + i} b", T))
    await a.send(Watermark(0, BIGINT, 3))
    await a.send(StreamChunk.from_pretty("+ 4 a", T))
    await a.send(barrier(1))
    await b.send(barrier(1))
    out: list = []  # type: ignore[type-arg]
    async for m in merge.execute():
        out.append(m)
        if isinstance(m, Barrier):
            break
    # the six chunks already waiting become fewer, larger chunks; nothing is lost or reordered within a channel
    mark = out.index(Watermark(0, BIGINT, 3))
    chunks_before = out[:mark]
    assert all(isinstance(m, StreamChunk) for m in chunks_before) and len(chunks_before) < 6
    rows_before = [r for m in chunks_before for r in m.to_pretty().splitlines()]
    assert [r for r in rows_before if r.endswith(" a")] == ["+ 0 a", "+ 1 a", "+ 2 a"]
    after = [r for m in out[mark + 1:-1] for r in m.to_pretty().splitlines()]
    assert sorted(rows_before + after) == sorted(["+ 0 a", "+ 1 a", "+ 2 a", "+ 4 a", "+ 10 b", "+ 11 b", "+ 12 b"])
    assert "+ 4 a" in after and out[-1] == barrier(1)
