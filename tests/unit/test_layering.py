"""Imports point one way (ARCHITECTURE.md): checked by reading every module's imports with ast."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "storage", "compute", "meta", "frontend", "eddy")
ALLOWED = {
    "common": {"common"},
    "storage": {"common", "storage"},
    "compute": {"common", "storage", "compute"},
    "meta": {"common", "storage", "meta"},
    "frontend": {"common", "frontend"},
    "eddy": set(PACKAGES),  # the composition root wires the roles together
}
# Third-party libraries stay in their room.
THIRD_PARTY_ROOMS = {
    "boto3": {"storage/object_store/s3.py"},
    "botocore": {"storage/object_store/s3.py"},
    "sqlglot": {"frontend/sql", "frontend/binder", "frontend/handlers", "frontend/session.py",
                "frontend/planner"},
    "moto": set(),
    "asyncpg": set(),
    "psycopg": {"meta/meta_store.py", "meta/meta_store_pg.py"},
}
STDLIB = set(sys.stdlib_module_names) | {"pyarrow", "numpy", "typing_extensions"}


def _modules() -> list[tuple[str, Path]]:
    return [(pkg, p) for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("pkg,path", _modules(), ids=lambda x: str(x.relative_to(ROOT)) if isinstance(x, Path) else x)
def test_imports_point_one_way(pkg: str, path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    for mod in _imports(path):
        if mod in PACKAGES:
            assert mod in ALLOWED[pkg], f"{rel} imports {mod}, which {pkg} may not import"
        elif mod in THIRD_PARTY_ROOMS:
            rooms = THIRD_PARTY_ROOMS[mod]
            assert any(rel == r or rel.startswith(r + "/") for r in rooms), f"{rel} imports {mod} outside its room"
        elif pkg == "common":
            assert mod in STDLIB, f"{rel} imports {mod}: common may import only pyarrow, numpy and the stdlib"
