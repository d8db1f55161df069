"""The PyInstaller build starts on its own and passes its self-check (issue 8).

This builds the real one-folder program (several minutes on two cores), so it
is marked ``slow``; CI runs it like every other test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_built_program_passes_its_self_check(tmp_path: Path) -> None:
    env = dict(os.environ, WORK_DIR=str(tmp_path / "work"), QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build_installer.sh"), str(tmp_path / "dist")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "self-check passed" in result.stdout, output[-6000:]
    assert (tmp_path / "dist" / "caliper" / "caliper").is_file()


def test_self_check_passes_from_the_source_tree() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "app", "--self-check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-check passed" in result.stdout
