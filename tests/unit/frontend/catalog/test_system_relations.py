"""The system relations: names resolve, every relation builds rows of its declared types, and the rows of
pg_class, pg_attribute, pg_index, pg_constraint and pg_type agree with each other and with the catalog."""

from __future__ import annotations

import pytest

from common.catalog import RelationKind
from common.cluster_status import ActorStatus, ClusterStatus, FragmentStatus, JobStatusInfo, WorkerStatus
from common.functions_system import PUBLIC_OID, primary_key_index_oid
from common.types import BIGINT, INTEGER, VARCHAR
from frontend.catalog import lookup_system, system_tables
from frontend.catalog.columns import INFORMATION_SCHEMA, PG_CATALOG
from frontend.catalog.rows import build_rows
from tests.unit.frontend.binder.sql_harness import Harness


@pytest.fixture
def h() -> Harness:
    h = Harness()
    h.add_table("orders", [("id", BIGINT), ("customer", VARCHAR)], [(1, "a")], pk=[0])
    h.add_table("log", [("line", VARCHAR)], [("x",)])
    h.add_table("by_customer", [("customer", VARCHAR), ("n", BIGINT)], kind=RelationKind.MATERIALIZED_VIEW)
    return h


def test_names_resolve_like_postgres() -> None:
    assert lookup_system("pg_class", None) == lookup_system("pg_class", "pg_catalog")
    assert lookup_system("rw_tables", None) == lookup_system("rw_tables", "rw_catalog")
    assert lookup_system("tables", None) is None  # information_schema is not searched
    assert lookup_system("tables", "information_schema") is not None
    assert lookup_system("pg_class", "public") is None
    assert set(PG_CATALOG) | set(INFORMATION_SCHEMA) <= {t.name for t in system_tables().values()}


def test_oids_are_unique_and_stable() -> None:
    tables = system_tables()
    oids = [t.oid for t in tables.values()]
    assert len(set(oids)) == len(oids)
    assert tables[("pg_catalog", "pg_class")].oid == lookup_system("pg_class", None).id  # type: ignore[union-attr]


def test_every_relation_builds_rows_of_its_types(h: Harness) -> None:
    from frontend.binder.expr import BindContext

    snapshot = BindContext(session=h.session).catalog()
    for t in system_tables().values():
        table = build_rows(t.relation, snapshot)
        assert [f.type for f in table.schema] == [c.type.arrow for c in t.columns], t.name


def test_relations_columns_and_keys_agree(h: Harness) -> None:
    _, classes = h.query("SELECT oid, relname, relkind, relnatts, relhasindex FROM pg_class "
                         "WHERE relnamespace = 2200 ORDER BY relname")
    orders = next(r for r in h.meta.tables if r.name == "orders")
    assert classes == [(h.meta.tables[2].id, "by_customer", "m", 2, False),
                       (h.meta.tables[1].id, "log", "r", 1, False),
                       (orders.id, "orders", "r", 2, True),
                       (primary_key_index_oid(orders.id), "orders_pkey", "i", 1, False)]
    # The hidden row id of a table without a primary key is not a column users see.
    _, columns = h.query("SELECT c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull "
                         "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 2200 "
                         "ORDER BY 1, 3")
    assert columns == [("by_customer", "customer", 1, "character varying", False),
                       ("by_customer", "n", 2, "bigint", False), ("log", "line", 1, "character varying", False),
                       ("orders", "id", 1, "bigint", True), ("orders", "customer", 2, "character varying", False),
                       ("orders_pkey", "id", 1, "bigint", False)]
    _, keys = h.query("SELECT i.indkey, i.indisprimary, con.conname, con.contype, con.conkey FROM pg_index i "
                      "JOIN pg_constraint con ON con.conindid = i.indexrelid")
    assert keys == [([1], True, "orders_pkey", "p", [1])]


def test_every_column_type_is_in_pg_type(h: Harness) -> None:
    _, missing = h.query("SELECT DISTINCT a.atttypid FROM pg_attribute a LEFT JOIN pg_type t ON t.oid = a.atttypid "
                         "WHERE t.oid IS NULL")
    assert missing == []
    _, arrays = h.query("SELECT t.typname, e.typname FROM pg_type t JOIN pg_type e ON e.oid = t.typelem "
                        "WHERE t.typname IN ('_int4', '_text', '_varchar', 'int2vector', 'name')")
    assert sorted(arrays) == [("_int4", "int4"), ("_text", "text"), ("_varchar", "varchar"), ("int2vector", "int2"),
                              ("name", "char")]
    _, io = h.query("SELECT typinput = 'pg_catalog.array_in'::regproc, typinput::text FROM pg_type "
                    "WHERE typname IN ('_int4', 'int4') ORDER BY typname")
    assert io == [(True, "array_in"), (False, "int4in")]


def test_information_schema_leaves_out_materialized_views(h: Harness) -> None:
    _, tables = h.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
    assert tables == [("log",), ("orders",)]


def test_rw_catalog_shows_meta_cluster_status(h: Harness) -> None:
    orders = h.meta.tables[0]
    h.meta.status = ClusterStatus(
        fragments=(FragmentStatus(5, orders.id, "hash", (orders.id,), (6,), ("Materialize", "Merge")),
                   FragmentStatus(6, orders.id, "single", (), (), ("Dml",))),
        actors=(ActorStatus(50, 5, orders.id, 1, 128), ActorStatus(51, 5, orders.id, 2, 128),
                ActorStatus(60, 6, orders.id, 1, 256)),
        workers=(WorkerStatus(1, "10.0.0.1:5690", 4, "RUNNING"), WorkerStatus(2, "10.0.0.2:5690", 4, "RUNNING")),
        jobs=(JobStatusInfo(99, "big_view", "CREATE MATERIALIZED VIEW big_view AS ...", "CREATING", 0.25),),
        committed_epoch=(1_700_000_000_000 << 16), last_barrier_latency_ms=12.5, barrier_interval_ms=1000,
        recovery_count=2)
    _, fragments = h.query("SELECT fragment_id, distribution_type, flags, parallelism, node_count, "
                           "upstream_fragment_ids FROM rw_fragments ORDER BY 1")
    assert fragments == [(5, "hash", "Materialize, Merge", 2, 2, [6]), (6, "single", "Dml", 1, 1, [])]
    _, workers = h.query("SELECT id, host, port FROM rw_worker_nodes ORDER BY id")
    assert workers == [(1, "10.0.0.1", "5690"), (2, "10.0.0.2", "5690")]
    _, barrier = h.query("SELECT committed_epoch >> 16, last_barrier_latency_ms, recovery_count FROM rw_barrier")
    assert barrier == [(1_700_000_000_000, 12.5, 2)]
    _, jobs = h.query("SELECT job_id, name, status, progress FROM rw_catalog.rw_streaming_jobs")
    assert jobs == [(99, "big_view", "CREATING", "25.00%")]


def test_search_path_functions(h: Harness) -> None:
    h.session.vars.set("application_name", "tool")
    _, rows = h.query("SELECT current_setting('application_name'), pg_catalog.current_schemas(false), "
                      "pg_get_userbyid(16500), pg_get_userbyid(1), pg_encoding_to_char(6), "
                      "pg_table_is_visible('orders'::regclass), pg_table_is_visible('information_schema.tables'::regclass)")
    assert rows == [("tool", ["public"], "alice", "unknown (OID=1)", "UTF8", True, False)]
    assert PUBLIC_OID == 2200 and INTEGER.oid == 23
