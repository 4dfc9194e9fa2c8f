"""A minimal blocking protocol-3.0 client over a raw socket, for tests that need exact message sequences."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass


def msg(msg_type: bytes, body: bytes = b"") -> bytes:
    return msg_type + struct.pack(">i", len(body) + 4) + body


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def startup_packet(params: dict[str, str], version: int = 3 << 16) -> bytes:
    body = struct.pack(">i", version) + b"".join(cstr(k) + cstr(v) for k, v in params.items()) + b"\0"
    return struct.pack(">i", len(body) + 4) + body


def query(sql: str) -> bytes:
    return msg(b"Q", cstr(sql))


def parse(sql: str, name: str = "", oids: tuple[int, ...] = ()) -> bytes:
    return msg(b"P", cstr(name) + cstr(sql) + struct.pack(f">h{len(oids)}I", len(oids), *oids))


def bind(params: tuple[bytes | None, ...] = (), portal: str = "", stmt: str = "",
         param_formats: tuple[int, ...] = (), result_formats: tuple[int, ...] = ()) -> bytes:
    body = cstr(portal) + cstr(stmt) + struct.pack(f">h{len(param_formats)}h", len(param_formats), *param_formats)
    body += struct.pack(">h", len(params))
    for p in params:
        body += struct.pack(">i", -1) if p is None else struct.pack(">i", len(p)) + p
    body += struct.pack(f">h{len(result_formats)}h", len(result_formats), *result_formats)
    return msg(b"B", body)


def describe(kind: bytes, name: str = "") -> bytes:
    return msg(b"D", kind + cstr(name))


def execute(portal: str = "", max_rows: int = 0) -> bytes:
    return msg(b"E", cstr(portal) + struct.pack(">i", max_rows))


def close(kind: bytes, name: str = "") -> bytes:
    return msg(b"C", kind + cstr(name))


SYNC = msg(b"S")
FLUSH = msg(b"H")
TERMINATE = msg(b"X")


@dataclass(frozen=True)
class Message:
    type: str
    body: bytes

    def fields(self) -> dict[str, str]:
        """The fields of an ErrorResponse or NoticeResponse."""
        out = {}
        for part in self.body.split(b"\0"):
            if part:
                out[chr(part[0])] = part[1:].decode()
        return out

    def text(self) -> str:
        return self.body.rstrip(b"\0").decode()

    def data_row(self) -> list[bytes | None]:
        (n,) = struct.unpack_from(">h", self.body)
        pos, cells = 2, []
        for _ in range(n):
            (size,) = struct.unpack_from(">i", self.body, pos)
            pos += 4
            cells.append(None if size < 0 else self.body[pos:pos + size])
            pos += max(size, 0)
        return cells

    def row_description(self) -> list[tuple[str, int, int, int, int, int, int]]:
        (n,) = struct.unpack_from(">h", self.body)
        pos, cols = 2, []
        for _ in range(n):
            end = self.body.index(b"\0", pos)
            name = self.body[pos:end].decode()
            pos = end + 1
            cols.append((name, *struct.unpack_from(">ihihih", self.body, pos)))
            pos += 18
        return cols


class RawClient:
    """A connection that has passed startup (unless `startup=False`).

    Every client is remembered in `opened` so that a fixture can close the
    ones a test left open.
    """

    opened: list[RawClient] = []

    def __init__(self, port: int, *, startup: bool = True, params: dict[str, str] | None = None,
                 timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        RawClient.opened.append(self)
        self._buf = b""
        self.startup: list[Message] = []
        if startup:
            self.send(startup_packet(params or {"user": "root", "database": "dev"}))
            self.startup = self.until("Z")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, n: int) -> bool:
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self._buf += chunk
        return True

    def read(self) -> Message | None:
        """The next message, or None if the server closed the connection."""
        if not self._fill(5):
            return None
        size = struct.unpack_from(">i", self._buf, 1)[0]
        if not self._fill(1 + size):
            return None
        m = Message(chr(self._buf[0]), self._buf[5:1 + size])
        self._buf = self._buf[1 + size:]
        return m

    def read_byte(self) -> bytes:
        self._fill(1)
        b, self._buf = self._buf[:1], self._buf[1:]
        return b

    def until(self, msg_type: str) -> list[Message]:
        """Messages up to and including the first of `msg_type`; fails if the connection closes first."""
        out: list[Message] = []
        while True:
            m = self.read()
            assert m is not None, f"connection closed before {msg_type!r}; got {[x.type for x in out]}"
            out.append(m)
            if m.type == msg_type:
                return out

    def rest(self) -> list[Message]:
        """Every message until the server closes the connection."""
        out = []
        while (m := self.read()) is not None:
            out.append(m)
        return out

    def close(self) -> None:
        self.sock.close()

    @classmethod
    def close_since(cls, mark: int) -> None:
        """Close every client opened after `len(opened)` was `mark`."""
        for client in cls.opened[mark:]:
            client.close()
        del cls.opened[mark:]


def types_of(messages: list[Message]) -> str:
    return "".join(m.type for m in messages)
