"""pgjdbc (Debian's libpostgresql-jdbc-java) against a real server: DatabaseMetaData, prepared statements
switching to binary, fetch-size cursors and SQLState.

A small Java program is compiled with javac into a temporary directory and
run with the machine's Java; it prints one line per fact, which the test
compares. Skipped when Java is absent, except under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess

JAR = Path("/usr/share/java/postgresql.jar")

PROBE = r"""
import java.sql.*;
import java.util.*;

public class Probe {
    static void print(String s) { System.out.println(s); }

    /** The wire format of each result column (0 text, 1 binary), from pgjdbc's own field list. */
    static String formats(ResultSet rs) throws Exception {
        java.lang.reflect.Field f = org.postgresql.jdbc.PgResultSet.class.getDeclaredField("fields");
        f.setAccessible(true);
        org.postgresql.core.Field[] fields = (org.postgresql.core.Field[]) f.get(
            rs.unwrap(org.postgresql.jdbc.PgResultSet.class));
        StringBuilder sb = new StringBuilder();
        for (org.postgresql.core.Field x : fields) sb.append(x.getFormat());
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        String p = args[1];
        Properties props = new Properties();
        props.setProperty("user", "root");
        props.setProperty("prepareThreshold", "2");
        try (Connection c = DriverManager.getConnection(args[0], props)) {
            DatabaseMetaData md = c.getMetaData();
            print("product " + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion() + "."
                  + md.getDatabaseMinorVersion());
            try (ResultSet rs = md.getTables(null, "public", p + "%", new String[]{"TABLE", "MATERIALIZED VIEW"})) {
                while (rs.next()) print("table " + rs.getString("TABLE_NAME") + " " + rs.getString("TABLE_TYPE"));
            }
            try (ResultSet rs = md.getColumns(null, "public", p + "%", "%")) {
                while (rs.next()) print("column " + rs.getString("TABLE_NAME") + " " + rs.getString("COLUMN_NAME")
                    + " " + rs.getString("TYPE_NAME") + " " + rs.getInt("DATA_TYPE") + " "
                    + rs.getInt("ORDINAL_POSITION") + " " + rs.getString("IS_NULLABLE"));
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", p + "_orders")) {
                while (rs.next()) print("pk " + rs.getString("COLUMN_NAME") + " " + rs.getInt("KEY_SEQ") + " "
                    + rs.getString("PK_NAME"));
            }
            try (ResultSet rs = md.getIndexInfo(null, "public", p + "_orders", false, false)) {
                while (rs.next()) print("index " + rs.getString("INDEX_NAME") + " " + rs.getString("COLUMN_NAME")
                    + " " + rs.getBoolean("NON_UNIQUE"));
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, amount, price, created_at, customer FROM " + p + "_orders WHERE id >= ? ORDER BY id")) {
                for (int run = 1; run <= 4; run++) {
                    ps.setInt(1, 2);
                    try (ResultSet rs = ps.executeQuery()) {
                        StringBuilder sb = new StringBuilder("run " + run + " formats " + formats(rs));
                        while (rs.next()) sb.append(" ").append(rs.getInt(1)).append("/").append(rs.getDouble(2))
                            .append("/").append(rs.getBigDecimal(3)).append("/").append(rs.getTimestamp(4))
                            .append("/").append(rs.getString(5));
                        ResultSetMetaData m = rs.getMetaData();
                        sb.append(" meta ").append(m.getTableName(1)).append(" ").append(m.isNullable(1))
                          .append(" ").append(m.isNullable(2));
                        print(sb.toString());
                    }
                }
            }
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(2);
                try (ResultSet rs = st.executeQuery("SELECT id FROM " + p + "_orders ORDER BY id")) {
                    StringBuilder sb = new StringBuilder("fetched");
                    while (rs.next()) sb.append(" ").append(rs.getInt(1));
                    print(sb.toString());
                }
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT * FROM " + p + "_missing");
            } catch (SQLException e) {
                print("sqlstate " + e.getSQLState());
            }
        }
    }
}
"""


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed")
        pytest.skip(f"{tool} is not installed")


def _jar() -> Path:
    """Debian's pgjdbc jar, installed with apt-get when missing and this runs as root."""
    if not JAR.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "libpostgresql-jdbc-java"], capture_output=True,
                       timeout=600)
        if not JAR.exists():
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-q", "libpostgresql-jdbc-java"], capture_output=True,
                           timeout=600)
    if not JAR.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{JAR} (libpostgresql-jdbc-java) is not installed")
        pytest.skip(f"{JAR} (libpostgresql-jdbc-java) is not installed")
    return JAR


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    _need("java")
    _need("javac")
    jar = _jar()
    out = tmp_path_factory.mktemp("jdbc")
    (out / "Probe.java").write_text(PROBE)
    built = subprocess.run(["javac", "-cp", str(jar), "Probe.java"], cwd=out, capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr
    return out, jar


@pytest.fixture
def objects(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    p = f"jd_{uid}"
    conn.execute(f"CREATE TABLE {p}_orders (id INT PRIMARY KEY, customer VARCHAR, amount DOUBLE PRECISION, "
                 f"created_at TIMESTAMP, price NUMERIC, paid BOOLEAN)")
    conn.execute(f"INSERT INTO {p}_orders VALUES (1, 'alice', 10.5, '2024-01-01 10:00:00', 1.10, true), "
                 f"(2, 'bob', 20, '2024-01-02 11:30:00', 2.20, false), (3, 'carol', 7.25, '2024-01-03 12:00:00', "
                 f"3.30, true)")
    conn.execute(f"CREATE MATERIALIZED VIEW {p}_mv AS SELECT customer, count(*) AS n FROM {p}_orders "
                 f"GROUP BY customer")
    conn.execute("FLUSH")
    try:
        yield p
    finally:
        conn.execute(f"DROP MATERIALIZED VIEW IF EXISTS {p}_mv")
        conn.execute(f"DROP TABLE IF EXISTS {p}_orders")


def test_jdbc_metadata_prepared_statements_and_cursors(eddy: EddyProcess, probe: tuple[Path, Path],
                                                       objects: str) -> None:
    directory, jar = probe
    p = objects
    run = subprocess.run(["java", "-cp", f"{jar}{os.pathsep}{directory}", "Probe",
                          f"jdbc:postgresql://127.0.0.1:{eddy.port}/dev", p], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "product PostgreSQL 13.14"
    assert [x for x in lines if x.startswith("table ")] == [f"table {p}_mv MATERIALIZED VIEW",
                                                            f"table {p}_orders TABLE"]
    assert [x for x in lines if x.startswith("column ")] == [
        f"column {p}_mv customer varchar 12 1 YES",
        f"column {p}_mv n int8 -5 2 YES",
        f"column {p}_orders id int4 4 1 NO",
        f"column {p}_orders customer varchar 12 2 YES",
        f"column {p}_orders amount float8 8 3 YES",
        f"column {p}_orders created_at timestamp 93 4 YES",
        f"column {p}_orders price numeric 2 5 YES",
        f"column {p}_orders paid bool -7 6 YES",
    ]
    assert [x for x in lines if x.startswith(("pk ", "index "))] == [f"pk id 1 {p}_orders_pkey",
                                                                    f"index {p}_orders_pkey id false"]
    rows = " 2/20.0/2.2/2024-01-02 11:30:00.0/bob 3/7.25/3.3/2024-01-03 12:00:00.0/carol"
    meta = f" meta {p}_orders 0 1"
    runs = [x for x in lines if x.startswith("run ")]
    # Once the statement reached prepareThreshold, pgjdbc asks for int4, float8, numeric and timestamp
    # in binary (varchar stays text), and the values read the same.
    assert runs == [f"run 1 formats 00000{rows}{meta}", f"run 2 formats 00000{rows}{meta}",
                    f"run 3 formats 11110{rows}{meta}", f"run 4 formats 11110{rows}{meta}"]
    assert "fetched 1 2 3" in lines
    assert lines[-1] == "sqlstate 42P01"
