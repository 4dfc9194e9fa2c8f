"""The COPY sub-protocol and DECLAREd cursors as portals, message by message, and with psycopg."""

from __future__ import annotations

import struct

import psycopg
import pyarrow as pa
import pytest

from frontend.pgwire.copy import copy_data_messages
from tests.unit.frontend.pgwire.pgwire_harness import ServerThread
from tests.unit.frontend.pgwire.pgwire_rawclient import (
    FLUSH,
    SYNC,
    Message,
    RawClient,
    bind,
    close,
    describe,
    execute,
    msg,
    parse,
    query,
    types_of,
)


@pytest.fixture
def client(pg: ServerThread) -> RawClient:
    return RawClient(pg.port)


def copy_data(data: bytes) -> bytes:
    return msg(b"d", data)


COPY_DONE = msg(b"c")


def copy_response(m: Message) -> tuple[int, list[int]]:
    overall, n = struct.unpack_from(">bh", m.body)
    return overall, list(struct.unpack_from(f">{n}h", m.body, 3))


def test_copy_in_over_simple_query(pg: ServerThread, client: RawClient) -> None:
    client.send(query("COPY t FROM STDIN"))
    response = client.read()
    assert response is not None and response.type == "G"
    assert copy_response(response) == (0, [0, 0])
    client.send(copy_data(b"1\ta\n2\t") + FLUSH + copy_data(b"b\n") + SYNC + copy_data(b"3\tc\n") + COPY_DONE)
    out = client.until("Z")
    assert types_of(out) == "CZ"
    assert out[0].text() == "COPY 3"
    assert pg.factory.copied == [b"1\ta\n2\tb\n3\tc\n"]


def test_copy_fail_ends_the_copy_with_57014(pg: ServerThread, client: RawClient) -> None:
    client.send(query("COPY t FROM STDIN; SELECT 5"))
    client.read()
    client.send(copy_data(b"1\ta\n") + msg(b"f", b"the user gave up\0"))
    out = client.until("Z")
    assert types_of(out) == "EZ"
    fields = out[0].fields()
    assert (fields["C"], fields["M"]) == ("57014", "COPY from stdin failed: the user gave up")
    assert pg.factory.copied == []
    client.send(query("SELECT 6"))
    assert types_of(client.until("Z")) == "TDCZ"


def test_another_message_during_copy_is_a_protocol_error(client: RawClient) -> None:
    client.send(query("COPY t FROM STDIN"))
    client.read()
    client.send(copy_data(b"1\ta\n") + query("SELECT 1"))
    out = client.until("Z")
    assert types_of(out) == "EZ"
    assert out[0].fields()["C"] == "08P01"
    assert "during COPY from stdin" in out[0].fields()["M"]


def test_an_error_midway_ignores_the_rest_of_the_data(client: RawClient) -> None:
    client.send(query("COPY bad FROM STDIN"))
    client.read()
    client.send(copy_data(b"1\ta\n") + copy_data(b"2\tb\tc\n"))
    out = client.until("Z")
    assert types_of(out) == "EZ"
    assert out[0].fields()["C"] == "22P04"
    # The client, not having read the error yet, finishes its copy; all of it is ignored.
    client.send(copy_data(b"3\tc\n") + COPY_DONE + query("SELECT 4"))
    out = client.until("Z")
    assert types_of(out) == "TDCZ"
    assert out[1].data_row() == [b"4"]


def test_copy_in_over_the_extended_protocol(pg: ServerThread, client: RawClient) -> None:
    client.send(parse("COPY t FROM STDIN") + bind() + describe(b"P") + execute() + FLUSH)
    out = client.until("G")
    assert types_of(out) == "12nG"
    # As libpq does: Sync after CopyDone (a Sync during the copy would be ignored).
    client.send(copy_data(b"9\tz\n") + COPY_DONE + SYNC)
    out = client.until("Z")
    assert types_of(out) == "CZ"
    assert out[0].text() == "COPY 1"


def test_copy_out_sends_one_copy_data_per_row(client: RawClient) -> None:
    client.send(query("COPY t5 TO STDOUT WITH CSV HEADER"))
    out = client.until("Z")
    assert types_of(out) == "H" + "d" * 6 + "cCZ"
    assert copy_response(out[0]) == (0, [0, 0])
    assert [m.body for m in out[1:7]] == [b"id,name\n", b"1\ta\n", b"2\tb\n", b"3\tc\n", b"4\td\n", b"5\te\n"]
    assert out[-2].text() == "COPY 5"


def test_psycopg_copies_both_ways(pg: ServerThread) -> None:
    dsn = f"host=127.0.0.1 port={pg.port} user=root dbname=dev"
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy("COPY t FROM STDIN") as cp:
            cp.write_row((1, "x"))
            cp.write_row((2, None))
        assert cur.rowcount == 2
        with cur.copy("COPY t3 TO STDOUT") as cp:
            assert list(cp.rows()) == [("1", "a"), ("2", "b"), ("3", "c")]
    assert pg.factory.copied == [b"1\tx\n2\t\\N\n"]


@pytest.mark.parametrize("rows", [[], [""], ["a\n"], ["x" * 70_000, "", "é\n"], [f"{i}\n" for i in range(1000)]])
def test_copy_data_messages_frame_each_row(rows: list[str]) -> None:
    arr = pa.array(["skipped", *rows], pa.string()).slice(1)
    expected = b"".join(b"d" + struct.pack(">i", len(r.encode()) + 4) + r.encode() for r in rows)
    assert copy_data_messages(arr) == expected
    assert copy_data_messages(arr.cast(pa.large_string())) == expected


# -- cursors opened by DECLARE are portals too -------------------------------------------

def test_describe_portal_of_a_declared_cursor(client: RawClient) -> None:
    client.send(query("DECLARE c1 CURSOR FOR SELECT 1; DECLARE c2 BINARY CURSOR FOR SELECT 1"))
    client.until("Z")
    client.send(describe(b"P", "c1") + describe(b"P", "c2") + SYNC)
    out = client.until("Z")
    assert types_of(out) == "TTZ"
    assert [c[0] for c in out[0].row_description()] == ["x", "y"]
    assert [c[-1] for c in out[0].row_description()] == [0, 0]
    assert [c[-1] for c in out[1].row_description()] == [1, 1]


def test_binding_or_closing_a_declared_cursor_name(pg: ServerThread, client: RawClient) -> None:
    client.send(query("DECLARE c1 CURSOR FOR SELECT 1"))
    client.until("Z")
    client.send(parse("SELECT 1") + bind(portal="c1") + SYNC)
    out = client.until("Z")
    assert out[1].fields()["C"] == "42P03"
    client.send(close(b"P", "c1") + describe(b"P", "c1") + SYNC)
    out = client.until("Z")
    assert types_of(out) == "3EZ"
    assert out[1].fields()["C"] == "34000"
    (session,) = pg.factory.sessions.values()
    assert session.cursors == {}


def test_parsed_statements_live_in_the_session(pg: ServerThread, client: RawClient) -> None:
    client.send(parse("SELECT 1", "s1") + SYNC)
    client.until("Z")
    (session,) = pg.factory.sessions.values()
    assert set(session.statements) == {"s1"}
    del session.statements["s1"]  # what DEALLOCATE does
    client.send(bind(stmt="s1") + SYNC)
    out = client.until("Z")
    assert out[0].fields()["C"] == "26000"
