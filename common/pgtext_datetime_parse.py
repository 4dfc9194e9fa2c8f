"""Reading one date or timestamp as PostgreSQL's date/time input does (the general, per-value path).

`common.pgtext_datetime` handles ISO strings a whole column at a time and
sends everything else, and every error, here: this module is the single
source of the error messages. Supported: ISO and SQL-ish dates (Y-M-D,
M/D/Y under DateStyle MDY, YYYYMMDD, month names), times with fractions
and AM/PM, 'T' separators, time zones as offsets, Z/UTC/GMT or IANA names,
AD/BC, and the special words epoch, now, today, tomorrow, yesterday.
'infinity' is refused: Eddy's date and timestamp columns are finite.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from common.errors import (
    DatetimeFieldOverflow,
    FeatureNotSupported,
    InvalidDatetimeFormat,
    InvalidTimeZoneDisplacementValue,
)
from common.pgtext_calendar import (
    MAX_DATE_DAYS,
    MAX_TIMESTAMP_US,
    MIN_DATE_DAYS,
    MIN_TIMESTAMP_US,
    USECS_PER_DAY,
    USECS_PER_HOUR,
    USECS_PER_MINUTE,
    USECS_PER_SEC,
    days_from_civil,
    is_utc,
    local_to_utc,
    normalize_timezone,
    utc_offsets,
    valid_date,
)

DATE = "date"
TIMESTAMP = "timestamp"
TIMESTAMPTZ = "timestamp with time zone"

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_WEEKDAYS = {"mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur", "thurs", "thursday",
             "fri", "friday", "sat", "saturday", "sun", "sunday"}
_FIELD = re.compile(r"\d[\d:.]*(?:[-/][\da-z]+)*|[a-z][a-z_/+\-0-9]*|[+-]\d[\d:]*|[\s,]+")
_T_SEPARATOR = re.compile(r"(?<=\d)t(?=\d)")


@dataclass(slots=True)
class _Fields:
    year: int | None = None
    year_digits: int = 4
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int = 0
    second: int = 0
    micros: int = 0
    ampm: str | None = None
    bc: bool = False
    offset_s: int | None = None
    zone: str | None = None


class _Syntax(Exception):
    """The text is not a date/time (turned into 22007 with the original string)."""


class _Range(Exception):
    """A field is out of range (turned into 22008 with the original string)."""


class _OffsetRange(Exception):
    """A numeric UTC offset beyond +-15:59:59 (turned into 22009)."""


def parse_datetime(text: str, kind: str, timezone: str, datestyle: str = "ISO, MDY") -> int:
    """Days since 1970 (DATE) or UTC microseconds since 1970 (TIMESTAMP[TZ]) of `text`."""
    try:
        return _parse(text, kind, timezone, datestyle)
    except _Syntax:
        raise InvalidDatetimeFormat(f'invalid input syntax for type {kind}: "{text}"') from None
    except _Range:
        raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"') from None
    except _OffsetRange:
        raise InvalidTimeZoneDisplacementValue(f'time zone displacement out of range: "{text}"') from None


def _parse(text: str, kind: str, timezone: str, datestyle: str) -> int:
    s = text.strip().lower()
    special = _special(s, kind, timezone)
    if special is not None:
        return special
    f = _decode(_T_SEPARATOR.sub(" ", s), datestyle)
    if f.year is None or f.month is None or f.day is None:
        raise _Syntax
    year = f.year
    if f.year_digits <= 2 and not f.bc:
        year += 2000 if year < 70 else 1900
    if year <= 0:
        raise _Range
    if f.bc:
        year = 1 - year
    y, m, d = np.array([year]), np.array([f.month]), np.array([f.day])
    if not valid_date(y, m, d)[0]:
        raise _Range
    days = int(days_from_civil(y, m, d)[0])
    hour = 0 if f.hour is None else f.hour
    if f.ampm is not None:
        if hour > 12:
            raise _Range
        hour = hour % 12 + (12 if f.ampm == "pm" else 0)
    if (hour > 24 or f.minute > 59 or f.second > 60
            or (hour == 24 and (f.minute or f.second or f.micros))):
        raise _Range
    if kind == DATE:
        if not MIN_DATE_DAYS <= days <= MAX_DATE_DAYS:
            raise DatetimeFieldOverflow(f'date out of range: "{text}"')
        return days
    local = (days * USECS_PER_DAY + hour * USECS_PER_HOUR + f.minute * USECS_PER_MINUTE
             + f.second * USECS_PER_SEC + f.micros)
    if kind == TIMESTAMPTZ:
        if f.offset_s is not None:
            local -= f.offset_s * USECS_PER_SEC
        else:
            local = int(local_to_utc(np.array([local], dtype=np.int64), f.zone or timezone)[0])
    if not MIN_TIMESTAMP_US <= local <= MAX_TIMESTAMP_US:
        raise DatetimeFieldOverflow(f'timestamp out of range: "{text}"')
    return local


def _special(s: str, kind: str, timezone: str) -> int | None:
    if s in ("infinity", "+infinity", "-infinity"):
        raise FeatureNotSupported(f"infinite {kind} values are not supported")
    if s == "epoch":
        return 0
    if s not in ("now", "today", "tomorrow", "yesterday"):
        return None
    now = dt.datetime.now(dt.UTC)
    now_us = int((now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1_000_000)
    if s == "now":
        if kind == DATE:
            return _local_days(now_us, timezone)
        if kind == TIMESTAMP:
            return now_us + _offset_us(now_us, timezone)
        return now_us
    days = _local_days(now_us, timezone) + {"today": 0, "tomorrow": 1, "yesterday": -1}[s]
    if kind == DATE:
        return days
    if kind == TIMESTAMP:
        return days * USECS_PER_DAY
    return int(local_to_utc(np.array([days * USECS_PER_DAY], dtype=np.int64), timezone)[0])


def _offset_us(utc_us: int, timezone: str) -> int:
    return int(utc_offsets(np.array([utc_us], dtype=np.int64), timezone)[0]) * USECS_PER_SEC


def _local_days(utc_us: int, timezone: str) -> int:
    return (utc_us + _offset_us(utc_us, timezone)) // USECS_PER_DAY


def _decode(s: str, datestyle: str) -> _Fields:
    f = _Fields()
    pos = 0
    loose_numbers: list[str] = []
    while pos < len(s):
        m = _FIELD.match(s, pos)
        if m is None:
            raise _Syntax
        tok = m.group()
        pos = m.end()
        if tok[0] in " \t\n\r,":
            continue
        if tok[0] in "+-":
            _read_offset(f, tok)
        elif tok[0].isdigit():
            _read_numeric_field(f, tok, loose_numbers, datestyle)
        else:
            _read_word(f, tok)
    _place_loose_numbers(f, loose_numbers)
    return f


def _read_numeric_field(f: _Fields, tok: str, loose: list[str], datestyle: str) -> None:
    if ":" in tok:
        _read_time(f, tok)
    elif any(c in tok for c in "-/") or tok.count(".") == 2 or any(c.isalpha() for c in tok):
        _read_date(f, tok, datestyle)
    elif tok.isdigit() and len(tok) == 8 and f.year is None:
        f.year, f.month, f.day = int(tok[:4]), int(tok[4:6]), int(tok[6:])
    elif tok.isdigit():
        loose.append(tok)
    else:
        raise _Syntax


def _read_time(f: _Fields, tok: str) -> None:
    if f.hour is not None:
        raise _Syntax
    m = re.fullmatch(r"(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d*))?)?", tok)
    if m is None:
        raise _Syntax
    f.hour, f.minute = int(m.group(1)), int(m.group(2))
    f.second = int(m.group(3) or 0)
    frac = m.group(4)
    if frac:
        f.micros = round(float("0." + frac) * 1_000_000)


def _read_date(f: _Fields, tok: str, datestyle: str) -> None:
    if f.year is not None:
        raise _Syntax
    parts = re.split(r"[-/.]", tok)
    if len(parts) != 3 or not all(parts):
        raise _Syntax
    names = [i for i, p in enumerate(parts) if not p.isdigit()]
    if names:
        if names not in ([0], [1]) or parts[names[0]] not in MONTHS:
            raise _Syntax
        f.month = MONTHS[parts[names[0]]]
        if names == [0]:
            dstr, ystr = parts[1], parts[2]
        elif len(parts[0]) >= 3:
            ystr, dstr = parts[0], parts[2]
        else:
            dstr, ystr = parts[0], parts[2]
        f.year, f.year_digits, f.day = int(ystr), len(ystr), int(dstr)
        return
    if len(parts[0]) >= 3:
        ystr, mstr, dstr = parts
    elif datestyle.upper().replace(" ", "").endswith("DMY"):
        dstr, mstr, ystr = parts
    else:
        mstr, dstr, ystr = parts
    f.year, f.year_digits, f.month, f.day = int(ystr), len(ystr), int(mstr), int(dstr)


def _read_word(f: _Fields, tok: str) -> None:
    if tok in MONTHS and f.month is None:
        f.month = MONTHS[tok]
    elif tok in ("am", "pm") and f.ampm is None:
        f.ampm = tok
    elif tok in ("ad", "bc"):
        f.bc = tok == "bc"
    elif tok in _WEEKDAYS:
        return
    elif tok in ("z", "zulu", "utc", "gmt", "ut") and f.offset_s is None and f.zone is None:
        f.offset_s = 0
    elif f.zone is None and f.offset_s is None:
        try:
            f.zone = normalize_timezone(tok)
        except Exception:
            raise _Syntax from None
        if is_utc(f.zone):
            f.offset_s = 0
    else:
        raise _Syntax


def _read_offset(f: _Fields, tok: str) -> None:
    if f.offset_s is not None or f.zone is not None or f.year is None:
        raise _Syntax
    sign = -1 if tok[0] == "-" else 1
    body = tok[1:]
    if ":" in body:
        parts = body.split(":")
    elif len(body) <= 2:
        parts = [body]
    elif len(body) in (3, 4):
        parts = [body[:-2], body[-2:]]
    elif len(body) == 6:
        parts = [body[:2], body[2:4], body[4:]]
    else:
        raise _Syntax
    if len(parts) > 3 or not all(p.isdigit() for p in parts):
        raise _Syntax
    hh, mm, ss = (int(p) for p in [*parts, "0", "0"][:3])
    if hh > 15 or mm > 59 or ss > 59:
        raise _OffsetRange
    f.offset_s = sign * (hh * 3600 + mm * 60 + ss)


def _place_loose_numbers(f: _Fields, loose: list[str]) -> None:
    if not loose:
        return
    if f.year is not None or f.month is None or len(loose) != 2:
        raise _Syntax
    first, second = loose
    if len(first) >= 3 or int(first) > 31:
        ystr, dstr = first, second
    else:
        dstr, ystr = first, second
    f.year, f.year_digits, f.day = int(ystr), len(ystr), int(dstr)
