"""Decoding frontend message bodies, framing limits, and the backend encoders' byte layouts."""

from __future__ import annotations

import asyncio
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import types as T
from common.errors import CharacterNotInRepertoire, DivisionByZero, EddyError, ProtocolViolation
from frontend.pgwire import backend
from frontend.pgwire.framing import FatalProtocolViolation, Limits, read_message, read_startup_packet
from frontend.pgwire.messages import Bind, Close, Describe, Execute, Parse, Query, Sync, Target, decode
from frontend.pgwire.session_api import ResultColumn
from tests.unit.frontend.pgwire.pgwire_rawclient import bind, close, describe, execute, msg, parse, query


def decoded(frame: bytes) -> object:
    return decode(frame[0], frame[5:])


def test_decode_each_message() -> None:
    assert decoded(query("SELECT 'é'")) == Query("SELECT 'é'")
    assert decoded(parse("SELECT $1", "s", (23, 0))) == Parse("s", "SELECT $1", (23, 0))
    assert decoded(bind((b"1", None, b""), "p", "s", (1,), (0, 1))) == Bind("p", "s", (1,), (b"1", None, b""), (0, 1))
    assert decoded(describe(b"S", "s")) == Describe(Target.STATEMENT, "s")
    assert decoded(close(b"P", "p")) == Close(Target.PORTAL, "p")
    assert decoded(execute("p", 10)) == Execute("p", 10)
    assert decoded(execute("p", -5)) == Execute("p", 0)
    assert decoded(msg(b"S")) == Sync()


@pytest.mark.parametrize(("frame", "error"), [
    (query("x")[:-1], "invalid string in message"),
    (msg(b"Q", b"a\0b\0"), "invalid message format"),
    (msg(b"P", b"s\0q\0\0\1\0\0"), "insufficient data left in message"),
    (msg(b"B", b"\0\0\0\0\0\1" + struct.pack(">i", -2)), "invalid length of bind parameter 1"),
    (msg(b"B", b"\0\0\0\0\0\1" + struct.pack(">i", 100) + b"short"), "insufficient data left in message"),
    (msg(b"E", b"\0\0\0"), "insufficient data left in message"),
    (msg(b"D", b""), "insufficient data left in message"),
])
def test_malformed_bodies(frame: bytes, error: str) -> None:
    with pytest.raises(ProtocolViolation, match=error) as info:
        decoded(frame)
    assert info.value.sqlstate == "08P01"
    assert info.value.severity == "ERROR"


def test_invalid_utf8_is_22021() -> None:
    with pytest.raises(CharacterNotInRepertoire):
        decoded(msg(b"Q", b"\xc3\x28\0"))


@given(st.binary(max_size=64), st.sampled_from(b"QPBDECSHX"))
def test_any_body_decodes_or_raises_an_eddy_error(body: bytes, msg_type: int) -> None:
    try:
        decode(msg_type, body)
    except EddyError as e:
        assert e.sqlstate in ("08P01", "22021")


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


@pytest.mark.parametrize(("data", "error"), [
    (b"Z\0\0\0\4", "invalid frontend message type 90"),
    (b"p\0\0\0\4", "invalid frontend message type 112"),
    (b"S\0\0\0\3", "invalid message length"),
    (b"Q\xff\xff\xff\xff", "invalid message length"),
    (b"S" + struct.pack(">i", 10_001), "invalid message length"),
    (b"Q" + struct.pack(">i", 1 << 30), "invalid message length"),
])
async def test_framing_rejects_before_reading_the_body(data: bytes, error: str) -> None:
    with pytest.raises(FatalProtocolViolation, match=error) as info:
        await read_message(reader_of(data), Limits())
    assert info.value.severity == "FATAL"


async def test_framing_accepts_limits_exactly() -> None:
    limits = Limits(small_message=8, large_message=16)
    assert await read_message(reader_of(b"S\0\0\0\x08abcd"), limits) == (ord("S"), b"abcd")
    assert await read_message(reader_of(b"Q\0\0\0\x10" + b"x" * 12), limits) == (ord("Q"), b"x" * 12)
    with pytest.raises(asyncio.IncompleteReadError):
        await read_message(reader_of(b"Q\0\0\0\x10xx"), limits)


async def test_startup_packet_limits() -> None:
    assert await read_startup_packet(reader_of(struct.pack(">ii", 8, 1234)), Limits()) == (1234, b"")
    for bad in (7, 10_001, -8):
        with pytest.raises(FatalProtocolViolation):
            await read_startup_packet(reader_of(struct.pack(">ii", bad, 0)), Limits())


def test_row_description_layout() -> None:
    out = backend.row_description([ResultColumn("n", T.numeric(10, 2), 16384, 3)], [1])
    assert out == b"T" + struct.pack(">ih", 4 + 2 + 2 + 18, 1) + b"n\0" + struct.pack(
        ">ihihih", 16384, 3, 1700, -1, (10 << 16 | 2) + 4, 1)


def test_error_response_layout() -> None:
    err = DivisionByZero("division by zero", hint="don't", position=8)
    body = backend.error_response(err)[5:]
    assert body == b"SERROR\0VERROR\0C22012\0Mdivision by zero\0Hdon't\0P8\0\0"
    assert b"\0Mx\\0y\0" in backend.error_response(EddyError("x\0y"))


@pytest.mark.parametrize(("command", "rows", "tag"), [
    ("INSERT", 3, "INSERT 0 3"), ("SELECT", 0, "SELECT 0"), ("UPDATE", 2, "UPDATE 2"), ("DELETE", 1, "DELETE 1"),
    ("FETCH", 5, "FETCH 5"), ("COPY", 9, "COPY 9"), ("CREATE TABLE", 0, "CREATE TABLE"), ("SET", 0, "SET"),
    ("CREATE MATERIALIZED VIEW", 0, "CREATE MATERIALIZED VIEW"),
])
def test_command_tags(command: str, rows: int, tag: str) -> None:
    assert backend.command_tag(command, rows) == tag
