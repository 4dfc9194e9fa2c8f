"""Stream plans, shipped from the frontend (through meta) to compute nodes.

Stream nodes describe one fragment of a dataflow; `MergeNode` leaves are
where a fragment reads from an exchange. A `FragmentGraph` is what the
frontend submits for a new streaming job; meta turns each fragment into
actors (`ActorInfo`), each with its vnodes, upstream actors and dispatchers.
Every node states its output `types` and its `stream_key` (the output
columns that identify a row).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

from common.catalog import TableDesc
from common.expr import AggCall, Expr
from common.types import DataType
from common.vnode import VnodeBitmap


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
