"""Issue 11 point 4 (headers): the scan date of a series comes from its DICOM dates.

Acquisition Date, else Series Date, else Study Date, on the scan summary
(SeriesInfo) and on the loaded Volume.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pydicom
import pytest

from storage.dicom import load_series, scan
from storage.dicom.records import scan_date_of

from .conftest import rewrite


def test_point4_scan_date_from_dicom_demo_series(repo_root: Path) -> None:
    report = scan(repo_root / "resources" / "demo")
    infos = {info.series_description: info for info in report.series}
    assert len(infos) == 2  # the real baseline and the SIMULATED follow-up
    baseline = next(info for name, info in infos.items() if "SIMULATED" not in name)
    assert baseline.study_date == "19940417"
    assert baseline.scan_date == date(1994, 4, 17)
    assert load_series(baseline).scan_date == date(1994, 4, 17)
    follow_up = next(info for name, info in infos.items() if "SIMULATED" in name)
    assert follow_up.scan_date == date(1994, 6, 19)
    assert load_series(follow_up).scan_date == date(1994, 6, 19)


@pytest.mark.parametrize(
    ("keep", "expected"),
    [
        ({"AcquisitionDate", "SeriesDate", "StudyDate"}, date(2004, 6, 15)),
        ({"SeriesDate", "StudyDate"}, date(2004, 6, 14)),
        ({"StudyDate"}, date(2004, 6, 13)),
        (set(), None),
    ],
)
def test_point4_scan_date_prefers_acquisition_then_series_then_study(
    copy_series: Callable[..., Path], keep: set[str], expected: date | None
) -> None:
    folder = copy_series("ct-chest-30")

    def change(ds: pydicom.Dataset) -> None:
        values = {"AcquisitionDate": "20040615", "SeriesDate": "20040614", "StudyDate": "20040613"}
        for keyword, value in values.items():
            if keyword in keep:
                setattr(ds, keyword, value)
            elif keyword in ds:
                delattr(ds, keyword)
        if "AcquisitionDateTime" in ds:
            del ds.AcquisitionDateTime

    for path in sorted(folder.iterdir()):
        rewrite(path, change)
    (info,) = scan(folder).series
    assert info.scan_date == expected
    assert load_series(info).scan_date == expected
    assert info.to_dict()["acquisition_date"] == ("20040615" if "AcquisitionDate" in keep else "")


def test_point4_scan_date_of_skips_empty_and_malformed_values() -> None:
    assert scan_date_of("", "2004.06.14", "20040613") == date(2004, 6, 14)
    assert scan_date_of("20041399", "", "20040613") == date(2004, 6, 13)
    assert scan_date_of("", "", "") is None
