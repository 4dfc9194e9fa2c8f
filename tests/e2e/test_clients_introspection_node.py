"""node-postgres (`pg` from npm) against a real server: parameterised and named statements, field metadata.

The `pg` package is installed with `npm ci` from tests/e2e/node's lockfile
into a temporary directory. Skipped when Node.js is absent, except under
CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers.eddy_server import EddyProcess

PACKAGE = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{tool} is not installed")
            pytest.skip(f"{tool} is not installed")
    out = tmp_path_factory.mktemp("node")
    for name in ("package.json", "package-lock.json", "probe.js"):
        shutil.copy(PACKAGE / name, out / name)
    installed = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=out, capture_output=True,
                               text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    return out


@pytest.fixture
def objects(conn: psycopg.Connection, uid: str) -> Iterator[str]:
    p = f"nd_{uid}"
    conn.execute(f"CREATE TABLE {p}_orders (id INT PRIMARY KEY, customer VARCHAR, amount DOUBLE PRECISION)")
    conn.execute(f"INSERT INTO {p}_orders VALUES (1, 'alice', 1.5), (2, 'bob', 2.5), (3, 'alice', 3.5)")
    conn.execute("FLUSH")
    try:
        yield p
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {p}_orders")


def test_node_postgres(eddy: EddyProcess, node_dir: Path, objects: str, conn: psycopg.Connection) -> None:
    p = objects
    run = subprocess.run(["node", "probe.js", str(eddy.port), p], cwd=node_dir, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["version"].startswith("PostgreSQL 13.14.0-Eddy-")
    assert out["params"] == [{"id": 2, "customer": "bob", "amount": 2.5}, {"id": 3, "customer": "alice",
                                                                           "amount": 3.5}]
    table_oid = conn.execute("SELECT oid FROM pg_class WHERE relname = %s", (f"{p}_orders",)).fetchone()[0]
    assert out["fields"] == [["id", 23, table_oid, 1], ["customer", 1043, table_oid, 2],
                             ["amount", 701, table_oid, 3]]
    assert out["named"] == [[1, 3], [2]]
    assert out["tables"] == [{"table_name": f"{p}_orders", "table_type": "BASE TABLE"}]
    assert out["columns"] == [{"column_name": "id", "data_type": "integer", "is_nullable": "NO"},
                              {"column_name": "customer", "data_type": "character varying", "is_nullable": "YES"},
                              {"column_name": "amount", "data_type": "double precision", "is_nullable": "YES"}]
    assert out["catalog"] == {"a": [1, 2], "r": f"{p}_orders", "oid_matches": True, "types": [1007, 2205, 26]}
    assert out["error"] == "42P01"
