"""A PostgreSQL 15 database to compare type resolution and text formats with."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.unit.compute.expr.pg_oracle import Oracle, connect, test_database


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    try:
        with test_database("eddy_test_pgtext") as dsn:
            yield dsn
    except psycopg.OperationalError as e:
        pytest.skip(f"PostgreSQL is not reachable: {e}")


@pytest.fixture(scope="session")
def pg(pg_dsn: str) -> Iterator[psycopg.Connection]:
    conn = connect(pg_dsn)
    Oracle(conn)
    yield conn
    conn.close()
