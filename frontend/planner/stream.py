"""Stream planning: a view's logical plan to a dataflow of stream nodes with exchanges.

Tracks, for every node, its stream key (the columns that identify a row)
and how its rows are spread over actors (by the vnode of some columns, on
one actor, or unknown). Aggregations and joins get an exchange on exactly
their keys, so each actor owns the groups and join keys whose vnodes it
owns; the view's rows are materialized by their stream key. Columns the
query drops but the stream key needs are kept as hidden columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from common.batch_plan import JoinType
from common.catalog import ColumnDesc, OrderType, Relation, TableDesc
from common.errors import DuplicateColumn, FeatureNotSupported
from common.expr import AggCall, AggKind, InputRef, agg_state_types
from common.stream_plan import (
    ConflictBehavior,
    Distribution,
    DistributionKind,
    ExchangeNode,
    FilterNode,
    HashAggNode,
    HashJoinNode,
    MaterializeNode,
    MergeNode,
    ProjectNode,
    StreamNode,
    StreamScanNode,
)
from common.types import BIGINT, DataType
from frontend.planner.logical import (
    LAgg,
    LApply,
    LFilter,
    LJoin,
    LLimit,
    LogicalNode,
    LProject,
    LScan,
    LSort,
    LSystemScan,
    LValues,
)

_STREAMING_AGGS = frozenset({AggKind.COUNT_STAR, AggKind.COUNT, AggKind.SUM, AggKind.MIN, AggKind.MAX, AggKind.AVG})


@dataclass(frozen=True, slots=True)
class _Planned:
    node: StreamNode
    names: tuple[str, ...]
    hidden: tuple[bool, ...]
    dist: Distribution | None  # None: unknown

    @property
    def types(self) -> tuple[DataType, ...]:
        return self.node.types

    @property
    def stream_key(self) -> tuple[int, ...]:
        return self.node.stream_key


@dataclass
class StreamPlan:
    root: MaterializeNode
    table: TableDesc
    internal_tables: list[TableDesc] = field(default_factory=list)
    depends_on: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


class StreamPlanner:
    def __init__(self, new_table_id: Callable[[], int], materialize_fragment: Callable[[Relation], int],
                 backfill_rate_limit: int | None = None) -> None:
        self._new_id = new_table_id
        self._backfill_rate_limit = backfill_rate_limit
        self._upstream_fragment = materialize_fragment
        self._internal: list[TableDesc] = []
        self._depends: list[int] = []
        self.notices: list[str] = []

    def plan_view(self, logical: LogicalNode, table_id: int) -> StreamPlan:
        p = self._plan(logical)
        for name, t in zip(p.names, p.types):
            if t.is_catalog_only:
                raise FeatureNotSupported(f'column "{name}" of a materialized view cannot be of type {t.display()}')
        names = list(p.names)
        visible = [n for n, h in zip(names, p.hidden) if not h]
        dup = {n for n in visible if visible.count(n) > 1}
        if dup:
            raise DuplicateColumn(f'column "{sorted(dup)[0]}" specified more than once')
        taken = set(visible)
        for i, h in enumerate(p.hidden):
            if h:
                base = names[i] if names[i] not in taken else f"_{names[i]}"
                while base in taken:
                    base = "_" + base
                names[i] = base
                taken.add(base)
        pk = p.stream_key
        dist = p.dist
        if dist is None or (dist.kind is DistributionKind.HASH and not set(dist.key) <= set(pk)) or (
                dist.kind is DistributionKind.HASH and not dist.key):
            p = self._exchange(p, Distribution.hash(pk))
            dist = p.dist
        assert dist is not None
        dist_key = dist.key if dist.kind is DistributionKind.HASH else ()
        columns = tuple(ColumnDesc(n, t, h) for n, t, h in zip(names, p.types, p.hidden))
        table = TableDesc(table_id, columns, pk, (OrderType.ASC,) * len(pk), dist_key)
        root = MaterializeNode(p.node, table, ConflictBehavior.NONE, p.types, pk)
        return StreamPlan(root, table, self._internal, self._depends, self.notices)

    # -- per node ---------------------------------------------------------------

    def _plan(self, node: LogicalNode) -> _Planned:
        if isinstance(node, LScan):
            return self._scan(node)
        if isinstance(node, LFilter):
            p = self._plan(node.input)
            return _Planned(FilterNode(p.node, node.predicate, p.types, p.stream_key), p.names, p.hidden, p.dist)
        if isinstance(node, LProject):
            return self._project(node)
        if isinstance(node, LAgg):
            return self._agg(node)
        if isinstance(node, LJoin):
            return self._join(node)
        if isinstance(node, LSort):
            self.notices.append("ORDER BY in a materialized view is ignored; order the rows when you query it")
            return self._plan(node.input)
        if isinstance(node, LLimit):
            raise FeatureNotSupported("LIMIT and OFFSET in a materialized view are not supported yet")
        if isinstance(node, LValues):
            raise FeatureNotSupported("a materialized view must read from a table or another materialized view")
        if isinstance(node, LSystemScan):
            raise FeatureNotSupported(f"a materialized view cannot read system catalog "
                                      f"{node.relation.schema_name}.{node.relation.name}")
        if isinstance(node, LApply):
            raise FeatureNotSupported("subqueries in expressions are not supported in a materialized view")
        raise FeatureNotSupported(f"{type(node).__name__[1:]} is not supported in a materialized view")

    def _scan(self, node: LScan) -> _Planned:
        rel = node.relation
        desc = rel.desc
        if rel.id not in self._depends:
            self._depends.append(rel.id)
        merge = MergeNode(self._upstream_fragment(rel), desc.types, desc.pk)
        scan = StreamScanNode(merge, desc, tuple(range(len(desc.columns))), True, desc.types, desc.pk,
                              self._backfill_rate_limit)
        return _Planned(scan, tuple(f.name for f in node.fields), tuple(f.hidden for f in node.fields),
                        Distribution.hash(desc.dist_key) if desc.dist_key else Distribution.single())

    def _project(self, node: LProject) -> _Planned:
        p = self._plan(node.input)
        exprs = list(node.exprs)
        names = [f.name for f in node.fields]
        hidden = [f.hidden for f in node.fields]
        position = {e.index: i for i, e in reversed(list(enumerate(exprs))) if isinstance(e, InputRef)}
        for k in p.stream_key:
            if k not in position:
                exprs.append(InputRef(k, p.types[k]))
                names.append(p.names[k])
                hidden.append(True)
                position[k] = len(exprs) - 1
        key = tuple(position[k] for k in p.stream_key)
        dist: Distribution | None = p.dist
        if dist is not None and dist.kind is DistributionKind.HASH:
            dist = Distribution.hash(tuple(position[k] for k in dist.key)) if all(
                k in position for k in dist.key) else None
        types = tuple(e.type for e in exprs)
        return _Planned(ProjectNode(p.node, tuple(exprs), types, key), tuple(names), tuple(hidden), dist)

    def _exchange(self, p: _Planned, dist: Distribution) -> _Planned:
        node = ExchangeNode(p.node, dist, p.types, p.stream_key)
        return _Planned(node, p.names, p.hidden, dist)

    def _agg(self, node: LAgg) -> _Planned:
        for a in node.aggs:
            if a.kind not in _STREAMING_AGGS:
                raise FeatureNotSupported(f"{a.kind.value}() in a materialized view is not supported")
            if a.distinct:
                raise FeatureNotSupported("DISTINCT aggregates in a materialized view are not supported yet")
            if a.kind in (AggKind.SUM, AggKind.AVG) and a.arg_types[0].name.value == "interval":
                raise FeatureNotSupported(f"{a.kind.value}(interval) in a materialized view is not supported yet")
        p = self._plan(node.input)
        k = len(node.group_key)
        dist = Distribution.hash(node.group_key) if k else Distribution.single()
        p = self._exchange(p, dist)
        result = self._result_table(node, p.types)
        # MIN and MAX of one column keep the same multiset of values: they share one table.
        by_column: dict[int, TableDesc] = {}
        for a in node.aggs:
            if a.kind in (AggKind.MIN, AggKind.MAX) and a.args[0] not in by_column:
                by_column[a.args[0]] = self._minmax_table(node, a, p.types)
        minmax = tuple(by_column[a.args[0]] if a.kind in (AggKind.MIN, AggKind.MAX) else None for a in node.aggs)
        types = tuple(f.type for f in node.fields)
        key = tuple(range(k))
        agg = HashAggNode(p.node, node.group_key, node.aggs, result, minmax, False, types, key)
        out_dist = Distribution.hash(key) if k else Distribution.single()
        names = tuple(f.name for f in node.fields)
        return _Planned(agg, names, tuple(f.hidden for f in node.fields), out_dist)

    def _result_table(self, node: LAgg, input_types: tuple[DataType, ...]) -> TableDesc:
        k = len(node.group_key)
        cols = [ColumnDesc(f"g{i}", input_types[g]) for i, g in enumerate(node.group_key)]
        cols.append(ColumnDesc("row_count", BIGINT))
        for j, a in enumerate(node.aggs):
            cols.extend(ColumnDesc(f"a{j}_{n}", t) for n, t in enumerate(agg_state_types(a)))
        return self._internal_table(cols, tuple(range(k)), (OrderType.ASC,) * k, tuple(range(k)))

    def _minmax_table(self, node: LAgg, a: AggCall, input_types: tuple[DataType, ...]) -> TableDesc:
        k = len(node.group_key)
        cols = [ColumnDesc(f"g{i}", input_types[g]) for i, g in enumerate(node.group_key)]
        cols.append(ColumnDesc("value", a.arg_types[0]))
        cols.append(ColumnDesc("count", BIGINT))
        return self._internal_table(cols, tuple(range(k + 1)), (OrderType.ASC,) * (k + 1), tuple(range(k)))

    def _internal_table(self, cols: list[ColumnDesc], pk: tuple[int, ...], order: tuple[OrderType, ...],
                        dist: tuple[int, ...]) -> TableDesc:
        t = TableDesc(self._new_id(), tuple(cols), pk, order, dist)
        self._internal.append(t)
        return t

    def _join(self, node: LJoin) -> _Planned:
        if node.kind is not JoinType.INNER or not node.left_keys:
            raise FeatureNotSupported(
                "only inner equi-joins are supported in materialized views yet "
                f"(this is a {node.kind.value} join{'' if node.left_keys else ' without an equality condition'})")
        left = self._exchange(self._plan(node.left), Distribution.hash(node.left_keys))
        right = self._exchange(self._plan(node.right), Distribution.hash(node.right_keys))
        lt = self._side_table(left, node.left_keys)
        rt = self._side_table(right, node.right_keys)
        nl = len(left.types)
        types = left.types + right.types
        key = _dedup(left.stream_key + tuple(nl + k for k in right.stream_key))
        join = HashJoinNode(left.node, right.node, node.left_keys, node.right_keys, lt, rt, node.condition,
                            tuple(range(len(types))), types, key)
        return _Planned(join, left.names + right.names, left.hidden + right.hidden, Distribution.hash(node.left_keys))

    def _side_table(self, side: _Planned, keys: tuple[int, ...]) -> TableDesc:
        pk = _dedup(keys + side.stream_key)
        cols = [ColumnDesc(f"c{i}", t) for i, t in enumerate(side.types)]
        return self._internal_table(cols, pk, (OrderType.ASC,) * len(pk), keys)


def _dedup(xs: tuple[int, ...]) -> tuple[int, ...]:
    out: list[int] = []
    for x in xs:
        if x not in out:
            out.append(x)
    return tuple(out)



