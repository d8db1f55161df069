"""The layer rules of DESIGN.md, checked on every run.

import-linter checks the import graph (contracts in ``pyproject.toml``); the
other tests catch what a graph cannot: SQL text outside ``storage/db`` and any
non-standard-library import in ``recist``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_recist_imports_only_the_standard_library() -> None:
    allowed_first_party = {"recist"}
    offenders = []
    for path in _python_files("recist"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in allowed_first_party:
                    offenders.append(f"{path.relative_to(ROOT)}: import {name}")
    assert offenders == []


def test_no_sql_outside_storage_db() -> None:
    sql_markers = ("sqlalchemy", "sqlite3", "psycopg", "alembic")
    offenders = []
    for package in ("app", "viewer", "recist", "storage"):
        for path in _python_files(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(("storage/db/", "storage/migrations/")):
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    mods = (
                        [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else [node.module or ""]
                    )
                    if any(m.split(".")[0] in sql_markers for m in mods):
                        offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
