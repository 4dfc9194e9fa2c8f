"""Crash recovery: kill -9 the playground during continuous inserts, restart it on the same data.

Every row whose INSERT returned under implicit_flush must be there after
the restart, nothing may be duplicated, and every view must equal its
query evaluated over its tables (by Eddy's batch engine and by PostgreSQL).
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import psycopg

from tests.helpers.eddy_server import EddyProcess, wait_until
from tests.helpers.oracle import oracle_database

SCHEMA = [
    "CREATE TABLE rc_orders (id BIGINT PRIMARY KEY, customer VARCHAR, amount DOUBLE PRECISION)",
    "CREATE TABLE rc_events (seq BIGINT, note VARCHAR)",  # no primary key: duplicates would show
    "CREATE TABLE rc_customers (id VARCHAR PRIMARY KEY, region VARCHAR)",
]
VIEWS = {
    "rc_revenue": "SELECT customer, count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi "
                  "FROM rc_orders GROUP BY customer",
    "rc_by_region": "SELECT c.region, count(*) AS n, sum(o.amount) AS total FROM rc_orders o "
                    "JOIN rc_customers c ON o.customer = c.id GROUP BY c.region",
    "rc_event_count": "SELECT count(*) AS n, max(seq) AS top FROM rc_events",
}


class Writer(threading.Thread):
    """Inserts rows under implicit_flush until its connection breaks; records what was acknowledged."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.acked: list[int] = []
        self.next_id = 1

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute("SET implicit_flush = true")
                while True:
                    i = self.next_id
                    rows = ", ".join(f"({i + k}, '{'abc'[(i + k) % 3]}', {(i + k) % 17 * 0.5})" for k in range(3))
                    conn.execute(f"INSERT INTO rc_orders VALUES {rows}")
                    conn.execute(f"INSERT INTO rc_events VALUES ({i}, 'e'), ({i + 1}, 'e'), ({i + 2}, 'e')")
                    self.acked.extend((i, i + 1, i + 2))
                    self.next_id += 3
        except psycopg.Error:
            return


def _norm(rows: list[tuple]) -> Counter:  # type: ignore[type-arg]
    return Counter(tuple(float(v) if isinstance(v, (Decimal, float)) else v for v in r) for r in rows)


def test_kill_9_during_inserts_loses_no_acknowledged_row_and_duplicates_nothing(fresh_eddy: EddyProcess) -> None:
    eddy = fresh_eddy.start()
    with psycopg.connect(eddy.dsn, autocommit=True) as conn:
        for ddl in SCHEMA:
            conn.execute(ddl)
        conn.execute("INSERT INTO rc_customers VALUES ('a', 'eu'), ('b', 'us'), ('c', 'eu')")
        for name, q in VIEWS.items():
            conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {q}")
    writer = Writer(eddy.dsn)
    writer.start()
    wait_until(lambda: len(writer.acked) >= 150, timeout=120, message="150 acknowledged inserts")
    eddy.kill()
    writer.join(timeout=30)
    acked = list(writer.acked)

    eddy.start()
    with psycopg.connect(eddy.dsn, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM rc_orders").fetchall()]
        assert set(acked) <= set(ids), f"lost acknowledged rows: {sorted(set(acked) - set(ids))[:20]}"
        seqs = [r[0] for r in conn.execute("SELECT seq FROM rc_events").fetchall()]
        dup = [s for s, n in Counter(seqs).items() if n > 1]
        assert not dup, f"duplicated rows after recovery: {dup[:20]}"
        assert set(acked) <= set(seqs)
        for name, q in VIEWS.items():
            assert _norm(conn.execute(f"SELECT * FROM {name}").fetchall()) == _norm(conn.execute(q).fetchall()), name
        # the views keep following changes after the restart
        conn.execute("SET implicit_flush = true")
        conn.execute("INSERT INTO rc_orders VALUES (1000000, 'b', 1000)")
        hi = conn.execute("SELECT hi FROM rc_revenue WHERE customer = 'b'").fetchone()
        assert hi is not None and hi[0] == 1000
        tables = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in ("rc_orders", "rc_customers", "rc_events")}
        views = {name: _norm(conn.execute(f"SELECT * FROM {name}").fetchall()) for name in VIEWS}
    with oracle_database("eddy_recovery") as pg:
        for ddl in SCHEMA:
            pg.execute(ddl)
        for t, rows in tables.items():
            if rows:
                with pg.cursor() as cur:
                    cur.executemany(f"INSERT INTO {t} VALUES ({', '.join(['%s'] * len(rows[0]))})", rows)
        for name, q in VIEWS.items():
            assert views[name] == _norm(pg.execute(q).fetchall()), f"{name} differs from PostgreSQL"
