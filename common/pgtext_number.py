"""PostgreSQL text output and input of integers, floats, NUMERIC and booleans, a column at a time.

Floats print as PostgreSQL 12+ does: the shortest digits that read back
exactly, in positional notation for decimal exponents from -4 up to 14
(float8) or 5 (float4) and as 'd.ddde+XX' otherwise. Unconstrained NUMERIC
is decimal128(38, 10) and prints without trailing zeros; NUMERIC(p, s)
keeps its scale.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import FeatureNotSupported, InvalidTextRepresentation, NumericValueOutOfRange
from common.types import NUMERIC_MAX_PRECISION, DataType, TypeName

_INT_RANGES: dict[TypeName, tuple[int, int]] = {
    TypeName.SMALLINT: (-(2**15), 2**15 - 1),
    TypeName.INTEGER: (-(2**31), 2**31 - 1),
    TypeName.BIGINT: (-(2**63), 2**63 - 1),
}
# Digits C's %g prints for DBL_DIG / FLT_DIG, the base of extra_float_digits.
_FLOAT_DIG = {TypeName.DOUBLE: 15, TypeName.REAL: 6}

# -- output -------------------------------------------------------------


def format_bools(arr: pa.Array) -> pa.Array:
    return pc.if_else(arr, "t", "f")


def format_integers(arr: pa.Array) -> pa.Array:
    return arr.cast(pa.string())


def format_floats(arr: pa.Array, t: DataType, extra_float_digits: int) -> pa.Array:
    if extra_float_digits <= 0:
        return _format_floats_g(arr, max(1, _FLOAT_DIG[t.name] + extra_float_digits))
    text = arr.cast(pa.string())
    sign_and_body = pc.extract_regex(pc.fill_null(text, "0"), r"^(?P<sign>-?)(?P<int>\d+)(?:\.(?P<frac>\d+))?"
                                                            r"(?:e(?P<exp>[+-]\d+))?$|^(?P<special>-?(?:nan|inf))$")
    special = sign_and_body.field("special")
    is_special = np.asarray(pc.not_equal(special, "").to_numpy(zero_copy_only=False), dtype=bool)
    all_digits = pc.binary_join_element_wise(sign_and_body.field("int"), sign_and_body.field("frac"), "")
    stripped = pc.utf8_ltrim(all_digits, "0")
    leading = _lengths(all_digits) - _lengths(stripped)
    digits = pc.utf8_rtrim(stripped, "0")
    exp_field = pc.replace_substring(sign_and_body.field("exp"), "+", "")
    exp = np.asarray(pc.if_else(pc.equal(exp_field, ""), "0", exp_field).cast(pa.int64())
                     .to_numpy(zero_copy_only=False))
    decimal_exp = _lengths(sign_and_body.field("int")) - 1 - leading + exp
    is_zero = _lengths(digits) == 0
    upper = 15 if t.name is TypeName.DOUBLE else 6
    body = _assemble(digits, decimal_exp, ~is_zero & ~is_special, upper)
    body = pc.if_else(pa.array(is_zero), "0", body)
    out = pc.binary_join_element_wise(sign_and_body.field("sign"), body, "")
    specials = pc.replace_substring(pc.replace_substring(special, "nan", "NaN"), "inf", "Infinity")
    out = pc.if_else(pa.array(is_special), pc.replace_substring(specials, "-NaN", "NaN"), out)
    out = _fix_boundary_cases(arr, t, out, upper)
    return pc.if_else(arr.is_valid(), out, pa.scalar(None, pa.string()))


# Magnitudes from which a float's rounding boundary can itself be a short
# decimal (2^50 for doubles, 2^22 for reals). Arrow's shortest output may
# then pick the boundary, which PostgreSQL's Ryu never does.
_BOUNDARY_FROM = {TypeName.DOUBLE: 2.0**50, TypeName.REAL: 2.0**22}


def _fix_boundary_cases(arr: pa.Array, t: DataType, out: pa.Array, upper: int) -> pa.Array:
    v = np.asarray(arr.fill_null(0).to_numpy(zero_copy_only=False))
    with np.errstate(invalid="ignore"):
        suspect = np.isfinite(v) & (np.abs(v) >= _BOUNDARY_FROM[t.name])
    if not suspect.any():
        return out
    idx = np.flatnonzero(suspect)
    fixed = [_shortest_inside(v[i], upper) for i in idx.tolist()]
    return _scatter(out, idx, pa.array(fixed, pa.string()))


def _shortest_inside(value: np.floating, upper: int) -> str:
    """The shortest decimal strictly inside `value`'s rounding interval, in PostgreSQL's notation."""
    dtype = type(value)
    exact = Fraction(float(value))
    with np.errstate(over="ignore"):
        below, above = np.nextafter(value, dtype(-np.inf)), np.nextafter(value, dtype(np.inf))
    low = (exact + Fraction(float(below))) / 2 if np.isfinite(below) else exact - (Fraction(float(above)) - exact) / 2
    high = (exact + Fraction(float(above))) / 2 if np.isfinite(above) else exact + (exact - Fraction(float(below))) / 2
    for digits in range(1, 18):
        text = f"{float(value):.{digits - 1}e}"
        if low < Fraction(Decimal(text)) < high:
            break
    mantissa, exponent = text.split("e")
    body = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exp = int(exponent)
    sign = "-" if mantissa.startswith("-") else ""
    if exp < -4 or exp >= upper:
        head, tail = body[0], body[1:]
        return f"{sign}{head}{'.' + tail if tail else ''}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp >= len(body) - 1:
        return sign + body + "0" * (exp - len(body) + 1)
    return f"{sign}{body[:exp + 1]}.{body[exp + 1:]}"


def _lengths(a: pa.Array) -> np.ndarray:
    return np.asarray(pc.utf8_length(a).to_numpy(zero_copy_only=False), dtype=np.int64)


def _assemble(digits: pa.Array, exp: np.ndarray, live: np.ndarray, upper: int) -> pa.Array:
    """Digit strings placed at decimal exponent `exp`, positional for -4 <= exp < upper."""
    n = len(digits)
    pieces: list[pa.Array] = []
    order: list[np.ndarray] = []
    sci = live & ((exp < -4) | (exp >= upper))
    if sci.any():
        idx = np.flatnonzero(sci)
        d = digits.take(pa.array(idx))
        head = pc.utf8_slice_codeunits(d, 0, 1)
        tail = pc.utf8_slice_codeunits(d, 1)
        mantissa = pc.if_else(pc.equal(tail, ""), head, pc.binary_join_element_wise(head, tail, "."))
        e = exp[idx]
        e_text = pc.utf8_lpad(pa.array(np.abs(e)).cast(pa.string()), 2, "0")
        e_sign = pa.array(np.where(e < 0, "e-", "e+"))
        pieces.append(pc.binary_join_element_wise(mantissa, e_sign, e_text, ""))
        order.append(idx)
    positional = live & ~sci
    for e_value in np.unique(exp[positional]).tolist():
        idx = np.flatnonzero(positional & (exp == e_value))
        d = digits.take(pa.array(idx))
        if e_value < 0:
            pieces.append(pc.binary_join_element_wise("0." + "0" * (-e_value - 1), d, ""))
        else:
            whole = pc.utf8_rpad(pc.utf8_slice_codeunits(d, 0, e_value + 1), e_value + 1, "0")
            frac = pc.utf8_slice_codeunits(d, e_value + 1)
            pieces.append(pc.if_else(pc.equal(frac, ""), whole, pc.binary_join_element_wise(whole, frac, ".")))
        order.append(idx)
    rest = np.flatnonzero(~live)
    pieces.append(pa.array([""] * len(rest), pa.string()))
    order.append(rest)
    merged = pa.concat_arrays(pieces)
    positions = np.concatenate(order)
    inverse = np.empty(n, dtype=np.int64)
    inverse[positions] = np.arange(n)
    return merged.take(pa.array(inverse))


def _format_floats_g(arr: pa.Array, precision: int) -> pa.Array:
    out: list[str | None] = []
    for v in arr.to_pylist():
        if v is None:
            out.append(None)
        elif v != v:
            out.append("NaN")
        elif v in (float("inf"), float("-inf")):
            out.append("Infinity" if v > 0 else "-Infinity")
        else:
            out.append(f"{v:.{precision}g}")
    return pa.array(out, pa.string())


def format_numerics(arr: pa.Array, t: DataType) -> pa.Array:
    text = arr.cast(pa.string())
    # Arrow switches to scientific notation for tiny magnitudes (and zero).
    sci = pc.fill_null(pc.match_substring(text, "E"), False)
    if pc.any(sci).as_py():
        scale = t.effective_scale
        fixed = [None if v is None else f"{v:.{scale}f}" for v in arr.filter(sci).to_pylist()]
        idx = np.flatnonzero(np.asarray(sci.to_numpy(zero_copy_only=False), dtype=bool))
        text = _scatter(text, idx, pa.array(fixed, pa.string()))
    if t.scale is None:
        text = pc.replace_substring_regex(pc.replace_substring_regex(text, r"0+$", ""), r"\.$", "")
        text = pc.if_else(pc.equal(text, "-0"), "0", text)
    return text


def _scatter(base: pa.Array, idx: np.ndarray, values: pa.Array) -> pa.Array:
    mask = np.zeros(len(base), dtype=bool)
    mask[idx] = True
    return pc.replace_with_mask(base, pa.array(mask), values)


# -- input --------------------------------------------------------------


def _first_bad(bad: np.ndarray) -> int | None:
    return int(np.argmax(bad)) if bad.any() else None


def _valid_mask(strings: pa.Array) -> np.ndarray:
    return np.asarray(strings.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _matches(strings: pa.Array, pattern: str) -> np.ndarray:
    m = pc.match_substring_regex(strings, pattern, ignore_case=True)
    return np.asarray(pc.fill_null(m, False).to_numpy(zero_copy_only=False), dtype=bool)


def parse_integers(strings: pa.Array, t: DataType) -> pa.Array:
    valid = _valid_mask(strings)
    trimmed = pc.utf8_trim_whitespace(strings)
    ok = _matches(trimmed, r"^[+-]?\d+$")
    bad = valid & ~ok
    first = _first_bad(bad)
    if first is not None:
        raise InvalidTextRepresentation(f'invalid input syntax for type {t.name.value}: "{strings[first].as_py()}"')
    lo, hi = _INT_RANGES[t.name]
    cleaned = pc.replace_substring_regex(pc.if_else(pa.array(valid), trimmed, "0"), r"^\+", "")
    long_digits = _lengths(pc.utf8_ltrim(pc.utf8_ltrim(cleaned, "-"), "0")) > 18
    if long_digits.any():
        values = [int(s) for s in cleaned.to_pylist()]
        out_of_range = np.array([not lo <= v <= hi for v in values], dtype=bool) & valid
        safe = np.array([v if lo <= v <= hi else 0 for v in values], dtype=np.int64)
    else:
        safe = np.asarray(cleaned.cast(pa.int64()).to_numpy(zero_copy_only=False))
        out_of_range = valid & ((safe < lo) | (safe > hi))
    first = _first_bad(out_of_range)
    if first is not None:
        raise NumericValueOutOfRange(f'value "{strings[first].as_py()}" is out of range for type {t.name.value}')
    return pa.array(np.where(valid, safe, 0), t.arrow, mask=~valid)


_FLOAT_RE = r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf|infinity|nan)$"
_ZERO_MANTISSA_RE = r"^[+-]?0*\.?0*(?:e|$)"
_INF_RE = r"^[+-]?inf(?:inity)?$"


def parse_floats(strings: pa.Array, t: DataType) -> pa.Array:
    valid = _valid_mask(strings)
    trimmed = pc.utf8_lower(pc.utf8_trim_whitespace(strings))
    ok = _matches(trimmed, _FLOAT_RE)
    first = _first_bad(valid & ~ok)
    if first is not None:
        raise InvalidTextRepresentation(f'invalid input syntax for type {t.name.value}: "{strings[first].as_py()}"')
    filled = pc.if_else(pa.array(valid), trimmed, "0")
    values = np.asarray(filled.cast(pa.float64()).to_numpy(zero_copy_only=False))
    inf_literal = _matches(filled, _INF_RE)
    zero_literal = _matches(filled, _ZERO_MANTISSA_RE)
    if t.name is TypeName.REAL:
        with np.errstate(over="ignore", under="ignore"):
            narrow = values.astype(np.float32)
        overflow = np.isinf(narrow) & ~inf_literal
        underflow = (narrow == 0) & ~zero_literal
        result: np.ndarray = narrow
    else:
        overflow = np.isinf(values) & ~inf_literal
        underflow = (values == 0) & ~zero_literal
        result = values
    first = _first_bad(valid & (overflow | underflow))
    if first is not None:
        raise NumericValueOutOfRange(f'"{strings[first].as_py()}" is out of range for type {t.name.value}')
    return pa.array(result, t.arrow, mask=~valid)


_NUMERIC_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$"


def numeric_overflow(t: DataType) -> NumericValueOutOfRange:
    if t.precision is None:
        return NumericValueOutOfRange("value overflows numeric format")
    scale = t.effective_scale
    digits = t.precision - scale
    bound = f"10^{digits}" if digits else "1"
    return NumericValueOutOfRange(
        "numeric field overflow",
        detail=f"A field with precision {t.precision}, scale {scale} must round to an absolute value less than {bound}.")


def numeric_limit(t: DataType) -> Decimal:
    """The smallest magnitude that no longer fits `t` (10^(p-s))."""
    precision = NUMERIC_MAX_PRECISION if t.precision is None else t.precision
    return Decimal(10) ** (precision - t.effective_scale)


def check_numeric_range(arr: pa.Array, t: DataType) -> np.ndarray:
    """Rows of a decimal array (already at `t`'s scale) whose magnitude does not fit `t`'s precision."""
    precision = NUMERIC_MAX_PRECISION if t.precision is None else t.precision
    if arr.type.precision - arr.type.scale <= precision - t.effective_scale:
        return np.zeros(len(arr), dtype=bool)
    wide = pa.decimal256(76, arr.type.scale)
    too_big = pc.greater_equal(pc.abs(arr.cast(wide)), pa.scalar(numeric_limit(t), wide))
    return np.asarray(pc.fill_null(too_big, False).to_numpy(zero_copy_only=False), dtype=bool)


def parse_numerics(strings: pa.Array, t: DataType) -> pa.Array:
    valid = _valid_mask(strings)
    trimmed = pc.utf8_trim_whitespace(strings)
    ok = _matches(trimmed, _NUMERIC_RE)
    special = _matches(trimmed, r"^[+-]?(?:nan|inf|infinity)$")
    first = _first_bad(valid & ~ok)
    if first is not None:
        if special[first]:
            raise FeatureNotSupported(f'numeric value "{strings[first].as_py()}" is not supported (NaN and '
                                      f"infinity cannot be stored)")
        raise InvalidTextRepresentation(f'invalid input syntax for type numeric: "{strings[first].as_py()}"')
    filled = pc.if_else(pa.array(valid), trimmed, "0")
    scale = t.effective_scale
    try:
        wide = filled.cast(pa.decimal256(76, scale))
    except pa.ArrowInvalid:
        return _parse_numerics_slow(strings, filled, valid, t)
    too_big = check_numeric_range(wide, t)
    first = _first_bad(valid & too_big)
    if first is not None:
        raise numeric_overflow(t)
    return pc.if_else(pa.array(valid), wide.cast(t.arrow), pa.scalar(None, t.arrow))


def _parse_numerics_slow(strings: pa.Array, filled: pa.Array, valid: np.ndarray, t: DataType) -> pa.Array:
    quantum = Decimal(1).scaleb(-t.effective_scale)
    limit = numeric_limit(t)
    out: list[Decimal | None] = []
    for ok, text in zip(valid.tolist(), filled.to_pylist()):
        if not ok:
            out.append(None)
            continue
        try:
            with localcontext() as c:
                c.prec = 100
                value = Decimal(text).quantize(quantum, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise numeric_overflow(t) from None
        if abs(value) >= limit:
            raise numeric_overflow(t)
        out.append(value)
    return pa.array(out, t.arrow)


_BOOL_WORDS: dict[str, bool] = {"1": True, "0": False, "on": True, "of": False, "off": False}
for _word, _value in (("true", True), ("false", False), ("yes", True), ("no", False)):
    for _i in range(1, len(_word) + 1):
        _BOOL_WORDS[_word[:_i]] = _value
_BOOL_KEYS = pa.array(list(_BOOL_WORDS), pa.string())
_BOOL_VALUES = pa.array(list(_BOOL_WORDS.values()), pa.bool_())


def parse_bools(strings: pa.Array) -> pa.Array:
    valid = _valid_mask(strings)
    key = pc.utf8_lower(pc.utf8_trim_whitespace(strings))
    index = pc.index_in(key, value_set=_BOOL_KEYS)
    bad = valid & np.asarray(index.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    first = _first_bad(bad)
    if first is not None:
        raise InvalidTextRepresentation(f'invalid input syntax for type boolean: "{strings[first].as_py()}"')
    return _BOOL_VALUES.take(index)
