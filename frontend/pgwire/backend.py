"""Backend messages: each function returns one complete message (type byte, length, body)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from common.errors import EddyError
from frontend.pgwire.session_api import ResultColumn

AUTH_OK = 0
AUTH_CLEARTEXT_PASSWORD = 3
AUTH_MD5_PASSWORD = 5
AUTH_SASL = 10
AUTH_SASL_CONTINUE = 11
AUTH_SASL_FINAL = 12

TEXT_FORMAT = 0
BINARY_FORMAT = 1

_INT32 = struct.Struct(">i")
_FIELD = struct.Struct(">ihihih")


def message(msg_type: bytes, body: bytes = b"") -> bytes:
    return msg_type + _INT32.pack(len(body) + 4) + body


def cstring(text: str) -> bytes:
    # A NUL inside a string would end it early and desynchronise the client's parser.
    return text.replace("\0", "\\0").encode("utf-8") + b"\0"


def authentication(code: int, data: bytes = b"") -> bytes:
    return message(b"R", _INT32.pack(code) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstring(name) + cstring(value))


def backend_key_data(process_id: int, secret_key: int) -> bytes:
    return message(b"K", struct.pack(">iI", process_id, secret_key & 0xFFFFFFFF))


def negotiate_protocol_version(newest_minor: int, unrecognized: Sequence[str]) -> bytes:
    body = struct.pack(">ii", newest_minor, len(unrecognized)) + b"".join(cstring(o) for o in unrecognized)
    return message(b"v", body)


def ready_for_query(status: str) -> bytes:
    return message(b"Z", status.encode("ascii"))


def row_description(columns: Sequence[ResultColumn], formats: Sequence[int]) -> bytes:
    parts = [struct.pack(">h", len(columns))]
    for col, fmt in zip(columns, formats):
        t = col.type
        parts.append(cstring(col.name))
        parts.append(_FIELD.pack(col.table_oid, col.column_attnum, t.oid, t.typlen, t.typmod, fmt))
    return message(b"T", b"".join(parts))


def parameter_description(type_oids: Sequence[int]) -> bytes:
    return message(b"t", struct.pack(f">h{len(type_oids)}I", len(type_oids), *type_oids))


def command_complete(tag: str) -> bytes:
    return message(b"C", cstring(tag))


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
PORTAL_SUSPENDED = message(b"s")
EMPTY_QUERY_RESPONSE = message(b"I")


def _fields(pairs: Iterable[tuple[bytes, str | None]]) -> bytes:
    return b"".join(code + cstring(value) for code, value in pairs if value is not None) + b"\0"


def error_response(err: EddyError, severity: str | None = None) -> bytes:
    """ErrorResponse with S and V (severity), C (SQLSTATE), M, and D, H, P when the error has them."""
    sev = severity or err.severity
    position = None if err.position is None else str(err.position)
    return message(b"E", _fields([(b"S", sev), (b"V", sev), (b"C", err.sqlstate), (b"M", err.message),
                                  (b"D", err.detail), (b"H", err.hint), (b"P", position)]))


def notice_response(text: str) -> bytes:
    return message(b"N", _fields([(b"S", "NOTICE"), (b"V", "NOTICE"), (b"C", "00000"), (b"M", text)]))


# Commands whose tag carries the number of rows processed; INSERT also has the legacy OID 0.
_COUNTED_COMMANDS = frozenset({"SELECT", "UPDATE", "DELETE", "MERGE", "FETCH", "MOVE", "COPY"})


def command_tag(command: str, rows: int) -> str:
    """PostgreSQL's CommandComplete tag: "INSERT 0 n", "SELECT n", "UPDATE n", or the bare verb."""
    if command == "INSERT":
        return f"INSERT 0 {rows}"
    if command in _COUNTED_COMMANDS:
        return f"{command} {rows}"
    return command
