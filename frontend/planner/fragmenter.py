"""The fragmenter: cuts a stream plan at its exchanges into fragments and edges.

Each ExchangeNode becomes an edge (HASH on its key, or SIMPLE to a
singleton) and a MergeNode in the fragment above it. A StreamScan's merge
reads an existing job's materialize fragment through a NO_SHUFFLE edge. A
fragment fed by an exchange takes that exchange's distribution; one fed
only by NO_SHUFFLE edges mirrors its upstream; one with no inputs (a table's
DML source) is a singleton. The root fragment comes first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, cast

from common.stream_plan import (
    DispatcherKind,
    Distribution,
    DistributionKind,
    ExchangeNode,
    Fragment,
    FragmentEdge,
    FragmentGraph,
    HashAggNode,
    HashJoinNode,
    MaterializeNode,
    MergeNode,
    StreamNode,
    StreamScanNode,
    stream_inputs,
)


def state_tables(node: StreamNode) -> list[int]:
    out: list[int] = []
    if isinstance(node, HashAggNode):
        out.append(node.result_table.table_id)
        out.extend(t.table_id for t in node.minmax_tables if t is not None)
    elif isinstance(node, HashJoinNode):
        out.extend((node.left_table.table_id, node.right_table.table_id))
    elif isinstance(node, MaterializeNode):
        out.append(node.table.table_id)
    for child in stream_inputs(node):
        out.extend(state_tables(child))
    return out


class _Fragmenter:
    def __init__(self, ids: Iterator[int], parallelism: int | None) -> None:
        self.ids = ids
        self.parallelism = parallelism
        self.fragments: list[Fragment] = []
        self.edges: list[FragmentEdge] = []
        self.input_dist: dict[int, Distribution] = {}

    def cut(self, node: StreamNode, fid: int) -> StreamNode:
        if isinstance(node, ExchangeNode):
            child = next(self.ids)
            child_root = self.cut(node.input, child)
            self.fragments.append(self._fragment(child, child_root))
            single = node.distribution.kind is DistributionKind.SINGLE
            kind = DispatcherKind.SIMPLE if single else DispatcherKind.HASH
            self.edges.append(FragmentEdge(child, fid, kind, () if single else node.distribution.key))
            self.input_dist[fid] = node.distribution
            return MergeNode(child, node.types, node.stream_key)
        if isinstance(node, StreamScanNode):
            self.edges.append(FragmentEdge(node.input.upstream_fragment_id, fid, DispatcherKind.NO_SHUFFLE))
            self.input_dist.setdefault(fid, Distribution.hash(node.upstream_table.dist_key))
            return node
        kids = stream_inputs(node)
        if not kids:
            return node
        new = [self.cut(k, fid) for k in kids]
        if isinstance(node, HashJoinNode):
            return dataclasses.replace(node, left=new[0], right=new[1])
        return dataclasses.replace(cast(Any, node), input=new[0])  # type: ignore[no-any-return]

    def _fragment(self, fid: int, root: StreamNode) -> Fragment:
        dist = self.input_dist.get(fid, Distribution.single())
        parallelism = 1 if dist.kind is DistributionKind.SINGLE else self.parallelism
        return Fragment(fid, root, dist, parallelism, tuple(state_tables(root)))


def build_fragment_graph(root: StreamNode, ids: Iterator[int], parallelism: int | None = None) -> FragmentGraph:
    f = _Fragmenter(ids, parallelism)
    root_id = next(ids)
    new_root = f.cut(root, root_id)
    f.fragments.insert(0, f._fragment(root_id, new_root))
    return FragmentGraph(tuple(f.fragments), tuple(f.edges))


def count_exchanges(node: StreamNode) -> int:
    return (1 if isinstance(node, ExchangeNode) else 0) + sum(count_exchanges(c) for c in stream_inputs(node))
