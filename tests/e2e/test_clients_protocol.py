"""Protocol behaviour of a real server: garbage input, cancel requests, SQL PREPARE, what pools send on reset."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.eddy_server import EddyProcess
from tests.unit.frontend.pgwire.pgwire_rawclient import (
    FLUSH,
    SYNC,
    Message,
    RawClient,
    describe,
    msg,
    parse,
    query,
    startup_packet,
    types_of,
)
from tests.unit.frontend.pgwire.test_malformed_input import (
    bad_length,
    garbage_body,
    truncated,
    unknown_type,
    well_framed,
)

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def exchange(port: int, data: bytes) -> list[Message]:
    """A fresh session that sends `data` after startup, half-closes, and reads until the server closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(startup_packet({"user": "root", "database": "dev"}))
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = b""
        try:
            while chunk := sock.recv(65536):
                raw += chunk
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    out, pos = [], 0
    while len(raw) - pos >= 5:
        (size,) = struct.unpack_from(">i", raw, pos + 1)
        if len(raw) - pos < 1 + size:
            break
        out.append(Message(chr(raw[pos]), raw[pos + 5:pos + 1 + size]))
        pos += 1 + size
    first_ready = types_of(out).index("Z")
    return out[first_ready + 1:]


@pytest.fixture(scope="module")
def healthy(eddy: EddyProcess) -> Iterator[RawClient]:
    client = RawClient(eddy.port)
    yield client
    client.close()


def still_healthy(client: RawClient) -> None:
    client.send(query("SELECT 1"))
    out = client.until("Z")
    assert types_of(out) == "TDCZ" and out[1].data_row() == [b"1"]


@EXAMPLES
@given(st.one_of(bad_length(), unknown_type()))
def test_framing_garbage_gets_a_fatal_08p01_from_the_real_server(eddy: EddyProcess, healthy: RawClient,
                                                                 data: bytes) -> None:
    out = exchange(eddy.port, data)
    assert types_of(out) == "E"
    assert (out[0].fields()["S"], out[0].fields()["C"]) == ("FATAL", "08P01")
    still_healthy(healthy)


@EXAMPLES
@given(st.lists(st.one_of(well_framed, garbage_body()), max_size=6), st.one_of(truncated(), st.just(b"")))
def test_messages_in_any_order_never_break_the_real_server(eddy: EddyProcess, healthy: RawClient,
                                                          sequence: list[bytes], tail: bytes) -> None:
    out = exchange(eddy.port, b"".join(sequence) + SYNC + tail)
    errors = [m.fields() for m in out if m.type == "E"]
    for fields in errors:
        assert fields["C"] != "XX000", fields
        assert fields["S"] in ("ERROR", "FATAL")
    if not any(f["S"] == "FATAL" for f in errors):
        assert "Z" in types_of(out)
    still_healthy(healthy)


def test_the_server_survived_the_garbage(eddy: EddyProcess, healthy: RawClient) -> None:
    assert eddy.alive
    still_healthy(healthy)
    assert "internal error" not in eddy.log_tail(2000).lower()


@pytest.fixture(scope="module")
def big_table(eddy: EddyProcess) -> Iterator[str]:
    """About 40 MB of rows: far more than socket buffers hold, so reading them takes the client's pace."""
    with psycopg.connect(eddy.dsn, autocommit=True) as c:
        c.execute("CREATE TABLE cancel_big (id BIGINT, pad VARCHAR)")
        pad = "x" * 120
        with c.cursor().copy("COPY cancel_big FROM STDIN") as cp:
            for start in range(0, 300_000, 50_000):
                cp.write("".join(f"{i}\t{pad}\n" for i in range(start, start + 50_000)).encode())
        c.execute("FLUSH")
        yield "cancel_big"
        c.execute("DROP TABLE cancel_big")


def cancel_request(port: int, pid: int, key: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack(">iiiI", 16, 80877102, pid, key))


def test_cancel_request_stops_a_long_select(eddy: EddyProcess, big_table: str) -> None:
    c = RawClient(eddy.port)
    (key_data,) = [m for m in c.startup if m.type == "K"]
    pid, key = struct.unpack(">iI", key_data.body)
    c.send(query(f"SELECT * FROM {big_table}"))
    first = c.read()
    assert first is not None and first.type == "T"
    # The server is now blocked on a full socket, mid-result; the cancel arrives while it runs.
    cancel_request(eddy.port, pid, key)
    out = c.until("Z")
    rows = sum(1 for m in out if m.type == "D")
    errors = [m.fields() for m in out if m.type == "E"]
    assert [(e["C"], e["M"]) for e in errors] == [("57014", "canceling statement due to user request")]
    assert rows < 300_000
    c.send(query("SELECT 1"))
    assert types_of(c.until("Z")) == "TDCZ"
    c.close()


def test_a_cancel_with_the_wrong_key_is_ignored(eddy: EddyProcess) -> None:
    c = RawClient(eddy.port)
    (key_data,) = [m for m in c.startup if m.type == "K"]
    pid, key = struct.unpack(">iI", key_data.body)
    cancel_request(eddy.port, pid, key ^ 1)
    c.send(query("SELECT 1"))
    assert types_of(c.until("Z")) == "TDCZ"
    c.close()


def test_cancel_of_a_copy_waiting_for_data(eddy: EddyProcess, conn: psycopg.Connection, uid: str) -> None:
    t = f"cc_{uid}"
    conn.execute(f"CREATE TABLE {t} (a INT)")
    try:
        c = RawClient(eddy.port)
        (key_data,) = [m for m in c.startup if m.type == "K"]
        c.send(query(f"COPY {t} FROM STDIN"))
        assert c.read().type == "G"  # type: ignore[union-attr]
        c.send(msg(b"d", b"1\n2\n"))
        cancel_request(eddy.port, *struct.unpack(">iI", key_data.body))
        out = c.until("Z")  # no CopyDone was sent: only the cancel can end the COPY
        assert [m.fields()["C"] for m in out if m.type == "E"] == ["57014"]
        c.send(msg(b"c") + query("SELECT 2"))  # the client's late CopyDone is ignored
        assert types_of(c.until("Z")) == "TDCZ"
        c.close()
        conn.execute("FLUSH")
        assert conn.execute(f"SELECT count(*) FROM {t}").fetchone() == (0,)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_sql_prepare_execute_deallocate(conn: psycopg.Connection, uid: str) -> None:
    t = f"prep_{uid}"
    conn.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR, d NUMERIC(6, 2))")
    try:
        assert conn.execute(f"PREPARE ins (int, varchar, numeric) AS INSERT INTO {t} VALUES ($1, $2, $3)"
                            ).statusmessage == "PREPARE"
        assert conn.execute("EXECUTE ins (1, 'one', 1.5)").statusmessage == "INSERT 0 1"
        conn.execute("EXECUTE ins (2, 'two' || '!', 2 * 2)")
        conn.execute("FLUSH")
        conn.execute(f"PREPARE sel AS SELECT v, d FROM {t} WHERE id = $1")
        assert conn.execute("EXECUTE sel (2)").fetchall() == [("two!", 4)]
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            conn.execute("PREPARE sel AS SELECT 1")
        with pytest.raises(psycopg.errors.SyntaxError, match="wrong number of parameters"):
            conn.execute("EXECUTE sel")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            conn.execute("EXECUTE sel ('x')")
        assert conn.execute("DEALLOCATE sel").statusmessage == "DEALLOCATE"
        with pytest.raises(psycopg.errors.InvalidSqlStatementName, match='prepared statement "sel" does not exist'):
            conn.execute("EXECUTE sel (1)")
        # psycopg prepares on the protocol level; DEALLOCATE ALL drops those too, and psycopg re-prepares.
        for _ in range(3):
            assert conn.execute(f"SELECT v FROM {t} WHERE id = %s", (1,), prepare=True).fetchone() == ("one",)
        assert conn.execute("DEALLOCATE ALL").statusmessage == "DEALLOCATE ALL"
        assert conn.execute(f"SELECT v FROM {t} WHERE id = %s", (1,), prepare=True).fetchone() == ("one",)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {t}")


def test_pool_reset_and_session_statements(conn: psycopg.Connection) -> None:
    conn.execute("SET application_name = 'pooled'")
    conn.execute("SET extra_float_digits = 3")
    conn.execute("SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;")
    assert conn.execute("SHOW application_name").fetchone() == ("",)
    assert conn.execute("DISCARD ALL").statusmessage == "DISCARD ALL"
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        conn.execute("LISTEN channel")


def test_parameter_types_are_inferred_for_unknown_oids(eddy: EddyProcess) -> None:
    c = RawClient(eddy.port)
    c.send(parse("SELECT $1 + 1, $2 || 'x', $3 = now()", "s") + describe(b"S", "s") + FLUSH)
    out = c.until("T")
    assert types_of(out) == "1tT"
    (n,) = struct.unpack_from(">h", out[1].body)
    assert struct.unpack_from(f">{n}I", out[1].body, 2) == (23, 1043, 1184)
    c.send(SYNC + query("") + query(";"))
    assert types_of(c.until("Z")) == "Z"
    assert types_of(c.until("Z")) == "IZ"
    assert types_of(c.until("Z")) == "IZ"
    c.close()
