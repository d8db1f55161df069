"""``caliper dicom info`` and ``caliper dicom load``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from app.cli import dicom as cli_dicom
from app.errors import CliError


def _caliper(argv: list[str]) -> int:
    """Parse like ``app.cli`` does with only the dicom group registered, and run."""
    parser = argparse.ArgumentParser(prog="caliper")
    cli_dicom.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_info_json_lists_series_and_problems(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _caliper(["dicom", "info", str(shared_data / "dcmqi"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {s["modality"] for s in doc["series"]} == {"CT", "MR"}
    assert any("Segmentation Storage" in p["message"] for p in doc["problems"])
    assert all(p["path"] and p["message"] for p in doc["problems"])


def test_info_text(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _caliper(["dicom", "info", str(shared_data / "mr-brain-24")]) == 0
    out = capsys.readouterr().out
    assert "1 image series" in out
    assert "MR" in out
    assert "24 x 320x260" in out


def test_load_json_reports_geometry(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared_data / "ct-head-tilt-ge"
    assert _caliper(["dicom", "load", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["shape"] == [28, 512, 512]
    assert doc["spacing_mm"][1:] == [0.4882812, 0.4882812]
    assert doc["origin_lps_mm"] == [-125.0, -123.5404569, 5.8360586]
    assert len(doc["direction"]) == 3
    assert all(len(row) == 3 for row in doc["direction"])
    assert doc["hu_range"] == [-1500.0, 2121.0]
    assert any("gantry tilt" in w for w in doc["warnings"])
    assert doc["seconds"] > 0


def test_load_by_series_uid(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared_data / "enhanced-mr"
    uid = "1.3.12.2.1107.5.2.50.175689.2018102208361828588232823.0.0.0"
    assert _caliper(["dicom", "load", str(folder), "--series", uid, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["series_instance_uid"] == uid
    assert doc["shape"] == [6, 64, 64]
    assert doc["hu_range"] is None  # MR has no Hounsfield units


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["dicom", "info", "/no/such/folder"], "no such file or folder"),
        (["dicom", "load", "/no/such/folder"], "no such file or folder"),
    ],
)
def test_user_errors_raise_cli_error(argv: list[str], match: str) -> None:
    with pytest.raises(CliError, match=match):
        _caliper(argv)


def test_unknown_series_is_a_cli_error(shared_data: Path) -> None:
    with pytest.raises(CliError, match="no image series 9.9.9"):
        _caliper(["dicom", "load", str(shared_data / "ct-chest-30"), "--series", "9.9.9"])


def test_folder_of_non_images_is_a_cli_error(shared_data: Path) -> None:
    with pytest.raises(CliError, match="no image series found"):
        _caliper(["dicom", "load", str(shared_data / "dcmqi" / "sr-example")])
