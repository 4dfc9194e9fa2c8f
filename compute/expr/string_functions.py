"""String functions with PostgreSQL's semantics: 1-based positions, its edge cases and its errors.

Arrow's string kernels do the work; where a kernel only takes a scalar
(a trim set, a replace pattern, a substring bound) it runs once per
distinct argument value. initcap, md5, ascii and chr, which pyarrow lacks,
run once per distinct string.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import InvalidParameterValue, ProgramLimitExceeded, SubstringError
from common.expr import FuncCall
from common.pgtext import format_array
from common.types import TypeName
from compute.expr.context import EvalContext
from compute.expr.kernel import all_valid, kernel, map_distinct, per_distinct, raise_if, take, valid_mask, values


@kernel("lower")
def lower(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return pc.utf8_lower(args[0])


@kernel("upper")
def upper(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return pc.utf8_upper(args[0])


@kernel("length")
def length(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return pc.utf8_length(args[0]).cast(pa.int32())


@kernel("octet_length")
def octet_length(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return pc.binary_length(args[0]).cast(pa.int32())


@kernel("reverse")
def reverse(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return pc.utf8_reverse(args[0])


@kernel("substr")
def substr(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text = args[0]
    if len(args) == 3:
        raise_if(all_valid(args) & (values(args[2]) < 0),
                 lambda i: SubstringError("negative substring length not allowed"))

    def piece(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        start = int(key[0])  # type: ignore[call-overload]
        begin = max(start - 1, 0)
        if len(key) == 1:
            return pc.utf8_slice_codeunits(take(text, rows), begin)
        stop = max(start - 1 + int(key[1]), 0)  # type: ignore[call-overload]
        return pc.utf8_slice_codeunits(take(text, rows), begin, max(stop, begin))

    return _with_text_nulls(per_distinct(args[1:], len(text), piece, pa.string()), text)


def _with_text_nulls(out: pa.Array, text: pa.Array) -> pa.Array:
    if text.null_count == 0:
        return out
    return pc.if_else(text.is_valid(), out, pa.scalar(None, out.type))


@kernel("strpos")
def strpos(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, needle = args

    def find(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        sub = key[0]
        assert isinstance(sub, str)
        part = take(text, rows)
        if pc.all(pc.string_is_ascii(part)).as_py() is not False:
            return pc.add(pc.find_substring(part, sub), 1).cast(pa.int32())
        return pa.array([None if s is None else s.find(sub) + 1 for s in part.to_pylist()], pa.int32())

    return _with_text_nulls(per_distinct([needle], len(text), find, pa.int32()), text)


def _trim(args: list[pa.Array], fn: str) -> pa.Array:
    text = args[0]
    trim = getattr(pc, fn)
    if len(args) == 1:
        return trim(text, " ")

    def strip(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        chars = key[0]
        assert isinstance(chars, str)
        part = take(text, rows)
        return part if chars == "" else trim(part, chars)

    return _with_text_nulls(per_distinct([args[1]], len(text), strip, pa.string()), text)


@kernel("btrim")
def btrim(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _trim(args, "utf8_trim")


@kernel("ltrim")
def ltrim(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _trim(args, "utf8_ltrim")


@kernel("rtrim")
def rtrim(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _trim(args, "utf8_rtrim")


@kernel("replace")
def replace(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text = args[0]

    def sub(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        old, new = key
        assert isinstance(old, str) and isinstance(new, str)
        part = take(text, rows)
        # An empty pattern leaves the string alone (and would make Arrow loop).
        return part if old == "" else pc.replace_substring(part, old, new)

    return _with_text_nulls(per_distinct(args[1:], len(text), sub, pa.string()), text)


def as_text(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> list[pa.Array]:
    """Arguments of any type as PostgreSQL's output functions print them (what concat and || use)."""
    return [a if e.type.name is TypeName.VARCHAR else format_array(a, e.type, ctx.format)
            for a, e in zip(args, call.args)]


@kernel("concat")
def concat(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    parts = [a.fill_null("") if a.null_count else a for a in as_text(args, call, ctx)]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "")


@kernel("concat_ws")
def concat_ws(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    sep, *parts = as_text(args, call, ctx)
    acc = pa.nulls(len(sep), pa.string())
    for part in parts:
        joined = pc.binary_join_element_wise(acc, part, sep)
        acc = pc.if_else(acc.is_null(), part, pc.if_else(part.is_null(), acc, joined))
    out = acc.fill_null("")
    return pc.if_else(sep.is_valid(), out, pa.scalar(None, pa.string()))


@kernel("concat_op")
def concat_op(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return pc.binary_join_element_wise(args[0], args[1], "")


@kernel("left", "right")
def left_right(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text = args[0]
    is_left = call.func == "left"

    def cut(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        n = int(key[0])  # type: ignore[call-overload]
        part = take(text, rows)
        if is_left:
            return pc.utf8_slice_codeunits(part, 0, n)
        # right(s, n) keeps the last n characters; a negative n drops the first -n.
        return pc.utf8_slice_codeunits(part, 0, 0) if n == 0 else pc.utf8_slice_codeunits(part, -n)

    return _with_text_nulls(per_distinct([args[1]], len(text), cut, pa.string()), text)


# PostgreSQL refuses results over 1 GB (MaxAllocSize), counting 4 bytes per character for padding.
_MAX_BYTES = 1_073_741_823


def _too_long(i: int) -> ProgramLimitExceeded:
    return ProgramLimitExceeded("requested length too large")


def _pad(args: list[pa.Array], left: bool) -> pa.Array:
    text, width = args[0], args[1]
    raise_if(all_valid(args[:2]) & (values(width).astype(np.int64) * 4 > _MAX_BYTES), _too_long)
    fill = args[2] if len(args) == 3 else pa.repeat(pa.scalar(" "), len(text))

    def cut(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        n = max(int(key[0]), 0)  # type: ignore[call-overload]
        return pc.utf8_slice_codeunits(take(text, rows), 0, n)

    truncated = per_distinct([width], len(text), cut, pa.string())
    missing = pa.array(np.maximum(values(width) - values(pc.utf8_length(truncated)), 0), pa.int64())

    def padding(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        pattern, need = key
        assert isinstance(pattern, str) and isinstance(need, int)
        text_rows = take(truncated, rows)
        if pattern == "" or need == 0:
            return text_rows
        pad = (pattern * (need // len(pattern) + 1))[:need]
        return pc.binary_join_element_wise(pad, text_rows, "") if left \
            else pc.binary_join_element_wise(text_rows, pad, "")

    out = per_distinct([fill, missing], len(text), padding, pa.string())
    return pc.if_else(pa.array(all_valid(args)), out, pa.scalar(None, pa.string()))


@kernel("lpad")
def lpad(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _pad(args, left=True)


@kernel("rpad")
def rpad(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _pad(args, left=False)


@kernel("split_part")
def split_part(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, delim, field = args
    raise_if(all_valid(args) & (values(field, 1) == 0),
             lambda i: InvalidParameterValue("field position must not be zero"))

    def part(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        sep, n = key
        assert isinstance(sep, str) and isinstance(n, int)
        strings = take(text, rows)
        if sep == "":
            return strings if n in (1, -1) else pc.if_else(strings.is_valid(), "", pa.scalar(None, pa.string()))
        pieces = pc.split_pattern(strings, sep)
        counts = values(pc.list_value_length(pieces))
        index = np.full(len(counts), n - 1) if n > 0 else counts + n
        hit = (index >= 0) & (index < counts)
        offsets = np.asarray(pieces.offsets.to_numpy(zero_copy_only=False))[:-1]
        flat = pieces.flatten()
        picked = take(flat, np.where(hit, offsets + index, 0)) if len(flat) else pa.nulls(len(counts), pa.string())
        out = pc.if_else(pa.array(hit), picked, "")
        return pc.if_else(strings.is_valid(), out, pa.scalar(None, pa.string()))

    return _with_text_nulls(per_distinct([delim, field], len(text), part, pa.string()), text)


@kernel("starts_with")
def starts_with(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, prefix = args

    def test(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        assert isinstance(key[0], str)
        return pc.starts_with(take(text, rows), key[0])

    out = per_distinct([prefix], len(text), test, pa.bool_())
    return pc.if_else(text.is_valid(), out, pa.scalar(None, pa.bool_())) if text.null_count else out


@kernel("repeat")
def repeat(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, count = args
    times = np.maximum(values(count).astype(np.int64), 0)
    raise_if(all_valid(args) & (values(pc.binary_length(text)).astype(np.int64) * times > _MAX_BYTES), _too_long)
    n = pa.array(times, pa.int64(), mask=~valid_mask(count))
    return pc.binary_repeat(text, n)


def _initcap(s: object) -> str:
    assert isinstance(s, str)
    out = []
    after_alnum = False
    for ch in s:
        out.append(ch.lower() if after_alnum else ch.upper())
        after_alnum = ch.isalnum()
    return "".join(out)


@kernel("initcap")
def initcap(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return map_distinct(args[0], _initcap, pa.string())


@kernel("md5")
def md5(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return map_distinct(args[0], lambda s: hashlib.md5(str(s).encode()).hexdigest(), pa.string())


@kernel("ascii")
def ascii_code(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return map_distinct(args[0], lambda s: ord(str(s)[0]) if s else 0, pa.int32())


def _chr(code: object) -> str:
    assert isinstance(code, int)
    if code == 0:
        raise ProgramLimitExceeded("null character not permitted")
    if code < 0:
        raise InvalidParameterValue("character number must be positive")
    if code > 0x10FFFF:
        raise ProgramLimitExceeded(f"requested character too large for encoding: {code}")
    if 0xD800 <= code <= 0xDFFF:
        raise ProgramLimitExceeded(f"requested character not valid for encoding: {code}")
    return chr(code)


@kernel("chr")
def chr_(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return map_distinct(args[0], _chr, pa.string())
