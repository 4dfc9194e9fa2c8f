"""String functions against PostgreSQL, including 1-based positions, negative lengths and NULLs."""

from __future__ import annotations

import random

import pytest

from common.types import BOOLEAN, DATE, DOUBLE, INTEGER, NUMERIC, TIMESTAMPTZ, VARCHAR, DataType
from tests.unit.compute.expr.pg_oracle import Oracle, call, col, typed, unknown
from tests.unit.compute.expr.samples import samples

TEXTS = samples(VARCHAR, n=20)
POSITIONS = ["-3", "-1", "0", "1", "2", "3", "5", "100", None]
RNG = random.Random(11)


def text_rows(*columns: list[str | None]) -> list[list[str | None]]:
    """Every text sample with random picks from the other columns, plus the other columns' edge values."""
    rows = [[t, *(RNG.choice(c) for c in columns)] for t in TEXTS]
    for i, c in enumerate(columns):
        for v in c:
            rows.append([RNG.choice(TEXTS), *(v if j == i else RNG.choice(o) for j, o in enumerate(columns))])
    return rows


@pytest.mark.parametrize("name", ["lower", "upper", "length", "char_length", "octet_length", "reverse", "initcap",
                                  "md5", "ascii", "btrim", "ltrim", "rtrim"])
def test_unary(oracle: Oracle, name: str) -> None:
    bad = oracle.mismatches(call(name, col(0, VARCHAR)), [[t] for t in TEXTS], [VARCHAR])
    assert not bad, "\n".join(bad)


def test_substr(oracle: Oracle) -> None:
    lengths = ["-1", "0", "1", "2", "10", None]
    bad = oracle.mismatches(call("substr", col(0, VARCHAR), col(1, INTEGER)), text_rows(POSITIONS),
                            [VARCHAR, INTEGER])
    bad += oracle.mismatches(call("substr", col(0, VARCHAR), col(1, INTEGER), col(2, INTEGER)),
                             text_rows(POSITIONS, lengths), [VARCHAR, INTEGER, INTEGER])
    assert not bad, "\n".join(bad)


def test_positions_and_trims(oracle: Oracle) -> None:
    needles = ["", "a", "b", "c,", "é", "World", "zz", " ", None]
    bad = oracle.mismatches(call("strpos", col(0, VARCHAR), col(1, VARCHAR)), text_rows(needles), [VARCHAR, VARCHAR])
    for name in ("btrim", "ltrim", "rtrim"):
        bad += oracle.mismatches(call(name, col(0, VARCHAR), col(1, VARCHAR)), text_rows(["a", "ab", " ", "", None]),
                                 [VARCHAR, VARCHAR])
    bad += oracle.mismatches(call("starts_with", col(0, VARCHAR), col(1, VARCHAR)), text_rows(needles),
                             [VARCHAR, VARCHAR])
    assert not bad, "\n".join(bad)


def test_replace_split_part_repeat(oracle: Oracle) -> None:
    bad = oracle.mismatches(call("replace", col(0, VARCHAR), col(1, VARCHAR), col(2, VARCHAR)),
                            text_rows(["a", "", "bc", ",", None], ["X", "", "yy", None]), [VARCHAR] * 3)
    bad += oracle.mismatches(call("split_part", col(0, VARCHAR), col(1, VARCHAR), col(2, INTEGER)),
                             text_rows([",", "", " ", "b", ",,", None], ["1", "2", "3", "-1", "-2", "0", "10", None]),
                             [VARCHAR, VARCHAR, INTEGER])
    bad += oracle.mismatches(call("repeat", col(0, VARCHAR), col(1, INTEGER)), text_rows(["0", "1", "3", "-2", None]),
                             [VARCHAR, INTEGER])
    assert not bad, "\n".join(bad)


def test_left_right_pads(oracle: Oracle) -> None:
    counts = ["-5", "-1", "0", "1", "3", "20", None]
    bad: list[str] = []
    for name in ("left", "right"):
        bad += oracle.mismatches(call(name, col(0, VARCHAR), col(1, INTEGER)), text_rows(counts), [VARCHAR, INTEGER])
    for name in ("lpad", "rpad"):
        bad += oracle.mismatches(call(name, col(0, VARCHAR), col(1, INTEGER)), text_rows(counts), [VARCHAR, INTEGER])
        bad += oracle.mismatches(call(name, col(0, VARCHAR), col(1, INTEGER), col(2, VARCHAR)),
                                 text_rows(counts, ["*", "xy", "", "é-", None]), [VARCHAR, INTEGER, VARCHAR])
    assert not bad, "\n".join(bad)


def test_concatenation(oracle: Oracle) -> None:
    types: list[DataType] = [VARCHAR, INTEGER, BOOLEAN, DOUBLE, DATE, TIMESTAMPTZ, NUMERIC]
    rows = [[a, *(RNG.choice(samples(t)[:10]) for t in types[1:])] for a in TEXTS]
    cols = [col(i, t) for i, t in enumerate(types)]
    bad = oracle.mismatches(call("concat", *cols), rows, types)
    bad += oracle.mismatches(call("concat_ws", col(0, VARCHAR), *cols[1:]), rows, types)
    bad += oracle.mismatches(call("concat_ws", unknown(", "), *cols), rows, types)
    for t_col in cols:
        bad += oracle.mismatches(call("concat_op", col(0, VARCHAR), t_col), rows, types)
        bad += oracle.mismatches(call("concat_op", t_col, unknown("!")), rows, types)
    assert not bad, "\n".join(bad[:20])


def test_chr_and_errors(oracle: Oracle) -> None:
    rows = [[v] for v in ["65", "233", "8364", "128512", "0", "-1", "1114112", "55296", None]]
    assert not oracle.mismatches(call("chr", col(0, INTEGER)), rows, [INTEGER])
    assert not oracle.mismatches(call("substr", typed("abc", VARCHAR), typed("1", INTEGER), typed("-1", INTEGER)))
    assert not oracle.mismatches(call("split_part", unknown("a,b"), unknown(","), typed("0", INTEGER)))


def test_huge_results_are_refused(oracle: Oracle) -> None:
    assert not oracle.mismatches(call("repeat", unknown("ab"), typed("600000000", INTEGER)))
    assert not oracle.mismatches(call("lpad", unknown("ab"), typed("300000000", INTEGER)))
