"""The PostgreSQL meta store: its table, durable commits, reconnects, retries and leadership fencing.

Each test runs on a database created on the oracle server and dropped
after it; sessions die for real (pg_terminate_backend, from outside or
from a trigger inside the store's own transaction).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.errors import ConnectionFailure, InternalError, LockNotAvailable, TransactionResolutionUnknown
from tests.helpers.meta_store_db import PostgresBackend, postgres_meta_database


@pytest.fixture
def pg() -> Iterator[PostgresBackend]:
    with postgres_meta_database() as (url, admin):
        b = PostgresBackend(url, admin)
        b.open()  # creates the table, so triggers can be installed on it
        yield b
        b.close_all()


async def test_documents_are_json_rows_of_eddy_meta(pg: PostgresBackend) -> None:
    store = pg.opened[0]
    await store.write([("cat", "1", {"name": "orders", "cols": [1, 2]})])
    row = pg.admin.execute("SELECT value->>'name', json_array_length(value->'cols'), pg_typeof(value)::text"
                           " FROM eddy_meta WHERE ns = 'cat' AND key = '1'").fetchone()
    assert row == ("orders", 2, "json")


async def test_commits_are_synchronous_even_where_the_database_says_otherwise(pg: PostgresBackend) -> None:
    pg.admin.execute(f"ALTER DATABASE {pg.admin.info.dbname} SET synchronous_commit = off")
    pg.admin.execute("CREATE TABLE seen (setting text)")
    pg.admin.execute("CREATE FUNCTION record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                     " INSERT INTO seen VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$")
    pg.admin.execute("CREATE TRIGGER record BEFORE INSERT ON eddy_meta FOR EACH ROW EXECUTE FUNCTION record()")
    store = pg.open()
    await store.write([("ns", "k", 1)])
    assert pg.admin.execute("SELECT setting FROM seen").fetchall() == [("on",)]


async def test_reconnects_after_its_session_is_terminated(pg: PostgresBackend) -> None:
    store = pg.opened[0]
    await store.write([("ns", "a", 1)])
    before = pg.store_pids()
    pg.terminate_stores()
    await store.write([("ns", "b", 2)])
    assert pg.store_pids() != before
    pg.terminate_stores()
    assert store.scan("ns") == [("a", 1), ("b", 2)]  # reads reconnect too
    pg.terminate_stores()
    assert store.get("ns", "b") == 2


@pytest.mark.parametrize("kills,applied", [(1, True), (2, False)], ids=["first-attempt-dies", "both-die"])
async def test_a_write_whose_session_dies_before_commit_is_retried_once(
        pg: PostgresBackend, kills: int, applied: bool) -> None:
    store = pg.opened[0]
    pg.kill_backend_on("die", times=kills)
    if applied:
        await store.write([("ns", "a", 1), ("ns", "die", 2)])
    else:
        with pytest.raises(ConnectionFailure, match="after reconnecting"):
            await store.write([("ns", "a", 1), ("ns", "die", 2)])
    assert pg.attempts() == 2  # never a third try
    assert store.scan("ns") == ([("a", 1), ("die", 2)] if applied else [])


async def test_a_session_lost_during_commit_is_reported_in_doubt_not_retried(pg: PostgresBackend) -> None:
    store = pg.opened[0]
    pg.kill_backend_on("die", times=1, at_commit=True)
    with pytest.raises(TransactionResolutionUnknown, match="may or may not have applied") as info:
        await store.write([("ns", "a", 1), ("ns", "die", 2)])
    assert info.value.sqlstate == "08007"
    assert pg.attempts() == 1
    assert store.scan("ns") == []  # here the backend died before committing; the store could not know
    await store.write([("ns", "after", 3)])
    assert store.get("ns", "after") == 3


async def test_leadership_is_taken_again_after_a_reconnect(pg: PostgresBackend) -> None:
    leader = pg.opened[0]
    leader.acquire_leadership()
    pg.terminate_stores()
    await leader.write([("ns", "a", 1)])
    with pytest.raises(LockNotAvailable):
        pg.open().acquire_leadership()
    assert leader.get("ns", "a") == 1


async def test_a_leader_that_lost_the_lock_while_disconnected_is_fenced(pg: PostgresBackend) -> None:
    old = pg.opened[0]
    old.acquire_leadership()
    pg.terminate_stores()
    new = pg.open()
    new.acquire_leadership()
    await new.write([("ns", "epoch", 2)])
    for _ in range(2):
        with pytest.raises(LockNotAvailable):
            await old.write([("ns", "epoch", 1)])
    assert new.get("ns", "epoch") == 2


async def test_a_leader_is_fenced_even_when_the_interim_leader_has_gone(pg: PostgresBackend) -> None:
    old = pg.opened[0]
    old.acquire_leadership()
    pg.terminate_stores()
    interim = pg.open()
    interim.acquire_leadership()
    await interim.write([("ns", "epoch", 2)])
    interim.close()  # the advisory lock is free again, but the leader term has moved on
    with pytest.raises(LockNotAvailable, match="led the meta store while this one was disconnected"):
        await old.write([("ns", "epoch", 1)])
    with pytest.raises(LockNotAvailable):
        old.get("ns", "epoch")
    assert pg.admin.execute("SELECT value FROM eddy_meta WHERE ns = 'ns' AND key = 'epoch'").fetchone() == (2,)
    assert pg.open().scan("eddy.leader") == [("term", 2)]


async def test_a_closed_store_refuses_work(pg: PostgresBackend) -> None:
    store = pg.opened[0]
    store.close()
    with pytest.raises(InternalError, match="closed"):
        await store.write([("ns", "a", 1)])
    assert pg.store_pids() == []
