"""Fixtures of the wire-protocol tests: `pg`, a server with the fake session factory."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.unit.frontend.pgwire.pgwire_harness import ServerThread
from tests.unit.frontend.pgwire.pgwire_rawclient import RawClient


@pytest.fixture(autouse=True)
def _close_raw_clients() -> Iterator[None]:
    mark = len(RawClient.opened)
    yield
    RawClient.close_since(mark)


@pytest.fixture
def pg() -> Iterator[ServerThread]:
    server = ServerThread()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and its key, for servers with TLS."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.fixture(scope="session")
def pg_oracle() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to the real PostgreSQL server, in a database of our own, to check encodings against."""
    try:
        admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True,
                                connect_timeout=5)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    dbname = f"eddy_test_pgwire_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{dbname}"')
    try:
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}", autocommit=True) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            yield conn
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        admin.close()
