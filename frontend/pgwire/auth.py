"""Client authentication during startup: the `Authenticator` seam, trust, and cleartext password.

An authenticator runs after the StartupMessage and before the session is
created. It talks to the client through an `AuthExchange` (Authentication
requests out, password messages in), so SCRAM-SHA-256 or MD5 slot in as
further classes without touching the startup code. The server sends
AuthenticationOk itself once `authenticate` returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from common.errors import InvalidPassword
from frontend.pgwire.backend import AUTH_CLEARTEXT_PASSWORD
from frontend.pgwire.framing import MessageBuffer


class AuthExchange(Protocol):
    """The client side of an authentication conversation."""

    async def send(self, code: int, data: bytes = b"") -> None:
        """Send an Authentication message with request `code` (AUTH_* in backend.py) and its data."""
        ...

    async def receive(self) -> bytes:
        """The body of the client's next password message ('p': password, SASL response, ...)."""
        ...


class Authenticator(Protocol):
    """Decides whether a client may connect as `user`."""

    async def authenticate(self, user: str, database: str, exchange: AuthExchange) -> None:
        """Return once the client has proved it is `user`; raise InvalidPassword (28P01) or
        InvalidAuthorizationSpecification (28000) otherwise. Must not send AuthenticationOk."""
        ...


class TrustAuthenticator:
    """Everyone is who they say they are (PostgreSQL's `trust`)."""

    async def authenticate(self, user: str, database: str, exchange: AuthExchange) -> None:
        return None


PasswordCheck = Callable[[str, str], Awaitable[bool]]


class CleartextPasswordAuthenticator:
    """PostgreSQL's `password` method: the client sends the password itself; only sensible over TLS."""

    def __init__(self, check: PasswordCheck) -> None:
        self._check = check

    async def authenticate(self, user: str, database: str, exchange: AuthExchange) -> None:
        await exchange.send(AUTH_CLEARTEXT_PASSWORD)
        buf = MessageBuffer(await exchange.receive())
        password = buf.cstring()
        buf.end()
        if not await self._check(user, password):
            raise InvalidPassword(f'password authentication failed for user "{user}"')
