"""Transaction blocks through psycopg and psycopg2: one snapshot, writes applied at COMMIT, savepoints, states."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import psycopg2
import pytest
from psycopg.pq import TransactionStatus

from tests.helpers.eddy_server import EddyProcess


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def table(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    name = f"tx_{uid}"
    conn.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT)")
    conn.execute(f"INSERT INTO {name} VALUES (1, 10), (2, 20)")
    conn.execute("FLUSH")
    yield name
    conn.execute(f"DROP TABLE IF EXISTS {name}")


def test_writes_apply_at_commit_and_the_block_reads_one_snapshot(eddy: EddyProcess, conn: psycopg.Connection,
                                                                 table: str) -> None:
    with psycopg.connect(eddy.dsn) as block:  # not autocommit: psycopg sends BEGIN
        assert count(block, table) == 2
        assert block.info.transaction_status is TransactionStatus.INTRANS
        conn.execute(f"INSERT INTO {table} VALUES (3, 30)")
        conn.execute("FLUSH")
        assert count(block, table) == 2  # the snapshot of the block's first read
        cur = block.execute(f"INSERT INTO {table} VALUES (4, 40), (5, 50)")
        assert cur.rowcount == 2
        assert block.execute(f"UPDATE {table} SET v = v + 1 WHERE id <= 2").rowcount == 2
        assert block.execute(f"DELETE FROM {table} WHERE id = 3").rowcount == 0  # not in its snapshot
        assert count(block, table) == 2  # its own writes are pending, not visible
        conn.execute("FLUSH")
        assert count(conn, table) == 3  # nor visible to others
        block.commit()
        # COMMIT returned once everything was committed: no FLUSH needed.
        assert sorted(conn.execute(f"SELECT * FROM {table}").fetchall()) == [(1, 11), (2, 21), (3, 30), (4, 40),
                                                                              (5, 50)]
        assert count(block, table) == 5  # a new block, a new snapshot


def test_rollback_and_savepoints(eddy: EddyProcess, conn: psycopg.Connection, table: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute(f"INSERT INTO {table} VALUES (10, 0)")
        c.execute("ROLLBACK")
        c.execute("BEGIN")
        c.execute(f"INSERT INTO {table} VALUES (11, 0)")
        c.execute("SAVEPOINT a")
        c.execute(f"INSERT INTO {table} VALUES (12, 0)")
        c.execute("SAVEPOINT b")
        c.execute(f"INSERT INTO {table} VALUES (13, 0)")
        c.execute("ROLLBACK TO SAVEPOINT a")
        c.execute(f"INSERT INTO {table} VALUES (14, 0)")
        c.execute("RELEASE a")
        with pytest.raises(psycopg.errors.InvalidSavepointSpecification, match='savepoint "b" does not exist'):
            c.execute("ROLLBACK TO b")
        assert c.info.transaction_status is TransactionStatus.INERROR
        c.execute("ROLLBACK")
        c.execute("BEGIN")
        c.execute(f"INSERT INTO {table} VALUES (15, 0)")
        c.execute("SAVEPOINT s")
        with pytest.raises(psycopg.errors.DivisionByZero):
            c.execute("SELECT 1 / 0")
        c.execute("ROLLBACK TO s")  # leaves the failed state
        assert c.info.transaction_status is TransactionStatus.INTRANS
        c.execute(f"INSERT INTO {table} VALUES (16, 0)")
        c.execute("COMMIT")
        assert sorted(r[0] for r in c.execute(f"SELECT id FROM {table}").fetchall()) == [1, 2, 15, 16]
        with pytest.raises(psycopg.errors.NoActiveSqlTransaction, match="SAVEPOINT can only be used in "
                                                                         "transaction blocks"):
            c.execute("SAVEPOINT outside")


def test_failed_block_refuses_statements_until_rollback(eddy: EddyProcess, table: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute(f"INSERT INTO {table} VALUES (20, 0)")
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("SELECT * FROM no_such_table")
        assert c.info.transaction_status is TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction, match="current transaction is aborted"):
            c.execute("SELECT 1")
        cur = c.execute("COMMIT")  # a failed block can only roll back
        assert cur.statusmessage == "ROLLBACK"
        assert c.info.transaction_status is TransactionStatus.IDLE
        c.execute("FLUSH")
        assert count(c, table) == 2


def test_modes_isolation_and_read_only(eddy: EddyProcess, table: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        assert c.execute("SHOW transaction isolation level").fetchone() == ("read committed",)
        c.execute("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY")
        assert c.execute("SHOW transaction isolation level").fetchone() == ("serializable",)
        assert c.execute("SHOW transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction,
                           match="cannot execute INSERT in a read-only transaction"):
            c.execute(f"INSERT INTO {table} VALUES (30, 0)")
        c.execute("ROLLBACK")
        c.execute("START TRANSACTION")
        c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        assert c.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
        c.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")  # SHOW took no snapshot: still allowed
        count(c, table)
        c.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")  # unchanged: fine, as in PostgreSQL
        with pytest.raises(psycopg.errors.ActiveSqlTransaction, match="must be called before any query"):
            c.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        c.execute("ABORT")
        c.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        c.execute("BEGIN")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="cannot execute CREATE TABLE"):
            c.execute("CREATE TABLE never (a INT)")
        c.execute("ROLLBACK")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute(f"DELETE FROM {table}")  # the session default applies outside blocks too
        c.execute("SET default_transaction_read_only = off")
        c.execute(f"DELETE FROM {table} WHERE id = 1")


def test_psycopg2_implicit_transactions_and_ddl_inside_a_block(eddy: EddyProcess, uid: str) -> None:
    t = f"tx2_{uid}"
    c = psycopg2.connect(eddy.dsn)  # psycopg2 sends BEGIN before the first statement
    try:
        cur = c.cursor()
        # What pandas' to_sql(if_exists="replace") does: DDL and inserts in one block.
        cur.execute(f"DROP TABLE IF EXISTS {t}")
        cur.execute(f"CREATE TABLE {t} (k BIGINT, name TEXT, score FLOAT(53))")
        cur.executemany(f"INSERT INTO {t} VALUES (%s, %s, %s)", [(i, f"n{i}", i / 2) for i in range(50)])
        assert c.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        c.commit()
        cur.execute(f"SELECT count(*), sum(k) FROM {t}")
        assert cur.fetchone() == (50, 1225)
        cur.execute(f"INSERT INTO {t} VALUES (100, 'gone', 0)")
        c.rollback()
        cur.execute(f"SELECT count(*) FROM {t} WHERE k = 100")
        assert cur.fetchone() == (0,)
        c.rollback()
        # DDL is not transactional: the table created in a rolled-back block stays.
        cur.execute(f"CREATE TABLE {t}_kept (a INT)")
        c.rollback()
        c.autocommit = True
        cur.execute(f"DROP TABLE {t}_kept")
        cur.execute(f"DROP TABLE {t}")
    finally:
        c.close()


def test_copy_and_ctas_like_flows_in_a_block(eddy: EddyProcess, table: str) -> None:
    with psycopg.connect(eddy.dsn) as c:
        with c.cursor().copy(f"COPY {table} FROM STDIN") as cp:
            cp.write(b"40\t1\n41\t2\n")
        assert count(c, table) == 2
        c.commit()
        assert count(c, table) == 4


def test_commit_of_writes_to_a_dropped_table_fails_and_ends_the_block(eddy: EddyProcess, conn: psycopg.Connection,
                                                                     uid: str) -> None:
    t = f"txd_{uid}"
    conn.execute(f"CREATE TABLE {t} (a INT)")
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute(f"INSERT INTO {t} VALUES (1)")
        conn.execute(f"DROP TABLE {t}")
        with pytest.raises(psycopg.Error):
            c.execute("COMMIT")
        assert c.info.transaction_status is TransactionStatus.IDLE
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_ready_for_query_reports_each_state(eddy: EddyProcess) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        states = [c.info.transaction_status]
        c.execute("BEGIN")
        states.append(c.info.transaction_status)
        with pytest.raises(psycopg.Error):
            c.execute("SELECT x FROM nowhere")
        states.append(c.info.transaction_status)
        c.execute("ROLLBACK")
        states.append(c.info.transaction_status)
        assert states == [TransactionStatus.IDLE, TransactionStatus.INTRANS, TransactionStatus.INERROR,
                          TransactionStatus.IDLE]
        notices: list[str] = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        c.execute("COMMIT")
        assert notices == ["there is no transaction in progress"]
