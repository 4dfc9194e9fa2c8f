"""The playground with its state in S3: moto's S3 server over HTTP stands in for the real thing."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.helpers.eddy_server import EddyProcess
from tests.helpers.s3 import CREDENTIALS, client, keys


def test_state_lives_in_s3_and_survives_kill_9(tmp_path: Path, s3_endpoint: str) -> None:
    s3 = client(s3_endpoint)
    s3.create_bucket(Bucket="eddy-state")
    eddy = EddyProcess(tmp_path / "data", extra_args=("--object-store", "s3://eddy-state/cluster1",
                                                      "--s3-endpoint", s3_endpoint), env=CREDENTIALS)
    try:
        eddy.start()
        with psycopg.connect(eddy.dsn, autocommit=True) as c:
            c.execute("SET implicit_flush = true")
            c.execute("CREATE TABLE s3_t (id INT PRIMARY KEY, g VARCHAR, v DOUBLE PRECISION)")
            c.execute("INSERT INTO s3_t VALUES " + ", ".join(f"({i}, 'g{i % 5}', {i})" for i in range(500)))
            c.execute("CREATE MATERIALIZED VIEW s3_v AS SELECT g, count(*) AS n, sum(v) AS s FROM s3_t GROUP BY g")
            before = sorted(c.execute("SELECT * FROM s3_v").fetchall())
        stored = keys(s3, "eddy-state", "cluster1/")
        assert any(k.endswith(".sst") for k in stored), stored
        assert not any(p.suffix == ".sst" for p in (tmp_path / "data").rglob("*")), "SSTs must not be on local disk"
        eddy.kill()
        eddy.start()
        with psycopg.connect(eddy.dsn, autocommit=True) as c:
            assert sorted(c.execute("SELECT * FROM s3_v").fetchall()) == before
            assert c.execute("SELECT count(*) FROM s3_t").fetchone() == (500,)
            c.execute("SET implicit_flush = true")
            c.execute("DELETE FROM s3_t WHERE id < 100")
            assert sorted(c.execute("SELECT g, n FROM s3_v").fetchall()) == [(f"g{i}", 80) for i in range(5)]
    finally:
        eddy.kill()
