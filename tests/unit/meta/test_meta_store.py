"""The meta store's behaviour, the same on SQLite and on PostgreSQL (tests/helpers/meta_store_db.py)."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.errors import ConnectionFailure, InternalError, LockNotAvailable
from meta.meta_store import SqliteMetaStore, open_meta_store
from meta.meta_store_pg import PostgresMetaStore
from tests.helpers.eddy_server import wait_until
from tests.helpers.meta_store_db import Backend, PostgresBackend, SqliteBackend, postgres_meta_database

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        b: Backend = SqliteBackend(tmp_path / "meta.db")
        yield b
        b.close_all()
        return
    with postgres_meta_database() as (url, admin):
        b = PostgresBackend(url, admin)
        yield b
        b.close_all()


# -- the behaviour every meta store has ---------------------------------------


async def test_puts_gets_scans_and_deletes(backend: Backend) -> None:
    store = backend.open()
    await store.write([("cat", "2", {"name": "t2"}), ("cat", "10", {"name": "t10"}), ("sys", "id_limit", 1000)])
    assert store.get("cat", "2") == {"name": "t2"}
    assert store.get("sys", "id_limit") == 1000
    assert store.get("cat", "missing") is None and store.get("other", "2") is None
    assert store.scan("cat") == [("10", {"name": "t10"}), ("2", {"name": "t2"})]  # ordered by key's bytes
    assert store.scan("empty") == []
    await store.write([("sys", "id_limit", 2000)], [("cat", "10")])
    assert store.get("sys", "id_limit") == 2000
    assert store.scan("cat") == [("2", {"name": "t2"})]
    await store.write(deletes=[("cat", "2"), ("cat", "never-there")])
    assert store.scan("cat") == []


async def test_documents_round_trip_exactly(backend: Backend) -> None:
    store = backend.open()
    doc: dict[str, Any] = {"z": 1, "a": [1e20, -0.0, 0.1, 2**64 + 1, True, None], "m": {"b": "x'\"\\y", "a": "é😀"}}
    await store.write([("ns", "doc", doc), ("ns", "float", 1e300), ("ns", "text", "plain")])
    got = store.get("ns", "doc")
    assert got == doc
    assert list(got) == ["z", "a", "m"] and list(got["m"]) == ["b", "a"]  # key order survives
    assert type(got["a"][0]) is float and math.copysign(1.0, got["a"][1]) == -1.0
    assert type(store.get("ns", "float")) is float and store.get("ns", "text") == "plain"


async def test_deletes_apply_before_puts_and_the_last_put_wins(backend: Backend) -> None:
    store = backend.open()
    await store.write([("ns", "k", 0)])
    await store.write([("ns", "k", 1), ("ns", "k", 2)], [("ns", "k")])
    assert store.get("ns", "k") == 2


@pytest.mark.parametrize("bad,error", [(object(), TypeError), (float("nan"), ValueError)], ids=["object", "nan"])
async def test_an_unencodable_value_writes_nothing(backend: Backend, bad: Any, error: type[Exception]) -> None:
    store = backend.open()
    await store.write([("ns", "x", 1), ("ns", "z", 1)])
    with pytest.raises(error):
        await store.write([("ns", "x", 2), ("ns", "y", bad)], [("ns", "z")])
    assert store.scan("ns") == [("x", 1), ("z", 1)]


async def test_a_failure_inside_the_transaction_writes_nothing(backend: Backend) -> None:
    store = backend.open()
    await store.write([("ns", "old", 1), ("ns", "a", 0)])
    backend.reject_key("boom")
    with pytest.raises(InternalError, match=r"meta store .*failed.*rejected by test"):
        await store.write([("ns", "a", 1), ("ns", "boom", 2), ("ns", "c", 3)], [("ns", "old")])
    assert store.scan("ns") == [("a", 0), ("old", 1)]
    await store.write([("ns", "a", 5)], [("ns", "old")])  # the session is usable again
    assert store.scan("ns") == [("a", 5)]


async def test_writes_persist_across_reopening(backend: Backend) -> None:
    store = backend.open()
    await store.write([("ns", "a", {"v": 1}), ("ns", "b", [2]), ("ns", "gone", 3)])
    await store.write(deletes=[("ns", "gone")])
    store.close()
    again = backend.open()
    assert again.scan("ns") == [("a", {"v": 1}), ("b", [2])]


async def test_concurrent_writes_all_apply(backend: Backend) -> None:
    store = backend.open()
    await asyncio.gather(*(store.write([("ns", f"k{i:02d}", i)]) for i in range(20)))
    assert store.scan("ns") == [(f"k{i:02d}", i) for i in range(20)]


def test_leadership_is_exclusive_until_closed(backend: Backend) -> None:
    first = backend.open()
    first.acquire_leadership()
    first.acquire_leadership()  # holding it already: nothing happens
    second = backend.open()
    with pytest.raises(LockNotAvailable, match="another meta node holds the meta store") as info:
        second.acquire_leadership()
    assert info.value.sqlstate == "55P03"
    assert info.value.detail and ("by process" in info.value.detail or "by backend pid" in info.value.detail)
    assert second.get("ns", "k") is None  # a follower can still read
    first.close()
    second.acquire_leadership()
    with pytest.raises(LockNotAvailable):
        backend.open().acquire_leadership()


_HOLD = """
import sys
from meta.meta_store import open_meta_store
store = open_meta_store(sys.argv[1])
store.acquire_leadership()
print("leader", flush=True)
sys.stdin.read()
"""


def test_leadership_ends_when_its_process_is_killed(backend: Backend) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, backend.url], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "leader"
        store = backend.open()
        with pytest.raises(LockNotAvailable):
            store.acquire_leadership()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

        def claimed() -> bool:
            try:
                store.acquire_leadership()
            except LockNotAvailable:
                return False  # PostgreSQL ends the dead client's session a moment after the kill
            return True

        wait_until(claimed, timeout=30, message="leadership after the holder was killed")
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_open_meta_store_picks_the_store_from_the_url(tmp_path: Path) -> None:
    for url in (f"sqlite://{tmp_path / 'a.db'}", str(tmp_path / "b.db"), "sqlite://:memory:"):
        store = open_meta_store(url)
        assert isinstance(store, SqliteMetaStore)
        store.close()
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()
    with pytest.raises(ConnectionFailure, match="cannot connect to the meta store"):
        open_meta_store("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")


def test_postgres_urls_open_a_postgres_store() -> None:
    with postgres_meta_database() as (url, _):
        for u in (url, "postgres://" + url.split("://", 1)[1]):
            store = open_meta_store(u)
            assert isinstance(store, PostgresMetaStore)
            store.close()
