"""to_char for timestamps, timestamptz and intervals: PostgreSQL's template patterns, vectorized.

A template is parsed once per distinct format string into literal text
and field patterns (YYYY, MM, DD, HH24, MI, SS, MS, US, FF1-6, AM/PM,
Month/Mon/Day/Dy in three cases, DDD, D, ID, IW, IYYY, WW, W, Q, CC, J,
RM, SSSS, TZ, TZH, TZM, OF) with the FM and TH/th modifiers; each pattern
becomes one string column and the pieces are joined. Numbers are
formatted by `compute.expr.to_char_number`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.expr import FuncCall
from common.pgtext_calendar import (
    USECS_PER_DAY,
    USECS_PER_SEC,
    civil_from_days,
    days_from_civil,
    format_offset,
    is_utc,
    normalize_timezone,
    utc_offsets,
)
from common.pgtext_interval import interval_fields
from common.types import TypeName
from compute.expr.context import EvalContext
from compute.expr.kernel import all_valid, kernel, per_distinct, take, values

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]

_KEYWORDS = [
    "A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "D", "DAY", "DD", "DDD", "DY", "FF1", "FF2", "FF3", "FF4", "FF5",
    "FF6", "HH", "HH12", "HH24", "I", "ID", "IDDD", "IW", "IY", "IYY", "IYYY", "J", "MI", "MM", "MON", "MONTH", "MS",
    "OF", "P.M.", "PM", "Q", "RM", "SS", "SSSS", "SSSSS", "TZ", "TZH", "TZM", "US", "W", "WW", "Y", "Y,YYY", "YY",
    "YYY", "YYYY",
]
_NAMES = {"MONTH", "MON", "DAY", "DY"}
# PostgreSQL accepts each keyword in upper and lower case, and the names
# also capitalized; the longest match wins.
_VARIANTS = sorted({v for k in _KEYWORDS for v in (k, k.lower(), *([k.capitalize()] if k in _NAMES else []))},
                   key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Node:
    """A literal (pattern None) or a field pattern as written, with its FM and TH/th modifiers."""

    text: str
    pattern: str | None = None
    fill_mode: bool = False
    ordinal: str = ""


def parse_template(fmt: str) -> list[Node]:
    nodes: list[Node] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == '"':
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            nodes.append(Node(fmt[i + 1:end]))
            i = end + 1
            continue
        if fmt.startswith('\\"', i):
            nodes.append(Node('"'))
            i += 2
            continue
        j = i + 2 if fmt[i:i + 2] in ("FM", "fm") else i
        pattern = next((v for v in _VARIANTS if fmt.startswith(v, j)), None)
        if pattern is None:
            nodes.append(Node(fmt[i]))
            i += 1
            continue
        j += len(pattern)
        ordinal = fmt[j:j + 2] if fmt[j:j + 2] in ("TH", "th") else ""
        nodes.append(Node(pattern, pattern, j - len(pattern) > i, ordinal))
        i = j + len(ordinal)
    return nodes


@dataclass(slots=True)
class Fields:
    """Calendar fields of local timestamps, computed once per template."""

    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    days: np.ndarray
    time: np.ndarray
    offsets: np.ndarray | None
    zone: str | None
    utc: np.ndarray
    interval: bool = False

    @staticmethod
    def of(local: np.ndarray, offsets: np.ndarray | None, zone: str | None, utc: np.ndarray) -> Fields:
        days = local // USECS_PER_DAY
        y, m, d = civil_from_days(days)
        return Fields(y, m, d, days, local - days * USECS_PER_DAY, offsets, zone, utc)


def _num(v: np.ndarray, width: int, node: Node) -> pa.Array:
    text = pa.array(np.abs(v).astype(np.int64)).cast(pa.string())
    if not node.fill_mode and width > 1:
        text = pc.utf8_lpad(text, width, "0")
    negative = v < 0
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)
    return _ordinal(text, v, node)


def _ordinal(text: pa.Array, v: np.ndarray, node: Node) -> pa.Array:
    if not node.ordinal:
        return text
    last, last2 = np.abs(v) % 10, np.abs(v) % 100
    suffix = np.where((last2 >= 11) & (last2 <= 13), "th",
                      np.where(last == 1, "st", np.where(last == 2, "nd", np.where(last == 3, "rd", "th"))))
    if node.ordinal == "TH":
        suffix = np.char.upper(suffix)
    return pc.binary_join_element_wise(text, pa.array(suffix.tolist(), pa.string()), "")


def _name(names: list[str], index: np.ndarray, node: Node, abbrev: bool) -> pa.Array:
    pattern = node.pattern or ""
    table = [n[:3] if abbrev else n for n in names]
    if pattern.isupper():
        table = [n.upper() for n in table]
    elif pattern.islower():
        table = [n.lower() for n in table]
    if not abbrev and not node.fill_mode:
        table = [n.ljust(9) for n in table]
    return pa.array(table, pa.string()).take(pa.array(index))


def _iso(f: Fields) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ISO year, ISO week, ISO day of week)."""
    isodow = (f.days + 3) % 7 + 1
    thursday = f.days - isodow + 4
    ty, tm, _ = civil_from_days(thursday)
    one = np.ones_like(tm)
    week = (thursday - days_from_civil(ty, one, one)) // 7 + 1
    return ty, week, isodow


def _display_year(y: np.ndarray) -> np.ndarray:
    return np.where(y > 0, y, 1 - y)


_FIRST_US = -62_135_596_800_000_000 + USECS_PER_DAY  # 0001-01-02, within Python's datetime
_CYCLE_US = 146_097 * USECS_PER_DAY  # 400 Gregorian years


def _datetime_range(us: int) -> int:
    """An instant Python's datetime can hold with the same zone rules: early ones clamp, late ones fold."""
    if us < _FIRST_US:
        return _FIRST_US
    while us > 253_402_214_400_000_000:  # 9999-12-31
        us -= _CYCLE_US * 10
    return us


def _zone_names(f: Fields) -> pa.Array:
    if f.offsets is None or f.zone is None:
        return pa.array([""] * len(f.days), pa.string())
    if is_utc(f.zone):
        return pa.array(["UTC"] * len(f.days), pa.string())
    zone = zoneinfo.ZoneInfo(normalize_timezone(f.zone))
    distinct, inverse = np.unique(f.offsets, return_inverse=True)
    names = []
    for off in distinct.tolist():
        i = int(np.argmax(f.offsets == off))
        instant = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=_datetime_range(int(f.utc[i])))
        names.append(instant.astimezone(zone).tzname() or format_offset(off))
    return pa.array(names, pa.string()).take(pa.array(inverse.reshape(-1)))


def _render(node: Node, f: Fields) -> pa.Array | str:
    p = node.pattern
    if p is None:
        return node.text
    up = p.upper()
    # An interval's hours are not folded into days, and its years are not BC-adjusted.
    hour = f.time // 3_600_000_000
    year = f.year if f.interval else _display_year(f.year)
    simple: dict[str, Callable[[], pa.Array]] = {
        "YYYY": lambda: _num(year, 4, node), "YYY": lambda: _num(year % 1000, 3, node),
        "YY": lambda: _num(year % 100, 2, node), "Y": lambda: _num(year % 10, 1, node),
        "MM": lambda: _num(f.month, 2, node), "DD": lambda: _num(f.day, 2, node),
        "HH24": lambda: _num(hour, 2, node), "HH": lambda: _num((hour + 11) % 12 + 1, 2, node),
        "HH12": lambda: _num((hour + 11) % 12 + 1, 2, node), "MI": lambda: _num(f.time // 60_000_000 % 60, 2, node),
        "SS": lambda: _num(f.time // USECS_PER_SEC % 60, 2, node),
        "MS": lambda: _num(f.time // 1000 % 1000, 3, node), "US": lambda: _num(f.time % USECS_PER_SEC, 6, node),
        "SSSS": lambda: _num(f.time // USECS_PER_SEC, 1, node), "SSSSS": lambda: _num(f.time // USECS_PER_SEC, 1, node),
        "DDD": lambda: _num(f.days - days_from_civil(f.year, np.ones_like(f.month), np.ones_like(f.month)) + 1, 3,
                            node),
        "D": lambda: _num((f.days + 4) % 7 + 1, 1, node), "ID": lambda: _num(_iso(f)[2], 1, node),
        "IW": lambda: _num(_iso(f)[1], 2, node), "IYYY": lambda: _num(_display_year(_iso(f)[0]), 4, node),
        "IYY": lambda: _num(_display_year(_iso(f)[0]) % 1000, 3, node),
        "IY": lambda: _num(_display_year(_iso(f)[0]) % 100, 2, node),
        "I": lambda: _num(_display_year(_iso(f)[0]) % 10, 1, node),
        "IDDD": lambda: _num((_iso(f)[1] - 1) * 7 + _iso(f)[2], 3, node),
        "WW": lambda: _num((f.days - days_from_civil(f.year, np.ones_like(f.month), np.ones_like(f.month))) // 7 + 1,
                           2, node),
        "W": lambda: _num((f.day - 1) // 7 + 1, 1, node), "Q": lambda: _num((f.month - 1) // 3 + 1, 1, node),
        "J": lambda: _num(f.days + 2_440_588, 1, node),
        "CC": lambda: _num(np.where(f.year > 0, (f.year - 1) // 100 + 1, -((-(f.year - 1)) // 100) - 1), 2, node),
    }
    if up in simple:
        return simple[up]()
    if up.startswith("FF"):
        digits = int(up[2])
        return _num(f.time % USECS_PER_SEC // 10 ** (6 - digits), digits, node)
    if up == "Y,YYY":
        thousands = _num(year // 1000, 1, Node("", "Y", True))
        return pc.binary_join_element_wise(thousands, _num(year % 1000, 3, Node("", "YYY")), ",")
    if up in ("MONTH", "MON"):
        return _name(MONTH_NAMES, f.month - 1, node, up == "MON")
    if up in ("DAY", "DY"):
        return _name(DAY_NAMES, (f.days + 4) % 7, node, up == "DY")
    if up == "RM":
        table = [r if p.isupper() else r.lower() for r in _ROMAN]
        if not node.fill_mode:
            table = [r.ljust(4) for r in table]
        return pa.array(table, pa.string()).take(pa.array(f.month - 1))
    if up in ("AM", "PM", "A.M.", "P.M."):
        labels = ("AM", "PM") if "." not in up else ("A.M.", "P.M.")
        if p.islower():
            labels = (labels[0].lower(), labels[1].lower())
        return pa.array(np.where(hour < 12, labels[0], labels[1]).tolist(), pa.string())
    if up in ("AD", "BC", "A.D.", "B.C."):
        labels = ("AD", "BC") if "." not in up else ("A.D.", "B.C.")
        if p.islower():
            labels = (labels[0].lower(), labels[1].lower())
        return pa.array(np.where(f.year > 0, labels[0], labels[1]).tolist(), pa.string())
    offsets = f.offsets if f.offsets is not None else np.zeros(len(f.days), dtype=np.int64)
    if up == "TZ":
        names = _zone_names(f)
        return pc.utf8_lower(names) if p == "tz" else names
    if up == "OF":
        distinct, inverse = np.unique(offsets, return_inverse=True)
        # to_char's OF leaves out seconds ('+05:21' for +05:21:10), unlike timestamptz output.
        texts = [format_offset(int(o) // 60 * 60 if o >= 0 else -(-int(o) // 60 * 60)) for o in distinct]
        return pa.array(texts, pa.string()).take(pa.array(inverse.reshape(-1)))
    if up == "TZH":
        sign = np.where(offsets < 0, "-", "+")
        hours = pc.utf8_lpad(pa.array(np.abs(offsets) // 3600).cast(pa.string()), 2, "0")
        return pc.binary_join_element_wise(pa.array(sign.tolist(), pa.string()), hours, "")
    if up == "TZM":
        return pc.utf8_lpad(pa.array(np.abs(offsets) // 60 % 60).cast(pa.string()), 2, "0")
    return node.text


def render(nodes: list[Node], f: Fields) -> pa.Array:
    n = len(f.days)
    pieces = [_render(node, f) for node in nodes]
    if not pieces:
        return pa.array([""] * n, pa.string())
    columns = [pa.repeat(pa.scalar(p), n) if isinstance(p, str) else p for p in pieces]
    return columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, "")


def _interval_fields(arr: pa.Array) -> Fields:
    """Intervals print through the same patterns: years, months, days and the time of day."""
    m, d, u = interval_fields(arr)
    year = np.trunc(m / 12).astype(np.int64)
    return Fields(year, np.fmod(m, 12), d, d, u, None, None, u, interval=True)


@kernel("to_char")
def to_char(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    source, fmt = args
    t = call.args[0].type
    if t.is_numeric:
        from compute.expr.to_char_number import to_char_number

        return to_char_number(source, fmt, t)
    ok = all_valid([source])

    def format_rows(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        if key[0] == "":
            return pa.nulls(len(rows), pa.string())  # PostgreSQL: an empty template gives NULL
        nodes = _template(str(key[0]))
        part = take(source, rows)
        if t.name is TypeName.INTERVAL:
            fields = _interval_fields(part)
        else:
            v = values(part).astype(np.int64)
            if t.name is TypeName.TIMESTAMPTZ:
                zone = ctx.format.timezone
                offsets = utc_offsets(v, zone)
                fields = Fields.of(v + offsets * USECS_PER_SEC, offsets, zone, v)
            else:
                fields = Fields.of(v, None, None, v)
        out = render(nodes, fields)
        return pc.if_else(pa.array(ok[rows]), out, pa.scalar(None, pa.string()))

    return per_distinct([fmt], len(source), format_rows, pa.string())


_TEMPLATES: dict[str, list[Node]] = {}


def _template(fmt: str) -> list[Node]:
    nodes = _TEMPLATES.get(fmt)
    if nodes is None:
        if len(_TEMPLATES) > 1024:
            _TEMPLATES.clear()
        nodes = _TEMPLATES[fmt] = parse_template(fmt)
    return nodes

