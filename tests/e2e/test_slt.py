"""Runs every sqllogictest file under tests/slt/ through psycopg against a real Eddy server.

Each file gets a server of its own, so files cannot see each other's objects
(SHOW TABLES lists exactly what the file created).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.eddy_server import EddyProcess
from tests.helpers.slt import run_slt

SLT_DIR = Path(__file__).resolve().parents[1] / "slt"
FILES = sorted(SLT_DIR.rglob("*.slt"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SLT_DIR)) for p in FILES])
def test_slt(fresh_eddy: EddyProcess, path: Path) -> None:
    fresh_eddy.start()
    assert run_slt(path, fresh_eddy.dsn) > 0
