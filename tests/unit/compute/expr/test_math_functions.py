"""Mathematical functions on floats, integers and NUMERIC against PostgreSQL (values and errors)."""

from __future__ import annotations

import pytest

from common.types import BIGINT, DOUBLE, INTEGER, NUMERIC, REAL, SMALLINT, DataType
from tests.unit.compute.expr.pg_oracle import Oracle, call, col
from tests.unit.compute.expr.samples import NUMBERS, pairs, samples

UNARY = ["abs", "round", "ceil", "ceiling", "floor", "trunc", "sqrt", "cbrt", "exp", "ln", "log", "log10", "sign"]
# NUMERIC arguments of exp/ln/... are computed with 60 digits and rounded to 10; PostgreSQL computes its own
# number of digits, so their results compare at the precision both have (see pg_oracle.same).
SMALL_NUMERIC = ["0", "1", "-1", "0.5", "2", "10", "1.5", "-2.5", "123.456", "0.0001", "1e-10", "100", "2.5", "3.5",
                 "-0.5", "99", None]


def values_for(t: DataType) -> list[str | None]:
    return SMALL_NUMERIC if t == NUMERIC else samples(t, n=20)


@pytest.mark.parametrize("t", NUMBERS, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary(oracle: Oracle, name: str, t: DataType) -> None:
    bad = oracle.mismatches(call(name, col(0, t)), [[v] for v in values_for(t)], [t])
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("t", [DOUBLE, NUMERIC, INTEGER], ids=str)
def test_power(oracle: Oracle, t: DataType) -> None:
    small = ["0", "1", "-1", "2", "-2", "0.5", "-0.5", "3", "10", "-3", None]
    if t == DOUBLE:
        small += ["NaN", "Infinity", "-Infinity", "1e308", "1e-308", "400", "-400"]
    if t == INTEGER:
        small = [v for v in small if v is None or "." not in v]
    rows = [[a, b] for a in small for b in small]
    bad = oracle.mismatches(call("power", col(0, t), col(1, t)), rows, [t, t])
    assert not bad, "\n".join(bad)


def test_two_argument_round_trunc_log(oracle: Oracle) -> None:
    digits = ["-3", "-1", "0", "1", "2", "5", "12", None]
    rows = [[v, d] for v in [*SMALL_NUMERIC, "12345.6789", "-98765.4321", "0.0049999"] for d in digits]
    bad: list[str] = []
    for name in ("round", "trunc"):
        bad += oracle.mismatches(call(name, col(0, NUMERIC), col(1, INTEGER)), rows, [NUMERIC, INTEGER])
    logs = [[b, x] for b in ["2", "10", "0.5", "1", "0", "-2"] for x in ["8", "100", "0.25", "1", "0", "-1"]]
    bad += oracle.mismatches(call("log", col(0, NUMERIC), col(1, NUMERIC)), logs, [NUMERIC, NUMERIC])
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("t", [SMALLINT, INTEGER, BIGINT, NUMERIC], ids=str)
def test_mod(oracle: Oracle, t: DataType) -> None:
    bad = oracle.mismatches(call("mod", col(0, t), col(1, t)), pairs(t, t), [t, t])
    assert not bad, "\n".join(bad)


def test_pi_and_float_rounding_modes(oracle: Oracle) -> None:
    assert not oracle.mismatches(call("pi"))
    halves = [[v] for v in ["0.5", "1.5", "2.5", "-0.5", "-1.5", "-2.5"]]
    for t in (DOUBLE, REAL, NUMERIC):
        assert not oracle.mismatches(call("round", col(0, t)), halves, [t])
