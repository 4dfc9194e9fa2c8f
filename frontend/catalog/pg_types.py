"""pg_catalog relations about types and code: pg_type, pg_proc, pg_am, pg_opclass, pg_collation, pg_tablespace.

These describe what Eddy is built with, not what users created, so their
rows are computed once. pg_type lists every type Eddy has (with `text`
and `bpchar` as PostgreSQL's names for what Eddy keeps as varchar) and
their array types; pg_proc lists the built-in functions, aggregates and
each type's I/O functions, which pg_type.typinput and friends name.
"""

from __future__ import annotations

import functools

from common.functions_cast import CATEGORY, is_preferred
from common.functions_system import (
    BTREE_AM_OID,
    C_COLLATION_OID,
    DEFAULT_COLLATION_OID,
    DEFAULT_TABLESPACE_OID,
    HEAP_AM_OID,
    PG_CATALOG_OID,
    catalog_types,
    io_functions,
    procedures,
)
from common.types import VARCHAR, DataType, TypeName, array_of
from common.user import ROOT_USER_ID
from frontend.catalog.pg_relations import opclass_oid
from frontend.catalog.rows import Row, builder
from frontend.catalog.snapshot import CatalogSnapshot

_PSEUDO = {TypeName.VOID, TypeName.RECORD}


def _type_row(t: DataType, oid: int | None = None, name: str | None = None, array: int | None = None,
              preferred: bool | None = None) -> Row:
    typin, typout, typrecv, typsend = io_functions(t)
    length = t.typlen
    element = t.item.oid if t.is_list else (18 if t.name is TypeName.NAME else 0)
    return {"oid": oid or t.oid, "typname": name or t.typname, "typnamespace": PG_CATALOG_OID,
            "typowner": ROOT_USER_ID, "typlen": length, "typbyval": length in (1, 2, 4, 8),
            "typtype": "p" if t.name in _PSEUDO else "b", "typcategory": CATEGORY[t.name].value,
            "typispreferred": is_preferred(t.name) if preferred is None else preferred, "typisdefined": True,
            "typdelim": ",", "typrelid": 0, "typsubscript": 0, "typelem": element,
            "typarray": t.array_oid if array is None else array, "typinput": typin, "typoutput": typout,
            "typreceive": typrecv, "typsend": typsend, "typmodin": 0, "typmodout": 0, "typanalyze": 0,
            "typalign": {1: "c", 2: "s", 8: "d"}.get(length, "d" if t.is_list and t.item.typlen == 8 else "i"),
            "typstorage": "p" if length > 0 else ("m" if t.name is TypeName.NUMERIC else "x"), "typnotnull": False, "typbasetype": 0, "typtypmod": -1,
            "typndims": 0, "typcollation": DEFAULT_COLLATION_OID if t.is_string else 0}


@functools.cache
def _type_rows() -> tuple[Row, ...]:
    rows = [_type_row(t) for t in catalog_types()]
    # Eddy's varchar is also PostgreSQL's text and bpchar; clients look those up by name.
    rows = [r | {"typarray": 1015} if r["oid"] == 1043 else r for r in rows]
    rows.append(_type_row(VARCHAR, 25, "text", 1009, preferred=True))
    rows.append(_type_row(VARCHAR, 1042, "bpchar", 1014, preferred=False))
    text_array = array_of(VARCHAR)
    rows = [r | {"typelem": 25} if r["oid"] == 1009 else r for r in rows]
    rows.append(_type_row(text_array, 1015, "_varchar", 0) | {"typelem": 1043})
    rows.append(_type_row(text_array, 1014, "_bpchar", 0) | {"typelem": 1042})
    return tuple(rows)


@builder("pg_catalog", "pg_type")
def pg_type(s: CatalogSnapshot) -> list[Row]:
    return list(_type_rows())


@functools.cache
def _proc_rows() -> tuple[Row, ...]:
    return tuple({"oid": p.oid, "proname": p.name, "pronamespace": PG_CATALOG_OID, "proowner": ROOT_USER_ID,
                  "prolang": 12, "procost": 1.0, "prorows": 1000.0 if p.returns_set else 0.0, "provariadic": 0,
                  "prosupport": 0, "prokind": p.kind, "prosecdef": False, "proleakproof": False,
                  "proisstrict": True, "proretset": p.returns_set, "provolatile": "i", "proparallel": "s",
                  "pronargs": len(p.arg_types), "pronargdefaults": 0, "prorettype": p.return_type,
                  "proargtypes": list(p.arg_types), "prosrc": p.name} for p in procedures())


@builder("pg_catalog", "pg_proc")
def pg_proc(s: CatalogSnapshot) -> list[Row]:
    return list(_proc_rows())


@builder("pg_catalog", "pg_am")
def pg_am(s: CatalogSnapshot) -> list[Row]:
    return [{"oid": HEAP_AM_OID, "amname": "heap", "amhandler": 0, "amtype": "t"},
            {"oid": BTREE_AM_OID, "amname": "btree", "amhandler": 0, "amtype": "i"}]


@builder("pg_catalog", "pg_opclass")
def pg_opclass(s: CatalogSnapshot) -> list[Row]:
    return [{"oid": opclass_oid(t.oid), "opcmethod": BTREE_AM_OID, "opcname": f"{t.typname}_ops",
             "opcnamespace": PG_CATALOG_OID, "opcowner": ROOT_USER_ID, "opcfamily": 0, "opcintype": t.oid,
             "opcdefault": True, "opckeytype": 0} for t in catalog_types() if not t.is_list]


@builder("pg_catalog", "pg_collation")
def pg_collation(s: CatalogSnapshot) -> list[Row]:
    base = {"collnamespace": PG_CATALOG_OID, "collowner": ROOT_USER_ID, "collisdeterministic": True,
            "collencoding": -1}
    return [base | {"oid": DEFAULT_COLLATION_OID, "collname": "default", "collprovider": "d"},
            base | {"oid": C_COLLATION_OID, "collname": "C", "collprovider": "c", "collcollate": "C", "collctype": "C"},
            base | {"oid": 951, "collname": "POSIX", "collprovider": "c", "collcollate": "POSIX",
                    "collctype": "POSIX"}]


@builder("pg_catalog", "pg_tablespace")
def pg_tablespace(s: CatalogSnapshot) -> list[Row]:
    return [{"oid": DEFAULT_TABLESPACE_OID, "spcname": "pg_default", "spcowner": ROOT_USER_ID},
            {"oid": 1664, "spcname": "pg_global", "spcowner": ROOT_USER_ID}]


@builder("pg_catalog", "pg_language")
def pg_language(s: CatalogSnapshot) -> list[Row]:
    return [{"oid": 12, "lanname": "internal", "lanowner": ROOT_USER_ID, "lanispl": False, "lanpltrusted": False,
             "lanplcallfoid": 0, "laninline": 0, "lanvalidator": 0},
            {"oid": 14, "lanname": "sql", "lanowner": ROOT_USER_ID, "lanispl": False, "lanpltrusted": True,
             "lanplcallfoid": 0, "laninline": 0, "lanvalidator": 0}]
