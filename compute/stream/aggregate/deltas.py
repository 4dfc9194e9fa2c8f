"""Per-chunk aggregate deltas, computed a whole chunk at a time with Arrow's group-by.

For each group touched by a chunk: how many rows it gained or lost, and
per aggregate the signed change (count of non-NULL values, sum of values,
or the smallest/largest inserted value for append-only MIN/MAX). For MIN/MAX
over a retractable input, also the change in multiplicity of each (group,
value). The hash agg executor then takes one Python step per group.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.chunk import StreamChunk
from common.expr import AggCall, AggKind, agg_state_types

_CONST_KEY = "_g"


@dataclass(frozen=True, slots=True)
class ChunkDeltas:
    """`groups`: one row per group: key columns `k0..`, `rows`, then per agg `a{i}_*` deltas.

    `minmax[i]`: for retractable MIN/MAX agg i, rows of (`k0..`, `v`, `n`):
    the multiplicity change `n` of value `v` in that group.
    """

    groups: pa.Table
    num_keys: int
    minmax: dict[int, pa.Table]


def _signed(values: pa.Array, positive: pa.Array) -> pa.Array:
    return pc.if_else(positive, values, pc.negate_checked(values))


def _key_columns(chunk: StreamChunk, group_key: Sequence[int]) -> list[pa.Array]:
    cols = []
    for i in group_key:
        c = chunk.column(i)
        if pa.types.is_floating(c.type):
            # -0.0 and 0.0 are one group in SQL; Arrow's hash tells them apart.
            c = pc.add(c, pa.scalar(0.0, c.type))
        cols.append(c)
    if not cols:
        cols = [pa.array(np.zeros(chunk.num_rows, dtype=np.int8))]
    return cols


def compute_deltas(chunk: StreamChunk, group_key: Sequence[int], aggs: Sequence[AggCall],
                   retractable_minmax: Sequence[bool], skip: Collection[int] = ()) -> ChunkDeltas:
    """Deltas per group; aggs in `skip` (sharing another agg's value table) get none."""
    n = chunk.num_rows
    signs = chunk.signs()
    positive = pa.array(signs > 0)
    sign_arr = pa.array(signs)
    keys = _key_columns(chunk, group_key)
    key_names = [f"k{j}" for j in range(len(keys))] if group_key else [_CONST_KEY]
    cols: dict[str, pa.Array] = dict(zip(key_names, keys))
    cols["rows"] = sign_arr
    specs: list[tuple[str, str]] = [("rows", "sum")]
    zero = pa.array(np.zeros(n, dtype=np.int64))
    minmax: dict[int, pa.Table] = {}
    for i, agg in enumerate(aggs):
        if agg.kind is AggKind.COUNT_STAR or i in skip:
            continue
        x = chunk.column(agg.args[0])
        valid_sign = pc.if_else(pc.is_valid(x), sign_arr, zero)
        if agg.kind is AggKind.COUNT:
            cols[f"a{i}_n"] = valid_sign
            specs.append((f"a{i}_n", "sum"))
        elif agg.kind in (AggKind.SUM, AggKind.AVG):
            acc_type = agg_state_types(agg)[0].arrow
            cols[f"a{i}_s"] = _signed(x.cast(acc_type), positive)
            cols[f"a{i}_n"] = valid_sign
            specs.extend(((f"a{i}_s", "sum"), (f"a{i}_n", "sum")))
        elif retractable_minmax[i]:
            minmax[i] = _value_multiplicities(keys, key_names, x, sign_arr, bool(group_key))
        else:
            func = "min" if agg.kind is AggKind.MIN else "max"
            cols[f"a{i}_v"] = x
            specs.append((f"a{i}_v", func))
    table = pa.table(cols)
    grouped = table.group_by(key_names, use_threads=False).aggregate(specs)
    rename = {f"{c}_{f}": c for c, f in specs}
    grouped = grouped.rename_columns([rename.get(c, c) for c in grouped.column_names])
    if not group_key:
        grouped = grouped.drop_columns([_CONST_KEY])
    return ChunkDeltas(grouped, len(group_key), minmax)


def _value_multiplicities(keys: list[pa.Array], key_names: list[str], x: pa.Array, signs: pa.Array,
                          has_group_key: bool) -> pa.Table:
    valid = pc.is_valid(x)
    cols = {name: pc.filter(k, valid) for name, k in zip(key_names, keys)}
    v = pc.filter(x, valid)
    if pa.types.is_floating(v.type):
        v = pc.add(v, pa.scalar(0.0, v.type))
    cols["v"] = v
    cols["n"] = pc.filter(signs, valid)
    grouped = pa.table(cols).group_by([*key_names, "v"], use_threads=False).aggregate([("n", "sum")])
    grouped = grouped.rename_columns(["n" if c == "n_sum" else c for c in grouped.column_names])
    grouped = grouped.filter(pc.not_equal(grouped.column("n"), 0))
    if not has_group_key:
        grouped = grouped.drop_columns([_CONST_KEY])
    return grouped
