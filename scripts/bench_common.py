"""What the benchmarks share: percentiles and the size of what is stored."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from storage.version import HummockVersion


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def object_store_size(data_dir: Path) -> tuple[int, int, int, int]:
    """(SSTs, bytes) in a local object store, and (SSTs, bytes) the committed version names.

    `data_dir` holds `objects/` and the SQLite meta store `meta.db`; SSTs the version no longer
    names are garbage awaiting vacuum's grace period.
    """
    ssts = list((data_dir / "objects").rglob("*.sst"))
    with sqlite3.connect(data_dir / "meta.db") as db:
        row = db.execute("SELECT value FROM kv WHERE ns = 'hummock' AND key = 'version'").fetchone()
    live_ids = HummockVersion.from_json(json.loads(row[0])).object_ids() if row else set()
    live = [p for p in ssts if int(p.stem, 16) in live_ids]
    return len(ssts), sum(p.stat().st_size for p in ssts), len(live), sum(p.stat().st_size for p in live)
