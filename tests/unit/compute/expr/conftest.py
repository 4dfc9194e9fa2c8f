"""A PostgreSQL 15 database to compare expression results with."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.unit.compute.expr.pg_oracle import Oracle, connect, test_database


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    try:
        with test_database("eddy_test_expr") as dsn:
            yield dsn
    except psycopg.OperationalError as e:
        pytest.skip(f"PostgreSQL is not reachable: {e}")


@pytest.fixture(scope="session")
def oracle(pg_dsn: str) -> Iterator[Oracle]:
    conn = connect(pg_dsn)
    yield Oracle(conn)
    conn.close()
