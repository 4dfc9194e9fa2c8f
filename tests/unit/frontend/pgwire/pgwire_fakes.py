"""A canned Session and SessionFactory for the wire-protocol tests: no SQL engine, only the statements of
`canned_statements`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pyarrow as pa

from common.errors import (
    EddyError,
    InFailedSqlTransaction,
    InvalidCatalogName,
    QueryCanceled,
)
from common.types import DataType
from frontend.pgwire.session_api import (
    CursorInfo,
    FormatOptions,
    PreparedStatement,
    QueryResult,
)
from tests.unit.frontend.pgwire.canned_statements import Canned, UndefinedParameter, plan, split_statements


class FakeSession:
    def __init__(self, factory: FakeFactory, pid: int, user: str, database: str, options: dict[str, str]) -> None:
        self._factory = factory
        self._pid = pid
        self.user = user
        self.options = options
        self.status = "I"
        self.parameters = {
            "application_name": options.get("application_name", ""), "client_encoding": "UTF8",
            "DateStyle": "ISO, MDY", "integer_datetimes": "on", "IntervalStyle": "postgres", "is_superuser": "on",
            "server_encoding": "UTF8", "server_version": "13.14.0", "session_authorization": user,
            "standard_conforming_strings": "on", "TimeZone": "UTC",
        }
        self._changed: dict[str, str] = {}
        self._cancel: asyncio.Event | None = None
        self.closed = False
        self.statements: dict[str, PreparedStatement] = {}
        self.cursors: dict[str, CursorInfo] = {}

    @property
    def process_id(self) -> int:
        return self._pid

    @property
    def secret_key(self) -> int:
        return self._pid * 7919 + 12345

    def parameter_status(self) -> dict[str, str]:
        return dict(self.parameters)

    def take_changed_parameters(self) -> dict[str, str]:
        changed, self._changed = self._changed, {}
        return changed

    def set_parameter(self, name: str, value: str) -> None:
        self.parameters[name] = value
        self._changed[name] = value

    def format_options(self) -> FormatOptions:
        return FormatOptions()

    def transaction_status(self) -> str:
        return self.status

    def _failed(self) -> None:
        if self.status == "T":
            self.status = "E"

    def abort_transaction(self) -> None:
        self._failed()

    async def parse_simple(self, sql: str) -> list[PreparedStatement]:
        try:
            statements = [plan(s, []) for s in split_statements(sql)]
            for stmt in statements:
                if stmt.param_types:
                    raise UndefinedParameter("there is no parameter $1")
            return statements
        except EddyError:
            self._failed()
            raise

    async def prepare(self, sql: str, param_types: list[DataType | None]) -> PreparedStatement:
        try:
            return plan(sql, param_types)
        except EddyError:
            self._failed()
            raise

    async def execute(self, stmt: PreparedStatement, params: list[object]) -> QueryResult:
        assert isinstance(stmt.handle, Canned)
        self._factory.executed.append((stmt.sql, list(params)))
        if self.status == "E" and not stmt.handle.ends_transaction:
            raise InFailedSqlTransaction(
                "current transaction is aborted, commands ignored until end of transaction block")
        try:
            result = await stmt.handle.run(self, params)
        except EddyError:
            self._failed()
            raise
        if result.batches is not None:
            result.batches = self._watch(result.batches)
        return result

    async def _watch(self, batches: AsyncIterator[pa.RecordBatch]) -> AsyncIterator[pa.RecordBatch]:
        try:
            async for b in batches:
                yield b
        except EddyError:
            self._failed()
            raise

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` or until cancelled (QueryCanceled)."""
        self._cancel = asyncio.Event()
        self._factory.sleeping.set()
        try:
            await asyncio.wait_for(self._cancel.wait(), seconds)
        except TimeoutError:
            return
        finally:
            self._cancel = None
            self._factory.sleeping.clear()
        raise QueryCanceled("canceling statement due to user request")

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def cursor(self, name: str) -> CursorInfo | None:
        return self.cursors.get(name)

    async def close_cursor(self, name: str) -> bool:
        return self.cursors.pop(name, None) is not None

    def use_portals(self, portals: dict[str, object]) -> None:
        self.portals = portals

    async def close(self) -> None:
        self.closed = True
        self._factory.sessions.pop(self._pid, None)
        self._factory.closed.append(self._pid)


class FakeFactory:
    """Sessions for any user and database except "nope"; records what happened for the tests to check."""

    def __init__(self) -> None:
        self.sessions: dict[int, FakeSession] = {}
        self.closed: list[int] = []
        self.connects: list[tuple[str, str, dict[str, str]]] = []
        self.executed: list[tuple[str, list[object]]] = []
        self.cancels: list[tuple[int, int]] = []
        self.sleeping = threading.Event()
        self.copied: list[bytes] = []
        self._next_pid = 1000

    async def connect(self, user: str, database: str, options: dict[str, str]) -> FakeSession:
        self.connects.append((user, database, dict(options)))
        if database == "nope":
            raise InvalidCatalogName('database "nope" does not exist')
        self._next_pid += 1
        session = FakeSession(self, self._next_pid, user, database, options)
        self.sessions[session.process_id] = session
        return session

    def cancel(self, process_id: int, secret_key: int) -> None:
        self.cancels.append((process_id, secret_key))
        session = self.sessions.get(process_id)
        if session is not None and session.secret_key == secret_key:
            session.cancel()
