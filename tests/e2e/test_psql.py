"""The playground through psql: the README scenario, run as a user would."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers.eddy_server import EddyProcess

pytestmark = pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")

SCENARIO = """
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR, amount DOUBLE PRECISION, ts TIMESTAMP);
CREATE TABLE customers (id VARCHAR PRIMARY KEY, region VARCHAR);
INSERT INTO customers VALUES ('a', 'eu'), ('b', 'us');
INSERT INTO orders VALUES (1, 'a', 10.5, '2026-01-01 10:00:00'), (2, 'b', 3, '2026-01-01 10:00:01');
CREATE MATERIALIZED VIEW revenue AS
  SELECT customer, count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi, avg(amount) AS mean
  FROM orders WHERE amount > 0 GROUP BY customer;
CREATE MATERIALIZED VIEW by_region AS
  SELECT c.region, count(*) AS n, sum(o.amount) AS total FROM orders o JOIN customers c ON o.customer = c.id
  GROUP BY c.region;
CREATE MATERIALIZED VIEW big_spenders AS SELECT customer, total FROM revenue WHERE total > 100;
UPDATE orders SET amount = 0 WHERE id = 1;
DELETE FROM orders WHERE id = 2;
INSERT INTO orders VALUES (3, 'a', 150, '2026-01-02 00:00:00'), (4, 'b', 7.25, '2026-01-02 00:00:01');
FLUSH;
SELECT * FROM revenue ORDER BY customer;
SELECT * FROM by_region ORDER BY region;
SELECT * FROM big_spenders;
"""


def psql(eddy: EddyProcess, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(eddy.port), "-U", "root", "-d", "dev", *args],
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_readme_scenario_through_psql(fresh_eddy: EddyProcess) -> None:
    eddy = fresh_eddy.start()
    out = psql(eddy, "-v", "ON_ERROR_STOP=1", "-A", "-F", "|", "-t", stdin=SCENARIO)
    assert out.returncode == 0, out.stderr
    lines = [x for x in out.stdout.splitlines() if "|" in x]
    assert lines == [
        "a|1|150|150|150|150",
        "b|1|7.25|7.25|7.25|7.25",
        "eu|2|150",
        "us|1|7.25",
        "a|150",
    ]


def test_psql_c_with_several_statements_and_errors(fresh_eddy: EddyProcess) -> None:
    eddy = fresh_eddy.start()
    out = psql(eddy, "-c", "CREATE TABLE t (a INT PRIMARY KEY); INSERT INTO t VALUES (1), (2); FLUSH; "
                          "SELECT count(*) FROM t")
    assert out.returncode == 0, out.stderr
    assert " 2\n" in out.stdout
    bad = psql(eddy, "-c", "SELECT * FROM missing")
    assert bad.returncode != 0
    assert 'relation "missing" does not exist' in bad.stderr
    assert "Traceback" not in bad.stderr
    # the server is still fine
    again = psql(eddy, "-A", "-t", "-c", "SELECT a FROM t ORDER BY a")
    assert again.stdout.split() == ["1", "2"]


def test_psql_describe_and_show(fresh_eddy: EddyProcess) -> None:
    eddy = fresh_eddy.start()
    psql(eddy, "-c", "CREATE TABLE t (a INT PRIMARY KEY, b VARCHAR)")
    out = psql(eddy, "-A", "-t", "-c", "SHOW TABLES", "-c", "DESCRIBE t", "-c", "SHOW server_version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "t"
    assert "b|character varying|false|" in out.stdout
    assert "13.14.0" in out.stdout
