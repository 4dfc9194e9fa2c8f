"""The evaluator itself: error modes, CASE/COALESCE/AND/OR laziness, literals, predicates, the clock."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from common.errors import DivisionByZero, EddyError, InvalidTextRepresentation
from common.expr import Case, Cast, Expr, FuncCall, InputRef, Literal
from common.functions import resolve
from common.pgtext import FormatOptions
from common.types import BOOLEAN, DATE, INTEGER, TIMESTAMP, TIMESTAMPTZ, VARCHAR, DataType
from compute.expr import ErrorMode, EvalContext, evaluate, evaluate_predicate
from tests.unit.compute.expr.pg_oracle import Oracle, call, case, col, typed, unknown

X = InputRef(0, INTEGER)
Y = InputRef(1, INTEGER)


def fn(name: str, *args: Expr) -> FuncCall:
    sig = resolve(name, [a.type for a in args])
    return FuncCall(sig.func, args, sig.return_type)


def lit(v: object, t: DataType = INTEGER) -> Literal:
    return Literal(v, t)


def batch(*columns: list[object], types: tuple[DataType, ...] = (INTEGER, INTEGER)) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(c, t.arrow) for c, t in zip(columns, types)],
                                      [f"c{i}" for i in range(len(columns))])


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[EddyError, int]] = []

    def __call__(self, error: EddyError, rows: int) -> None:
        self.calls.append((error, rows))


def test_raise_mode_fails_the_whole_evaluation() -> None:
    with pytest.raises(DivisionByZero, match=r"^division by zero$"):
        evaluate(fn("divide", X, Y), batch([1, 2, 3], [1, 0, 1]))


def test_null_mode_nulls_only_the_failing_rows_and_reports_them() -> None:
    seen = Recorder()
    ctx = EvalContext(mode=ErrorMode.NULL, on_error=seen)
    out = evaluate(fn("divide", X, Y), batch([10, 20, 30, 40, 50], [2, 0, 3, 0, 5]), ctx)
    assert out.to_pylist() == [5, None, 10, None, 10]
    assert len(seen.calls) == 1
    error, rows = seen.calls[0]
    assert isinstance(error, DivisionByZero) and rows == 2


def test_null_mode_isolates_bad_rows_in_large_batches() -> None:
    n = 10_000
    bad = {17, 4321, 9999}
    seen = Recorder()
    strings = pa.array([("x" if i in bad else str(i)) for i in range(n)])
    ctx = EvalContext(mode=ErrorMode.NULL, on_error=seen)
    out = evaluate(Cast(InputRef(0, VARCHAR), INTEGER), pa.RecordBatch.from_arrays([strings], ["c0"]), ctx)
    values = out.to_pylist()
    assert [i for i, v in enumerate(values) if v is None] == sorted(bad)
    assert all(values[i] == i for i in range(n) if i not in bad)
    assert len(seen.calls) == 1 and seen.calls[0][1] == 3
    assert isinstance(seen.calls[0][0], InvalidTextRepresentation)


def test_null_mode_errors_inside_nested_expressions_stay_local() -> None:
    seen = Recorder()
    ctx = EvalContext(mode=ErrorMode.NULL, on_error=seen)
    expr = fn("add", fn("divide", lit(100), X), lit(1))
    assert evaluate(expr, batch([4, 0, 50], [0, 0, 0]), ctx).to_pylist() == [26, None, 3]
    assert [rows for _, rows in seen.calls] == [1]


def test_case_evaluates_branches_only_where_selected() -> None:
    expr = Case(((fn("equal", X, lit(0)), lit(0)),), fn("divide", lit(1), X), INTEGER)
    assert evaluate(expr, batch([0, 1, 0, 2], [0, 0, 0, 0])).to_pylist() == [0, 1, 0, 0]
    guarded = Case(((fn("equal", X, lit(0)), lit(-1)), (fn("greater_than", fn("divide", lit(10), X), lit(3)), lit(1))),
                   lit(2), INTEGER)
    assert evaluate(guarded, batch([0, 1, 5, None], [0, 0, 0, 0])).to_pylist() == [-1, 1, 2, 2]
    no_default = Case(((fn("greater_than", X, lit(1)), X),), None, INTEGER)
    assert evaluate(no_default, batch([1, 2], [0, 0])).to_pylist() == [None, 2]


def test_case_in_null_mode_reports_only_reached_rows() -> None:
    seen = Recorder()
    expr = Case(((fn("equal", X, lit(0)), lit(0)),), fn("divide", lit(1), Y), INTEGER)
    out = evaluate(expr, batch([0, 1, 1], [0, 0, 1]), EvalContext(mode=ErrorMode.NULL, on_error=seen))
    assert out.to_pylist() == [0, None, 1]
    assert [rows for _, rows in seen.calls] == [1]


def test_coalesce_and_logic_short_circuit_per_row() -> None:
    coalesce = fn("coalesce", X, fn("divide", lit(1), Y))
    assert evaluate(coalesce, batch([5, None, 7], [0, 1, 0])).to_pylist() == [5, 1, 7]
    guard = fn("and", fn("not_equal", Y, lit(0)), fn("greater_than", fn("divide", lit(10), Y), lit(1)))
    assert evaluate(guard, batch([0, 0, 0, 0], [0, 2, 20, None])).to_pylist() == [False, True, False, None]
    either = fn("or", fn("equal", Y, lit(0)), fn("greater_than", fn("divide", lit(10), Y), lit(1)))
    assert evaluate(either, batch([0, 0, 0], [0, 2, 20])).to_pylist() == [True, True, False]
    with pytest.raises(DivisionByZero):
        # A NULL guard does not settle AND, so the division runs for that row, as in PostgreSQL.
        evaluate(fn("and", fn("equal", X, lit(1)), fn("greater_than", fn("divide", lit(10), Y), lit(1))),
                 batch([None], [0]))


def test_literals_broadcast_and_predicates_treat_null_as_false() -> None:
    empty = pa.RecordBatch.from_struct_array(pa.nulls(3, pa.struct([])).fill_null({}))
    assert evaluate(lit(7), empty).to_pylist() == [7, 7, 7]
    assert evaluate(Literal(None, VARCHAR), empty).to_pylist() == [None] * 3
    assert evaluate(Literal(dt.date(2026, 1, 2), DATE), empty).type == pa.date32()
    mask = evaluate_predicate(fn("greater_than", X, lit(1)), batch([0, 2, None], [0, 0, 0]))
    assert mask.to_pylist() == [False, True, False]
    zero_rows = batch([], [])
    assert evaluate(fn("add", X, Y), zero_rows).to_pylist() == []
    assert evaluate(Case(((fn("equal", X, lit(0)), lit(0)),), fn("divide", lit(1), X), INTEGER),
                    zero_rows).to_pylist() == []


def test_results_have_the_declared_arrow_types() -> None:
    rows = batch(["1", "2"], ["3", None], types=(VARCHAR, VARCHAR))
    dates = batch(["2026-01-01", "1999-12-31"], [None, None], types=(VARCHAR, VARCHAR))
    exprs: list[Expr] = [
        fn("length", InputRef(0, VARCHAR)),
        fn("concat_op", InputRef(0, VARCHAR), InputRef(1, VARCHAR)),
        fn("is_null", InputRef(1, VARCHAR)),
        Cast(InputRef(0, VARCHAR), INTEGER),
        Cast(InputRef(0, VARCHAR), TIMESTAMPTZ),
    ]
    for e in exprs:
        source = dates if e.type == TIMESTAMPTZ else rows
        assert evaluate(e, source).type == e.type.arrow


def test_clock_functions_use_the_statement_time_and_session_zone() -> None:
    now = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC)
    ctx = EvalContext(format=FormatOptions(timezone="America/New_York"), now=now)
    one = pa.RecordBatch.from_struct_array(pa.nulls(2, pa.struct([])).fill_null({}))
    assert evaluate(fn("now"), one, ctx).to_pylist() == [now, now]
    assert evaluate(fn("current_date"), one, ctx).to_pylist() == [dt.date(2026, 2, 28)] * 2
    assert evaluate(fn("localtimestamp"), one, ctx).to_pylist() == [dt.datetime(2026, 2, 28, 21, 30)] * 2
    unset = evaluate(fn("now"), one).to_pylist()
    assert unset[0] == unset[1] and abs(unset[0] - dt.datetime.now(dt.UTC)) < dt.timedelta(days=1)
    assert evaluate(fn("pi"), one).to_pylist()[0] == pytest.approx(3.141592653589793)


def test_case_and_coalesce_match_postgres(oracle: Oracle) -> None:
    x, y = col(0, INTEGER), col(1, INTEGER)
    rows: list[list[str | None]] = [["0", "5"], ["1", "0"], [None, "2"], ["-3", None], [None, None]]
    exprs = [
        case([(call("equal", x, typed("0", INTEGER)), typed("0", INTEGER))], call("divide", y, x)),
        case([(call("is_null", x), unknown("15")), (call("greater_than", x, y), x)], y),
        case([(call("less_than", x, y), unknown("less"))]),
        call("coalesce", x, call("divide", typed("10", INTEGER), y), typed("-1", INTEGER)),
        call("nullif", x, typed("0", INTEGER)),
        call("and", call("not_equal", y, typed("0", INTEGER)), call("greater_than", call("divide", x, y),
                                                                       typed("0", INTEGER))),
    ]
    for e in exprs:
        assert not oracle.mismatches(e, rows, [INTEGER, INTEGER])


def test_boolean_and_temporal_literals_round_trip() -> None:
    one = pa.RecordBatch.from_struct_array(pa.nulls(1, pa.struct([])).fill_null({}))
    assert evaluate(Literal(True, BOOLEAN), one).to_pylist() == [True]
    ts = dt.datetime(2026, 1, 1, 10)
    assert evaluate(Literal(ts, TIMESTAMP), one).to_pylist() == [ts]
