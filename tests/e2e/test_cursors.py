"""SQL cursors (DECLARE, FETCH, MOVE, CLOSE) by hand and through the drivers that use them for streaming."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import psycopg
import psycopg2
import pytest

from tests.helpers.eddy_server import EddyProcess

N = 1000


@pytest.fixture
def numbers(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    name = f"cur_{uid}"
    conn.execute(f"CREATE TABLE {name} (n INT PRIMARY KEY, s VARCHAR)")
    with conn.cursor().copy(f"COPY {name} FROM STDIN") as cp:
        cp.write("".join(f"{i}\tv{i}\n" for i in range(N)).encode())
    conn.execute("FLUSH")
    yield name
    conn.execute(f"DROP TABLE IF EXISTS {name}")


def test_declare_fetch_move_close(eddy: EddyProcess, numbers: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        with pytest.raises(psycopg.errors.NoActiveSqlTransaction, match="DECLARE CURSOR can only be used"):
            c.execute(f"DECLARE c CURSOR FOR SELECT n FROM {numbers}")
        c.execute("BEGIN")
        assert c.execute(f"DECLARE c NO SCROLL CURSOR FOR SELECT n FROM {numbers} ORDER BY n").statusmessage == \
            "DECLARE CURSOR"
        cur = c.execute("FETCH 3 FROM c")
        assert (cur.fetchall(), cur.statusmessage) == ([(0,), (1,), (2,)], "FETCH 3")
        assert c.execute("FETCH c").fetchall() == [(3,)]
        assert c.execute("MOVE FORWARD 10 IN c").statusmessage == "MOVE 10"
        assert c.execute("FETCH NEXT FROM c").fetchall() == [(14,)]
        assert c.execute("FETCH RELATIVE 2 FROM c").fetchall() == [(16,)]
        rest = c.execute("FETCH ALL FROM c")
        assert rest.statusmessage == f"FETCH {N - 17}"
        assert [r[0] for r in rest.fetchall()] == list(range(17, N))
        empty = c.execute("FETCH 5 FROM c")
        assert (empty.fetchall(), empty.statusmessage) == ([], "FETCH 0")
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="cursor can only scan forward"):
            c.execute("FETCH BACKWARD 1 FROM c")
        c.execute("ROLLBACK")
        c.execute("BEGIN")
        c.execute(f"DECLARE c CURSOR FOR SELECT * FROM {numbers}")
        with pytest.raises(psycopg.errors.DuplicateCursor, match='cursor "c" already exists'):
            c.execute("DECLARE c CURSOR FOR SELECT 1")
        c.execute("ROLLBACK")
        c.execute("BEGIN")
        c.execute(f"DECLARE a CURSOR FOR SELECT * FROM {numbers}")
        c.execute(f"DECLARE b CURSOR FOR SELECT * FROM {numbers}")
        assert c.execute("CLOSE a").statusmessage == "CLOSE CURSOR"
        with pytest.raises(psycopg.errors.InvalidCursorName, match='cursor "a" does not exist'):
            c.execute("FETCH a")
        c.execute("ROLLBACK")
        c.execute("BEGIN")
        c.execute(f"DECLARE a CURSOR FOR SELECT * FROM {numbers}")
        assert c.execute("CLOSE ALL").statusmessage == "CLOSE CURSOR ALL"
        with pytest.raises(psycopg.errors.InvalidCursorName):
            c.execute("FETCH a")
        c.execute("ROLLBACK")


def test_cursors_end_with_their_block_unless_held(eddy: EddyProcess, conn: psycopg.Connection,
                                                  numbers: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute(f"DECLARE plain CURSOR FOR SELECT n FROM {numbers} ORDER BY n")
        c.execute(f"DECLARE held CURSOR WITH HOLD FOR SELECT n FROM {numbers} ORDER BY n")
        assert c.execute("FETCH 2 FROM held").fetchall() == [(0,), (1,)]
        c.execute("COMMIT")
        with pytest.raises(psycopg.errors.InvalidCursorName):
            c.execute("FETCH plain")
        conn.execute(f"DELETE FROM {numbers}")  # the held cursor kept its rows
        conn.execute("FLUSH")
        assert c.execute("FETCH 2 FROM held").fetchall() == [(2,), (3,)]
        c.execute("CLOSE held")
        c.execute("BEGIN")
        c.execute(f"DECLARE gone CURSOR WITH HOLD FOR SELECT n FROM {numbers}")
        c.execute("ROLLBACK")
        with pytest.raises(psycopg.errors.InvalidCursorName):
            c.execute("FETCH gone")
        c.execute(f"DECLARE outside CURSOR WITH HOLD FOR SELECT count(*) FROM {numbers}")
        assert c.execute("FETCH outside").fetchall() == [(0,)]
        c.execute("BEGIN")
        c.execute("SAVEPOINT s")
        c.execute("DECLARE later CURSOR FOR SELECT 1")
        c.execute("ROLLBACK TO SAVEPOINT s")
        with pytest.raises(psycopg.errors.InvalidCursorName):
            c.execute("FETCH later")
        c.execute("ROLLBACK")


def test_binary_cursor_rows_come_in_binary(eddy: EddyProcess, numbers: str) -> None:
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute(f"DECLARE bc BINARY CURSOR FOR SELECT n FROM {numbers} WHERE n = 258")
        result = c.pgconn.exec_(b"FETCH 1 FROM bc")
        assert (result.fformat(0), result.get_value(0, 0)) == (1, b"\x00\x00\x01\x02")
        c.execute("ROLLBACK")


def test_psycopg2_named_cursor_streams_every_row(eddy: EddyProcess, numbers: str) -> None:
    c = psycopg2.connect(eddy.dsn)
    try:
        cur = c.cursor(name="stream_me")
        cur.itersize = 64  # FETCH FORWARD 64 FROM "stream_me" until a short batch
        cur.execute(f"SELECT n, s FROM {numbers} WHERE n >= %s ORDER BY n", (10,))
        seen = [r for r in cur]
        assert seen == [(i, f"v{i}") for i in range(10, N)]
        cur.close()
        c.commit()
    finally:
        c.close()


def test_psycopg_server_side_cursor_with_parameters(eddy: EddyProcess, numbers: str) -> None:
    with psycopg.connect(eddy.dsn) as c:
        with c.cursor(name="srv") as cur:
            cur.execute(f"SELECT n, s FROM {numbers} WHERE n < %s ORDER BY n", (100,))
            assert [d.name for d in cur.description or []] == ["n", "s"]
            assert cur.fetchmany(3) == [(0, "v0"), (1, "v1"), (2, "v2")]
            assert cur.fetchone() == (3, "v3")
            assert len(cur.fetchall()) == 96
        with c.cursor(name="srvb", binary=True) as cur:
            cur.execute(f"SELECT n FROM {numbers} WHERE n = %s", (7,))
            assert cur.fetchall() == [(7,)]


async def test_asyncpg_cursor_in_a_transaction(eddy: EddyProcess, numbers: str) -> None:
    c = await asyncpg.connect(eddy.dsn)
    try:
        async with c.transaction():
            got = [r["n"] async for r in c.cursor(f"SELECT n FROM {numbers} WHERE n < $1 ORDER BY n", 300,
                                                   prefetch=50)]
            assert got == list(range(300))
            cur = await c.cursor(f"SELECT n FROM {numbers} ORDER BY n")
            assert [r["n"] for r in await cur.fetch(4)] == [0, 1, 2, 3]
            await cur.forward(10)
            row = await cur.fetchrow()
            assert row is not None and row["n"] == 14
    finally:
        await c.close()
