"""The meta store: meta's durable state (catalog, cluster, version) as namespaced JSON documents.

Every change is a `write` of puts and deletes applied in one transaction,
so a checkpoint commit (new SSTs, new committed epoch, source positions) is
atomic. SQLite is the default; `postgresql://` URLs use PostgreSQL (issue:
cluster mode). Reads are for start-up; managers keep what they need in
memory and treat the store as the source of truth after a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any, Protocol

Put = tuple[str, str, Any]  # (namespace, key, JSON-able value)
Delete = tuple[str, str]  # (namespace, key)


class MetaStore(Protocol):
    def get(self, namespace: str, key: str) -> Any | None: ...

    def scan(self, namespace: str) -> list[tuple[str, Any]]: ...

    async def write(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
        """Apply all puts and deletes in one transaction."""
        ...

    def close(self) -> None: ...


class SqliteMetaStore:
    """A MetaStore in one SQLite file (WAL mode, synchronous=FULL: a commit survives kill -9)."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                " PRIMARY KEY (ns, key))"
            )

    def get(self, namespace: str, key: str) -> Any | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE ns = ? AND key = ?", (namespace, key)).fetchone()
        return None if row is None else json.loads(row[0])

    def scan(self, namespace: str) -> list[tuple[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT key, value FROM kv WHERE ns = ? ORDER BY key", (namespace,)).fetchall()
        return [(k, json.loads(v)) for k, v in rows]

    def write_sync(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
        encoded = [(ns, k, json.dumps(v, separators=(",", ":"))) for ns, k, v in puts]
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                if deletes:
                    cur.executemany("DELETE FROM kv WHERE ns = ? AND key = ?", list(deletes))
                if encoded:
                    cur.executemany(
                        "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?)"
                        " ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
                        encoded,
                    )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    async def write(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
        # The commit fsyncs; keep it off the event loop.
        await asyncio.to_thread(self.write_sync, puts, deletes)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_meta_store(url: str) -> MetaStore:
    """`sqlite:///path/meta.db`, a plain path, or `sqlite://:memory:`."""
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if path.startswith("/") and path.startswith("//"):
            path = path[1:]
        return SqliteMetaStore(path or ":memory:")
    if url.startswith(("postgresql://", "postgres://")):
        raise NotImplementedError("a PostgreSQL meta store arrives with cluster mode")
    return SqliteMetaStore(url)
