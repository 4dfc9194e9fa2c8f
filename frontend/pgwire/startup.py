"""The startup phase: TLS and GSS negotiation, cancel requests, the StartupMessage, authentication.

A connection first sends zero or more negotiation packets (SSLRequest,
GSSENCRequest, each at most once), then either a CancelRequest, which is
routed to the factory and ends the connection without a reply, or a
StartupMessage. After authentication the session is created and the client
gets AuthenticationOk, every reported parameter, BackendKeyData and
ReadyForQuery. Every error here is FATAL: the caller reports it and closes.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import struct
from dataclasses import dataclass, field

from common.errors import FeatureNotSupported, InvalidAuthorizationSpecification, ProtocolViolation, QueryCanceled
from frontend.pgwire import backend
from frontend.pgwire.auth import Authenticator, TrustAuthenticator
from frontend.pgwire.framing import (
    CANCEL_REQUEST_CODE,
    GSSENC_REQUEST_CODE,
    PASSWORD_TYPE,
    SSL_REQUEST_CODE,
    FatalProtocolViolation,
    Limits,
    MessageBuffer,
    read_message,
    read_startup_packet,
)
from frontend.pgwire.session_api import Session, SessionFactory

logger = logging.getLogger(__name__)

_PROTOCOL_OPTION_PREFIX = "_pq_."
_PASSWORD_TYPES = frozenset({PASSWORD_TYPE})


class StartupTimeout(QueryCanceled):
    """The client took longer than the startup timeout to connect."""

    severity = "FATAL"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How the server treats new connections."""

    tls: ssl.SSLContext | None = None
    require_tls: bool = False
    limits: Limits = field(default_factory=Limits)
    authenticator: Authenticator = field(default_factory=TrustAuthenticator)
    startup_timeout: float = 60.0
    """Seconds a client has from connecting to ReadyForQuery (PostgreSQL's authentication_timeout)."""


@dataclass(frozen=True, slots=True)
class StartupRequest:
    """What a StartupMessage asked for."""

    user: str
    database: str
    options: dict[str, str]
    minor_version: int
    unrecognized_options: tuple[str, ...]


class _StreamAuthExchange:
    """An AuthExchange over the connection's streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limits: Limits,
                 tls: bool) -> None:
        self._reader = reader
        self._writer = writer
        self._limits = limits
        self._tls = tls

    @property
    def is_tls(self) -> bool:
        return self._tls

    async def send(self, code: int, data: bytes = b"") -> None:
        self._writer.write(backend.authentication(code, data))
        await self._writer.drain()

    async def receive(self) -> bytes:
        _, body = await read_message(self._reader, self._limits, _PASSWORD_TYPES)
        return body


def parse_startup_message(code: int, body: bytes) -> StartupRequest:
    """The user, database and other parameters of a StartupMessage (protocol 3.x)."""
    major, minor = code >> 16, code & 0xFFFF
    if major != 3:
        raise FeatureNotSupported(f"unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0")
    buf = MessageBuffer(body)
    params: dict[str, str] = {}
    unrecognized: list[str] = []
    try:
        while (name := buf.cstring()) != "":
            value = buf.cstring()
            if name.startswith(_PROTOCOL_OPTION_PREFIX):
                unrecognized.append(name)
            else:
                params[name] = value
        buf.end()
    except ProtocolViolation:
        raise FatalProtocolViolation("invalid startup packet layout: expected terminator as last byte") from None
    user = params.pop("user", "")
    if not user:
        raise InvalidAuthorizationSpecification("no PostgreSQL user name specified in startup packet")
    database = params.pop("database", "") or user
    return StartupRequest(user, database, params, minor, tuple(unrecognized))


def _has_buffered_input(reader: asyncio.StreamReader) -> bool:
    # StreamReader has no public way to ask; bytes already buffered after an
    # SSLRequest were sent in plaintext and must not be read as if they had
    # come through TLS (CVE-2021-23214).
    return bool(getattr(reader, "_buffer", b""))


async def _negotiate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, factory: SessionFactory,
                     config: ServerConfig) -> tuple[StartupRequest, bool] | None:
    """Packets up to the StartupMessage; None after a CancelRequest."""
    tls = ssl_done = gss_done = False
    while True:
        code, body = await read_startup_packet(reader, config.limits)
        if code == CANCEL_REQUEST_CODE:
            if len(body) == 8:
                process_id, secret_key = struct.unpack(">iI", body)
                try:
                    factory.cancel(process_id, secret_key)
                except Exception:
                    logger.exception("cancel request failed")
            return None
        if code == SSL_REQUEST_CODE and not ssl_done:
            ssl_done = True
            if config.tls is None:
                writer.write(b"N")
                await writer.drain()
                continue
            if _has_buffered_input(reader):
                raise FatalProtocolViolation("received unencrypted data after SSL request")
            writer.write(b"S")
            await writer.start_tls(config.tls)
            tls = True
            continue
        if code == GSSENC_REQUEST_CODE and not gss_done:
            gss_done = True
            writer.write(b"N")
            await writer.drain()
            continue
        if code in (SSL_REQUEST_CODE, GSSENC_REQUEST_CODE):
            raise FatalProtocolViolation("unexpected repeated encryption request")
        return parse_startup_message(code, body), tls


async def start_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, factory: SessionFactory,
                        config: ServerConfig) -> Session | None:
    """Run the startup phase; the new session, or None when the connection only carried a cancel request.

    A client that does not finish in `config.startup_timeout` seconds is
    dropped, so idle unauthenticated connections cannot pile up.
    """
    try:
        async with asyncio.timeout(config.startup_timeout):
            return await _start_session(reader, writer, factory, config)
    except TimeoutError:
        raise StartupTimeout("canceling authentication due to timeout") from None


async def _start_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, factory: SessionFactory,
                         config: ServerConfig) -> Session | None:
    negotiated = await _negotiate(reader, writer, factory, config)
    if negotiated is None:
        return None
    request, tls = negotiated
    if request.minor_version > 0 or request.unrecognized_options:
        writer.write(backend.negotiate_protocol_version(0, request.unrecognized_options))
    if config.require_tls and not tls:
        raise InvalidAuthorizationSpecification(
            f'connection for user "{request.user}" requires TLS', hint="Connect with sslmode=require.")
    await config.authenticator.authenticate(request.user, request.database,
                                            _StreamAuthExchange(reader, writer, config.limits, tls))
    writer.write(backend.authentication(backend.AUTH_OK))
    session = await factory.connect(request.user, request.database, request.options)
    try:
        out = [backend.parameter_status(k, v) for k, v in session.parameter_status().items()]
        # Everything is reported now; only later changes are re-sent.
        session.take_changed_parameters()
        out.append(backend.backend_key_data(session.process_id, session.secret_key))
        out.append(backend.ready_for_query(session.transaction_status()))
        writer.write(b"".join(out))
        await writer.drain()
    except BaseException:
        await session.close()
        raise
    return session
