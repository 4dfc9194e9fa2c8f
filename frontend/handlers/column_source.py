"""Where each output column of a query comes from: the table OID and column number RowDescription reports.

A column read straight from a table or materialized view (through
filters, sorts, limits, joins, group keys and plain column references)
reports that relation's OID, its id, and the column's 1-based position in
the relation, as PostgreSQL does for pgjdbc's and node-postgres's
metadata; any computed column reports 0 and 0.
"""

from __future__ import annotations

from common.expr import InputRef
from frontend.planner.logical import LAgg, LFilter, LJoin, LLimit, LogicalNode, LProject, LScan, LSort

Source = tuple[int, int]
_NONE: Source = (0, 0)


def column_sources(node: LogicalNode) -> list[Source]:
    """(table OID, attribute number) per output column of a bound logical plan."""
    if isinstance(node, LScan):
        return [(node.relation.id, i + 1) for i in range(len(node.fields))]
    if isinstance(node, (LFilter, LSort, LLimit)):
        return column_sources(node.input)
    if isinstance(node, LProject):
        inner = column_sources(node.input)
        return [inner[e.index] if isinstance(e, InputRef) and e.index < len(inner) else _NONE for e in node.exprs]
    if isinstance(node, LAgg):
        inner = column_sources(node.input)
        return [inner[k] for k in node.group_key] + [_NONE] * len(node.aggs)
    if isinstance(node, LJoin):
        return column_sources(node.left) + column_sources(node.right)
    return [_NONE] * len(node.fields)
