"""Eddy with its meta store on PostgreSQL: the catalog and committed state survive kill -9 and a restart.

The playground keeps its SSTs in its data directory and everything meta
knows (catalog, fragments, the LSM version) in a PostgreSQL database made
for the test on the oracle server.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.helpers.eddy_server import EddyProcess
from tests.helpers.meta_store_db import postgres_meta_database


def test_a_cluster_restarts_from_a_postgres_meta_store(tmp_path: Path, uid: str) -> None:
    with postgres_meta_database() as (url, admin):
        eddy = EddyProcess(tmp_path / "data", extra_args=("--meta-store", url)).start()
        try:
            with psycopg.connect(eddy.dsn, autocommit=True) as conn:
                conn.execute(f"CREATE TABLE pgm_{uid} (id BIGINT PRIMARY KEY, v DOUBLE PRECISION)")
                # 1e20 is kept in the catalog as a float: it must come back as one after the restart.
                conn.execute(f"CREATE MATERIALIZED VIEW pgm_sum_{uid} AS SELECT count(*) AS n, sum(v) AS s"
                             f" FROM pgm_{uid} WHERE v < '1e20'::double precision")
                conn.execute("SET implicit_flush = true")
                conn.execute(f"INSERT INTO pgm_{uid} VALUES (1, 1.5), (2, 2.25), (3, -2), (4, 1e21)")
            names = {r[0] for r in admin.execute(
                "SELECT value->>'name' FROM eddy_meta WHERE ns = 'relation'").fetchall()}
            assert {f"pgm_{uid}", f"pgm_sum_{uid}"} <= names
            eddy.kill()
            assert not (tmp_path / "data" / "meta.db").exists()  # nothing of meta's went to SQLite

            eddy.start()
            with psycopg.connect(eddy.dsn, autocommit=True) as conn:
                assert conn.execute(f"SELECT id, v FROM pgm_{uid} ORDER BY id").fetchall() == [
                    (1, 1.5), (2, 2.25), (3, -2.0), (4, 1e21)]
                assert conn.execute(f"SELECT n, s FROM pgm_sum_{uid}").fetchall() == [(3, 1.75)]
                conn.execute("SET implicit_flush = true")
                conn.execute(f"DELETE FROM pgm_{uid} WHERE id = 2")
                conn.execute(f"INSERT INTO pgm_{uid} VALUES (5, 1e19)")
                assert conn.execute(f"SELECT n, s FROM pgm_sum_{uid}").fetchall() == [(3, 1e19 - 0.5)]
                conn.execute(f"DROP MATERIALIZED VIEW pgm_sum_{uid}")
                conn.execute(f"DROP TABLE pgm_{uid}")
            left = admin.execute("SELECT count(*) FROM eddy_meta WHERE ns = 'relation'").fetchone()
            assert left == (0,)
        finally:
            eddy.kill()
