"""Inner hash join over two changing inputs."""

from __future__ import annotations

from common.catalog import ColumnDesc, OrderType, TableDesc
from common.chunk import StreamChunk
from common.message import Barrier
from common.stream_plan import HashJoinNode
from common.types import BIGINT, VARCHAR
from compute.stream.hash_join import HashJoinExecutor
from tests.helpers.stream import MockSource, actor_context, barrier, chunks_between_barriers, collect

L = (BIGINT, VARCHAR)  # order id, customer
R = (VARCHAR, VARCHAR)  # customer id, region


def side(table_id: int, types: tuple, key: int, sk: int) -> TableDesc:  # type: ignore[type-arg]
    cols = tuple(ColumnDesc(f"c{i}", t) for i, t in enumerate(types))
    pk = (key, sk) if key != sk else (key,)
    return TableDesc(table_id, cols, pk, (OrderType.ASC,) * len(pk), (key,))


def join_node() -> HashJoinNode:
    return HashJoinNode(None, None, (1,), (0,), side(20, L, 1, 0), side(21, R, 0, 0), None,  # type: ignore[arg-type]
                        (0, 1, 3), (BIGINT, VARCHAR, VARCHAR), (0, 2))


def rows(msgs: list) -> list[str]:  # type: ignore[type-arg]
    return [line for m in msgs if isinstance(m, StreamChunk) for line in m.to_pretty().splitlines()]


async def test_pairs_are_emitted_once_and_retracted_when_either_side_leaves() -> None:
    left = MockSource(L, [
        barrier(1),
        StreamChunk.from_pretty("+ 1 a\n+ 2 b\n+ 3 .", L),
        barrier(2),
        StreamChunk.from_pretty("U- 2 b\nU+ 2 a", L),
        barrier(3),
    ])
    right = MockSource(R, [
        barrier(1),
        StreamChunk.from_pretty("+ a eu\n+ b us", R),
        barrier(2),
        StreamChunk.from_pretty("- a eu", R),
        barrier(3),
    ])
    out = await collect(HashJoinExecutor(left, right, join_node(), actor_context()))
    assert [m for m in out if isinstance(m, Barrier)] == [barrier(1), barrier(2), barrier(3)]
    epochs = chunks_between_barriers(out)
    assert sorted(epochs[1]) == ["+ 1 a eu", "+ 2 b us"]
    # the update moves order 2 from b to a; then a leaves: both of its orders are retracted
    assert sorted(epochs[2]) == ["+ 2 a eu", "- 1 a eu", "- 2 a eu", "- 2 b us"]


async def test_rows_with_null_keys_never_match() -> None:
    left = MockSource(L, [barrier(1), StreamChunk.from_pretty("+ 1 .", L), barrier(2)])
    right = MockSource(R, [barrier(1), StreamChunk.from_pretty("+ . eu", R), barrier(2)])
    out = await collect(HashJoinExecutor(left, right, join_node(), actor_context()))
    assert rows(out) == []
