"""Make the demo's SIMULATED follow-up series from its real baseline CT.

There is no second scan of the demo patient (TCIA Colorectal-Liver-Metastases,
CRLM-CT-1006; see resources/demo/README.md).  To show a computed response,
this script derives a new series from the baseline images in
``resources/demo/baseline`` in which the recorded metastases are smaller, and
writes it to ``resources/demo/followup``:

* every lesion is shrunk in-plane toward its centroid by a fixed factor
  (``LESIONS`` below): the lesion's own pixels are resampled at the smaller
  size, and the rim it leaves is filled with liver texture copied from a
  homogeneous lesion-free patch of the same slice, shifted to the intensity of
  the liver around the lesion (so noise and texture match; no invented noise);
* the result is stored RLE Lossless, under half the uncompressed size (RLE is
  decoded in the loading process: no decode worker processes are started for
  the demo), with its own Study, Series, SOP Instance and Frame of
  Reference UIDs, ImageType ``DERIVED\\SECONDARY``, "SIMULATED" in the series
  and study descriptions, a Derivation Description, a Source Image Sequence
  pointing at the baseline image, and dates ``FOLLOWUP_DATE``.

The UIDs are derived deterministically under the ``2.25`` root (UUID-derived
UIDs, ITU-T X.667): ``2.25.`` + the integer of the name-based UUID (version 5,
OID name space) of ``caliper-demo-followup/<study|series|frame|sop>/<baseline
UID>``, so that running the script again gives the same files.

Run from the repository root: ``python scripts/make_demo_followup.py``.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import RLELossless
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "resources" / "demo" / "baseline"
FOLLOWUP = ROOT / "resources" / "demo" / "followup"
FOLLOWUP_DATE = "19940619"  # 9 weeks after the baseline's 1994-04-17 (TCIA's shifted dates)
SERIES_DESCRIPTION = "SIMULATED follow-up: metastases shrunk, not a real scan"
STUDY_DESCRIPTION = "SIMULATED follow-up (Caliper demo), derived from CRLM-CT-1006"
DERIVATION = (
    "SIMULATED by Caliper scripts/make_demo_followup.py from the baseline image named in "
    "SourceImageSequence: liver metastases shrunk in-plane, rim filled with liver texture of "
    "the same slice. Not a real acquisition; for software demonstration only."
)
UID_SALT = "caliper-demo-followup"


@dataclass(frozen=True)
class Lesion:
    """A metastasis to shrink: where it is and how hypodense it is."""

    name: str
    slices_z_mm: tuple[float, ...]  # ImagePositionPatient z of the slices it shows on
    box: tuple[int, int, int, int]  # column0, row0, column1, row1 (pixels) holding it
    threshold_hu: float  # smoothed HU below which a pixel is lesion (about half-way to liver)
    factor: float  # in-plane scale of the lesion at follow-up
    floor_hu: float = 30.0  # smoothed HU below which a pixel is fat, bile or air, not liver


#: k = volume index counted from the most caudal slice of the original 51-slice series
#: (z = -376.44 + 5 k mm); see resources/demo/README.md for the measurements.
LESIONS = (
    Lesion("T1", (-311.44, -306.44, -301.44, -296.44, -291.44), (98, 228, 142, 272), 100.0, 0.62),
    Lesion("T2", (-206.44, -201.44, -196.44, -191.44), (143, 262, 172, 292), 95.0, 0.62),
    Lesion("NT1", (-186.44, -181.44), (134, 234, 158, 262), 95.0, 0.7, floor_hu=-10.0),
)


def lesion_weight(hu: np.ndarray, lesion: Lesion) -> tuple[np.ndarray, float]:
    """A soft lesion mask (1 in the lesion, 0 in liver) and the local liver level in HU."""
    c0, r0, c1, r1 = lesion.box
    smooth = ndi.gaussian_filter(hu, 1.0)
    inside = np.zeros(hu.shape, bool)
    inside[r0:r1, c0:c1] = True
    # no fat, bile or air, nor the liver's partial-volume edge next to them
    tissue = ndi.distance_transform_edt(smooth > lesion.floor_hu) > 3.5
    core = inside & tissue & (smooth < lesion.threshold_hu)  # not the liver's partial-volume edge
    labels, n = ndi.label(core)
    sizes = ndi.sum(core, labels, range(1, n + 1))
    core = np.isin(labels, [i + 1 for i, size in enumerate(sizes) if size >= 8])
    ring = ndi.binary_dilation(core, iterations=8) & ~ndi.binary_dilation(core, iterations=3)
    ring &= (smooth > 70.0) & (smooth < 200.0)
    liver = float(np.median(hu[ring])) if ring.any() else 120.0
    lesion_level = float(np.percentile(smooth[core], 20)) if core.any() else liver - 40.0
    region = ndi.binary_dilation(core, iterations=2)
    weight = np.clip((liver - smooth) / max(liver - lesion_level, 1.0), 0.0, 1.0)
    return np.where(region & tissue, weight, 0.0), liver


def _find_patch(smooth: np.ndarray, h: int, w: int, liver: float) -> Any:
    """(slice, row, column) of the most homogeneous h x w liver patch, or None."""
    best: tuple[float, int, int, int] | None = None
    for k in range(smooth.shape[0]):
        for r in range(0, smooth.shape[1] - h, 4):
            for c in range(0, smooth.shape[2] - w, 4):
                patch = smooth[k, r : r + h, c : c + w]
                if patch.min() < liver - 20.0 or patch.max() > liver + 25.0:
                    continue  # a vessel, a lesion, fat or the liver's edge
                score = float(patch.std()) + abs(float(patch.mean()) - liver) / 4
                if best is None or score < best[0]:
                    best = (score, k, r, c)
    return None if best is None else best[1:]


def donor_patch(volume: np.ndarray, rows: slice, cols: slice, liver: float) -> np.ndarray:
    """Liver texture of the size of (rows, cols), at the liver level around the lesion.

    Copied from the most homogeneous lesion-free liver patch of the baseline volume
    (same scanner, kernel and noise), shifted to *liver* HU.
    """
    h, w = rows.stop - rows.start, cols.stop - cols.start
    found = _find_patch(_smoothed(volume), h, w, liver)
    if found is None:
        raise SystemExit(f"no homogeneous liver patch of {h} x {w} pixels in the baseline")
    k, r, c = found
    patch = volume[k, r : r + h, c : c + w]
    return np.asarray(patch - patch.mean() + liver)


_SMOOTH: dict[int, np.ndarray] = {}


def _smoothed(volume: np.ndarray) -> np.ndarray:
    if id(volume) not in _SMOOTH:
        _SMOOTH[id(volume)] = ndi.gaussian_filter(volume, (0, 1.5, 1.5))
    return _SMOOTH[id(volume)]


def shrink(hu: np.ndarray, lesion: Lesion, volume: np.ndarray) -> np.ndarray:
    """*hu* with *lesion* scaled by ``lesion.factor`` toward its centroid."""
    weight, liver = lesion_weight(hu, lesion)
    if not weight.any():
        return hu
    rr, cc = np.nonzero(weight > 0)
    cy, cx = np.average(rr, weights=weight[rr, cc]), np.average(cc, weights=weight[rr, cc])
    area = ndi.binary_dilation(weight > 0, iterations=3)
    ar, ac = np.nonzero(area)
    rows, cols = slice(ar.min(), ar.max() + 1), slice(ac.min(), ac.max() + 1)
    grid_r, grid_c = np.mgrid[rows, cols].astype(float)
    src_r, src_c = cy + (grid_r - cy) / lesion.factor, cx + (grid_c - cx) / lesion.factor
    scaled = ndi.map_coordinates(hu, [src_r, src_c], order=1, mode="nearest")
    w_scaled = ndi.map_coordinates(weight, [src_r, src_c], order=1, mode="constant")
    background = donor_patch(volume, rows, cols, liver)
    new = w_scaled * scaled + (1.0 - w_scaled) * background
    # blend into the image: all of the lesion's old region, feathered over 2 px outside it,
    # inside the liver only (never over fat or bile, nor on the liver's partial-volume edge)
    old = ndi.binary_dilation(weight > 0, iterations=1)
    alpha = np.clip(1.0 - ndi.distance_transform_edt(~old) / 2.5, 0.0, 1.0)
    alpha *= ndi.distance_transform_edt(ndi.gaussian_filter(hu, 1.0) > lesion.floor_hu) > 3.5
    alpha = alpha[rows, cols]
    out = hu.copy()
    out[rows, cols] = alpha * new + (1.0 - alpha) * hu[rows, cols]
    return out


def derived_uid(kind: str, original: str) -> str:
    """A deterministic ``2.25.…`` UID for *kind* (study, series, sop, frame) of *original*.

    ``2.25.`` followed by the integer of a name-based UUID (version 5, SHA-1, in the OID
    name space) of ``caliper-demo-followup/<kind>/<original UID>`` (ITU-T X.667).
    """
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, f'{UID_SALT}/{kind}/{original}').int}"


def hounsfield(ds: Dataset) -> np.ndarray:
    """The image of *ds* in HU."""
    pixels = ds.pixel_array.astype(np.float64)
    return np.asarray(pixels * float(ds.RescaleSlope) + float(ds.RescaleIntercept))


def follow_up(ds: Dataset, volume: np.ndarray) -> Dataset:
    """The simulated follow-up image made from baseline image *ds* of the baseline *volume*."""
    hu = hounsfield(ds)
    z = float(ds.ImagePositionPatient[2])
    for lesion in LESIONS:
        if any(abs(z - lz) < 0.5 for lz in lesion.slices_z_mm):
            hu = shrink(hu, lesion, volume)
    stored = np.round((hu - float(ds.RescaleIntercept)) / float(ds.RescaleSlope))
    info = np.iinfo(np.int16)
    pixels = np.clip(stored, info.min, info.max).astype(np.int16)

    out = pydicom.dcmread(ds.filename)
    out.remove_private_tags()
    source = Dataset()
    source.ReferencedSOPClassUID = ds.SOPClassUID
    source.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    out.SourceImageSequence = Sequence([source])
    out.DerivationDescription = DERIVATION
    out.ImageType = ["DERIVED", "SECONDARY"]
    out.SeriesDescription = SERIES_DESCRIPTION
    out.StudyDescription = STUDY_DESCRIPTION
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        setattr(out, keyword, FOLLOWUP_DATE)
    out.InstanceCreationDate = FOLLOWUP_DATE
    out.StudyInstanceUID = derived_uid("study", ds.StudyInstanceUID)
    out.SeriesInstanceUID = derived_uid("series", ds.SeriesInstanceUID)
    out.FrameOfReferenceUID = derived_uid("frame", ds.FrameOfReferenceUID)
    out.SOPInstanceUID = derived_uid("sop", ds.SOPInstanceUID)
    out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    out.SeriesNumber = 900
    out.compress(RLELossless, pixels, generate_instance_uid=False)
    return out


def main() -> int:
    files = sorted(BASELINE.glob("*.dcm"))
    if not files:
        print(f"no baseline images in {BASELINE}", file=sys.stderr)  # noqa: T201
        return 1
    FOLLOWUP.mkdir(parents=True, exist_ok=True)
    for old in FOLLOWUP.glob("*.dcm"):
        old.unlink()
    datasets = [pydicom.dcmread(path) for path in files]
    volume = np.stack([hounsfield(ds) for ds in datasets])
    for path, ds in zip(files, datasets, strict=True):
        out = follow_up(ds, volume)
        out.save_as(FOLLOWUP / path.name, enforce_file_format=True)
    size = sum(p.stat().st_size for p in FOLLOWUP.glob("*.dcm"))
    print(f"{len(files)} simulated images, {size / 1e6:.1f} MB, in {FOLLOWUP}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
