"""System catalogs and catalog functions against a real server, through psycopg 3.

The session functions (version, current_setting, set_config, SHOW), the
reg* types, information_schema, Eddy's rw_catalog (relations, fragments,
actors, workers, barriers), SHOW JOBS, and what a materialized view may
not read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types import TypeInfo

from tests.helpers.eddy_server import EddyProcess, SlowCreate, wait_until


@pytest.fixture
def objects(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    p = f"cat_{uid}"
    conn.execute(f"CREATE TABLE {p}_t (k INT PRIMARY KEY, v VARCHAR)")
    conn.execute(f"INSERT INTO {p}_t VALUES (1, 'a'), (2, 'b'), (3, 'a')")
    conn.execute(f"CREATE MATERIALIZED VIEW {p}_mv AS SELECT v, count(*) AS n FROM {p}_t GROUP BY v")
    conn.execute("FLUSH")
    try:
        yield p
    finally:
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_mv")
        conn.execute(f"DROP TABLE IF EXISTS {p}_t")


def one(conn: psycopg.Connection, sql: str, *params: object) -> object:
    row = conn.execute(sql, params or None).fetchone()
    assert row is not None
    return row[0]


def test_version_and_settings(conn: psycopg.Connection) -> None:
    version = one(conn, "SELECT version()")
    assert isinstance(version, str) and version.startswith("PostgreSQL 13.14.0-Eddy-")
    assert one(conn, "SHOW server_version") == "13.14.0"
    assert one(conn, "SELECT current_setting('server_version_num')::int / 100") == 1300
    assert one(conn, "SELECT current_setting('default_table_access_method')") == "heap"
    assert one(conn, "SELECT current_setting('no_such_setting', true)") is None
    with pytest.raises(psycopg.errors.UndefinedObject):
        conn.execute("SELECT current_setting('no_such_setting')")
    assert one(conn, "SHOW max_index_keys") == "32"
    assert one(conn, "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'max_index_keys'") == "32"
    assert one(conn, "SELECT set_config('application_name', 'catalog-test', false)") == "catalog-test"
    assert one(conn, "SHOW application_name") == "catalog-test"
    assert conn.execute("SELECT current_user, session_user, user, current_database(), current_schema(), "
                        "current_schemas(true)").fetchone() == ("root", "root", "root", "dev", "public",
                                                                ["pg_catalog", "public"])
    assert one(conn, "SELECT pg_backend_pid()") == conn.info.backend_pid


def test_reg_types_print_names(conn: psycopg.Connection, objects: str) -> None:
    p = objects
    oid = one(conn, "SELECT oid FROM pg_class WHERE relname = %s", f"{p}_t")
    assert one(conn, f"SELECT '{p}_t'::regclass::oid") == oid
    assert conn.execute(f"SELECT '{p}_t'::regclass, 'pg_class'::regclass, 'information_schema.tables'::regclass::text, "
                        f"'int4'::regtype, 'varchar'::regtype::oid, 'pg_catalog'::regnamespace"
                        ).fetchone() == (f"{p}_t", "pg_class", "information_schema.tables", "integer", 1043,
                                         "pg_catalog")
    assert one(conn, "SELECT to_regclass('no_such_relation')") is None
    assert one(conn, "SELECT to_regtype('hstore')") is None
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT 'no_such_relation'::regclass")
    # psycopg's own type lookup (and SQLAlchemy's hstore probe with the psycopg driver).
    info = TypeInfo.fetch(conn, "numeric")
    assert info is not None and (info.oid, info.array_oid) == (1700, 1231)
    assert TypeInfo.fetch(conn, "hstore") is None


def test_information_schema(conn: psycopg.Connection, objects: str) -> None:
    p = objects
    assert conn.execute("SELECT table_name, table_type FROM information_schema.tables WHERE table_name LIKE %s "
                        "ORDER BY 1", (f"{p}%",)).fetchall() == [(f"{p}_t", "BASE TABLE")]
    assert conn.execute("SELECT column_name, ordinal_position, data_type, is_nullable FROM "
                        "information_schema.columns WHERE table_name = %s ORDER BY 2", (f"{p}_t",)).fetchall() == [
        ("k", 1, "integer", "NO"), ("v", 2, "character varying", "YES")]
    assert conn.execute("SELECT c.column_name FROM information_schema.table_constraints t JOIN "
                        "information_schema.key_column_usage c ON c.constraint_name = t.constraint_name WHERE "
                        "t.table_name = %s AND t.constraint_type = 'PRIMARY KEY'", (f"{p}_t",)).fetchall() == [("k",)]
    assert ("rw_catalog",) in conn.execute("SELECT schema_name FROM information_schema.schemata").fetchall()


def test_rw_catalog_describes_jobs_and_the_cluster(conn: psycopg.Connection, objects: str) -> None:
    p = objects
    table_id, view_id = (one(conn, "SELECT oid FROM pg_class WHERE relname = %s", f"{p}_{n}") for n in ("t", "mv"))
    assert conn.execute("SELECT name, relation_type FROM rw_catalog.rw_relations WHERE name LIKE %s ORDER BY 1",
                        (f"{p}%",)).fetchall() == [(f"{p}_mv", "materialized view"), (f"{p}_t", "table")]
    assert conn.execute("SELECT id, primary_key FROM rw_tables WHERE name = %s", (f"{p}_t",)).fetchall() == [
        (table_id, "k")]
    view = conn.execute("SELECT id, definition, depends_on, status FROM rw_materialized_views WHERE name = %s",
                        (f"{p}_mv",)).fetchone()
    assert view is not None and view[0] == view_id and view[1].startswith(f"CREATE MATERIALIZED VIEW {p}_mv")
    assert (view[2], view[3]) == ([table_id], "created")
    fragments = conn.execute("SELECT fragment_id, distribution_type, flags, parallelism, node_count FROM "
                             "rw_fragments WHERE table_id = %s ORDER BY fragment_id", (view_id,)).fetchall()
    assert fragments and any("Materialize" in f[2] for f in fragments)
    assert all(f[4] == 1 for f in fragments)  # one compute node
    for fragment_id, distribution, _, parallelism, _ in fragments:
        actors = conn.execute("SELECT worker_id, vnode_count FROM rw_actors WHERE fragment_id = %s",
                              (fragment_id,)).fetchall()
        assert len(actors) == parallelism
        if distribution == "hash":
            assert sum(vnodes for _, vnodes in actors) == 256
    workers = conn.execute("SELECT id, state, parallelism FROM rw_worker_nodes").fetchall()
    assert [w[1] for w in workers] == ["RUNNING"] and {a[0] for a in conn.execute(
        "SELECT worker_id FROM rw_actors").fetchall()} == {workers[0][0]}
    before = one(conn, "SELECT committed_epoch FROM rw_barrier")
    conn.execute("FLUSH")
    epoch, latency, interval = conn.execute("SELECT committed_epoch, last_barrier_latency_ms, barrier_interval_ms "
                                            "FROM rw_catalog.rw_barrier").fetchone()  # type: ignore[misc]
    assert epoch > before and latency >= 0 and interval == 100


def test_show_jobs_lists_only_jobs_being_created(conn: psycopg.Connection, objects: str) -> None:
    cur = conn.execute("SHOW JOBS")
    assert [d.name for d in cur.description or []] == ["Id", "Name", "Statement", "Status", "Progress"]
    # Every job here has committed its creation.
    assert cur.fetchall() == []


def test_show_jobs_reports_the_progress_of_a_backfilling_view(eddy: EddyProcess, conn: psycopg.Connection,
                                                             uid: str) -> None:
    p = f"cat_{uid}"
    conn.execute(f"CREATE TABLE {p}_big (k INT PRIMARY KEY, g INT)")
    conn.execute(f"INSERT INTO {p}_big SELECT k, k % 7 FROM generate_series(1, 3000) AS s(k)")
    conn.execute("FLUSH")
    creator = SlowCreate(eddy.dsn, f"CREATE MATERIALIZED VIEW {p}_slow AS SELECT g, count(*) AS n FROM {p}_big "
                                   "GROUP BY g", 1000)
    seen: list[float] = []
    try:
        while creator.is_alive():
            for _id, name, statement, status, progress in conn.execute("SHOW JOBS").fetchall():
                if name == f"{p}_slow":
                    assert status == "CREATING" and "GROUP BY g" in statement
                    seen.append(float(progress.rstrip("%")))
            time.sleep(0.02)  # polling interval, not synchronisation: the loop ends when the thread does
        creator.join()
        assert not creator.errors, creator.errors
        assert any(0 < s < 100 for s in seen), seen  # the view was seen part-way through its backfill
        assert seen == sorted(seen)  # progress only goes forward
        assert conn.execute("SHOW JOBS").fetchall() == []
        assert one(conn, f"SELECT sum(n) FROM {p}_slow") == 3000
    finally:
        creator.join()
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_slow")
        conn.execute(f"DROP TABLE IF EXISTS {p}_big")


def _start_slow_view(eddy: EddyProcess, conn: psycopg.Connection, p: str) -> SlowCreate:
    """Start creating `{p}_slow` over `{p}_src` at 200 rows/s per actor; return once SHOW JOBS lists it."""
    creator = SlowCreate(eddy.dsn, f"CREATE MATERIALIZED VIEW {p}_slow AS SELECT g, count(*) AS n FROM {p}_src "
                                   "GROUP BY g", 200)
    try:
        wait_until(lambda: any(r[1] == f"{p}_slow" for r in conn.execute("SHOW JOBS").fetchall()), timeout=30,
                   message="the view's creation to start")
    except BaseException:
        creator.join()
        raise
    return creator


def test_a_backfilling_view_stalls_neither_writers_nor_other_views(eddy: EddyProcess, conn: psycopg.Connection,
                                                                   uid: str) -> None:
    p = f"cat_{uid}"
    conn.execute("SET implicit_flush = true")
    conn.execute(f"CREATE TABLE {p}_src (k INT PRIMARY KEY, g INT)")
    conn.execute(f"CREATE MATERIALIZED VIEW {p}_live AS SELECT count(*) AS n FROM {p}_src")
    conn.execute(f"INSERT INTO {p}_src SELECT k, k % 7 FROM generate_series(1, 4000) AS s(k)")
    creator = _start_slow_view(eddy, conn, p)
    try:
        # while it backfills, writes commit and the other view follows them
        conn.execute(f"INSERT INTO {p}_src VALUES (5000, 1)")
        conn.execute(f"DELETE FROM {p}_src WHERE k <= 10")
        assert one(conn, f"SELECT n FROM {p}_live") == 3991
        assert creator.is_alive(), "the backfill ended before the writes: nothing was shown"
        creator.join()
        assert not creator.errors, creator.errors
        assert one(conn, f"SELECT sum(n) FROM {p}_slow") == 3991  # and the new view has every change
    finally:
        creator.join()
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_slow")
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_live")
        conn.execute(f"DROP TABLE IF EXISTS {p}_src")


def test_other_ddl_goes_on_while_a_view_backfills(eddy: EddyProcess, conn: psycopg.Connection, uid: str) -> None:
    """A long backfill holds no cluster-wide DDL lock; what it reads stays put, its name stays reserved."""
    p = f"cat_{uid}"
    conn.execute(f"CREATE TABLE {p}_src (k INT PRIMARY KEY, g INT)")
    conn.execute(f"INSERT INTO {p}_src SELECT k, k % 7 FROM generate_series(1, 4000) AS s(k)")
    conn.execute("FLUSH")
    creator = _start_slow_view(eddy, conn, p)
    try:
        conn.execute(f"CREATE TABLE {p}_other (k INT PRIMARY KEY, v INT)")
        conn.execute(f"INSERT INTO {p}_other VALUES (1, 10), (2, 20)")
        conn.execute(f"CREATE MATERIALIZED VIEW {p}_quick AS SELECT sum(v) AS s FROM {p}_other")
        conn.execute("FLUSH")
        assert one(conn, f"SELECT s FROM {p}_quick") == 30
        conn.execute(f"DROP MATERIALIZED VIEW {p}_quick")
        with pytest.raises(psycopg.errors.DependentObjectsStillExist, match=f"{p}_slow is being created"):
            conn.execute(f"DROP TABLE {p}_src CASCADE")
        with pytest.raises(psycopg.errors.ObjectInUse, match="being created"):
            conn.execute(f"ALTER TABLE {p}_other SET PARALLELISM = 1")
        with pytest.raises(psycopg.errors.DuplicateTable, match="being created"):
            conn.execute(f"CREATE MATERIALIZED VIEW {p}_slow AS SELECT count(*) AS n FROM {p}_other")
        with pytest.raises(psycopg.errors.ObjectInUse, match="is being created"):
            conn.execute(f"DROP MATERIALIZED VIEW {p}_slow")
        assert creator.is_alive(), "the backfill ended before the other DDL ran: nothing was shown"
        creator.join()
        assert not creator.errors, creator.errors
        assert one(conn, f"SELECT sum(n) FROM {p}_slow") == 4000
    finally:
        creator.join()
        for stmt in (f"DROP MATERIALIZED VIEW IF EXISTS {p}_quick", f"DROP MATERIALIZED VIEW IF EXISTS {p}_slow",
                     f"DROP TABLE IF EXISTS {p}_other", f"DROP TABLE IF EXISTS {p}_src"):
            conn.execute(stmt)


def test_cancelling_a_backfilling_create_stops_the_job(eddy: EddyProcess, conn: psycopg.Connection, uid: str) -> None:
    p = f"cat_{uid}"
    conn.execute("SET implicit_flush = true")
    conn.execute(f"CREATE TABLE {p}_src (k INT PRIMARY KEY, g INT)")
    conn.execute(f"INSERT INTO {p}_src SELECT k, k % 7 FROM generate_series(1, 4000) AS s(k)")
    actors_before = one(conn, "SELECT count(*) FROM rw_catalog.rw_actors")
    creator = _start_slow_view(eddy, conn, p)
    try:
        assert creator.session is not None
        creator.session.cancel()
        creator.join(timeout=60)
        assert not creator.is_alive()
        assert len(creator.errors) == 1 and isinstance(creator.errors[0], psycopg.errors.QueryCanceled), creator.errors
        assert conn.execute("SHOW JOBS").fetchall() == []
        wait_until(lambda: one(conn, "SELECT count(*) FROM rw_catalog.rw_actors") == actors_before, timeout=30,
                   message="the cancelled job's actors to leave the catalog")
        wait_until(lambda: f"cancelled the creation of materialized view {p}_slow: its actors are stopped"
                   in eddy.log_path.read_text(), timeout=30, message="the cancelled job's actors to stop")
        conn.execute(f"INSERT INTO {p}_src VALUES (5000, 1)")  # the table's writes no longer feed them
        conn.execute(f"CREATE MATERIALIZED VIEW {p}_slow AS SELECT g, count(*) AS n FROM {p}_src GROUP BY g")
        assert one(conn, f"SELECT sum(n) FROM {p}_slow") == 4001
    finally:
        creator.join()
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_slow")
        conn.execute(f"DROP TABLE IF EXISTS {p}_src")


def test_backfill_rate_limit_is_a_checked_session_variable(conn: psycopg.Connection) -> None:
    assert one(conn, "SHOW backfill_rate_limit") == "-1"
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="positive"):
        conn.execute("SET backfill_rate_limit = 0")
    conn.execute("SET backfill_rate_limit = 50")
    assert one(conn, "SHOW backfill_rate_limit") == "50"


def test_materialized_views_cannot_read_system_catalogs(conn: psycopg.Connection, uid: str) -> None:
    with pytest.raises(psycopg.errors.FeatureNotSupported, match=r"system catalog pg_catalog\.pg_class"):
        conn.execute(f"CREATE MATERIALIZED VIEW cat_{uid}_bad AS SELECT relname FROM pg_class")
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        conn.execute(f"CREATE MATERIALIZED VIEW cat_{uid}_bad AS SELECT name FROM rw_catalog.rw_tables")
    assert one(conn, "SELECT count(*) FROM pg_class WHERE relname = %s", f"cat_{uid}_bad") == 0


def test_tables_cannot_have_catalog_types(conn: psycopg.Connection, uid: str) -> None:
    for t in ("oid", "regclass", "int[]", "name", "int2vector"):
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="not supported for table columns"):
            conn.execute(f"CREATE TABLE cat_{uid}_bad (c {t})")


def test_undefined_system_relations_and_types(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT * FROM pg_catalog.pg_no_such_catalog")
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT * FROM information_schema.no_such_view")
    # Relations a client needs but Eddy has nothing for exist and are empty.
    for name in ("pg_policy", "pg_statistic_ext", "pg_publication_rel", "pg_inherits", "pg_description"):
        assert one(conn, f"SELECT count(*) FROM pg_catalog.{name}") == 0


def test_describe_reports_oids_a_client_can_join_on(eddy: EddyProcess, conn: psycopg.Connection,
                                                     objects: str) -> None:
    p = objects
    cur = conn.execute(f"SELECT k, v FROM {p}_t LIMIT 0")
    table_oid = one(conn, "SELECT oid FROM pg_class WHERE relname = %s", f"{p}_t")
    cols = conn.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
                        "ORDER BY attnum", (table_oid,)).fetchall()
    assert [(d.name, d.type_code) for d in cur.description or []] == cols


async def test_pg_sleep_waits_and_can_be_cancelled(eddy: EddyProcess) -> None:
    import asyncio

    import asyncpg

    c = await asyncpg.connect(eddy.dsn)
    try:
        assert await c.fetchval("SELECT pg_sleep(0.01)") is None  # void
        # asyncpg sends a CancelRequest when the timeout expires; the sleep must stop for the next query to run.
        with pytest.raises(asyncio.TimeoutError):
            await c.fetchval("SELECT pg_sleep(600)", timeout=0.5)
        assert await asyncio.wait_for(c.fetchval("SELECT 1"), 30) == 1
    finally:
        await c.close()
