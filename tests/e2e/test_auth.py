"""Users and authentication against real servers: SCRAM, MD5, trust, cleartext, TLS, persistence."""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psycopg
import psycopg2
import pytest
import trustme

from tests.helpers.eddy_server import EddyProcess

needs_psql = pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")


@pytest.fixture
def servers() -> Iterator[list[EddyProcess]]:
    """Processes a test starts; all killed at its end."""
    started: list[EddyProcess] = []
    yield started
    for proc in started:
        proc.kill()


def start(servers: list[EddyProcess], data_dir: Path, *args: str) -> EddyProcess:
    proc = EddyProcess(data_dir, extra_args=args)
    servers.append(proc)
    return proc.start()


def psql(eddy: EddyProcess, user: str, password: str | None, *args: str, conninfo: str = "",
         host: str = "127.0.0.1") -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("PGPASSWORD", None)
    if password is not None:
        env["PGPASSWORD"] = password
    dsn = f"host={host} port={eddy.port} user={user} dbname=dev {conninfo}"
    return subprocess.run(["psql", "-X", "-A", "-t", "-w", *args, dsn], env=env, capture_output=True, text=True,
                          timeout=60)


def dsn(eddy: EddyProcess, user: str, password: str, database: str = "dev") -> str:
    return f"host=127.0.0.1 port={eddy.port} user={user} password={password} dbname={database} sslmode=disable"


async def asyncpg_login(eddy: EddyProcess, user: str, password: str, database: str = "dev") -> int:
    conn = await asyncpg.connect(host="127.0.0.1", port=eddy.port, user=user, password=password, database=database,
                                 ssl=False)
    try:
        return int(await conn.fetchval("SELECT 1"))
    finally:
        await conn.close()


@needs_psql
def test_users_log_in_by_scram_and_md5_and_survive_a_restart(servers: list[EddyProcess], tmp_path: Path) -> None:
    eddy = start(servers, tmp_path / "data")
    with psycopg.connect(eddy.dsn, autocommit=True) as root:  # root has no password yet: trusted
        root.execute("CREATE USER scram_u WITH PASSWORD 'pw one'")
        root.execute("SET password_encryption = 'md5'")
        root.execute("CREATE USER md5_u PASSWORD 'pw2' CREATEDB")
        root.execute("CREATE ROLE no_login PASSWORD 'x'")  # a role, not a user: NOLOGIN
        with pytest.raises(psycopg.errors.DuplicateObject, match='role "scram_u" already exists'):
            root.execute("CREATE USER scram_u")
        with pytest.raises(psycopg.errors.ReservedName):
            root.execute("CREATE USER pg_nope")
    ok = psql(eddy, "scram_u", "pw one", "-c", "SHOW session_authorization")
    assert (ok.returncode, ok.stdout.strip()) == (0, "scram_u"), ok.stderr
    assert psql(eddy, "md5_u", "pw2", "-c", "SELECT 1").stdout.strip() == "1"
    for user, password in [("scram_u", "wrong"), ("md5_u", "pw one"), ("ghost", "pw one")]:
        bad = psql(eddy, user, password, "-c", "SELECT 1")
        assert bad.returncode != 0
        assert f'FATAL:  password authentication failed for user "{user}"' in bad.stderr
    nologin = psql(eddy, "no_login", "x", "-c", "SELECT 1")
    assert 'role "no_login" is not permitted to log in' in nologin.stderr

    assert asyncio.run(asyncpg_login(eddy, "scram_u", "pw one")) == 1
    with pytest.raises(asyncpg.InvalidPasswordError):
        asyncio.run(asyncpg_login(eddy, "scram_u", "nope"))
    with pytest.raises(asyncpg.InvalidCatalogNameError, match='database "elsewhere" does not exist'):
        asyncio.run(asyncpg_login(eddy, "scram_u", "pw one", database="elsewhere"))
    conn2 = psycopg2.connect(dsn(eddy, "md5_u", "pw2"))
    conn2.close()

    eddy.stop()
    eddy = start(servers, tmp_path / "data")
    assert psql(eddy, "scram_u", "pw one", "-c", "SELECT 1").stdout.strip() == "1"
    assert psql(eddy, "md5_u", "pw2", "-c", "SELECT 1").stdout.strip() == "1"


def test_who_may_manage_users(servers: list[EddyProcess], tmp_path: Path) -> None:
    eddy = start(servers, tmp_path / "data")
    with psycopg.connect(eddy.dsn, autocommit=True) as root:
        root.execute("CREATE USER alice PASSWORD 'a1'")
        root.execute("SET password_encryption = 'md5'")
        root.execute("CREATE USER bob PASSWORD 'b1'")
    with psycopg.connect(dsn(eddy, "alice", "a1"), autocommit=True) as alice:
        assert alice.info.parameter_status("is_superuser") == "off"
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied to create role"):
            alice.execute("CREATE USER mallory")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("ALTER USER alice SUPERUSER")
        alice.execute("ALTER USER alice PASSWORD 'a2'")  # one's own password
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn(eddy, "alice", "a1"))
    with psycopg.connect(dsn(eddy, "alice", "a2"), autocommit=True) as alice, \
            psycopg.connect(eddy.dsn, autocommit=True) as root:
        notices: list[str] = []
        root.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        root.execute("ALTER USER bob RENAME TO robert")
        assert notices == ["MD5 password cleared because of role rename"]
        root.execute("DROP USER IF EXISTS nobody_here")
        assert notices[-1] == 'role "nobody_here" does not exist, skipping'
        with pytest.raises(psycopg.errors.ObjectInUse, match="current user cannot be dropped"):
            root.execute("DROP USER root")
        root.execute("DROP USER robert")
        with pytest.raises(psycopg.errors.UndefinedObject, match='role "robert" does not exist'):
            root.execute("DROP USER robert")
        assert alice.execute("SELECT 1").fetchone() == (1,)


@needs_psql
def test_root_needs_its_password_once_it_has_one(servers: list[EddyProcess], tmp_path: Path) -> None:
    eddy = start(servers, tmp_path / "data")
    with psycopg.connect(eddy.dsn, autocommit=True) as root:
        root.execute("ALTER USER root WITH PASSWORD 'r00t'")
    assert "no password supplied" in psql(eddy, "root", None, "-c", "SELECT 1").stderr  # it was asked for one
    assert "password authentication failed" in psql(eddy, "root", "guess", "-c", "SELECT 1").stderr
    assert psql(eddy, "root", "r00t", "-c", "SELECT 1").stdout.strip() == "1"


@needs_psql
def test_trust_and_cleartext_modes(servers: list[EddyProcess], tmp_path: Path) -> None:
    eddy = start(servers, tmp_path / "data", "--auth", "trust")
    with psycopg.connect(eddy.dsn, autocommit=True) as root:
        root.execute("CREATE USER carol PASSWORD 'c1'")
    assert psql(eddy, "carol", None, "-c", "SELECT 1").stdout.strip() == "1"
    unknown = psql(eddy, "dave", None, "-c", "SELECT 1")
    assert 'FATAL:  role "dave" does not exist' in unknown.stderr
    eddy.stop()
    eddy = start(servers, tmp_path / "data", "--auth", "cleartext")
    assert psql(eddy, "carol", "c1", "-c", "SELECT 1").stdout.strip() == "1"
    assert "password authentication failed" in psql(eddy, "carol", "c2", "-c", "SELECT 1").stderr


@needs_psql
def test_tls_with_a_certificate_from_a_test_ca(servers: list[EddyProcess], tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    eddy = start(servers, tmp_path / "data", "--tls-cert", str(tmp_path / "cert.pem"), "--tls-key",
                 str(tmp_path / "key.pem"), "--require-tls")
    with psycopg.connect(f"{eddy.dsn}?sslmode=require", autocommit=True) as root:
        root.execute("CREATE USER tls_u PASSWORD 'tpw'")

    verified = psql(eddy, "tls_u", "tpw", "-c", "\\conninfo", host="localhost",
                    conninfo=f"sslmode=verify-full sslrootcert={tmp_path / 'ca.pem'} channel_binding=require")
    assert verified.returncode == 0, verified.stderr
    assert "SSL connection (protocol: TLSv1." in verified.stdout
    by_ip = psql(eddy, "tls_u", "tpw", "-c", "SELECT 1", conninfo=f"sslmode=verify-full sslrootcert={tmp_path / 'ca.pem'}")
    assert by_ip.stdout.strip() == "1", by_ip.stderr
    wrong_ca = psql(eddy, "tls_u", "tpw", "-c", "SELECT 1", host="localhost",
                    conninfo=f"sslmode=verify-full sslrootcert={tmp_path / 'other-ca.pem'}")
    assert wrong_ca.returncode != 0 and "certificate verify failed" in wrong_ca.stderr
    plain = psql(eddy, "tls_u", "tpw", "-c", "SELECT 1", conninfo="sslmode=disable")
    assert plain.returncode != 0 and 'connection for user "tls_u" requires TLS' in plain.stderr

    async def over_tls() -> int:
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        conn = await asyncpg.connect(host="localhost", port=eddy.port, user="tls_u", password="tpw", database="dev",
                                     ssl=context)
        try:
            return int(await conn.fetchval("SELECT 2"))
        finally:
            await conn.close()

    assert asyncio.run(over_tls()) == 2
