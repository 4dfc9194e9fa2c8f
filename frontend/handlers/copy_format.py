"""COPY's text and CSV formats: the options that describe one, and writing rows in it a batch at a time.

Writing formats every column with `common.pgtext`, then escapes (text) or
quotes (CSV) it with Arrow compute kernels, exactly as PostgreSQL's COPY TO
writes it. Reading is in copy_reader.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from common.errors import (
    FeatureNotSupported,
    InvalidParameterValue,
    SyntaxError_,
)
from common.pgtext import FormatOptions, format_array
from common.types import DataType


@dataclass(frozen=True, slots=True)
class CopyFormat:
    csv: bool = False
    delimiter: str = "\t"
    null: str = "\\N"
    header: bool = False
    quote: str = '"'
    escape: str = '"'
    force_quote: tuple[str, ...] | None = None
    """Columns CSV output always quotes; ("*",) for all."""


def _bool_option(name: str, value: Any) -> bool:
    if value is True:
        return True
    text = str(value).lower()
    if text in ("true", "on", "1", "yes"):
        return True
    if text in ("false", "off", "0", "no"):
        return False
    raise SyntaxError_(f"{name} requires a Boolean value")


def _char_option(name: str, value: Any) -> str:
    text = str(value)
    if len(text) != 1 or len(text.encode("utf-8")) != 1:
        raise FeatureNotSupported(f"COPY {name} must be a single one-byte character")
    return text


def copy_format(options: dict[str, Any], *, to: bool) -> CopyFormat:
    """The format COPY's options describe, checked as PostgreSQL checks them."""
    fmt = str(options.get("format", "text")).lower()
    if fmt == "binary":
        raise FeatureNotSupported("COPY BINARY is not supported; use the text or CSV format")
    if fmt not in ("text", "csv"):
        raise InvalidParameterValue(f'COPY format "{fmt}" not recognized')
    csv = fmt == "csv"
    known = {"format", "delimiter", "null", "header", "quote", "escape", "force_quote", "encoding", "freeze"}
    for key in options:
        if key in ("force_not_null", "force_null", "default"):
            raise FeatureNotSupported(f"COPY {key.upper()} is not supported")
        if key not in known:
            raise SyntaxError_(f'option "{key}" not recognized')
    if str(options.get("header", "")).lower() == "match":
        raise FeatureNotSupported("COPY HEADER MATCH is not supported; use HEADER to skip the header line")
    if not csv and any(k in options for k in ("quote", "escape", "force_quote")):
        raise FeatureNotSupported("COPY quote, escape and force quote are available only in CSV mode")
    encoding = str(options.get("encoding", "utf8")).lower().replace("-", "").replace("_", "")
    if encoding not in ("utf8", "unicode"):
        raise FeatureNotSupported("COPY supports only the UTF8 encoding")
    delimiter = _char_option("delimiter", options.get("delimiter", "," if csv else "\t"))
    null = str(options.get("null", "" if csv else "\\N"))
    quote = _char_option("quote", options.get("quote", '"'))
    escape = _char_option("escape", options.get("escape", quote))
    if delimiter in ("\r", "\n") or (not csv and delimiter == "\\"):
        raise InvalidParameterValue("COPY delimiter cannot be newline, carriage return or backslash")
    if csv and delimiter == quote:
        raise InvalidParameterValue("COPY delimiter and quote must be different")
    if delimiter in null:
        raise InvalidParameterValue("COPY delimiter character must not appear in the NULL specification")
    force = options.get("force_quote")
    if force is not None and not to:
        raise FeatureNotSupported("COPY force quote only available using COPY TO")
    force_quote = None if force is None else (("*",) if force == "*" or force is True else tuple(force))
    header = _bool_option("header", options.get("header", False))
    return CopyFormat(csv, delimiter, null, header, quote, escape, force_quote)


# -- writing --------------------------------------------------------------------------

_TEXT_ESCAPES = (("\\", "\\\\"), ("\b", "\\b"), ("\f", "\\f"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
                 ("\v", "\\v"))


def _escape_text(col: pa.Array, delimiter: str) -> pa.Array:
    pairs = list(_TEXT_ESCAPES)
    if delimiter != "\t":
        pairs.append((delimiter, "\\" + delimiter))
    special = "[" + re.escape("".join(p[0] for p in pairs)) + "]"
    if not pc.any(pc.fill_null(pc.match_substring_regex(col, special), False)).as_py():
        return col
    for raw, escaped in pairs:
        col = pc.replace_substring(col, raw, escaped)
    return col


def _quote_csv(col: pa.Array, fmt: CopyFormat, force: bool, single_column: bool) -> pa.Array:
    """PostgreSQL's CSV quoting: a value with the delimiter, the quote or a line break, or equal to the NULL
    string, is quoted, with the quote and escape characters inside escaped."""
    inner = col
    if fmt.escape != fmt.quote:
        inner = pc.replace_substring(inner, fmt.escape, fmt.escape + fmt.escape)
    inner = pc.replace_substring(inner, fmt.quote, fmt.escape + fmt.quote)
    quoted = pc.binary_join_element_wise(fmt.quote, inner, fmt.quote, "")
    if force:
        return quoted
    special = "[" + re.escape(fmt.delimiter + fmt.quote + "\r\n") + "]"
    needs = pc.fill_null(pc.match_substring_regex(col, special), False)
    needs = pc.or_(needs, pc.fill_null(pc.equal(col, fmt.null), False))
    if single_column:  # alone on a line it would read as the end marker
        needs = pc.or_(needs, pc.fill_null(pc.equal(col, "\\."), False))
    return pc.if_else(needs, quoted, col)


def write_rows(batch: pa.RecordBatch, types: Sequence[DataType], names: Sequence[str], fmt: CopyFormat,
               opts: FormatOptions) -> pa.Array:
    """The rows of `batch` as COPY lines, one string (newline included) per row."""
    n = batch.num_rows
    columns = []
    for i, t in enumerate(types):
        arr = batch.column(i)
        text = format_array(arr, t, opts)
        if fmt.csv:
            force = fmt.force_quote is not None and (fmt.force_quote == ("*",) or names[i] in fmt.force_quote)
            text = _quote_csv(text, fmt, force, len(types) == 1)
        else:
            text = _escape_text(text, fmt.delimiter)
        columns.append(pc.if_else(arr.is_null(), pa.scalar(fmt.null, pa.string()), text))
    if not columns:
        return pa.array(["\n"] * n, pa.string())
    line = pc.binary_join_element_wise(*columns, fmt.delimiter)
    return pc.binary_join_element_wise(line, "\n", "")


def header_line(names: Sequence[str], fmt: CopyFormat) -> bytes:
    if fmt.csv:
        cells = _quote_csv(pa.array(list(names), pa.string()), fmt, False, len(names) == 1).to_pylist()
    else:
        cells = _escape_text(pa.array(list(names), pa.string()), fmt.delimiter).to_pylist()
    return (fmt.delimiter.join(cells) + "\n").encode("utf-8")
