"""The server side of a SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) over SASL messages.

    S: AuthenticationSASL          mechanisms: SCRAM-SHA-256
    C: SASLInitialResponse         n,,n=,r=<client nonce>
    S: AuthenticationSASLContinue  r=<nonce>,s=<salt>,i=<iterations>
    C: SASLResponse                c=biws,r=<nonce>,p=<proof>
    S: AuthenticationSASLFinal     v=<server signature>

As PostgreSQL does, the user name inside the SCRAM messages is ignored
(the StartupMessage named the user), and a user that does not exist or has
no SCRAM secret goes through the same exchange with a made-up secret and
fails only at the end, so a client cannot tell which users exist.

Over TLS the server also offers SCRAM-SHA-256-PLUS with channel binding
`tls-server-end-point` (RFC 5929): the client proves it talks to the holder
of the server's certificate, not to a man in the middle. A client that
could bind (flag `y`) but did not although the server offered it is
refused, as that is what a downgrade attack looks like.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from typing import TYPE_CHECKING

from common.errors import InvalidPassword
from frontend.pgwire.backend import AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL
from frontend.pgwire.framing import FatalProtocolViolation, MessageBuffer
from frontend.pgwire.password import (
    SCRAM_ITERATIONS,
    SCRAM_SHA_256,
    SCRAM_SHA_256_PLUS,
    ScramSecret,
    b64,
    hmac_sha256,
    scram_proof_matches,
    scram_server_signature,
)

if TYPE_CHECKING:
    from frontend.pgwire.auth import AuthExchange

_NONCE_BYTES = 18
# Made-up secrets for unknown users derive from this, so each name always gets the same fake salt.
_MOCK_KEY = secrets.token_bytes(32)


def _malformed(detail: str) -> FatalProtocolViolation:
    return FatalProtocolViolation("malformed SCRAM message", detail=detail)


def mock_secret(user: str) -> ScramSecret:
    salt = hmac_sha256(_MOCK_KEY, user.encode("utf-8"))[:16]
    return ScramSecret(SCRAM_ITERATIONS, salt, os.urandom(32), os.urandom(32))


def _attributes(message: str, names: str) -> list[str]:
    """The values of the leading `x=` attributes of a SCRAM message, which must come in the order `names`."""
    parts = message.split(",")
    if len(parts) < len(names):
        raise _malformed(f"expected {len(names)} attributes in {message!r}")
    values = []
    for name, part in zip(names, parts):
        if not part.startswith(name + "="):
            raise _malformed(f'expected attribute "{name}" in {message!r}')
        values.append(part[2:])
    return values


def _printable_nonce(nonce: str) -> bool:
    return bool(nonce) and all(0x21 <= ord(c) <= 0x7E and c != "," for c in nonce)


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed(f"invalid base64 in {what}") from None


class ScramExchange:
    """One exchange's state; `run` drives it through an `AuthExchange`."""

    def __init__(self, user: str, secret: ScramSecret | None, channel_binding: bytes | None = None) -> None:
        self._user = user
        self._secret = secret or mock_secret(user)
        self._real = secret is not None
        self._binding = channel_binding
        """The tls-server-end-point data of this TLS connection, or None: no binding offered."""

    async def run(self, exchange: AuthExchange) -> None:
        mechanisms = ([SCRAM_SHA_256_PLUS] if self._binding is not None else []) + [SCRAM_SHA_256]
        await exchange.send(AUTH_SASL, b"".join(m.encode("ascii") + b"\0" for m in mechanisms) + b"\0")
        gs2_header, client_first_bare, client_nonce = self._client_first(await exchange.receive())
        nonce = client_nonce + b64(os.urandom(_NONCE_BYTES))
        server_first = f"r={nonce},s={b64(self._secret.salt)},i={self._secret.iterations}"
        await exchange.send(AUTH_SASL_CONTINUE, server_first.encode("ascii"))
        final_without_proof, proof = self._client_final(await exchange.receive(), gs2_header, nonce)
        auth_message = f"{client_first_bare},{server_first},{final_without_proof}".encode()
        if not (self._real and scram_proof_matches(self._secret, auth_message, proof)):
            raise InvalidPassword(f'password authentication failed for user "{self._user}"')
        signature = scram_server_signature(self._secret, auth_message)
        await exchange.send(AUTH_SASL_FINAL, f"v={b64(signature)}".encode("ascii"))

    def _client_first(self, body: bytes) -> tuple[str, str, str]:
        buf = MessageBuffer(body)
        mechanism = buf.cstring()
        plus = mechanism == SCRAM_SHA_256_PLUS and self._binding is not None
        if mechanism != SCRAM_SHA_256 and not plus:
            raise FatalProtocolViolation("client selected an invalid SASL authentication mechanism")
        length = buf.int32()
        data = buf.raw(length) if length >= 0 else b""
        buf.end()
        try:
            message = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("client-first-message is not UTF-8") from None
        flag, _, rest = message.partition(",")
        if plus != flag.startswith("p="):
            raise FatalProtocolViolation("SCRAM channel binding negotiation error",
                                         detail="The client's channel-binding flag does not match its mechanism.")
        if plus and flag != "p=tls-server-end-point":
            raise FatalProtocolViolation(f"unsupported SCRAM channel-binding type \"{flag[2:]}\"")
        if flag == "y" and self._binding is not None:
            raise FatalProtocolViolation("SCRAM channel binding negotiation error",
                                         detail="The client supports SCRAM channel binding but thinks the server "
                                                "does not. However, this server does support channel binding.")
        if not plus and flag not in ("n", "y"):
            raise _malformed(f"unexpected channel-binding flag {flag!r}")
        authzid, _, bare = rest.partition(",")
        if authzid:
            raise FatalProtocolViolation("client uses authorization identity, but it is not supported")
        _, nonce = _attributes(bare, "nr")
        if not _printable_nonce(nonce):
            raise _malformed("invalid client nonce")
        return f"{flag},,", bare, nonce

    def _client_final(self, body: bytes, gs2_header: str, nonce: str) -> tuple[str, bytes]:
        try:
            message = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("client-final-message is not UTF-8") from None
        binding, got_nonce = _attributes(message, "cr")
        expected = gs2_header.encode("ascii")
        if gs2_header.startswith("p=") and self._binding is not None:
            expected += self._binding
        if _b64decode(binding, "channel binding") != expected:
            raise FatalProtocolViolation("SCRAM channel binding check failed")
        if got_nonce != nonce:
            raise _malformed("nonce does not match")
        head, sep, proof = message.rpartition(",p=")
        if not sep:
            raise _malformed("client proof is missing")
        return head, _b64decode(proof, "client proof")
