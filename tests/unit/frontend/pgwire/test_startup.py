"""The startup phase over a raw socket: negotiation packets, cancel requests, startup errors, authentication."""

from __future__ import annotations

import socket
import ssl
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontend.pgwire.auth import CleartextPasswordAuthenticator
from tests.unit.frontend.pgwire.pgwire_harness import ServerThread, tls_server, wait_until
from tests.unit.frontend.pgwire.pgwire_rawclient import Message, RawClient, cstr, msg, query, startup_packet, types_of

USER = {"user": "root", "database": "dev"}


def packet(code: int, body: bytes = b"") -> bytes:
    return struct.pack(">ii", 8 + len(body), code) + body


SSL_REQUEST = packet(80877103)
GSSENC_REQUEST = packet(80877104)


def only_error(messages: list[Message]) -> dict[str, str]:
    assert types_of(messages)[-1] == "E", types_of(messages)
    return messages[-1].fields()


def test_startup_parameters_reach_the_factory(pg: ServerThread) -> None:
    RawClient(pg.port, params={"user": "alice", "database": "shop", "application_name": "probe",
                               "client_encoding": "'utf-8'", "options": "-c search_path=x"})
    assert pg.factory.connects == [("alice", "shop", {"application_name": "probe", "client_encoding": "'utf-8'",
                                                      "options": "-c search_path=x"})]


def test_database_defaults_to_the_user(pg: ServerThread) -> None:
    RawClient(pg.port, params={"user": "bob"})
    assert pg.factory.connects[0][:2] == ("bob", "bob")


def test_ssl_and_gssenc_requests_are_declined_without_tls(pg: ServerThread) -> None:
    c = RawClient(pg.port, startup=False)
    c.send(GSSENC_REQUEST)
    assert c.read_byte() == b"N"
    c.send(SSL_REQUEST)
    assert c.read_byte() == b"N"
    c.send(startup_packet(USER))
    assert types_of(c.until("Z"))[0] == "R"
    c.send(query("SELECT 1"))
    assert types_of(c.until("Z")) == "TDCZ"


def test_a_second_ssl_request_is_a_protocol_violation(pg: ServerThread) -> None:
    c = RawClient(pg.port, startup=False)
    c.send(SSL_REQUEST)
    assert c.read_byte() == b"N"
    c.send(SSL_REQUEST)
    fields = only_error(c.rest())
    assert (fields["S"], fields["C"]) == ("FATAL", "08P01")


def test_newer_minor_version_and_protocol_options_are_negotiated_down(pg: ServerThread) -> None:
    c = RawClient(pg.port, startup=False)
    c.send(startup_packet({**USER, "_pq_.compression": "on"}, version=(3 << 16) | 2))
    out = c.until("Z")
    assert out[0].type == "v"
    assert out[0].body == struct.pack(">ii", 0, 1) + cstr("_pq_.compression")
    assert out[1].body == struct.pack(">i", 0)
    assert "_pq_.compression" not in pg.factory.connects[0][2]


@pytest.mark.parametrize(("data", "sqlstate", "message"), [
    (startup_packet(USER, version=2 << 16), "0A000", "unsupported frontend protocol 2.0: server supports 3.0 to 3.0"),
    (startup_packet({"database": "dev"}), "28000", "no PostgreSQL user name specified in startup packet"),
    (struct.pack(">ii", 12, 3 << 16) + b"user", "08P01",
     "invalid startup packet layout: expected terminator as last byte"),
    (struct.pack(">i", 7) + b"\0\0\0", "08P01", "invalid length of startup packet"),
    (struct.pack(">i", 10_001), "08P01", "invalid length of startup packet"),
    (struct.pack(">i", -1), "08P01", "invalid length of startup packet"),
    (startup_packet({**USER, "database": "nope"}), "3D000", 'database "nope" does not exist'),
])
def test_startup_errors_are_fatal(pg: ServerThread, data: bytes, sqlstate: str, message: str) -> None:
    c = RawClient(pg.port, startup=False)
    c.send(data)
    fields = only_error(c.rest())
    assert (fields["S"], fields["C"], fields["M"]) == ("FATAL", sqlstate, message)
    wait_until(lambda: pg.server.connection_count == 0, "the connection to end")


def test_unknown_database_fails_after_authentication(pg: ServerThread) -> None:
    c = RawClient(pg.port, startup=False)
    c.send(startup_packet({**USER, "database": "nope"}))
    assert types_of(c.rest()) == "RE"


def test_cancel_request_cancels_the_running_statement(pg: ServerThread) -> None:
    victim = RawClient(pg.port)
    pid, key = struct.unpack(">iI", victim.startup[-2].body)
    victim.send(query("SELECT pg_sleep(60)"))
    assert pg.factory.sleeping.wait(10)
    canceller = RawClient(pg.port, startup=False)
    canceller.send(packet(80877102, struct.pack(">iI", pid, key + 1)))
    assert canceller.rest() == []
    canceller = RawClient(pg.port, startup=False)
    canceller.send(packet(80877102, struct.pack(">iI", pid, key)))
    assert canceller.rest() == []
    out = victim.until("Z")
    assert types_of(out) == "EZ"
    assert out[0].fields()["C"] == "57014"
    assert out[0].fields()["M"] == "canceling statement due to user request"
    assert pg.factory.cancels == [(pid, key + 1), (pid, key)]
    victim.send(query("SELECT 1"))
    assert types_of(victim.until("Z")) == "TDCZ"


def test_require_tls_refuses_plaintext() -> None:
    server = ServerThread(tls=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), require_tls=True)
    try:
        c = RawClient(server.port, startup=False)
        c.send(startup_packet(USER))
        fields = only_error(c.rest())
        assert (fields["S"], fields["C"]) == ("FATAL", "28000")
        assert server.factory.connects == []
    finally:
        server.stop()


@pytest.fixture
def password_server() -> Iterator[ServerThread]:
    async def check(user: str, password: str) -> bool:
        return (user, password) == ("root", "s3cret")

    server = ServerThread(authenticator=CleartextPasswordAuthenticator(check))
    yield server
    server.stop()


def test_cleartext_password_accepted(password_server: ServerThread) -> None:
    c = RawClient(password_server.port, startup=False)
    c.send(startup_packet(USER))
    assert c.read() == Message("R", struct.pack(">i", 3))
    c.send(msg(b"p", cstr("s3cret")))
    assert types_of(c.until("Z"))[0] == "R"


def test_cleartext_password_refused(password_server: ServerThread) -> None:
    c = RawClient(password_server.port, startup=False)
    c.send(startup_packet(USER))
    c.read()
    c.send(msg(b"p", cstr("guess")))
    fields = only_error(c.rest())
    assert (fields["S"], fields["C"], fields["M"]) == ("FATAL", "28P01", 'password authentication failed for user "root"')
    assert password_server.factory.connects == []


def test_a_query_instead_of_a_password_is_a_protocol_violation(password_server: ServerThread) -> None:
    c = RawClient(password_server.port, startup=False)
    c.send(startup_packet(USER))
    c.read()
    c.send(query("SELECT 1"))
    assert only_error(c.rest())["C"] == "08P01"


def test_a_client_that_never_finishes_startup_is_dropped() -> None:
    server = ServerThread(startup_timeout=0.2)
    try:
        c = RawClient(server.port, startup=False)
        c.send(struct.pack(">i", 50))  # a length, then nothing
        fields = only_error(c.rest())
        assert (fields["S"], fields["C"], fields["M"]) == ("FATAL", "57014", "canceling authentication due to timeout")
        wait_until(lambda: server.server.connection_count == 0, "the connection to end")
    finally:
        server.stop()


def test_tls_session(certificate: tuple[Path, Path]) -> None:
    server = tls_server(certificate, require_tls=True)
    try:
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        raw.sendall(SSL_REQUEST)
        assert raw.recv(1) == b"S"
        client_ctx = ssl.create_default_context()
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        with client_ctx.wrap_socket(raw) as tls:
            tls.sendall(startup_packet(USER))
            data = b""
            while not data.endswith(b"Z\0\0\0\x05I"):
                chunk = tls.recv(65536)
                assert chunk, "server closed the TLS session"
                data += chunk
            assert data.startswith(b"R\0\0\0\x08\0\0\0\0")
    finally:
        server.stop()


def test_plaintext_sent_with_the_ssl_request_is_refused(certificate: tuple[Path, Path]) -> None:
    # Bytes after an SSLRequest but before the handshake could be injected by a
    # man in the middle; PostgreSQL refuses them (CVE-2021-23214), so do we.
    server = tls_server(certificate)
    try:
        c = RawClient(server.port, startup=False)
        c.send(SSL_REQUEST + startup_packet(USER))
        fields = only_error(c.rest())
        assert (fields["S"], fields["C"], fields["M"]) == ("FATAL", "08P01", "received unencrypted data after SSL request")
    finally:
        server.stop()


def test_a_failed_tls_handshake_ends_only_that_connection(certificate: tuple[Path, Path]) -> None:
    server = tls_server(certificate)
    try:
        c = RawClient(server.port, startup=False)
        c.send(SSL_REQUEST)
        assert c.read_byte() == b"S"
        c.send(b"this is not a TLS ClientHello" * 10)
        c.sock.shutdown(socket.SHUT_WR)
        while c.sock.recv(4096):
            pass
        wait_until(lambda: server.server.connection_count == 0, "the connection to end")
        assert types_of(RawClient(server.port).startup)[-1] == "Z"
    finally:
        server.stop()
