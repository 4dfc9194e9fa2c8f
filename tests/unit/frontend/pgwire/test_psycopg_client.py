"""psycopg 3 against the server: text and binary results, parameters, pipelines, errors, notices, cancel."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest

from tests.unit.frontend.pgwire.canned_statements import ALL_TYPES, ALL_TYPES_ROWS
from tests.unit.frontend.pgwire.pgwire_harness import ServerThread, wait_until

UTC = datetime.UTC


@pytest.fixture
def conn(pg: ServerThread) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(host="127.0.0.1", port=pg.port, user="root", dbname="dev", autocommit=True,
                         application_name="probe_psycopg") as c:
        yield c


def as_psycopg(v: object) -> object:
    """psycopg reads intervals as timedeltas (30-day months) and timestamptz in the session's zone."""
    if isinstance(v, pa.MonthDayNano):
        return datetime.timedelta(days=v.months * 30 + v.days, microseconds=v.nanoseconds // 1000)
    return v


@pytest.mark.parametrize("binary", [False, True])
def test_every_type(conn: psycopg.Connection[tuple[object, ...]], binary: bool) -> None:
    cur = conn.cursor(binary=binary)
    cur.execute("SELECT * FROM all_types")
    assert cur.description is not None
    assert [(d.name, d.type_code) for d in cur.description] == [(n, t.oid) for n, t in ALL_TYPES]
    assert cur.rowcount == 3
    rows = cur.fetchall()
    assert rows == [tuple(as_psycopg(v) for v in r) for r in ALL_TYPES_ROWS]


@pytest.mark.parametrize("binary", [False, True])
def test_parameters(conn: psycopg.Connection[tuple[object, ...]], binary: bool) -> None:
    values = (7, 3_000_000_000, 0.25, Decimal("-1.5"), True, "it's", datetime.date(2024, 2, 29),
              datetime.datetime(2024, 1, 2, 3, 4, 5, 6), datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC))
    sql = ("SELECT %s::int4, %s::int8, %s::float8, %s::numeric, %s::bool, %s::varchar, %s::date, %s::timestamp, "
           "%s::timestamptz")
    row = conn.cursor(binary=binary).execute(sql, values).fetchone()
    assert row == values


def test_prepared_statement_is_reused(pg: ServerThread, conn: psycopg.Connection[tuple[object, ...]]) -> None:
    for i in range(7):
        assert conn.execute("SELECT %s::int8", (i,), prepare=True).fetchone() == (i,)


def test_executemany_in_a_pipeline(pg: ServerThread, conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.cursor().executemany("INSERT INTO t VALUES (%s)", [(1,), (2,), (3,)])
    assert [p for sql, p in pg.factory.executed if sql.startswith("INSERT")] == [[1], [2], [3]]


def test_errors_carry_their_diagnostics(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable) as missing:
        conn.execute("SELECT * FROM missing")
    assert missing.value.diag.statement_position == "15"
    with pytest.raises(psycopg.errors.UniqueViolation) as unique:
        conn.execute("SELECT hint()", ())
    assert unique.value.diag.message_detail == "Key (id)=(1) already exists."
    assert unique.value.diag.message_hint == "Pick another id."
    with pytest.raises(psycopg.errors.InternalError_) as internal:
        conn.execute("SELECT crash()")
    assert internal.value.diag.message_primary == "internal error"
    assert conn.execute("SELECT 3").fetchone() == (3,)


def test_implicit_transactions_and_status(pg: ServerThread) -> None:
    with psycopg.connect(host="127.0.0.1", port=pg.port, user="root", dbname="dev") as c:
        c.execute("SELECT 1")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        with pytest.raises(psycopg.errors.DivisionByZero):
            c.execute("SELECT 1/0")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        c.rollback()
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_notices_and_parameter_status(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    conn.execute("DROP TABLE IF EXISTS ghost")
    assert notices == ['table "ghost" does not exist, skipping']
    assert conn.info.parameter_status("application_name") == "probe_psycopg"
    conn.execute("SET application_name = 'renamed'")
    assert conn.info.parameter_status("application_name") == "renamed"


def test_cancel_from_another_thread(pg: ServerThread, conn: psycopg.Connection[tuple[object, ...]]) -> None:
    def cancel_when_sleeping() -> None:
        pg.factory.sleeping.wait(10)
        conn.cancel_safe()

    canceller = threading.Thread(target=cancel_when_sleeping)
    canceller.start()
    with pytest.raises(psycopg.errors.QueryCanceled, match="canceling statement due to user request"):
        conn.execute("SELECT pg_sleep(60)")
    canceller.join()
    assert conn.execute("SELECT 4").fetchone() == (4,)


def test_unknown_database(pg: ServerThread) -> None:
    with pytest.raises(psycopg.OperationalError, match='database "nope" does not exist'):
        psycopg.connect(host="127.0.0.1", port=pg.port, user="root", dbname="nope")


def test_closing_ends_the_session(pg: ServerThread) -> None:
    c = psycopg.connect(host="127.0.0.1", port=pg.port, user="root", dbname="dev")
    pid = c.info.backend_pid
    c.close()
    wait_until(lambda: pid in pg.factory.closed, "the session to close")
