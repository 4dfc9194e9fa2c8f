"""PostgreSQL text output and input of date, timestamp and timestamptz columns, vectorized.

Output is built from numpy field arrays with Arrow string kernels, so it
covers every year PostgreSQL does (zero-padded to four digits, ' BC' for
years before 1 AD). Input takes ISO strings a column at a time and hands
anything else, and every error, to `common.pgtext_datetime_parse`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.pgtext_calendar import (
    MAX_DATE_DAYS,
    MAX_TIMESTAMP_US,
    MIN_DATE_DAYS,
    MIN_TIMESTAMP_US,
    USECS_PER_DAY,
    USECS_PER_HOUR,
    USECS_PER_MINUTE,
    USECS_PER_SEC,
    civil_from_days,
    days_from_civil,
    format_offset,
    local_to_utc,
    utc_offsets,
    valid_date,
)
from common.pgtext_datetime_parse import DATE, TIMESTAMP, TIMESTAMPTZ, parse_datetime

# -- output -------------------------------------------------------------


def _padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(values, pa.int64()).cast(pa.string()), width, "0")


def _date_part(days: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    y, m, d = civil_from_days(days)
    bc = y <= 0
    text = pc.binary_join_element_wise(_padded(np.where(bc, 1 - y, y), 4), _padded(m, 2), _padded(d, 2), "-")
    return text, bc


def _time_part(us_of_day: np.ndarray) -> pa.Array:
    hh = us_of_day // USECS_PER_HOUR
    mi = us_of_day // USECS_PER_MINUTE % 60
    ss = us_of_day // USECS_PER_SEC % 60
    frac = us_of_day % USECS_PER_SEC
    text = pc.binary_join_element_wise(_padded(hh, 2), _padded(mi, 2), _padded(ss, 2), ":")
    if not frac.any():
        return text
    digits = pc.utf8_rtrim(_padded(frac, 6), "0")
    with_frac = pc.binary_join_element_wise(text, digits, ".")
    return pc.if_else(pa.array(frac != 0), with_frac, text)


def _with_bc(text: pa.Array, bc: np.ndarray) -> pa.Array:
    if not bc.any():
        return text
    return pc.if_else(pa.array(bc), pc.binary_join_element_wise(text, " BC", ""), text)


def format_dates(days: np.ndarray) -> pa.Array:
    """'YYYY-MM-DD' (with ' BC' before 1 AD) for each day number."""
    text, bc = _date_part(days)
    return _with_bc(text, bc)


def format_timestamps(us: np.ndarray, offsets: np.ndarray | None = None) -> pa.Array:
    """'YYYY-MM-DD HH:MM:SS[.ffffff]' of local microseconds, with '+HH[:MM]' when `offsets` (seconds) is given."""
    us = us.astype(np.int64)
    days = us // USECS_PER_DAY
    date_text, bc = _date_part(days)
    text = pc.binary_join_element_wise(date_text, _time_part(us - days * USECS_PER_DAY), " ")
    if offsets is not None:
        distinct, index = np.unique(offsets, return_inverse=True)
        names = pa.array([format_offset(int(o)) for o in distinct], pa.string())
        text = pc.binary_join_element_wise(text, names.take(pa.array(index.reshape(-1))), "")
    return _with_bc(text, bc)


def format_timestamptzs(utc_us: np.ndarray, timezone: str) -> pa.Array:
    offsets = utc_offsets(utc_us, timezone)
    return format_timestamps(utc_us + offsets * USECS_PER_SEC, offsets)


# -- input --------------------------------------------------------------

# The ISO forms nearly all machine-written input uses.
_ISO = (r"^\s*(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
        r"(?:[ Tt](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?"
        r"\s*(?:(?P<z>[Zz])|(?P<tzs>[+-])(?P<tzh>\d{2})(?::?(?P<tzm>\d{2}))?)?\s*$")


def _field(parts: pa.StructArray, name: str) -> np.ndarray:
    col = parts.field(name)
    col = pc.if_else(pc.equal(col, ""), "0", col)
    return np.asarray(col.cast(pa.int64()).to_numpy(zero_copy_only=False))


def parse_datetimes(strings: pa.Array, kind: str, timezone: str, datestyle: str) -> pa.Array:
    """Parse a string column into int64 days (DATE) or UTC/local microseconds; raises on the first bad row."""
    n = len(strings)
    out = np.zeros(n, dtype=np.int64)
    valid = np.asarray(strings.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    fast = np.asarray(pc.fill_null(pc.match_substring_regex(strings, _ISO), False).to_numpy(zero_copy_only=False),
                      dtype=bool)
    bad = np.zeros(n, dtype=bool)
    if fast.any():
        idx = np.flatnonzero(fast)
        values, ok = _parse_iso(strings.take(pa.array(idx)), kind, timezone)
        out[idx] = values
        bad[idx] = ~ok
    slow = (valid & ~fast) | bad
    for i in np.flatnonzero(slow):
        out[i] = parse_datetime(strings[int(i)].as_py(), kind, timezone, datestyle)
    return pa.array(out, pa.int64(), mask=~valid)


def _parse_iso(strings: pa.Array, kind: str, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    parts = pc.extract_regex(strings, _ISO)
    y, mo, d = _field(parts, "y"), _field(parts, "mo"), _field(parts, "d")
    tzh, tzm = _field(parts, "tzh"), _field(parts, "tzm")
    # PostgreSQL checks a written offset even where it then ignores it.
    ok = valid_date(y, mo, d) & (y > 0) & (tzh <= 15) & (tzm <= 59)
    days = days_from_civil(y, np.where(ok, mo, 1), np.where(ok, d, 1))
    if kind == DATE:
        return days, ok & (days >= MIN_DATE_DAYS) & (days <= MAX_DATE_DAYS)
    h, mi, s = _field(parts, "h"), _field(parts, "mi"), _field(parts, "s")
    frac_text = pc.utf8_rpad(parts.field("f"), 6, "0")
    frac = np.asarray(frac_text.cast(pa.int64()).to_numpy(zero_copy_only=False))
    ok &= (h <= 24) & (mi <= 59) & (s <= 60) & ((h < 24) | ((mi == 0) & (s == 0) & (frac == 0)))
    us = days * USECS_PER_DAY + h * USECS_PER_HOUR + mi * USECS_PER_MINUTE + s * USECS_PER_SEC + frac
    if kind == TIMESTAMPTZ:
        has_offset = np.asarray(pc.not_equal(parts.field("tzs"), "").to_numpy(zero_copy_only=False), dtype=bool)
        has_z = np.asarray(pc.not_equal(parts.field("z"), "").to_numpy(zero_copy_only=False), dtype=bool)
        sign = np.where(np.asarray(pc.equal(parts.field("tzs"), "-").to_numpy(zero_copy_only=False)), -1, 1)
        explicit = has_offset | has_z
        shifted = us - sign * (tzh * 3600 + tzm * 60) * USECS_PER_SEC
        if (~explicit).any():
            local = local_to_utc(np.where(ok, us, 0), timezone)
            us = np.where(explicit, shifted, local)
        else:
            us = shifted
    ok &= (us >= MIN_TIMESTAMP_US) & (us <= MAX_TIMESTAMP_US)
    return us, ok


__all__ = ["DATE", "TIMESTAMP", "TIMESTAMPTZ", "format_dates", "format_timestamps", "format_timestamptzs",
           "parse_datetimes"]
