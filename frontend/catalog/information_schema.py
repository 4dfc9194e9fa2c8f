"""information_schema: tables, columns, schemata, views and the primary-key constraints, as the SQL standard names them.

As in PostgreSQL, materialized views are not in information_schema (it
has no kind for them); tables are, with their visible columns, and so are
the system relations.
"""

from __future__ import annotations

from common.catalog import DEFAULT_DATABASE, Relation, RelationKind
from common.types import DataType, TypeName
from frontend.catalog.registry import system_tables
from frontend.catalog.rows import Row, builder
from frontend.catalog.snapshot import CatalogSnapshot, visible_attributes

_DATA_TYPE = {TypeName.ARRAY: "ARRAY", TypeName.INT2VECTOR: "ARRAY", TypeName.OIDVECTOR: "ARRAY",
              TypeName.NAME: "name", TypeName.CHAR: '"char"'}


def data_type(t: DataType) -> str:
    if t.name is TypeName.NUMERIC:
        return "numeric"
    return _DATA_TYPE.get(t.name, t.name.value)


def _column_row(schema: str, table: str, position: int, name: str, t: DataType, nullable: bool) -> Row:
    row: Row = {"table_catalog": DEFAULT_DATABASE, "table_schema": schema, "table_name": table, "column_name": name,
                "ordinal_position": position, "is_nullable": "YES" if nullable else "NO", "data_type": data_type(t),
                "udt_catalog": DEFAULT_DATABASE, "udt_schema": "pg_catalog", "udt_name": t.typname,
                "dtd_identifier": str(position), "is_self_referencing": "NO", "is_identity": "NO",
                "is_generated": "NEVER", "is_updatable": "YES" if schema == "public" else "NO"}
    if t.is_integer or t.is_float:
        bits = {TypeName.SMALLINT: 16, TypeName.INTEGER: 32, TypeName.BIGINT: 64, TypeName.REAL: 24,
                TypeName.DOUBLE: 53}[t.name]
        row |= {"numeric_precision": bits, "numeric_precision_radix": 2, "numeric_scale": 0 if t.is_integer else None}
    elif t.name is TypeName.NUMERIC:
        row |= {"numeric_precision": t.precision, "numeric_precision_radix": 10, "numeric_scale": t.scale}
    elif t.is_temporal or t.name is TypeName.INTERVAL:
        row |= {"datetime_precision": 0 if t.name is TypeName.DATE else 6}
    elif t.name is TypeName.VARCHAR:
        row |= {"character_octet_length": 1073741824}
    return row


def _user_tables(s: CatalogSnapshot) -> list[Relation]:
    return [r for r in s.relations if r.kind is RelationKind.TABLE]


@builder("information_schema", "tables")
def tables(s: CatalogSnapshot) -> list[Row]:
    rows = [{"table_catalog": DEFAULT_DATABASE, "table_schema": "public", "table_name": r.name,
             "table_type": "BASE TABLE", "is_insertable_into": "YES", "is_typed": "NO"} for r in _user_tables(s)]
    rows += [{"table_catalog": DEFAULT_DATABASE, "table_schema": t.schema, "table_name": t.name,
              "table_type": "VIEW" if t.schema != "pg_catalog" else "BASE TABLE", "is_insertable_into": "NO",
              "is_typed": "NO"} for t in system_tables().values()]
    return rows


@builder("information_schema", "columns")
def columns(s: CatalogSnapshot) -> list[Row]:
    rows = []
    pk_columns = {(pk.relation.id, a) for pk in s.primary_keys for a in pk.attnums}
    for r in _user_tables(s):
        for a in visible_attributes(r):
            rows.append(_column_row("public", r.name, a.attnum, a.column.name, a.column.type,
                                    (r.id, a.attnum) not in pk_columns))
    for t in system_tables().values():
        for i, c in enumerate(t.columns):
            rows.append(_column_row(t.schema, t.name, i + 1, c.name, c.type, True))
    return rows


@builder("information_schema", "schemata")
def schemata(s: CatalogSnapshot) -> list[Row]:
    return [{"catalog_name": DEFAULT_DATABASE, "schema_name": name, "schema_owner": "root"}
            for name in ("pg_catalog", "public", "information_schema", "rw_catalog")]


@builder("information_schema", "table_constraints")
def table_constraints(s: CatalogSnapshot) -> list[Row]:
    return [{"constraint_catalog": DEFAULT_DATABASE, "constraint_schema": "public", "constraint_name": pk.name,
             "table_catalog": DEFAULT_DATABASE, "table_schema": "public", "table_name": pk.relation.name,
             "constraint_type": "PRIMARY KEY", "is_deferrable": "NO", "initially_deferred": "NO", "enforced": "YES",
             "nulls_distinct": None} for pk in s.primary_keys]


@builder("information_schema", "key_column_usage", "constraint_column_usage")
def key_column_usage(s: CatalogSnapshot) -> list[Row]:
    rows = []
    for pk in s.primary_keys:
        for i, name in enumerate(pk.columns):
            rows.append({"constraint_catalog": DEFAULT_DATABASE, "constraint_schema": "public",
                         "constraint_name": pk.name, "table_catalog": DEFAULT_DATABASE, "table_schema": "public",
                         "table_name": pk.relation.name, "column_name": name, "ordinal_position": i + 1})
    return rows


@builder("information_schema", "information_schema_catalog_name")
def catalog_name(s: CatalogSnapshot) -> list[Row]:
    return [{"catalog_name": DEFAULT_DATABASE}]


@builder("information_schema", "enabled_roles", "applicable_roles")
def roles(s: CatalogSnapshot) -> list[Row]:
    return [{"role_name": s.session.user, "grantee": s.session.user, "is_grantable": "YES"}]
