"""Fixtures for storage tests: a moto S3 server over real HTTP, and id allocators."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterator

import pytest

from storage.object_store.s3 import S3ObjectStore
from tests.helpers.s3 import moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


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
