"""COPY through real clients: psql's \\copy, psycopg's copy, psycopg2's copy_expert, against PostgreSQL's answers."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import psycopg
import psycopg2
import pytest

from tests.helpers.eddy_server import EddyProcess
from tests.helpers.oracle import oracle_database

COLUMNS = "id BIGINT PRIMARY KEY, name VARCHAR, score DOUBLE PRECISION, amount NUMERIC(10, 2), ok BOOLEAN, ts TIMESTAMP"
CSV = (
    'id,name,score,amount,ok,ts\n'
    '1,plain,1.5,10.25,true,2024-01-02 03:04:05\n'
    '2,"with, comma",-2,0,f,2024-02-29 00:00:00\n'
    '3,"multi\nline ""quoted""",,,,\n'
    '4,"",1e3,-99999999.99,yes,1999-12-31 23:59:59.5\n'
    '5,ünïcödé \\ backslash,NaN,3.5,0,2000-01-01 00:00:00\n'
)


def psql(eddy: EddyProcess, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(eddy.port), "-U",
                           "root", "-d", "dev", *args], input=stdin, capture_output=True, text=True, timeout=300)


def rows(conn: psycopg.Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(sql).fetchall()]


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_psql_copy_both_ways_matches_postgresql(eddy: EddyProcess, conn: psycopg.Connection, uid: str,
                                                tmp_path: Path) -> None:
    t = f"cp_{uid}"
    src = tmp_path / "in.csv"
    src.write_text(CSV)
    conn.execute(f"CREATE TABLE {t} ({COLUMNS})")
    try:
        out = psql(eddy, "-c", f"\\copy {t} from '{src}' with csv header")
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "COPY 5"
        conn.execute("FLUSH")
        with oracle_database("eddy_copy_e2e") as pg:
            pg.execute(f"CREATE TABLE {t} ({COLUMNS})")
            with pg.cursor().copy(f"COPY {t} FROM STDIN WITH (FORMAT csv, HEADER)") as cp:
                cp.write(CSV.encode())
            expected = rows(pg, f"SELECT * FROM {t} ORDER BY id")
            got = rows(conn, f"SELECT * FROM {t} ORDER BY id")
            assert [r[:3] + r[4:] for r in got[:4]] == [r[:3] + r[4:] for r in expected[:4]]
            assert got[4][2] != got[4][2]  # NaN
            assert [r[3] for r in got] == [r[3] for r in expected]
            for fmt in ("", " with csv header", " with (format csv, force_quote *)"):
                dst = tmp_path / f"out{len(fmt)}.txt"
                ours = psql(eddy, "-c", f"\\copy (select * from {t} where id < 5 order by id) to '{dst}'{fmt}")
                assert ours.returncode == 0, ours.stderr
                theirs = io.StringIO()
                with pg.cursor().copy(f"COPY (SELECT * FROM {t} WHERE id < 5 ORDER BY id) TO STDOUT{fmt}") as cp:
                    for chunk in cp:
                        theirs.write(bytes(chunk).decode())
                assert dst.read_text() == theirs.getvalue()
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_psql_copy_from_stdin_in_a_script(eddy: EddyProcess, conn: psycopg.Connection, uid: str) -> None:
    t = f"cps_{uid}"
    script = (f"CREATE TABLE {t} (a INT, b VARCHAR);\n"
              f"COPY {t} FROM STDIN;\n1\tone\n2\t\\N\n3\tthree\\ttab\n\\.\n"
              f"FLUSH;\nSELECT a, coalesce(b, 'null') FROM {t} ORDER BY a;\n")
    try:
        out = psql(eddy, "-A", "-t", stdin=script)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[-3:] == ["1|one", "2|null", "3|three\ttab"]
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_a_file_larger_than_a_batch_loads_completely(conn: psycopg.Connection, uid: str) -> None:
    t = f"cpb_{uid}"
    n = 250_000  # about 9 MB: more than one batch of lines
    data = "".join(f"{i}\tname number {i} of the copy test\n" for i in range(n)).encode()
    conn.execute(f"CREATE TABLE {t} (id BIGINT, name VARCHAR)")
    try:
        with conn.cursor() as cur:
            with cur.copy(f"COPY {t} FROM STDIN") as cp:
                for i in range(0, len(data), 1 << 16):
                    cp.write(data[i:i + (1 << 16)])
            assert cur.rowcount == n
        conn.execute("FLUSH")
        assert conn.execute(f"SELECT count(*), sum(id), count(DISTINCT id) FROM {t}").fetchone() == (
            n, Decimal(n * (n - 1) // 2), n)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_psycopg2_copy_expert_and_psycopg_copy_rows(eddy: EddyProcess, uid: str) -> None:
    t = f"cpp_{uid}"
    c2 = psycopg2.connect(eddy.dsn)
    try:
        cur = c2.cursor()
        cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR)")
        c2.commit()
        cur.copy_expert(f"COPY {t} (id, v) FROM STDIN WITH CSV", io.StringIO('1,a\n2,"b,c"\n3,\n'))
        assert cur.rowcount == 3
        c2.commit()
        out = io.StringIO()
        cur.copy_expert(f"COPY (SELECT * FROM {t} ORDER BY id) TO STDOUT WITH CSV HEADER", out)
        assert out.getvalue() == 'id,v\n1,a\n2,"b,c"\n3,\n'
        c2.commit()
    finally:
        c2.close()
    with psycopg.connect(eddy.dsn, autocommit=True) as c3:
        with c3.cursor().copy(f"COPY {t} TO STDOUT") as cp:
            assert sorted(cp.rows(), key=str) == [("1", "a"), ("2", "b,c"), ("3", None)]
        with c3.cursor().copy(f"COPY {t} (v, id) FROM STDIN") as cp:
            cp.write_row(("d", 4))
        c3.execute("FLUSH")
        assert rows(c3, f"SELECT * FROM {t} WHERE id = 4") == [(4, "d")]
        c3.execute(f"DROP TABLE {t}")


@pytest.mark.parametrize(("sql", "data", "sqlstate", "message"), [
    ("COPY {t} FROM STDIN", b"1\tx\n2\n", "22P04", 'missing data for column "v"'),
    ("COPY {t} FROM STDIN", b"1\tx\textra\n", "22P04", "extra data after last expected column"),
    ("COPY {t} FROM STDIN", b"one\tx\n", "22P02", 'invalid input syntax for type integer: "one"'),
    ("COPY {t} FROM STDIN", b"\\N\tx\n", "23502", 'null value in column "id"'),
    ("COPY {t} (v) FROM STDIN", b"x\n", "23502", 'null value in column "id"'),
    ("COPY {t} FROM STDIN WITH (FORMAT binary)", b"", "0A000", "COPY BINARY is not supported"),
    ("COPY {t} FROM '/tmp/x'", b"", "0A000", "COPY from a file or program is not supported"),
    ("COPY {t} (nope) FROM STDIN", b"", "42703", 'column "nope" of relation'),
    ("COPY {t}_missing FROM STDIN", b"", "42P01", "does not exist"),
    ("COPY {t} FROM STDIN WITH (FORMAT csv, DELIMITER 'ab')", b"", "0A000", "single one-byte character"),
])
def test_copy_errors_load_nothing_and_keep_the_session(conn: psycopg.Connection, uid: str, sql: str, data: bytes,
                                                       sqlstate: str, message: str) -> None:
    t = f"cpe_{uid}"
    conn.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR)")
    try:
        with pytest.raises(psycopg.Error) as err, conn.cursor().copy(sql.format(t=t)) as cp:
            cp.write(data)
        assert err.value.sqlstate == sqlstate
        assert message in str(err.value)
        conn.execute("FLUSH")
        assert rows(conn, f"SELECT count(*) FROM {t}") == [(0,)]
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_copy_into_a_view_is_refused_and_out_of_it_works(conn: psycopg.Connection, uid: str) -> None:
    t, v = f"cpv_{uid}", f"cpv_v_{uid}"
    conn.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, g INT)")
    conn.execute(f"CREATE MATERIALIZED VIEW {v} AS SELECT g, count(*) AS n FROM {t} GROUP BY g")
    try:
        with conn.cursor().copy(f"COPY {t} FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(b"1,7\n2,7\n3,8\n")
        conn.execute("FLUSH")
        with conn.cursor().copy(f"COPY {v} TO STDOUT WITH (FORMAT csv, HEADER)") as cp:
            lines = b"".join(bytes(c) for c in cp).decode().splitlines()
        assert lines[0] == "g,n" and sorted(lines[1:]) == ["7,2", "8,1"]
        with pytest.raises(psycopg.errors.WrongObjectType, match="cannot copy to materialized view"), \
                conn.cursor().copy(f"COPY {v} FROM STDIN") as cp:
            cp.write(b"1\t1\n")
    finally:
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {v}")
        conn.execute(f"DROP TABLE IF EXISTS {t}")
