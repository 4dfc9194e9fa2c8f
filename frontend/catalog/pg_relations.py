"""pg_catalog relations about relations: pg_class, pg_attribute, pg_index, pg_constraint, pg_namespace and their views.

User tables are relkind 'r' and materialized views 'm'; pg_catalog's own
relations are listed too (tables 'r', views 'v'), so `\\dS` and
DatabaseMetaData.getTables with SYSTEM TABLE find them. Rows of the
system relations never change and are built once.
"""

from __future__ import annotations

import functools

from common.catalog import Relation, RelationKind
from common.functions_system import (
    BTREE_AM_OID,
    DEFAULT_COLLATION_OID,
    HEAP_AM_OID,
    INFORMATION_SCHEMA_OID,
    PG_CATALOG_OID,
    PUBLIC_OID,
    RW_CATALOG_OID,
    SCHEMAS,
)
from common.types import DataType, TypeName
from common.user import ROOT_USER_ID
from frontend.catalog.registry import SystemTable, system_tables
from frontend.catalog.rows import Row, builder
from frontend.catalog.snapshot import CatalogSnapshot, PrimaryKey, visible_attributes

# pg_catalog's relations that are views in PostgreSQL (the rest are tables).
_PG_VIEWS = {"pg_roles", "pg_user", "pg_shadow", "pg_group", "pg_settings", "pg_tables", "pg_views", "pg_matviews",
             "pg_indexes", "pg_sequences", "pg_stat_activity", "pg_stat_user_tables", "pg_stat_all_tables",
             "pg_statio_user_tables", "pg_statio_all_tables", "pg_stat_database", "pg_locks", "pg_cursors",
             "pg_prepared_statements", "pg_available_extensions", "pg_timezone_names", "pg_timezone_abbrevs",
             "pg_stat_user_indexes", "pg_stat_all_indexes"}


def _string_collation(t: object) -> int:
    return DEFAULT_COLLATION_OID if getattr(t, "is_string", False) else 0


def _class_row(oid: int, name: str, namespace: int, kind: str, natts: int, owner: int = ROOT_USER_ID,
               has_index: bool = False, am: int = HEAP_AM_OID) -> Row:
    return {"oid": oid, "relname": name, "relnamespace": namespace, "reltype": 0, "reloftype": 0, "relowner": owner,
            "relam": am if kind in ("r", "m", "i") else 0, "relfilenode": oid if kind != "v" else 0,
            "reltablespace": 0, "relpages": 0, "reltuples": -1.0, "relallvisible": 0, "reltoastrelid": 0,
            "relhasindex": has_index, "relisshared": False, "relpersistence": "p", "relkind": kind,
            "relnatts": natts, "relchecks": 0, "relhasrules": kind == "v", "relhastriggers": False,
            "relhassubclass": False, "relrowsecurity": False, "relforcerowsecurity": False, "relispopulated": True,
            "relreplident": "d" if kind in ("r", "m") else "n", "relispartition": False, "relrewrite": 0,
            "relfrozenxid": 0, "relminmxid": 0}


def _system_kind(table: SystemTable) -> str:
    if table.schema == "pg_catalog" and table.name not in _PG_VIEWS:
        return "r"
    return "v"


@functools.cache
def _system_class_rows() -> tuple[Row, ...]:
    return tuple(_class_row(t.oid, t.name, SCHEMAS[t.schema], _system_kind(t), len(t.columns))
                 for t in system_tables().values())


def _kind(rel: Relation) -> str:
    return "m" if rel.kind is RelationKind.MATERIALIZED_VIEW else "r"


@builder("pg_catalog", "pg_class")
def pg_class(s: CatalogSnapshot) -> list[Row]:
    rows = list(_system_class_rows())
    pks = {pk.relation.id: pk for pk in s.primary_keys}
    for rel in s.relations:
        natts = max((a.attnum for a in visible_attributes(rel)), default=0)
        rows.append(_class_row(rel.id, rel.name, PUBLIC_OID, _kind(rel), natts, s.owner_id(rel),
                               has_index=rel.id in pks))
    for pk in s.primary_keys:
        rows.append(_class_row(pk.index_oid, pk.name, PUBLIC_OID, "i", len(pk.attnums), s.owner_id(pk.relation),
                               am=BTREE_AM_OID))
    return rows


def _attribute_row(relid: int, attnum: int, name: str, t: DataType, notnull: bool = False) -> Row:
    return {"attrelid": relid, "attname": name, "atttypid": t.oid, "attstattarget": -1, "attlen": t.typlen,
            "attnum": attnum, "attndims": 1 if t.is_list else 0, "attcacheoff": -1, "atttypmod": t.typmod,
            "attbyval": t.typlen in (1, 2, 4, 8), "attalign": _align(t), "attstorage": _storage(t),
            "attcompression": "", "attnotnull": notnull, "atthasdef": False, "atthasmissing": False,
            "attidentity": "", "attgenerated": "", "attisdropped": False, "attislocal": True, "attinhcount": 0,
            "attcollation": _string_collation(t)}


def _storage(t: DataType) -> str:
    """pg_type.typstorage: plain for fixed-size types, main for numeric, extended for the other varlenas."""
    if t.typlen > 0:
        return "p"
    return "m" if t.name is TypeName.NUMERIC else "x"


def _align(t: object) -> str:
    length = getattr(t, "typlen", -1)
    return {1: "c", 2: "s", 8: "d"}.get(length, "i")


@functools.cache
def _system_attribute_rows() -> tuple[Row, ...]:
    return tuple(_attribute_row(t.oid, i + 1, c.name, c.type) for t in system_tables().values()
                 for i, c in enumerate(t.columns))


@builder("pg_catalog", "pg_attribute")
def pg_attribute(s: CatalogSnapshot) -> list[Row]:
    rows = list(_system_attribute_rows())
    pk_columns = {(pk.relation.id, a) for pk in s.primary_keys for a in pk.attnums}
    for rel in s.relations:
        for a in visible_attributes(rel):
            rows.append(_attribute_row(rel.id, a.attnum, a.column.name, a.column.type, (rel.id, a.attnum) in pk_columns))
    for pk in s.primary_keys:
        for i, attnum in enumerate(pk.attnums):
            column = pk.relation.columns[attnum - 1]
            rows.append(_attribute_row(pk.index_oid, i + 1, column.name, column.type))
    return rows


def opclass_oid(type_oid: int) -> int:
    """The default btree operator class of a type (see pg_opclass)."""
    return 10_000 + type_oid


def _index_row(pk: PrimaryKey) -> Row:
    types = [pk.relation.columns[a - 1].type for a in pk.attnums]
    n = len(pk.attnums)
    return {"indexrelid": pk.index_oid, "indrelid": pk.relation.id, "indnatts": n, "indnkeyatts": n,
            "indisunique": True, "indnullsnotdistinct": False, "indisprimary": True, "indisexclusion": False,
            "indimmediate": True, "indisclustered": False, "indisvalid": True, "indcheckxmin": False,
            "indisready": True, "indislive": True, "indisreplident": False, "indkey": list(pk.attnums),
            "indcollation": [_string_collation(t) for t in types], "indclass": [opclass_oid(t.oid) for t in types],
            "indoption": [0] * n}


@builder("pg_catalog", "pg_index")
def pg_index(s: CatalogSnapshot) -> list[Row]:
    return [_index_row(pk) for pk in s.primary_keys]


@builder("pg_catalog", "pg_constraint")
def pg_constraint(s: CatalogSnapshot) -> list[Row]:
    return [{"oid": pk.constraint_oid, "conname": pk.name, "connamespace": PUBLIC_OID, "contype": "p",
             "condeferrable": False, "condeferred": False, "convalidated": True, "conrelid": pk.relation.id,
             "contypid": 0, "conindid": pk.index_oid, "conparentid": 0, "confrelid": 0, "confupdtype": " ",
             "confdeltype": " ", "confmatchtype": " ", "conislocal": True, "coninhcount": 0, "connoinherit": True,
             "conkey": list(pk.attnums)} for pk in s.primary_keys]


@builder("pg_catalog", "pg_namespace")
def pg_namespace(s: CatalogSnapshot) -> list[Row]:
    names = {PG_CATALOG_OID: "pg_catalog", PUBLIC_OID: "public", INFORMATION_SCHEMA_OID: "information_schema",
             RW_CATALOG_OID: "rw_catalog"}
    return [{"oid": oid, "nspname": name, "nspowner": ROOT_USER_ID} for oid, name in names.items()]


def _owner_name(s: CatalogSnapshot, rel: Relation) -> str:
    return rel.owner


@builder("pg_catalog", "pg_tables")
def pg_tables(s: CatalogSnapshot) -> list[Row]:
    pks = {pk.relation.id for pk in s.primary_keys}
    rows = [{"schemaname": "public", "tablename": r.name, "tableowner": _owner_name(s, r), "hasindexes": r.id in pks,
             "hasrules": False, "hastriggers": False, "rowsecurity": False}
            for r in s.relations if r.kind is RelationKind.TABLE]
    rows += [{"schemaname": t.schema, "tablename": t.name, "tableowner": "root", "hasindexes": False,
              "hasrules": False, "hastriggers": False, "rowsecurity": False}
             for t in system_tables().values() if _system_kind(t) == "r"]
    return rows


@builder("pg_catalog", "pg_matviews")
def pg_matviews(s: CatalogSnapshot) -> list[Row]:
    return [{"schemaname": "public", "matviewname": r.name, "matviewowner": _owner_name(s, r), "hasindexes": False,
             "ispopulated": True, "definition": r.definition}
            for r in s.relations if r.kind is RelationKind.MATERIALIZED_VIEW]


@builder("pg_catalog", "pg_views")
def pg_views(s: CatalogSnapshot) -> list[Row]:
    return [{"schemaname": t.schema, "viewname": t.name, "viewowner": "root", "definition": None}
            for t in system_tables().values() if _system_kind(t) == "v"]


@builder("pg_catalog", "pg_indexes")
def pg_indexes(s: CatalogSnapshot) -> list[Row]:
    return [{"schemaname": "public", "tablename": pk.relation.name, "indexname": pk.name, "tablespace": None,
             "indexdef": pk.index_definition()} for pk in s.primary_keys]


@builder("pg_catalog", "pg_stat_user_tables", "pg_stat_all_tables", "pg_statio_user_tables", "pg_statio_all_tables")
def pg_stat_tables(s: CatalogSnapshot) -> list[Row]:
    return [{"relid": r.id, "schemaname": "public", "relname": r.name, "seq_scan": 0, "n_live_tup": 0,
             "n_dead_tup": 0} for r in s.relations]


@builder("pg_catalog", "pg_stat_user_indexes", "pg_stat_all_indexes")
def pg_stat_indexes(s: CatalogSnapshot) -> list[Row]:
    return [{"relid": pk.relation.id, "indexrelid": pk.index_oid, "schemaname": "public",
             "relname": pk.relation.name, "indexrelname": pk.name, "idx_scan": 0} for pk in s.primary_keys]
