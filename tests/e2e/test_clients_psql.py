"""psql against a real server: several statements per -c, transactions, \\conninfo, FETCH_COUNT, \\copy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess

pytestmark = pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")


def psql(eddy: EddyProcess, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(eddy.port), "-U", "root", "-d",
                           "dev", *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_c_with_several_statements_and_a_transaction(eddy: EddyProcess, conn: psycopg.Connection,
                                                     uid: str) -> None:
    t = f"ps_{uid}"
    try:
        out = psql(eddy, "-c", f"CREATE TABLE {t} (a INT PRIMARY KEY); BEGIN; INSERT INTO {t} VALUES (1), (2); "
                               f"INSERT INTO {t} VALUES (3); COMMIT; SELECT count(*) FROM {t}")
        assert out.returncode == 0, out.stderr
        # psql 15 shows every statement's result; COMMIT waited for the commit, so the count sees all rows.
        assert out.stdout.split() == ["CREATE", "TABLE", "BEGIN", "INSERT", "0", "2", "INSERT", "0", "1", "COMMIT",
                                      "3"]
        bad = psql(eddy, "-v", "ON_ERROR_STOP=1", "-c", f"BEGIN; INSERT INTO {t} VALUES (4); SELECT 1/0; COMMIT")
        assert bad.returncode != 0 and "division by zero" in bad.stderr
        assert psql(eddy, "-c", f"SELECT count(*) FROM {t}").stdout.split() == ["3"]
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_conninfo_and_reported_settings(eddy: EddyProcess) -> None:
    out = psql(eddy, "-c", "\\conninfo", "-c", "SHOW server_version", "-c", "SHOW transaction isolation level")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f'You are connected to database "dev" as user "root" on host "127.0.0.1" at port "{eddy.port}".'
    assert lines[1:] == ["13.14.0", "read committed"]


def test_fetch_count_streams_through_a_cursor(eddy: EddyProcess, conn: psycopg.Connection, uid: str) -> None:
    t = f"psf_{uid}"
    conn.execute(f"CREATE TABLE {t} (n INT PRIMARY KEY)")
    try:
        with conn.cursor().copy(f"COPY {t} FROM STDIN") as cp:
            cp.write("".join(f"{i}\n" for i in range(250)).encode())
        conn.execute("FLUSH")
        # With FETCH_COUNT psql runs BEGIN, DECLARE _psql_cursor, FETCH FORWARD 100 ..., CLOSE, COMMIT.
        out = psql(eddy, "-v", "FETCH_COUNT=100", "-c", f"SELECT n FROM {t} ORDER BY n")
        assert out.returncode == 0, out.stderr
        assert [int(x) for x in out.stdout.split()] == list(range(250))
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_autocommit_off_script_with_rollback(eddy: EddyProcess, conn: psycopg.Connection, uid: str) -> None:
    t = f"psa_{uid}"
    conn.execute(f"CREATE TABLE {t} (a INT)")
    try:
        script = f"\\set AUTOCOMMIT off\nINSERT INTO {t} VALUES (1);\nROLLBACK;\nINSERT INTO {t} VALUES (2);\nCOMMIT;\n"
        out = psql(eddy, stdin=script)
        assert out.returncode == 0, out.stderr
        assert psql(eddy, "-c", f"SELECT a FROM {t}").stdout.split() == ["2"]
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_copy_round_trip_through_files(eddy: EddyProcess, conn: psycopg.Connection, uid: str, tmp_path: Path) -> None:
    t = f"psc_{uid}"
    src, dst = tmp_path / "in.tsv", tmp_path / "out.tsv"
    src.write_text("1\tone\n2\t\\N\n3\tthree \\\\ back\n")
    conn.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR)")
    try:
        out = psql(eddy, "-c", f"\\copy {t} from '{src}'", "-c", "FLUSH",
                   "-c", f"\\copy (select * from {t} order by id) to '{dst}'")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["COPY", "3", "FLUSH", "COPY", "3"]
        assert dst.read_text() == src.read_text()
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")
