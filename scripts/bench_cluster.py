#!/usr/bin/env python3
"""Benchmark of cluster mode: failure detection and recovery under load, and scaling of ingest.

Starts real processes (meta, compute nodes, a compactor, a frontend), builds
a table feeding an aggregation view and a join view, then kills a compute
node with SIGKILL again and again while a writer inserts, and prints, for
two state sizes at least 50 times apart:
- detection time: from the kill until meta starts recovery;
- recovery time: from the kill until the first checkpoint committed after recovery;
as p50 and p99 over the kills. The killed node is restarted after each kill.
It also prints steady-state ingest throughput with 1 and with 3 compute nodes.

Usage: .venv/bin/python scripts/bench_cluster.py [--kills 10] [--small 10000] [--large 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.flight_rpc import RpcClient
from scripts.bench_common import object_store_size, percentile
from tests.helpers.cluster import Cluster

SCHEMA = [
    "CREATE TABLE events (id BIGINT PRIMARY KEY, k INT, v DOUBLE PRECISION)",
    "CREATE TABLE dims (k INT PRIMARY KEY, name VARCHAR)",
    "CREATE MATERIALIZED VIEW agg AS SELECT k, count(*) AS n, sum(v) AS s, max(v) AS hi FROM events GROUP BY k",
    "CREATE MATERIALIZED VIEW joined AS SELECT d.name, count(*) AS n, sum(e.v) AS s "
    "FROM events e JOIN dims d ON e.k = d.k GROUP BY d.name",
]
GROUPS = 5000


def load(dsn: str, start: int, rows: int, batch: int = 2000) -> float:
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as c:
        for b in range(start, start + rows, batch):
            n = min(batch, start + rows - b)
            c.execute("INSERT INTO events VALUES " + ", ".join(f"({i}, {i % GROUPS}, {i % 101})"
                                                               for i in range(b, b + n)))
        c.execute("FLUSH")
    return rows / (time.perf_counter() - t0)


class Trickle(threading.Thread):
    """A steady writer (the load the kills happen under); it carries on through errors."""

    def __init__(self, dsn: str, first: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.next = dsn, first
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as c:
                    while not self.stop.is_set():
                        ids = range(self.next, self.next + 50)
                        self.next += 50
                        c.execute("INSERT INTO events VALUES " + ", ".join(f"({i}, {i % GROUPS}, 1)" for i in ids))
                        self.stop.wait(0.05)
            except psycopg.Error:
                self.stop.wait(0.1)


def kill_and_measure(cluster: Cluster, meta: RpcClient, victim: int) -> tuple[float, float]:
    """Kill compute node `victim`; seconds until meta begins recovery, and until it commits after it."""
    _, _, recoveries0, _ = meta.call_sync("catalog")
    cluster.computes[victim].kill()
    t0 = time.perf_counter()
    detected = None
    while True:
        _, epoch, recoveries, _ = meta.call_sync("catalog")
        now = time.perf_counter() - t0
        if detected is None and recoveries > recoveries0:
            detected = now
            epoch_at_detection = epoch
        if detected is not None and epoch > epoch_at_detection:
            recovered = now
            break
        if now > 300:
            raise TimeoutError("no recovery within 5 minutes")
        time.sleep(0.02)
    cluster.computes[victim] = cluster._compute(len(cluster.computes) + victim)
    cluster.computes[victim].start()
    return detected, recovered


def recovery_round(root: Path, rows: int, kills: int, heartbeat: float) -> None:
    cluster = Cluster(root, compute_nodes=3, barrier_interval_ms=1000, heartbeat_timeout=heartbeat,
                      parallelism=2).start()
    try:
        with psycopg.connect(cluster.dsn(), autocommit=True) as c:
            for s in SCHEMA:
                c.execute(s)
            c.execute("INSERT INTO dims VALUES " + ", ".join(f"({k}, 'n{k % 100}')" for k in range(GROUPS)))
        rate = load(cluster.dsn(), 0, rows)
        _, _, live_ssts, live_bytes = object_store_size(root)
        meta = RpcClient(cluster.meta_addr)
        trickle = Trickle(cluster.dsn(), 10_000_000)
        trickle.start()
        detections, recoveries = [], []
        for i in range(kills):
            d, r = kill_and_measure(cluster, meta, i % 3)
            detections.append(d)
            recoveries.append(r)
        trickle.stop.set()
        print(f"state: {rows:,} rows, {live_bytes / 1e6:.1f} MB in {live_ssts} SSTs of the committed version "
              f"(loaded at {rate:,.0f} rows/s); {kills} kills, heartbeat timeout {heartbeat}s:")
        print(f"  detection  p50 {percentile(detections, 50):.2f} s  p99 {percentile(detections, 99):.2f} s")
        print(f"  recovery   p50 {percentile(recoveries, 50):.2f} s  p99 {percentile(recoveries, 99):.2f} s "
              "(kill to the first checkpoint committed after recovery)")
    finally:
        cluster.kill_all()


def throughput(root: Path, nodes: int, rows: int) -> float:
    cluster = Cluster(root, compute_nodes=nodes, barrier_interval_ms=1000, parallelism=2).start()
    try:
        with psycopg.connect(cluster.dsn(), autocommit=True) as c:
            for s in SCHEMA:
                c.execute(s)
            c.execute("INSERT INTO dims VALUES " + ", ".join(f"({k}, 'n{k % 100}')" for k in range(GROUPS)))
        rates: list[float] = []
        writers = [threading.Thread(target=lambda w=w: rates.append(load(cluster.dsn(), w * rows, rows)))
                   for w in range(3)]
        t0 = time.perf_counter()
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        return 3 * rows / (time.perf_counter() - t0)
    finally:
        cluster.kill_all()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--small", type=int, default=10_000, help="rows of the small state")
    ap.add_argument("--large", type=int, default=1_000_000, help="rows of the large state (its bytes >= 50x --small's)")
    ap.add_argument("--heartbeat-timeout", type=float, default=2.0)
    ap.add_argument("--throughput-rows", type=int, default=40_000, help="rows per writer (3 writers)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for nodes in (1, 3):
            rate = throughput(Path(tmp) / f"tp{nodes}", nodes, args.throughput_rows)
            print(f"ingest with {nodes} compute node(s): {rate:,.0f} rows/s (3 writers, a table feeding both views)")
        for rows in (args.small, args.large):
            recovery_round(Path(tmp) / f"rc{rows}", rows, args.kills, args.heartbeat_timeout)


if __name__ == "__main__":
    main()
