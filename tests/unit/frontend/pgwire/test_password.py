"""Password verifiers against PostgreSQL's: it accepts ours, and ours check passwords against its."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from frontend.pgwire.password import (
    check_cleartext,
    encrypt_password,
    is_verifier,
    md5_verifier,
    parse_scram_verifier,
    saslprep,
    scram_verifier,
)
from tests.helpers.oracle import oracle_database

PASSWORDS = ["secret", "pässwörd", "with space", "non\u00a0breaking", "soft\u00adhyphen", "\uff46\uff55\uff4c\uff4c", "'quote\"",
             "a" * 100]


@pytest.fixture(scope="module")
def pg() -> Iterator[psycopg.Connection]:
    with oracle_database("eddy_password") as conn:
        yield conn


def pg_verifier(pg: psycopg.Connection, role: str, password: str, method: str) -> str:
    pg.execute(f"SET password_encryption = '{method}'")
    pg.execute(f'DROP ROLE IF EXISTS "{role}"')
    pg.execute(psycopg.sql.SQL("CREATE ROLE {} PASSWORD {}").format(psycopg.sql.Identifier(role),
                                                                    psycopg.sql.Literal(password)))
    try:
        row = pg.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
    finally:
        pg.execute(f'DROP ROLE "{role}"')
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("password", PASSWORDS)
def test_postgresql_scram_verifiers_check_the_same_passwords(pg: psycopg.Connection, password: str) -> None:
    verifier = pg_verifier(pg, "eddy_scram_user", password, "scram-sha-256")
    assert parse_scram_verifier(verifier) is not None
    assert check_cleartext(verifier, "eddy_scram_user", password)
    assert not check_cleartext(verifier, "eddy_scram_user", password + "x")


@pytest.mark.parametrize("password", PASSWORDS)
def test_md5_verifiers_equal_postgresql_ones(pg: psycopg.Connection, password: str) -> None:
    verifier = pg_verifier(pg, "Eddy_MD5_user", password, "md5")
    assert md5_verifier("Eddy_MD5_user", password) == verifier
    assert check_cleartext(verifier, "Eddy_MD5_user", password)
    assert not check_cleartext(verifier, "other_user", password)


def test_postgresql_stores_our_scram_verifier_as_a_verifier(pg: psycopg.Connection) -> None:
    ours = scram_verifier("secret", salt=b"0123456789abcdef")
    # A string PostgreSQL did not recognise as a verifier would be hashed again as a password.
    assert pg_verifier(pg, "eddy_prehashed", ours, "scram-sha-256") == ours


def test_same_salt_same_verifier_as_postgresql(pg: psycopg.Connection) -> None:
    theirs = pg_verifier(pg, "eddy_salted", "pässwörd", "scram-sha-256")
    parsed = parse_scram_verifier(theirs)
    assert parsed is not None
    assert scram_verifier("pässwörd", salt=parsed.salt, iterations=parsed.iterations) == theirs


def test_encrypt_password_by_method_and_pass_through_of_verifiers() -> None:
    scram = encrypt_password("u", "pw", "scram-sha-256")
    assert scram.startswith("SCRAM-SHA-256$4096:") and check_cleartext(scram, "u", "pw")
    assert encrypt_password("u", "pw", "md5") == md5_verifier("u", "pw")
    assert encrypt_password("someone_else", scram, "md5") == scram
    assert is_verifier(md5_verifier("a", "b")) and not is_verifier("md5 but not one")


def test_saslprep_maps_spaces_and_drops_invisible_characters() -> None:
    assert saslprep("non\u00a0breaking") == "non breaking"
    assert saslprep("soft\u00adhyphen") == "softhyphen"
    assert saslprep("ascii stays") == "ascii stays"
    assert saslprep("bad\u0007control\u00e9") == "bad\u0007control\u00e9"  # prohibited: used unchanged
