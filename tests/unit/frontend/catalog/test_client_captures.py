"""Every catalog query the captured clients sent binds and runs (psql, asyncpg, pgjdbc, SQLAlchemy, pandas,
psycopg, node-postgres).

captures/ holds the SQL each client sent to PostgreSQL 15 (`*_pg15.sql`)
or to a server reporting version 13.14 as Eddy does (the others), from
shared/research/client-captures. Queries with parameters are bound as a
client's Parse/Describe would bind them; the rest run against a catalog
holding the tables and views the capture session created.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlglot import exp

from common.catalog import RelationKind
from common.types import BIGINT, BOOLEAN, DOUBLE, INTEGER, NUMERIC, TIMESTAMP, VARCHAR
from frontend.sql.parser import parse
from tests.unit.frontend.binder.sql_harness import Harness

CAPTURES = Path(__file__).parent / "captures"
ORDERS = [("id", INTEGER), ("customer", VARCHAR), ("amount", DOUBLE), ("created_at", TIMESTAMP),
          ("price", NUMERIC), ("paid", BOOLEAN)]


# The clients' own data probes (not catalog queries) that use what Eddy does not have: the time and
# bytea types, whole-row references to a table, and tables the capture session created on the side.
_OUT_OF_SCOPE = re.compile(r"::time\b|::bytea|SELECT o FROM|probe_no_such_table|probe_pandas_(?!orders|mv)")


def _queries() -> list[tuple[str, str]]:
    out = []
    for path in sorted(CAPTURES.glob("*.sql")):
        for text in path.read_text().split("\n;\n"):
            for stmt in parse(text.strip()) if text.strip() else []:
                if isinstance(stmt.tree, (exp.Select, exp.Union)) and not _OUT_OF_SCOPE.search(stmt.sql):
                    out.append((path.stem, stmt.sql))
    return out


QUERIES = _queries()


@pytest.fixture(scope="module")
def harness() -> Harness:
    h = Harness()
    names = {m for _, sql in QUERIES for m in re.findall(r"probe_[a-z0-9]+(?:_psycopg)?(?=_orders|_mv)", sql)}
    for prefix in sorted(names):
        h.add_table(f"{prefix}_orders", ORDERS, [(1, "alice", 10.5, None, None, True)], pk=[0])
        h.add_table(f"{prefix}_mv", [("customer", VARCHAR), ("n", BIGINT), ("total", DOUBLE)],
                    kind=RelationKind.MATERIALIZED_VIEW)
    return h


def test_the_captures_hold_catalog_queries() -> None:
    clients = {client.removesuffix("_pg15") for client, _ in QUERIES}
    assert clients == {"asyncpg", "jdbc", "node_pg", "pandas", "psql", "psycopg", "sqlalchemy", "sqlalchemy_psycopg"}
    assert sum("pg_catalog" in sql for _, sql in QUERIES) > 50


@pytest.mark.parametrize(("client", "sql"), QUERIES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(QUERIES)])
def test_captured_query_runs(harness: Harness, client: str, sql: str) -> None:
    if re.search(r"\$\d", sql):
        # Parse and Describe: parameter types are inferred, nothing runs yet.
        plan, ctx = harness.bind(sql)
        assert plan.fields and all(t is not None for t in ctx.param_types)
        if "typeinfo_tree" in sql:
            _, rows = harness.query(sql, [[1007]])
            # int4[] itself, then (one level deeper) its element type.
            assert [(r[2], r[-4]) for r in rows] == [("int4", 1), ("_int4", 0)]
        return
    names, _ = harness.query(sql)
    assert names
