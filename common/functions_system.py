"""The fixed facts system catalogs and catalog functions share: OIDs, type names, built-in procedures.

Both sides need them: the frontend builds pg_catalog's rows from them,
and compute kernels (format_type, pg_table_is_visible, the text of a
regtype, regproc or regnamespace value) evaluate with them, so they live
here rather than in either.

OIDs: types and schemas keep PostgreSQL's numbers. A user relation's OID
is its catalog id. System relations take OIDs from 2,000,000,000 up, one
block per schema, and a table's primary key shows up as an index and a
constraint whose OIDs are derived from the table's id; catalog ids never
grow that large, so nothing collides.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from common.types import (
    ARRAY_ELEMENT_TYPES,
    BY_OID,
    CATALOG_TYPES,
    DataType,
    TypeName,
    array_of,
)

PG_CATALOG_OID = 11
PG_TOAST_OID = 99
PUBLIC_OID = 2200
INFORMATION_SCHEMA_OID = 12_000
RW_CATALOG_OID = 12_001

SCHEMAS: dict[str, int] = {"pg_catalog": PG_CATALOG_OID, "public": PUBLIC_OID,
                           "information_schema": INFORMATION_SCHEMA_OID, "rw_catalog": RW_CATALOG_OID,
                           "pg_toast": PG_TOAST_OID}
SCHEMA_NAMES: dict[int, str] = {v: k for k, v in SCHEMAS.items()}

SYSTEM_RELATION_BASE = 2_000_000_000
_SCHEMA_BLOCK = 10_000
SYSTEM_SCHEMA_BLOCKS = ("pg_catalog", "information_schema", "rw_catalog")
PRIMARY_KEY_CONSTRAINT_BASE = 2_050_000_000
PRIMARY_KEY_INDEX_BASE = 2_100_000_000

DATABASE_OID = 1
HEAP_AM_OID = 2
BTREE_AM_OID = 403
DEFAULT_TABLESPACE_OID = 1663
DEFAULT_COLLATION_OID = 100
C_COLLATION_OID = 950


def system_relation_oid(schema: str, index: int) -> int:
    """The OID of the `index`-th system relation of `schema`."""
    return SYSTEM_RELATION_BASE + SYSTEM_SCHEMA_BLOCKS.index(schema) * _SCHEMA_BLOCK + index


def relations_are_visible(oids: np.ndarray) -> np.ndarray:
    """pg_table_is_visible: relations of schemas on the search path (pg_catalog and public) are."""
    block = (oids - SYSTEM_RELATION_BASE) // _SCHEMA_BLOCK
    return ~((oids >= SYSTEM_RELATION_BASE) & ((block == 1) | (block == 2)))


def primary_key_index_oid(relation_id: int) -> int:
    return PRIMARY_KEY_INDEX_BASE + relation_id


def primary_key_constraint_oid(relation_id: int) -> int:
    return PRIMARY_KEY_CONSTRAINT_BASE + relation_id


# -- types ---------------------------------------------------------------------------------


def catalog_types() -> list[DataType]:
    """Every type pg_type lists: the scalar types, then their array types."""
    scalars = list(dict.fromkeys(t for t in BY_OID.values() if t.name is not TypeName.ARRAY))
    arrays = [array_of(t) for t in ARRAY_ELEMENT_TYPES]
    return [*scalars, *(t for t in CATALOG_TYPES if t not in scalars), *arrays]


def type_by_oid(oid: int) -> DataType | None:
    return BY_OID.get(oid)


def format_type(oid: int, typmod: int | None) -> str:
    """PostgreSQL's format_type(oid, typmod): the SQL name of a type, with its modifier."""
    if oid == 25:
        return "text"
    if oid == 1009:
        return "text[]"
    if oid == 1015:
        return "character varying[]"
    t = BY_OID.get(oid)
    if t is None:
        return "???"
    if t.name is TypeName.NUMERIC and typmod is not None and typmod >= 4:
        precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
        return f"numeric({precision},{scale})"
    if t.name is TypeName.VARCHAR and typmod is not None and typmod >= 4:
        return f"character varying({typmod - 4})"
    return t.display()


# -- procedures -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Procedure:
    """One pg_proc row: a built-in function, aggregate or type I/O function."""

    oid: int
    name: str
    kind: str  # prokind: f function, a aggregate, w window
    return_type: int
    arg_types: tuple[int, ...]
    returns_set: bool = False


_PROC_BASE = 100_000

AGGREGATES = ("count", "sum", "min", "max", "avg", "array_agg", "string_agg", "bool_and", "bool_or", "every")
WINDOW_FUNCTIONS = ("row_number", "rank", "dense_rank")


def _io_function_names(t: DataType) -> list[str]:
    if t.name is TypeName.ARRAY:
        return ["array_in", "array_out", "array_recv", "array_send"]
    base = t.typname
    if base in ("date", "time", "timestamp", "timestamptz", "interval", "numeric", "json"):
        return [f"{base}_in", f"{base}_out", f"{base}_recv", f"{base}_send"]
    return [f"{base}in", f"{base}out", f"{base}recv", f"{base}send"]


def _procedures() -> list[Procedure]:
    from common.functions_catalog import FUNCTIONS, SYSTEM_FUNCTIONS

    def oid(t: DataType | None) -> int:
        # Function signatures take and return text where Eddy's varchar stands for it.
        if t is None:
            return 2283
        return 25 if t.name is TypeName.VARCHAR else t.oid

    rows: list[tuple[str, str, int, tuple[int, ...], bool]] = []
    for name, candidates in sorted({**FUNCTIONS, **SYSTEM_FUNCTIONS}.items()):
        for c in candidates:
            rows.append((name, "f", oid(c.ret), tuple(oid(a) for a in c.args), False))
    for name in AGGREGATES:
        rows.append((name, "a", 2283, (2283,), False))
    for name in WINDOW_FUNCTIONS:
        rows.append((name, "w", 20, (), False))
    for name in ("generate_series", "unnest", "generate_subscripts", "pg_get_keywords"):
        rows.append((name, "f", 2283, (), True))
    for t in catalog_types():
        names = _io_function_names(t)
        for io, ret in zip(names, (t.oid, 2275, t.oid, 17)):
            rows.append((io, "f", ret, (2275,), False))
    seen: set[tuple[str, tuple[int, ...]]] = set()
    out: list[Procedure] = []
    for name, kind, ret, args, is_set in rows:
        if (name, args) in seen:
            continue
        seen.add((name, args))
        out.append(Procedure(_PROC_BASE + len(out), name, kind, ret, args, is_set))
    return out


@functools.cache
def procedures() -> tuple[Procedure, ...]:
    return tuple(_procedures())


@functools.cache
def procedure_names() -> dict[int, str]:
    return {p.oid: p.name for p in procedures()}


def procedure_by_name(name: str) -> Procedure | None:
    for p in procedures():
        if p.name == name:
            return p
    return None


def io_functions(t: DataType) -> tuple[int, int, int, int]:
    """The OIDs of a type's input, output, receive and send functions."""
    names = _io_function_names(t)
    found = []
    for n in names:
        p = procedure_by_name(n)
        found.append(p.oid if p is not None else 0)
    return found[0], found[1], found[2], found[3]


RESERVED_KEYWORDS = (
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast", "check",
    "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except",
    "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into",
    "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or",
    "order", "placing", "primary", "references", "returning", "select", "session_user", "some", "symmetric",
    "table", "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where",
    "window", "with",
)
"""PostgreSQL's reserved key words: quote_ident quotes them, pg_get_keywords lists them."""


# -- names to OIDs (regtype, regproc and regnamespace input) -------------------------------------


@functools.cache
def type_oids() -> dict[str, int]:
    """Type names (as format_type writes them, as pg_type names them, and their aliases) to OIDs."""
    from common.types import CATALOG_TYPE_ALIASES, TYPE_ALIASES

    out = {format_type(t.oid, -1): t.oid for t in catalog_types()}
    out |= {t.typname: t.oid for t in catalog_types()}
    out |= {name: t.oid for name, t in {**TYPE_ALIASES, **CATALOG_TYPE_ALIASES}.items()}
    out |= {"text": 25, "text[]": 1009, "_text": 1009, "bpchar": 1042, "character": 1042}
    return out | {f"pg_catalog.{k}": v for k, v in out.items()}


@functools.cache
def procedure_oids() -> dict[str, int]:
    names: dict[str, int] = {}
    for p in procedures():
        names.setdefault(p.name, p.oid)
        names.setdefault(f"pg_catalog.{p.name}", p.oid)
    return names


def normalize_name(name: str) -> str:
    """A possibly qualified, possibly quoted name as PostgreSQL folds it: `Public."My T"` -> public.My T."""
    parts = []
    for part in re.findall(r'"(?:[^"]|"")*"|[^.]+', name.strip()):
        parts.append(part[1:-1].replace('""', '"') if part.startswith('"') else part.strip().lower())
    return ".".join(parts)


def type_oid(name: str) -> int | None:
    key = " ".join(normalize_name(name).split())
    if key.endswith("[]"):
        element = type_oid(key[:-2])
        t = BY_OID.get(element) if element is not None else None
        if element in (25, 1043):
            return 1009 if element == 25 else 1015
        return t.array_oid or None if t is not None else None
    return type_oids().get(key)


def procedure_oid(name: str) -> int | None:
    return procedure_oids().get(normalize_name(name))


def schema_oid(name: str) -> int | None:
    return SCHEMAS.get(normalize_name(name))
