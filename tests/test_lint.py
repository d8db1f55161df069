"""Lint and type checks, run by the test suite (issue 18).

mypy runs with the ``[tool.mypy]`` configuration of ``pyproject.toml`` (strict, on
``app``, ``viewer``, ``recist`` and ``storage``); ruff (``check`` and ``format --check``)
with ``[tool.ruff]``, on the whole repository.  Both come from the ``test`` extra and
are taken from the venv that runs pytest.  mypy keeps its cache in the repo's
``.mypy_cache`` (git-ignored): a warm run takes seconds, a cold one (a fresh clone, CI)
about a minute.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The packages mypy and the type-ignore rule cover (as ``[tool.mypy] files``).
PACKAGES = ("app", "viewer", "recist", "storage")
#: ``# type: ignore[code]  # why``: the code and a reason on the same line.
_IGNORE = re.compile(r"#\s*type:\s*ignore")
_IGNORE_WITH_REASON = re.compile(r"#\s*type:\s*ignore\[[\w\-, ]+\]\s*#\s*\S")


def _tool(name: str) -> Path:
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.fail(
            f'{name} is not installed next to {sys.executable}; run pip install -e ".[test]"'
        )
    return path


def test_mypy_strict_has_no_findings() -> None:
    result = subprocess.run(
        [str(_tool("mypy")), "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    findings = [line for line in result.stdout.splitlines() if ": error:" in line]
    report = "\n".join([result.stdout.strip(), result.stderr.strip()]).strip()
    assert not findings, f"mypy --strict:\n{report}"
    assert result.returncode == 0, f"mypy --strict:\n{report}"


def test_every_type_ignore_names_its_code_and_reason() -> None:
    bare = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations/versions" in path.as_posix():  # excluded from mypy as well
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _IGNORE.search(line) and not _IGNORE_WITH_REASON.search(line):
                    bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, (
        "a '# type: ignore' needs its error code and a reason on the same line, "
        "e.g. '# type: ignore[attr-defined]  # pydicom exports it lazily':\n" + "\n".join(bare)
    )


def test_ruff_has_no_findings() -> None:
    """``ruff check`` and ``ruff format --check`` on the whole repository (tests, benchmarks,
    scripts too): no finding, every file as the formatter writes it."""
    ruff = str(_tool("ruff"))
    failures = []
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [ruff, *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            failures.append(f"ruff {' '.join(command)}:\n{result.stdout}{result.stderr}")
    assert not failures, "\n".join(failures)
