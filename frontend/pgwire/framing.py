"""Framing of frontend messages: length checks before any body is read, and a bounds-checked body reader.

A client controls every length it sends, so each one is validated against
PostgreSQL's limits (10 000 bytes for small message types and the startup
packet, 1 GiB for Query, Parse, Bind, CopyData and FunctionCall) before the
server reads or allocates anything for the body.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from common.errors import CharacterNotInRepertoire, ProtocolViolation

PROTOCOL_3_0 = 3 << 16
CANCEL_REQUEST_CODE = 80877102
SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104

# Message types of the query phase, as PostgreSQL's SocketBackend accepts them.
# Types whose body may be large; every other known type is small.
_LARGE_TYPES = frozenset(b"BFPQd")
_SMALL_TYPES = frozenset(b"CDEHSXcf")
QUERY_PHASE_TYPES = _LARGE_TYPES | _SMALL_TYPES
PASSWORD_TYPE = ord("p")


@dataclass(frozen=True, slots=True)
class Limits:
    """Largest accepted message, counting the 4-byte length word (PostgreSQL's values)."""

    small_message: int = 10_000
    large_message: int = (1 << 30) - 1
    startup_packet: int = 10_000


class FatalProtocolViolation(ProtocolViolation):
    """A framing error: the byte stream can no longer be trusted, so the connection ends."""

    severity = "FATAL"


async def read_startup_packet(reader: asyncio.StreamReader, limits: Limits) -> tuple[int, bytes]:
    """The request code and the rest of one startup-phase packet (no type byte)."""
    length = int.from_bytes(await reader.readexactly(4), "big", signed=True)
    if length < 8 or length > limits.startup_packet:
        raise FatalProtocolViolation("invalid length of startup packet")
    body = await reader.readexactly(length - 4)
    return int.from_bytes(body[:4], "big"), body[4:]


async def read_message(reader: asyncio.StreamReader, limits: Limits,
                       allowed: frozenset[int] = QUERY_PHASE_TYPES) -> tuple[int, bytes]:
    """The type byte and body of one typed message.

    The type is checked before the length, and the length before the body,
    so an unknown or oversized message costs the server five bytes.
    """
    header = await reader.readexactly(5)
    msg_type = header[0]
    if msg_type not in allowed:
        raise FatalProtocolViolation(f"invalid frontend message type {msg_type}")
    length = int.from_bytes(header[1:], "big", signed=True)
    limit = limits.large_message if msg_type in _LARGE_TYPES or msg_type == PASSWORD_TYPE else limits.small_message
    if length < 4 or length > limit:
        raise FatalProtocolViolation("invalid message length")
    return msg_type, await reader.readexactly(length - 4)


def decode_text(data: bytes) -> str:
    """Client text as str: UTF-8 without NUL, the only client encoding Eddy speaks."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = data[e.start:e.start + 1].hex()
        raise CharacterNotInRepertoire(f'invalid byte sequence for encoding "UTF8": 0x{bad}') from None
    if "\0" in text:
        raise CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8": 0x00')
    return text


class MessageBuffer:
    """Reads the fields of one message body; running past its end is a protocol violation."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def byte(self) -> int:
        return self.raw(1)[0]

    def int16(self) -> int:
        return int.from_bytes(self.raw(2), "big", signed=True)

    def uint16(self) -> int:
        return int.from_bytes(self.raw(2), "big")

    def int32(self) -> int:
        return int.from_bytes(self.raw(4), "big", signed=True)

    def raw(self, n: int) -> bytes:
        if n < 0 or n > self.remaining():
            raise ProtocolViolation("insufficient data left in message")
        chunk = self._data[self._pos:self._pos + n]
        self._pos += n
        return chunk

    def cstring(self) -> str:
        end = self._data.find(b"\0", self._pos)
        if end < 0:
            raise ProtocolViolation("invalid string in message")
        text = decode_text(self._data[self._pos:end])
        self._pos = end + 1
        return text

    def end(self) -> None:
        if self._pos != len(self._data):
            raise ProtocolViolation("invalid message format")
