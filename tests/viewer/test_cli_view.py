"""``caliper view PATH --screenshot FILE`` renders a real series offscreen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui

from app.cli import main

pytestmark = pytest.mark.qt


def _non_black_fraction(path) -> float:
    image = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(-1, 4)[:, :3]
    return float((pixels.max(axis=1) > 40).mean())


def test_view_writes_a_screenshot(qapp, shared_data, tmp_path, capsys):
    out = tmp_path / "chest.png"
    code = main(
        [
            "view",
            str(shared_data / "ct-chest-30"),
            "--slice",
            "12",
            "--preset",
            "lung",
            "--screenshot",
            str(out),
        ]
    )
    assert code == 0
    assert out.stat().st_size > 10_000
    assert _non_black_fraction(out) > 0.1
    assert "axial slice 12/29" in capsys.readouterr().out


def test_view_coronal_default_slice(qapp, shared_data, tmp_path):
    out = tmp_path / "coronal.png"
    assert (
        main(
            [
                "view",
                str(shared_data / "ct-chest-30"),
                "--orientation",
                "coronal",
                "--screenshot",
                str(out),
            ]
        )
        == 0
    )
    assert _non_black_fraction(out) > 0.05


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--slice", "30"], "outside 0..29"),
        (["--preset", "brain"], "unknown window preset"),
    ],
)
def test_view_rejects_bad_arguments(qapp, shared_data, tmp_path, capsys, extra, message):
    out = tmp_path / "x.png"
    code = main(["view", str(shared_data / "ct-chest-30"), *extra, "--screenshot", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_view_reports_a_missing_folder(qapp, tmp_path, capsys):
    code = main(["view", str(tmp_path / "nowhere"), "--screenshot", str(tmp_path / "x.png")])
    assert code == 2
    assert "caliper: error:" in capsys.readouterr().err
