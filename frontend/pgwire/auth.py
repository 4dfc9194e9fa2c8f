"""Client authentication during startup: the `Authenticator` seam, trust, and password methods.

An authenticator runs after the StartupMessage and before the session is
created. It talks to the client through an `AuthExchange` (Authentication
requests out, password messages in). The server sends AuthenticationOk
itself once `authenticate` returns.

`PasswordAuthenticator` is PostgreSQL's password authentication with the
method picked per user, by the kind of verifier stored for it: SCRAM-SHA-256
for a SCRAM verifier, MD5 for an MD5 one, or, when the server is set up for
it, the password in cleartext (checked against either). Unknown users and
users without a password fail with the same message as a wrong password.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from common.errors import InvalidPassword
from frontend.pgwire.backend import AUTH_CLEARTEXT_PASSWORD, AUTH_MD5_PASSWORD
from frontend.pgwire.framing import MessageBuffer
from frontend.pgwire.password import check_cleartext, is_md5_verifier, md5_response_matches, parse_scram_verifier
from frontend.pgwire.scram import ScramExchange


class AuthExchange(Protocol):
    """The client side of an authentication conversation."""

    async def send(self, code: int, data: bytes = b"") -> None:
        """Send an Authentication message with request `code` (AUTH_* in backend.py) and its data."""
        ...

    async def receive(self) -> bytes:
        """The body of the client's next password message ('p': password, SASL response, ...)."""
        ...

    @property
    def is_tls(self) -> bool:
        """Whether the connection is encrypted (channel binding is offered only then)."""
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


@dataclass(frozen=True, slots=True)
class Credential:
    """What the server knows of a user when it connects."""

    secret: str | None
    """Its password verifier (SCRAM-SHA-256 or MD5), or None when it has no password."""
    trusted: bool = False
    """Admitted without a password (the bootstrap superuser before it has one)."""


CredentialLookup = Callable[[str], Awaitable[Credential | None]]


def _password_failed(user: str) -> InvalidPassword:
    return InvalidPassword(f'password authentication failed for user "{user}"')


async def _receive_password(exchange: AuthExchange) -> str:
    buf = MessageBuffer(await exchange.receive())
    password = buf.cstring()
    buf.end()
    return password


class PasswordAuthenticator:
    """Password authentication by SCRAM-SHA-256, MD5 or (with `cleartext`) the password itself.

    `channel_binding` is the tls-server-end-point data of the server's
    certificate (password.tls_server_end_point): with it, TLS connections are
    offered SCRAM-SHA-256-PLUS.
    """

    def __init__(self, lookup: CredentialLookup, *, cleartext: bool = False,
                 channel_binding: bytes | None = None) -> None:
        self._lookup = lookup
        self._cleartext = cleartext
        self._channel_binding = channel_binding

    async def authenticate(self, user: str, database: str, exchange: AuthExchange) -> None:
        credential = await self._lookup(user)
        if credential is not None and credential.trusted:
            return
        secret = None if credential is None else credential.secret
        if self._cleartext:
            await exchange.send(AUTH_CLEARTEXT_PASSWORD)
            password = await _receive_password(exchange)
            if secret is None or not password or not check_cleartext(secret, user, password):
                raise _password_failed(user)
            return
        if secret is not None and is_md5_verifier(secret):
            salt = os.urandom(4)
            await exchange.send(AUTH_MD5_PASSWORD, salt)
            if not md5_response_matches(secret, salt, await _receive_password(exchange)):
                raise _password_failed(user)
            return
        binding = self._channel_binding if exchange.is_tls else None
        await ScramExchange(user, None if secret is None else parse_scram_verifier(secret), binding).run(exchange)
