"""Frontend messages of the query phase, decoded from their bodies into values.

Decoding checks every field against the body's end and requires the body to
be consumed exactly, as PostgreSQL's pq_getmsg* functions do; a violation is
an ERROR with SQLSTATE 08P01, not the end of the connection, because the
framing around the message is still intact.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from common.errors import ProtocolViolation
from frontend.pgwire.framing import MessageBuffer


class Target(enum.Enum):
    """What a Describe or Close names."""

    STATEMENT = ord("S")
    PORTAL = ord("P")


@dataclass(frozen=True, slots=True)
class Query:
    sql: str


@dataclass(frozen=True, slots=True)
class Parse:
    name: str
    sql: str
    param_oids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Bind:
    portal: str
    statement: str
    param_formats: tuple[int, ...]
    params: tuple[bytes | None, ...]
    result_formats: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Describe:
    target: Target
    name: str


@dataclass(frozen=True, slots=True)
class Execute:
    portal: str
    max_rows: int
    """0 (or negative, as PostgreSQL treats it) means every row."""


@dataclass(frozen=True, slots=True)
class Close:
    target: Target
    name: str


@dataclass(frozen=True, slots=True)
class Sync:
    pass


@dataclass(frozen=True, slots=True)
class Flush:
    pass


@dataclass(frozen=True, slots=True)
class Terminate:
    pass


@dataclass(frozen=True, slots=True)
class FunctionCall:
    pass


@dataclass(frozen=True, slots=True)
class CopyMessage:
    """CopyData, CopyDone or CopyFail outside COPY: PostgreSQL accepts and ignores them."""

    msg_type: int


FrontendMessage = Query | Parse | Bind | Describe | Execute | Close | Sync | Flush | Terminate | FunctionCall | CopyMessage

# Messages of the extended query protocol: an error in one of them makes the
# server skip everything up to the next Sync.
EXTENDED_TYPES = frozenset(b"PBDECH")
SYNC_TYPE = ord("S")
TERMINATE_TYPE = ord("X")


def decode(msg_type: int, body: bytes) -> FrontendMessage:
    """The message of a query-phase type byte (already checked by the framing layer)."""
    buf = MessageBuffer(body)
    msg = _DECODERS[msg_type](buf)
    if not isinstance(msg, (CopyMessage, FunctionCall)):
        buf.end()
    return msg


def _query(buf: MessageBuffer) -> Query:
    return Query(buf.cstring())


def _parse(buf: MessageBuffer) -> Parse:
    name = buf.cstring()
    sql = buf.cstring()
    count = buf.uint16()
    return Parse(name, sql, tuple(int.from_bytes(buf.raw(4), "big") for _ in range(count)))


def _bind(buf: MessageBuffer) -> Bind:
    portal = buf.cstring()
    statement = buf.cstring()
    param_formats = tuple(buf.int16() for _ in range(buf.uint16()))
    params: list[bytes | None] = []
    for _ in range(buf.uint16()):
        length = buf.int32()
        if length < -1:
            raise ProtocolViolation(f"invalid length of bind parameter {len(params) + 1}")
        params.append(None if length == -1 else buf.raw(length))
    result_formats = tuple(buf.int16() for _ in range(buf.uint16()))
    return Bind(portal, statement, param_formats, tuple(params), result_formats)


def _target(buf: MessageBuffer, what: str) -> Target:
    code = buf.byte()
    try:
        return Target(code)
    except ValueError:
        raise ProtocolViolation(f"invalid {what} message subtype {code}") from None


def _describe(buf: MessageBuffer) -> Describe:
    target = _target(buf, "DESCRIBE")
    return Describe(target, buf.cstring())


def _execute(buf: MessageBuffer) -> Execute:
    portal = buf.cstring()
    return Execute(portal, max(buf.int32(), 0))


def _close(buf: MessageBuffer) -> Close:
    target = _target(buf, "CLOSE")
    return Close(target, buf.cstring())


def _singleton(msg: FrontendMessage) -> Callable[[MessageBuffer], FrontendMessage]:
    return lambda _buf: msg


_DECODERS: dict[int, Callable[[MessageBuffer], FrontendMessage]] = {
    ord("Q"): _query,
    ord("P"): _parse,
    ord("B"): _bind,
    ord("D"): _describe,
    ord("E"): _execute,
    ord("C"): _close,
    ord("S"): _singleton(Sync()),
    ord("H"): _singleton(Flush()),
    ord("X"): _singleton(Terminate()),
    ord("F"): _singleton(FunctionCall()),
    ord("d"): _singleton(CopyMessage(ord("d"))),
    ord("c"): _singleton(CopyMessage(ord("c"))),
    ord("f"): _singleton(CopyMessage(ord("f"))),
}
