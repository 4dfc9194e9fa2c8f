"""psql against the server: -c with several statements, a script on stdin, an interactive run with Ctrl-C,
TLS, passwords, and output compared with what the real PostgreSQL prints for the same values."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from frontend.pgwire.auth import CleartextPasswordAuthenticator
from tests.unit.frontend.pgwire.canned_statements import ALL_TYPES_PG_SQL
from tests.unit.frontend.pgwire.pgwire_harness import ServerThread, tls_server

PSQL = shutil.which("psql")
pytestmark = pytest.mark.skipif(PSQL is None, reason="psql is not installed")


def psql(port: int, *args: str, stdin: str | None = None, env: dict[str, str] | None = None,
         dsn: str | None = None) -> subprocess.CompletedProcess[str]:
    conninfo = dsn or f"host=127.0.0.1 port={port} user=root dbname=dev"
    full_env = {"PATH": os.environ["PATH"], "PGCONNECT_TIMEOUT": "10", "PGTZ": "UTC", **(env or {})}
    return subprocess.run([PSQL or "psql", "-X", "-A", "-t", "-d", conninfo, *args], input=stdin,
                          capture_output=True, text=True, timeout=60, env=full_env)


def test_several_statements_in_one_command(pg: ServerThread) -> None:
    r = psql(pg.port, "-c", "SELECT 1; SELECT * FROM generate_series(1, 3)")
    assert (r.returncode, r.stdout, r.stderr) == (0, "1\n1\n2\n3\n", "")


def test_values_print_as_postgres_prints_them(pg: ServerThread, pg_oracle: object) -> None:
    ours = psql(pg.port, "-c", "SELECT * FROM all_types")
    theirs = psql(5432, "-c", ALL_TYPES_PG_SQL, dsn="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    assert theirs.returncode == 0, theirs.stderr
    assert (ours.returncode, ours.stderr) == (0, "")
    assert ours.stdout == theirs.stdout


def test_error_shows_message_and_position(pg: ServerThread) -> None:
    r = psql(pg.port, "-c", "SELECT * FROM missing")
    assert r.returncode == 1
    assert r.stderr == ('ERROR:  relation "missing" does not exist\n'
                        "LINE 1: SELECT * FROM missing\n"
                        "                      ^\n")


def test_unknown_database_is_fatal(pg: ServerThread) -> None:
    r = psql(pg.port, "-c", "SELECT 1", dsn=f"host=127.0.0.1 port={pg.port} user=root dbname=nope")
    assert r.returncode == 2
    assert 'FATAL:  database "nope" does not exist' in r.stderr


def test_script_on_stdin(pg: ServerThread) -> None:
    script = ("SELECT 1;\n"
              "SET application_name = 'from_script';\n"
              "SHOW application_name;\n"
              "DROP TABLE IF EXISTS ghost;\n"
              "BEGIN;\nSELECT 1/0;\nROLLBACK;\n"
              "\\echo done\n")
    r = psql(pg.port, "-q", "-f", "-", stdin=script)
    assert r.returncode == 0
    assert r.stdout == "1\nfrom_script\ndone\n"
    assert r.stderr == ('psql:<stdin>:4: NOTICE:  table "ghost" does not exist, skipping\n'
                        "psql:<stdin>:6: ERROR:  division by zero\n")


class Terminal:
    """psql in a pseudo-terminal, as a person would run it."""

    def __init__(self, port: int) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child becomes psql
            os.execve(PSQL or "psql", ["psql", "-X", "-d", f"host=127.0.0.1 port={port} user=root dbname=dev"],
                      {"PATH": os.environ["PATH"], "TERM": "dumb", "PGTZ": "UTC", "PAGER": "cat"})
        self.output = ""

    def expect(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            left = deadline - time.monotonic()
            assert left > 0, f"psql never printed {text!r}; it printed {self.output!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                self.output += os.read(self.fd, 4096).decode(errors="replace")
        before, _, self.output = self.output.partition(text)
        return before

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def close(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_interactive_session_with_ctrl_c(pg: ServerThread) -> None:
    term = Terminal(pg.port)
    term.expect("dev=#")
    term.send("SELECT 41 + 1;\r")  # not canned: a syntax error
    term.expect("ERROR:  syntax error")
    term.expect("dev=#")
    term.send("SELECT pg_sleep(60);\r")
    assert pg.factory.sleeping.wait(20)
    term.send("\x03")
    term.expect("ERROR:  canceling statement due to user request")
    term.expect("dev=#")
    term.send("SELECT 42;\r")
    assert "42" in term.expect("(1 row)")
    term.send("\\q\r")
    assert term.close() == 0
    assert len(pg.factory.cancels) == 1


def test_tls(certificate: tuple[Path, Path]) -> None:
    server = tls_server(certificate, require_tls=True)
    try:
        r = psql(server.port, "-c", "SELECT 7", env={"PGSSLMODE": "require"})
        assert (r.returncode, r.stdout, r.stderr) == (0, "7\n", "")
        refused = psql(server.port, "-c", "SELECT 7", env={"PGSSLMODE": "disable"})
        assert refused.returncode == 2
        assert 'FATAL:  connection for user "root" requires TLS' in refused.stderr
    finally:
        server.stop()


def test_password(certificate: tuple[Path, Path]) -> None:
    async def check(user: str, password: str) -> bool:
        return password == "s3cret"

    server = tls_server(certificate, authenticator=CleartextPasswordAuthenticator(check))
    try:
        r = psql(server.port, "-c", "SELECT 8", env={"PGPASSWORD": "s3cret", "PGSSLMODE": "require"})
        assert (r.returncode, r.stdout) == (0, "8\n")
        wrong = psql(server.port, "-c", "SELECT 8", env={"PGPASSWORD": "nope", "PGSSLMODE": "require"})
        assert wrong.returncode == 2
        assert 'password authentication failed for user "root"' in wrong.stderr
    finally:
        server.stop()
