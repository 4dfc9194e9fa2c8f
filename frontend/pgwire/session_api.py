"""The boundary between the wire protocol and SQL sessions.

The wire server owns sockets, framing, message order and value encoding
(text and binary). A `Session` owns everything SQL: parsing, binding,
planning, executing, session variables and transaction state. Errors cross
the boundary as `common.errors.EddyError`; any other exception is a bug and
the wire layer reports it as XX000 without a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from common.pgtext import FormatOptions
from common.types import DataType


@dataclass(frozen=True, slots=True)
class ResultColumn:
    """One column of a RowDescription."""

    name: str
    type: DataType
    table_oid: int = 0
    column_attnum: int = 0


@dataclass(frozen=True, slots=True)
class CopyIn:
    """A COPY FROM STDIN waiting for its data.

    The wire layer sends CopyInResponse for `columns` columns (all text, or
    all binary), then calls `load` with the payloads of the client's
    CopyData messages; the iterator ends at CopyDone and raises
    QueryCanceled (57014) at CopyFail. `load` returns the rows it loaded.
    """

    columns: int
    load: Callable[[AsyncIterator[bytes]], Awaitable[int]]
    binary: bool = False


@dataclass(frozen=True, slots=True)
class CopyOut:
    """A COPY TO STDOUT: `header` (a CSV header line, if any), then `rows`.

    Each array of `rows` holds complete rows as they go on the wire, one
    element (its line ending included) per row and per CopyData message.
    """

    columns: int
    rows: AsyncIterator[pa.Array]
    header: bytes | None = None
    binary: bool = False


@dataclass
class QueryResult:
    """The outcome of one statement.

    `command` is the CommandComplete tag's verb ("SELECT", "INSERT",
    "CREATE TABLE", "SET", ...). For a result with `columns`, `batches`
    yields its rows and the wire layer counts them for the tag; otherwise
    `row_count` is the count the tag reports (INSERT 0 n, UPDATE n, ...).
    `notices` are sent as NoticeResponse before the rows. `binary` asks for
    the rows in binary in the simple query protocol (FETCH from a BINARY
    cursor). A COPY answers with `copy_in` or `copy_out` instead of rows.
    """

    command: str
    columns: list[ResultColumn] | None = None
    batches: AsyncIterator[pa.RecordBatch] | None = None
    row_count: int | None = None
    notices: list[str] = field(default_factory=list)
    binary: bool = False
    copy_in: CopyIn | None = None
    copy_out: CopyOut | None = None


@dataclass(frozen=True, slots=True)
class PreparedStatement:
    """A parsed and bound statement, ready to execute with parameters.

    `param_types[i]` is the type of `$i+1`; `columns` is None for a statement
    returning no rows. `handle` is the session's own object.
    """

    sql: str
    param_types: tuple[DataType, ...]
    columns: tuple[ResultColumn, ...] | None
    handle: object = None


@dataclass(frozen=True, slots=True)
class CursorInfo:
    """What Describe reports for a cursor opened by DECLARE (a portal the client did not bind)."""

    columns: tuple[ResultColumn, ...]
    binary: bool = False


class Session(Protocol):
    """One client connection's SQL state."""

    @property
    def process_id(self) -> int: ...

    @property
    def secret_key(self) -> int: ...

    def parameter_status(self) -> dict[str, str]:
        """Every reported parameter and its value (sent after authentication)."""
        ...

    def take_changed_parameters(self) -> dict[str, str]:
        """Reported parameters changed since the last call (re-sent as ParameterStatus)."""
        ...

    def format_options(self) -> FormatOptions: ...

    def transaction_status(self) -> str:
        """'I' idle, 'T' in a transaction block, 'E' in a failed transaction block."""
        ...

    async def parse_simple(self, sql: str) -> list[PreparedStatement]:
        """Every statement of a simple Query message, parsed before any runs (no parameters)."""
        ...

    async def prepare(self, sql: str, param_types: list[DataType | None]) -> PreparedStatement:
        """One statement of a Parse message; unspecified parameter types are inferred."""
        ...

    async def execute(self, stmt: PreparedStatement, params: list[object]) -> QueryResult:
        """Run a statement; `params` are Python values of `stmt.param_types`."""
        ...

    def cancel(self) -> None:
        """Cancel the running statement (a CancelRequest arrived); it fails with 57014."""
        ...

    def abort_transaction(self) -> None:
        """An ERROR was reported to the client (from any message: a bad Bind, a failed Parse, ...). As in
        PostgreSQL, any error fails an open transaction block ('E' until ROLLBACK)."""
        ...

    @property
    def statements(self) -> dict[str, PreparedStatement]:
        """Prepared statements by name: the wire layer keeps Parse's here, so that SQL's EXECUTE and
        DEALLOCATE see them (one namespace, as in PostgreSQL)."""
        ...

    def cursor(self, name: str) -> CursorInfo | None:
        """The cursor DECLAREd under `name`, which Describe and Close may name as a portal."""
        ...

    async def close_cursor(self, name: str) -> bool:
        """Close a DECLAREd cursor; False if there is none of that name."""
        ...

    def use_portals(self, portals: dict[str, Any]) -> None:
        """The wire layer's portals by name (frontend.pgwire.portal.Portal), which SQL's FETCH, MOVE and
        CLOSE may name as well (asyncpg moves its portals with MOVE)."""
        ...

    async def close(self) -> None: ...


class SessionFactory(Protocol):
    """Creates sessions for new connections and routes cancel requests."""

    async def connect(self, user: str, database: str, options: dict[str, str]) -> Session:
        """Start a session; raises InvalidCatalogName (3D000) etc."""
        ...

    def cancel(self, process_id: int, secret_key: int) -> None: ...
