#!/usr/bin/env python3
"""Benchmark of the playground: ingest throughput, freshness, storage footprint and restart time.

Starts a real `eddy playground` process, feeds a table that feeds an
aggregation view and a join view, and prints:
- rows per second ingested (from the first INSERT to the FLUSH that commits the last one);
- p50/p99 delay from an INSERT's acknowledgement to its visibility in each view;
- the SST count and the bytes in the object store after the run;
- the time from restarting after `kill -9` to the first answered query, for two state sizes;
- the process's peak memory.

Usage: .venv/bin/python scripts/bench_playground.py [--rows 200000] [--small 20000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.bench_common import object_store_size, percentile
from tests.helpers.eddy_server import EddyProcess

SCHEMA = [
    "CREATE TABLE events (id BIGINT PRIMARY KEY, k INT, v DOUBLE PRECISION, tag VARCHAR)",
    "CREATE TABLE dims (k INT PRIMARY KEY, name VARCHAR)",
    "CREATE MATERIALIZED VIEW agg AS SELECT k, count(*) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi "
    "FROM events GROUP BY k",
    "CREATE MATERIALIZED VIEW joined AS SELECT d.name, count(*) AS n, sum(e.v) AS s "
    "FROM events e JOIN dims d ON e.k = d.k GROUP BY d.name",
]
GROUPS = 1000


def ingest(dsn: str, start: int, rows: int, batch: int, writers: int) -> float:
    """Insert ids [start, start + rows) from `writers` connections; returns rows per second."""
    per_writer = rows // writers
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as c:
                lo = start + w * per_writer
                for b in range(lo, lo + per_writer, batch):
                    n = min(batch, lo + per_writer - b)
                    values = ", ".join(f"({i}, {i % GROUPS}, {(i % 97) * 0.5}, 't{i % 7}')" for i in range(b, b + n))
                    c.execute(f"INSERT INTO events VALUES {values}")
        except BaseException as exc:
            errors.append(exc)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("FLUSH")
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return per_writer * writers / elapsed


def freshness(dsn: str, probes: int, base_id: int) -> tuple[list[float], list[float]]:
    """Delay from an INSERT's acknowledgement until the row shows in each view."""
    agg_delays, join_delays = [], []
    rnd = random.Random(7)
    with psycopg.connect(dsn, autocommit=True) as w, psycopg.connect(dsn, autocommit=True) as r:
        w.execute("INSERT INTO dims VALUES " + ", ".join(f"({GROUPS + 10 + i}, 'probe{i}')" for i in range(probes)))
        w.execute("FLUSH")
        for i in range(probes):
            k = GROUPS + 10 + i  # a group of its own: visible exactly when this row is
            time.sleep(rnd.random())  # land anywhere in the barrier cycle
            w.execute(f"INSERT INTO events VALUES ({base_id + i}, {k}, 1.0, 'p')")
            acked = time.perf_counter()
            seen_agg = seen_join = None
            while seen_agg is None or seen_join is None:
                now = time.perf_counter()
                if seen_agg is None and r.execute(f"SELECT n FROM agg WHERE k = {k}").fetchone():
                    seen_agg = now - acked
                if seen_join is None and r.execute(f"SELECT n FROM joined WHERE name = 'probe{i}'").fetchone():
                    seen_join = now - acked
                if now - acked > 60:
                    raise TimeoutError("a row did not show up in a minute")
            agg_delays.append(seen_agg)
            join_delays.append(seen_join)
    return agg_delays, join_delays


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def restart_seconds(eddy: EddyProcess) -> float:
    """kill -9, restart, and time until the views answer a query."""
    eddy.kill()
    t0 = time.perf_counter()
    eddy.start()
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("SELECT count(*) FROM agg").fetchone()
        c.execute("SELECT count(*) FROM joined").fetchone()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000, help="rows in the large state (default %(default)s)")
    ap.add_argument("--small", type=int, default=20_000, help="rows in the small state (default %(default)s)")
    ap.add_argument("--batch", type=int, default=1000, help="rows per INSERT statement")
    ap.add_argument("--writers", type=int, default=2, help="concurrent writing connections")
    ap.add_argument("--probes", type=int, default=50, help="freshness probes")
    ap.add_argument("--barrier-interval-ms", type=int, default=1000)
    ap.add_argument("--parallelism", type=int, default=2)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        eddy = EddyProcess(Path(tmp) / "data", barrier_interval_ms=args.barrier_interval_ms,
                           parallelism=args.parallelism).start()
        try:
            with psycopg.connect(eddy.dsn, autocommit=True) as c:
                for s in SCHEMA:
                    c.execute(s)
                c.execute("INSERT INTO dims VALUES " + ", ".join(f"({k}, 'n{k % 50}')" for k in range(GROUPS)))
            print(f"barrier interval {args.barrier_interval_ms} ms, parallelism {args.parallelism}, "
                  f"{args.writers} writers, {args.batch} rows per INSERT")
            rate_small = ingest(eddy.dsn, 0, args.small, args.batch, args.writers)
            print(f"ingest: {rate_small:,.0f} rows/s ({args.small:,} rows into a table feeding both views)")
            small_restart = restart_seconds(eddy)
            print(f"restart after kill -9 with {args.small:,} rows of state: {small_restart:.2f} s")
            rate_large = ingest(eddy.dsn, args.small, args.rows - args.small, args.batch, args.writers)
            print(f"ingest: {rate_large:,.0f} rows/s (up to {args.rows:,} rows)")
            agg_d, join_d = freshness(eddy.dsn, args.probes, 10_000_000)
            for name, d in (("aggregation view", agg_d), ("join view", join_d)):
                print(f"freshness, {name}: p50 {percentile(d, 50) * 1000:.0f} ms, "
                      f"p99 {percentile(d, 99) * 1000:.0f} ms (ack of INSERT to visible, {len(d)} probes)")
            peak = peak_rss_mb(eddy.proc.pid) if eddy.proc else float("nan")
            count, size, live, live_size = object_store_size(eddy.data_dir)
            print(f"object store after the run: {count} SSTs, {size / 1e6:.1f} MB; the committed version names "
                  f"{live} SSTs, {live_size / 1e6:.1f} MB (the rest awaits vacuum's grace period)")
            print(f"peak memory (RSS) of the playground process: {peak:.0f} MB")
            large_restart = restart_seconds(eddy)
            print(f"restart after kill -9 with {args.rows:,} rows of state: {large_restart:.2f} s "
                  f"({args.rows / args.small:.0f}x the state; {large_restart / small_restart:.2f}x the time)")
            with psycopg.connect(eddy.dsn, autocommit=True) as c:
                n = c.execute("SELECT sum(n) FROM agg").fetchone()
                print(f"check: agg holds {n[0] if n else 0:,} rows (expected {args.rows + args.probes:,})")
        finally:
            eddy.kill()
    print(f"statistics: freshness mean {statistics.mean(agg_d) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
