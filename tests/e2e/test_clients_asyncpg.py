"""asyncpg against a real server: prepared statements with typed parameters, binary results, pools, errors."""

from __future__ import annotations

import datetime
from decimal import Decimal

import asyncpg
import pytest

from tests.helpers.eddy_server import EddyProcess


async def test_prepared_statements_with_every_parameter_type(eddy: EddyProcess, uid: str) -> None:
    c = await asyncpg.connect(eddy.dsn)
    t = f"apc_{uid}"
    try:
        await c.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, "
                        "amount NUMERIC(12, 3), ok BOOLEAN, ts TIMESTAMP)")
        insert = await c.prepare(f"INSERT INTO {t} VALUES ($1, $2, $3, $4, $5, $6)")
        # Parameter types inferred from the target columns (Parse sent OID 0 for every one).
        assert [p.name for p in insert.get_parameters()] == ["int4", "varchar", "float8", "numeric", "bool",
                                                            "timestamp"]
        rows = [(i, f"n{i}", i / 4, Decimal(i) / 8, i % 2 == 0, datetime.datetime(2024, 1, 1, 0, i))
                for i in range(1, 6)]
        await insert.executemany(rows)
        await c.execute("FLUSH")
        select = await c.prepare(f"SELECT * FROM {t} WHERE id >= $1 AND name <> $2 AND score < $3 AND "
                                 f"amount > $4 AND ok = $5 AND ts <= $6 ORDER BY id")
        assert [p.name for p in select.get_parameters()] == ["int4", "varchar", "float8", "numeric", "bool",
                                                            "timestamp"]
        got = await select.fetch(2, "n3", 10.0, Decimal("0.1"), True, datetime.datetime(2030, 1, 1))
        # asyncpg asks for every result column in binary; values decode to the same Python values.
        assert [tuple(r) for r in got] == [rows[1], rows[3]]
        row = await c.fetchrow(f"SELECT name, amount FROM {t} WHERE id = $1", 3)
        assert row is not None and (row["name"], row["amount"]) == ("n3", Decimal("0.375"))
        assert await c.fetchval(f"SELECT count(*) FROM {t} WHERE ts > $1", datetime.datetime(2024, 1, 1, 0, 2)) == 3
        assert await c.fetchrow(f"SELECT * FROM {t} WHERE id = $1", 99) is None
    finally:
        await c.execute(f"DROP TABLE IF EXISTS {t}")
        await c.close()


async def test_returning_over_the_extended_protocol(eddy: EddyProcess, uid: str) -> None:
    c = await asyncpg.connect(eddy.dsn)
    t = f"apr_{uid}"
    try:
        await c.execute("SET implicit_flush = true")
        await c.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, name TEXT, score DOUBLE PRECISION)")
        insert = await c.prepare(f"INSERT INTO {t} VALUES ($1, $2, $3) RETURNING id, score * 2 AS twice")
        # Describe tells the RETURNING columns before anything runs
        assert [(a.name, a.type.name) for a in insert.get_attributes()] == [("id", "int4"), ("twice", "float8")]
        assert tuple(await insert.fetchrow(1, "a", 1.5)) == (1, 3.0)
        await c.execute(f"INSERT INTO {t} VALUES (2, 'b', 2), (3, 'c', 3)")
        updated = await c.fetch(f"UPDATE {t} SET score = score + $1 WHERE id >= $2 RETURNING *", 10.0, 2)
        assert sorted(tuple(r) for r in updated) == [(2, "b", 12.0), (3, "c", 13.0)]
        assert await c.fetchval(f"DELETE FROM {t} WHERE id = $1 RETURNING name", 3) == "c"
        assert await c.fetch(f"DELETE FROM {t} WHERE id = $1 RETURNING name", 3) == []
        assert sorted(tuple(r) for r in await c.fetch(f"SELECT * FROM {t}")) == [(1, "a", 1.5), (2, "b", 12.0)]
    finally:
        await c.execute(f"DROP TABLE IF EXISTS {t}")
        await c.close()


async def test_pool_acquire_release_resets_sessions(eddy: EddyProcess) -> None:
    pool = await asyncpg.create_pool(eddy.dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as c:
            await c.execute("SET application_name = 'first borrower'")
            assert await c.fetchval("SHOW application_name") == "first borrower"
        # Release sent SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL.
        async with pool.acquire() as c:
            assert await c.fetchval("SHOW application_name") == ""
            assert await c.fetchval("SELECT 1 + 1") == 2
    finally:
        await pool.close()


async def test_error_classes_follow_sqlstates(eddy: EddyProcess, uid: str) -> None:
    c = await asyncpg.connect(eddy.dsn)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await c.fetch(f"SELECT * FROM missing_{uid}")
        with pytest.raises(asyncpg.PostgresSyntaxError):
            await c.execute("SELEC 1")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await c.fetchval("SELECT 1 / $1", 0)
        with pytest.raises(asyncpg.InvalidTextRepresentationError):
            await c.fetchval("SELECT 'x'::int")
        async with c.transaction():
            with pytest.raises(asyncpg.InvalidCursorNameError):
                await c.execute("FETCH nope")
        with pytest.raises(asyncpg.InFailedSQLTransactionError):
            async with c.transaction():
                with pytest.raises(asyncpg.DivisionByZeroError):
                    await c.fetchval("SELECT 1 / 0")
                await c.fetchval("SELECT 1")
        assert await c.fetchval("SELECT 42") == 42
    finally:
        await c.close()


async def test_transactions_commit_and_roll_back(eddy: EddyProcess, uid: str) -> None:
    c = await asyncpg.connect(eddy.dsn)
    t = f"apt_{uid}"
    try:
        await c.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
        async with c.transaction():
            await c.executemany(f"INSERT INTO {t} VALUES ($1)", [(i,) for i in range(10)])
        with pytest.raises(RuntimeError):
            async with c.transaction():
                await c.execute(f"INSERT INTO {t} VALUES (100)")
                raise RuntimeError("roll back")
        async with c.transaction(isolation="repeatable_read", readonly=True):
            assert await c.fetchval(f"SELECT count(*) FROM {t}") == 10
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await c.execute(f"INSERT INTO {t} VALUES (101)")
    finally:
        await c.execute(f"DROP TABLE IF EXISTS {t}")
        await c.close()
