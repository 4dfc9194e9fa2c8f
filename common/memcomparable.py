"""Memcomparable key encoding: byte strings whose order is the SQL order of the values.

State-table keys are `vnode (2 bytes, big-endian) | encode(pk values)`. Each
value starts with a marker byte (0x01 value, 0x02 NULL, so NULLs sort last
in ascending order); a DESC column has all its bytes inverted, which also
puts its NULLs first, as PostgreSQL does. Because each column's encoding is
self-delimiting, the encoding of a key prefix is a byte prefix of the key.
"""

from __future__ import annotations

import datetime
import math
import struct
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import cast

from common.catalog import OrderType
from common.types import DataType, TypeName

_NOT_NULL = b"\x01"
_NULL = b"\x02"
_INVERT = bytes(range(255, -1, -1))
_EPOCH_DATE = datetime.date(1970, 1, 1)
_EPOCH_TS = datetime.datetime(1970, 1, 1)
_EPOCH_TSTZ = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_NS_PER_DAY = 86_400_000_000_000

_pack_h = struct.Struct(">H").pack
_pack_q = struct.Struct(">Q").pack
_pack_i = struct.Struct(">I").pack
_pack_d = struct.Struct(">d").pack
_unpack_Q = struct.Struct(">Q").unpack


def _int(bits: int) -> Callable[[object], bytes]:
    bias = 1 << (bits - 1)
    size = bits // 8

    def enc(v: object) -> bytes:
        return (int(v) + bias).to_bytes(size, "big")  # type: ignore[call-overload]

    return enc


def _float(v: object) -> bytes:
    f = float(v)  # type: ignore[arg-type]
    if f == 0.0:
        f = 0.0  # -0.0 equals 0.0
    elif math.isnan(f):
        return b"\xff" * 8  # NaN sorts above every number, as in PostgreSQL
    (u,) = _unpack_Q(_pack_d(f))
    u = u ^ 0xFFFFFFFFFFFFFFFF if u >> 63 else u | (1 << 63)
    return _pack_q(u)


def _bool(v: object) -> bytes:
    return b"\x01" if v else b"\x00"


def _string(v: object) -> bytes:
    b = v.encode() if isinstance(v, str) else bytes(cast(bytes, v))
    # 0x00 is escaped as 0x00 0xff and the value ends with 0x00 0x00, so no
    # encoded value is a prefix of another and the order stays bytewise.
    return b.replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def _decimal(scale: int) -> Callable[[object], bytes]:
    bias = 1 << 127

    def enc(v: object) -> bytes:
        d = v if isinstance(v, Decimal) else Decimal(str(v))
        unscaled = int(d.scaleb(scale).to_integral_value())
        return (unscaled + bias).to_bytes(16, "big")

    return enc


def _date(v: object) -> bytes:
    days = (v - _EPOCH_DATE).days  # type: ignore[operator]
    return (days + (1 << 31)).to_bytes(4, "big")


def _timestamp(v: object) -> bytes:
    base = _EPOCH_TSTZ if v.tzinfo is not None else _EPOCH_TS  # type: ignore[attr-defined]
    delta = v - base  # type: ignore[operator]
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return (us + (1 << 63)).to_bytes(8, "big")


def _interval(v: object) -> bytes:
    # Intervals compare by their normalized length ('1 day' = '24 hours'), as in PostgreSQL.
    total = (v.months * 30 + v.days) * _NS_PER_DAY + v.nanoseconds  # type: ignore[attr-defined]
    return (total + (1 << 127)).to_bytes(16, "big")


def value_encoder(t: DataType) -> Callable[[object], bytes]:
    n = t.name
    if n is TypeName.SMALLINT:
        return _int(16)
    if n is TypeName.INTEGER:
        return _int(32)
    if n is TypeName.BIGINT:
        return _int(64)
    if n in (TypeName.REAL, TypeName.DOUBLE):
        return _float
    if n is TypeName.BOOLEAN:
        return _bool
    if n is TypeName.VARCHAR:
        return _string
    if n is TypeName.NUMERIC:
        return _decimal(t.effective_scale)
    if n is TypeName.DATE:
        return _date
    if n in (TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ):
        return _timestamp
    if n is TypeName.INTERVAL:
        return _interval
    raise TypeError(f"no key encoding for {t}")


def _column_encoder(t: DataType, order: OrderType) -> Callable[[object], bytes]:
    enc = value_encoder(t)
    if order is OrderType.ASC:
        def asc(v: object) -> bytes:
            return _NULL if v is None else _NOT_NULL + enc(v)
        return asc

    null_desc = _NULL.translate(_INVERT)
    not_null_desc = _NOT_NULL.translate(_INVERT)

    def desc(v: object) -> bytes:
        return null_desc if v is None else not_null_desc + enc(v).translate(_INVERT)
    return desc


class KeyEncoder:
    """Encodes tuples of values of fixed types and orders into memcomparable bytes."""

    __slots__ = ("types", "orders", "_encoders")

    def __init__(self, types: Sequence[DataType], orders: Sequence[OrderType] | None = None) -> None:
        self.types = tuple(types)
        self.orders = tuple(orders) if orders is not None else (OrderType.ASC,) * len(self.types)
        self._encoders = [_column_encoder(t, o) for t, o in zip(self.types, self.orders)]

    def encode(self, values: Sequence[object]) -> bytes:
        return b"".join([f(v) for f, v in zip(self._encoders, values)])

    def encode_columns(self, columns: Sequence[Sequence[object]], num_rows: int) -> list[bytes]:
        """Encode row i of the given column value lists, for every i < num_rows."""
        encoders = self._encoders
        if not encoders:
            return [b""] * num_rows  # a key of no columns (one row per vnode, e.g. a global aggregate)
        if len(encoders) == 1:
            f = encoders[0]
            return [f(v) for v in columns[0]]
        return [b"".join([f(v) for f, v in zip(encoders, row)]) for row in zip(*columns)]

    def prefix(self, n: int) -> KeyEncoder:
        return KeyEncoder(self.types[:n], self.orders[:n])


def vnode_prefix(vnode: int) -> bytes:
    return _pack_h(vnode)


def table_prefix(table_id: int) -> bytes:
    return _pack_i(table_id)


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with `prefix` (None: no bound)."""
    b = bytearray(prefix)
    while b:
        if b[-1] != 0xFF:
            b[-1] += 1
            return bytes(b)
        b.pop()
    return None
