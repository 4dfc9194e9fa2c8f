"""Plan nodes shipped from the frontend (through meta) to compute nodes.

Stream nodes describe one fragment of a dataflow; `MergeNode` leaves are
where a fragment reads from an exchange. A `FragmentGraph` is what the
frontend submits for a new streaming job; meta turns each fragment into
actors (`ActorInfo`), each with its vnodes, upstream actors and dispatchers.

Batch nodes describe an ad-hoc query or a DML statement, executed once over
a committed snapshot.

Every node states its output `types`; stream nodes also their `stream_key`
(the output columns that identify a row).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

from common.catalog import TableDesc
from common.expr import AggCall, Expr
from common.types import DataType
from common.vnode import VnodeBitmap

# ---------------------------------------------------------------------------
# Stream plan


class ConflictBehavior(enum.Enum):
    """What a materialize does when a row arrives for a key that already exists.

    Tables OVERWRITE (an INSERT of an existing key replaces the row, a DELETE
    removes whatever row the key has); views trust their input (NONE).
    """

    NONE = "none"
    OVERWRITE = "overwrite"


@dataclass(frozen=True, slots=True)
class MergeNode:
    """Reads the output of upstream fragment `upstream_fragment_id` through an exchange."""

    upstream_fragment_id: int
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DmlNode:
    """Source of a table's rows: DML statements arrive here, each as one transaction.

    With `row_id_index` set, the table has no primary key and this node fills
    that column with fresh unique row ids.
    """

    table_id: int
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]
    row_id_index: int | None


@dataclass(frozen=True, slots=True)
class ProjectNode:
    input: StreamNode
    exprs: tuple[Expr, ...]
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FilterNode:
    input: StreamNode
    predicate: Expr
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class HashAggNode:
    """GROUP BY `group_key` computing `aggs`; output is the group key columns then one column per agg.

    `result_table` holds, per group: the group key columns, the group's row
    count, then each agg's state (see compute/stream/hash_agg.py).
    `minmax_tables[i]` is set for MIN/MAX aggs over an input that can
    retract rows: it keeps every (group key, value) with its multiplicity.
    Aggs over the same column may share one table (MAX reads it backwards).
    With an empty group key the agg always outputs exactly one row.
    """

    input: StreamNode
    group_key: tuple[int, ...]
    aggs: tuple[AggCall, ...]
    result_table: TableDesc
    minmax_tables: tuple[TableDesc | None, ...]
    append_only: bool
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class HashJoinNode:
    """Inner equi-join `left_keys = right_keys`, then `condition`, then `output_indices`.

    Indices in `condition` and `output_indices` refer to the concatenation
    of left and right columns. Each side's state table stores its rows keyed
    by (join key, that side's stream key).
    """

    left: StreamNode
    right: StreamNode
    left_keys: tuple[int, ...]
    right_keys: tuple[int, ...]
    left_table: TableDesc
    right_table: TableDesc
    condition: Expr | None
    output_indices: tuple[int, ...]
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MaterializeNode:
    """Writes its input into `table` and passes on what changed."""

    input: StreamNode
    table: TableDesc
    conflict: ConflictBehavior
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StreamScanNode:
    """Reads an existing table or view: its current rows (backfill), then its changes.

    `input` merges the upstream's change stream (NO_SHUFFLE, one upstream
    actor with the same vnodes). With `backfill`, on its first barrier the
    actor emits the upstream table's snapshot at that barrier's epoch before
    any later change. `output_indices` select columns of the upstream table.
    `rate_limit` caps the snapshot's rows per second per actor (None: no cap).
    """

    input: MergeNode
    upstream_table: TableDesc
    output_indices: tuple[int, ...]
    backfill: bool
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]
    rate_limit: int | None = None


@dataclass(frozen=True, slots=True)
class ExchangeNode:
    """Planner-only: a fragment boundary; the fragmenter replaces it with a MergeNode."""

    input: StreamNode
    distribution: Distribution
    types: tuple[DataType, ...]
    stream_key: tuple[int, ...]


StreamNode = Union[MergeNode, DmlNode, ProjectNode, FilterNode, HashAggNode, HashJoinNode,
                   MaterializeNode, StreamScanNode, ExchangeNode]


def stream_inputs(node: StreamNode) -> tuple[StreamNode, ...]:
    if isinstance(node, HashJoinNode):
        return (node.left, node.right)
    if isinstance(node, (MergeNode, DmlNode)):
        return ()
    return (node.input,)


class DistributionKind(enum.Enum):
    SINGLE = "single"
    HASH = "hash"


@dataclass(frozen=True, slots=True)
class Distribution:
    """How a fragment's rows are spread over its actors: by the vnode of `key`, or all on one."""

    kind: DistributionKind
    key: tuple[int, ...] = ()

    @staticmethod
    def single() -> Distribution:
        return Distribution(DistributionKind.SINGLE)

    @staticmethod
    def hash(key: tuple[int, ...]) -> Distribution:
        return Distribution(DistributionKind.HASH, tuple(key))


class DispatcherKind(enum.Enum):
    HASH = "hash"  # by vnode of dist key
    SIMPLE = "simple"  # one downstream actor
    BROADCAST = "broadcast"  # every downstream actor
    NO_SHUFFLE = "no_shuffle"  # to the downstream actor paired with this one


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of a dataflow run by `parallelism` actors (None: the cluster default).

    `state_tables` lists the ids of state tables its nodes own.
    """

    fragment_id: int
    root: StreamNode
    distribution: Distribution
    parallelism: int | None
    state_tables: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FragmentEdge:
    """Rows flow from `upstream` to `downstream`, dispatched by `kind` on `dist_key`.

    `upstream` may be a fragment of another, existing job (the materialize
    fragment of a table or view this job reads).
    """

    upstream: int
    downstream: int
    kind: DispatcherKind
    dist_key: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FragmentGraph:
    fragments: tuple[Fragment, ...]
    edges: tuple[FragmentEdge, ...]

    def fragment(self, fragment_id: int) -> Fragment:
        for f in self.fragments:
            if f.fragment_id == fragment_id:
                return f
        raise KeyError(fragment_id)


@dataclass(frozen=True, slots=True)
class Dispatcher:
    """One output of an actor: where its chunks go.

    For HASH, `vnode_mapping[v]` is the downstream actor owning vnode `v`.
    `dispatcher_id` is the downstream fragment id.
    """

    kind: DispatcherKind
    dispatcher_id: int
    downstream_actors: tuple[int, ...]
    dist_key: tuple[int, ...] = ()
    vnode_mapping: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ActorInfo:
    """Everything a compute node needs to build one actor.

    `upstreams[i]` = (upstream fragment id, its actor ids feeding this actor);
    `vnodes` is None for singleton fragments.
    """

    actor_id: int
    fragment_id: int
    node: StreamNode
    vnodes: VnodeBitmap | None
    upstreams: tuple[tuple[int, tuple[int, ...]], ...]
    dispatchers: tuple[Dispatcher, ...]
    worker_id: int


# ---------------------------------------------------------------------------
# Batch plan


class JoinType(enum.Enum):
    INNER = "inner"
    LEFT = "left"
    RIGHT = "right"
    FULL = "full"
    CROSS = "cross"


@dataclass(frozen=True, slots=True)
class SortKey:
    index: int
    descending: bool = False
    nulls_first: bool = False  # PostgreSQL default: NULLS LAST for ASC, FIRST for DESC


@dataclass(frozen=True, slots=True)
class BatchScan:
    """All rows of a state table at the query's epoch, columns `columns` of `table`."""

    table: TableDesc
    columns: tuple[int, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchValues:
    """Constant rows; each cell an expression without inputs."""

    rows: tuple[tuple[Expr, ...], ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchArrow:
    """Rows given inline as Arrow IPC stream bytes (system catalogs, COPY data)."""

    ipc: bytes
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchProject:
    input: BatchNode
    exprs: tuple[Expr, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchFilter:
    input: BatchNode
    predicate: Expr
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchHashAgg:
    """GROUP BY `group_key`; output is group key columns then aggs. No groups and no key: one row."""

    input: BatchNode
    group_key: tuple[int, ...]
    aggs: tuple[AggCall, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchHashJoin:
    """Join on `left_keys = right_keys` (none for CROSS), then `condition`, then `output_indices`.

    Indices in `condition` and `output_indices` refer to left columns then right columns.
    """

    left: BatchNode
    right: BatchNode
    join_type: JoinType
    left_keys: tuple[int, ...]
    right_keys: tuple[int, ...]
    condition: Expr | None
    output_indices: tuple[int, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchSort:
    input: BatchNode
    keys: tuple[SortKey, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchLimit:
    input: BatchNode
    limit: int | None
    offset: int
    types: tuple[DataType, ...]


class DmlKind(enum.Enum):
    INSERT = "insert"
    DELETE = "delete"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class BatchDml:
    """Write the rows of `input` into table `table_id` as one transaction; outputs one BIGINT count.

    INSERT: `input` yields the table's visible columns (in table order; the
    row id column, if any, is filled by the table's DML actor).
    DELETE: `input` yields full table rows to delete.
    UPDATE: `input` yields each full old row followed by its full new row
    (2 x width columns).
    """

    kind: DmlKind
    table_id: int
    table: TableDesc
    input: BatchNode
    types: tuple[DataType, ...]


class ApplyKind(enum.Enum):
    """What an apply appends per outer row: the subquery's single value, whether it has rows, whether it
    holds the row's test value (IN), or all of its values as an array (ARRAY(subquery))."""

    SCALAR = "scalar"
    EXISTS = "exists"
    IN = "in"
    ARRAY = "array"


@dataclass(frozen=True, slots=True)
class BatchApply:
    """A subquery evaluated for the rows of `input`; output is the input columns then one column of `kind`.

    `params` bind the subquery's correlation parameters (`OuterRef`s) to
    expressions over the input row; the subquery runs once per distinct
    binding (once in all when there are none). Rows where `guard` is not
    true need no value (the subquery sits in a CASE branch they never
    reach) and get NULL. `test` is the left-hand side of IN.
    """

    input: BatchNode
    subquery: BatchNode
    kind: ApplyKind
    params: tuple[tuple[int, Expr], ...]
    test: Expr | None
    guard: Expr | None
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchUnion:
    """UNION ALL: the rows of every input in turn (DISTINCT is a hash agg above it)."""

    inputs: tuple[BatchNode, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchRecursiveUnion:
    """WITH RECURSIVE: `anchor`'s rows, then `recursive` run over the previous round's new rows
    (visible to it as work table `work_table`) until a round adds none; `distinct` drops repeated rows."""

    anchor: BatchNode
    recursive: BatchNode
    work_table: int
    distinct: bool
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchWorkTable:
    """The rows the enclosing recursive union's previous round added."""

    work_table: int
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class SetFunction:
    """A call of a set-returning function (generate_series, unnest, ...): one column of `type` per row it yields."""

    func: str
    args: tuple[Expr, ...]
    type: DataType


@dataclass(frozen=True, slots=True)
class BatchTableFunction:
    """A set-returning function in FROM; its arguments read no input columns (outer references only).
    With `ordinality`, a BIGINT column numbers the rows from 1."""

    function: SetFunction
    ordinality: bool
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchProjectSet:
    """Set-returning functions in a select list: for each input row, the functions' rows side by side.

    Output is the input columns then one column per function; a row
    repeats as many times as its longest function yields, shorter ones
    padded with NULL.
    """

    input: BatchNode
    functions: tuple[SetFunction, ...]
    types: tuple[DataType, ...]


class WindowKind(enum.Enum):
    ROW_NUMBER = "row_number"
    RANK = "rank"
    DENSE_RANK = "dense_rank"


@dataclass(frozen=True, slots=True)
class WindowCall:
    kind: WindowKind
    partition_by: tuple[int, ...]
    order_by: tuple[SortKey, ...]
    type: DataType


@dataclass(frozen=True, slots=True)
class BatchWindow:
    """Ranking window functions: the input columns, then one column per call."""

    input: BatchNode
    calls: tuple[WindowCall, ...]
    types: tuple[DataType, ...]


BatchNode = Union[BatchScan, BatchValues, BatchArrow, BatchProject, BatchFilter, BatchHashAgg,
                  BatchHashJoin, BatchSort, BatchLimit, BatchDml, BatchApply, BatchUnion, BatchRecursiveUnion,
                  BatchWorkTable, BatchTableFunction, BatchProjectSet, BatchWindow]
