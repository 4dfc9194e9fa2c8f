"""Hash aggregation over inserts, deletes and updates, with per-barrier output."""

from __future__ import annotations

from decimal import Decimal

from common.catalog import ColumnDesc, OrderType, TableDesc
from common.chunk import StreamChunk
from common.expr import AggCall, AggKind, agg_state_types
from common.stream_plan import HashAggNode
from common.types import BIGINT, DOUBLE, NUMERIC, VARCHAR
from compute.stream.hash_agg import HashAggExecutor
from tests.helpers.stream import MockSource, actor_context, barrier, chunks_between_barriers, collect

TYPES = (VARCHAR, BIGINT, DOUBLE)
AGGS = (
    AggCall(AggKind.COUNT_STAR, (), (), BIGINT),
    AggCall(AggKind.SUM, (1,), (BIGINT,), NUMERIC),
    AggCall(AggKind.MIN, (2,), (DOUBLE,), DOUBLE),
    AggCall(AggKind.MAX, (2,), (DOUBLE,), DOUBLE),
    AggCall(AggKind.AVG, (2,), (DOUBLE,), DOUBLE),
    AggCall(AggKind.COUNT, (2,), (DOUBLE,), BIGINT),
)


def node(group_key: tuple[int, ...], table_id: int = 10) -> HashAggNode:
    k = len(group_key)
    cols = [ColumnDesc(f"g{i}", TYPES[g]) for i, g in enumerate(group_key)] + [ColumnDesc("rows", BIGINT)]
    for j, a in enumerate(AGGS):
        cols += [ColumnDesc(f"a{j}_{n}", t) for n, t in enumerate(agg_state_types(a))]
    result = TableDesc(table_id, tuple(cols), tuple(range(k)), (OrderType.ASC,) * k, tuple(range(k)))

    def minmax(i: int, order: OrderType) -> TableDesc:
        c = [ColumnDesc(f"g{j}", TYPES[g]) for j, g in enumerate(group_key)] + [ColumnDesc("v", DOUBLE),
                                                                               ColumnDesc("n", BIGINT)]
        return TableDesc(table_id + i, tuple(c), tuple(range(k + 1)), (OrderType.ASC,) * k + (order,),
                         tuple(range(k)))

    tables = (None, None, minmax(1, OrderType.ASC), minmax(2, OrderType.DESC), None, None)
    out_types = tuple(TYPES[g] for g in group_key) + tuple(a.type for a in AGGS)
    return HashAggNode(None, group_key, AGGS, result, tables, False, out_types, tuple(range(k)))  # type: ignore[arg-type]


def chunk(text: str) -> StreamChunk:
    return StreamChunk.from_pretty(text, TYPES)


async def test_grouped_counts_sums_and_retractable_min_max() -> None:
    src = MockSource(TYPES, [
        barrier(1),
        chunk("+ a 1 1.5\n+ a 2 4.0\n+ b 5 2.0"),
        barrier(2),
        chunk("- a 1 1.5\nU- b 5 2.0\nU+ b 6 8.0"),
        barrier(3),
        chunk("- a 2 4.0"),
        barrier(4),
    ])
    ex = HashAggExecutor(src, node((0,)), actor_context())
    epochs = chunks_between_barriers(await collect(ex))
    assert epochs[0] == []
    assert sorted(epochs[1]) == ["+ a 2 3.0000000000 1.5 4.0 2.75 2", "+ b 1 5.0000000000 2.0 2.0 2.0 1"]
    # min of a was retracted: it comes back from the value table, not from the cache
    assert epochs[2] == ["U- a 2 3.0000000000 1.5 4.0 2.75 2", "U+ a 1 2.0000000000 4.0 4.0 4.0 1",
                         "U- b 1 5.0000000000 2.0 2.0 2.0 1", "U+ b 1 6.0000000000 8.0 8.0 8.0 1"]
    assert epochs[3] == ["- a 1 2.0000000000 4.0 4.0 4.0 1"]


async def test_simple_agg_has_a_row_even_when_empty() -> None:
    src = MockSource(TYPES, [
        barrier(1), barrier(2),
        chunk("+ a 1 1.5"), barrier(3),
        chunk("- a 1 1.5"), barrier(4),
    ])
    ex = HashAggExecutor(src, node(()), actor_context())
    epochs = chunks_between_barriers(await collect(ex))
    assert epochs[1] == ["+ 0 . . . . 0"]
    assert epochs[2] == ["U- 0 . . . . 0", "U+ 1 1.0000000000 1.5 1.5 1.5 1"]
    assert epochs[3] == ["U- 1 1.0000000000 1.5 1.5 1.5 1", "U+ 0 . . . . 0"]


async def test_state_survives_a_new_executor_over_the_same_store() -> None:
    """After recovery a fresh executor (cold cache) continues from the state tables."""
    ctx = actor_context()
    first = HashAggExecutor(MockSource(TYPES, [barrier(1), chunk("+ a 1 1.0\n+ a 3 5.0"), barrier(2)]),
                            node((0,)), ctx)
    await collect(first)
    second = HashAggExecutor(MockSource(TYPES, [barrier(3), chunk("- a 3 5.0"), barrier(4)]),
                             node((0,)), ctx)
    epochs = chunks_between_barriers(await collect(second))
    assert epochs[1] == ["U- a 2 4.0000000000 1.0 5.0 3.0 2", "U+ a 1 1.0000000000 1.0 1.0 1.0 1"]


def test_decimal_sum_keeps_precision() -> None:
    from compute.stream.aggregate.agg_group import AggLayout

    layout = AggLayout(0, (AggCall(AggKind.SUM, (0,), (NUMERIC,), NUMERIC),))
    states = [Decimal("123456789012345678901234567.0123456789"), 1]
    assert layout.output(states) == [Decimal("123456789012345678901234567.0123456789")]


async def test_min_and_max_sharing_one_value_table_survive_churn_within_a_chunk() -> None:
    """Insert and delete of the same value in one chunk changes nothing; shared tables count once."""
    shared = node((0,))
    table = shared.minmax_tables[2]
    assert table is not None
    aggs = (AggCall(AggKind.MIN, (2,), (DOUBLE,), DOUBLE), AggCall(AggKind.MAX, (2,), (DOUBLE,), DOUBLE))
    n = HashAggNode(None, (0,), aggs, TableDesc(40, (ColumnDesc("g", VARCHAR), ColumnDesc("rows", BIGINT),  # type: ignore[arg-type]
                                                     ColumnDesc("mn", DOUBLE), ColumnDesc("mx", DOUBLE)),
                                                (0,), (OrderType.ASC,), (0,)),
                    (table, table), False, (VARCHAR, DOUBLE, DOUBLE), (0,))
    src = MockSource(TYPES, [
        barrier(1),
        chunk("+ a 1 5.0\n+ a 2 9.0"), barrier(2),
        chunk("+ a 3 1.0\n- a 3 1.0\n+ a 4 7.0"), barrier(3),
        chunk("- a 2 9.0"), barrier(4),
    ])
    epochs = chunks_between_barriers(await collect(HashAggExecutor(src, n, actor_context())))
    assert epochs[1] == ["+ a 5.0 9.0"]
    assert epochs[2] == []  # 1.0 came and went; 7.0 is inside the range
    assert epochs[3] == ["U- a 5.0 9.0", "U+ a 5.0 7.0"]
