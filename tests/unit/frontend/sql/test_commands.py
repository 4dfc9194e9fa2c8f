"""Parsing of the statements Eddy parses by hand: cursors, PREPARE/EXECUTE, COPY, users, LISTEN."""

from __future__ import annotations

import pytest
from sqlglot import exp

from common.errors import SyntaxError_
from frontend.sql.commands import (
    CopyStatement,
    DeclareCursor,
    ExecuteStatement,
    FetchCursor,
    Listen,
    PrepareStatement,
    UserStatement,
)
from frontend.sql.dialect import Deallocate
from frontend.sql.parser import parse


def one(sql: str) -> exp.Expression:
    statements = parse(sql)
    assert len(statements) == 1
    return statements[0].tree


def test_declare_keeps_the_query_text_and_options() -> None:
    tree = one('DECLARE "My Cursor" BINARY NO SCROLL CURSOR WITH HOLD FOR SELECT \'a;b\', 1 FROM t')
    assert isinstance(tree, DeclareCursor)
    assert tree.args == {"this": "My Cursor", "query": "SELECT 'a;b', 1 FROM t", "binary": True, "scroll": False,
                         "hold": True}
    plain = one("declare C cursor without hold for values (1)")
    assert isinstance(plain, DeclareCursor)
    assert (plain.name, plain.args["hold"], plain.args["binary"], plain.args["query"]) == ("c", False, False,
                                                                                             "values (1)")


@pytest.mark.parametrize(("sql", "count", "move", "relative", "backward"), [
    ("FETCH c", 1, False, False, False),
    ("FETCH NEXT FROM c", 1, False, False, False),
    ("FETCH 5 c", 5, False, False, False),
    ("FETCH FORWARD 7 IN c", 7, False, False, False),
    ("FETCH FORWARD FROM c", 1, False, False, False),
    ("FETCH ALL FROM c", None, False, False, False),
    ("FETCH FORWARD ALL FROM c", None, False, False, False),
    ("FETCH RELATIVE 3 FROM c", 3, False, True, False),
    ("FETCH BACKWARD 2 FROM c", 1, False, False, True),
    ("FETCH PRIOR FROM c", 1, False, False, True),
    ("FETCH -1 FROM c", -1, False, False, True),
    ("MOVE 4 IN c", 4, True, False, False),
    ("MOVE ALL c", None, True, False, False),
])
def test_fetch_and_move_directions(sql: str, count: int | None, move: bool, relative: bool, backward: bool) -> None:
    tree = one(sql)
    assert isinstance(tree, FetchCursor)
    assert (tree.name, tree.args["count"], tree.args["move"], tree.args["relative"], tree.args["backward"]) == (
        "c", count, move, relative, backward)


def test_close_one_or_all() -> None:
    assert one('CLOSE "C1"').args == {"this": "C1"}
    assert one("close all").args == {"this": None}


def test_prepare_with_types_and_execute_with_arguments() -> None:
    tree = one("PREPARE q (int, numeric(10, 2), text) AS INSERT INTO t VALUES ($1, $2, $3)")
    assert isinstance(tree, PrepareStatement)
    assert tree.args == {"this": "q", "types": ["int", "numeric(10, 2)", "text"],
                         "statement": "INSERT INTO t VALUES ($1, $2, $3)"}
    ex = one("EXECUTE q (1, 2.5 + 1, 'x;y')")
    assert isinstance(ex, ExecuteStatement)
    assert [e.sql("postgres") for e in ex.expressions] == ["1", "2.5 + 1", "'x;y'"]
    assert one("EXECUTE q").expressions == []
    assert one("DEALLOCATE PREPARE q").name == "q"
    assert isinstance(one("DEALLOCATE ALL"), Deallocate)


def test_copy_new_and_old_option_syntax() -> None:
    new = one("COPY public.t (a, \"B\") FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';', NULL 'NA')")
    assert isinstance(new, CopyStatement)
    assert new.args == {"this": "t", "db": "public", "columns": ["a", "B"], "query": None, "to": False,
                        "target": "stdio", "options": {"format": "csv", "header": "true", "delimiter": ";",
                                                       "null": "NA"}}
    old = one("COPY t FROM STDIN WITH CSV HEADER DELIMITER AS '|' NULL AS ''")
    assert old.args["options"] == {"format": "csv", "header": True, "delimiter": "|", "null": ""}
    psql = one("COPY  t TO STDOUT csv force quote *")
    assert psql.args["to"] is True
    assert psql.args["options"] == {"format": "csv", "force_quote": "*"}
    query = one("COPY (SELECT a, (b + 1) FROM t WHERE c = ')') TO STDOUT")
    assert query.args["query"] == "SELECT a, (b + 1) FROM t WHERE c = ')'"
    assert query.args["this"] is None
    assert one("COPY t FROM '/etc/passwd'").args["target"] == "file"


@pytest.mark.parametrize("sql", ["COPY t FROM", "COPY t INTO STDIN", "COPY (SELECT 1 TO STDOUT",
                                 "COPY t FROM STDIN WITH (FORMAT", "FETCH", "DECLARE c FOR SELECT 1",
                                 "CLOSE", "CREATE USER", "DROP USER IF EXISTS"])
def test_malformed_statements_are_syntax_errors(sql: str) -> None:
    with pytest.raises(SyntaxError_):
        parse(sql)


def test_user_statements() -> None:
    create = one("CREATE USER alice WITH ENCRYPTED PASSWORD 'pw' SUPERUSER NOLOGIN CREATEDB")
    assert isinstance(create, UserStatement)
    assert create.args["options"] == [("password", "pw"), ("superuser", True), ("login", False),
                                      ("createdb", True)]
    role = one("CREATE ROLE r")
    assert (role.name, role.args["role"], role.args["options"]) == ("create", True, [])
    assert one("ALTER USER alice PASSWORD NULL").args["options"] == [("password", None)]
    rename = one('ALTER ROLE alice RENAME TO "Bob"')
    assert (rename.name, rename.args["new_name"]) == ("rename", "Bob")
    drop = one("DROP USER IF EXISTS a, b")
    assert (drop.name, drop.args["names"], drop.args["if_exists"]) == ("drop", ["a", "b"], True)
    with pytest.raises(SyntaxError_, match="UNENCRYPTED"):
        parse("CREATE USER u UNENCRYPTED PASSWORD 'x'")


def test_other_create_alter_drop_statements_still_parse() -> None:
    assert isinstance(one("CREATE TABLE users (id INT)"), exp.Create)
    assert isinstance(one("DROP TABLE users"), exp.Drop)
    assert isinstance(one("CREATE MATERIALIZED VIEW user_v AS SELECT 1"), exp.Create)


def test_listen_family() -> None:
    assert one("UNLISTEN *").args == {"this": "unlisten", "channel": "*"}
    assert one("LISTEN jobs").args == {"this": "listen", "channel": "jobs"}
    assert one("NOTIFY jobs, 'x'").args == {"this": "notify", "channel": "jobs"}
    assert isinstance(one("unlisten jobs"), Listen)


def test_pool_reset_query_parses_as_four_statements() -> None:
    kinds = [type(s.tree).__name__ for s in parse("SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;")]
    assert kinds == ["Select", "CloseCursor", "Listen", "Reset"]
