"""Issue 12, "a demo on real liver metastases": the bundled demo study (Qt-free checks).

The baseline is a byte-identical excerpt of TCIA CRLM-CT-1006 with its licence; its calipers lie
on hypodense metastases; the follow-up is an honestly labelled SIMULATED derived series (its own
UIDs, ImageType DERIVED, later date) in which only the lesions changed, and on which the
follow-up calipers measure a partial response.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pydicom
import pytest

from app.demo import (
    DEMO_ATTRIBUTION_FILE,
    DEMO_FOLDER,
    DEMO_FOLLOWUP_FOLDER,
    DEMO_LESIONS,
    DEMO_ROOT,
    DemoLesion,
    slice_at,
)
from recist.model import LesionKind
from storage.dicom import load_series

UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


@pytest.fixture(scope="module")
def baseline():
    return load_series(DEMO_FOLDER)


@pytest.fixture(scope="module")
def follow_up():
    return load_series(DEMO_FOLLOWUP_FOLDER)


def _headers(folder: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.glob("*.dcm"))]


def test_baseline_is_a_byte_identical_copy_with_its_licence(shared_data: Path) -> None:
    source = shared_data / "crlm-ct-1006"
    sums = dict(
        reversed(line.split()) for line in (source / "SHA256SUMS.txt").read_text().splitlines()
    )
    files = sorted(DEMO_FOLDER.glob("*.dcm"))
    assert len(files) == 30
    for path in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[path.name], path.name
    licence = "LICENSE-TCIA-Colorectal-Liver-Metastases.txt"
    assert (DEMO_ROOT / licence).read_bytes() == (source / licence).read_bytes()
    assert (DEMO_ROOT / "SOURCE.md").read_bytes() == (source / "SOURCE.md").read_bytes()
    attribution = DEMO_ATTRIBUTION_FILE.read_text(encoding="utf-8")
    for needle in ("CC BY 4.0", "10.7937/QXK2-QG03", "Clark K", "SIMULATED"):
        assert needle in attribution


def _pixels_along(image: np.ndarray, line, start: float, stop: float) -> np.ndarray:
    (x0, y0), (x1, y1) = line
    ts = np.linspace(start, stop, 40)
    cols, rows = x0 + ts * (x1 - x0), y0 + ts * (y1 - y0)
    return image[np.round(rows).astype(int), np.round(cols).astype(int)]


def _hypodense(image: np.ndarray, line) -> tuple[float, float]:
    """Median HU on the middle 60 % of the caliper and of the liver around the lesion."""
    inside = float(np.median(_pixels_along(image, line, 0.2, 0.8)))
    (x0, y0), (x1, y1) = line
    mx, my, half = (x0 + x1) / 2, (y0 + y1) / 2, math.hypot(x1 - x0, y1 - y0) / 2
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    distance = np.hypot(cols - mx, rows - my)
    ring = image[(distance > 1.4 * half) & (distance < 1.4 * half + 12)]
    liver = float(np.median(ring[(ring > 60) & (ring < 200)]))  # no fat, air, contrast or bone
    return inside, liver


@pytest.mark.parametrize("lesion", DEMO_LESIONS, ids=lambda x: x.code)
def test_baseline_calipers_lie_on_hypodense_metastases(baseline, lesion: DemoLesion) -> None:
    image = baseline.voxels[slice_at(baseline, lesion.z_mm)]
    inside, liver = _hypodense(image, lesion.baseline)
    assert 100 < liver < 150, f"{lesion.code}: not in the liver ({liver:.0f} HU around it)"
    assert inside < liver - 25, f"{lesion.code}: {inside:.0f} HU on the caliper, liver {liver:.0f}"
    # the end points are on the lesion's edge: liver a few pixels beyond them
    for other, end in (lesion.baseline, lesion.baseline[::-1]):
        length = math.hypot(end[0] - other[0], end[1] - other[1])
        beyond = _pixels_along(image, (other, end), 1 + 1.5 / length, 1 + 3.0 / length)
        assert np.median(beyond) > inside + 20, f"{lesion.code}: the caliper ends inside it"


def test_at_most_two_targets_per_organ_and_sizes_measurable(baseline) -> None:
    targets = [x for x in DEMO_LESIONS if x.kind is LesionKind.TARGET]
    assert len(targets) == 2
    assert {x.organ for x in targets} == {"liver"}
    pixel = baseline.spacing_mm[0]
    for lesion in targets:
        (x0, y0), (x1, y1) = lesion.baseline
        assert math.hypot(x1 - x0, y1 - y0) * pixel >= 10.0  # RECIST: measurable on 5 mm CT


def test_follow_up_is_a_simulated_derived_series_with_its_own_uids() -> None:
    base, follow = _headers(DEMO_FOLDER), _headers(DEMO_FOLLOWUP_FOLDER)
    assert len(follow) == len(base)
    base_sops = {ds.SOPInstanceUID for ds in base}
    for keyword in UID_KEYWORDS:
        ours = {str(getattr(ds, keyword)) for ds in follow}
        theirs = {str(getattr(ds, keyword)) for ds in base}
        assert not ours & theirs, f"{keyword} shared with the baseline"
        assert all(uid.startswith("2.25.") for uid in ours)
    assert len({ds.SeriesInstanceUID for ds in follow}) == 1
    assert len({ds.SOPInstanceUID for ds in follow}) == len(follow)
    for ds in follow:
        assert list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"]
        assert "SIMULATED" in ds.SeriesDescription
        assert "SIMULATED" in ds.StudyDescription
        assert "SIMULATED" in ds.DerivationDescription
        assert ds.StudyDate > base[0].StudyDate
        assert ds.AcquisitionDate == ds.StudyDate
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID in base_sops
        assert ds.PatientID == base[0].PatientID
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless  # lossless, small


def test_follow_up_changes_only_the_lesions_and_shows_a_partial_response(
    baseline, follow_up
) -> None:
    assert [p[2] for p in follow_up.slice_positions_lps_mm] == [
        p[2] for p in baseline.slice_positions_lps_mm
    ]
    changed = baseline.voxels != follow_up.voxels
    assert 0 < changed.mean() < 0.002  # a few lesion regions, not the images
    rows = np.nonzero(changed.any(axis=(0, 2)))[0]
    cols = np.nonzero(changed.any(axis=(0, 1)))[0]
    assert rows.min() >= 220  # the right lobe's lesions, nowhere else
    assert rows.max() <= 300
    assert cols.min() >= 90
    assert cols.max() <= 180
    pixel = baseline.spacing_mm[0]
    sums = [0.0, 0.0]
    for lesion in DEMO_LESIONS:
        if lesion.kind is not LesionKind.TARGET:
            continue
        assert lesion.follow_up is not None
        image = follow_up.voxels[slice_at(follow_up, lesion.z_mm)]
        inside, liver = _hypodense(image, lesion.follow_up)
        assert inside < liver - 20, f"{lesion.code}: not on the shrunk lesion at follow-up"
        for index, ((x0, y0), (x1, y1)) in enumerate((lesion.baseline, lesion.follow_up)):
            sums[index] += math.hypot(x1 - x0, y1 - y0) * pixel
    assert sums[1] <= 0.7 * sums[0]  # a partial response (at least 30 % smaller)
