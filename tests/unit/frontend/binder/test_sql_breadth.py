"""The SQL catalog queries need, run through Eddy's binder and executors and compared with PostgreSQL 15.

Subqueries (scalar, correlated, EXISTS, IN, ARRAY), ANY/ALL, UNION,
WITH RECURSIVE, arrays and their functions, set-returning functions in
FROM and in the select list, window ranking, ordered aggregates, regular
expressions, OPERATOR(), COLLATE, LIKE ... ESCAPE and LIMIT ALL: each
query runs over the same rows on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from common.errors import EddyError
from common.types import DOUBLE, INTEGER, VARCHAR
from tests.helpers.oracle import oracle_database
from tests.unit.frontend.binder.sql_harness import Harness, norm_rows

T1 = [(1, "alice", 10.5), (2, "bob", 20.0), (3, "alice", None), (4, None, 7.25), (5, "carol", 1.0)]
T2 = [(1, "x"), (1, "y"), (3, "z"), (6, "w")]

QUERIES = [
    # scalar and correlated subqueries
    ("SELECT a, (SELECT max(x) FROM t2) FROM t1", False),
    ("SELECT a, (SELECT y FROM t2 WHERE t2.x = t1.a AND t2.y <> 'y') FROM t1", False),
    ("SELECT a, (SELECT count(*) FROM t2 WHERE t2.x = t1.a) AS n FROM t1", False),
    ("SELECT a FROM t1 WHERE (SELECT count(*) FROM t2 WHERE t2.x = t1.a) > 1", False),
    ("SELECT a, CASE WHEN a > 2 THEN (SELECT min(y) FROM t2 WHERE x = a) ELSE 'small' END FROM t1", False),
    # EXISTS and IN
    ("SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.x = t1.a)", False),
    ("SELECT a FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t2 WHERE t2.x = t1.a)", False),
    ("SELECT a FROM t1 WHERE a IN (SELECT x FROM t2)", False),
    ("SELECT a, a NOT IN (SELECT x FROM t2) FROM t1", False),
    ("SELECT a, a IN (SELECT NULLIF(x, 3) FROM t2) FROM t1", False),
    ("SELECT a FROM t1 WHERE a = ANY (SELECT x FROM t2)", False),
    ("SELECT a, ARRAY(SELECT y FROM t2 WHERE x = a ORDER BY y) FROM t1", False),
    # arrays
    ("SELECT a FROM t1 WHERE a = ANY (ARRAY[1, 3, 9])", False),
    ("SELECT a, a <> ALL ('{1,2}'::int[]) FROM t1", False),
    ("SELECT b, b = ANY (ARRAY['alice', NULL]) FROM t1", False),
    ("SELECT (ARRAY[10, 20, 30])[2], ('{a,b}'::text[])[3], array_upper(ARRAY[1,2,3], 1), "
     "array_length('{}'::int[], 1), cardinality(ARRAY[1, 2])", True),
    ("SELECT array_to_string(ARRAY['a', NULL, 'c'], ','), array_to_string(ARRAY[1, NULL, 3], '-', '*')", True),
    ("SELECT ARRAY[1, 2] || ARRAY[3], ARRAY[1] || 2, 0 || ARRAY[1], string_to_array('a,b,,c', ',')", True),
    ("SELECT '{1,2}'::int[] = ARRAY[1, 2], '{x}'::text[] <> ARRAY['y']", True),
    # set-returning functions
    ("SELECT * FROM generate_series(1, 4) AS s(n)", False),
    ("SELECT n, b FROM generate_series(1, 3) AS g(n) JOIN t1 ON t1.a = g.n", False),
    ("SELECT a, unnest(ARRAY[a, a * 10]) FROM t1 WHERE a < 3", False),
    ("SELECT unnest(ARRAY['x', 'y', 'z']) AS v, generate_subscripts(ARRAY['x', 'y', 'z'], 1) AS i", False),
    ("SELECT * FROM unnest(ARRAY[3, 1, 2]) WITH ORDINALITY AS u(v, i)", False),
    ("SELECT s.r, (ARRAY['p', 'q'])[s.r] FROM generate_series(1, array_upper(ARRAY['p', 'q'], 1)) AS s(r)", False),
    ("SELECT generate_series(1, a) FROM t1 WHERE a <= 3", False),
    # UNION, WITH RECURSIVE
    ("SELECT a FROM t1 UNION SELECT x FROM t2", False),
    ("SELECT a FROM t1 UNION ALL SELECT x FROM t2 ORDER BY 1", True),
    ("SELECT b FROM t1 UNION ALL SELECT 'q' ORDER BY 1 LIMIT 3", True),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r", True),
    ("WITH RECURSIVE r(n, s) AS (SELECT a, b FROM t1 WHERE a = 1 UNION SELECT r.n + 1, t1.b FROM r JOIN t1 "
     "ON t1.a = r.n + 1) SELECT * FROM r", False),
    # windows and aggregates
    ("SELECT a, b, row_number() OVER (PARTITION BY b ORDER BY a) FROM t1", False),
    ("SELECT a, rank() OVER (ORDER BY c DESC), dense_rank() OVER (ORDER BY b) FROM t1", False),
    ("SELECT b, array_agg(a ORDER BY a DESC), string_agg(a::text, ',' ORDER BY a) FROM t1 GROUP BY b", False),
    ("SELECT bool_and(a > 0), bool_or(a > 4), every(c > 0) FROM t1", True),
    ("SELECT x, array_agg(DISTINCT y ORDER BY y) FROM t2 GROUP BY x", False),
    # strings, operators and syntax catalog queries use
    ("SELECT b FROM t1 WHERE b ~ '^a' OR b ~* 'BO'", False),
    ("SELECT b, b !~ 'l', b !~* 'A' FROM t1", False),
    ("SELECT b FROM t1 WHERE b OPERATOR(pg_catalog.~) '^(alice)$' COLLATE pg_catalog.default", False),
    ("SELECT b FROM t1 WHERE b NOT LIKE 'a/_%' || '' ESCAPE '/'", False),
    ("SELECT 'a_b' LIKE 'a/_b' ESCAPE '/', 'axb' LIKE 'a/_b' ESCAPE '/'", True),
    ("SELECT a FROM t1 ORDER BY a LIMIT ALL", True),
    ("SELECT a & 6, a | 8, 5 # a, a << 2, a >> 1 FROM t1", False),
    ("SELECT pg_catalog.lower(b), E'a\\tb', quote_ident('Ab'), quote_ident('select'), quote_ident('ok_1') FROM t1",
     False),
    ("SELECT format('%s-%I-%L', a, b, b) FROM t1 WHERE b IS NOT NULL", False),
    ("SELECT format('%s-%I-%L', a, b, b) FROM t1", False),
    ("SELECT 1::oid + 0", True),
    ("SELECT '7'::oid, 5::int8::oid::int4, 4294967295::oid::int4, (-1)::oid", True),
    ("SELECT x, count(*) FROM (SELECT x FROM t2 UNION ALL SELECT a FROM t1) u GROUP BY x", False),
]


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[Harness, psycopg.Connection]]:
    h = Harness()
    h.add_table("t1", [("a", INTEGER), ("b", VARCHAR), ("c", DOUBLE)], T1, pk=[0])
    h.add_table("t2", [("x", INTEGER), ("y", VARCHAR)], T2)
    with oracle_database("eddy_breadth") as pg:
        pg.execute("CREATE TABLE t1 (a int PRIMARY KEY, b text, c float8)")
        pg.execute("CREATE TABLE t2 (x int, y text)")
        with pg.cursor() as cur:
            cur.executemany("INSERT INTO t1 VALUES (%s, %s, %s)", T1)
            cur.executemany("INSERT INTO t2 VALUES (%s, %s)", T2)
        yield h, pg


@pytest.mark.parametrize(("sql", "ordered"), QUERIES, ids=[q[:60] for q, _ in QUERIES])
def test_query_matches_postgres(both: tuple[Harness, psycopg.Connection], sql: str, ordered: bool) -> None:
    h, pg = both
    try:
        expected = pg.execute(sql).fetchall()
    except psycopg.Error as e:
        with pytest.raises(EddyError) as raised:
            h.query(sql)
        assert raised.value.sqlstate == e.sqlstate, raised.value.message
        return
    _, got = h.query(sql)
    assert norm_rows(got, ordered) == norm_rows(expected, ordered)
