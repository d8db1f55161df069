"""File ▸ Import DICOM SEG as contours (issue 16): the dcmqi liver SEG over its 3-slice CT."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.main_window.seg_import import IMPORTED_RGBA
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt


def test_the_dcmqi_liver_seg_is_outlined_on_its_series(
    qtbot, window: MainWindow, shared_data
) -> None:
    seg_dir = shared_data / "dcmqi" / "segmentations"
    window.open_folder(str(seg_dir / "ct-3slice"))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=20000
    )
    assert window.seg_import.action in window.menuBar().actions()[0].menu().actions()
    assert window.seg_import.import_file(str(seg_dir / "liver.dcm")) == 1
    (contour,) = window.viewer.contours
    assert contour.rgba == IMPORTED_RGBA
    volume_ml = contour.mask.sum() * float(np.prod(window.viewer.volume.spacing_mm)) / 1000.0
    assert 60.0 < volume_ml < 80.0  # 70.4 mL on the 3 slices
    assert "Imported 1 segment" in window.smart_caliper.last_message


def test_a_file_that_is_not_a_seg_is_refused_with_the_reason(shared_data) -> None:
    from app.session import SessionError
    from app.session.semiauto import read_seg_contours

    ct = sorted((shared_data / "dcmqi" / "segmentations" / "ct-3slice").iterdir())[0]
    with pytest.raises(SessionError, match="not a DICOM Segmentation"):
        read_seg_contours(str(ct), [])
