"""Databases for meta stores under test: a SQLite file, or a PostgreSQL database created and dropped per test.

PostgreSQL comes from the oracle server (tests/helpers/oracle.py): without
one the test skips with the reason, and under CI=true it fails. Failures
inside a transaction are real ones, raised by triggers on the store's table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from meta.meta_store import MetaStore, open_meta_store
from tests.helpers.oracle import ORACLE_DSN, oracle_database


@contextmanager
def postgres_meta_database() -> Iterator[tuple[str, psycopg.Connection]]:
    """The URL of a fresh database and an autocommit admin connection to it; dropped afterwards."""
    with oracle_database(prefix="eddy_meta") as admin:
        yield ORACLE_DSN.rsplit("/", 1)[0] + "/" + admin.info.dbname, admin


@contextmanager
def meta_store_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A meta store URL of `kind` ("sqlite" or "postgres") that `open_meta_store` accepts."""
    if kind == "sqlite":
        yield f"sqlite://{tmp_path / 'meta.db'}"
        return
    with postgres_meta_database() as (url, _):
        yield url


class Backend:
    """Opens stores on one database and injects failures into it; closes what it opened."""

    def __init__(self) -> None:
        self.opened: list[MetaStore] = []

    @property
    def url(self) -> str:
        raise NotImplementedError

    def open(self) -> MetaStore:
        store = open_meta_store(self.url)
        self.opened.append(store)
        return store

    def reject_key(self, key: str) -> None:
        """From now on, inserting `key` fails inside the transaction, after earlier statements ran."""
        raise NotImplementedError

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


class SqliteBackend(Backend):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    @property
    def url(self) -> str:
        return f"sqlite://{self.path}"

    def reject_key(self, key: str) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute(f"CREATE TRIGGER reject BEFORE INSERT ON kv WHEN NEW.key = '{key}'"
                       " BEGIN SELECT RAISE(ABORT, 'rejected by test'); END")


class PostgresBackend(Backend):
    def __init__(self, url: str, admin: psycopg.Connection) -> None:
        super().__init__()
        self._url = url
        self.admin = admin

    @property
    def url(self) -> str:
        return self._url

    def reject_key(self, key: str) -> None:
        self.admin.execute("CREATE FUNCTION reject() RETURNS trigger LANGUAGE plpgsql AS"
                           " $$ BEGIN RAISE EXCEPTION 'rejected by test'; END $$")
        self.admin.execute(f"CREATE TRIGGER reject BEFORE INSERT ON eddy_meta FOR EACH ROW"
                           f" WHEN (NEW.key = '{key}') EXECUTE FUNCTION reject()")

    def store_pids(self) -> list[int]:
        rows = self.admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                  " AND application_name = 'eddy-meta' ORDER BY pid").fetchall()
        return [r[0] for r in rows]

    def terminate_stores(self) -> None:
        pids = self.store_pids()
        assert pids, "no meta store session to terminate"
        for pid in pids:
            self.admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))  # waits until it has exited

    def kill_backend_on(self, key: str, *, times: int, at_commit: bool = False) -> None:
        """The session writing `key` dies the first `times` attempts: while inserting, or at COMMIT."""
        self.admin.execute("CREATE SEQUENCE attempts")
        self.admin.execute(
            "CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF nextval('attempts') <= {times} THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;"
            " RETURN NEW; END $$")
        if at_commit:
            self.admin.execute(f"CREATE CONSTRAINT TRIGGER die AFTER INSERT ON eddy_meta DEFERRABLE INITIALLY"
                               f" DEFERRED FOR EACH ROW WHEN (NEW.key = '{key}') EXECUTE FUNCTION die()")
        else:
            self.admin.execute(f"CREATE TRIGGER die BEFORE INSERT ON eddy_meta FOR EACH ROW"
                               f" WHEN (NEW.key = '{key}') EXECUTE FUNCTION die()")

    def attempts(self) -> int:
        row = self.admin.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM attempts").fetchone()
        assert row is not None
        return int(row[0])

