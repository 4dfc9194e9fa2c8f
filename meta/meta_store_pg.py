"""A meta store on PostgreSQL, for clusters whose meta node must survive the loss of its machine.

Documents live in one table, `eddy_meta(ns, key, value json)`. The value
column is `json`, not `jsonb`: jsonb rewrites numbers and key order, so a
float such as 1e20 would come back as an integer and -0.0 as 0.0, and a
restarted meta node would read documents that differ from the ones it
wrote. Namespaces and keys are `text`, so they cannot contain U+0000.

One connection (autocommit, synchronous_commit on, so COMMIT returns only
once the commit is durable) serves reads and writes; a lock serialises
them and `write` runs in a worker thread so the event loop never waits on
the server.

Leadership. `acquire_leadership` takes a session-level advisory lock on
that same connection and bumps a leader term kept in the table (namespace
`eddy.leader`). While the session lives no other meta node can lead, and
every write runs on that session. A dropped connection takes the lock with
it, so on reconnecting the store takes the lock again and compares the
term: if another meta node led in the meantime (even one that has stopped
since), the term moved, and this store is fenced: every later call raises
LockNotAvailable and the node can only stop.

Retries. When the connection is found dead, the store reconnects (waiting
up to `reconnect_timeout_s` for a restarting server) and retries a failed
operation once. A write is retried only when its connection dropped
before COMMIT was sent: PostgreSQL rolls back the open transaction of a
lost session, so nothing of the first attempt was applied, and the term
check proves no other meta node wrote in between. A connection lost while
COMMIT is in flight leaves the outcome unknown: the transaction may have
committed just before the drop. Today's writes are whole documents, so
applying one twice would happen to be harmless, but a retry would break
the promise that a write either happened or raised, and would silently go
wrong the day a write is not idempotent. So that case raises
TransactionResolutionUnknown, and meta reloads its state from the store,
which is the truth in both outcomes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from common.errors import (
    ConnectionFailure,
    InternalError,
    LockNotAvailable,
    TransactionResolutionUnknown,
)
from meta.meta_store import Delete, Put, encode_puts

T = TypeVar("T")

# One key for every Eddy cluster: the database is what two meta nodes would share.
LEADER_LOCK_KEY = 0x656464795F6D6574  # b"eddy_met"
_SCHEMA_LOCK_KEY = LEADER_LOCK_KEY + 1
LEADER_NAMESPACE = "eddy.leader"  # a document ("term") that only this module writes
_APPLICATION_NAME = "eddy-meta"

_CREATE = (
    "CREATE TABLE IF NOT EXISTS eddy_meta (ns text NOT NULL, key text NOT NULL, value json NOT NULL,"
    " PRIMARY KEY (ns, key))"
)
_UPSERT = (
    "INSERT INTO eddy_meta (ns, key, value) VALUES (%s, %s, %s::json)"
    " ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value"
)
_DELETE = "DELETE FROM eddy_meta WHERE ns = %s AND key = %s"
_BUMP_TERM = (
    "INSERT INTO eddy_meta (ns, key, value) VALUES (%s, 'term', '1')"
    " ON CONFLICT (ns, key) DO UPDATE SET value = to_json(eddy_meta.value::text::bigint + 1) RETURNING value::text"
)
_HOLDER = (
    "SELECT a.pid, coalesce(host(a.client_addr), 'local'), a.application_name FROM pg_locks l"
    " JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND ((l.classid::bigint << 32) | l.objid::bigint) = %s"
)


class _CommitInDoubt(Exception):
    """The connection dropped while COMMIT was in flight."""


class PostgresMetaStore:
    """A MetaStore in PostgreSQL; `dsn` is a libpq URL or connection string."""

    def __init__(self, dsn: str, *, reconnect_timeout_s: float = 30.0, connect_timeout_s: int = 5) -> None:
        self._dsn = dsn
        self._reconnect_timeout_s = reconnect_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._leader = False
        self._term = 0
        self._fenced = False
        self._closed = False
        try:
            self._conn = self._connect()
        except psycopg.OperationalError as exc:
            raise ConnectionFailure(f"cannot connect to the meta store: {exc}") from exc
        try:
            with self._conn.transaction():
                # Two meta nodes starting on an empty database would race on CREATE TABLE IF NOT EXISTS.
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
                self._conn.execute(_CREATE)
        except psycopg.Error as exc:
            self._conn.close()
            raise InternalError(f"cannot create the meta store's table: {exc}") from exc

    # -- reads: safe to retry after any connection loss --------------------

    def get(self, namespace: str, key: str) -> Any | None:
        def read(conn: psycopg.Connection[Any]) -> Any | None:
            row = conn.execute("SELECT value FROM eddy_meta WHERE ns = %s AND key = %s", (namespace, key)).fetchone()
            return None if row is None else row[0]

        return self._run(read)

    def scan(self, namespace: str) -> list[tuple[str, Any]]:
        def read(conn: psycopg.Connection[Any]) -> list[tuple[str, Any]]:
            rows = conn.execute("SELECT key, value FROM eddy_meta WHERE ns = %s ORDER BY key COLLATE \"C\"",
                                (namespace,)).fetchall()
            return [(k, v) for k, v in rows]

        return self._run(read)

    # -- writes ------------------------------------------------------------

    def write_sync(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
        encoded = encode_puts(puts)
        if not encoded and not deletes:
            return

        def attempt(conn: psycopg.Connection[Any]) -> None:
            conn.execute("BEGIN")
            try:
                with conn.cursor() as cur:
                    if deletes:
                        cur.executemany(_DELETE, list(deletes))
                    if encoded:
                        cur.executemany(_UPSERT, encoded)
            except BaseException:
                # Whatever stopped us, the session must not stay inside this transaction.
                if not conn.closed:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                if conn.closed:
                    raise _CommitInDoubt(str(exc)) from exc
                raise  # PostgreSQL answered: the transaction rolled back

        try:
            self._run(attempt)
        except _CommitInDoubt as exc:
            raise TransactionResolutionUnknown(
                "connection to the meta store was lost while committing; the write may or may not have applied",
                detail=str(exc),
                hint="reload meta's state from the meta store",
            ) from exc

    async def write(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
        await asyncio.to_thread(self.write_sync, puts, deletes)

    # -- leadership --------------------------------------------------------

    def acquire_leadership(self) -> None:
        """A session-level advisory lock and a new leader term; both checked again after a reconnect."""
        def claim(conn: psycopg.Connection[Any]) -> None:
            if self._leader:
                return
            self._take_leader_lock(conn)
            row = conn.execute(_BUMP_TERM, (LEADER_NAMESPACE,)).fetchone()
            assert row is not None
            self._term = int(row[0])
            self._leader = True

        self._run(claim)

    def _check_term(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute("SELECT value::text FROM eddy_meta WHERE ns = %s AND key = 'term'",
                           (LEADER_NAMESPACE,)).fetchone()
        term = None if row is None else int(row[0])
        if term != self._term:
            raise LockNotAvailable("another meta node led the meta store while this one was disconnected",
                                   detail=f"leader term {self._term} is now {term}")

    def _take_leader_lock(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)).fetchone()
        if row is not None and row[0]:
            return
        holder = conn.execute(_HOLDER, (LEADER_LOCK_KEY,)).fetchone()
        who = f"backend pid {holder[0]} ({holder[2] or 'no application name'}, from {holder[1]})" if holder else "?"
        raise LockNotAvailable(
            f"another meta node holds the meta store at {conn.info.host}:{conn.info.port}/{conn.info.dbname}",
            detail=f"advisory lock {LEADER_LOCK_KEY} is held by {who}",
            hint="stop the other meta node, or give this one its own database",
        )

    # -- connection --------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._connect_timeout_s,
                               application_name=_APPLICATION_NAME)
        # The server or database default may be off; a lost meta commit would lose a checkpoint.
        conn.execute("SET synchronous_commit = on")
        return conn

    def _reconnect(self) -> psycopg.Connection[Any]:
        deadline = time.monotonic() + self._reconnect_timeout_s
        delay = 0.1
        while True:
            try:
                conn = self._connect()
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() + delay > deadline:
                    raise ConnectionFailure(f"cannot reconnect to the meta store: {exc}") from exc
                time.sleep(delay)  # a restarting server refuses connections for a few seconds
                delay = min(delay * 2, 2.0)
        if self._leader:
            try:
                self._take_leader_lock(conn)
                self._check_term(conn)
            except LockNotAvailable:
                conn.close()
                self._fenced = True
                raise
        return conn

    def _live_connection(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise InternalError("the meta store is closed")
        if self._fenced:
            raise LockNotAvailable("this meta node lost the meta store to another meta node")
        if self._conn.closed:
            self._conn = self._reconnect()
        return self._conn

    def _run(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`fn` on a live connection; once more on a new one if the connection died under it."""
        with self._lock:
            conn = self._live_connection()
            try:
                return fn(conn)
            except _CommitInDoubt:
                raise
            except psycopg.Error as exc:
                if not conn.closed:
                    raise InternalError(f"meta store operation failed: {exc}") from exc
            conn = self._live_connection()
            try:
                return fn(conn)
            except _CommitInDoubt:
                raise
            except psycopg.Error as exc:
                kind = InternalError if not conn.closed else ConnectionFailure
                raise kind(f"meta store operation failed after reconnecting: {exc}") from exc

    def close(self) -> None:
        """Close the connection, which also releases the leadership claim."""
        with self._lock:
            self._closed = True
            self._conn.close()
