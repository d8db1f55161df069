"""Liver segmentation 1.2: the volume does not depend on where in the liver the reader
clicks, and a click in another organ is refused (issue 16, liver volumetry).

Real CT: the demo follow-up (``resources/demo/followup``, 30 slices of the portal-venous CT
CRLM-CT-1006).  With 1.1 the four clicks below gave 395, 1,610, 848 and 808 mL and the
spleen-side click 1,977 mL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.segmentation import SegmentationError, measure_liver, seed_index, segment_liver
from app.segmentation.liver import LIVER_ALGORITHM_VERSION, LiverParameters
from storage.dicom import load_series

DEMO_FOLLOWUP = Path(__file__).resolve().parents[2] / "resources" / "demo" / "followup"
#: clicks inside the liver parenchyma (LPS mm): anterior, central, right lobe, lateral
LIVER_CLICKS = (
    (-7.5, -7.1, -201.4),
    (-40.0, 10.0, -221.4),
    (-60.0, 40.0, -230.0),
    (-100.0, 20.0, -200.0),
)
#: a click on the patient's left, by the spleen
SPLEEN_CLICK = (60.0, 30.0, -250.0)


@pytest.fixture(scope="module")
def followup():  # type: ignore[no-untyped-def]
    return load_series(DEMO_FOLLOWUP)


def test_four_clicks_in_the_liver_give_the_same_volume(followup) -> None:  # type: ignore[no-untyped-def]
    volumes = [measure_liver(followup, seed_index(followup, p)).volume_ml for p in LIVER_CLICKS]
    assert max(volumes) <= 1.1 * min(volumes), volumes  # 1.1: 395 to 1,610 mL
    assert all(1000.0 < v < 2000.0 for v in volumes), volumes  # a whole liver, no spleen


def test_a_click_at_77_hu_beside_a_metastasis_finds_the_whole_liver(followup) -> None:  # type: ignore[no-untyped-def]
    """Slice 6, beside T1 (seen under Xvfb): 1.1 took 77 HU as the liver's value (223 mL)."""
    beside_t1 = seed_index(followup, (-84.78, 87.08, -296.44))
    central = measure_liver(followup, seed_index(followup, LIVER_CLICKS[1])).volume_ml
    assert measure_liver(followup, beside_t1).volume_ml == pytest.approx(central, rel=0.1)


def test_a_click_by_the_spleen_is_refused_with_the_reason(followup) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SegmentationError, match="not in the liver|patient's left"):
        measure_liver(followup, seed_index(followup, SPLEEN_CLICK))  # 1.1: 1,977 mL


def test_version_1_1_stays_callable_for_the_benchmark(followup) -> None:  # type: ignore[no-untyped-def]
    old = segment_liver(
        followup.voxels,
        followup.spacing_mm,
        seed_index(followup, LIVER_CLICKS[0]),
        LiverParameters.v1_1(),
    )
    assert old.volume_ml < 600.0  # the anterior part only, as the lead measured (395 mL)
    assert LIVER_ALGORITHM_VERSION == "1.2"
    assert LiverParameters().to_dict()["version"] == "1.2"


def _organ(centre_x_mm: float) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A 120 x 100 x 100 mm organ of 60 HU in fat, centred ``centre_x_mm`` from the middle."""
    spacing = (4.0, 2.0, 2.0)
    k, r, c = np.mgrid[0:40, 0:120, 0:160]
    z, y, x = k * spacing[0] - 80.0, r * spacing[1] - 120.0, c * spacing[2] - 160.0
    body = (y / 110.0) ** 2 + (x / 150.0) ** 2 <= 1.0
    organ = ((z / 50.0) ** 2 + (y / 50.0) ** 2 + ((x - centre_x_mm) / 60.0) ** 2) <= 1.0
    rng = np.random.default_rng(7)
    voxels = np.where(organ, 60.0, np.where(body, -100.0, -1000.0)) + rng.normal(0, 6, organ.shape)
    return voxels.astype(np.float32), spacing


def _lps(spacing: tuple[float, float, float]):  # type: ignore[no-untyped-def]
    def index_to_lps(k: float, r: float, c: float) -> tuple[float, float, float]:
        # columns run to the patient's left (+x), rows to posterior (+y), slices upwards
        return (c * spacing[2] - 160.0, r * spacing[1] - 120.0, k * spacing[0] - 80.0)

    return index_to_lps


def test_an_organ_on_the_patient_s_left_is_refused_and_on_the_right_accepted() -> None:
    left, spacing = _organ(80.0)
    with pytest.raises(SegmentationError, match="patient's left"):
        segment_liver(left, spacing, (20, 60, 120), index_to_lps=_lps(spacing))
    right, _ = _organ(-80.0)
    res = segment_liver(right, spacing, (20, 60, 40), index_to_lps=_lps(spacing))
    assert 0.85 < res.volume_ml / (4 / 3 * np.pi * 50 * 50 * 60 / 1000) < 1.15


def test_a_lobe_joined_by_a_thick_isthmus_is_found_from_either_lobe() -> None:
    """Right lobe (big) and a thinner left lobe (22 mm deep) joined by a 34 mm thick
    isthmus: one liver, whichever lobe the click is in (1.1 kept the left lobe alone)."""
    spacing = (4.0, 2.0, 2.0)
    k, r, c = np.mgrid[0:40, 0:110, 0:170]
    z, y, x = k * spacing[0], r * spacing[1], c * spacing[2]
    right = ((z - 80) / 55) ** 2 + ((y - 110) / 70) ** 2 + ((x - 100) / 70) ** 2 <= 1
    left = ((z - 80) / 22) ** 2 + ((y - 110) / 25) ** 2 + ((x - 240) / 45) ** 2 <= 1
    isthmus = ((z - 80) ** 2 + (y - 110) ** 2 <= 17**2) & (x > 150) & (x < 235)
    rng = np.random.default_rng(11)
    voxels = np.where(right | left | isthmus, 60.0, -100.0) + rng.normal(0, 6, right.shape)
    voxels = voxels.astype(np.float32)
    from_right = segment_liver(voxels, spacing, (20, 55, 50))
    from_left = segment_liver(voxels, spacing, (20, 55, 120))
    assert abs(from_left.volume_ml / from_right.volume_ml - 1) < 0.05
    assert from_right.mask[left & ~right].mean() > 0.8
