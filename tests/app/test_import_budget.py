"""The import budget of the ``caliper`` command line (issue 17).

``caliper --version`` and ``caliper --help`` must import no heavy library, and a
sub-command imports only its own module: the real entry point runs in a fresh
interpreter, which then writes the names in ``sys.modules`` to a file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "pydicom", "sqlalchemy", "PySide6", "pyqtgraph", "SimpleITK", "highdicom")
HEAVY_ALL = (*HEAVY, "pynetdicom", "pandas", "alembic", "psycopg", "cryptography")

_PROBE = """
import json, sys
from app.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def _run(argv: list[str], tmp_path: Path) -> tuple[int, set[str]]:
    report = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(report), *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.exists(), proc.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    return int(data["code"] or 0), set(data["modules"])


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in names)


@pytest.mark.parametrize("argv", [["--version"], ["--help"]], ids=["version", "help"])
def test_version_and_help_import_no_heavy_library(argv: list[str], tmp_path: Path) -> None:
    code, modules = _run(argv, tmp_path)
    assert code == 0
    assert _heavy(modules, HEAVY_ALL) == []
    assert not any(m.startswith("app.cli.") for m in modules), "no command module"


@pytest.mark.parametrize("argv", [["evaluate", "--help"], ["evaluate", "CASE"]])
def test_evaluate_imports_no_database_dicom_or_qt(
    argv: list[str], tmp_path: Path, caliper_case: Path
) -> None:
    argv = [str(caliper_case) if a == "CASE" else a for a in argv]
    code, modules = _run(argv, tmp_path)
    assert code == 0
    assert _heavy(modules, HEAVY_ALL) == []
    commands = sorted(m for m in modules if m.startswith("app.cli."))
    assert commands == ["app.cli.evaluate"]


def test_help_of_a_command_imports_only_its_module(tmp_path: Path) -> None:
    code, modules = _run(["pacs", "--help"], tmp_path)
    assert code == 0
    assert sorted(m for m in modules if m.startswith("app.cli.")) == ["app.cli.pacs"]
    assert _heavy(modules, ("sqlalchemy", "PySide6", "pyqtgraph", "highdicom", "SimpleITK")) == []


@pytest.fixture
def caliper_case(tmp_path: Path) -> Path:
    case = {
        "id": "S-1",
        "criteria": "RECIST1.1",
        "confirmation_required": False,
        "timepoints": [
            {
                "label": label,
                "date": day,
                "targets": [{"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": mm}],
                "non_targets": [],
                "new_lesions": [],
            }
            for label, day, mm in [("baseline", "2026-01-05", 40.0), ("C3", "2026-03-05", 20.0)]
        ],
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return path


def test_registry_matches_what_the_modules_register() -> None:
    """Each name's modules build it (no placeholder left), with the registry's help text."""
    from app.cli import COMMANDS, build_parser

    parser = build_parser()  # every module
    action = next(a for a in parser._actions if a.dest == "command")
    helps = {a.dest: a.help for a in action._choices_actions}  # type: ignore[attr-defined]  # argparse internals
    assert helps == {name: c.help for name, c in COMMANDS.items()}
    choices: dict[str, argparse.ArgumentParser] = action.choices  # type: ignore[assignment]  # the name -> parser map
    for name in COMMANDS:
        built = choices[name]
        assert built.get_default("func") is not None or built._subparsers is not None, name


def test_the_cohort_loads_no_dicom_reader() -> None:
    """The cohort (window and ``caliper export cohort``) reads the database only: importing its
    controller and the timelines must not import pydicom (0.3-0.4 s of the 1,000-patient cohort
    window's 2 s budget)."""
    probe = (
        "import json, sys\n"
        "import app.cohort.controller, app.timelines\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert _heavy(modules, ("pydicom", "highdicom", "SimpleITK", "PySide6")) == []
