"""The playground through asyncpg: DDL, DML, views, parameters, types and errors."""

from __future__ import annotations

import datetime
from decimal import Decimal

import asyncpg
import pytest

from tests.helpers.eddy_server import EddyProcess, wait_until


async def connect(eddy: EddyProcess) -> asyncpg.Connection:
    return await asyncpg.connect(host="127.0.0.1", port=eddy.port, user="root", database="dev")


async def test_statements_types_and_views(eddy: EddyProcess, uid: str) -> None:
    c = await connect(eddy)
    t, v = f"ap_t_{uid}", f"ap_v_{uid}"
    try:
        await c.execute("SET implicit_flush = true")
        await c.execute(f"CREATE TABLE {t} (id BIGINT PRIMARY KEY, s SMALLINT, i INTEGER, r REAL, d DOUBLE PRECISION, "
                        "n NUMERIC(12, 3), b BOOLEAN, txt VARCHAR, dt DATE, ts TIMESTAMP, tz TIMESTAMPTZ, iv INTERVAL)")
        await c.execute(f"INSERT INTO {t} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        1, 2, 3, 1.5, 2.25, Decimal("12.345"), True, "héllo", datetime.date(2026, 1, 2),
                        datetime.datetime(2026, 1, 2, 3, 4, 5), datetime.datetime(2026, 1, 2, 3, 4, 5,
                                                                                  tzinfo=datetime.UTC),
                        datetime.timedelta(days=1, hours=2))
        row = await c.fetchrow(f"SELECT * FROM {t} WHERE id = $1", 1)
        assert row is not None
        assert tuple(row) == (1, 2, 3, 1.5, 2.25, Decimal("12.345"), True, "héllo", datetime.date(2026, 1, 2),
                              datetime.datetime(2026, 1, 2, 3, 4, 5),
                              datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
                              datetime.timedelta(days=1, hours=2))
        await c.execute(f"CREATE MATERIALIZED VIEW {v} AS SELECT b, count(*) AS n, sum(d) AS total FROM {t} GROUP BY b")
        await c.executemany(f"INSERT INTO {t} (id, b, d) VALUES ($1, $2, $3)", [(2, True, 1.0), (3, False, 4.0)])
        assert sorted(tuple(r) for r in await c.fetch(f"SELECT * FROM {v}")) == [(False, 1, 4.0), (True, 2, 3.25)]
        assert await c.execute(f"UPDATE {t} SET b = false WHERE id = 1") == "UPDATE 1"
        assert await c.execute(f"DELETE FROM {t} WHERE id = 3") == "DELETE 1"
        assert sorted(tuple(r) for r in await c.fetch(f"SELECT * FROM {v}")) == [(False, 1, 2.25), (True, 1, 1.0)]
    finally:
        await c.execute(f"DROP MATERIALIZED VIEW IF EXISTS {v}")
        await c.execute(f"DROP TABLE IF EXISTS {t}")
        await c.close()


async def test_errors_map_to_asyncpg_exception_classes(eddy: EddyProcess, uid: str) -> None:
    c = await connect(eddy)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await c.fetch("SELECT * FROM no_such_table")
        with pytest.raises(asyncpg.UndefinedColumnError):
            await c.execute(f"CREATE TABLE e_{uid} (a INT); SELECT b FROM e_{uid}")
        with pytest.raises(asyncpg.PostgresSyntaxError):
            await c.execute("SELEC 1")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await c.fetch("SELECT 1 / 0")
        with pytest.raises(asyncpg.InvalidTextRepresentationError):
            await c.fetch("SELECT 'x'::int")
        with pytest.raises(asyncpg.DuplicateTableError):
            await c.execute(f"CREATE TABLE e_{uid} (a INT)")
        with pytest.raises(asyncpg.FeatureNotSupportedError):
            await c.execute(f"CREATE VIEW v_{uid} AS SELECT 1")
        assert await c.fetchval("SELECT 41 + 1") == 42  # the session is still usable
    finally:
        await c.execute(f"DROP TABLE IF EXISTS e_{uid}")
        await c.close()


async def test_views_catch_up_within_barriers_without_flush(eddy: EddyProcess, uid: str) -> None:
    c = await connect(eddy)
    t, v = f"fr_t_{uid}", f"fr_v_{uid}"
    try:
        await c.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, g INT)")
        await c.execute(f"CREATE MATERIALIZED VIEW {v} AS SELECT g, count(*) AS n FROM {t} GROUP BY g")
        await c.execute(f"INSERT INTO {t} VALUES (1, 7), (2, 7)")  # no FLUSH, no implicit_flush

        async def seen() -> bool:
            return await c.fetchval(f"SELECT n FROM {v} WHERE g = 7") == 2

        for _ in range(200):  # the barrier interval is 100 ms: this allows 20 s
            if await seen():
                break
            await c.execute("SELECT 1")
        assert await seen()
    finally:
        await c.execute(f"DROP MATERIALIZED VIEW IF EXISTS {v}")
        await c.execute(f"DROP TABLE IF EXISTS {t}")
        await c.close()


def test_an_expression_error_in_a_view_is_logged_with_its_name(eddy: EddyProcess, uid: str) -> None:
    import psycopg

    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("SET implicit_flush = true")
        c.execute(f"CREATE TABLE xe_{uid} (a INT PRIMARY KEY, b INT)")
        c.execute(f"CREATE MATERIALIZED VIEW xe_v_{uid} AS SELECT a, 100 / b AS q FROM xe_{uid}")
        c.execute(f"INSERT INTO xe_{uid} VALUES (1, 0), (2, 4)")
        assert sorted(c.execute(f"SELECT * FROM xe_v_{uid}").fetchall()) == [(1, None), (2, 25)]
        wait_until(lambda: f"xe_v_{uid}" in eddy.log_tail(400) and "division by zero" in eddy.log_tail(400),
                   timeout=10, message="the view's expression error in the log")
        c.execute(f"DROP MATERIALIZED VIEW xe_v_{uid}")
        c.execute(f"DROP TABLE xe_{uid}")
