"""to_timestamp(text, format) and to_date(text, format): reading dates through PostgreSQL template patterns.

The common patterns of PostgreSQL's from_char machinery: YYYY, YYY, YY,
Y, MM, DD, DDD, HH24, HH12/HH, MI, SS, MS, US, FF1-6, AM/PM (and a.m.),
Month/Mon, Day/Dy (read and ignored), TZH, TZM, quoted literals and
separators, which in the template match any single separator of the input
(or none). A missing year reads as 1 BC, as in PostgreSQL. One Python
call per distinct (string, format) pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from common.errors import DatetimeFieldOverflow, InvalidDatetimeFormat
from common.expr import FuncCall
from common.pgtext_calendar import (
    USECS_PER_DAY,
    USECS_PER_HOUR,
    USECS_PER_MINUTE,
    USECS_PER_SEC,
    days_from_civil,
    local_to_utc,
    valid_date,
)
from common.types import TypeName
from compute.expr.context import EvalContext
from compute.expr.kernel import per_distinct
from compute.expr.to_char import DAY_NAMES, MONTH_NAMES, Node, parse_template

_WIDTH = {"YYYY": 4, "YYY": 3, "YY": 2, "Y": 1, "MM": 2, "DD": 2, "DDD": 3, "HH24": 2, "HH12": 2, "HH": 2,
          "MI": 2, "SS": 2, "MS": 3, "US": 6, "FF1": 1, "FF2": 2, "FF3": 3, "FF4": 4, "FF5": 5, "FF6": 6,
          "IYYY": 4, "J": 10, "SSSS": 5, "SSSSS": 5, "TZM": 2, "D": 1, "ID": 1, "Q": 1, "W": 1, "WW": 2, "IW": 2,
          "CC": 2}


@dataclass(slots=True)
class _Parsed:
    year: int | None = None
    year_digits: int = 4
    month: int = 1
    day: int = 1
    doy: int | None = None
    hour: int = 0
    minute: int = 0
    second: int = 0
    micros: int = 0
    pm: bool | None = None
    clock12: bool = False
    bc: bool = False
    offset_s: int | None = None


def _is_separator(c: str) -> bool:
    return not c.isalnum()


class _Reader:
    def __init__(self, text: str, nodes: list[Node]) -> None:
        self.text = text
        self.nodes = nodes
        self.pos = 0
        self.out = _Parsed()

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def run(self) -> _Parsed:
        for i, node in enumerate(self.nodes):
            if node.pattern is None:
                self._literal(node.text)
                continue
            self.skip_spaces()
            nxt = self.nodes[i + 1] if i + 1 < len(self.nodes) else None
            self._field(node.pattern, nxt is not None and nxt.pattern is not None)
        return self.out

    def _literal(self, text: str) -> None:
        for ch in text:
            if self.pos >= len(self.text):
                return
            here = self.text[self.pos]
            if _is_separator(ch):
                if _is_separator(here):
                    self.pos += 1
                    if ch.isspace():
                        self.skip_spaces()
            elif here.lower() == ch.lower():
                self.pos += 1

    def _int(self, pattern: str, fixed: bool) -> tuple[int, int]:
        width = _WIDTH.get(pattern.upper(), 10)
        start = self.pos
        end = start
        limit = start + width if fixed else len(self.text)
        if end < len(self.text) and self.text[end] in "+-" and pattern.upper() in ("TZH",):
            end += 1
        while end < min(limit, len(self.text)) and self.text[end].isdigit():
            end += 1
        chunk = self.text[start:end]
        if not chunk.lstrip("+-"):
            if start >= len(self.text):
                raise InvalidDatetimeFormat(f'source string too short for "{pattern}" formatting field')
            raise InvalidDatetimeFormat(f'invalid value "{self.text[start:start + width]}" for "{pattern}"',
                                        detail="Value must be an integer.")
        self.pos = end
        return int(chunk), len(chunk.lstrip("+-"))

    def _name(self, pattern: str, names: list[str]) -> int:
        rest = self.text[self.pos:].lower()
        full = pattern.upper() in ("MONTH", "DAY")
        for i, name in enumerate(names):
            candidate = name.lower() if full else name[:3].lower()
            if rest.startswith(candidate):
                self.pos += len(candidate)
                return i
        raise InvalidDatetimeFormat(f'invalid value "{self.text[self.pos:self.pos + 3]}" for "{pattern}"',
                                    detail="The given value did not match any of the allowed values for this field.")

    def _field(self, pattern: str, fixed: bool) -> None:
        p = pattern.upper()
        o = self.out
        if p in ("MONTH", "MON"):
            o.month = self._name(pattern, MONTH_NAMES) + 1
        elif p in ("DAY", "DY"):
            self._name(pattern, DAY_NAMES)
        elif p in ("AM", "PM", "A.M.", "P.M."):
            rest = self.text[self.pos:].lower()
            for label, pm in (("a.m.", False), ("p.m.", True), ("am", False), ("pm", True)):
                if rest.startswith(label):
                    self.pos += len(label)
                    o.pm = pm
                    return
            raise InvalidDatetimeFormat(f'invalid value "{self.text[self.pos:self.pos + 2]}" for "{pattern}"')
        elif p in ("AD", "BC", "A.D.", "B.C."):
            rest = self.text[self.pos:].lower()
            for label in ("a.d.", "b.c.", "ad", "bc"):
                if rest.startswith(label):
                    self.pos += len(label)
                    o.bc = label.startswith("b")
                    return
        elif p == "TZH":
            value, _ = self._int(pattern, fixed)
            o.offset_s = value * 3600 + (o.offset_s or 0)
        elif p == "TZM":
            value, _ = self._int(pattern, fixed)
            base = o.offset_s or 0
            o.offset_s = base - value * 60 if base < 0 else base + value * 60
        elif p == "Y,YYY":
            thousands, _ = self._int("Y", False)
            self.pos += 1 if self.text[self.pos:self.pos + 1] == "," else 0
            low, _ = self._int("YYY", True)
            o.year, o.year_digits = thousands * 1000 + low, 4
        else:
            value, digits = self._int(pattern, fixed)
            self._assign(p, value, digits)

    def _assign(self, p: str, value: int, digits: int) -> None:
        o = self.out
        if p in ("YYYY", "YYY", "YY", "Y", "IYYY"):
            o.year, o.year_digits = value, digits if p != "YYYY" else 4
        elif p == "MM":
            o.month = value
        elif p == "DD":
            o.day = value
        elif p == "DDD":
            o.doy = value
        elif p in ("HH24",):
            o.hour = value
        elif p in ("HH", "HH12"):
            o.hour, o.clock12 = value, True
        elif p == "MI":
            o.minute = value
        elif p == "SS":
            o.second = value
        elif p == "MS":
            o.micros = value * 10 ** (3 - digits) * 1000 if digits <= 3 else value
        elif p == "US" or p.startswith("FF"):
            o.micros = value * 10 ** (6 - digits)
        elif p in ("SSSS", "SSSSS"):
            o.hour, o.minute, o.second = value // 3600, value // 60 % 60, value % 60


def _adjust_year(year: int, digits: int) -> int:
    """PostgreSQL's adjust_partial_year_to_2020."""
    if digits == 1:
        return year + 2000
    if digits == 2:
        return year + (2000 if year < 70 else 1900)
    if digits == 3:
        return year + (2000 if year < 100 else 1000)
    return year


def parse_one(text: str, fmt: str, with_time: bool) -> tuple[int, int | None]:
    """(local days or microseconds, explicit UTC offset in seconds or None)."""
    p = _Reader(text, parse_template(fmt)).run()
    if p.year is None:
        year = 0
    else:
        year = _adjust_year(p.year, p.year_digits)
        year = 1 - year if p.bc else year
    y = np.array([year])
    if p.doy is not None:
        days = int(days_from_civil(y, np.array([1]), np.array([1]))[0]) + p.doy - 1
    else:
        if not valid_date(y, np.array([p.month]), np.array([p.day]))[0]:
            raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')
        days = int(days_from_civil(y, np.array([p.month]), np.array([p.day]))[0])
    hour = p.hour
    if p.clock12 or p.pm is not None:
        if p.clock12 and not 1 <= hour <= 12:
            raise InvalidDatetimeFormat(f'hour "{hour}" is invalid for the 12-hour clock',
                                        hint="Use the 24-hour clock, or give an hour between 1 and 12.")
        hour = hour % 12 + (12 if p.pm else 0)
    if hour > 24 or p.minute > 59 or p.second > 60 or (hour == 24 and (p.minute or p.second or p.micros)):
        raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')
    if not with_time:
        return days, None
    local = (days * USECS_PER_DAY + hour * USECS_PER_HOUR + p.minute * USECS_PER_MINUTE
             + p.second * USECS_PER_SEC + p.micros)
    return local, p.offset_s


def parse_with_format(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, fmt = args
    with_time = call.type.name is TypeName.TIMESTAMPTZ

    def parse(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        value, offset = parse_one(str(key[0]), str(key[1]), with_time)
        if not with_time:
            return pa.repeat(pa.scalar(value, pa.int32()).cast(pa.date32()), len(rows))
        if offset is not None:
            utc = value - offset * USECS_PER_SEC
        else:
            utc = int(local_to_utc(np.array([value], dtype=np.int64), ctx.format.timezone)[0])
        return pa.repeat(pa.scalar(utc, pa.int64()).cast(pa.timestamp("us", "UTC")), len(rows))

    return per_distinct([text, fmt], len(text), parse, call.type.arrow)
