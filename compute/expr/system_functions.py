"""Kernels of the functions system catalogs and client introspection queries call.

Most answer from fixed facts (`common.functions_system`): format_type,
visibility, the text of types and procedures. Privileges are always
granted (Eddy has no grants yet) and objects have no comments. The few
that need the catalog of the moment (user names, index and constraint
definitions, relation names) receive it from the binder as a JSON table in
their last argument, which the evaluator passes through unevaluated (see
`kernel.TABLE_ARGUMENT`). Also here: regular-expression matching, bitwise
operators, quote_ident, format() and json_build_object.
"""

from __future__ import annotations

import functools
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import InvalidParameterValue, InvalidRegularExpression, NullValueNotAllowed
from common.expr import FuncCall, Literal
from common.functions_system import (
    RESERVED_KEYWORDS,
    format_type,
    normalize_name,
    procedure_oid,
    procedures,
    relations_are_visible,
    schema_oid,
    type_oid,
)
from common.pgtext import format_array
from common.types import TypeName
from compute.expr.context import EvalContext
from compute.expr.kernel import (
    CONSTANTS,
    TABLE_ARGUMENT,
    from_numpy,
    kernel,
    map_distinct,
    per_distinct,
    valid_mask,
    values,
)


def _constant(value: object, call: FuncCall, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, call.type.arrow), n)


def _null_where_any_null(out: pa.Array, args: list[pa.Array]) -> pa.Array:
    ok = np.ones(len(out), bool)
    for a in args:
        ok &= valid_mask(a)
    return out if ok.all() else pc.if_else(pa.array(ok), out, pa.scalar(None, out.type))


# -- facts that never change -----------------------------------------------------------


@kernel("format_type")
def format_type_kernel(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    oids, typmods = args
    pairs = pc.binary_join_element_wise(oids.cast(pa.string()), pc.fill_null(typmods.cast(pa.string()), "-1"), ":")

    def name(key: object) -> str:
        oid, typmod = str(key).split(":")
        return format_type(int(oid), int(typmod))

    return map_distinct(pairs, name, pa.string())


@kernel("pg_table_is_visible")
def table_is_visible(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    oids = values(args[0]).astype(np.int64)
    return from_numpy(relations_are_visible(oids), pa.bool_(), valid_mask(args[0]))


@kernel("pg_type_is_visible", "pg_function_is_visible", "pg_collation_is_visible", "pg_opclass_is_visible",
        "pg_operator_is_visible", "has_table_privilege", "has_schema_privilege", "has_database_privilege",
        "has_function_privilege", "has_sequence_privilege", "has_any_column_privilege", "has_column_privilege")
def always_true(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _null_where_any_null(_constant(True, call, len(args[0])), args)


@kernel("pg_relation_is_publishable", "pg_is_in_recovery")
def always_false(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _constant(False, call, len(args[0]) if args else 1)


@kernel("obj_description", "col_description", "shobj_description", "pg_get_serial_sequence",
        "pg_get_statisticsobjdef_columns", "pg_get_partkeydef", "pg_get_triggerdef", "pg_get_ruledef")
def no_text(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """Objects have no comments, sequences, statistics objects, partitions, triggers or rules."""
    return pa.nulls(len(args[0]), call.type.arrow)


@kernel("pg_get_expr")
def pg_get_expr(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """Catalog expressions (column defaults, index predicates) are stored as their SQL text already."""
    return args[0].cast(pa.string())


@kernel("pg_tablespace_location")
def tablespace_location(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return _null_where_any_null(_constant("", call, len(args[0])), args)


@kernel("pg_encoding_to_char")
def encoding_to_char(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    codes = values(args[0]).astype(np.int64)
    return pc.if_else(pa.array(codes == 6), "UTF8", pa.scalar("", pa.string())) if len(codes) else pa.array(
        [], pa.string())


CONSTANTS["pg_client_encoding"] = lambda call, ctx: pa.scalar("UTF8", pa.string())
CONSTANTS["pg_advisory_unlock_all"] = lambda call, ctx: pa.scalar("", pa.string())


@kernel("pg_sleep")
def pg_sleep(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """The sleep itself happens in the projection, which awaits it (see compute.batch.project)."""
    return _constant("", call, len(args[0]))


@kernel("pg_get_function_result", "pg_get_function_arguments", "pg_get_function_identity_arguments")
def function_signature_text(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    by_oid = _procedure_texts(call.func)
    return map_distinct(args[0], lambda oid: by_oid.get(int(str(oid))), pa.string())


@functools.cache
def _procedure_texts(func: str) -> dict[int, str]:
    out = {}
    for p in procedures():
        if func == "pg_get_function_result":
            text = ("SETOF " if p.returns_set else "") + format_type(p.return_type, -1)
        else:
            text = ", ".join(format_type(a, -1) for a in p.arg_types)
        out[p.oid] = text
    return out


@kernel("to_regtype", "to_regproc", "to_regnamespace")
def to_reg(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    find = {"to_regtype": type_oid, "to_regproc": procedure_oid, "to_regnamespace": schema_oid}[call.func]
    return map_distinct(args[0], lambda name: find(str(name)), pa.int64())


# -- the catalog of the moment, handed over by the binder ------------------------------


@functools.lru_cache(maxsize=64)
def _table(text: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads(text)
    return loaded


def _lookup_table(call: FuncCall) -> dict[str, str]:
    last = call.args[-1]
    assert isinstance(last, Literal) and isinstance(last.value, str)
    return _table(last.value)


TABLE_ARGUMENT.update({"pg_get_userbyid", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_viewdef",
                       "regclass_name", "to_regclass", "regclass_in", "regrole_name"})


@kernel("pg_get_userbyid", "pg_get_constraintdef", "pg_get_viewdef", "regclass_name", "regrole_name")
def lookup_text(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    table = _lookup_table(call)
    if call.func == "pg_get_userbyid":
        return map_distinct(args[0], lambda oid: table.get(str(oid), f"unknown (OID={oid})"), pa.string())
    return map_distinct(args[0], lambda key: table.get(str(key)), pa.string())


@kernel("pg_get_indexdef")
def pg_get_indexdef(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """The index's CREATE statement, or with a column number its column (0: the whole statement)."""
    table = _lookup_table(call)
    if len(args) == 1:
        return map_distinct(args[0], lambda oid: table.get(str(oid)), pa.string())
    keys = pc.binary_join_element_wise(args[0].cast(pa.string()), args[1].cast(pa.string()), ":")
    whole = pc.binary_join_element_wise(args[0].cast(pa.string()), pa.scalar("0"), ":")
    keys = pc.if_else(pc.equal(args[1], 0), whole, keys)
    return map_distinct(keys, lambda key: table.get(str(key), ""), pa.string())


@kernel("to_regclass", "regclass_in")
def relation_oid(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """A relation's OID from its (possibly qualified, possibly quoted) name; to_regclass gives NULL for none."""
    table = _lookup_table(call)

    def find(name: object) -> int | None:
        key = normalize_name(str(name))
        found = table.get(key)
        if found is None and call.func == "regclass_in":
            from common.errors import UndefinedTable

            raise UndefinedTable(f'relation "{name}" does not exist')
        return None if found is None else int(found)

    return map_distinct(args[0].cast(pa.string()), find, pa.int64())




# -- strings ---------------------------------------------------------------------------


@kernel("regex_match", "not_regex_match", "regex_imatch", "not_regex_imatch")
def regex(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, pattern = args
    ignore_case = "imatch" in call.func
    negate = call.func.startswith("not_")

    def compute(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        try:
            matched = pc.match_substring_regex(text.take(pa.array(rows)), str(key[0]), ignore_case=ignore_case)
        except pa.ArrowInvalid as e:
            raise InvalidRegularExpression(f"invalid regular expression: {e}") from None
        return pc.invert(matched) if negate else matched

    return per_distinct([pattern], len(text), compute, pa.bool_())


@kernel("regexp_replace")
def regexp_replace(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, pattern, replacement = args[:3]
    flags = args[3] if len(args) > 3 else pa.repeat(pa.scalar("", pa.string()), len(text))

    def compute(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        pat, repl, flag = (str(k) for k in key)
        if "i" in flag:
            pat = "(?i)" + pat
        subset = text.take(pa.array(rows))
        return pc.replace_substring_regex(subset, pat, re.sub(r"\\(\d)", r"\\\1", repl),
                                          max_replacements=None if "g" in flag else 1)

    return per_distinct([pattern, replacement, flags], len(text), compute, pa.string())


@kernel("quote_ident")
def quote_ident(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text = args[0]
    plain = pc.match_substring_regex(text, r"^[a-z_][a-z0-9_$]*$")
    reserved = pc.is_in(text, value_set=pa.array(RESERVED_KEYWORDS))
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(pc.and_(plain, pc.invert(reserved)), text, quoted)


@kernel("quote_literal", "quote_nullable")
def quote_literal(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text = args[0].cast(pa.string())
    escaped = pc.replace_substring(text, "'", "''")
    has_backslash = pc.match_substring(text, "\\")
    quoted = pc.binary_join_element_wise("'", pc.replace_substring(escaped, "\\", "\\\\"), "'", "")
    out = pc.if_else(has_backslash, pc.binary_join_element_wise("E", quoted, ""), quoted)
    return pc.fill_null(out, "NULL") if call.func == "quote_nullable" else out


@kernel("parse_ident")
def parse_ident(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    def split(name: object) -> list[str]:
        parts = re.findall(r'"(?:[^"]|"")*"|[^.]+', str(name))
        out = [p[1:-1].replace('""', '"') if p.startswith('"') else p.strip().lower() for p in parts]
        if not out or any(not p for p in out):
            raise InvalidParameterValue(f'string is not a valid identifier: "{name}"')
        return out

    return map_distinct(args[0], split, call.type.arrow)


@kernel("string_to_array")
def string_to_array(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    text, delimiter = args[0], args[1]
    null_string = args[2] if len(args) > 2 else None

    def compute(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        subset = text.take(pa.array(rows))
        delim = str(key[0])
        parts = pc.split_pattern(subset, delim) if delim else pc.utf8_split_whitespace(subset)
        if null_string is not None and len(null_string) and null_string[0].is_valid:
            flat = parts.flatten()
            flat = pc.if_else(pc.equal(flat, null_string[0]), pa.scalar(None, pa.string()), flat)
            parts = pa.ListArray.from_arrays(parts.offsets, flat, mask=parts.is_null())
        return parts

    return per_distinct([delimiter], len(text), compute, call.type.arrow)


@kernel("format")
def format_kernel(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """format(): %s the text, %I an identifier, %L a literal, %% a percent sign, per row of distinct formats."""
    texts = [format_array(a, e.type, ctx.format) for a, e in zip(args[1:], call.args[1:])]

    def compute(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        take = pa.array(rows)
        fmt = str(key[0])
        parts: list[pa.Array | str] = []
        pos, arg = 0, 0
        for m in re.finditer(r"%(%|s|I|L)", fmt):
            parts.append(fmt[pos:m.start()])
            pos = m.end()
            if m.group(1) == "%":
                parts.append("%")
                continue
            if arg >= len(texts):
                raise InvalidParameterValue("too few arguments for format()")
            value = texts[arg].take(take)
            arg += 1
            if m.group(1) == "I":
                if value.null_count:
                    raise NullValueNotAllowed("null values cannot be formatted as an SQL identifier")
                value = quote_ident([value], call, ctx)
            elif m.group(1) == "L":
                value = pc.fill_null(quote_literal([value], call, ctx), "NULL")
            else:
                value = pc.fill_null(value, "")
            parts.append(value)
        parts.append(fmt[pos:])
        arrays = [p if isinstance(p, pa.Array) else pa.repeat(pa.scalar(p), len(rows)) for p in parts]
        return pc.binary_join_element_wise(*arrays, "")

    return per_distinct([args[0]], len(args[0]), compute, pa.string())


# -- json ------------------------------------------------------------------------------


def _json_values(arr: pa.Array, t_name: TypeName, text: pa.Array) -> pa.Array:
    if t_name in (TypeName.SMALLINT, TypeName.INTEGER, TypeName.BIGINT, TypeName.REAL, TypeName.DOUBLE,
                  TypeName.NUMERIC, TypeName.OID, TypeName.JSON):
        out = text
    elif t_name is TypeName.BOOLEAN:
        out = pc.if_else(arr, "true", "false")
    else:
        escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
        escaped = pc.replace_substring(pc.replace_substring(escaped, "\n", "\\n"), "\t", "\\t")
        out = pc.binary_join_element_wise('"', escaped, '"', "")
    return pc.fill_null(out, "null")


@kernel("json_build_object", "json_build_array")
def json_build(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    n = len(args[0]) if args else 1
    items = [_json_values(a, e.type.name, format_array(a, e.type, ctx.format)) for a, e in zip(args, call.args)]
    if call.func == "json_build_array":
        body = pc.binary_join_element_wise(*items, ", ") if items else pa.repeat(pa.scalar(""), n)
        return pc.binary_join_element_wise("[", body, "]", "")
    if len(items) % 2:
        raise InvalidParameterValue("argument list must have even number of elements",
                                    hint="The arguments of json_build_object() must consist of alternating keys "
                                         "and values.")
    pairs = [pc.binary_join_element_wise(k, v, " : ") for k, v in zip(items[::2], items[1::2])]
    body = pc.binary_join_element_wise(*pairs, ", ") if pairs else pa.repeat(pa.scalar(""), n)
    return pc.binary_join_element_wise("{", body, "}", "")


# -- integers --------------------------------------------------------------------------


@kernel("bitwise_and", "bitwise_or", "bitwise_xor", "shift_left", "shift_right")
def bitwise(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    fn = {"bitwise_and": pc.bit_wise_and, "bitwise_or": pc.bit_wise_or, "bitwise_xor": pc.bit_wise_xor,
          "shift_left": pc.shift_left, "shift_right": pc.shift_right}[call.func]
    return fn(args[0], args[1].cast(args[0].type))


@kernel("pg_size_pretty")
def size_pretty(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    def pretty(v: object) -> str:
        size = int(float(str(v)))
        for unit in ("bytes", "kB", "MB", "GB", "TB"):
            if abs(size) < 10 * 1024 or unit == "TB":
                return f"{size} {unit}"
            size = (size + 512) // 1024
        return f"{size} PB"

    return map_distinct(args[0], pretty, pa.string())


@kernel("like_escape")
def like_escape(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """A LIKE pattern written with ESCAPE 'c', rewritten to the default escape character (backslash)."""
    pattern, escape = args

    def rewrite(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        esc = str(key[0])
        if len(esc) > 1:
            raise InvalidParameterValue("invalid escape string", hint="Escape string must be empty or one character.")

        def convert(p: object) -> str:
            text, out, i = str(p), [], 0
            while i < len(text):
                c = text[i]
                if esc and c == esc and i + 1 < len(text):
                    out.append("\\" + text[i + 1])
                    i += 2
                    continue
                out.append("\\\\" if c == "\\" else c)
                i += 1
            return "".join(out)

        return map_distinct(pattern.take(pa.array(rows)), convert, pa.string())

    return per_distinct([escape], len(pattern), rewrite, pa.string())


@kernel("record_field")
def record_field(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    index = call.args[1]
    assert isinstance(index, Literal) and isinstance(index.value, int)
    return pc.struct_field(args[0], [index.value])
