"""A PgServer with the fake session factory on its own event loop in a thread, and a condition waiter.

A server thread lets blocking clients (psql subprocesses, psycopg, raw
sockets driven by hypothesis) and asyncio clients (asyncpg, on the test's
own loop) talk to the same server.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from frontend.pgwire.server import PgServer
from tests.unit.frontend.pgwire.pgwire_fakes import FakeFactory

R = TypeVar("R")


class ServerThread:
    def __init__(self, factory: FakeFactory | None = None, **kwargs: Any) -> None:
        self.factory = factory or FakeFactory()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.server = PgServer(self.factory, "127.0.0.1", 0, **kwargs)
        self.call(self.server.start())
        self.port = self.server.port

    def call(self, coro: Coroutine[Any, Any, R]) -> R:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def fetch_bytes(conn: psycopg.Connection[tuple[object, ...]], sql: str) -> list[bytes | None]:
    """The one row of a query whose columns are all bytea (PostgreSQL's *_send functions)."""
    row = conn.execute(sql).fetchone()
    assert row is not None
    return [None if v is None else bytes(v) for v in row]  # type: ignore[call-overload]


def tls_server(cert: tuple[Path, Path], **kwargs: Any) -> ServerThread:
    """A server with TLS from a certificate and key file."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return ServerThread(tls=ctx, **kwargs)
