"""The query phase of one connection: simple and extended query flows over a `Session`.

State: prepared statements and portals by name ("" is the unnamed one,
replaced by the next Parse or Bind), and whether the connection is skipping
messages until Sync after an error in an extended-protocol message.

Invariants, as in PostgreSQL: every Query, Sync and FunctionCall is answered
by exactly one ReadyForQuery carrying the session's transaction status;
portals are dropped at Sync outside a transaction block; an ErrorResponse is
flushed at once, so a client waiting after Flush sees it; a FATAL error ends
the connection after its ErrorResponse.

Names are shared with SQL as PostgreSQL shares them: named statements live
in the session (EXECUTE and DEALLOCATE reach them), a cursor DECLAREd in SQL
can be described and closed as a portal, and FETCH and MOVE can read a bound
portal. A COPY statement switches the connection into the COPY sub-protocol
(copy.py) until the copy ends.
"""

from __future__ import annotations

import asyncio
import logging

from common.errors import (
    DuplicateCursor,
    DuplicatePreparedStatement,
    EddyError,
    FeatureNotSupported,
    InternalError,
    InvalidCursorName,
    InvalidSqlStatementName,
    ProtocolViolation,
)
from common.types import BY_OID, VARCHAR, DataType
from frontend.pgwire import backend
from frontend.pgwire.copy import (
    COPY_DONE,
    client_copy_data,
    copy_data,
    copy_data_messages,
    copy_in_response,
    copy_out_response,
)
from frontend.pgwire.framing import Limits, read_message
from frontend.pgwire.messages import (
    EXTENDED_TYPES,
    SYNC_TYPE,
    TERMINATE_TYPE,
    Bind,
    Close,
    CopyMessage,
    Describe,
    Execute,
    Flush,
    FrontendMessage,
    FunctionCall,
    Parse,
    Query,
    Sync,
    Target,
    Terminate,
    decode,
)
from frontend.pgwire.portal import EMPTY_QUERY, Portal
from frontend.pgwire.session_api import CopyIn, CopyOut, PreparedStatement, QueryResult, Session
from frontend.pgwire.values import check_format_codes, decode_param, encode_rows

logger = logging.getLogger(__name__)

_FLUSH_AT = 64 * 1024
# Rows encoded per DataRow block: large enough for numpy to pay off, small enough to stream.
_ROWS_PER_BLOCK = 8192
_UNKNOWN_TYPE_OID = 705


class Output:
    """Messages to the client, written at ReadyForQuery, Flush, errors, and every 64 KiB."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._buf = bytearray()

    def send(self, data: bytes) -> None:
        self._buf += data

    async def flush(self) -> None:
        if self._buf:
            # Hand the buffer over rather than copy it; transports may keep a reference.
            data, self._buf = self._buf, bytearray()
            self._writer.write(data)
        await self._writer.drain()

    def is_closing(self) -> bool:
        return self._writer.transport.is_closing()

    async def flush_if_full(self) -> None:
        if len(self._buf) >= _FLUSH_AT:
            await self.flush()
            # drain() only waits when the socket is backed up; yield anyway so
            # that one large result cannot keep every other client waiting.
            await asyncio.sleep(0)


def _param_type(oid: int) -> DataType | None:
    if oid in (0, _UNKNOWN_TYPE_OID):
        return None
    t = BY_OID.get(oid)
    if t is None:
        raise FeatureNotSupported(f"parameter type with OID {oid} is not supported")
    return t


def _expand_formats(codes: tuple[int, ...], count: int, mismatch: str) -> tuple[int, ...]:
    """Format codes per value: none means all text, one applies to all, else one each."""
    if len(codes) > 1 and len(codes) != count:
        raise ProtocolViolation(mismatch)
    check_format_codes(codes)
    if not codes:
        return (backend.TEXT_FORMAT,) * count
    return codes * count if len(codes) == 1 else codes


class Connection:
    """Serves one authenticated client until it terminates, disconnects or hits a FATAL error."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, session: Session,
                 limits: Limits) -> None:
        self._reader = reader
        self._out = Output(writer)
        self._session = session
        self._limits = limits
        # The session's dictionary: SQL's EXECUTE and DEALLOCATE share the statements' namespace.
        self._statements: dict[str, PreparedStatement] = session.statements
        self._portals: dict[str, Portal] = {}
        session.use_portals(self._portals)
        self._skipping = False

    async def run(self) -> None:
        try:
            await self._loop()
        except EddyError as e:
            # Only FATAL errors get here: framing violations and session errors marked FATAL.
            self._out.send(backend.error_response(e))
            await self._out.flush()
        finally:
            for portal in self._portals.values():
                await portal.close()
            self._portals.clear()

    async def _loop(self) -> None:
        while True:
            msg_type, body = await read_message(self._reader, self._limits)
            if self._skipping and msg_type not in (SYNC_TYPE, TERMINATE_TYPE):
                continue
            try:
                msg = decode(msg_type, body)
                if isinstance(msg, Terminate):
                    return
                await self._dispatch(msg)
            except EddyError as e:
                if e.severity == "FATAL":
                    raise
                await self._fail(e, msg_type)
            except Exception:
                if self._out.is_closing():
                    raise  # the client is gone; the server's handler ends the connection quietly
                logger.exception("internal error serving a %r message", chr(msg_type))
                await self._fail(InternalError("internal error"), msg_type)

    async def _fail(self, err: EddyError, msg_type: int) -> None:
        self._session.abort_transaction()
        self._out.send(backend.error_response(err))
        if msg_type in EXTENDED_TYPES:
            self._skipping = True
            await self._out.flush()
        else:
            await self._ready()

    async def _ready(self) -> None:
        self._send_changed_parameters()
        self._out.send(backend.ready_for_query(self._session.transaction_status()))
        await self._out.flush()

    def _send_changed_parameters(self) -> None:
        for name, value in self._session.take_changed_parameters().items():
            self._out.send(backend.parameter_status(name, value))

    async def _dispatch(self, msg: FrontendMessage) -> None:
        match msg:
            case Query(sql):
                await self._simple_query(sql)
            case Parse():
                await self._parse(msg)
            case Bind():
                await self._bind(msg)
            case Describe(target, name):
                self._describe(target, name)
            case Execute(portal, max_rows):
                await self._execute(self._portal(portal), max_rows)
            case Close(target, name):
                await self._close(target, name)
            case Sync():
                await self._sync()
            case Flush():
                await self._out.flush()
            case CopyMessage():
                pass
            case FunctionCall():
                raise FeatureNotSupported("the function call protocol is not supported")

    # -- simple query ----------------------------------------------------

    async def _simple_query(self, sql: str) -> None:
        # As in PostgreSQL, a simple query discards the unnamed statement and portal.
        self._statements.pop("", None)
        await self._drop_portal("")
        statements = await self._session.parse_simple(sql) if sql.strip() else []
        if not statements:
            self._out.send(backend.EMPTY_QUERY_RESPONSE)
        for stmt in statements:
            result = await self._session.execute(stmt, [])
            portal = Portal(stmt, [], ())
            try:
                fmt = backend.BINARY_FORMAT if result.binary else backend.TEXT_FORMAT
                portal.result_formats = (fmt,) * len(result.columns or ())
                self._start(portal, result)
                await self._send_rows(portal, 0, describe=True)
            finally:
                await portal.close()
            self._send_changed_parameters()
        await self._ready()

    # -- extended query --------------------------------------------------

    async def _parse(self, msg: Parse) -> None:
        if msg.name == "":
            self._statements.pop("", None)
        elif msg.name in self._statements:
            raise DuplicatePreparedStatement(f'prepared statement "{msg.name}" already exists')
        types = [_param_type(oid) for oid in msg.param_oids]
        if msg.sql.strip():
            stmt = await self._session.prepare(msg.sql, types)
        else:
            stmt = PreparedStatement(msg.sql, tuple(t or VARCHAR for t in types), None, EMPTY_QUERY)
        self._statements[msg.name] = stmt
        self._out.send(backend.PARSE_COMPLETE)

    async def _bind(self, msg: Bind) -> None:
        stmt = self._statement(msg.statement)
        if msg.portal and (msg.portal in self._portals or self._session.cursor(msg.portal) is not None):
            raise DuplicateCursor(f'cursor "{msg.portal}" already exists')
        nparams = len(msg.params)
        param_formats = _expand_formats(msg.param_formats, nparams, (
            f"bind message has {len(msg.param_formats)} parameter formats but {nparams} parameters"))
        if nparams != len(stmt.param_types):
            raise ProtocolViolation(f'bind message supplies {nparams} parameters, but prepared statement '
                                    f'"{msg.statement}" requires {len(stmt.param_types)}')
        opts = self._session.format_options()
        params = [decode_param(i, data, fmt, t, opts)
                  for i, (data, fmt, t) in enumerate(zip(msg.params, param_formats, stmt.param_types))]
        result_formats: tuple[int, ...] = ()
        if stmt.columns is not None:
            ncols = len(stmt.columns)
            result_formats = _expand_formats(msg.result_formats, ncols, (
                f"bind message has {len(msg.result_formats)} result formats but query has {ncols} columns"))
        await self._drop_portal(msg.portal)
        portal = Portal(stmt, params, result_formats)
        portal.requested_formats = msg.result_formats
        self._portals[msg.portal] = portal
        self._out.send(backend.BIND_COMPLETE)

    def _describe(self, target: Target, name: str) -> None:
        if target is Target.STATEMENT:
            stmt = self._statement(name)
            self._out.send(backend.parameter_description([t.oid for t in stmt.param_types]))
            columns = stmt.columns
            formats = (backend.TEXT_FORMAT,) * len(columns or ())
        elif name not in self._portals and (cursor := self._session.cursor(name)) is not None:
            columns = cursor.columns
            formats = (backend.BINARY_FORMAT if cursor.binary else backend.TEXT_FORMAT,) * len(columns)
        else:
            portal = self._portal(name)
            columns = portal.statement.columns
            formats = portal.result_formats
        if columns is None:
            self._out.send(backend.NO_DATA)
        else:
            self._out.send(backend.row_description(columns, formats))

    async def _execute(self, portal: Portal, max_rows: int) -> None:
        if portal.is_empty_query:
            self._out.send(backend.EMPTY_QUERY_RESPONSE)
            return
        if portal.result is None:
            self._start(portal, await self._session.execute(portal.statement, portal.params))
        await self._send_rows(portal, max_rows, describe=False)
        self._send_changed_parameters()

    async def _close(self, target: Target, name: str) -> None:
        if target is Target.STATEMENT:
            self._statements.pop(name, None)
        elif name in self._portals:
            await self._drop_portal(name)
        else:
            await self._session.close_cursor(name)
        self._out.send(backend.CLOSE_COMPLETE)

    async def _sync(self) -> None:
        self._skipping = False
        if self._session.transaction_status() == "I":
            for name in list(self._portals):
                await self._drop_portal(name)
        await self._ready()

    # -- results ---------------------------------------------------------

    def _start(self, portal: Portal, result: QueryResult) -> None:
        portal.result = result
        for notice in result.notices:
            self._out.send(backend.notice_response(notice))

    async def _send_rows(self, portal: Portal, max_rows: int, *, describe: bool) -> None:
        """Up to `max_rows` rows (0: all), then CommandComplete, or PortalSuspended if the limit was hit."""
        result = portal.result
        assert result is not None
        if result.copy_in is not None:
            await self._copy_in(result.copy_in)
            return
        if result.copy_out is not None:
            await self._copy_out(result.copy_out)
            return
        if result.columns is None:
            self._out.send(backend.command_complete(backend.command_tag(result.command, result.row_count or 0)))
            return
        columns = result.columns
        if len(columns) != len(portal.result_formats):
            if portal.statement.columns is not None or len(portal.requested_formats) > 1:
                raise InternalError("internal error", detail="result columns differ from the prepared statement's")
            # A statement whose rows were unknown at Parse: one format code (or none) still says what to send.
            portal.result_formats = _expand_formats(portal.requested_formats, len(columns), "")
        if describe:
            self._out.send(backend.row_description(columns, portal.result_formats))
        types = [c.type for c in columns]
        opts = self._session.format_options()
        sent = 0
        while max_rows == 0 or sent < max_rows:
            limit = _ROWS_PER_BLOCK if max_rows == 0 else min(_ROWS_PER_BLOCK, max_rows - sent)
            batch = await portal.next_rows(limit)
            if batch is None:
                break
            self._out.send(encode_rows(batch, types, portal.result_formats, opts))
            sent += batch.num_rows
            await self._out.flush_if_full()
        # Like PostgreSQL, hitting the limit suspends the portal without looking ahead for more rows.
        if max_rows and sent == max_rows:
            self._out.send(backend.PORTAL_SUSPENDED)
        else:
            self._out.send(backend.command_complete(backend.command_tag(result.command, sent)))

    # -- COPY ------------------------------------------------------------

    async def _copy_in(self, copy: CopyIn) -> None:
        self._out.send(copy_in_response(copy.columns, copy.binary))
        await self._out.flush()
        data = client_copy_data(self._reader, self._limits)
        rows = await copy.load(data)
        async for _ in data:
            pass  # whatever the loader left, up to CopyDone
        self._out.send(backend.command_complete(backend.command_tag("COPY", rows)))

    async def _copy_out(self, copy: CopyOut) -> None:
        self._out.send(copy_out_response(copy.columns, copy.binary))
        if copy.header is not None:
            self._out.send(copy_data(copy.header))
        rows = 0
        async for batch in copy.rows:
            self._out.send(copy_data_messages(batch))
            rows += len(batch)
            await self._out.flush_if_full()
        self._out.send(COPY_DONE)
        self._out.send(backend.command_complete(backend.command_tag("COPY", rows)))

    # -- names -----------------------------------------------------------

    def _statement(self, name: str) -> PreparedStatement:
        stmt = self._statements.get(name)
        if stmt is None:
            raise InvalidSqlStatementName(f'prepared statement "{name}" does not exist' if name
                                          else "unnamed prepared statement does not exist")
        return stmt

    def _portal(self, name: str) -> Portal:
        portal = self._portals.get(name)
        if portal is None:
            raise InvalidCursorName(f'portal "{name}" does not exist')
        return portal

    async def _drop_portal(self, name: str) -> None:
        portal = self._portals.pop(name, None)
        if portal is not None:
            await portal.close()
