"""Intervals: the Arrow month-day-nano layout as numpy fields, and PostgreSQL's text forms.

An interval is (months, days, microseconds) as in PostgreSQL; Arrow stores
nanoseconds, always a multiple of 1000 here. Output follows IntervalStyle
'postgres' ('1 year 2 mons 3 days 04:05:06.5', '-1 days +02:00:00') or
'iso_8601' ('P1Y2M3DT4H5M6.5S'); input follows PostgreSQL's
DecodeInterval for the postgres and ISO 8601 forms.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa

from common.errors import IntervalFieldOverflow, InvalidDatetimeFormat
from common.pgtext_calendar import USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC

MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = 30
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_LAYOUT = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanos", "<i8")])


def interval_fields(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(months int64, days int64, microseconds int64) arrays of a month_day_nano array (NULLs read as 0)."""
    if len(arr) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    buf = arr.buffers()[1]
    rec = np.frombuffer(buf, dtype=_LAYOUT)[arr.offset: arr.offset + len(arr)]
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    months = np.where(valid, rec["months"], 0).astype(np.int64)
    days = np.where(valid, rec["days"], 0).astype(np.int64)
    micros = np.where(valid, rec["nanos"] // 1000, 0).astype(np.int64)
    return months, days, micros


def make_intervals(months: np.ndarray, days: np.ndarray, micros: np.ndarray,
                   valid: np.ndarray | None = None) -> pa.Array:
    """A month_day_nano array from field arrays; the caller has range-checked them."""
    n = len(months)
    rec = np.zeros(n, dtype=_LAYOUT)
    rec["months"] = months
    rec["days"] = days
    rec["nanos"] = np.asarray(micros, dtype=np.int64) * 1000
    validity = None
    null_count = 0
    if valid is not None and not valid.all():
        validity = pa.array(valid, pa.bool_()).buffers()[1]
        null_count = int(n - valid.sum())
    return pa.Array.from_buffers(pa.month_day_nano_interval(), n, [validity, pa.py_buffer(rec.tobytes())],
                                 null_count=null_count)


# Arrow keeps an interval's time as int64 nanoseconds: about 292 years (2562047 hours), where
# PostgreSQL's int64 microseconds reach 292 thousand years.
MAX_INTERVAL_MICROS = (2**63 - 1) // 1000


def interval_out_of_range(months: np.ndarray, days: np.ndarray, micros: np.ndarray) -> np.ndarray:
    """Rows whose fields do not fit int32 months and days and Arrow's nanosecond time part."""
    return ((months < INT32_MIN) | (months > INT32_MAX) | (days < INT32_MIN) | (days > INT32_MAX)
            | (micros < -MAX_INTERVAL_MICROS) | (micros > MAX_INTERVAL_MICROS))


# -- output -------------------------------------------------------------


def _seconds_text(sec: int, frac: int) -> str:
    text = f"{sec:02d}"
    if frac:
        text += "." + f"{frac:06d}".rstrip("0")
    return text


def format_interval(months: int, days: int, micros: int, style: str = "postgres") -> str:
    if style.lower() == "iso_8601":
        return _format_iso(months, days, micros)
    parts: list[str] = []
    is_before = False
    year, mon = int(months / MONTHS_PER_YEAR), int(math.fmod(months, MONTHS_PER_YEAR))
    for value, unit in ((year, "year"), (mon, "mon"), (days, "day")):
        if value == 0:
            continue
        sign = "+" if is_before and value > 0 else ""
        parts.append(f"{sign}{value} {unit}{'' if value == 1 else 's'}")
        is_before = value < 0
    if not parts or micros != 0:
        minus = micros < 0
        t = abs(micros)
        hh, t = divmod(t, USECS_PER_HOUR)
        mm, t = divmod(t, USECS_PER_MINUTE)
        ss, frac = divmod(t, USECS_PER_SEC)
        sign = "-" if minus else ("+" if is_before else "")
        parts.append(f"{sign}{hh:02d}:{mm:02d}:{_seconds_text(ss, frac)}")
    return " ".join(parts)


def _format_iso(months: int, days: int, micros: int) -> str:
    if months == 0 and days == 0 and micros == 0:
        return "PT0S"
    year, mon = int(months / MONTHS_PER_YEAR), int(math.fmod(months, MONTHS_PER_YEAR))
    out = "P"
    for value, unit in ((year, "Y"), (mon, "M"), (days, "D")):
        if value:
            out += f"{value}{unit}"
    if micros:
        out += "T"
        minus = "-" if micros < 0 else ""
        t = abs(micros)
        hh, t = divmod(t, USECS_PER_HOUR)
        mm, t = divmod(t, USECS_PER_MINUTE)
        ss, frac = divmod(t, USECS_PER_SEC)
        if hh:
            out += f"{minus}{hh}H"
        if mm:
            out += f"{minus}{mm}M"
        if ss or frac:
            text = str(ss) + ("." + f"{frac:06d}".rstrip("0") if frac else "")
            out += f"{minus}{text}S"
    return out


def format_intervals(arr: pa.Array, style: str = "postgres") -> pa.Array:
    """Text of each interval (one Python call per distinct value)."""
    months, days, micros = interval_fields(arr)
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    cache: dict[tuple[int, int, int], str] = {}
    out: list[str | None] = []
    for m, d, u, ok in zip(months.tolist(), days.tolist(), micros.tolist(), valid.tolist()):
        if not ok:
            out.append(None)
            continue
        key = (m, d, u)
        text = cache.get(key)
        if text is None:
            text = cache[key] = format_interval(m, d, u, style)
        out.append(text)
    return pa.array(out, pa.string())


# -- input --------------------------------------------------------------

_UNITS: dict[str, str] = {}
for _unit, _names in {
    "microsecond": "us usec usecs usecond useconds microsecond microseconds microsecon",
    "millisecond": "ms msec msecs msecond mseconds millisecond milliseconds millisecon",
    "second": "s sec secs second seconds",
    "minute": "m min mins minute minutes",
    "hour": "h hr hrs hour hours",
    "day": "d day days",
    "week": "w week weeks",
    "month": "mon mons month months",
    "year": "y yr yrs year years",
    "decade": "dec decs decade decades",
    "century": "c cent century centuries",
    "millennium": "mil mils millennium millennia",
}.items():
    for _name in _names.split():
        _UNITS[_name] = _unit

_TOKEN = re.compile(r"\s*(?:(?P<time>[+-]?\d+:\d+(?::\d+)?(?:\.\d*)?)"
                    r"|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))\s*(?P<unit>[a-z]+)?"
                    r"|(?P<word>[a-z]+|@))")


class _Syntax(Exception):
    pass


class _Overflow(Exception):
    pass


class _Accumulator:
    """PostgreSQL's pg_itm_in: years, months, days and microseconds, each added to once."""

    def __init__(self) -> None:
        self.years = 0
        self.months = 0
        self.days = 0
        self.micros = 0
        self.seen: set[str] = set()

    def mark(self, unit: str) -> None:
        if unit in self.seen:
            raise _Syntax
        self.seen.add(unit)

    def fract_seconds(self, frac: float, scale: int) -> None:
        frac *= scale
        sec = int(frac)
        self.micros += sec * USECS_PER_SEC + round(float(np.rint((frac - sec) * USECS_PER_SEC)))

    def fract_days(self, frac: float, scale: int) -> None:
        frac *= scale
        extra = int(frac)
        self.days += extra
        self.fract_seconds(frac - extra, 86_400)

    def add(self, value: float, whole: int, unit: str) -> None:
        frac = value - whole
        if unit == "microsecond":
            self.micros += round(float(np.rint(value)))
        elif unit == "millisecond":
            self.micros += round(float(np.rint(value * 1000)))
        elif unit == "second":
            self.micros += whole * USECS_PER_SEC + round(float(np.rint(frac * USECS_PER_SEC)))
        elif unit == "minute":
            self.micros += whole * USECS_PER_MINUTE
            self.fract_seconds(frac, 60)
        elif unit == "hour":
            self.micros += whole * USECS_PER_HOUR
            self.fract_seconds(frac, 3600)
        elif unit == "day":
            self.days += whole
            self.fract_seconds(frac, 86_400)
        elif unit == "week":
            self.days += whole * 7
            self.fract_days(frac, 7)
        elif unit == "month":
            self.months += whole
            self.fract_days(frac, DAYS_PER_MONTH)
        else:
            scale = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}[unit]
            self.years += whole * scale
            self.months += round(float(np.rint(frac * scale * MONTHS_PER_YEAR)))

    def result(self, negate: bool) -> tuple[int, int, int]:
        months = self.years * MONTHS_PER_YEAR + self.months
        sign = -1 if negate else 1
        out = (sign * months, sign * self.days, sign * self.micros)
        if not (INT32_MIN <= out[0] <= INT32_MAX and INT32_MIN <= out[1] <= INT32_MAX
                and abs(out[2]) <= MAX_INTERVAL_MICROS):
            raise _Overflow
        return out


def parse_interval(text: str) -> tuple[int, int, int]:
    """(months, days, microseconds) of an interval literal, as PostgreSQL reads it."""
    try:
        s = text.strip().lower()
        if s.startswith("p"):
            return _parse_iso(s)
        return _parse_postgres(s)
    except _Syntax:
        raise InvalidDatetimeFormat(f'invalid input syntax for type interval: "{text}"') from None
    except (_Overflow, OverflowError):
        raise IntervalFieldOverflow(f'interval field value out of range: "{text}"') from None


def _parse_time(acc: _Accumulator, tok: str) -> None:
    acc.mark("time")
    neg = tok.startswith("-")
    parts = tok.lstrip("+-").split(":")
    if len(parts) == 2 and "." in parts[1]:
        hours, minutes, seconds = 0, int(parts[0]), float(parts[1])
    else:
        hours, minutes = int(parts[0]), int(parts[1])
        seconds = float(parts[2]) if len(parts) == 3 else 0.0
    if minutes > 59 or seconds >= 60:
        raise _Overflow
    whole = int(seconds)
    micros = (hours * USECS_PER_HOUR + minutes * USECS_PER_MINUTE + whole * USECS_PER_SEC
              + round(float(np.rint((seconds - whole) * USECS_PER_SEC))))
    acc.micros += -micros if neg else micros


def _parse_postgres(s: str) -> tuple[int, int, int]:
    acc = _Accumulator()
    negate = False
    tokens: list[re.Match[str]] = []
    pos = 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if m is None or m.end() == pos:
            if s[pos:].strip() == "":
                break
            raise _Syntax
        tokens.append(m)
        pos = m.end()
    if not tokens:
        raise _Syntax
    for i, m in enumerate(tokens):
        if m.group("time"):
            _parse_time(acc, m.group("time"))
        elif m.group("num"):
            num, unit_word = m.group("num"), m.group("unit")
            value = float(num)
            whole = int(value)
            if unit_word is None:
                following = tokens[i + 1] if i + 1 < len(tokens) else None
                if following is not None and following.group("time") and "." not in num:
                    unit = "day"
                elif following is None:
                    unit = "second"
                else:
                    raise _Syntax
            elif unit_word == "ago" and i == len(tokens) - 1:
                unit, negate = "second", True
            else:
                unit = _UNITS.get(unit_word, "")
                if not unit:
                    raise _Syntax
            acc.mark(unit)
            acc.add(value, whole, unit)
        else:
            word = m.group("word")
            if word == "@" and i == 0:
                continue
            if word == "ago" and i == len(tokens) - 1:
                negate = True
                continue
            raise _Syntax
    return acc.result(negate)


_ISO_DESIGNATORS = {"y": "year", "m": "month", "w": "week", "d": "day"}
_ISO_TIME_DESIGNATORS = {"h": "hour", "m": "minute", "s": "second"}
_ISO_ALTERNATIVE = re.compile(r"p(\d+)-(\d+)-(\d+)(?:t(\d+):(\d+):(\d+(?:\.\d*)?))?")


def _parse_iso(s: str) -> tuple[int, int, int]:
    alt = _ISO_ALTERNATIVE.fullmatch(s)
    acc = _Accumulator()
    if alt is not None:
        y, mo, d, h, mi, sec = alt.groups()
        acc.add(float(y), int(y), "year")
        acc.add(float(mo), int(mo), "month")
        acc.add(float(d), int(d), "day")
        if h is not None:
            acc.add(float(h), int(h), "hour")
            acc.add(float(mi), int(mi), "minute")
            acc.add(float(sec), int(float(sec)), "second")
        return acc.result(False)
    body = s[1:]
    if not body:
        raise _Syntax
    in_time = False
    for m in re.finditer(r"(t)|([+-]?(?:\d+\.?\d*|\.\d+))([a-z])|(.)", body):
        if m.group(1):
            if in_time:
                raise _Syntax
            in_time = True
            continue
        if m.group(4) is not None:
            raise _Syntax
        table = _ISO_TIME_DESIGNATORS if in_time else _ISO_DESIGNATORS
        unit = table.get(m.group(3))
        if unit is None:
            raise _Syntax
        value = float(m.group(2))
        acc.mark(unit)
        acc.add(value, int(value), unit)
    return acc.result(False)


def parse_intervals(strings: pa.Array) -> pa.Array:
    """A month_day_nano column from a string column; raises on the first bad row."""
    n = len(strings)
    months = np.zeros(n, dtype=np.int64)
    days = np.zeros(n, dtype=np.int64)
    micros = np.zeros(n, dtype=np.int64)
    cache: dict[str, tuple[int, int, int]] = {}
    values = strings.to_pylist()
    for i, s in enumerate(values):
        if s is None:
            continue
        parsed = cache.get(s)
        if parsed is None:
            parsed = cache[s] = parse_interval(s)
        months[i], days[i], micros[i] = parsed
    valid = np.array([v is not None for v in values], dtype=bool)
    return make_intervals(months, days, micros, valid)
