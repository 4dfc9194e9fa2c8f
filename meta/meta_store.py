"""The meta store: meta's durable state (catalog, cluster, version) as namespaced JSON documents.

Every change is a `write` of puts and deletes applied in one transaction,
so a checkpoint commit (new SSTs, new committed epoch, source positions) is
atomic. SQLite is the default; `postgresql://` URLs use PostgreSQL
(`meta_store_pg.py`). Reads are for start-up; managers keep what they need
in memory and treat the store as the source of truth after a restart.

Only one meta node may use a store at a time: two would allocate the same
ids and commit conflicting versions. `acquire_leadership()` claims the
store (a lock file next to a SQLite database, a session-level advisory
lock in PostgreSQL) and raises `LockNotAvailable` while another meta node
holds it; the claim ends with `close()` or the process.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from common.errors import InternalError, LockNotAvailable

Put = tuple[str, str, Any]  # (namespace, key, JSON-able value)
Delete = tuple[str, str]  # (namespace, key)


class MetaStore(Protocol):
    """Namespaced JSON documents; `write` is one transaction, reads are synchronous."""

    def get(self, namespace: str, key: str) -> Any | None: ...

    def scan(self, namespace: str) -> list[tuple[str, Any]]: ...

    async def write(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
        """Apply all deletes, then all puts (a later put of a key wins), in one transaction.

        Raises TypeError or ValueError (before anything is sent) for a value
        JSON cannot encode; InternalError or ConnectionFailure when the
        transaction failed and nothing was applied; LockNotAvailable once
        another meta node has taken the store over; and
        TransactionResolutionUnknown when the store cannot tell whether it
        committed, after which the caller must reload its state.
        """
        ...

    def acquire_leadership(self) -> None:
        """Claim the store for this meta node until `close()`; LockNotAvailable if another holds it.

        Call once at start-up, before loading state. Calling it again while
        holding the claim does nothing.
        """
        ...

    def close(self) -> None: ...


def encode_puts(puts: Sequence[Put]) -> list[tuple[str, str, str]]:
    """Puts with their values as compact JSON text; NaN and infinities are refused, as JSON has none."""
    return [(ns, k, json.dumps(v, separators=(",", ":"), allow_nan=False)) for ns, k, v in puts]


class SqliteMetaStore:
    """A MetaStore in one SQLite file (WAL mode, synchronous=FULL: a commit survives kill -9)."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._path = path
        self._lock_fd: int | None = None
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
        encoded = encode_puts(puts)
        with self._lock:
            cur = self._conn.cursor()
            try:
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
            except sqlite3.Error as exc:
                raise InternalError(f"meta store write failed: {exc}") from exc

    async def write(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
        # The commit fsyncs; keep it off the event loop.
        await asyncio.to_thread(self.write_sync, puts, deletes)

    def acquire_leadership(self) -> None:
        """An exclusive `flock` on `<db>.lock`; the kernel releases it when the process dies."""
        if self._path == ":memory:" or self._lock_fd is not None:
            return  # an in-memory database cannot be shared
        lock_path = os.path.abspath(self._path) + ".lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockNotAvailable(
                f"another meta node holds the meta store {self._path}",
                detail=f"lock file {lock_path} is locked by process {holder}",
                hint="stop the other meta node, or give this one its own --meta-store",
            ) from None
        # The pid is only for the message above; the flock, not the file's content, is the lock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        if self._lock_fd is not None:
            # Closing the descriptor drops the flock; the file stays, since unlinking it would let a
            # waiting process lock an inode that a newcomer no longer sees.
            os.close(self._lock_fd)
            self._lock_fd = None


def open_meta_store(url: str) -> MetaStore:
    """`sqlite:///path/meta.db`, a plain path, `sqlite://:memory:`, or `postgresql://user@host/db`."""
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if path.startswith("//"):
            path = path[1:]
        return SqliteMetaStore(path or ":memory:")
    if url.startswith(("postgresql://", "postgres://")):
        from meta.meta_store_pg import PostgresMetaStore  # psycopg loads only for PostgreSQL users

        return PostgresMetaStore(url)
    return SqliteMetaStore(url)
