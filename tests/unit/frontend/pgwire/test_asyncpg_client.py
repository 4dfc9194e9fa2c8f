"""asyncpg against the server: binary parameters and results of every type, portals, errors, cancellation."""

from __future__ import annotations

import asyncio
import datetime
import math
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pyarrow as pa
import pytest

from tests.unit.frontend.pgwire.canned_statements import ALL_TYPES, ALL_TYPES_ROWS
from tests.unit.frontend.pgwire.pgwire_harness import ServerThread, wait_until

UTC = datetime.UTC


@pytest.fixture
async def conn(pg: ServerThread) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(host="127.0.0.1", port=pg.port, user="root", database="dev",
                              server_settings={"application_name": "probe_asyncpg"})
    yield c
    await c.close()


def as_asyncpg(v: object) -> object:
    """What asyncpg decodes a value to (intervals become timedeltas of 30-day months)."""
    if isinstance(v, pa.MonthDayNano):
        years, months = divmod(v.months, 12) if v.months >= 0 else (-(-v.months // 12), -(-v.months % 12))
        return datetime.timedelta(days=v.days + months * 30 + years * 365, microseconds=v.nanoseconds // 1000)
    return v


async def test_connects_and_reads_the_server_version(pg: ServerThread, conn: asyncpg.Connection) -> None:
    assert conn.get_server_version().major == 13
    assert pg.factory.connects[0][2]["application_name"] == "probe_asyncpg"
    assert conn.get_server_pid() in pg.factory.sessions


async def test_fetchval_uses_a_suspended_portal(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval("SELECT 42") == 42
    assert await conn.fetchval("SELECT version()") == "PostgreSQL 13.14.0-Eddy"


async def test_every_type_in_binary(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch("SELECT * FROM all_types")
    assert [list(r.keys()) for r in rows] == [[n for n, _ in ALL_TYPES]] * 3
    for got, expected in zip(rows, ALL_TYPES_ROWS):
        assert list(got.values()) == [as_asyncpg(v) for v in expected]


async def test_parameters_of_every_type_round_trip_in_binary(conn: asyncpg.Connection) -> None:
    sql = ("SELECT $1::int2, $2::int4, $3::int8, $4::float4, $5::float8, $6::numeric, $7::bool, $8::varchar, "
           "$9::date, $10::timestamp, $11::timestamptz, $12::interval")
    stmt = await conn.prepare(sql)
    assert [p.name for p in stmt.get_parameters()] == [
        "int2", "int4", "int8", "float4", "float8", "numeric", "bool", "varchar", "date", "timestamp", "timestamptz",
        "interval"]
    values = (-2, 2**31 - 1, -(2**63), 0.5, math.pi, Decimal("-123456789.0123456789"), True, "héllo wörld",
              datetime.date(1999, 12, 31), datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
              datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), datetime.timedelta(days=-3, microseconds=7))
    assert tuple(await stmt.fetchrow(*values)) == values
    assert tuple(await stmt.fetchrow(*([None] * 12))) == (None,) * 12


async def test_numeric_special_values_and_scale(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval("SELECT $1::numeric", Decimal("1.5000")) == Decimal("1.5")
    assert await conn.fetchval("SELECT $1::numeric", Decimal("0")) == Decimal("0")


async def test_cursor_with_prefetch_resumes_a_named_portal(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        got = [r[0] async for r in conn.cursor("SELECT * FROM generate_series(1, $1)", 10, prefetch=3)]
        cur = await conn.cursor("SELECT * FROM generate_series(1, 7)")
        first = await cur.fetch(4)
        second = await cur.fetch(4)
    assert got == list(range(1, 11))
    assert [r[0] for r in first] == [1, 2, 3, 4]
    assert [r[0] for r in second] == [5, 6, 7]


async def test_executemany_pipelines_binds(pg: ServerThread, conn: asyncpg.Connection) -> None:
    await conn.executemany("INSERT INTO t VALUES ($1)", [(1,), (2,), (3,)])
    assert [p for sql, p in pg.factory.executed if sql.startswith("INSERT")] == [[1], [2], [3]]


async def test_simple_query_with_several_statements(conn: asyncpg.Connection) -> None:
    assert await conn.execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2)") == "INSERT 0 2"


@pytest.mark.parametrize(("sql", "exc", "sqlstate"), [
    ("SELECT * FROM missing", asyncpg.UndefinedTableError, "42P01"),
    ("SELEC 1", asyncpg.PostgresSyntaxError, "42601"),
    ("SELECT 1/0", asyncpg.DivisionByZeroError, "22012"),
    ("SELECT crash()", asyncpg.InternalServerError, "XX000"),
])
async def test_errors_map_to_asyncpg_exceptions(conn: asyncpg.Connection, sql: str, exc: type[Exception],
                                                sqlstate: str) -> None:
    for run in (conn.fetch, conn.execute):
        with pytest.raises(exc) as info:
            await run(sql)
        assert info.value.sqlstate == sqlstate  # type: ignore[attr-defined]
    assert await conn.fetchval("SELECT 1") == 1


async def test_error_detail_hint_and_position(conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.UniqueViolationError) as unique:
        await conn.fetch("SELECT hint()")
    assert unique.value.detail == "Key (id)=(1) already exists."
    assert unique.value.hint == "Pick another id."
    with pytest.raises(asyncpg.UndefinedTableError) as missing:
        await conn.execute("SELECT * FROM missing")
    assert missing.value.position == "15"


async def test_error_in_a_transaction_and_rollback(conn: asyncpg.Connection) -> None:
    tx = conn.transaction()
    await tx.start()
    with pytest.raises(asyncpg.DivisionByZeroError):
        await conn.fetch("SELECT 1/0")
    with pytest.raises(asyncpg.InFailedSQLTransactionError):
        await conn.fetch("SELECT 1")
    await tx.rollback()
    assert await conn.fetchval("SELECT 1") == 1


async def test_unknown_database(pg: ServerThread) -> None:
    with pytest.raises(asyncpg.InvalidCatalogNameError, match='database "nope" does not exist'):
        await asyncpg.connect(host="127.0.0.1", port=pg.port, user="root", database="nope")


async def test_cancelling_the_task_cancels_the_statement(pg: ServerThread, conn: asyncpg.Connection) -> None:
    task = asyncio.create_task(conn.fetchval("SELECT pg_sleep(60)"))
    assert await asyncio.to_thread(pg.factory.sleeping.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # asyncpg sends the CancelRequest in the background and waits for it before the next statement.
    assert await conn.fetchval("SELECT 5") == 5
    assert [pid for pid, _ in pg.factory.cancels] == [conn.get_server_pid()]


async def test_close_ends_the_session(pg: ServerThread) -> None:
    c = await asyncpg.connect(host="127.0.0.1", port=pg.port, user="root", database="dev")
    pid = c.get_server_pid()
    await c.close()
    await asyncio.to_thread(_wait_closed, pg, pid)


def _wait_closed(pg: ServerThread, pid: int) -> None:
    wait_until(lambda: pid in pg.factory.closed, "the session to close")
