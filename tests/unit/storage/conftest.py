"""Fixtures for storage tests: a moto S3 server over real HTTP, and id allocators."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Awaitable, Callable, Iterator

import pytest
from moto.server import ThreadedMotoServer

from storage.object_store.s3 import S3ObjectStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


_buckets = itertools.count()


@pytest.fixture
def s3_store(moto_endpoint: str) -> S3ObjectStore:
    """A store in a fresh bucket (created on first use) on the moto server."""
    return S3ObjectStore(f"eddy-test-{next(_buckets)}", "data/prefix", endpoint_url=moto_endpoint,
                         region="us-east-1", access_key_id="testing", secret_access_key="testing",
                         create_bucket=True)


@pytest.fixture
def id_allocator() -> Callable[[int], Awaitable[list[int]]]:
    counter = itertools.count(1)

    async def alloc(n: int) -> list[int]:
        return [next(counter) for _ in range(n)]

    return alloc
