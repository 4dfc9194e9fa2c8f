"""The frontend node: accepts PostgreSQL connections and creates a session for each."""

from __future__ import annotations

import itertools
import logging
import secrets
import weakref
from collections.abc import Callable

from common.catalog import DEFAULT_DATABASE
from common.errors import InvalidCatalogName
from frontend.cluster import ComputeClient, MetaClient
from frontend.pgwire.server import PgServer
from frontend.session import Session

log = logging.getLogger("eddy.frontend")


class FrontendNode:
    """A SessionFactory over one meta client and the compute nodes it can reach."""

    def __init__(self, meta: MetaClient, compute: Callable[[], ComputeClient]) -> None:
        self.meta = meta
        self.compute = compute
        self._pids = itertools.count(1000)
        self._sessions: weakref.WeakValueDictionary[int, Session] = weakref.WeakValueDictionary()
        self.server: PgServer | None = None

    async def connect(self, user: str, database: str, options: dict[str, str]) -> Session:
        if database and database != DEFAULT_DATABASE:
            raise InvalidCatalogName(f'database "{database}" does not exist')
        pid = next(self._pids)
        session = Session(self, pid, secrets.randbits(31), user, database or DEFAULT_DATABASE, options)
        self._sessions[pid] = session
        return session

    def cancel(self, process_id: int, secret_key: int) -> None:
        session = self._sessions.get(process_id)
        if session is not None and session.secret_key == secret_key:
            session.cancel()

    async def start(self, host: str, port: int) -> PgServer:
        self.server = PgServer(self, host, port)
        await self.server.start()
        log.info("frontend listening on %s:%d", host, self.server.port)
        return self.server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()
