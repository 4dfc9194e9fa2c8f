"""Vectorized calendar and time-zone arithmetic shared by text I/O and date/time functions.

Dates are days since 1970-01-01 and timestamps microseconds since
1970-01-01 00:00:00, both in the proleptic Gregorian calendar that
PostgreSQL uses. Years are astronomical (year 0 is 1 BC). Everything here
works on whole numpy arrays.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import InvalidParameterValue

USECS_PER_SEC = 1_000_000
USECS_PER_MINUTE = 60 * USECS_PER_SEC
USECS_PER_HOUR = 60 * USECS_PER_MINUTE
USECS_PER_DAY = 24 * USECS_PER_HOUR

# PostgreSQL's limits: dates from 4714-11-24 BC (Julian day 0) to 5874897 AD.
# Timestamps start at the same day; microseconds since 1970 in an int64 end
# in 294247 AD, a little before PostgreSQL's 294276 AD.
MIN_DATE_DAYS = -2_440_588
MAX_DATE_DAYS = 2_147_483_494 - 2_440_588 - 1
MIN_TIMESTAMP_US = MIN_DATE_DAYS * USECS_PER_DAY
MAX_TIMESTAMP_US = (2**63 - 1) // USECS_PER_DAY * USECS_PER_DAY - 1

# Before year 1 the zone's earliest offset (local mean time) applies; from
# 2037 on, the zone's recurring rule (see _rule_offsets).
_TZ_LOOKUP_MIN_US = -62_135_596_800 * USECS_PER_SEC  # 0001-01-01
_TZ_RULES_FROM_US = 2_114_380_800 * USECS_PER_SEC  # 2037-01-01

_UTC_NAMES = {"utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu", "universal", "etc/universal", "uct"}


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of each day number (Howard Hinnant's algorithm)."""
    z = days.astype(np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Day numbers of (year, month, day); the inverse of civil_from_days for valid dates."""
    y = y.astype(np.int64) - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    mm = m.astype(np.int64)
    doy = (153 * np.where(mm > 2, mm - 3, mm + 9) + 2) // 5 + d.astype(np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def is_leap(y: np.ndarray) -> np.ndarray:
    return ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    return _MONTH_DAYS[m] + ((m == 2) & is_leap(y))


def valid_date(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    ok = (m >= 1) & (m <= 12) & (d >= 1)
    return ok & (d <= days_in_month(y, np.where(ok, m, 1)))


# -- time zones ---------------------------------------------------------


@functools.cache
def _zone_names() -> dict[str, str]:
    return {n.lower(): n for n in zoneinfo.available_timezones()}


@functools.cache
def normalize_timezone(name: str) -> str:
    """The canonical IANA spelling of a time-zone name (matched case-insensitively as PostgreSQL does)."""
    key = name.strip().lower()
    if key in _UTC_NAMES:
        return "UTC"
    canonical = _zone_names().get(key)
    if canonical is None:
        raise InvalidParameterValue(f'invalid value for parameter "TimeZone": "{name}"')
    return canonical


def is_utc(tz: str) -> bool:
    return tz.strip().lower() in _UTC_NAMES


def utc_offsets(utc_us: np.ndarray, tz: str) -> np.ndarray:
    """Seconds east of UTC in zone `tz` at each instant."""
    if is_utc(tz):
        return np.zeros(len(utc_us), dtype=np.int64)
    zone = normalize_timezone(tz)
    probe = np.maximum(utc_us.astype(np.int64), _TZ_LOOKUP_MIN_US)
    far = probe >= _TZ_RULES_FROM_US
    local = pc.local_timestamp(pa.array(np.where(far, 0, probe), pa.timestamp("us", tz=zone)))
    offsets = (local.cast(pa.int64()).to_numpy(zero_copy_only=False) - np.where(far, 0, probe)) // USECS_PER_SEC
    if far.any():
        offsets[far] = _rule_offsets(probe[far], zone)
    return offsets


def _rule_offsets(utc_us: np.ndarray, zone: str) -> np.ndarray:
    """Offsets after the zone's last listed transition, from its recurring rule (zoneinfo reads it).

    Arrow's time-zone code stops at the last transition in the tzdata file
    (2037 for most zones); PostgreSQL, like zoneinfo, keeps applying the
    zone's daylight-saving rule. Gregorian calendars repeat every 400 years,
    so later instants are folded back into the first cycle.
    """
    cycle = 146_097 * USECS_PER_DAY
    folded = utc_us - (utc_us - _TZ_RULES_FROM_US) // cycle * cycle
    distinct, inverse = np.unique(folded, return_inverse=True)
    info = zoneinfo.ZoneInfo(zone)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    found = []
    for u in distinct.tolist():
        offset = (epoch + dt.timedelta(microseconds=int(u))).astimezone(info).utcoffset()
        found.append(0 if offset is None else offset // dt.timedelta(seconds=1))
    return np.asarray(found, dtype=np.int64)[inverse.reshape(-1)]


def utc_to_local(utc_us: np.ndarray, tz: str) -> np.ndarray:
    return utc_us + utc_offsets(utc_us, tz) * USECS_PER_SEC


def local_to_utc(local_us: np.ndarray, tz: str) -> np.ndarray:
    """The instants of wall-clock times in `tz`, resolved as PostgreSQL does.

    A time skipped by a spring-forward transition is read with the offset in
    force before it; a time repeated by a fall-back transition is the later
    instant. Both amount to taking the smaller of the two offsets around the
    transition.
    """
    local_us = local_us.astype(np.int64)
    if is_utc(tz):
        return local_us
    # No zone is more than 14 hours from UTC, so these two probes straddle
    # any transition near the wall-clock time.
    span = 15 * USECS_PER_HOUR
    before = utc_offsets(local_us - span, tz) * USECS_PER_SEC
    after = utc_offsets(local_us + span, tz) * USECS_PER_SEC
    same = before == after
    if same.all():
        return local_us - before
    t_before = local_us - before
    t_after = local_us - after
    before_ok = utc_offsets(t_before, tz) * USECS_PER_SEC == before
    after_ok = utc_offsets(t_after, tz) * USECS_PER_SEC == after
    chosen = np.where(after_ok, t_after, np.where(before_ok, t_before, local_us - np.minimum(before, after)))
    return np.where(same, t_before, chosen)


def format_offset(seconds: int) -> str:
    """A UTC offset as PostgreSQL prints it: +00, +05:30, -03:30, +05:21:10."""
    sign = "-" if seconds < 0 else "+"
    s = abs(seconds)
    hh, rem = divmod(s, 3600)
    mm, ss = divmod(rem, 60)
    out = f"{sign}{hh:02d}"
    if mm or ss:
        out += f":{mm:02d}"
    if ss:
        out += f":{ss:02d}"
    return out
