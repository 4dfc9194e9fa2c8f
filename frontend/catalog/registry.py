"""The system relations: their schemas, names, OIDs and columns, and how a name resolves to one.

Every relation of `columns.PG_CATALOG` and `columns.INFORMATION_SCHEMA`
exists, plus Eddy's own rw_catalog relations; a relation whose rows no
builder produces is empty (what a client needs to find, with nothing in
it). OIDs are assigned in name order within each schema's block (see
`common.functions_system`), so they are the same in every session.
Unqualified names resolve in pg_catalog, then rw_catalog, as PostgreSQL
searches pg_catalog before the search path.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from common.catalog import ColumnDesc, Relation, RelationKind, TableDesc
from common.functions_system import system_relation_oid
from common.types import (
    BIGINT,
    BOOLEAN,
    CHAR,
    DOUBLE,
    INT2VECTOR,
    INTEGER,
    INTERVAL,
    NAME,
    OID,
    OID_ARRAY,
    OIDVECTOR,
    REAL,
    REGPROC,
    REGTYPE,
    SMALLINT,
    TEXT_ARRAY,
    TIMESTAMPTZ,
    VARCHAR,
    DataType,
    array_of,
)
from frontend.catalog.columns import INFORMATION_SCHEMA, PG_CATALOG

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "rw_catalog")
SEARCHED_SCHEMAS = ("pg_catalog", "rw_catalog")

_TYPES: dict[str, DataType] = {
    "oid": OID, "bool": BOOLEAN, "int8": BIGINT, "name": NAME, "text": VARCHAR, "varchar": VARCHAR, "char": CHAR,
    "regproc": REGPROC, "int4": INTEGER, "timestamptz": TIMESTAMPTZ, "text[]": TEXT_ARRAY, "int2": SMALLINT,
    "pg_node_tree": VARCHAR, "aclitem[]": TEXT_ARRAY, "oid[]": OID_ARRAY, "xid": OID, "int2vector": INT2VECTOR,
    "oidvector": OIDVECTOR, "float8": DOUBLE, "float4": REAL, "int2[]": array_of(SMALLINT), "interval": INTERVAL,
    "char[]": array_of(CHAR), "regtype[]": array_of(REGTYPE), "regtype": REGTYPE, "inet": VARCHAR, "bytea": VARCHAR,
    "anyarray": TEXT_ARRAY, "float8[]": array_of(DOUBLE), "int4[]": array_of(INTEGER),
}

# Eddy's own relations: the streaming jobs, their dataflows and the cluster (see rw_catalog.py).
RW_CATALOG: dict[str, str] = {
    "rw_relations": "id int4, name varchar, relation_type varchar, schema_id int4, owner int4, definition varchar, "
                    "created_at timestamptz",
    "rw_tables": "id int4, name varchar, schema_id int4, owner int4, definition varchar, primary_key varchar, "
                 "row_count_estimate int8, created_at timestamptz",
    "rw_materialized_views": "id int4, name varchar, schema_id int4, owner int4, definition varchar, "
                             "depends_on int4[], status varchar, created_at timestamptz",
    "rw_fragments": "fragment_id int4, table_id int4, distribution_type varchar, state_table_ids int4[], "
                    "upstream_fragment_ids int4[], flags varchar, parallelism int4, node_count int4",
    "rw_actors": "actor_id int4, fragment_id int4, table_id int4, worker_id int4, vnode_count int4, state varchar",
    "rw_worker_nodes": "id int4, host varchar, port varchar, type varchar, state varchar, parallelism int4, "
                       "is_streaming bool, is_serving bool",
    "rw_barrier": "committed_epoch int8, committed_at timestamptz, last_barrier_latency_ms float8, "
                  "barrier_interval_ms int4, recovery_count int8",
    "rw_streaming_jobs": "job_id int4, name varchar, definition varchar, status varchar, progress varchar",
}


def parse_columns(spec: str) -> tuple[ColumnDesc, ...]:
    out = []
    for part in spec.split(","):
        name, type_name = part.strip().split(" ", 1)
        out.append(ColumnDesc(name, _TYPES[type_name.strip()]))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SystemTable:
    schema: str
    name: str
    oid: int
    columns: tuple[ColumnDesc, ...]

    @property
    def relation(self) -> Relation:
        """The relation the binder sees (its rows come from frontend.catalog.rows)."""
        desc = TableDesc(self.oid, self.columns, (), (), ())
        return Relation(self.oid, self.name, RelationKind.SYSTEM, desc, "", schema_name=self.schema, owner="root")


@functools.cache
def system_tables() -> dict[tuple[str, str], SystemTable]:
    specs = {"pg_catalog": PG_CATALOG, "information_schema": INFORMATION_SCHEMA, "rw_catalog": RW_CATALOG}
    out: dict[tuple[str, str], SystemTable] = {}
    for schema, tables in specs.items():
        for i, name in enumerate(sorted(tables)):
            out[(schema, name)] = SystemTable(schema, name, system_relation_oid(schema, i), parse_columns(tables[name]))
    return out


@functools.cache
def _relations() -> dict[tuple[str, str], Relation]:
    return {key: t.relation for key, t in system_tables().items()}


def lookup_system(name: str, schema: str | None) -> Relation | None:
    """The system relation `schema.name` (unqualified: pg_catalog's, then rw_catalog's), None if none."""
    relations = _relations()
    if schema is not None:
        return relations.get((schema, name))
    for s in SEARCHED_SCHEMAS:
        found = relations.get((s, name))
        if found is not None:
            return found
    return None


def is_system_schema(schema: str | None) -> bool:
    return schema in SYSTEM_SCHEMAS
