"""Planning catalog queries: filters move below projections, applies and outer joins; streaming refuses
what only batch queries can run (system relations, subqueries in expressions, catalog-only types)."""

from __future__ import annotations

import pytest

from common.errors import FeatureNotSupported
from common.types import INTEGER, VARCHAR
from frontend.planner.logical import LApply, LFilter, LJoin, LogicalNode, LSystemScan, children
from frontend.planner.optimizer import optimize
from frontend.planner.stream import StreamPlanner
from tests.unit.frontend.binder.sql_harness import Harness


@pytest.fixture
def h() -> Harness:
    h = Harness()
    h.add_table("t", [("a", INTEGER), ("b", VARCHAR)], pk=[0])
    return h


def _nodes(node: LogicalNode) -> list[LogicalNode]:
    return [node] + [n for c in children(node) for n in _nodes(c)]


def test_filters_reach_the_scan_through_projections_applies_and_outer_joins(h: Harness) -> None:
    plan, _ = h.bind("SELECT * FROM (SELECT c.oid, c.relname, (SELECT count(*) FROM pg_attribute a "
                     "WHERE a.attrelid = c.oid) AS n FROM pg_class c LEFT JOIN pg_namespace ns "
                     "ON ns.oid = c.relnamespace) AS s WHERE s.relname = 'pg_type'")
    optimized = optimize(plan)
    scans = [n for n in _nodes(optimized) if isinstance(n, LFilter) and isinstance(n.input, LSystemScan)
             and n.input.relation.name == "pg_class"]
    assert scans, "the filter on relname should sit right above the pg_class scan"
    apply = next(n for n in _nodes(optimized) if isinstance(n, LApply))
    join = next(n for n in _nodes(apply.input) if isinstance(n, LJoin))
    assert isinstance(join.left, LFilter)


def test_outer_join_keeps_filters_on_its_nullable_side_above(h: Harness) -> None:
    plan, _ = h.bind("SELECT c.relname FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname IS NULL")
    top = optimize(plan)
    filters = [n for n in _nodes(top) if isinstance(n, LFilter)]
    assert len(filters) == 1 and isinstance(filters[0].input, LJoin)


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT relname FROM pg_class", "cannot read system catalog pg_catalog.pg_class"),
    ("SELECT a, (SELECT max(a) FROM t) FROM t", "subqueries in expressions are not supported"),
    ("SELECT a, ARRAY[a] AS arr FROM t", 'column "arr" of a materialized view cannot be of type integer[]'),
    ("SELECT b, string_agg(b, ',') FROM t GROUP BY b", "string_agg() in a materialized view is not supported"),
])
def test_streaming_refuses_batch_only_plans(h: Harness, sql: str, message: str) -> None:
    plan, _ = h.bind(sql)
    ids = iter(range(1000, 2000))
    planner = StreamPlanner(lambda: next(ids), lambda rel: 1)
    with pytest.raises(FeatureNotSupported) as raised:
        planner.plan_view(optimize(plan), 999)
    assert message in raised.value.message
    assert raised.value.sqlstate == "0A000"
