"""Cluster mode under kill -9: compute nodes, meta, the compactor and a frontend die mid-load.

Writers insert under implicit_flush the whole time, retrying with new ids
after an error. Afterwards: every acknowledged row is there once; rows whose
outcome was unknown (08007) are there at most once; nothing else appears;
and every view equals PostgreSQL's result for its query over the final
tables. A compute node that comes back rejoins and gets work at the next
ALTER ... SET PARALLELISM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from common.flight_rpc import RpcClient
from tests.helpers.cluster import Cluster, free_port
from tests.helpers.eddy_server import ROOT, SlowCreate, wait_until
from tests.helpers.meta_store_db import postgres_meta_database
from tests.helpers.oracle import oracle_database
from tests.helpers.s3 import CREDENTIALS as S3_CREDENTIALS
from tests.helpers.s3 import client as s3_client
from tests.helpers.s3 import keys as s3_keys

SCHEMA = [
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR, amount DOUBLE PRECISION)",
    "CREATE TABLE events (seq BIGINT, note VARCHAR)",  # no primary key: a duplicate would show
    "CREATE TABLE customers (id VARCHAR PRIMARY KEY, region VARCHAR)",
]
VIEWS = {
    "revenue": "SELECT customer, count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi "
               "FROM orders GROUP BY customer",
    "by_region": "SELECT c.region, count(*) AS n, sum(o.amount) AS total FROM orders o "
                 "JOIN customers c ON o.customer = c.id GROUP BY c.region",
    "event_count": "SELECT count(*) AS n, max(seq) AS top FROM events",
}


class Writer(threading.Thread):
    """Inserts under implicit_flush, a few rows at a time, until stopped; keeps going through errors."""

    def __init__(self, dsn: str, first_id: int) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.next_id = first_id
        self.acked: list[int] = []
        self.unknown: list[int] = []
        self.errors: Counter[str] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = None
        while not self.stopping.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)
                    conn.execute("SET implicit_flush = true")
                ids = list(range(self.next_id, self.next_id + 3))
                self.next_id += 3
                try:
                    conn.execute("INSERT INTO orders VALUES " + ", ".join(
                        f"({i}, '{'abc'[i % 3]}', {i % 17 * 0.5})" for i in ids))
                    conn.execute("INSERT INTO events VALUES " + ", ".join(f"({i}, 'e')" for i in ids))
                except psycopg.Error as exc:
                    self.errors[exc.sqlstate or "connection"] += 1
                    # The rows may or may not be in: never reuse these ids.
                    self.unknown.extend(ids)
                    if conn.closed or exc.sqlstate is None:
                        conn = None
                    continue
                self.acked.extend(ids)
            except psycopg.OperationalError as exc:
                self.errors[f"connect: {str(exc)[:60]}"] += 1
                conn = None
                self.stopping.wait(0.2)
        if conn is not None:
            conn.close()


def _norm(rows: list[tuple]) -> Counter:  # type: ignore[type-arg]
    return Counter(tuple(float(v) if isinstance(v, (Decimal, float)) else v for v in r) for r in rows)


def setup(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for ddl in SCHEMA:
            conn.execute(ddl)
        conn.execute("INSERT INTO customers VALUES ('a', 'eu'), ('b', 'us'), ('c', 'eu')")
        for name, q in VIEWS.items():
            conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {q}")


def verify(dsn: str, writers: list[Writer]) -> None:
    acked = [i for w in writers for i in w.acked]
    unknown = {i for w in writers for i in w.unknown}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("FLUSH")
        seqs = Counter(r[0] for r in conn.execute("SELECT seq FROM events").fetchall())
        missing = [i for i in acked if seqs[i] != 1]
        assert not missing, f"acknowledged rows missing or duplicated: {missing[:20]}"
        assert all(seqs[i] <= 1 for i in unknown), "a row of unknown outcome appears twice"
        assert set(seqs) <= set(acked) | unknown, "rows nobody wrote"
        ids = {r[0] for r in conn.execute("SELECT id FROM orders").fetchall()}
        assert set(acked) <= ids
        tables = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in ("orders", "customers", "events")}
        views = {name: _norm(conn.execute(f"SELECT * FROM {name}").fetchall()) for name in VIEWS}
    with oracle_database("eddy_cluster") as pg:
        for ddl in SCHEMA:
            pg.execute(ddl)
        for t, rows in tables.items():
            if rows:
                with pg.cursor() as cur:
                    cur.executemany(f"INSERT INTO {t} VALUES ({', '.join(['%s'] * len(rows[0]))})", rows)
        for name, q in VIEWS.items():
            assert views[name] == _norm(pg.execute(q).fetchall()), f"{name} differs from PostgreSQL"


def run_with_fault(cluster: Cluster, fault, writer_frontend: int = 0) -> list[Writer]:  # type: ignore[no-untyped-def]
    setup(cluster.dsn(0))
    writer = Writer(cluster.dsn(writer_frontend), 1)
    writer.start()
    try:
        wait_until(lambda: len(writer.acked) >= 60, timeout=120, message="writes before the fault")
        fault()
        before = len(writer.acked)
        wait_until(lambda: len(writer.acked) >= before + 60, timeout=180,
                   message=f"writes to resume after the fault (errors so far: {dict(writer.errors)})")
    finally:
        writer.stopping.set()
        writer.join(timeout=60)
    return [writer]


@contextmanager
def running(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster started; on a failure its logs are printed; at the end every process is killed."""
    try:
        yield cluster.start()
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.kill_all()


@pytest.fixture
def cluster_dir(tmp_path: Path) -> Path:
    return tmp_path / "cluster"


def test_kill_9_of_a_compute_node_is_recovered_exactly_once(cluster_dir: Path) -> None:
    with running(Cluster(cluster_dir, compute_nodes=3)) as cluster:
        writers = run_with_fault(cluster, cluster.computes[1].kill)
        verify(cluster.dsn(), writers)


def test_a_cluster_on_s3_recovers_a_killed_compute_node_exactly_once(cluster_dir: Path, s3_endpoint: str) -> None:
    """The same kill -9, with every role keeping its objects in S3 (moto's server): no SST touches local disk."""
    s3 = s3_client(s3_endpoint)
    s3.create_bucket(Bucket="eddy-cluster")
    on_s3 = ["--object-store", "s3://eddy-cluster/c1", "--s3-endpoint", s3_endpoint]
    with running(Cluster(cluster_dir, compute_nodes=3, env=S3_CREDENTIALS, object_store=on_s3)) as cluster:
        writers = run_with_fault(cluster, cluster.computes[0].kill)
        verify(cluster.dsn(), writers)
        keys = s3_keys(s3, "eddy-cluster", "c1/")
        assert any(k.endswith(".sst") for k in keys), keys
        assert not any(p.suffix == ".sst" for p in cluster_dir.rglob("*")), "SSTs must not be on local disk"


def test_kill_9_of_meta_is_recovered_exactly_once(cluster_dir: Path) -> None:
    with running(Cluster(cluster_dir, compute_nodes=2)) as cluster:
        def restart_meta() -> None:
            cluster.meta.kill()
            cluster.meta.start()

        writers = run_with_fault(cluster, restart_meta)
        verify(cluster.dsn(), writers)


def test_kill_9_of_the_compactor_leaves_the_version_whole(cluster_dir: Path) -> None:
    with running(Cluster(cluster_dir, compute_nodes=2, barrier_interval_ms=100)) as cluster:
        def restart_compactor() -> None:
            cluster.compactor.kill()
            cluster.compactor.start()

        writers = run_with_fault(cluster, restart_compactor)
        verify(cluster.dsn(), writers)


def test_kill_9_of_a_frontend_while_another_serves(cluster_dir: Path) -> None:
    with running(Cluster(cluster_dir, compute_nodes=2, frontends=2)) as cluster:
        writers = run_with_fault(cluster, cluster.frontends[0].kill, writer_frontend=1)
        verify(cluster.dsn(1), writers)


def test_meta_store_on_postgresql_passes_the_same_recovery(cluster_dir: Path) -> None:
    with postgres_meta_database() as (url, _), running(Cluster(cluster_dir, compute_nodes=2, meta_store=url)) as cluster:
        def restart_meta_and_kill_a_node() -> None:
            cluster.computes[0].kill()
            cluster.meta.kill()
            cluster.meta.start()

        writers = run_with_fault(cluster, restart_meta_and_kill_a_node)
        verify(cluster.dsn(), writers)


def _actors_on(address: str) -> int:
    return int(RpcClient(address).call_sync("status")["actors"])


def test_a_restarted_node_rejoins_and_gets_work_after_a_rescale(cluster_dir: Path) -> None:
    with running(Cluster(cluster_dir, compute_nodes=2)) as cluster:
        setup(cluster.dsn())
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("SET implicit_flush = true")
            conn.execute("INSERT INTO orders VALUES " + ", ".join(f"({i}, '{'abc'[i % 3]}', {i})" for i in range(300)))
            cluster.computes[0].kill()
            # recovery moves the lost node's actors to the survivor; the views stay exact
            wait_until(lambda: conn.execute("INSERT INTO orders VALUES (1000, 'a', 1)") or True, timeout=120,
                       message="writes after the kill")
            back = cluster.add_compute()
            assert _actors_on(back.address) == 0  # a new node gets no work until something is rescheduled
            conn.execute("ALTER TABLE orders SET PARALLELISM = 4")
            conn.execute("ALTER MATERIALIZED VIEW revenue SET PARALLELISM = 4")
            assert _actors_on(back.address) > 0
            # Eddy's own catalog, served by meta through the frontend, shows the new node and its actors
            workers = dict(conn.execute("SELECT host || ':' || port, id FROM rw_catalog.rw_worker_nodes").fetchall())
            assert back.address in workers and len(workers) == 2
            on_back = conn.execute("SELECT count(*) FROM rw_catalog.rw_actors a JOIN rw_catalog.rw_relations r "
                                   "ON a.table_id = r.id WHERE r.name = 'revenue' AND a.worker_id = %s",
                                   (workers[back.address],)).fetchone()
            assert on_back is not None and on_back[0] > 0
            conn.execute("INSERT INTO orders VALUES (1001, 'b', 2), (1002, 'c', 3)")
            conn.execute("DELETE FROM orders WHERE id < 50")
        verify(cluster.dsn(), [])


def test_a_node_lost_while_a_view_backfills_cancels_its_creation_cleanly(cluster_dir: Path) -> None:
    """Recovery drops a job whose creation has not committed: the CREATE fails, nothing of it remains, and
    creating it again gives the right contents. Other DDL runs during a backfill; a cancelled CREATE's job
    is cancelled in meta."""
    with running(Cluster(cluster_dir, compute_nodes=2)) as cluster:
        setup(cluster.dsn())
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("SET implicit_flush = true")
            conn.execute("INSERT INTO orders VALUES " + ", ".join(f"({i}, '{'abc'[i % 3]}', {i})" for i in range(3000)))
            creator = SlowCreate(cluster.dsn(), f"CREATE MATERIALIZED VIEW late AS {VIEWS['revenue']}", 50)
            wait_until(lambda: conn.execute("SHOW JOBS").fetchall(), timeout=60, message="the creation to start")
            conn.execute("CREATE TABLE side (k INT PRIMARY KEY)")  # other DDL does not wait for the backfill
            conn.execute("DROP TABLE side")
            assert creator.is_alive()
            cluster.computes[1].kill()
            creator.join(timeout=180)
            assert not creator.is_alive()
            failures = creator.errors
            assert failures and isinstance(failures[0], psycopg.Error), failures
            assert failures[0].sqlstate == "57P03", failures[0]  # type: ignore[attr-defined]
            wait_until(lambda: conn.execute("SHOW JOBS").fetchall() == [], timeout=60, message="no job left")
            assert conn.execute("SELECT count(*) FROM pg_class WHERE relname = 'late'").fetchone() == (0,)
            conn.execute(f"CREATE MATERIALIZED VIEW late AS {VIEWS['revenue']}")
            conn.execute("INSERT INTO orders VALUES (5000, 'a', 1)")
            assert _norm(conn.execute("SELECT * FROM late").fetchall()) == \
                _norm(conn.execute("SELECT * FROM revenue").fetchall())

            # Cancelling a CREATE through a remote frontend cancels the job in meta too.
            creator = SlowCreate(cluster.dsn(), f"CREATE MATERIALIZED VIEW later AS {VIEWS['revenue']}", 50)
            wait_until(lambda: conn.execute("SHOW JOBS").fetchall(), timeout=60, message="the creation to start")
            assert creator.session is not None
            creator.session.cancel()
            creator.join(timeout=60)
            assert creator.errors and isinstance(creator.errors[0], psycopg.errors.QueryCanceled), creator.errors
            wait_until(lambda: conn.execute("SHOW JOBS").fetchall() == [], timeout=30, message="the job cancelled")
            conn.execute(f"CREATE MATERIALIZED VIEW later AS {VIEWS['revenue']}")
            assert _norm(conn.execute("SELECT * FROM later").fetchall()) == \
                _norm(conn.execute("SELECT * FROM revenue").fetchall())
        verify(cluster.dsn(), [])


def test_a_frozen_node_loses_its_lease_and_commits_nothing_stale(cluster_dir: Path) -> None:
    """SIGSTOP past the heartbeat timeout: meta moves the work; after SIGCONT the zombie must not commit."""
    with running(Cluster(cluster_dir, compute_nodes=3, heartbeat_timeout=2.0)) as cluster:
        def freeze_then_thaw() -> None:
            victim = cluster.computes[2]
            assert victim.proc is not None
            victim.proc.send_signal(signal.SIGSTOP)
            try:
                meta = RpcClient(cluster.meta_addr)
                wait_until(lambda: victim.address not in [a for _, a in meta.call_sync("workers")], timeout=60,
                           message="meta to drop the frozen node")
            finally:
                victim.proc.send_signal(signal.SIGCONT)

        writers = run_with_fault(cluster, freeze_then_thaw)
        verify(cluster.dsn(), writers)


def test_standalone_runs_every_role_as_a_child_process(tmp_path: Path) -> None:
    port, meta_port = free_port(), free_port()
    with open(tmp_path / "standalone.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "eddy", "standalone", "--compute-nodes", "2", "--data-dir",
                                 str(tmp_path / "data"), "--port", str(port), "--meta-port", str(meta_port),
                                 "--barrier-interval-ms", "200", "--auth", "trust"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        dsn = f"postgresql://root@127.0.0.1:{port}/dev"
        conn = wait_until(lambda: psycopg.connect(dsn, autocommit=True, connect_timeout=2), timeout=90,
                          message="the standalone frontend")
        with conn:
            conn.execute("SET implicit_flush = true")
            conn.execute("CREATE TABLE t (id INT PRIMARY KEY, g INT)")
            conn.execute("CREATE MATERIALIZED VIEW v AS SELECT g, count(*) AS n FROM t GROUP BY g")
            conn.execute("INSERT INTO t VALUES (1, 1), (2, 1), (3, 2)")
            assert sorted(conn.execute("SELECT * FROM v").fetchall()) == [(1, 2), (2, 1)]
        assert len(RpcClient(f"127.0.0.1:{meta_port}").call_sync("workers")) == 2
    except BaseException:
        print((tmp_path / "standalone.log").read_text())
        raise
    finally:
        proc.terminate()
        proc.wait(timeout=60)
