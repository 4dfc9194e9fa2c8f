"""asyncpg's type introspection against a real server.

asyncpg knows a few types by OID; for any other type in a result (an
int4[] or bool[] array, a record) it first runs its WITH RECURSIVE
typeinfo query over pg_type, pg_namespace, pg_range, pg_attribute and
pg_class, with an `$1::oid[]` parameter it sends in binary, and only then
decodes the rows. A wrong answer there leaves asyncpg unable to decode, or
recursing forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess


@pytest.fixture
async def apg(eddy: EddyProcess) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(eddy.dsn)
    yield c
    await c.close()


async def test_arrays_of_types_asyncpg_introspects(apg: asyncpg.Connection) -> None:
    assert await apg.fetchval("SELECT ARRAY[1, 2, NULL, 4]") == [1, 2, None, 4]
    assert await apg.fetchval("SELECT ARRAY[true, false]") == [True, False]
    assert await apg.fetchval("SELECT ARRAY[1.5::float8, 2.25]") == [1.5, 2.25]
    assert await apg.fetchval("SELECT '{}'::bigint[]") == []
    assert await apg.fetchval("SELECT ARRAY['a', NULL, 'b c']") == ["a", None, "b c"]
    # The introspection query ran and its answer was cached: the same types decode again at once.
    assert await apg.fetchval("SELECT ARRAY[7]") == [7]


async def test_catalog_types_round_trip(apg: asyncpg.Connection, conn: psycopg.Connection, uid: str) -> None:
    t = f"apg_{uid}"
    conn.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v TEXT)")
    try:
        oid = await apg.fetchval("SELECT oid FROM pg_class WHERE relname = $1", t)
        assert oid == await apg.fetchval(f"SELECT '{t}'::regclass::oid")
        assert await apg.fetchval("SELECT $1::oid::regclass", oid) == t
        assert await apg.fetchval("SELECT $1::oid[]", [oid, 26]) == [oid, 26]
        assert await apg.fetchval("SELECT indkey FROM pg_index WHERE indrelid = $1", oid) == [1]
        rows = await apg.fetch("SELECT attname, atttypid::regtype::text AS t FROM pg_attribute "
                               "WHERE attrelid = $1 AND attnum > 0 ORDER BY attnum", oid)
        assert [(r["attname"], r["t"]) for r in rows] == [("id", "integer"), ("v", "character varying")]
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


async def test_settings_round_trip_and_pool_reset(apg: asyncpg.Connection) -> None:
    # What asyncpg runs around its introspection query, and what its pool sends on release.
    row = await apg.fetchrow("SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) AS new")
    assert (row["cur"], row["new"]) == ("off", "off")
    assert await apg.fetchval("SELECT set_config('jit', $1, false)", "on") == "on"
    assert await apg.fetchval("SHOW jit") == "on"
    await apg.execute("SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;")
    assert await apg.fetchval("SHOW jit") == "off"
