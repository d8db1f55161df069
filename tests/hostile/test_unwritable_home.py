"""Issue 13 point 7: an unwritable CALIPER_HOME is a one-line error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture
def unwritable_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    home = blocker / "home"  # cannot be created, even by root
    monkeypatch.setenv("CALIPER_HOME", str(home))
    return home


@pytest.mark.parametrize("argv", [["db", "init"], ["patient", "list"], ["audit", "verify"]])
def test_database_commands_say_which_folder(
    unwritable_home: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("caliper: error: cannot create the folder")
    assert str(unwritable_home) in err
    assert "CALIPER_HOME" in err


def test_dicom_info_works_without_its_cache(
    unwritable_home: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dicom", "info", str(shared_data / "ct-chest-30" / "1-01.dcm")]) == 0
    assert "1 image series" in capsys.readouterr().out
