"""Batch planning: a logical plan to the batch plan a compute node executes once."""

from __future__ import annotations

from common.plan import (
    BatchFilter,
    BatchHashAgg,
    BatchHashJoin,
    BatchLimit,
    BatchNode,
    BatchProject,
    BatchScan,
    BatchSort,
    BatchValues,
)
from frontend.planner.logical import (
    LAgg,
    LFilter,
    LJoin,
    LLimit,
    LogicalNode,
    LProject,
    LScan,
    LSort,
    LValues,
    types_of,
)


def to_batch(node: LogicalNode) -> BatchNode:
    types = types_of(node)
    if isinstance(node, LScan):
        desc = node.relation.desc
        return BatchScan(desc, tuple(range(len(desc.columns))), types)
    if isinstance(node, LValues):
        return BatchValues(node.rows, types)
    if isinstance(node, LFilter):
        return BatchFilter(to_batch(node.input), node.predicate, types)
    if isinstance(node, LProject):
        return BatchProject(to_batch(node.input), node.exprs, types)
    if isinstance(node, LAgg):
        return BatchHashAgg(to_batch(node.input), node.group_key, node.aggs, types)
    if isinstance(node, LJoin):
        return BatchHashJoin(to_batch(node.left), to_batch(node.right), node.kind, node.left_keys, node.right_keys,
                             node.condition, tuple(range(len(types))), types)
    if isinstance(node, LSort):
        return BatchSort(to_batch(node.input), node.keys, types)
    if isinstance(node, LLimit):
        return BatchLimit(to_batch(node.input), node.limit, node.offset, types)
    raise TypeError(f"no batch plan for {type(node).__name__}")
