"""Password authentication on the wire: SCRAM-SHA-256, MD5 and cleartext with real clients, and bad exchanges."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import ssl
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import psycopg
import psycopg2
import pytest

from common.errors import ProtocolViolation
from frontend.pgwire.auth import Credential, PasswordAuthenticator
from frontend.pgwire.password import md5_verifier, scram_verifier, tls_server_end_point
from tests.unit.frontend.pgwire.pgwire_harness import ServerThread
from tests.unit.frontend.pgwire.pgwire_rawclient import Message, RawClient, cstr, msg, startup_packet

CREDENTIALS = {
    "scram": Credential(scram_verifier("s3cret")),
    "md5user": Credential(md5_verifier("md5user", "m5pass")),
    "nopass": Credential(None),
    "root": Credential(None, trusted=True),
}
PASSWORDS = {"scram": "s3cret", "md5user": "m5pass"}


async def lookup(user: str) -> Credential | None:
    return CREDENTIALS.get(user)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    s = ServerThread(authenticator=PasswordAuthenticator(lookup))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def cleartext_server() -> Iterator[ServerThread]:
    s = ServerThread(authenticator=PasswordAuthenticator(lookup, cleartext=True))
    yield s
    s.stop()


def dsn(port: int, user: str, password: str | None) -> str:
    pw = "" if password is None else f" password={password}"
    return f"host=127.0.0.1 port={port} user={user} dbname=dev sslmode=disable{pw}"


def read(c: RawClient) -> Message:
    reply = c.read()
    assert reply is not None, "the server closed the connection"
    return reply


def first_auth_request(port: int, user: str) -> int:
    c = RawClient(port, startup=False)
    c.send(startup_packet({"user": user, "database": "dev"}))
    reply = read(c)
    assert reply.type == "R"
    return struct.unpack_from(">i", reply.body)[0]


@pytest.mark.parametrize("user", ["scram", "md5user"])
def test_psycopg_and_psycopg2_log_in_with_the_right_password(server: ServerThread, user: str) -> None:
    with psycopg.connect(dsn(server.port, user, PASSWORDS[user])) as conn:
        assert conn.execute("SELECT 7").fetchone() == (7,)
    conn2 = psycopg2.connect(dsn(server.port, user, PASSWORDS[user]))
    try:
        cur = conn2.cursor()
        cur.execute("SELECT 8")
        assert cur.fetchone() == (8,)
    finally:
        conn2.close()


@pytest.mark.parametrize("user", ["scram", "md5user"])
def test_asyncpg_logs_in_and_wrong_passwords_fail(server: ServerThread, user: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user=user, password=PASSWORDS[user],
                                     database="dev", ssl=False)
        assert await conn.fetchval("SELECT 9") == 9
        await conn.close()
        with pytest.raises(asyncpg.InvalidPasswordError, match=f'password authentication failed for user "{user}"'):
            await asyncpg.connect(host="127.0.0.1", port=server.port, user=user, password="wrong", database="dev",
                                  ssl=False)

    asyncio.run(run())


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
@pytest.mark.parametrize(("user", "password", "ok"), [("scram", "s3cret", True), ("scram", "guess", False),
                                                      ("md5user", "m5pass", True), ("md5user", "s3cret", False),
                                                      ("nopass", "anything", False), ("ghost", "s3cret", False)])
def test_psql(server: ServerThread, user: str, password: str, ok: bool) -> None:
    out = subprocess.run(["psql", "-X", "-A", "-t", "-c", "SELECT 1", dsn(server.port, user, None)],
                         env={**os.environ, "PGPASSWORD": password}, capture_output=True, text=True, timeout=60)
    if ok:
        assert (out.returncode, out.stdout.strip()) == (0, "1"), out.stderr
    else:
        assert out.returncode != 0
        assert f'FATAL:  password authentication failed for user "{user}"' in out.stderr


def test_a_failed_login_creates_no_session(server: ServerThread) -> None:
    connects_before = len(server.factory.connects)
    with pytest.raises(psycopg.OperationalError, match='password authentication failed for user "scram"'):
        psycopg.connect(dsn(server.port, "scram", "nope"))
    with pytest.raises(psycopg.OperationalError, match='password authentication failed for user "md5user"'):
        psycopg.connect(dsn(server.port, "md5user", "nope"))
    assert len(server.factory.connects) == connects_before


def test_method_follows_the_stored_verifier_and_unknown_users_look_like_scram_users(server: ServerThread) -> None:
    assert first_auth_request(server.port, "scram") == 10  # AuthenticationSASL
    assert first_auth_request(server.port, "md5user") == 5  # AuthenticationMD5Password
    assert first_auth_request(server.port, "ghost") == 10
    assert first_auth_request(server.port, "nopass") == 10
    assert first_auth_request(server.port, "root") == 0  # trusted: AuthenticationOk at once


def test_cleartext_mode_checks_either_verifier(cleartext_server: ServerThread) -> None:
    assert first_auth_request(cleartext_server.port, "scram") == 3
    for user, password in PASSWORDS.items():
        with psycopg.connect(dsn(cleartext_server.port, user, password)) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn(cleartext_server.port, user, password + "!"))


# -- malformed SCRAM exchanges: FATAL, no session, and the server stays up ------------------

def sasl_initial(mechanism: str, data: bytes) -> bytes:
    return msg(b"p", cstr(mechanism) + struct.pack(">i", len(data)) + data)


def fatal_after(server: ServerThread, *messages: bytes) -> dict[str, str]:
    c = RawClient(server.port, startup=False)
    c.send(startup_packet({"user": "scram", "database": "dev"}))
    assert read(c).type == "R"
    out: list[Message] = []
    for m in messages:
        c.send(m)
        reply = read(c)
        out.append(reply)
        if reply.type == "E":
            break
    errors = [m.fields() for m in out if m.type == "E"]
    assert len(errors) == 1, out
    return errors[0]


@pytest.mark.parametrize(("first", "code"), [
    (sasl_initial("SCRAM-SHA-1", b"n,,n=,r=abc"), "08P01"),
    (sasl_initial("SCRAM-SHA-256", b"x,,n=,r=abc"), "08P01"),
    (sasl_initial("SCRAM-SHA-256", b"p=tls-unique,,n=,r=abc"), "08P01"),
    (sasl_initial("SCRAM-SHA-256", b"n,a=someone,n=,r=abc"), "08P01"),
    (sasl_initial("SCRAM-SHA-256", b"n,,r=abc"), "08P01"),
    (sasl_initial("SCRAM-SHA-256", b"n,,n=,r="), "08P01"),
    (sasl_initial("SCRAM-SHA-256", b"n,,n=,r=\xff"), "08P01"),
    (msg(b"p", cstr("SCRAM-SHA-256") + struct.pack(">i", 50) + b"short"), "08P01"),
])
def test_malformed_client_first_messages(server: ServerThread, first: bytes, code: str) -> None:
    fields = fatal_after(server, first)
    assert (fields["S"], fields["C"]) == ("FATAL", code)
    with psycopg.connect(dsn(server.port, "scram", "s3cret")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize(("final", "code"), [
    (lambda nonce: f"c=biws,r={nonce},p={base64.b64encode(b'x' * 32).decode()}", "28P01"),
    (lambda nonce: f"c=biws,r={nonce}X,p={base64.b64encode(b'x' * 32).decode()}", "08P01"),
    (lambda nonce: f"c=eSws,r={nonce},p={base64.b64encode(b'x' * 32).decode()}", "08P01"),
    (lambda nonce: f"c=biws,r={nonce}", "08P01"),
    (lambda nonce: f"c=biws,r={nonce},p=!!notbase64", "08P01"),
])
def test_bad_client_final_messages(server: ServerThread, final: Callable[[str], str], code: str) -> None:
    c = RawClient(server.port, startup=False)
    c.send(startup_packet({"user": "scram", "database": "dev"}))
    read(c)
    c.send(sasl_initial("SCRAM-SHA-256", b"n,,n=,r=clientnonce"))
    cont = read(c)
    assert struct.unpack_from(">i", cont.body)[0] == 11
    server_first = cont.body[4:].decode()
    nonce = server_first.split(",")[0][2:]
    assert nonce.startswith("clientnonce")
    c.send(msg(b"p", final(nonce).encode()))
    fields = read(c).fields()
    assert (fields["S"], fields["C"]) == ("FATAL", code)


# -- SCRAM-SHA-256-PLUS: channel binding to the server certificate over TLS -----------------

def make_certificate(directory: Path, digest: str, key: str) -> tuple[Path, Path]:
    label = f"{digest}-{key.split(':')[0]}"
    cert, keyfile = directory / f"{label}.pem", directory / f"{label}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", key, "-nodes", "-days", "1", f"-{digest}", "-subj",
                    "/CN=localhost", "-keyout", str(keyfile), "-out", str(cert)], check=True, capture_output=True)
    return cert, keyfile


def binding_server(cert: Path, key: Path, binding_of: Path) -> ServerThread:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    der = ssl.PEM_cert_to_DER_cert(binding_of.read_text())
    return ServerThread(tls=ctx, authenticator=PasswordAuthenticator(lookup, channel_binding=tls_server_end_point(der)))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@pytest.mark.parametrize(("digest", "key"), [("sha256", "rsa:2048"), ("sha384", "rsa:2048"), ("sha512", "rsa:2048"),
                                             ("sha384", "ec"), ("sha512", "ec")])
def test_libpq_requires_and_verifies_channel_binding(tmp_path: Path, digest: str, key: str) -> None:
    if key == "ec":
        params = tmp_path / "ec.pem"
        subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-out", str(params)], check=True)
        key = f"ec:{params}"
    cert, keyfile = make_certificate(tmp_path, digest, key)
    server = binding_server(cert, keyfile, cert)
    try:
        # libpq computes the binding from the certificate it received, with the signature's hash.
        with psycopg.connect(dsn(server.port, "scram", "s3cret").replace("sslmode=disable", "sslmode=require") +
                             " channel_binding=require") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        # Without TLS there is nothing to bind to, and a client that insists gets no connection.
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(dsn(server.port, "scram", "s3cret") + " channel_binding=require")
        with psycopg.connect(dsn(server.port, "scram", "s3cret")) as conn:
            assert conn.execute("SELECT 2").fetchone() == (2,)
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_a_binding_to_another_certificate_fails(tmp_path: Path) -> None:
    cert, keyfile = make_certificate(tmp_path, "sha256", "rsa:2048")
    other, _ = make_certificate(tmp_path, "sha384", "rsa:2048")
    server = binding_server(cert, keyfile, other)
    try:
        with pytest.raises(psycopg.OperationalError, match="SCRAM channel binding check failed"):
            psycopg.connect(dsn(server.port, "scram", "s3cret").replace("sslmode=disable", "sslmode=require"))
    finally:
        server.stop()


def test_a_client_that_could_bind_but_did_not_is_refused_when_binding_was_offered(server: ServerThread) -> None:
    class TlsExchange:
        def __init__(self) -> None:
            self.sent: list[tuple[int, bytes]] = []

        async def send(self, code: int, data: bytes = b"") -> None:
            self.sent.append((code, data))

        async def receive(self) -> bytes:
            return cstr("SCRAM-SHA-256") + struct.pack(">i", 11) + b"y,,n=,r=abc"

        @property
        def is_tls(self) -> bool:
            return True

    exchange = TlsExchange()
    auth = PasswordAuthenticator(lookup, channel_binding=b"x" * 32)
    with pytest.raises(ProtocolViolation, match="SCRAM channel binding negotiation error"):
        asyncio.run(auth.authenticate("scram", "dev", exchange))
    assert exchange.sent == [(10, b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0")]
