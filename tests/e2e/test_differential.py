"""Differential test: every view equals the same query run by PostgreSQL over the same rows.

Seeded random sequences of inserts (new and existing keys), updates and
deletes go to three tables in Eddy and in a PostgreSQL database; after
each batch of operations every view (filter, aggregation, join plus
aggregation, a join, a view over a view, an aggregate without GROUP BY)
is compared with PostgreSQL's result for its query. Values are multiples
of 1/4, so float sums are exact whatever the order. A failure names its
seed; `EDDY_DIFF_SEED=<seed>` reruns just that one.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from decimal import Decimal

import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess
from tests.helpers.oracle import oracle_database

SEQUENCES = int(os.environ.get("EDDY_DIFF_SEQUENCES", "50"))
OPS_PER_SEQUENCE = int(os.environ.get("EDDY_DIFF_OPS", "40"))
CHECK_EVERY = 10

TABLES = [
    "CREATE TABLE {p}t1 (id INT PRIMARY KEY, g INT, v DOUBLE PRECISION, s VARCHAR)",
    "CREATE TABLE {p}t2 (id INT PRIMARY KEY, k INT, w BIGINT)",
    "CREATE TABLE {p}t3 (k INT PRIMARY KEY, name VARCHAR)",
]
VIEWS = {
    "filt": "SELECT id, v, s FROM {p}t1 WHERE v > 10 AND s IS NOT NULL",
    "agg": "SELECT g, count(*) AS n, sum(v) AS sv, min(v) AS lo, max(v) AS hi, count(s) AS ns, avg(v) AS av "
           "FROM {p}t1 GROUP BY g",
    "joinagg": "SELECT {p}t3.name, count(*) AS n, sum({p}t2.w) AS sw, min({p}t2.w) AS lo, max({p}t2.w) AS hi "
               "FROM {p}t2 JOIN {p}t3 ON {p}t2.k = {p}t3.k GROUP BY {p}t3.name",
    "join": "SELECT a.id AS aid, b.id AS bid, a.v, b.w FROM {p}t1 a JOIN {p}t2 b ON a.g = b.k WHERE b.w > 0",
    "total": "SELECT count(*) AS n, sum(w) AS sw, max(k) AS mk FROM {p}t2",
}
# A view over a view: the oracle evaluates it over the base query.
VIEW_ON_VIEW = ("busy", "SELECT g, n, sv FROM {p}agg WHERE n > 2",
                "SELECT g, n, sv FROM ({agg}) AS x WHERE n > 2")


def _norm(v: object) -> object:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float) and v == int(v) and abs(v) < 2**53:
        return float(v)
    return v


def _rows(conn: psycopg.Connection, sql: str) -> Counter:  # type: ignore[type-arg]
    return Counter(tuple(_norm(v) for v in r) for r in conn.execute(sql).fetchall())


class Workload:
    def __init__(self, seed: int, prefix: str) -> None:
        self.rnd = random.Random(seed)
        self.p = prefix
        self.ids = {"t1": 60, "t2": 60, "t3": 8}

    def value(self) -> str:
        return "NULL" if self.rnd.random() < 0.08 else str(self.rnd.randint(-40, 400) / 4)

    def statement(self) -> tuple[str, str]:
        """(Eddy SQL, PostgreSQL SQL) for one random operation."""
        r, p = self.rnd, self.p
        table = r.choice(["t1", "t1", "t2", "t2", "t3"])
        kind = r.choices(["insert", "update", "delete"], [6, 3, 2])[0]
        key = r.randint(1, self.ids[table])
        if table == "t1":
            s = "NULL" if r.random() < 0.1 else f"'{r.choice('abcdef')}'"
            cols, vals = "id, g, v, s", f"{key}, {r.randint(0, 6)}, {self.value()}, {s}"
            sets = [f"g = {r.randint(0, 6)}", f"v = {self.value()}", f"v = v + {r.randint(-8, 8) / 4}", f"s = {s}"]
            preds = [f"id = {key}", f"g = {r.randint(0, 6)}", f"v > {r.randint(0, 100)}", "s IS NULL"]
        elif table == "t2":
            cols, vals = "id, k, w", f"{key}, {r.randint(0, 9)}, {r.randint(-5, 100)}"
            sets = [f"k = {r.randint(0, 9)}", "w = w * 2", f"w = {r.randint(-5, 100)}"]
            preds = [f"id = {key}", f"k = {r.randint(0, 9)}", f"w < {r.randint(0, 50)}"]
        else:
            cols, vals = "k, name", f"{key}, '{r.choice(['x', 'y', 'z', 'w'])}'"
            sets = [f"name = '{r.choice(['x', 'y', 'z'])}'"]
            preds = [f"k = {key}", f"name = '{r.choice(['x', 'y'])}'"]
        t = f"{p}{table}"
        if kind == "insert":
            n = r.randint(1, 4)
            rows = [vals] + [self._more(table) for _ in range(n - 1)]
            eddy = f"INSERT INTO {t} ({cols}) VALUES " + ", ".join(f"({x})" for x in rows)
            # Eddy overwrites existing keys; PostgreSQL does that with an upsert (last row wins per key).
            dedup = {x.split(",")[0]: x for x in rows}
            pk = "k" if table == "t3" else "id"
            updates = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in cols.split(",")[1:])
            pg = (f"INSERT INTO {t} ({cols}) VALUES " + ", ".join(f"({x})" for x in dedup.values())
                  + f" ON CONFLICT ({pk}) DO UPDATE SET {updates}")
            return eddy, pg
        if kind == "update":
            sql = f"UPDATE {t} SET {r.choice(sets)} WHERE {r.choice(preds)}"
            return sql, sql
        sql = f"DELETE FROM {t} WHERE {r.choice(preds)}"
        return sql, sql

    def _more(self, table: str) -> str:
        r = self.rnd
        key = r.randint(1, self.ids[table])
        if table == "t1":
            return f"{key}, {r.randint(0, 6)}, {self.value()}, '{r.choice('abc')}'"
        if table == "t2":
            return f"{key}, {r.randint(0, 9)}, {r.randint(-5, 100)}"
        return f"{key}, '{r.choice(['x', 'y', 'z'])}'"


@pytest.fixture(scope="module")
def differential_eddy(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    proc = EddyProcess(tmp_path_factory.mktemp("diff") / "data", barrier_interval_ms=50, parallelism=3).start()
    yield proc
    proc.stop()


def test_views_match_postgresql(differential_eddy: EddyProcess) -> None:
    p = "dt_"
    only = os.environ.get("EDDY_DIFF_SEED")
    seeds = [int(only)] if only else list(range(SEQUENCES))
    with oracle_database("eddy_diff") as pg, psycopg.connect(differential_eddy.dsn, autocommit=True) as ed:
        for ddl in TABLES:
            ed.execute(ddl.format(p=p))
            pg.execute(ddl.format(p=p))
        for name, q in VIEWS.items():
            ed.execute(f"CREATE MATERIALIZED VIEW {p}{name} AS {q.format(p=p)}")
        vname, vq, _ = VIEW_ON_VIEW
        ed.execute(f"CREATE MATERIALIZED VIEW {p}{vname} AS {vq.format(p=p)}")
        oracle = {name: q.format(p=p) for name, q in VIEWS.items()}
        oracle[vname] = VIEW_ON_VIEW[2].format(agg=VIEWS["agg"].format(p=p))
        for seed in seeds:
            for t in ("t1", "t2", "t3"):
                ed.execute(f"DELETE FROM {p}{t}")
                pg.execute(f"DELETE FROM {p}{t}")
            work = Workload(seed, p)
            history: list[str] = []
            for i in range(OPS_PER_SEQUENCE):
                e_sql, pg_sql = work.statement()
                history.append(e_sql)
                ed_err = pg_err = None
                try:
                    ed.execute(e_sql)
                except psycopg.Error as exc:
                    ed_err = exc.sqlstate
                try:
                    pg.execute(pg_sql)
                except psycopg.Error as exc:
                    pg_err = exc.sqlstate
                assert ed_err == pg_err, f"seed {seed}: {e_sql!r}: eddy {ed_err} vs postgres {pg_err}"
                if (i + 1) % CHECK_EVERY == 0 or i == OPS_PER_SEQUENCE - 1:
                    ed.execute("FLUSH")
                    for name, q in oracle.items():
                        got, want = _rows(ed, f"SELECT * FROM {p}{name}"), _rows(pg, q)
                        assert got == want, (
                            f"seed {seed}, after {i + 1} ops, view {name}:\n  eddy-only: {got - want}\n"
                            f"  postgres-only: {want - got}\n  last statements: {history[-5:]}")
        for name in [vname, *reversed(list(VIEWS))]:
            ed.execute(f"DROP MATERIALIZED VIEW {p}{name}")
        for t in ("t1", "t2", "t3"):
            ed.execute(f"DROP TABLE {p}{t}")
