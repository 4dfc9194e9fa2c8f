"""Materialize: views write as is; tables overwrite by key and keep their output consistent."""

from __future__ import annotations

from common.catalog import ColumnDesc, OrderType, TableDesc
from common.chunk import StreamChunk
from common.stream_plan import ConflictBehavior, MaterializeNode
from common.types import BIGINT, VARCHAR
from compute.stream.materialize import MaterializeExecutor
from storage.state_table import scan_table
from tests.helpers.stream import MockSource, actor_context, barrier, chunks_between_barriers, collect

T = (BIGINT, VARCHAR)
DESC = TableDesc(30, (ColumnDesc("id", BIGINT), ColumnDesc("v", VARCHAR)), (0,), (OrderType.ASC,), (0,))


def mat(conflict: ConflictBehavior) -> MaterializeNode:
    return MaterializeNode(None, DESC, conflict, T, (0,))  # type: ignore[arg-type]


async def test_table_insert_over_existing_key_becomes_update_and_delete_of_missing_key_vanishes() -> None:
    ctx = actor_context()
    src = MockSource(T, [
        barrier(1),
        StreamChunk.from_pretty("+ 1 a\n+ 2 b", T),
        barrier(2),
        StreamChunk.from_pretty("+ 1 z\n- 7 x\n- 2 wrong\n+ 2 b2", T),
        barrier(3),
    ])
    epochs = chunks_between_barriers(await collect(MaterializeExecutor(src, mat(ConflictBehavior.OVERWRITE), ctx)))
    assert epochs[1] == ["+ 1 a", "+ 2 b"]
    # the delete carried a stale value: the stored row is what gets deleted downstream
    assert epochs[2] == ["U- 1 a", "U+ 1 z", "- 2 b", "+ 2 b2"]
    rows = await scan_table(ctx.store, DESC, barrier(3).epoch.prev)
    assert sorted(zip(rows.column("c0").to_pylist(), rows.column("c1").to_pylist())) == [(1, "z"), (2, "b2")]


async def test_view_rows_are_written_as_they_come() -> None:
    ctx = actor_context()
    src = MockSource(T, [barrier(1), StreamChunk.from_pretty("+ 1 a\n+ 2 b\n- 1 a", T), barrier(2)])
    await collect(MaterializeExecutor(src, mat(ConflictBehavior.NONE), ctx))
    rows = await scan_table(ctx.store, DESC, barrier(2).epoch.prev)
    assert rows.column("c0").to_pylist() == [2]
