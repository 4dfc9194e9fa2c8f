"""Batch planning: a logical plan to the batch plan a compute node executes once."""

from __future__ import annotations

from common.batch_plan import (
    BatchApply,
    BatchArrow,
    BatchFilter,
    BatchHashAgg,
    BatchHashJoin,
    BatchLimit,
    BatchNode,
    BatchProject,
    BatchProjectSet,
    BatchRecursiveUnion,
    BatchScan,
    BatchSort,
    BatchTableFunction,
    BatchUnion,
    BatchValues,
    BatchWindow,
    BatchWorkTable,
)
from frontend.planner.logical import (
    LAgg,
    LApply,
    LFilter,
    LJoin,
    LLimit,
    LogicalNode,
    LProject,
    LProjectSet,
    LRecursiveUnion,
    LScan,
    LSort,
    LSystemScan,
    LTableFunction,
    LUnion,
    LValues,
    LWindow,
    LWorkTable,
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
    if isinstance(node, LSystemScan):
        return BatchArrow(node.ipc, types)
    if isinstance(node, LApply):
        return BatchApply(to_batch(node.input), to_batch(node.subquery), node.kind, node.params, node.test,
                          node.guard, types)
    if isinstance(node, LUnion):
        return BatchUnion(tuple(to_batch(i) for i in node.inputs), types)
    if isinstance(node, LRecursiveUnion):
        return BatchRecursiveUnion(to_batch(node.anchor), to_batch(node.recursive), node.work_table, node.distinct,
                                   types)
    if isinstance(node, LWorkTable):
        return BatchWorkTable(node.work_table, types)
    if isinstance(node, LTableFunction):
        return BatchTableFunction(node.function, node.ordinality, types)
    if isinstance(node, LProjectSet):
        return BatchProjectSet(to_batch(node.input), node.functions, types)
    if isinstance(node, LWindow):
        return BatchWindow(to_batch(node.input), node.calls, types)
    raise TypeError(f"no batch plan for {type(node).__name__}")
