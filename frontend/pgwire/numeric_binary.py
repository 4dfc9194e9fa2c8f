"""PostgreSQL's binary NUMERIC: a decimal128 column encoded with numpy, and one value decoded to a Decimal.

The format (numeric_send) is four int16 words, ndigits, weight, sign and
dscale, then ndigits base-10000 digits, most significant first. The value
is sum(digit[i] * 10000 ** (weight - i)); leading and trailing zero digits
are never sent; zero has no digits; dscale is the number of decimal digits
shown after the point. The sign word is 0x0000, 0x4000 (negative), 0xC000
(NaN), 0xD000 (+Infinity) or 0xF000 (-Infinity).

Encoding works on the 128-bit unscaled integers as four 32-bit limbs, so a
whole column is split into base-10000 digits by a few array divisions.
"""

from __future__ import annotations

import struct
from decimal import Decimal

import numpy as np
import pyarrow as pa

from common.errors import InvalidBinaryRepresentation
from frontend.pgwire.cells import ColumnCells

SIGN_POSITIVE = 0x0000
SIGN_NEGATIVE = 0x4000
SIGN_NAN = 0xC000
SIGN_PINF = 0xD000
SIGN_NINF = 0xF000
_MAX_DSCALE = 0x3FFF

_HEADER = struct.Struct(">hhHh")
# 10000 ** 10 > 2 ** 127, so ten base-10000 digits hold any decimal128 integer part.
_INT_GROUPS = 10
_MASK32 = np.uint64(0xFFFFFFFF)


def _divmod_limbs(limbs: list[np.ndarray], divisor: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Long division of 128-bit magnitudes (four uint64-held 32-bit limbs, high first) by a small divisor."""
    d = np.uint64(divisor)
    rem = np.zeros_like(limbs[0])
    quotient = []
    for limb in limbs:
        # rem < divisor <= 10000, so rem << 32 | limb stays below 2**46.
        cur = (rem << np.uint64(32)) | limb
        quotient.append(cur // d)
        rem = cur % d
    return quotient, rem


def _magnitudes(arr: pa.Array) -> tuple[list[np.ndarray], np.ndarray]:
    """The absolute values of a decimal128 array as 32-bit limbs, and which values are negative."""
    words = np.frombuffer(arr.buffers()[1], dtype="<u8", count=2 * len(arr), offset=16 * arr.offset)
    lo, hi = words[0::2].copy(), words[1::2].copy()
    negative = (hi >> np.uint64(63)).astype(bool)
    # Two's complement negation of the negative ones: invert, add one, carry into the high word.
    neg_lo = ~lo + np.uint64(1)
    neg_hi = ~hi + (neg_lo == 0).astype(np.uint64)
    lo = np.where(negative, neg_lo, lo)
    hi = np.where(negative, neg_hi, hi)
    limbs = [hi >> np.uint64(32), hi & _MASK32, lo >> np.uint64(32), lo & _MASK32]
    return limbs, negative


def _digit_groups(arr: pa.Array, scale: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Base-10000 digits aligned on the decimal point (n x groups, high first), signs, fractional group count."""
    limbs, negative = _magnitudes(arr)
    # Split off the digits below the last whole group of four fractional digits,
    # so the remaining integer's base-10000 digits line up with the point.
    partial = scale % 4
    limbs, low = _divmod_limbs(limbs, 10**partial)
    groups = []
    for _ in range(_INT_GROUPS):
        limbs, digit = _divmod_limbs(limbs, 10000)
        groups.append(digit)
    groups.reverse()
    if partial:
        groups.append(low * np.uint64(10 ** (4 - partial)))
    frac_groups = -(-scale // 4)
    return np.stack(groups, axis=1).astype(np.int64), negative, frac_groups


def _trailing_decimal_zeros(digit: np.ndarray) -> np.ndarray:
    """How many of a 4-decimal-digit group's low digits are zero (for a non-zero group)."""
    return (digit % 10 == 0).astype(np.int64) + (digit % 100 == 0) + (digit % 1000 == 0)


def encode_decimal_column(arr: pa.Array, fixed_scale: bool) -> ColumnCells:
    """numeric_send of every value of a decimal128 array.

    With `fixed_scale` (NUMERIC(p, s)) dscale is the column's scale, as in
    PostgreSQL; otherwise it is the fewest digits that show the value
    exactly, matching how Eddy prints unconstrained NUMERIC.
    """
    if not pa.types.is_decimal128(arr.type):
        return _encode_scalars(arr, fixed_scale)
    n = len(arr)
    scale = arr.type.scale
    if n == 0:
        return ColumnCells(np.zeros(0, np.int64), np.zeros(0, np.uint8))
    groups, negative, frac_groups = _digit_groups(arr, scale)
    width = groups.shape[1]
    nonzero = groups != 0
    is_zero = ~nonzero.any(axis=1)
    first = np.argmax(nonzero, axis=1)
    last = width - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    ndigits = np.where(is_zero, 0, last - first + 1)
    weight = np.where(is_zero, 0, width - 1 - first - frac_groups)
    sign = np.where(negative & ~is_zero, SIGN_NEGATIVE, SIGN_POSITIVE)
    if fixed_scale:
        dscale = np.full(n, scale, np.int64)
    else:
        last_digit = groups[np.arange(n), last]
        # Position (1-based) after the point of the last non-zero group, or <= 0 if it is whole.
        frac_pos = frac_groups - (width - 1 - last)
        dscale = np.where(is_zero | (frac_pos <= 0), 0, 4 * frac_pos - _trailing_decimal_zeros(last_digit))

    out = np.zeros((n, 4 + width), dtype=">i2")
    out[:, 0] = ndigits
    out[:, 1] = weight
    out[:, 2] = sign
    out[:, 3] = dscale
    # Shift each row's digits left so the first non-zero one follows the header.
    cols = np.arange(width)[None, :] + first[:, None]
    shifted = np.take_along_axis(groups, np.minimum(cols, width - 1), axis=1)
    out[:, 4:] = np.where(np.arange(width)[None, :] < ndigits[:, None], shifted, 0)

    lengths = 8 + 2 * ndigits
    keep = np.arange(4 + width)[None, :] < (4 + ndigits)[:, None]
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        keep &= valid[:, None]
        lengths = np.where(valid, lengths, -1)
    payload = out[keep].view(np.uint8)
    return ColumnCells(lengths.astype(np.int64), payload)


def _encode_scalars(arr: pa.Array, fixed_scale: bool) -> ColumnCells:
    """The per-value path, for decimal types other than decimal128."""
    scale = arr.type.scale if fixed_scale else None
    cells = [None if v is None else encode_numeric(v, scale) for v in arr.to_pylist()]
    lengths = np.array([-1 if c is None else len(c) for c in cells], dtype=np.int64)
    payload = np.frombuffer(b"".join(c for c in cells if c is not None), dtype=np.uint8)
    return ColumnCells(lengths, payload)


def encode_numeric(value: Decimal, dscale: int | None = None) -> bytes:
    """numeric_send of one Decimal; `dscale` defaults to the digits the Decimal itself shows."""
    if value.is_nan():
        return _HEADER.pack(0, 0, SIGN_NAN, 0)
    if value.is_infinite():
        # numeric_send reports dscale 32 for infinities (bits of its header); clients ignore it.
        return _HEADER.pack(0, 0, SIGN_NINF if value < 0 else SIGN_PINF, 32)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    shown = max(0, -exponent)
    scale = shown if dscale is None else dscale
    coefficient = int("".join(map(str, digits)) or "0")
    # Align the coefficient so that its exponent is a multiple of 4 (a digit-group boundary).
    pad = exponent % 4
    coefficient *= 10**pad
    group_exp = (exponent - pad) // 4
    groups: list[int] = []
    while coefficient:
        coefficient, digit = divmod(coefficient, 10000)
        groups.append(digit)
    while groups and groups[0] == 0:
        groups.pop(0)
        group_exp += 1
    groups.reverse()
    if not groups:
        return _HEADER.pack(0, 0, SIGN_POSITIVE, scale)
    weight = group_exp + len(groups) - 1
    header = _HEADER.pack(len(groups), weight, SIGN_NEGATIVE if sign else SIGN_POSITIVE, scale)
    return header + struct.pack(f">{len(groups)}h", *groups)


def decode_numeric(data: bytes) -> Decimal:
    """numeric_recv: one binary NUMERIC as a Decimal with exactly dscale fractional digits."""
    if len(data) < 8:
        raise InvalidBinaryRepresentation("insufficient data left in message")
    ndigits, weight, sign, dscale = _HEADER.unpack_from(data)
    if ndigits < 0 or len(data) != 8 + 2 * ndigits:
        raise InvalidBinaryRepresentation("invalid length in external \"numeric\" value")
    if sign == SIGN_NAN:
        return Decimal("NaN")
    if sign in (SIGN_PINF, SIGN_NINF):
        return Decimal("-Infinity" if sign == SIGN_NINF else "Infinity")
    if sign not in (SIGN_POSITIVE, SIGN_NEGATIVE):
        raise InvalidBinaryRepresentation("invalid sign in external \"numeric\" value")
    if dscale < 0 or dscale > _MAX_DSCALE:
        raise InvalidBinaryRepresentation("invalid scale in external \"numeric\" value")
    coefficient = 0
    for digit in struct.unpack_from(f">{ndigits}h", data, 8):
        if digit < 0 or digit >= 10000:
            raise InvalidBinaryRepresentation("invalid digit in external \"numeric\" value")
        coefficient = coefficient * 10000 + digit
    # The value is coefficient * 10 ** shift; express it with exactly dscale
    # fractional digits, dropping digits dscale hides as numeric_recv does.
    shift = 4 * (weight - ndigits + 1) + dscale
    coefficient = coefficient * 10**shift if shift >= 0 else coefficient // 10**-shift
    digits = Decimal(coefficient).as_tuple().digits
    return Decimal((1 if sign == SIGN_NEGATIVE else 0, digits, -dscale))
