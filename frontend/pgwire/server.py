"""The PostgreSQL wire server: accepts connections and runs one asyncio task per client.

A connection's task runs the startup phase (startup.py), then the query
phase (connection.py), and always ends by closing its session and socket,
whatever happened: a client that drops, sends garbage or hits an internal
error costs nothing once its task is gone, and never affects other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import Any

from common.errors import AdminShutdown, EddyError, InternalError
from frontend.pgwire import backend
from frontend.pgwire.auth import Authenticator, TrustAuthenticator
from frontend.pgwire.connection import Connection
from frontend.pgwire.framing import Limits
from frontend.pgwire.session_api import Session, SessionFactory
from frontend.pgwire.startup import ServerConfig, start_session

logger = logging.getLogger(__name__)

DEFAULT_PORT = 4566

_DISCONNECTS = (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError)


def _authenticator_of(factory: SessionFactory, explicit: Authenticator | None) -> Authenticator:
    """The explicit authenticator, else the factory's `authenticator` attribute if it has one, else trust."""
    if explicit is not None:
        return explicit
    hook = getattr(factory, "authenticator", None)
    return hook if hook is not None else TrustAuthenticator()


class PgServer:
    """Listens on `host:port` (port 0 picks a free one) and serves sessions from `factory`."""

    def __init__(self, factory: SessionFactory, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *,
                 tls: ssl.SSLContext | None = None, require_tls: bool = False,
                 authenticator: Authenticator | None = None, limits: Limits | None = None,
                 startup_timeout: float = 60.0) -> None:
        if require_tls and tls is None:
            raise ValueError("require_tls needs a TLS context")
        self._factory = factory
        self._host = host
        self._port = port
        self._config = ServerConfig(tls, require_tls, limits or Limits(), _authenticator_of(factory, authenticator),
                                    startup_timeout)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self._host, self._port)

    @property
    def port(self) -> int:
        """The port actually listened on."""
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connection_count(self) -> int:
        """Connections being served right now (startup phase included)."""
        return len(self._tasks)

    async def serve_forever(self) -> None:
        assert self._server is not None, "server not started"
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end every connection (clients get FATAL 57P01)."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The server owns its connection tasks (rather than letting asyncio
        # wrap a coroutine callback) so that close() can cancel and await them.
        task = asyncio.get_running_loop().create_task(self._serve_client(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session: Session | None = None
        try:
            session = await start_session(reader, writer, self._factory, self._config)
            if session is not None:
                await Connection(reader, writer, session, self._config.limits).run()
        except EddyError as e:
            # Errors of the startup phase: the connection cannot continue.
            await _say_goodbye(writer, backend.error_response(e, "FATAL"))
        except _DISCONNECTS:
            pass
        except asyncio.CancelledError:
            await _say_goodbye(writer, backend.error_response(
                AdminShutdown("terminating connection due to administrator command")))
            raise
        except Exception:
            logger.exception("internal error on a client connection")
            await _say_goodbye(writer, backend.error_response(InternalError("internal error"), "FATAL"))
        finally:
            if session is not None:
                await _close_session(session)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _say_goodbye(writer: asyncio.StreamWriter, data: bytes) -> None:
    """A last message to a client that may already be gone."""
    with contextlib.suppress(Exception):
        writer.write(data)
        await asyncio.wait_for(writer.drain(), 1.0)


async def _close_session(session: Session) -> None:
    try:
        await session.close()
    except Exception:
        logger.exception("closing a session failed")


async def serve(factory: SessionFactory, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *,
                tls: ssl.SSLContext | None = None, require_tls: bool = False,
                authenticator: Authenticator | None = None, limits: Limits | None = None,
                startup_timeout: float = 60.0) -> PgServer:
    """Start a listening PgServer; close it with `await server.close()`."""
    server = PgServer(factory, host, port, tls=tls, require_tls=require_tls, authenticator=authenticator,
                      limits=limits, startup_timeout=startup_timeout)
    await server.start()
    return server
