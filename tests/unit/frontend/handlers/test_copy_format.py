"""COPY's text and CSV formats, checked against PostgreSQL: what it writes we read, what we write it reads."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import types as T
from common.errors import BadCopyFileFormat, FeatureNotSupported, InvalidParameterValue
from common.pgtext import FormatOptions
from frontend.handlers.copy_format import CopyFormat, copy_format, header_line, write_rows
from frontend.handlers.copy_reader import CopyReader, read_rows
from tests.helpers.oracle import oracle_database

NAMES = ["a", "b", "c"]
TRICKY = ["", "plain", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "NA", '"quoted"', "comma,semi;",
          "\\.", "ünïcödé", "x\\ty", " lead", "|pipe|", "\b\f\v", "a\\"]
FORMATS = {
    "text": ("", CopyFormat()),
    "text_pipe_na": ("DELIMITER '|', NULL 'NA'", CopyFormat(delimiter="|", null="NA")),
    "csv": ("FORMAT csv", CopyFormat(csv=True, delimiter=",", null="")),
    "csv_semicolon_header": ("FORMAT csv, DELIMITER ';', HEADER true, NULL 'NA'",
                             CopyFormat(csv=True, delimiter=";", null="NA", header=True)),
    "csv_escape": ("FORMAT csv, QUOTE '''', ESCAPE '\\'", CopyFormat(csv=True, delimiter=",", null="", quote="'",
                                                                     escape="\\")),
}
Row = tuple[str | None, str | None, str | None]


@pytest.fixture(scope="module")
def pg() -> Iterator[psycopg.Connection]:
    with oracle_database("eddy_copy") as conn:
        conn.execute("CREATE TABLE x (n int, a text, b text, c text)")
        yield conn


def pg_copy_out(pg: psycopg.Connection, rows: list[Row], options: str) -> bytes:
    pg.execute("TRUNCATE x")
    with pg.cursor() as cur:
        cur.executemany("INSERT INTO x VALUES (%s, %s, %s, %s)", [(i, *r) for i, r in enumerate(rows)])
        data = bytearray()
        with cur.copy(f"COPY (SELECT a, b, c FROM x ORDER BY n) TO STDOUT WITH ({options or 'FORMAT text'})") as cp:
            for chunk in cp:
                data += chunk
    return bytes(data)


def pg_copy_in(pg: psycopg.Connection, data: bytes, options: str) -> list[Row]:
    pg.execute("TRUNCATE x")
    pg.execute("CREATE TEMP SEQUENCE IF NOT EXISTS s")
    pg.execute("ALTER TABLE x ALTER COLUMN n SET DEFAULT nextval('s')")
    with pg.cursor() as cur, cur.copy(f"COPY x (a, b, c) FROM STDIN WITH ({options or 'FORMAT text'})") as cp:
        cp.write(data)
    return [tuple(r) for r in pg.execute("SELECT a, b, c FROM x ORDER BY n").fetchall()]  # type: ignore[misc]


def ours_write(rows: list[Row], fmt: CopyFormat) -> bytes:
    batch = pa.record_batch([pa.array([r[i] for r in rows], pa.string()) for i in range(3)], NAMES)
    lines = write_rows(batch, [T.VARCHAR] * 3, NAMES, fmt, FormatOptions())
    head = header_line(NAMES, fmt) if fmt.header else b""
    return head + "".join(lines.to_pylist()).encode()


def ours_read(data: bytes, fmt: CopyFormat, chunk: int = 1 << 20) -> list[Row]:
    reader = CopyReader(fmt, NAMES)
    batches = []
    for i in range(0, len(data), chunk):
        batches += reader.feed(data[i:i + chunk])
    batches += reader.finish()
    rows: list[Row] = []
    for columns in batches:
        rows += list(zip(*(c.to_pylist() for c in columns), strict=True))
    return rows


cells = st.one_of(st.none(), st.sampled_from(TRICKY), st.text(alphabet=st.sampled_from("ab\t\n\r\\,;\"'|N. é"),
                                                                max_size=8))
rows_strategy = st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=12)


@pytest.mark.parametrize("name", list(FORMATS))
def test_what_postgresql_writes_reads_back_exactly(pg: psycopg.Connection, name: str) -> None:
    options, fmt = FORMATS[name]
    rows: list[Row] = [(t, None, t[::-1]) for t in TRICKY] + [(None, None, None)]
    if fmt.null == "NA":
        rows = [r for r in rows if "NA" not in r]  # PostgreSQL would write them as NULL too
    assert ours_read(pg_copy_out(pg, rows, options), fmt) == rows


@pytest.mark.parametrize("name", list(FORMATS))
def test_what_we_write_postgresql_reads_back_exactly(pg: psycopg.Connection, name: str) -> None:
    options, fmt = FORMATS[name]
    rows: list[Row] = [(t, None, t + "!") for t in TRICKY if t != fmt.null] + [(None, None, None)]
    ours = ours_write(rows, fmt)
    assert pg_copy_in(pg, ours, options) == rows
    if not fmt.csv or fmt.escape == fmt.quote:
        # Byte for byte what PostgreSQL writes (CSV with a distinct escape quotes differently but equivalently).
        assert ours == pg_copy_out(pg, rows, options)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, name=st.sampled_from(["text", "csv", "csv_semicolon_header"]),
       chunk=st.integers(1, 64))
def test_round_trips_through_postgresql_in_any_chunking(pg: psycopg.Connection, rows: list[Row], name: str,
                                                        chunk: int) -> None:
    options, fmt = FORMATS[name]
    rows = [tuple(None if v == fmt.null else v for v in r) for r in rows]  # type: ignore[misc]
    assert ours_read(pg_copy_out(pg, rows, options), fmt, chunk) == rows
    assert pg_copy_in(pg, ours_write(rows, fmt), options) == rows


def test_batches_are_cut_at_row_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("frontend.handlers.copy_reader.BATCH_BYTES", 64)
    fmt = CopyFormat(csv=True, delimiter=",", null="")
    rows = [(f"row {i}", '"multi\nline, quoted"', "x\\y") for i in range(50)]
    data = ours_write(rows, fmt)  # type: ignore[arg-type]
    reader = CopyReader(fmt, NAMES)
    batches = []
    for i in range(0, len(data), 7):
        batches += reader.feed(data[i:i + 7])
    batches += reader.finish()
    assert len(batches) > 5
    assert [r for b in batches for r in zip(*(c.to_pylist() for c in b))] == rows


def test_end_marker_stops_reading() -> None:
    assert ours_read(b"1\t2\t3\n\\.\nignored\n", CopyFormat()) == [("1", "2", "3")]
    assert ours_read(b"\\.\n", CopyFormat()) == []


def test_text_escapes_before_delimiters_and_newlines() -> None:
    data = b"a\\\tb\tc\\\nd\te\\\\\n"  # an escaped tab, an escaped newline, an escaped backslash
    assert ours_read(data, CopyFormat()) == [("a\tb", "c\nd", "e\\")]
    assert ours_read(b"\\101\\x42\\n\t\\N\t\n", CopyFormat()) == [("AB\n", None, "")]


def test_row_width_errors_name_the_missing_column() -> None:
    with pytest.raises(BadCopyFileFormat, match='missing data for column "c"'):
        read_rows(b"1\t2\n", CopyFormat(), NAMES, False)
    with pytest.raises(BadCopyFileFormat, match="extra data after last expected column"):
        read_rows(b"1\t2\t3\t4\n", CopyFormat(), NAMES, False)
    with pytest.raises(BadCopyFileFormat, match='missing data for column "b"'):
        read_rows(b"a\\\tb\n", CopyFormat(), NAMES, False)


def test_options_are_checked_as_postgresql_checks_them() -> None:
    assert copy_format({}, to=False) == CopyFormat()
    assert copy_format({"format": "csv", "header": "on"}, to=True) == CopyFormat(csv=True, delimiter=",", null="",
                                                                                 header=True)
    with pytest.raises(FeatureNotSupported, match="single one-byte character"):
        copy_format({"delimiter": "ab"}, to=False)
    with pytest.raises(FeatureNotSupported, match="only in CSV mode"):
        copy_format({"quote": "'"}, to=False)
    with pytest.raises(InvalidParameterValue, match='COPY format "xml" not recognized'):
        copy_format({"format": "xml"}, to=False)
    with pytest.raises(FeatureNotSupported, match="BINARY"):
        copy_format({"format": "binary"}, to=False)
    with pytest.raises(InvalidParameterValue, match="delimiter and quote must be different"):
        copy_format({"format": "csv", "delimiter": '"'}, to=False)
