"""psycopg 3 and psycopg2 against a real server: transactions, binary results, metadata, pipelines, notices."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import psycopg2
import psycopg2.extras
import pytest
from psycopg import pq

from tests.helpers.eddy_server import EddyProcess


@pytest.fixture
def table(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    name = f"pg_{uid}"
    conn.execute(f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, name VARCHAR, score DOUBLE PRECISION, "
                 "amount NUMERIC(10, 2), ok BOOLEAN, ts TIMESTAMP)")
    yield name
    conn.execute(f"DROP TABLE IF EXISTS {name}")


ROWS = [(1, "a", 1.5, Decimal("2.50"), True, datetime.datetime(2024, 5, 6, 7, 8, 9)),
        (2, None, -0.25, Decimal("-1.00"), False, datetime.datetime(1999, 12, 31, 23, 59, 59, 500000))]


def test_psycopg_implicit_transaction_then_binary_and_text_results(eddy: EddyProcess, table: str) -> None:
    with psycopg.connect(eddy.dsn) as c:  # autocommit off: BEGIN is implicit
        with c.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
        assert c.info.transaction_status is pq.TransactionStatus.INTRANS
        c.commit()
        with c.cursor(binary=True) as cur:
            cur.execute(f"SELECT * FROM {table} ORDER BY id")
            assert cur.pgresult is not None and cur.pgresult.fformat(0) == 1
            assert cur.fetchall() == ROWS
        with c.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} WHERE id = %s AND ok = %s", (1, True))
            assert cur.pgresult is not None and cur.pgresult.fformat(0) == 0
            assert cur.fetchall() == ROWS[:1]
        c.rollback()


def test_row_description_names_the_source_table_and_column(eddy: EddyProcess, table: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        (oid,) = {c.execute(f"SELECT * FROM {table}").pgresult.ftable(i) for i in range(6)}  # type: ignore[union-attr]
        assert oid != 0
        cur = c.execute(f"SELECT t.score, t.id, id + 1 AS next, 1 AS one FROM {table} AS t WHERE ok")
        res = cur.pgresult
        assert res is not None
        assert [(res.ftable(i), res.ftablecol(i)) for i in range(4)] == [(oid, 3), (oid, 1), (0, 0), (0, 0)]


def test_parameter_status_is_resent_after_set(eddy: EddyProcess) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        assert c.info.parameter_status("application_name") == ""
        c.execute("SET application_name = 'psycopg test'")
        assert c.info.parameter_status("application_name") == "psycopg test"
        c.execute("SET TimeZone = 'Europe/Paris'")
        assert c.info.parameter_status("TimeZone") == "Europe/Paris"
        c.execute("RESET ALL")
        assert c.info.parameter_status("TimeZone") == "UTC"
        c.execute("SET datestyle TO 'ISO'")
        c.execute("SET extra_float_digits = 3")
        assert c.info.parameter_status("session_authorization") == "root"
        assert c.info.parameter_status("is_superuser") == "on"


def test_pipeline_discards_until_sync_after_an_error(eddy: EddyProcess) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        with pytest.raises(psycopg.errors.DivisionByZero), c.pipeline():
            first = c.execute("SELECT %s::int", (1,))
            c.execute("SELECT 1 / %s::int", (0,))
            c.execute("SELECT %s::int", (3,))
        assert first.fetchone() == (1,)
        with c.pipeline():
            a = c.execute("SELECT %s::int", (5,))
            b = c.execute("SELECT %s::text", ("x",))
        assert (a.fetchone(), b.fetchone()) == ((5,), ("x",))


def test_notices_and_empty_queries(eddy: EddyProcess, uid: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        notices: list[str] = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        c.execute(f"DROP TABLE IF EXISTS never_{uid}")
        assert notices == [f'table "never_{uid}" does not exist, skipping']
        result = c.pgconn.exec_(b"")
        assert result.status == pq.ExecStatus.EMPTY_QUERY
        result = c.pgconn.exec_(b";")
        assert result.status == pq.ExecStatus.EMPTY_QUERY


def test_psycopg2_transactions_types_and_execute_values(eddy: EddyProcess, table: str) -> None:
    c = psycopg2.connect(eddy.dsn)
    try:
        cur = c.cursor()
        psycopg2.extras.execute_values(cur, f"INSERT INTO {table} VALUES %s", ROWS)
        c.commit()
        cur.execute(f"SELECT * FROM {table} WHERE ts < %s ORDER BY id", (datetime.datetime(2030, 1, 1),))
        assert cur.fetchall() == ROWS
        assert [d.type_code for d in cur.description] == [20, 1043, 701, 1700, 16, 1114]
        c.rollback()
        cur.execute(f"UPDATE {table} SET score = %s WHERE id = %s", (9.5, 1))
        assert cur.rowcount == 1
        c.rollback()
        cur.execute(f"SELECT score FROM {table} WHERE id = 1")
        assert cur.fetchone() == (1.5,)
        c.commit()
    finally:
        c.close()
