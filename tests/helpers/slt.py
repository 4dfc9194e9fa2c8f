"""A sqllogictest runner speaking to Eddy through psycopg, comparing PostgreSQL text output.

Supports the records RisingWave's test files use most: `statement ok`,
`statement error <regex>`, `statement count <n>`, `query <types> [rowsort|
valuesort|nosort]` with expected rows after `----`, `query error <regex>`,
`halt`, `skipif`/`onlyif` labels, comments. Values are compared after
collapsing whitespace; NULL is `NULL`, an empty string `(empty)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.adapt import Loader

LABEL = "eddy"
_TEXT_OIDS = (16, 20, 21, 23, 25, 700, 701, 1043, 1082, 1083, 1114, 1184, 1186, 1700, 17, 19, 26, 2205)


class _AsText(Loader):
    def load(self, data: bytes | bytearray | memoryview) -> str:
        return bytes(data).decode()


def text_connection(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    for oid in _TEXT_OIDS:
        conn.adapters.register_loader(oid, _AsText)
    return conn


@dataclass
class Record:
    kind: str  # statement | query | halt
    line: int
    sql: str = ""
    expect_error: str | None = None
    count: int | None = None
    sort: str = "nosort"
    expected: list[str] = field(default_factory=list)


class SltFailure(AssertionError):
    pass


def parse_slt(text: str) -> list[Record]:
    lines = text.splitlines()
    records: list[Record] = []
    i = 0
    skip_next = False
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        if not line or line.startswith("#"):
            i += 1
            continue
        words = line.split()
        head = words[0]
        if head in ("skipif", "onlyif"):
            skip_next = (head == "skipif") == (words[1] == LABEL)
            i += 1
            continue
        if head == "halt":
            records.append(Record("halt", i + 1))
            break
        if head in ("hash-threshold", "control", "mode"):
            i += 1
            continue
        start = i + 1
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() and lines[i].strip() != "----":
            body.append(lines[i])
            i += 1
        expected: list[str] = []
        if i < len(lines) and lines[i].strip() == "----":
            i += 1
            while i < len(lines) and lines[i].strip():
                expected.append(lines[i])
                i += 1
        rec = _record(words, start, "\n".join(body), expected)
        if not skip_next:
            records.append(rec)
        skip_next = False
    return records


def _record(words: list[str], line: int, sql: str, expected: list[str]) -> Record:
    if words[0] == "statement":
        if words[1] == "ok":
            return Record("statement", line, sql)
        if words[1] == "error":
            msg = " ".join(words[2:]) or "\n".join(expected) or ".*"
            return Record("statement", line, sql, expect_error=msg)
        if words[1] == "count":
            return Record("statement", line, sql, count=int(words[2]))
    if words[0] == "query":
        if len(words) > 1 and words[1] == "error":
            msg = " ".join(words[2:]) or "\n".join(expected) or ".*"
            return Record("query", line, sql, expect_error=msg)
        sort = words[2] if len(words) > 2 else "nosort"
        return Record("query", line, sql, sort=sort, expected=expected)
    raise SltFailure(f"line {line}: unknown record {' '.join(words)}")


def _cell(v: object) -> str:
    if v is None:
        return "NULL"
    s = str(v)
    return "(empty)" if s == "" else s


def _normalize(line: str) -> str:
    return " ".join(line.split())


def run_slt(path: Path, dsn: str) -> int:
    """Run every record of a file; raise SltFailure at the first mismatch. Returns records run."""
    records = parse_slt(path.read_text())
    conn = text_connection(dsn)
    ran = 0
    try:
        for rec in records:
            if rec.kind == "halt":
                break
            _run(conn, rec, path)
            ran += 1
    finally:
        conn.close()
    return ran


def _run(conn: psycopg.Connection, rec: Record, path: Path) -> None:
    where = f"{path.name}:{rec.line}"
    try:
        cur = conn.execute(rec.sql.encode())  # bytes: no client-side parameter parsing of '%'
        rows = cur.fetchall() if cur.description is not None else []
        rowcount = cur.rowcount
    except psycopg.Error as exc:
        if rec.expect_error is None:
            raise SltFailure(f"{where}: unexpected error [{exc.sqlstate}] {exc}\n  in: {rec.sql}") from None
        text = f"{exc.sqlstate} {exc.diag.message_primary or exc}"
        if not re.search(rec.expect_error, text, re.IGNORECASE | re.DOTALL):
            raise SltFailure(f"{where}: error {text!r} does not match {rec.expect_error!r}\n  in: {rec.sql}") from None
        return
    if rec.expect_error is not None:
        raise SltFailure(f"{where}: expected an error matching {rec.expect_error!r}, got success\n  in: {rec.sql}")
    if rec.count is not None and rowcount != rec.count:
        raise SltFailure(f"{where}: expected count {rec.count}, got {rowcount}\n  in: {rec.sql}")
    if rec.kind != "query":
        return
    actual = [" ".join(_cell(v) for v in row) for row in rows]
    expected = [_normalize(e) for e in rec.expected]
    if rec.sort == "rowsort":
        actual, expected = sorted(actual), sorted(expected)
    elif rec.sort == "valuesort":
        actual = sorted(v for r in actual for v in r.split())
        expected = sorted(v for r in expected for v in r.split())
    actual = [_normalize(a) for a in actual]
    if actual != expected:
        diff = "\n".join(f"  expected: {e!r}\n  actual:   {a!r}" for e, a in
                         zip(expected + ["<none>"] * len(actual), actual + ["<none>"] * len(expected)) if e != a)
        raise SltFailure(f"{where}: result mismatch\n  in: {rec.sql}\n{diff}")
