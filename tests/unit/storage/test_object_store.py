"""Object stores: the same behaviour from memory, a local directory and S3 (moto over HTTP)."""

from __future__ import annotations

import os

import pytest

from storage.errors import ObjectNotFound
from storage.object_store import ObjectStore, object_store_from_url
from storage.object_store.local import LocalObjectStore
from storage.object_store.memory import MemoryObjectStore
from storage.object_store.s3 import S3ObjectStore


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> ObjectStore:
    if request.param == "memory":
        return MemoryObjectStore()
    if request.param == "local":
        return LocalObjectStore(str(tmp_path))
    return request.getfixturevalue("s3_store")  # type: ignore[no-any-return]


async def test_put_get_range_size(store: ObjectStore) -> None:
    data = bytes(range(256)) * 10
    await store.put("sst/a.sst", data)
    assert await store.get("sst/a.sst") == data
    assert await store.get_range("sst/a.sst", 10, 20) == data[10:20]
    assert await store.get_range("sst/a.sst", len(data) - 5, len(data) + 100) == data[-5:]
    assert await store.get_range("sst/a.sst", len(data), len(data) + 10) == b""
    assert await store.size("sst/a.sst") == len(data)


async def test_put_replaces(store: ObjectStore) -> None:
    await store.put("k", b"old value")
    await store.put("k", b"new")
    assert await store.get("k") == b"new"


async def test_missing_object_names_the_key(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound, match=r"sst/missing\.sst"):
        await store.get("sst/missing.sst")
    with pytest.raises(ObjectNotFound, match=r"sst/missing\.sst"):
        await store.get_range("sst/missing.sst", 0, 10)
    with pytest.raises(ObjectNotFound):
        await store.size("sst/missing.sst")


async def test_list_and_delete_many(store: ObjectStore) -> None:
    for k in ["sst/1.sst", "sst/2.sst", "other/3", "sst2/x"]:
        await store.put(k, k.encode())
    listed = await store.list("sst/")
    assert [m.key for m in listed] == ["sst/1.sst", "sst/2.sst"]
    assert [m.size for m in listed] == [9, 9]
    assert all(m.last_modified > 0 for m in listed)
    await store.delete_many(["sst/1.sst", "sst/never-existed"])
    assert [m.key for m in await store.list("")] == ["other/3", "sst/2.sst", "sst2/x"]


async def test_local_put_leaves_no_temp_files(tmp_path: os.PathLike[str]) -> None:
    store = LocalObjectStore(str(tmp_path))
    await store.put("sst/x.sst", b"abc")
    assert os.listdir(os.path.join(tmp_path, "sst")) == ["x.sst"]


async def test_local_rejects_keys_outside_root(tmp_path: os.PathLike[str]) -> None:
    store = LocalObjectStore(str(tmp_path))
    with pytest.raises(Exception, match="invalid object key"):
        await store.put("../escape", b"x")


async def test_s3_prefix_is_applied(moto_endpoint: str) -> None:
    a = S3ObjectStore("eddy-shared", "a", endpoint_url=moto_endpoint, region="us-east-1", access_key_id="testing",
                      secret_access_key="testing", create_bucket=True)
    b = S3ObjectStore("eddy-shared", "b", endpoint_url=moto_endpoint, region="us-east-1", access_key_id="testing",
                      secret_access_key="testing", create_bucket=True)
    await a.put("k", b"from a")
    await b.put("k", b"from b")
    assert await a.get("k") == b"from a"
    assert [m.key for m in await b.list("")] == ["k"]


def test_object_store_from_url(tmp_path: os.PathLike[str]) -> None:
    assert isinstance(object_store_from_url(f"file://{tmp_path}"), LocalObjectStore)
    assert isinstance(object_store_from_url(str(tmp_path)), LocalObjectStore)
    mem = object_store_from_url("memory://unit-test")
    assert isinstance(mem, MemoryObjectStore)
    assert object_store_from_url("memory://unit-test") is mem
    assert object_store_from_url("memory://other") is not mem
    s3 = object_store_from_url("s3://bucket/some/prefix", s3_endpoint="http://127.0.0.1:1")
    assert isinstance(s3, S3ObjectStore)


def test_s3_client_has_short_timeouts_and_capped_retries(s3_store: S3ObjectStore) -> None:
    config = s3_store._client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2.0, 8.0)
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == 4
