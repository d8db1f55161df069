"""``caliper measure SERIES --at X,Y,Z [--liver] --json`` (issue 16) on real CT series."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from app.cli import measure
from app.errors import CliError

#: An ~8 mm metastasis of crlm-ct-1006 (slice 38, row 247, column 147), LPS mm.
METASTASIS_LPS = "-72.71,31.56,-186.44"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="caliper")
    measure.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["measure", *argv])
    return int(args.func(args))


def test_one_point_measures_the_lesion(shared_data, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(shared_data / "crlm-ct-1006"), f"--at={METASTASIS_LPS}", "--json") == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record) >= {
        "long_axis_mm",
        "short_axis_mm",
        "volume_ml",
        "slice_index",
        "sop_instance_uid",
        "seconds",
        "algorithm",
        "parameters",
    }
    assert 5.0 <= record["long_axis_mm"] <= 14.0
    assert record["short_axis_mm"] <= record["long_axis_mm"]
    assert 0.1 < record["volume_ml"] < 2.0
    assert record["slice_index"] in (37, 38, 39)
    assert record["sop_instance_uid"].startswith("1.")
    assert record["seconds"] < 10


def test_text_output(shared_data, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(shared_data / "crlm-ct-1006"), f"--at={METASTASIS_LPS}") == 0
    assert capsys.readouterr().out.startswith("long axis ")


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("-184.56,-160.76,-186.44", "in air"),
        ("0,0,500", "outside the image"),
        ("1,2", "three numbers"),
        ("a,b,c", "three numbers"),
    ],
)
def test_points_that_cannot_be_measured_are_refused(shared_data, at: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        run(str(shared_data / "crlm-ct-1006"), f"--at={at}", "--json")


def test_liver_volume(shared_data, capsys: pytest.CaptureFixture[str]) -> None:
    # a point in the liver of crlm-ct-1006 (slice 30, row 250, column 150)
    assert (
        run(str(shared_data / "crlm-ct-1006"), "--at=-70.30,33.97,-226.44", "--liver", "--json")
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert 800 < record["volume_ml"] < 2500  # a liver (1.4-1.8 L), not a leak into the body
    assert record["algorithm"] == "caliper-liver-window-region"


def test_a_missing_series_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CliError):
        run(str(tmp_path / "nothing"), "--at", "1,2,3")


def test_the_contour_is_written_as_dicom_seg(
    shared_data, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.dicom import load_series
    from storage.exchange.seg import read_seg

    out = tmp_path / "t1.dcm"
    assert (
        run(
            str(shared_data / "crlm-ct-1006"), f"--at={METASTASIS_LPS}", "--json", "--seg", str(out)
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert record["seg"] == str(out)
    volume = load_series(shared_data / "crlm-ct-1006")
    (contour,) = read_seg(out, volume.sop_instance_uids)
    ml = contour.mask.sum() * float(np.prod(volume.spacing_mm)) / 1000
    assert abs(ml - record["volume_ml"]) < 0.5  # the mask; volume_ml adds partial voxels
