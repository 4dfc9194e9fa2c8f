"""SQLAlchemy 2 (psycopg2 driver) and pandas against a real server: connect, Inspector, read_sql, to_sql.

SQLAlchemy parses version() to choose its reflection SQL, and its
get_columns query binds json_build_object, pg_get_serial_sequence and
pg_collation_is_visible inside CASE branches it never takes; every
Inspector call below runs the catalog queries SQLAlchemy 2 sends.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess

sa = pytest.importorskip("sqlalchemy")
pd = pytest.importorskip("pandas")


@pytest.fixture
def engine(eddy: EddyProcess) -> Iterator[object]:
    e = sa.create_engine(f"postgresql+psycopg2://root@127.0.0.1:{eddy.port}/dev")
    yield e
    e.dispose()


@pytest.fixture
def objects(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    p = f"sa_{uid}"
    conn.execute(f"CREATE TABLE {p}_orders (id BIGINT PRIMARY KEY, customer VARCHAR, amount DOUBLE PRECISION, "
                 f"created_at TIMESTAMP, price NUMERIC(12,2), paid BOOLEAN)")
    conn.execute(f"CREATE TABLE {p}_events (name TEXT, at TIMESTAMPTZ)")
    conn.execute(f"INSERT INTO {p}_orders VALUES (1, 'alice', 10.5, '2024-01-01 10:00:00', 1.10, true), "
                 f"(2, 'bob', 20, '2024-01-02 11:30:00', 2.20, false), (3, 'alice', 5.25, NULL, NULL, true)")
    conn.execute(f"CREATE MATERIALIZED VIEW {p}_by_customer AS SELECT customer, count(*) AS n, sum(amount) AS total "
                 f"FROM {p}_orders GROUP BY customer")
    conn.execute("FLUSH")
    try:
        yield p
    finally:
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_by_customer")
        conn.execute(f"DROP TABLE IF EXISTS {p}_orders")
        conn.execute(f"DROP TABLE IF EXISTS {p}_events")


def test_dialect_reads_the_server_version(engine: object) -> None:
    with engine.connect() as c:  # type: ignore[attr-defined]
        assert c.dialect.server_version_info[:2] == (13, 14)
        assert c.dialect.default_schema_name == "public"
        assert c.execute(sa.text("select pg_catalog.version()")).scalar().startswith("PostgreSQL 13.14.0-Eddy-")


def test_inspector_lists_schemas_tables_views_and_materialized_views(engine: object, objects: str) -> None:
    p = objects
    insp = sa.inspect(engine)
    assert {"public", "information_schema", "rw_catalog"} <= set(insp.get_schema_names())
    tables = [t for t in insp.get_table_names() if t.startswith(p)]
    assert sorted(tables) == [f"{p}_events", f"{p}_orders"]
    assert [v for v in insp.get_view_names() if v.startswith(p)] == []
    assert [v for v in insp.get_materialized_view_names() if v.startswith(p)] == [f"{p}_by_customer"]
    assert insp.has_table(f"{p}_orders") and insp.has_table(f"{p}_by_customer")
    assert not insp.has_table(f"{p}_missing")


def test_inspector_columns_primary_keys_and_indexes(engine: object, objects: str) -> None:
    p = objects
    insp = sa.inspect(engine)
    columns = [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(f"{p}_orders")]
    assert columns == [("id", "BIGINT", False), ("customer", "VARCHAR", True), ("amount", "DOUBLE PRECISION", True),
                       ("created_at", "TIMESTAMP", True), ("price", "NUMERIC(12, 2)", True), ("paid", "BOOLEAN", True)]
    view_columns = [(c["name"], str(c["type"])) for c in insp.get_columns(f"{p}_by_customer")]
    assert view_columns == [("customer", "VARCHAR"), ("n", "BIGINT"), ("total", "DOUBLE PRECISION")]
    pk = insp.get_pk_constraint(f"{p}_orders")
    assert (pk["constrained_columns"], pk["name"]) == (["id"], f"{p}_orders_pkey")
    assert insp.get_pk_constraint(f"{p}_events")["constrained_columns"] == []
    # As on PostgreSQL, get_indexes leaves out the index that backs the primary key.
    assert insp.get_indexes(f"{p}_orders") == []
    assert insp.get_foreign_keys(f"{p}_orders") == []
    assert insp.get_unique_constraints(f"{p}_orders") == []
    assert insp.get_table_comment(f"{p}_orders") == {"text": None}
    reflected = sa.Table(f"{p}_orders", sa.MetaData(), autoload_with=engine)
    assert [c.name for c in reflected.primary_key.columns] == ["id"]


def test_pandas_reads_a_view_and_appends_to_a_table(engine: object, conn: psycopg.Connection, objects: str) -> None:
    p = objects
    frame = pd.read_sql(f"SELECT customer, n, total FROM {p}_by_customer ORDER BY customer", engine)
    assert frame.to_dict("records") == [{"customer": "alice", "n": 2, "total": 15.75},
                                        {"customer": "bob", "n": 1, "total": 20.0}]
    table = pd.read_sql_table(f"{p}_orders", engine)
    assert sorted(table["id"]) == [1, 2, 3]
    new = pd.DataFrame({"id": [10, 11], "customer": ["carol", "dave"], "amount": [1.5, 2.5],
                        "created_at": pd.to_datetime(["2024-02-01 00:00:00", "2024-02-02 00:00:00"]),
                        "price": [3.3, 4.4], "paid": [True, False]})
    # to_sql checks the table exists (has_table, reflection), then inserts in one BEGIN ... COMMIT block.
    assert new.to_sql(f"{p}_orders", engine, if_exists="append", index=False) == 2
    conn.execute("FLUSH")
    rows = conn.execute(f"SELECT id, customer FROM {p}_orders WHERE id >= 10 ORDER BY id").fetchall()
    assert rows == [(10, "carol"), (11, "dave")]
