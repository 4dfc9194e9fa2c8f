"""Malformed input from raw sockets: the server answers 08P01 or closes, never errs internally, never dies.

Each example opens a connection, sends its bytes, half-closes the socket and
reads every answer until the server closes. Beside them one healthy session
runs a query after every example, and at the end every bad connection and
its session must be gone.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.frontend.pgwire.pgwire_harness import ServerThread, wait_until
from tests.unit.frontend.pgwire.pgwire_rawclient import (
    FLUSH,
    SYNC,
    Message,
    RawClient,
    bind,
    close,
    describe,
    execute,
    parse,
    query,
    startup_packet,
    types_of,
)

QUERY_TYPES = b"BCDEFHPQSXcdf"
LARGE_TYPES = b"BFPQd"
SMALL_LIMIT = 10_000
LARGE_LIMIT = (1 << 30) - 1
STARTUP = startup_packet({"user": "root", "database": "dev"})
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    s = ServerThread()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def healthy(server: ServerThread) -> Iterator[RawClient]:
    client = RawClient(server.port)
    yield client
    client.close()


def exchange(port: int, data: bytes, *, startup: bool = True) -> tuple[list[Message], bytes]:
    """Send `data` (after a normal startup unless told not to), half-close, and read until the server closes.

    Returns the messages after startup and any trailing bytes that do not form a whole message.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        if startup:
            sock.sendall(STARTUP)
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may hang up before it has read everything
        raw = b""
        try:
            while chunk := sock.recv(65536):
                raw += chunk
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    messages = []
    pos = 0
    if not startup:
        # Answers to SSLRequest and GSSENCRequest are single bytes, not messages.
        while raw[pos:pos + 1] == b"N":
            pos += 1
    while len(raw) - pos >= 5:
        (size,) = struct.unpack_from(">i", raw, pos + 1)
        assert size >= 4, f"server sent a bad length {size}"
        if len(raw) - pos < 1 + size:
            break
        messages.append(Message(chr(raw[pos]), raw[pos + 5:pos + 1 + size]))
        pos += 1 + size
    if startup:
        assert types_of(messages[:13]) == "R" + "S" * 11 + "K", types_of(messages)
        messages = messages[14:]
    return messages, raw[pos:]


def errors(messages: list[Message]) -> list[dict[str, str]]:
    return [m.fields() for m in messages if m.type == "E"]


def still_healthy(client: RawClient) -> None:
    client.send(query("SELECT 1"))
    out = client.until("Z")
    assert types_of(out) == "TDCZ"
    assert out[1].data_row() == [b"1"]


def header(msg_type: int, length: int) -> bytes:
    return bytes([msg_type]) + struct.pack(">i", length)


# -- strategies -----------------------------------------------------------

bad_small_length = st.one_of(st.integers(-(2**31), 3), st.integers(SMALL_LIMIT + 1, 2**31 - 1))
bad_large_length = st.one_of(st.integers(-(2**31), 3), st.integers(LARGE_LIMIT + 1, 2**31 - 1))


@st.composite
def bad_length(draw: st.DrawFn) -> bytes:
    msg_type = draw(st.sampled_from(QUERY_TYPES))
    length = draw(bad_large_length if msg_type in LARGE_TYPES else bad_small_length)
    return header(msg_type, length) + draw(st.binary(max_size=16))


@st.composite
def unknown_type(draw: st.DrawFn) -> bytes:
    msg_type = draw(st.integers(0, 255).filter(lambda t: t not in QUERY_TYPES))
    return header(msg_type, draw(st.integers(-(2**31), 2**31 - 1))) + draw(st.binary(max_size=16))


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    msg_type = draw(st.sampled_from(QUERY_TYPES))
    body = draw(st.binary(min_size=1, max_size=64))
    cut = draw(st.integers(0, len(body) - 1))
    return header(msg_type, len(body) + 4) + body[:cut]


def _names() -> st.SearchStrategy[str]:
    return st.sampled_from(["", "s", "p", "__asyncpg_stmt_1__"])


_valid_sql = st.sampled_from(["SELECT 1", "SELECT $1::int4", "SELECT * FROM generate_series(1, 5)", "BEGIN",
                              "COMMIT", "SELECT * FROM all_types", "SELEC 1", "", "SELECT 1/0"])
well_framed = st.one_of(
    st.builds(lambda sql, name, oids: parse(sql, name, tuple(oids)), _valid_sql, _names(),
              st.lists(st.sampled_from([0, 23, 17, 99999, 705]), max_size=3)),
    st.builds(lambda p, s, params, pf, rf: bind(tuple(params), p, s, tuple(pf), tuple(rf)), _names(), _names(),
              st.lists(st.none() | st.binary(max_size=8), max_size=3),
              st.lists(st.integers(-1, 2), max_size=3), st.lists(st.integers(-1, 2), max_size=3)),
    st.builds(describe, st.sampled_from([b"S", b"P", b"x"]), _names()),
    st.builds(execute, _names(), st.integers(-(2**31), 2**31 - 1)),
    st.builds(close, st.sampled_from([b"S", b"P", b"?"]), _names()),
    st.just(SYNC), st.just(FLUSH),
    st.builds(query, _valid_sql),
)


@st.composite
def garbage_body(draw: st.DrawFn) -> bytes:
    msg_type = draw(st.sampled_from(b"BCDEFHPQScdf"))
    body = draw(st.binary(max_size=48))
    return bytes([msg_type]) + struct.pack(">i", len(body) + 4) + body


# -- tests ----------------------------------------------------------------

@EXAMPLES
@given(st.one_of(bad_length(), unknown_type()))
def test_bad_lengths_and_unknown_types_get_a_fatal_08P01(server: ServerThread, healthy: RawClient,
                                                         data: bytes) -> None:
    messages, rest = exchange(server.port, data)
    assert rest == b""
    assert types_of(messages) == "E"
    fields = messages[0].fields()
    assert (fields["S"], fields["C"]) == ("FATAL", "08P01")
    still_healthy(healthy)


@EXAMPLES
@given(st.lists(st.one_of(well_framed, garbage_body()), max_size=8), st.one_of(truncated(), st.just(b"")))
def test_messages_out_of_order_or_with_garbage_bodies(server: ServerThread, healthy: RawClient,
                                                      sequence: list[bytes], tail: bytes) -> None:
    messages, rest = exchange(server.port, b"".join(sequence) + SYNC + tail)
    assert rest == b""
    for fields in errors(messages):
        assert len(fields["C"]) == 5
        assert fields["C"] != "XX000", fields
        assert fields["S"] in ("ERROR", "FATAL")
    if not any(f["S"] == "FATAL" for f in errors(messages)):
        # Whatever came before, the Sync gets its ReadyForQuery.
        assert "Z" in types_of(messages)
    still_healthy(healthy)


@EXAMPLES
@given(st.one_of(
    st.binary(max_size=40),
    st.builds(lambda n, body: struct.pack(">i", n) + body,
              st.one_of(st.integers(-(2**31), 7), st.integers(10_001, 2**31 - 1), st.integers(8, 64)),
              st.binary(max_size=64)),
    st.builds(lambda code, body: struct.pack(">ii", 8 + len(body), code) + body,
              st.one_of(st.integers(0, 2**32 - 1).map(lambda c: c - 2**31),
                        st.sampled_from([80877102, 80877103, 80877104, 3 << 16, (3 << 16) | 1, 2 << 16])),
              st.binary(max_size=64)),
))
def test_malformed_startup_packets(server: ServerThread, healthy: RawClient, data: bytes) -> None:
    messages, _ = exchange(server.port, data, startup=False)
    for fields in errors(messages):
        # Protocol violation, unsupported protocol version, no user name, or a name that is not UTF-8.
        assert fields["S"] == "FATAL"
        assert fields["C"] in ("08P01", "0A000", "28000", "22021"), fields
    still_healthy(healthy)


def test_no_connection_or_session_outlives_its_client(server: ServerThread, healthy: RawClient) -> None:
    wait_until(lambda: server.server.connection_count == 1, "bad connections to end")
    wait_until(lambda: len(server.factory.sessions) == 1, "bad sessions to close")
    assert len(server.factory.closed) == len(server.factory.connects) - 1
    still_healthy(healthy)
