"""The query phase message by message, over a raw socket: simple query, extended query, errors, portals."""

from __future__ import annotations

import struct

import pytest

from tests.unit.frontend.pgwire.pgwire_harness import ServerThread, wait_until
from tests.unit.frontend.pgwire.pgwire_rawclient import (
    FLUSH,
    SYNC,
    TERMINATE,
    Message,
    RawClient,
    bind,
    close,
    describe,
    execute,
    msg,
    parse,
    query,
    types_of,
)


@pytest.fixture
def client(pg: ServerThread) -> RawClient:
    return RawClient(pg.port)


def tags(messages: list[Message]) -> list[str]:
    return [m.text() for m in messages if m.type == "C"]


def error(messages: list[Message]) -> dict[str, str]:
    (err,) = [m for m in messages if m.type == "E"]
    return err.fields()


def test_startup_reports_every_parameter_and_the_key(pg: ServerThread, client: RawClient) -> None:
    assert types_of(client.startup) == "R" + "S" * 11 + "KZ"
    assert client.startup[0].body == struct.pack(">i", 0)
    reported = dict(m.body.decode().split("\0")[:2] for m in client.startup if m.type == "S")
    (session,) = pg.factory.sessions.values()
    assert reported == session.parameter_status()
    assert client.startup[-2].body == struct.pack(">iI", session.process_id, session.secret_key)
    assert client.startup[-1].body == b"I"


def test_simple_query_runs_each_statement_in_order(client: RawClient) -> None:
    client.send(query("SELECT 7; SELECT * FROM generate_series(1, 4)"))
    out = client.until("Z")
    assert types_of(out) == "TDC" + "TDDDDC" + "Z"
    assert out[0].row_description() == [("?column?", 0, 0, 23, 4, -1, 0)]
    assert out[1].data_row() == [b"7"]
    assert [m.data_row() for m in out[4:8]] == [[b"1"], [b"2"], [b"3"], [b"4"]]
    assert tags(out) == ["SELECT 1", "SELECT 4"]


@pytest.mark.parametrize("sql", ["", "   ", ";"])
def test_empty_query(client: RawClient, sql: str) -> None:
    client.send(query(sql))
    assert types_of(client.until("Z")) == "IZ"


def test_error_stops_the_rest_of_a_simple_query(client: RawClient) -> None:
    client.send(query("SELECT 1; SELECT * FROM missing; SELECT 2"))
    out = client.until("Z")
    assert types_of(out) == "TDCEZ"
    assert error(out) == {"S": "ERROR", "V": "ERROR", "C": "42P01", "M": 'relation "missing" does not exist',
                          "P": "15"}


def test_syntax_error_is_reported_before_anything_runs(pg: ServerThread, client: RawClient) -> None:
    client.send(query("SELECT 1; SELEC 2"))
    out = client.until("Z")
    assert types_of(out) == "EZ"
    assert error(out)["C"] == "42601"
    assert pg.factory.executed == []


def test_error_fields_detail_and_hint(client: RawClient) -> None:
    client.send(query("SELECT hint()"))
    fields = error(client.until("Z"))
    assert fields["C"] == "23505"
    assert fields["D"] == "Key (id)=(1) already exists."
    assert fields["H"] == "Pick another id."
    assert "P" not in fields


def test_internal_error_hides_its_details_and_the_session_goes_on(client: RawClient) -> None:
    client.send(query("SELECT crash()"))
    out = client.until("Z")
    assert error(out) == {"S": "ERROR", "V": "ERROR", "C": "XX000", "M": "internal error"}
    assert all(b"secret" not in m.body for m in out)
    client.send(query("SELECT 1"))
    assert types_of(client.until("Z")) == "TDCZ"


def test_error_while_streaming_rows(client: RawClient) -> None:
    client.send(query("SELECT fail_midway()"))
    out = client.until("Z")
    assert types_of(out) == "TDDEZ"
    assert error(out)["C"] == "22012"


def test_transaction_status_follows_the_session(client: RawClient) -> None:
    client.send(query("BEGIN"))
    assert client.until("Z")[-1].body == b"T"
    client.send(query("SELECT 1/0"))
    assert client.until("Z")[-1].body == b"E"
    client.send(query("SELECT 1"))
    out = client.until("Z")
    assert error(out)["C"] == "25P02"
    assert out[-1].body == b"E"
    client.send(query("ROLLBACK"))
    out = client.until("Z")
    assert tags(out) == ["ROLLBACK"]
    assert out[-1].body == b"I"


def test_command_tags_and_notices(client: RawClient) -> None:
    client.send(query("CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2); UPDATE t SET a = 1; "
                      "DELETE FROM t; DROP TABLE IF EXISTS nope"))
    out = client.until("Z")
    assert types_of(out) == "CCCCNCZ"
    assert tags(out) == ["CREATE TABLE", "INSERT 0 2", "UPDATE 2", "DELETE 3", "DROP TABLE"]
    assert out[4].fields() == {"S": "NOTICE", "V": "NOTICE", "C": "00000",
                               "M": 'table "nope" does not exist, skipping'}


def test_changed_parameters_are_reported_after_the_statement(client: RawClient) -> None:
    client.send(query("SET application_name = 'probe'; SELECT 1"))
    out = client.until("Z")
    assert types_of(out) == "CSTDCZ"
    assert out[1].body == b"application_name\0probe\0"


def test_fatal_error_closes_the_connection(pg: ServerThread, client: RawClient) -> None:
    (pid,) = pg.factory.sessions
    client.send(query("SELECT fatal()"))
    out = client.rest()
    assert types_of(out) == "E"
    assert out[0].fields()["S"] == "FATAL"
    assert out[0].fields()["C"] == "57P01"
    wait_until(lambda: pid in pg.factory.closed, "the session to close")


# -- extended query ---------------------------------------------------------

def test_describe_statement_then_flush_answers_without_sync(client: RawClient) -> None:
    # asyncpg's way: Parse + Describe + Flush, and it waits for the answers before sending Sync.
    client.send(parse("SELECT $1::int4, $2::varchar, $3", "s1") + describe(b"S", "s1") + FLUSH)
    out = [client.read() for _ in range(3)]
    assert types_of(out) == "1tT"  # type: ignore[arg-type]
    assert out[1].body == struct.pack(">hIII", 3, 23, 1043, 1043)  # type: ignore[union-attr]
    assert [c[0] for c in out[2].row_description()] == ["int4", "varchar", "?column?"]  # type: ignore[union-attr]
    client.send(bind((struct.pack(">i", 5), b"x", None), stmt="s1", param_formats=(1, 1, 1), result_formats=(1,))
                + execute() + SYNC)
    out2 = client.until("Z")
    assert types_of(out2) == "2DCZ"
    assert out2[1].data_row() == [struct.pack(">i", 5), b"x", None]


def test_declared_parameter_types_win(client: RawClient) -> None:
    client.send(parse("SELECT $1::int4", oids=(21,)) + describe(b"S") + SYNC)
    out = client.until("Z")
    assert out[1].body == struct.pack(">hI", 1, 21)
    client.send(bind((struct.pack(">h", -3),), param_formats=(1,), result_formats=(1,)) + execute() + SYNC)
    assert client.until("Z")[1].data_row() == [struct.pack(">i", -3)]


def test_describe_portal_reports_the_bound_formats(client: RawClient) -> None:
    client.send(parse("SELECT * FROM all_types") + bind(result_formats=(1,) * 6 + (0,) * 6)
                + describe(b"P") + execute() + SYNC)
    out = client.until("Z")
    assert types_of(out) == "12TDDDCZ"
    cols = out[2].row_description()
    assert [c[0] for c in cols][:2] == ["c_int2", "c_int4"]
    assert [(c[1], c[2]) for c in cols] == [(16384, i) for i in range(1, 13)]
    assert [c[6] for c in cols] == [1] * 6 + [0] * 6
    assert out[3].data_row()[:3] == [struct.pack(">h", 1), struct.pack(">i", 2), struct.pack(">q", 3)]
    assert out[5].data_row() == [None] * 12


def test_portal_suspension_and_resumption(client: RawClient) -> None:
    client.send(parse("SELECT * FROM generate_series(1, 5)") + bind()
                + execute(max_rows=2) + execute(max_rows=2) + execute(max_rows=0) + SYNC)
    out = client.until("Z")
    assert types_of(out) == "12DDsDDsDCZ"
    assert [m.data_row()[0] for m in out if m.type == "D"] == [b"1", b"2", b"3", b"4", b"5"]
    assert tags(out) == ["SELECT 1"]


def test_limit_reached_exactly_suspends_then_completes_empty(client: RawClient) -> None:
    client.send(parse("SELECT 1") + bind() + execute(max_rows=1) + execute(max_rows=1) + SYNC)
    out = client.until("Z")
    assert types_of(out) == "12DsCZ"
    assert tags(out) == ["SELECT 0"]


def test_named_portal_survives_sync_only_inside_a_transaction(client: RawClient) -> None:
    client.send(query("BEGIN"))
    client.until("Z")
    client.send(parse("SELECT * FROM generate_series(1, 3)") + bind(portal="cur") + execute("cur", 2) + SYNC)
    assert types_of(client.until("Z")) == "12DDsZ"
    client.send(execute("cur", 2) + SYNC)
    out = client.until("Z")
    assert types_of(out) == "DCZ"
    client.send(query("COMMIT"))
    client.until("Z")
    client.send(parse("SELECT 1") + bind(portal="cur2") + SYNC)
    client.until("Z")
    client.send(execute("cur2") + SYNC)
    out = client.until("Z")
    assert types_of(out) == "EZ"
    assert error(out) == {"S": "ERROR", "V": "ERROR", "C": "34000", "M": 'portal "cur2" does not exist'}


def test_error_skips_to_sync_then_recovers(client: RawClient) -> None:
    client.send(parse("SELEC broken") + bind() + execute() + describe(b"S") + query("SELECT 1") + SYNC)
    out = client.until("Z")
    assert types_of(out) == "EZ"
    assert error(out)["C"] == "42601"
    client.send(parse("SELECT 1") + bind() + execute() + SYNC)
    assert types_of(client.until("Z")) == "12DCZ"


def test_error_in_a_pipeline_is_flushed_at_once(client: RawClient) -> None:
    client.send(parse("SELEC broken", "s") + describe(b"S", "s") + FLUSH)
    assert client.read().type == "E"  # type: ignore[union-attr]
    client.send(SYNC)
    assert types_of(client.until("Z")) == "Z"


def test_pipelined_executes_share_one_sync(client: RawClient) -> None:
    client.send(parse("INSERT INTO t VALUES ($1)", "ins")
                + b"".join(bind((str(i).encode(),), stmt="ins") + execute() for i in range(3)) + SYNC)
    out = client.until("Z")
    assert types_of(out) == "1" + "2C" * 3 + "Z"
    assert tags(out) == ["INSERT 0 1"] * 3


@pytest.mark.parametrize(("messages", "sqlstate", "text"), [
    (parse("SELECT $1::int4") + bind((b"1", b"2")), "08P01",
     'bind message supplies 2 parameters, but prepared statement "" requires 1'),
    (parse("SELECT $1::int4") + bind((b"1",), param_formats=(0, 0)), "08P01",
     "bind message has 2 parameter formats but 1 parameters"),
    (parse("SELECT 1") + bind(result_formats=(0, 1)), "08P01",
     "bind message has 2 result formats but query has 1 columns"),
    (parse("SELECT $1::int4") + bind((b"1",), param_formats=(2,)), "22023", "unsupported format code: 2"),
    (parse("SELECT $1::int4") + bind((b"12345",), param_formats=(1,)), "22P03",
     "incorrect binary data format in bind parameter 1"),
    (parse("SELECT $1::int2") + bind((struct.pack(">i", 70000),), param_formats=(1,)), "22003",
     "smallint out of range"),
    (parse("SELECT $1::varchar") + bind((b"\xff",), param_formats=(1,)), "22021",
     'invalid byte sequence for encoding "UTF8": 0xff'),
    (bind(stmt="nope"), "26000", 'prepared statement "nope" does not exist'),
    (bind(), "26000", "unnamed prepared statement does not exist"),
    (describe(b"P", "nope"), "34000", 'portal "nope" does not exist'),
    (execute("nope"), "34000", 'portal "nope" does not exist'),
    (parse("SELECT 1", "s") + parse("SELECT 2", "s"), "42P05", 'prepared statement "s" already exists'),
    (parse("SELECT 1") + bind(portal="p") + bind(portal="p"), "42P03", 'cursor "p" already exists'),
    (parse("SELECT $1", oids=(17,)), "0A000", "parameter type with OID 17 is not supported"),
    (describe(b"X"), "08P01", "invalid DESCRIBE message subtype 88"),
    (close(b"Q"), "08P01", "invalid CLOSE message subtype 81"),
    (msg(b"E", b"portal-without-terminator"), "08P01", "invalid string in message"),
])
def test_extended_protocol_errors(client: RawClient, messages: bytes, sqlstate: str, text: str) -> None:
    client.send(messages + SYNC)
    out = client.until("Z")
    fields = error(out)
    assert (fields["C"], fields["M"]) == (sqlstate, text)
    client.send(query("SELECT 1"))
    assert types_of(client.until("Z")) == "TDCZ"


def test_malformed_sync_is_still_answered_with_ready_for_query(client: RawClient) -> None:
    client.send(msg(b"S", b"junk"))
    out = client.until("Z")
    assert (error(out)["C"], error(out)["M"]) == ("08P01", "invalid message format")
    client.send(query("SELECT 1"))
    assert types_of(client.until("Z")) == "TDCZ"


def test_close_statement_and_portal(client: RawClient) -> None:
    client.send(parse("SELECT 1", "s") + bind(portal="p", stmt="s") + close(b"P", "p") + close(b"S", "s")
                + close(b"S", "never-existed") + SYNC)
    assert types_of(client.until("Z")) == "12333Z"
    client.send(bind(stmt="s") + SYNC)
    assert error(client.until("Z"))["C"] == "26000"


def test_unnamed_statement_is_replaced_and_dropped_by_a_simple_query(client: RawClient) -> None:
    client.send(parse("SELECT 1") + parse("SELECT 2") + bind() + execute() + SYNC)
    out = client.until("Z")
    assert out[3].data_row() == [b"2"]
    client.send(parse("SELECT 3") + SYNC)
    client.until("Z")
    client.send(query("SELECT 4"))
    client.until("Z")
    client.send(bind() + SYNC)
    assert error(client.until("Z"))["C"] == "26000"


def test_empty_statement(client: RawClient) -> None:
    client.send(parse("") + describe(b"S") + bind() + execute() + SYNC)
    assert types_of(client.until("Z")) == "1tn2IZ"


def test_statement_without_rows_describes_as_no_data(client: RawClient) -> None:
    client.send(parse("INSERT INTO t VALUES ($1)") + describe(b"S") + bind((b"1",)) + describe(b"P")
                + execute() + execute() + SYNC)
    out = client.until("Z")
    assert types_of(out) == "1tn2nCCZ"
    assert out[1].body == struct.pack(">hI", 1, 20)


def test_changed_parameters_in_the_extended_protocol(client: RawClient) -> None:
    client.send(parse("SET application_name = 'jdbc'") + bind() + execute(max_rows=1) + SYNC)
    out = client.until("Z")
    assert types_of(out) == "12CSZ"
    assert tags(out) == ["SET"]


def test_function_call_is_refused_and_copy_messages_ignored(client: RawClient) -> None:
    client.send(msg(b"F", b"\0\0\0\1") + msg(b"d", b"stray") + msg(b"c") + query("SELECT 1"))
    out = client.until("Z")
    assert types_of(out) == "EZ"
    assert error(out)["C"] == "0A000"
    assert types_of(client.until("Z")) == "TDCZ"


def test_terminate_closes_the_session(pg: ServerThread, client: RawClient) -> None:
    (pid,) = pg.factory.sessions
    client.send(TERMINATE)
    assert client.rest() == []
    wait_until(lambda: pid in pg.factory.closed, "the session to close")
    wait_until(lambda: pg.server.connection_count == 0, "the connection to end")


def test_a_dropped_socket_closes_the_session(pg: ServerThread, client: RawClient) -> None:
    (pid,) = pg.factory.sessions
    client.send(parse("SELECT 1"))
    client.close()
    wait_until(lambda: pid in pg.factory.closed, "the session to close")
    wait_until(lambda: pg.server.connection_count == 0, "the connection to end")


def test_shutdown_tells_clients(pg: ServerThread, client: RawClient) -> None:
    pg.call(pg.server.close())
    out = client.rest()
    assert [m.fields()["C"] for m in out] == ["57P01"]
    assert pg.factory.closed
