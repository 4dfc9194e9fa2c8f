"""The frontend node: accepts PostgreSQL connections, authenticates them, and creates a session for each.

How clients prove who they are (`--auth` of `eddy playground`):

- `password` (the default): every user proves its password, by SCRAM-SHA-256
  or MD5 as its stored verifier dictates. The one exception is the bootstrap
  superuser `root` while it has no password, so that a new cluster can be
  reached at all; `ALTER USER root PASSWORD '...'` ends that.
- `cleartext`: the same checks, but the client sends the password itself
  (for clients or proxies without SCRAM; use it only with TLS).
- `trust`: nobody is asked for a password.

In every mode the user must exist and be allowed to log in. With a
certificate and key the server also speaks TLS (`sslmode=require` and
up), and SCRAM over TLS binds to the certificate (SCRAM-SHA-256-PLUS);
`require_tls` refuses clients that do not use TLS.
"""

from __future__ import annotations

import enum
import itertools
import logging
import secrets
import ssl
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from common.catalog import DEFAULT_DATABASE
from common.errors import InvalidAuthorizationSpecification, InvalidCatalogName
from common.user import ROOT_USER_ID, UserInfo
from frontend.cluster import ComputeClient, MetaClient
from frontend.pgwire.auth import Authenticator, Credential, PasswordAuthenticator, TrustAuthenticator
from frontend.pgwire.password import tls_server_end_point
from frontend.pgwire.server import PgServer
from frontend.session import Session

log = logging.getLogger("eddy.frontend")


class AuthMode(enum.Enum):
    TRUST = "trust"
    PASSWORD = "password"
    CLEARTEXT = "cleartext"


@dataclass(frozen=True, slots=True)
class FrontendConfig:
    auth: AuthMode = AuthMode.PASSWORD
    tls_cert: str | None = None
    """PEM certificate (chain) file; with `tls_key`, clients may connect with TLS."""
    tls_key: str | None = None
    require_tls: bool = False
    """Refuse clients that do not use TLS."""

    def tls_context(self) -> ssl.SSLContext | None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate and a key file")
        if self.tls_cert is None:
            if self.require_tls:
                raise ValueError("requiring TLS needs a certificate and a key file")
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.tls_cert, self.tls_key)
        return ctx

    def channel_binding(self) -> bytes | None:
        """SCRAM's tls-server-end-point data: a hash of the server certificate (the first in the file)."""
        if self.tls_cert is None:
            return None
        with open(self.tls_cert) as f:
            pem = f.read()
        end = pem.find(ssl.PEM_FOOTER)
        return tls_server_end_point(ssl.PEM_cert_to_DER_cert(pem[:end + len(ssl.PEM_FOOTER)]))


class FrontendNode:
    """A SessionFactory over one meta client and the compute nodes it can reach."""

    def __init__(self, meta: MetaClient, compute: Callable[[], ComputeClient],
                 config: FrontendConfig | None = None) -> None:
        self.meta = meta
        self.compute = compute
        self.config = config or FrontendConfig()
        self._channel_binding = self.config.channel_binding()
        self._pids = itertools.count(1000)
        self._sessions: weakref.WeakValueDictionary[int, Session] = weakref.WeakValueDictionary()
        self.server: PgServer | None = None

    @property
    def authenticator(self) -> Authenticator:
        """Picked up by the wire server for every new connection."""
        if self.config.auth is AuthMode.TRUST:
            return TrustAuthenticator()
        return PasswordAuthenticator(self._credential, cleartext=self.config.auth is AuthMode.CLEARTEXT,
                                     channel_binding=self._channel_binding)

    def user(self, name: str) -> UserInfo | None:
        return next((u for u in self.meta.users() if u.name == name), None)

    async def _credential(self, name: str) -> Credential | None:
        user = self.user(name)
        if user is None:
            return None
        return Credential(user.password, trusted=user.id == ROOT_USER_ID and user.password is None)

    async def connect(self, user: str, database: str, options: dict[str, str]) -> Session:
        info = self.user(user)
        if info is None:
            raise InvalidAuthorizationSpecification(f'role "{user}" does not exist')
        if not info.can_login:
            raise InvalidAuthorizationSpecification(f'role "{user}" is not permitted to log in')
        if database and database != DEFAULT_DATABASE:
            raise InvalidCatalogName(f'database "{database}" does not exist')
        pid = next(self._pids)
        session = Session(self, pid, secrets.randbits(31), user, database or DEFAULT_DATABASE, options)
        self._sessions[pid] = session
        return session

    def sessions(self) -> list[Session]:
        """The open sessions (for pg_stat_activity and the like)."""
        return [s for s in self._sessions.values()]

    def cancel(self, process_id: int, secret_key: int) -> None:
        session = self._sessions.get(process_id)
        if session is not None and session.secret_key == secret_key:
            session.cancel()

    async def start(self, host: str, port: int) -> PgServer:
        c = self.config
        self.server = PgServer(self, host, port, tls=c.tls_context(), require_tls=c.require_tls)
        await self.server.start()
        log.info("frontend listening on %s:%d (auth %s%s)", host, self.server.port, c.auth.value,
                 ", TLS required" if c.require_tls else ", TLS" if c.tls_cert else "")
        return self.server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()
