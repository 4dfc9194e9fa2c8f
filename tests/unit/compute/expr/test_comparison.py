"""Comparisons, IN, DISTINCT, NULL and boolean tests, logic, GREATEST/LEAST/NULLIF/COALESCE and LIKE against PostgreSQL."""

from __future__ import annotations

import itertools

import pytest

from common.types import BOOLEAN, DOUBLE, INTEGER, INTERVAL, NUMERIC, REAL, VARCHAR, DataType
from tests.unit.compute.expr.pg_oracle import Oracle, X, call, col, typed, unknown
from tests.unit.compute.expr.samples import ALL, pairs, samples

COMPARISONS = ["equal", "not_equal", "less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal"]
# Text compares byte-wise in Eddy; the oracle database's default collation would not.
COLLATE = {VARCHAR}


def _collated(x: X, t: DataType) -> X:
    return X(f'({x.sql} COLLATE "C")', x.expr) if t in COLLATE else x


@pytest.mark.parametrize("t", ALL, ids=str)
def test_comparisons_of_each_type(oracle: Oracle, t: DataType) -> None:
    bad: list[str] = []
    for op in COMPARISONS:
        x = call(op, _collated(col(0, t), t), col(1, t))
        bad += oracle.mismatches(x, pairs(t, t, n=40), [t, t])
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize(("a", "b"), [(INTEGER, DOUBLE), (REAL, DOUBLE), (INTEGER, NUMERIC)], ids=str)
def test_mixed_type_comparisons(oracle: Oracle, a: DataType, b: DataType) -> None:
    bad = oracle.mismatches(call("less_than", col(0, a), col(1, b)), pairs(a, b), [a, b])
    assert not bad, "\n".join(bad)


def test_nan_is_equal_to_itself_and_above_everything(oracle: Oracle) -> None:
    rows = [[a, b] for a, b in itertools.product(["NaN", "Infinity", "1", "-0", "0", None], repeat=2)]
    for op in COMPARISONS:
        for t in (DOUBLE, REAL):
            bad = oracle.mismatches(call(op, col(0, t), col(1, t)), rows, [t, t])
            assert not bad, "\n".join(bad)


def test_intervals_compare_by_span(oracle: Oracle) -> None:
    rows = [["1 mon", "30 days"], ["1 day", "24:00:00"], ["1 mon", "29 days 24:00:01"], ["-1 day", "-24:00:00"],
            ["1 year", "360 days"], ["1 day -1 sec", "23:59:59"]]
    for op in COMPARISONS:
        bad = oracle.mismatches(call(op, col(0, INTERVAL), col(1, INTERVAL)), rows, [INTERVAL, INTERVAL])
        assert not bad, "\n".join(bad)


@pytest.mark.parametrize("t", ALL, ids=str)
def test_distinct_from(oracle: Oracle, t: DataType) -> None:
    for op in ("is_distinct_from", "is_not_distinct_from"):
        bad = oracle.mismatches(call(op, col(0, t), col(1, t)), pairs(t, t, n=20), [t, t])
        assert not bad, "\n".join(bad)


def test_in_lists_with_nulls(oracle: Oracle) -> None:
    rows = [[v] for v in ["1", "2", "5", None, "-7"]]
    lists: list[list[str | None]] = [["1", "2"], ["1", None], [None], ["3", "4", "5", "6", "7", "8"],
                                     ["3", "4", "5", "6", None, "8"]]
    for items in lists:
        x = call("in", col(0, INTEGER), *(typed(v, INTEGER) for v in items))
        bad = oracle.mismatches(x, rows, [INTEGER])
        assert not bad, "\n".join(bad)
    x = call("in", col(0, DOUBLE), col(1, DOUBLE), typed("NaN", DOUBLE), unknown("2.5"))
    assert not oracle.mismatches(x, [["NaN", "1"], ["2.5", None], ["1", "1"], ["3", None]], [DOUBLE, DOUBLE])
    x = call("in", col(0, INTERVAL), *(typed(v, INTERVAL) for v in ["1 mon", "1 day", "2 days", "3 days", "4 h"]))
    assert not oracle.mismatches(x, [["30 days"], ["24:00:00"], ["5 days"], [None]], [INTERVAL])


def test_null_and_boolean_tests_and_logic(oracle: Oracle) -> None:
    rows = [[a, b] for a, b in itertools.product(["t", "f", None], repeat=2)]
    for name in ("is_null", "is_not_null", "is_true", "is_not_true", "is_false", "is_not_false", "not"):
        assert not oracle.mismatches(call(name, col(0, BOOLEAN)), rows, [BOOLEAN, BOOLEAN])
    for name in ("and", "or"):
        assert not oracle.mismatches(call(name, col(0, BOOLEAN), col(1, BOOLEAN)), rows, [BOOLEAN, BOOLEAN])
    for t in ALL:
        assert not oracle.mismatches(call("is_null", col(0, t)), [[v] for v in samples(t)[:12]], [t])


@pytest.mark.parametrize("t", ALL, ids=str)
def test_greatest_least_nullif_coalesce(oracle: Oracle, t: DataType) -> None:
    rows = [[a, b, c] for a, b, c in zip(samples(t, seed=3), samples(t, seed=4), samples(t, seed=5))]
    rows += [[None, None, None], [None, rows[0][1], None]]
    cols = [_collated(col(i, t), t) for i in range(3)]
    bad: list[str] = []
    for name in ("greatest", "least", "coalesce"):
        bad += oracle.mismatches(call(name, *cols), rows, [t, t, t])
    bad += oracle.mismatches(call("nullif", col(0, t), col(1, t)), [[r[0], r[0]] for r in rows] + [r[:2] for r in rows],
                             [t, t])
    assert not bad, "\n".join(bad[:20])


LIKE_CASES = [
    ("abc", "abc"), ("abc", "a%"), ("abc", "%c"), ("abc", "_b_"), ("abc", "a_"), ("a%c", "a\\%c"), ("abc", "a\\%c"),
    ("a_c", "a\\_c"), ("abc", "%"), ("", "%"), ("", "_"), ("ABC", "a%"), ("ünï", "_n_"), ("a\nb", "a_b"),
    ("abc", "abc\\"), ("ab\\", "ab\\\\"), ("abc", "%b%"), ("abc", "%%c"), (None, "a"), ("a", None), ("Abc", "a%C"),
    ("x.y", "x.y"), ("x+y", "x+y"), ("(a)", "(%)"), ("a", "a\\"), ("ab", "a\\"),
]


@pytest.mark.parametrize("op", ["like", "not_like", "ilike", "not_ilike"])
def test_like(oracle: Oracle, op: str) -> None:
    bad = oracle.mismatches(call(op, col(0, VARCHAR), col(1, VARCHAR)), [list(c) for c in LIKE_CASES],
                            [VARCHAR, VARCHAR])
    assert not bad, "\n".join(bad)
