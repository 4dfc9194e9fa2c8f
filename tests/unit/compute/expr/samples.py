"""Sample values of every type, as PostgreSQL input text: edge cases first, then seeded random ones."""

from __future__ import annotations

import random

from common.types import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    INTERVAL,
    NUMERIC,
    REAL,
    SMALLINT,
    TIMESTAMP,
    TIMESTAMPTZ,
    VARCHAR,
    DataType,
    TypeName,
)


def _ints(bits: int, rng: random.Random, n: int) -> list[str | None]:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    fixed = [0, 1, -1, 2, -2, 7, -7, 10, 100, lo, hi, lo + 1, hi - 1, None]
    return [None if v is None else str(v) for v in fixed] + [str(rng.randint(lo, hi)) for _ in range(n)] + \
        [str(rng.randint(-1000, 1000)) for _ in range(n)]


def _floats(rng: random.Random, n: int, single: bool) -> list[str | None]:
    fixed = ["0", "-0", "1", "-1", "0.5", "2.5", "-2.5", "3.5", "0.1", "1e10", "-1e-10", "NaN", "Infinity",
             "-Infinity", "1e15", "123.456", None]
    fixed += ["3e38", "1e-40"] if single else ["1e308", "-1e308", "1e-300", "5e-324"]
    return fixed + [repr(rng.uniform(-1000, 1000)) for _ in range(n)] + \
        [f"{rng.uniform(-1, 1) * 10 ** rng.randint(-8, 12):.6g}" for _ in range(n)]


def _numerics(rng: random.Random, n: int) -> list[str | None]:
    fixed = ["0", "1", "-1", "0.5", "-0.5", "1.5", "2.5", "-2.5", "0.0000000001", "123.456", "-99999.99999",
             "12345678901234567.89", "7", "3", None]
    return fixed + [f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 6)}f}" for _ in range(n)]


def _dates(rng: random.Random, n: int) -> list[str | None]:
    fixed = ["2026-01-01", "2024-02-29", "2026-12-31", "1970-01-01", "2000-03-01", "1999-12-31", "0001-01-01",
             "0044-03-15 BC", "9999-12-31", "2026-03-29", "2026-10-25", None]
    return fixed + [f"{rng.randint(1800, 2200):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    for _ in range(n)]


def _timestamps(rng: random.Random, n: int, tz: bool) -> list[str | None]:
    fixed = ["2026-01-01 00:00:00", "2026-01-31 10:30:00", "2024-02-29 23:59:59.999999", "1970-01-01 00:00:00",
             "2026-03-08 02:30:00", "2026-11-01 01:30:00", "2026-03-29 02:30:00", "2026-10-25 02:30:00",
             "1900-01-01 12:00:00", "0044-03-15 10:00:00 BC", "2100-06-30 12:00:00.5", None]
    if tz:
        fixed += ["2026-06-15 12:00:00+05:30", "2026-01-01 00:00:00-08"]
    out = fixed + [f"{rng.randint(1900, 2100):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                   f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
                   f"{rng.randint(0, 999999):06d}" for _ in range(n)]
    return out


def _intervals(rng: random.Random, n: int) -> list[str | None]:
    fixed = ["0", "1 day", "-1 day", "1 mon", "1 year 2 mons 3 days 04:05:06.5", "-1 days +02:00:00",
             "1 day -02:00:00", "25:00:00", "30 days", "1 mon -30 days", "-1 year", "00:00:00.000001", "36 hours",
             None]
    return fixed + [f"{rng.randint(-30, 30)} mons {rng.randint(-40, 40)} days {rng.randint(-50, 50)}:"
                    f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}"
                    for _ in range(n)]


def _strings(rng: random.Random, n: int) -> list[str | None]:
    fixed = ["", "a", "abc", "Hello World", " padded ", "ünïcödé", "a,b,,c", "100", "t", "2026-01-01", "1 day",
             "%_\\", "mixed CASE words-and 2nd", None]
    letters = "abcXYZ ,-é"
    return fixed + ["".join(rng.choice(letters) for _ in range(rng.randint(0, 12))) for _ in range(n)]


def samples(t: DataType, n: int = 15, seed: int = 1) -> list[str | None]:
    """Input texts for values of type `t` (None is NULL)."""
    rng = random.Random(seed)
    name = t.name
    if name is TypeName.SMALLINT:
        return _ints(16, rng, n)
    if name is TypeName.INTEGER:
        return _ints(32, rng, n)
    if name is TypeName.BIGINT:
        return _ints(64, rng, n)
    if name in (TypeName.REAL, TypeName.DOUBLE):
        return _floats(rng, n, name is TypeName.REAL)
    if name is TypeName.NUMERIC:
        return _numerics(rng, n)
    if name is TypeName.BOOLEAN:
        return ["t", "f", None]
    if name is TypeName.VARCHAR:
        return _strings(rng, n)
    if name is TypeName.DATE:
        return _dates(rng, n)
    if name in (TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ):
        return _timestamps(rng, n, name is TypeName.TIMESTAMPTZ)
    return _intervals(rng, n)


def pairs(a: DataType, b: DataType, n: int = 60, seed: int = 2) -> list[list[str | None]]:
    """Rows of two columns: every edge value of `a` against a few of `b`, plus random combinations."""
    rng = random.Random(seed)
    left, right = samples(a, seed=seed), samples(b, seed=seed + 1)
    rows = [[x, rng.choice(right)] for x in left] + [[rng.choice(left), y] for y in right]
    rows += [[rng.choice(left), rng.choice(right)] for _ in range(n)]
    return rows


NUMBERS = (SMALLINT, INTEGER, BIGINT, REAL, DOUBLE, NUMERIC)
ALL = (SMALLINT, INTEGER, BIGINT, REAL, DOUBLE, NUMERIC, BOOLEAN, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ, INTERVAL)
