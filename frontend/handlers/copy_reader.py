"""Reading COPY's text and CSV formats: a client's data cut into batches of whole lines, split into string columns.

Arrow's CSV reader does the splitting for both formats (the text format is
CSV with a tab, no quoting and `\\N` for NULL), so a batch of lines becomes
string columns in C++. Only values that contain a backslash in the text
format are de-escaped one at a time. A batch that holds a backslash before
a delimiter or a line break (legal, but never written by PostgreSQL), and
CSV with an ESCAPE other than QUOTE, are split by slower exact parsers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from common.errors import BadCopyFileFormat, CharacterNotInRepertoire
from frontend.handlers.copy_format import CopyFormat

BATCH_BYTES = 8 << 20
"""Input bytes per batch of rows (one DML transaction each)."""

_EXPECTED_COLUMNS = re.compile(r"Expected (\d+) columns, got (\d+)")
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.DOTALL)


def _unescape_one(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m[1] is not None:
            return chr(int(m[1], 8) & 0xFF)
        if m[2] is not None:
            return chr(int(m[2], 16))
        return _SIMPLE_ESCAPES.get(m[3], m[3])
    return _ESCAPE.sub(repl, text)


def _unescape(col: pa.Array) -> pa.Array:
    """Text-format escapes decoded, Python touching only the values that have a backslash."""
    has = pc.fill_null(pc.match_substring(col, "\\"), False)
    if not pc.any(has).as_py():
        return col
    idx = np.flatnonzero(has.to_numpy(zero_copy_only=False))
    values = col.to_pylist()
    for i in idx:
        values[i] = _unescape_one(values[i])
    return pa.array(values, pa.string())


def _bad_format(e: pa.ArrowInvalid, names: Sequence[str]) -> Exception:
    text = str(e)
    m = _EXPECTED_COLUMNS.search(text)
    if m is not None:
        expected, got = int(m[1]), int(m[2])
        if got > expected:
            return BadCopyFileFormat("extra data after last expected column")
        return BadCopyFileFormat(f'missing data for column "{names[got]}"')
    if "UTF8" in text or "UTF-8" in text:
        return CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8"')
    return BadCopyFileFormat(f"invalid COPY data: {text}")


def _read_with_arrow(data: bytes, fmt: CopyFormat, names: Sequence[str], skip_header: bool) -> list[pa.Array]:
    columns = [f"c{i}" for i in range(len(names))]
    parse = pa_csv.ParseOptions(
        delimiter=fmt.delimiter, quote_char=fmt.quote if fmt.csv else False,
        double_quote=fmt.csv and fmt.escape == fmt.quote,
        escape_char=fmt.escape if fmt.csv and fmt.escape != fmt.quote else False,
        newlines_in_values=fmt.csv, ignore_empty_lines=False)
    convert = pa_csv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()), null_values=[fmt.null],
                                    strings_can_be_null=True, quoted_strings_can_be_null=False)
    read = pa_csv.ReadOptions(column_names=columns, skip_rows=1 if skip_header else 0,
                              block_size=max(1 << 20, len(data) + 1))
    try:
        table = pa_csv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse,
                                convert_options=convert)
    except pa.ArrowInvalid as e:
        raise _bad_format(e, names) from None
    out = [table.column(i).combine_chunks() if table.num_rows else pa.array([], pa.string())
           for i in range(len(columns))]
    return out if fmt.csv else [_unescape(c) for c in out]


def _text_fields(line: str, fmt: CopyFormat, names: Sequence[str]) -> list[str | None]:
    """One text-format line split exactly: a backslash escapes the delimiter and line breaks too."""
    fields: list[str | None] = []
    raw: list[str] = []
    i = 0
    while i <= len(line):
        if i == len(line) or line[i] == fmt.delimiter:
            text = "".join(raw)
            fields.append(None if text == fmt.null else _unescape_one(text))
            raw = []
            i += 1
            continue
        if line[i] == "\\" and i + 1 < len(line):
            raw.append(line[i:i + 2])
            i += 2
            continue
        raw.append(line[i])
        i += 1
    if len(fields) > len(names):
        raise BadCopyFileFormat("extra data after last expected column")
    if len(fields) < len(names):
        raise BadCopyFileFormat(f'missing data for column "{names[len(fields)]}"')
    return fields


def _read_text_exactly(data: bytes, fmt: CopyFormat, names: Sequence[str], skip_header: bool) -> list[pa.Array]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8"') from None
    # Line breaks preceded by an odd run of backslashes belong to the value.
    lines = re.findall(r"(?:[^\\\n]|\\.)*?(?:\r?\n|$)", text, re.DOTALL)
    rows = [ln[:-2] if ln.endswith("\r\n") else ln[:-1] if ln.endswith("\n") else ln for ln in lines]
    if rows and rows[-1] == "" and not lines[-1]:
        rows.pop()
    if skip_header and rows:
        rows = rows[1:]
    parsed = [_text_fields(row, fmt, names) for row in rows]
    return [pa.array([r[j] for r in parsed], pa.string()) for j in range(len(names))]


def _csv_records(text: str, fmt: CopyFormat) -> list[list[str | None]]:
    """CSV split exactly as PostgreSQL does when ESCAPE differs from QUOTE: the escape character escapes
    the quote or itself only inside quotes, and is an ordinary character everywhere else."""
    rows: list[list[str | None]] = []
    fields: list[str | None] = []
    buf: list[str] = []
    quoted = in_quotes = False
    i, n = 0, len(text)

    def end_field() -> None:
        nonlocal quoted
        value = "".join(buf)
        fields.append(None if not quoted and value == fmt.null else value)
        buf.clear()
        quoted = False

    while i < n:
        c = text[i]
        if in_quotes:
            if c == fmt.escape and i + 1 < n and text[i + 1] in (fmt.quote, fmt.escape):
                buf.append(text[i + 1])
                i += 2
                continue
            if c == fmt.quote:
                in_quotes = False
            else:
                buf.append(c)
        elif c == fmt.quote:
            in_quotes = quoted = True
        elif c == fmt.delimiter:
            end_field()
        elif c in "\r\n":
            end_field()
            rows.append(fields)
            fields = []
            if c == "\r" and text[i + 1:i + 2] == "\n":
                i += 1
        else:
            buf.append(c)
        i += 1
    if in_quotes:
        raise BadCopyFileFormat("unterminated CSV quoted field")
    if buf or fields or quoted:
        end_field()
        rows.append(fields)
    return rows


def _read_csv_exactly(data: bytes, fmt: CopyFormat, names: Sequence[str], skip_header: bool) -> list[pa.Array]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8"') from None
    rows = _csv_records(text, fmt)[1 if skip_header else 0:]
    for row in rows:
        if len(row) > len(names):
            raise BadCopyFileFormat("extra data after last expected column")
        if len(row) < len(names):
            raise BadCopyFileFormat(f'missing data for column "{names[len(row)]}"')
    return [pa.array([r[j] for r in rows], pa.string()) for j in range(len(names))]


def read_rows(data: bytes, fmt: CopyFormat, names: Sequence[str], skip_header: bool) -> list[pa.Array]:
    """The string columns of complete lines `data` (NULLs as NULL)."""
    if fmt.csv and fmt.escape != fmt.quote:
        return _read_csv_exactly(data, fmt, names, skip_header)
    if not fmt.csv and (f"\\{fmt.delimiter}".encode() in data or b"\\\n" in data or b"\\\r" in data):
        return _read_text_exactly(data, fmt, names, skip_header)
    return _read_with_arrow(data, fmt, names, skip_header)


class CopyReader:
    """Cuts a client's COPY data into batches of whole lines, stopping at an end marker `\\.`."""

    def __init__(self, fmt: CopyFormat, names: Sequence[str]) -> None:
        self._fmt = fmt
        self._names = list(names)
        self._buffer = bytearray()
        self._header_pending = fmt.header
        self._ended = False

    def feed(self, data: bytes) -> list[list[pa.Array]]:
        if self._ended:
            return []
        self._buffer += data
        if len(self._buffer) < BATCH_BYTES:
            return []
        cut = self._last_line_end()
        if cut <= 0:
            return []
        chunk = bytes(self._buffer[:cut])
        del self._buffer[:cut]
        return self._batch(chunk)

    def finish(self) -> list[list[pa.Array]]:
        if self._ended or not self._buffer:
            return []
        chunk = bytes(self._buffer)
        self._buffer.clear()
        if not chunk.endswith(b"\n"):
            chunk += b"\n"
        return self._batch(chunk)

    def _batch(self, chunk: bytes) -> list[list[pa.Array]]:
        marker = _end_marker(chunk)
        if marker >= 0:
            chunk = chunk[:marker]
            self._ended = True
        skip = self._header_pending
        self._header_pending = False
        if not chunk:
            return []
        return [read_rows(chunk, self._fmt, self._names, skip)]

    def _last_line_end(self) -> int:
        """Just after the last line break that ends a row (outside CSV quotes, not backslash-escaped)."""
        buf = np.frombuffer(self._buffer, np.uint8)
        newlines = np.flatnonzero(buf == 0x0A)
        if self._fmt.csv:
            quotes = np.cumsum(buf == ord(self._fmt.quote))
            if self._fmt.escape != self._fmt.quote:
                return 0  # escaped quotes break the parity count: read everything at the end
            newlines = newlines[quotes[newlines] % 2 == 0]
        for pos in newlines[::-1]:
            run = 0
            while not self._fmt.csv and pos - run - 1 >= 0 and buf[pos - run - 1] == 0x5C:
                run += 1
            if run % 2 == 0:
                return int(pos) + 1
        return 0


def _end_marker(chunk: bytes) -> int:
    """Where a line holding only `\\.` starts, or -1."""
    if chunk.startswith((b"\\.\n", b"\\.\r\n")):
        return 0
    for marker in (b"\n\\.\n", b"\n\\.\r\n"):
        i = chunk.find(marker)
        if i >= 0:
            return i + 1
    return -1
