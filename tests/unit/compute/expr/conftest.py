"""A PostgreSQL 15 database to compare expression results with."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from common.pgtext import FormatOptions
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


@pytest.fixture(scope="session")
def zoned(pg_dsn: str) -> Iterator[Callable[[str], Oracle]]:
    """Oracles whose session (PostgreSQL's and Eddy's) is in a given time zone."""
    made: dict[str, Oracle] = {}

    def get(zone: str) -> Oracle:
        if zone not in made:
            made[zone] = Oracle(connect(pg_dsn), FormatOptions(timezone=zone))
        return made[zone]

    yield get
    for o in made.values():
        o.conn.close()
