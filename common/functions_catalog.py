"""The overloads of every operator and function Eddy evaluates: PostgreSQL's pg_operator and pg_proc rows for our types.

Each candidate lists PostgreSQL's declared argument types (what overload
resolution matches against) and, when the evaluator wants something
simpler, the types the binder should cast to instead: `smallint + integer`
is PostgreSQL's int24pl, which Eddy evaluates as `integer + integer` with
the same result and the same overflow point.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    integer_supertype,
)

TEXT = VARCHAR
INTS = (SMALLINT, INTEGER, BIGINT)
FLOATS = (REAL, DOUBLE)
DATETIMES = (DATE, TIMESTAMP, TIMESTAMPTZ)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One overload. None in `args` is PostgreSQL's anynonarray: any type, cast to text (anytextcat does `$1::text`)."""

    func: str
    args: tuple[DataType | None, ...]
    ret: DataType
    casts: tuple[DataType, ...] | None = None

    def cast_types(self) -> tuple[DataType, ...]:
        """What the binder casts each argument to."""
        if self.casts is not None:
            return self.casts
        return tuple(TEXT if a is None else a for a in self.args)


def _wider_float(a: DataType, b: DataType) -> DataType:
    return DOUBLE if DOUBLE in (a, b) else REAL


def _arithmetic() -> dict[str, list[Candidate]]:
    ops: dict[str, list[Candidate]] = {n: [] for n in ("add", "subtract", "multiply", "divide", "modulus", "neg")}
    for a in INTS:
        for b in INTS:
            w = integer_supertype(a, b)
            for name in ("add", "subtract", "multiply", "divide"):
                ops[name].append(Candidate(name, (a, b), w, (w, w)))
        ops["modulus"].append(Candidate("modulus", (a, a), a))
    for a in FLOATS:
        for b in FLOATS:
            w = _wider_float(a, b)
            for name in ("add", "subtract", "multiply", "divide"):
                ops[name].append(Candidate(name, (a, b), w, (w, w)))
    for name in ("add", "subtract", "multiply", "divide", "modulus"):
        ops[name].append(Candidate(name, (NUMERIC, NUMERIC), NUMERIC))
    for t in (*INTS, *FLOATS, NUMERIC, INTERVAL):
        ops["neg"].append(Candidate("neg", (t,), t))
    ops["add"] += [
        Candidate("add", (DATE, INTEGER), DATE),
        Candidate("add", (INTEGER, DATE), DATE),
        Candidate("add", (DATE, INTERVAL), TIMESTAMP, (TIMESTAMP, INTERVAL)),
        Candidate("add", (INTERVAL, DATE), TIMESTAMP, (INTERVAL, TIMESTAMP)),
        Candidate("add", (TIMESTAMP, INTERVAL), TIMESTAMP),
        Candidate("add", (INTERVAL, TIMESTAMP), TIMESTAMP),
        Candidate("add", (TIMESTAMPTZ, INTERVAL), TIMESTAMPTZ),
        Candidate("add", (INTERVAL, TIMESTAMPTZ), TIMESTAMPTZ),
        Candidate("add", (INTERVAL, INTERVAL), INTERVAL),
    ]
    ops["subtract"] += [
        Candidate("subtract", (DATE, DATE), INTEGER),
        Candidate("subtract", (DATE, INTEGER), DATE),
        Candidate("subtract", (DATE, INTERVAL), TIMESTAMP, (TIMESTAMP, INTERVAL)),
        Candidate("subtract", (TIMESTAMP, INTERVAL), TIMESTAMP),
        Candidate("subtract", (TIMESTAMPTZ, INTERVAL), TIMESTAMPTZ),
        Candidate("subtract", (TIMESTAMP, TIMESTAMP), INTERVAL),
        Candidate("subtract", (TIMESTAMPTZ, TIMESTAMPTZ), INTERVAL),
        Candidate("subtract", (INTERVAL, INTERVAL), INTERVAL),
    ]
    ops["multiply"] += [
        Candidate("multiply", (DOUBLE, INTERVAL), INTERVAL),
        Candidate("multiply", (INTERVAL, DOUBLE), INTERVAL),
    ]
    ops["divide"].append(Candidate("divide", (INTERVAL, DOUBLE), INTERVAL))
    return ops


_COMPARISONS = ("equal", "not_equal", "less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal")


def _comparisons() -> dict[str, list[Candidate]]:
    ops: dict[str, list[Candidate]] = {n: [] for n in _COMPARISONS}
    pairs: list[tuple[DataType, DataType, DataType]] = []
    pairs += [(a, b, integer_supertype(a, b)) for a in INTS for b in INTS]
    pairs += [(a, b, _wider_float(a, b)) for a in FLOATS for b in FLOATS]
    pairs += [(t, t, t) for t in (NUMERIC, BOOLEAN, TEXT, INTERVAL)]
    rank = {DATE: 0, TIMESTAMP: 1, TIMESTAMPTZ: 2}
    pairs += [(a, b, a if rank[a] >= rank[b] else b) for a in DATETIMES for b in DATETIMES]
    for name in _COMPARISONS:
        ops[name] = [Candidate(name, (a, b), BOOLEAN, (w, w)) for a, b, w in pairs]
    return ops


def _strings() -> dict[str, list[Candidate]]:
    ops = {name: [Candidate(name, (TEXT, TEXT), BOOLEAN)] for name in ("like", "not_like", "ilike", "not_ilike")}
    ops["concat_op"] = [
        Candidate("concat_op", (TEXT, TEXT), TEXT),
        Candidate("concat_op", (None, TEXT), TEXT),
        Candidate("concat_op", (TEXT, None), TEXT),
    ]
    return ops


OPERATORS: dict[str, list[Candidate]] = {**_arithmetic(), **_comparisons(), **_strings()}

OPERATOR_SYMBOLS = {
    "add": "+", "subtract": "-", "multiply": "*", "divide": "/", "modulus": "%", "neg": "-",
    "equal": "=", "not_equal": "<>", "less_than": "<", "less_than_or_equal": "<=", "greater_than": ">",
    "greater_than_or_equal": ">=", "like": "~~", "not_like": "!~~", "ilike": "~~*", "not_ilike": "!~~*",
    "concat_op": "||",
}


def _f(func: str, args: tuple[DataType, ...], ret: DataType) -> Candidate:
    return Candidate(func, args, ret)


def _each(func: str, types: tuple[DataType, ...], ret: DataType | None = None) -> list[Candidate]:
    """One unary overload per type, returning `ret` (or the argument's own type)."""
    return [_f(func, (t,), ret or t) for t in types]


def _functions() -> dict[str, list[Candidate]]:
    fd = (DOUBLE, NUMERIC)
    F: dict[str, list[Candidate]] = {
        "abs": _each("abs", (*INTS, REAL, DOUBLE, NUMERIC)),
        "round": [*_each("round", fd), _f("round", (NUMERIC, INTEGER), NUMERIC)],
        "ceil": _each("ceil", fd),
        "floor": _each("floor", fd),
        "trunc": [*_each("trunc", fd), _f("trunc", (NUMERIC, INTEGER), NUMERIC)],
        "sqrt": _each("sqrt", fd),
        "cbrt": _each("cbrt", (DOUBLE,)),
        "power": [_f("power", (t, t), t) for t in fd],
        "exp": _each("exp", fd),
        "ln": _each("ln", fd),
        "log10": _each("log10", fd),
        "log": [*_each("log10", fd), _f("log", (NUMERIC, NUMERIC), NUMERIC)],
        "mod": [_f("modulus", (t, t), t) for t in (*INTS, NUMERIC)],
        "sign": _each("sign", fd),
        "pi": [_f("pi", (), DOUBLE)],
        "lower": _each("lower", (TEXT,)),
        "upper": _each("upper", (TEXT,)),
        "length": _each("length", (TEXT,), INTEGER),
        "octet_length": _each("octet_length", (TEXT,), INTEGER),
        "substr": [_f("substr", (TEXT, INTEGER), TEXT), _f("substr", (TEXT, INTEGER, INTEGER), TEXT)],
        "strpos": [_f("strpos", (TEXT, TEXT), INTEGER)],
        "btrim": [_f("btrim", (TEXT,), TEXT), _f("btrim", (TEXT, TEXT), TEXT)],
        "ltrim": [_f("ltrim", (TEXT,), TEXT), _f("ltrim", (TEXT, TEXT), TEXT)],
        "rtrim": [_f("rtrim", (TEXT,), TEXT), _f("rtrim", (TEXT, TEXT), TEXT)],
        "replace": [_f("replace", (TEXT, TEXT, TEXT), TEXT)],
        "left": [_f("left", (TEXT, INTEGER), TEXT)],
        "right": [_f("right", (TEXT, INTEGER), TEXT)],
        "lpad": [_f("lpad", (TEXT, INTEGER), TEXT), _f("lpad", (TEXT, INTEGER, TEXT), TEXT)],
        "rpad": [_f("rpad", (TEXT, INTEGER), TEXT), _f("rpad", (TEXT, INTEGER, TEXT), TEXT)],
        "split_part": [_f("split_part", (TEXT, TEXT, INTEGER), TEXT)],
        "starts_with": [_f("starts_with", (TEXT, TEXT), BOOLEAN)],
        "reverse": _each("reverse", (TEXT,)),
        "repeat": [_f("repeat", (TEXT, INTEGER), TEXT)],
        "initcap": _each("initcap", (TEXT,)),
        "md5": _each("md5", (TEXT,)),
        "ascii": _each("ascii", (TEXT,), INTEGER),
        "chr": [_f("chr", (INTEGER,), TEXT)],
        "to_char": [_f("to_char", (t, TEXT), TEXT)
                    for t in (TIMESTAMP, TIMESTAMPTZ, INTERVAL, INTEGER, BIGINT, REAL, DOUBLE, NUMERIC)],
        "date_trunc": [_f("date_trunc", (TEXT, TIMESTAMP), TIMESTAMP), _f("date_trunc", (TEXT, TIMESTAMPTZ), TIMESTAMPTZ),
                       _f("date_trunc", (TEXT, TIMESTAMPTZ, TEXT), TIMESTAMPTZ),
                       _f("date_trunc", (TEXT, INTERVAL), INTERVAL)],
        "extract": [_f("extract", (TEXT, t), NUMERIC) for t in (DATE, TIMESTAMP, TIMESTAMPTZ, INTERVAL)],
        "date_part": [_f("date_part", (TEXT, t), DOUBLE) for t in (DATE, TIMESTAMP, TIMESTAMPTZ, INTERVAL)],
        "make_date": [_f("make_date", (INTEGER, INTEGER, INTEGER), DATE)],
        "make_timestamp": [_f("make_timestamp", (*[INTEGER] * 5, DOUBLE), TIMESTAMP)],
        "make_timestamptz": [_f("make_timestamptz", (*[INTEGER] * 5, DOUBLE), TIMESTAMPTZ),
                             _f("make_timestamptz", (*[INTEGER] * 5, DOUBLE, TEXT), TIMESTAMPTZ)],
        "to_timestamp": [_f("to_timestamp", (DOUBLE,), TIMESTAMPTZ), _f("to_timestamp", (TEXT, TEXT), TIMESTAMPTZ)],
        "to_date": [_f("to_date", (TEXT, TEXT), DATE)],
        "age": [_f("age", (TIMESTAMP, TIMESTAMP), INTERVAL), _f("age", (TIMESTAMPTZ, TIMESTAMPTZ), INTERVAL)],
        "justify_days": _each("justify_days", (INTERVAL,)),
        "justify_hours": _each("justify_hours", (INTERVAL,)),
        "justify_interval": _each("justify_interval", (INTERVAL,)),
        "isfinite": _each("isfinite", (DATE, TIMESTAMP, TIMESTAMPTZ, INTERVAL), BOOLEAN),
        "timezone": [_f("timezone", (TEXT, TIMESTAMP), TIMESTAMPTZ), _f("timezone", (TEXT, TIMESTAMPTZ), TIMESTAMP)],
        "now": [_f("now", (), TIMESTAMPTZ)],
        "current_date": [_f("current_date", (), DATE)],
        "localtimestamp": [_f("localtimestamp", (), TIMESTAMP)],
    }
    aliases = {
        "ceiling": "ceil", "pow": "power", "char_length": "length", "character_length": "length",
        "substring": "substr", "position": "strpos", "trim": "btrim", "current_timestamp": "now",
        "transaction_timestamp": "now", "statement_timestamp": "now",
    }
    for alias, target in aliases.items():
        F[alias] = F[target]
    return F


FUNCTIONS: dict[str, list[Candidate]] = _functions()

# Functions whose result depends on when they run, not only on their
# arguments: a materialized view must not use them.
NON_DETERMINISTIC = frozenset({"now", "current_date", "localtimestamp"})
