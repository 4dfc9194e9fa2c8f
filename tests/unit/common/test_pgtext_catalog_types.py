"""Text output and input of the catalog types (arrays, int2vector, oidvector, oid, records), compared with PostgreSQL.

PostgreSQL prints each value through `SELECT v::text` of a typed literal;
Eddy formats the same values a column at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pytest

from common.errors import InvalidTextRepresentation
from common.pgtext import format_array, parse_text
from common.types import (
    BOOLEAN,
    DOUBLE,
    INT2VECTOR,
    INTEGER,
    NUMERIC,
    OID,
    OID_ARRAY,
    OIDVECTOR,
    TEXT_ARRAY,
    VARCHAR,
    DataType,
    array_of,
    record_of,
)
from tests.helpers.oracle import oracle_database

CASES: list[tuple[DataType, str, list[object]]] = [
    (array_of(INTEGER), "int4[]", [[1, 2, None], [], [-7]]),
    (TEXT_ARRAY, "text[]", [["a b", "", None, "NULL", 'x"y', "c\\d", "{}", "é", "null"], ["plain"]]),
    (array_of(BOOLEAN), "bool[]", [[True, False, None]]),
    (array_of(DOUBLE), "float8[]", [[1.5, -0.25, 1e20]]),
    (OID_ARRAY, "oid[]", [[0, 26, 4294967295]]),
    (INT2VECTOR, "int2vector", [[1, 3], []]),
    (OIDVECTOR, "oidvector", [[23, 1043]]),
    (OID, "oid", [0, 16384, 4294967295]),
]


@pytest.fixture(scope="module")
def pg() -> Iterator[psycopg.Connection]:
    with oracle_database("eddy_catalog_types") as conn:
        yield conn


def _pg_text(pg: psycopg.Connection, value: object, pg_type: str) -> str | None:
    if value is None:
        return None
    row = pg.execute(f"SELECT (%s::{pg_type})::text", (_pg_input(value, pg_type),)).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _pg_input(value: object, pg_type: str) -> object:
    if pg_type in ("int2vector", "oidvector"):
        return " ".join(str(v) for v in value)  # type: ignore[attr-defined]
    if pg_type == "oid":
        return str(value)
    return value


@pytest.mark.parametrize(("t", "pg_type", "rows"), CASES, ids=[c[1] for c in CASES])
def test_text_output_matches_postgres(pg: psycopg.Connection, t: DataType, pg_type: str, rows: list[object]) -> None:
    ours = format_array(pa.array([*rows, None], t.arrow), t).to_pylist()
    assert ours == [_pg_text(pg, v, pg_type) for v in rows] + [None]


@pytest.mark.parametrize(("t", "pg_type", "rows"), CASES, ids=[c[1] for c in CASES])
def test_text_input_reads_the_output_back(pg: psycopg.Connection, t: DataType, pg_type: str,
                                          rows: list[object]) -> None:
    for v in rows:
        text = _pg_text(pg, v, pg_type)
        assert text is not None
        assert parse_text(text, t) == v


def test_array_literals_as_users_write_them() -> None:
    assert parse_text('{ a , "b,c" ,NULL,"NULL", d\\"e }', TEXT_ARRAY) == ["a", "b,c", None, "NULL", 'd"e']
    assert parse_text("{}", array_of(INTEGER)) == []
    assert parse_text("{1.50,2}", array_of(NUMERIC)) == [pytest.approx(1.5), 2]
    for bad in ("1,2", "{1,2", "{1,,2}", '{"a"b}'):
        with pytest.raises(InvalidTextRepresentation, match="malformed array literal"):
            parse_text(bad, array_of(VARCHAR))


def test_records_print_like_row_output(pg: psycopg.Connection) -> None:
    t = record_of((("x", INTEGER), ("s", VARCHAR), ("n", INTEGER)))
    ours = format_array(pa.array([{"x": 1, "s": "a b", "n": None}, {"x": 2, "s": "", "n": 3}], t.arrow), t)
    theirs = [pg.execute("SELECT ROW(1, 'a b'::text, NULL::int)::text").fetchone()[0],  # type: ignore[index]
              pg.execute("SELECT ROW(2, ''::text, 3)::text").fetchone()[0]]  # type: ignore[index]
    assert ours.to_pylist() == theirs
