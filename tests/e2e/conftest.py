"""Fixtures for end-to-end tests: a real Eddy process and real clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess
from tests.helpers.s3 import moto_server


@pytest.fixture(scope="session")
def eddy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EddyProcess]:
    """One Eddy playground shared by the tests that create and drop their own objects."""
    proc = EddyProcess(tmp_path_factory.mktemp("eddy") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def conn(eddy: EddyProcess) -> Iterator[psycopg.Connection]:
    c = psycopg.connect(eddy.dsn, autocommit=True)
    yield c
    c.close()


@pytest.fixture
def fresh_eddy(tmp_path: Path) -> Iterator[EddyProcess]:
    """An Eddy process of the test's own (started by the test), killed at the end."""
    proc = EddyProcess(tmp_path / "data")
    yield proc
    proc.kill()


@pytest.fixture
def uid() -> str:
    """A suffix for object names unique to this test."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server over HTTP (tests.helpers.s3)."""
    with moto_server() as endpoint:
        yield endpoint
