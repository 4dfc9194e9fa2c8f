"""PostgreSQL text output and input of arrays, int2vector/oidvector and records.

An array prints as `{a,b,NULL}`: an element is double-quoted (with `"`
and `\\` escaped) when it is empty, is the word NULL, or holds a brace,
comma, quote, backslash or white space. int2vector and oidvector print
their elements separated by single spaces; a record prints as `(a,b)`
with the same quoting, NULL fields as nothing. Output is built a column
at a time from the elements' own text; input parses one distinct string
at a time (array literals are short and few).
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from common.errors import FeatureNotSupported, InvalidTextRepresentation
from common.types import DataType, TypeName

ElementFormatter = Callable[[pa.Array, DataType], pa.Array]
ElementParser = Callable[[pa.Array, DataType], pa.Array]

# Characters that force an array element into quotes (array_out's rule).
_ARRAY_SPECIAL = r'[{},"\\\s]'
_RECORD_SPECIAL = r'[(),"\\\s]'


def _quote(text: pa.Array, special: str, quote_null_word: bool) -> pa.Array:
    escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    needs = pc.or_(pc.match_substring_regex(text, special), pc.equal(pc.utf8_length(text), 0))
    if quote_null_word:
        needs = pc.or_(needs, pc.equal(pc.utf8_upper(text), "NULL"))
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    return pc.if_else(needs, quoted, text)


def _rejoin(lists: pa.Array, items: pa.Array) -> pa.ListArray:
    """A list column with the layout of `lists` holding `items` (its flattened elements, transformed)."""
    flat = lists.cast(pa.list_(lists.type.value_type)) if pa.types.is_large_list(lists.type) else lists
    offsets = flat.offsets
    base = offsets[0].as_py() if len(offsets) else 0
    if base:
        offsets = pc.subtract(offsets, base)
    return pa.ListArray.from_arrays(offsets, items, mask=flat.is_null() if flat.null_count else None)


def format_lists(arr: pa.Array, t: DataType, element_text: ElementFormatter) -> pa.Array:
    """The text of an array, int2vector or oidvector column."""
    item = t.item
    values = arr.flatten()
    text = element_text(values, item)
    if t.name is TypeName.ARRAY:
        text = pc.fill_null(_quote(text, _ARRAY_SPECIAL, True), "NULL")
        joined = pc.binary_join(_rejoin(arr, text), ",")
        return pc.binary_join_element_wise("{", joined, "}", "")
    return pc.binary_join(_rejoin(arr, pc.fill_null(text, "0")), " ")


def format_records(arr: pa.Array, t: DataType, element_text: ElementFormatter) -> pa.Array:
    parts = []
    for i, (_, ft) in enumerate(t.fields):
        field = arr.field(i) if isinstance(arr, pa.StructArray) else pc.struct_field(arr, [i])
        parts.append(pc.fill_null(_quote(element_text(field, ft), _RECORD_SPECIAL, False), ""))
    if not parts:
        body = pa.repeat(pa.scalar("", pa.string()), len(arr))
    else:
        body = pc.binary_join_element_wise(*parts, ",")
    out = pc.binary_join_element_wise("(", body, ")", "")
    return out if arr.null_count == 0 else pc.if_else(arr.is_valid(), out, pa.scalar(None, pa.string()))


# -- input -----------------------------------------------------------------------


def _split_array(s: str) -> list[str | None]:
    """The element texts of an array literal `{...}`; None for an unquoted NULL."""
    text = s.strip()
    if text.startswith("["):
        raise FeatureNotSupported("array literals with explicit bounds are not supported")
    if len(text) < 2 or text[0] != "{" or text[-1] != "}":
        raise InvalidTextRepresentation(f'malformed array literal: "{s}"',
                                        detail='Array value must start with "{" or dimension information.')
    body = text[1:-1]
    out: list[str | None] = []
    if not body.strip():
        return out
    i, n = 0, len(body)
    while True:
        while i < n and body[i].isspace():
            i += 1
        if i < n and body[i] == "{":
            raise FeatureNotSupported("multidimensional arrays are not supported")
        if i < n and body[i] == '"':
            i += 1
            buf = []
            while i < n and body[i] != '"':
                if body[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(body[i])
                i += 1
            if i >= n:
                raise InvalidTextRepresentation(f'malformed array literal: "{s}"', detail="Unexpected end of input.")
            i += 1
            out.append("".join(buf))
        else:
            buf = []
            while i < n and body[i] not in ",":
                if body[i] == "\\" and i + 1 < n:
                    i += 1
                elif body[i] in '{}"':
                    raise InvalidTextRepresentation(f'malformed array literal: "{s}"',
                                                    detail=f'Unexpected "{body[i]}" character.')
                buf.append(body[i])
                i += 1
            word = "".join(buf).strip()
            if not word:
                raise InvalidTextRepresentation(f'malformed array literal: "{s}"',
                                                detail='Unexpected "," character.')
            out.append(None if word.upper() == "NULL" else word)
        while i < n and body[i].isspace():
            i += 1
        if i >= n:
            return out
        if body[i] != ",":
            raise InvalidTextRepresentation(f'malformed array literal: "{s}"', detail="Junk after closing quote.")
        i += 1


def _split_vector(s: str) -> list[str | None]:
    return list(s.split())


def parse_lists(strings: pa.Array, t: DataType, element_value: ElementParser) -> pa.Array:
    """An array (or vector) column read from its text; raises on the first malformed value."""
    encoded = pc.dictionary_encode(strings)
    split = _split_array if t.name is TypeName.ARRAY else _split_vector
    texts = [None if v is None else split(v) for v in encoded.dictionary.to_pylist()]
    flat = pa.array([x for parts in texts if parts is not None for x in parts], pa.string())
    items = element_value(flat, t.item)
    offsets = [0]
    for parts in texts:
        offsets.append(offsets[-1] + (len(parts) if parts is not None else 0))
    mask = pa.array([parts is None for parts in texts])
    dictionary = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items, mask=mask)
    return dictionary.take(encoded.indices)
