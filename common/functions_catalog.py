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
    NAME,
    NUMERIC,
    OID,
    REAL,
    REGCLASS,
    REGNAMESPACE,
    REGPROC,
    REGROLE,
    REGTYPE,
    SMALLINT,
    TEXT_ARRAY,
    TIMESTAMP,
    TIMESTAMPTZ,
    VARCHAR,
    VOID,
    DataType,
    array_of,
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
    pairs += [(t, t, t) for t in (NUMERIC, BOOLEAN, TEXT, INTERVAL, OID)]
    rank = {DATE: 0, TIMESTAMP: 1, TIMESTAMPTZ: 2}
    pairs += [(a, b, a if rank[a] >= rank[b] else b) for a in DATETIMES for b in DATETIMES]
    for name in _COMPARISONS:
        ops[name] = [Candidate(name, (a, b), BOOLEAN, (w, w)) for a, b, w in pairs]
    return ops


def _strings() -> dict[str, list[Candidate]]:
    ops = {name: [Candidate(name, (TEXT, TEXT), BOOLEAN)] for name in ("like", "not_like", "ilike", "not_ilike",
                                                                        "regex_match", "not_regex_match",
                                                                        "regex_imatch", "not_regex_imatch")}
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        ops[name] = [Candidate(name, (t, t), t) for t in INTS]
    for name in ("shift_left", "shift_right"):
        ops[name] = [Candidate(name, (t, INTEGER), t) for t in INTS]
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
    "concat_op": "||", "regex_match": "~", "not_regex_match": "!~", "regex_imatch": "~*", "not_regex_imatch": "!~*",
    "bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "#", "shift_left": "<<", "shift_right": ">>",
}

# Operators as psql and drivers spell them in OPERATOR(pg_catalog.<symbol>) and as plain symbols.
OPERATOR_BY_SYMBOL = {sym: name for name, sym in OPERATOR_SYMBOLS.items() if name != "neg"} | {"!=": "not_equal"}


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


def _system_functions() -> dict[str, list[Candidate]]:
    """The functions system catalogs and client introspection queries call (see frontend.catalog)."""
    privileges: list[tuple[DataType, ...]] = []
    for obj in (TEXT, OID):
        privileges += [(obj, TEXT), (TEXT, obj, TEXT), (OID, obj, TEXT)]
    column_privileges: list[tuple[DataType, ...]] = [(TEXT, TEXT, TEXT), (OID, TEXT, TEXT), (OID, SMALLINT, TEXT),
                                                     (TEXT, SMALLINT, TEXT)]
    column_privileges += [(u, *a) for u in (TEXT, OID) for a in column_privileges]
    F: dict[str, list[Candidate]] = {
        "version": [_f("version", (), TEXT)],
        "current_setting": [_f("current_setting", (TEXT,), TEXT), _f("current_setting", (TEXT, BOOLEAN), TEXT)],
        "set_config": [_f("set_config", (TEXT, TEXT, BOOLEAN), TEXT)],
        "current_schema": [_f("current_schema", (), NAME)],
        "current_schemas": [_f("current_schemas", (BOOLEAN,), array_of(NAME))],
        "current_database": [_f("current_database", (), NAME)],
        "current_user": [_f("current_user", (), NAME)],
        "session_user": [_f("session_user", (), NAME)],
        "pg_backend_pid": [_f("pg_backend_pid", (), INTEGER)],
        "pg_is_in_recovery": [_f("pg_is_in_recovery", (), BOOLEAN)],
        "pg_postmaster_start_time": [_f("pg_postmaster_start_time", (), TIMESTAMPTZ)],
        "pg_client_encoding": [_f("pg_client_encoding", (), NAME)],
        "pg_encoding_to_char": [_f("pg_encoding_to_char", (INTEGER,), NAME)],
        "format_type": [_f("format_type", (OID, INTEGER), TEXT)],
        "pg_get_expr": [_f("pg_get_expr", (TEXT, OID), TEXT), _f("pg_get_expr", (TEXT, OID, BOOLEAN), TEXT)],
        "pg_table_is_visible": [_f("pg_table_is_visible", (OID,), BOOLEAN)],
        "pg_type_is_visible": [_f("pg_type_is_visible", (OID,), BOOLEAN)],
        "pg_function_is_visible": [_f("pg_function_is_visible", (OID,), BOOLEAN)],
        "pg_collation_is_visible": [_f("pg_collation_is_visible", (OID,), BOOLEAN)],
        "pg_opclass_is_visible": [_f("pg_opclass_is_visible", (OID,), BOOLEAN)],
        "pg_operator_is_visible": [_f("pg_operator_is_visible", (OID,), BOOLEAN)],
        "has_table_privilege": [_f("has_table_privilege", a, BOOLEAN) for a in privileges],
        "has_schema_privilege": [_f("has_schema_privilege", a, BOOLEAN) for a in privileges],
        "has_database_privilege": [_f("has_database_privilege", a, BOOLEAN) for a in privileges],
        "has_function_privilege": [_f("has_function_privilege", a, BOOLEAN) for a in privileges],
        "has_sequence_privilege": [_f("has_sequence_privilege", a, BOOLEAN) for a in privileges],
        "has_any_column_privilege": [_f("has_any_column_privilege", a, BOOLEAN) for a in privileges],
        "has_column_privilege": [_f("has_column_privilege", a, BOOLEAN) for a in column_privileges],
        "obj_description": [_f("obj_description", (OID,), TEXT), _f("obj_description", (OID, NAME), TEXT)],
        "col_description": [_f("col_description", (OID, INTEGER), TEXT)],
        "shobj_description": [_f("shobj_description", (OID, NAME), TEXT)],
        "pg_get_indexdef": [_f("pg_get_indexdef", (OID,), TEXT), _f("pg_get_indexdef", (OID, INTEGER, BOOLEAN), TEXT)],
        "pg_get_constraintdef": [_f("pg_get_constraintdef", (OID,), TEXT),
                                 _f("pg_get_constraintdef", (OID, BOOLEAN), TEXT)],
        "pg_get_viewdef": [_f("pg_get_viewdef", (OID,), TEXT), _f("pg_get_viewdef", (OID, BOOLEAN), TEXT),
                           _f("pg_get_viewdef", (TEXT,), TEXT)],
        "pg_get_userbyid": [_f("pg_get_userbyid", (OID,), NAME)],
        "pg_get_serial_sequence": [_f("pg_get_serial_sequence", (TEXT, TEXT), TEXT)],
        "pg_get_function_result": [_f("pg_get_function_result", (OID,), TEXT)],
        "pg_get_function_arguments": [_f("pg_get_function_arguments", (OID,), TEXT)],
        "pg_get_function_identity_arguments": [_f("pg_get_function_identity_arguments", (OID,), TEXT)],
        "pg_get_statisticsobjdef_columns": [_f("pg_get_statisticsobjdef_columns", (OID,), TEXT)],
        "pg_get_partkeydef": [_f("pg_get_partkeydef", (OID,), TEXT)],
        "pg_get_triggerdef": [_f("pg_get_triggerdef", (OID,), TEXT), _f("pg_get_triggerdef", (OID, BOOLEAN), TEXT)],
        "pg_get_ruledef": [_f("pg_get_ruledef", (OID,), TEXT), _f("pg_get_ruledef", (OID, BOOLEAN), TEXT)],
        "pg_relation_is_publishable": [_f("pg_relation_is_publishable", (REGCLASS,), BOOLEAN)],
        "pg_tablespace_location": [_f("pg_tablespace_location", (OID,), TEXT)],
        "pg_database_size": [_f("pg_database_size", (NAME,), BIGINT), _f("pg_database_size", (OID,), BIGINT)],
        "pg_relation_size": [_f("pg_relation_size", (REGCLASS,), BIGINT)],
        "pg_total_relation_size": [_f("pg_total_relation_size", (REGCLASS,), BIGINT)],
        "pg_table_size": [_f("pg_table_size", (REGCLASS,), BIGINT)],
        "pg_indexes_size": [_f("pg_indexes_size", (REGCLASS,), BIGINT)],
        "pg_size_pretty": [_f("pg_size_pretty", (BIGINT,), TEXT), _f("pg_size_pretty", (NUMERIC,), TEXT)],
        "to_regclass": [_f("to_regclass", (TEXT,), REGCLASS)],
        "to_regtype": [_f("to_regtype", (TEXT,), REGTYPE)],
        "to_regproc": [_f("to_regproc", (TEXT,), REGPROC)],
        "to_regnamespace": [_f("to_regnamespace", (TEXT,), REGNAMESPACE)],
        "to_regrole": [_f("to_regrole", (TEXT,), REGROLE)],
        "pg_advisory_unlock_all": [_f("pg_advisory_unlock_all", (), VOID)],
        "pg_sleep": [_f("pg_sleep", (DOUBLE,), VOID)],
        "pg_cancel_backend": [_f("pg_cancel_backend", (INTEGER,), BOOLEAN)],
        "pg_terminate_backend": [_f("pg_terminate_backend", (INTEGER,), BOOLEAN)],
        "txid_current": [_f("txid_current", (), BIGINT)],
        "quote_ident": [_f("quote_ident", (TEXT,), TEXT)],
        "quote_literal": [_f("quote_literal", (TEXT,), TEXT)],
        "quote_nullable": [_f("quote_nullable", (TEXT,), TEXT)],
        "parse_ident": [_f("parse_ident", (TEXT,), TEXT_ARRAY), _f("parse_ident", (TEXT, BOOLEAN), TEXT_ARRAY)],
        "string_to_array": [_f("string_to_array", (TEXT, TEXT), TEXT_ARRAY),
                            _f("string_to_array", (TEXT, TEXT, TEXT), TEXT_ARRAY)],
        "regexp_replace": [_f("regexp_replace", (TEXT, TEXT, TEXT), TEXT),
                           _f("regexp_replace", (TEXT, TEXT, TEXT, TEXT), TEXT)],
        "like_escape": [_f("like_escape", (TEXT, TEXT), TEXT)],
    }
    return F


FUNCTIONS: dict[str, list[Candidate]] = _functions()

# Kept apart from FUNCTIONS: their overloads are simplified (text stands for pg_node_tree, name and
# cstring), so they are not part of the registry that is compared with PostgreSQL overload by overload.
SYSTEM_FUNCTIONS: dict[str, list[Candidate]] = _system_functions()

# Functions whose value depends on the session or the catalog: the binder evaluates them while binding
# (see frontend.binder.system_functions) instead of shipping them to a compute node.
SESSION_FUNCTIONS = frozenset({
    "version", "current_setting", "set_config", "current_schema", "current_schemas", "current_database",
    "current_user", "session_user", "pg_backend_pid", "pg_postmaster_start_time", "to_regclass", "pg_get_userbyid",
    "pg_get_indexdef", "pg_get_constraintdef", "pg_get_viewdef", "pg_cancel_backend", "pg_terminate_backend",
    "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size",
    "to_regrole", "txid_current",
})

# Functions whose result depends on when they run, not only on their
# arguments: a materialized view must not use them.
NON_DETERMINISTIC = frozenset({"now", "current_date", "localtimestamp", "pg_sleep", "pg_advisory_unlock_all",
                               *SESSION_FUNCTIONS})
