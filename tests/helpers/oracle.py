"""The PostgreSQL oracle: a real PostgreSQL server that evaluates the same queries over the same rows.

Each user gets a database of its own (C collation, so text orders as in
Eddy), dropped afterwards. Where no server answers, tests skip with the
reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

ORACLE_DSN = os.environ.get("EDDY_ORACLE_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> psycopg.Connection:
    return psycopg.connect(ORACLE_DSN, autocommit=True, connect_timeout=5)


@contextmanager
def oracle_database(prefix: str = "eddy_oracle") -> Iterator[psycopg.Connection]:
    try:
        admin = _admin()
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL oracle at {ORACLE_DSN}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    dsn = ORACLE_DSN.rsplit("/", 1)[0] + "/" + name
    conn = psycopg.connect(dsn, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()
        with _admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
