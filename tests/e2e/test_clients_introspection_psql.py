"""psql's backslash commands against a real server: \\l \\dn \\dt \\dv \\dm \\d \\d+ \\di \\df list the right things.

Each command is one or more catalog queries (the exact SQL psql 15 sends
to a server reporting version 13.14). psql prints an ERROR and stops
describing when any of them fails, so every test also checks stderr is
empty.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess

pytestmark = pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")


def psql(eddy: EddyProcess, command: str, stderr: str = "") -> list[str]:
    """The unaligned output lines of one psql command; fails the test on any error."""
    out = subprocess.run(["psql", "-X", "-A", "-h", "127.0.0.1", "-p", str(eddy.port), "-U", "root", "-d", "dev",
                          "-v", "ON_ERROR_STOP=1", "-c", command], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stderr == stderr, out.stderr
    return out.stdout.splitlines()


@pytest.fixture
def objects(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    """A table with a primary key, one without, and a materialized view; the prefix of their names."""
    p = f"ci_{uid}"
    conn.execute(f"CREATE TABLE {p}_orders (id INT PRIMARY KEY, customer VARCHAR, amount DOUBLE PRECISION, "
                 f"created_at TIMESTAMP, price NUMERIC(10,2), paid BOOLEAN)")
    conn.execute(f"CREATE TABLE {p}_log (line TEXT, at TIMESTAMPTZ)")
    conn.execute(f"CREATE MATERIALIZED VIEW {p}_mv AS SELECT customer, count(*) AS n FROM {p}_orders "
                 f"GROUP BY customer")
    try:
        yield p
    finally:
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_mv")
        conn.execute(f"DROP TABLE IF EXISTS {p}_orders")
        conn.execute(f"DROP TABLE IF EXISTS {p}_log")


def test_list_databases_and_schemas(eddy: EddyProcess) -> None:
    assert "dev|root|UTF8|C|C||libc|" in psql(eddy, "\\l")
    schemas = psql(eddy, "\\dn")
    assert schemas[:2] == ["List of schemas", "Name|Owner"]
    assert "public|root" in schemas and "rw_catalog|root" in schemas
    assert not any(line.startswith(("pg_", "information_schema")) for line in schemas)


def test_list_tables_views_materialized_views_and_indexes(eddy: EddyProcess, objects: str) -> None:
    p = objects
    assert psql(eddy, f"\\dt {p}*") == ["List of relations", "Schema|Name|Type|Owner",
                                        f"public|{p}_log|table|root", f"public|{p}_orders|table|root", "(2 rows)"]
    assert psql(eddy, f"\\dm {p}*") == ["List of relations", "Schema|Name|Type|Owner",
                                        f"public|{p}_mv|materialized view|root", "(1 row)"]
    assert psql(eddy, f"\\dv {p}*", stderr=f'Did not find any relation named "{p}*".\n') == []
    assert psql(eddy, f"\\di {p}*") == ["List of relations", "Schema|Name|Type|Owner|Table",
                                        f"public|{p}_orders_pkey|index|root|{p}_orders", "(1 row)"]
    out = psql(eddy, f"\\d {p}*")
    assert [line for line in out if line.startswith(("Table ", "Materialized view ", "Index "))] == [
        f'Table "public.{p}_log"', f'Materialized view "public.{p}_mv"', f'Table "public.{p}_orders"',
        f'Index "public.{p}_orders_pkey"']
    assert f'primary key, btree, for table "public.{p}_orders"' in out


def test_describe_a_table(eddy: EddyProcess, objects: str) -> None:
    p = objects
    assert psql(eddy, f"\\d {p}_orders") == [
        f'Table "public.{p}_orders"',
        "Column|Type|Collation|Nullable|Default",
        "id|integer||not null|",
        "customer|character varying|||",
        "amount|double precision|||",
        "created_at|timestamp without time zone|||",
        "price|numeric(10,2)|||",
        "paid|boolean|||",
        "Indexes:",
        f'    "{p}_orders_pkey" PRIMARY KEY, btree (id)',
    ]
    assert psql(eddy, f"\\d {p}_log")[2:] == ["line|character varying|||", "at|timestamp with time zone|||"]


def test_describe_plus_shows_storage_and_the_view_definition(eddy: EddyProcess, objects: str) -> None:
    p = objects
    table = psql(eddy, f"\\d+ {p}_orders")
    assert table[1] == "Column|Type|Collation|Nullable|Default|Storage|Stats target|Description"
    assert table[2] == "id|integer||not null||plain||"
    assert table[6] == "price|numeric(10,2)||||main||"
    assert table[-1] == "Access method: heap"
    view = psql(eddy, f"\\d+ {p}_mv")
    assert view[0] == f'Materialized view "public.{p}_mv"'
    assert view[2:4] == ["customer|character varying||||extended||", "n|bigint||||plain||"]
    definition = view[view.index("View definition:") + 1]
    assert definition.startswith("SELECT customer, count(*) AS n FROM") and f"{p}_orders" in definition


def test_list_functions(eddy: EddyProcess) -> None:
    # Eddy has no user-defined functions, and \\df leaves out pg_catalog's.
    assert psql(eddy, "\\df") == ["List of functions", "Schema|Name|Result data type|Argument data types|Type",
                                  "(0 rows)"]
    assert "pg_catalog|version|text||func" in psql(eddy, "\\dfS version")
