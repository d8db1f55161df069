"""How ``crlm-ct-1006-liver.npz`` was made (an engineer's reference, not an expert's).

1. Liver segmentation 1.2 from the click (-40, 10, -221.4) mm LPS (slice 31, in the right
   lobe), on the full 512 x 512 grid.
2. Corrected after looking at every slice (PNG montages, liver window): three pieces that
   are not liver removed (the inferior vena cava beside the caudate process on slices 22 and
   23, a patch of heart wall over the dome on slice 37).
3. The edge refined on every slice: grown by up to 2.4 mm (3 pixels) in-plane into voxels
   of 90-175 HU (3 x 3 median filtered; the parenchyma is about 115 HU) connected to it,
   holes filled
   (the working grid of the algorithm is 1.6 mm; this puts the edge on the 0.8 mm pixels,
   and adds the partial-volume rim at the dome the smoothing loses).
4. Looked at again slice by slice.

Run: ``.venv/bin/python benchmarks/data/make_crlm_reference.py [--data DIR]``
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.segmentation.lesion import fill_holes_per_slice  # noqa: E402
from app.segmentation.liver import segment_liver  # noqa: E402
from app.segmentation.measure import seed_index  # noqa: E402
from storage.dicom import load_series  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("CALIPER_SHARED_DATA", ROOT.parent / "shared" / "data"))
CLICK = (-40.0, 10.0, -221.4)
#: (slice, row, column) inside in-plane pieces that are not liver
REMOVE = ((22, 268, 223), (23, 264, 224), (37, 190, 272))
GROW_MM = 2.4
BAND_HU = (90.0, 175.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    volume = load_series(args.data / "crlm-ct-1006")
    seed = seed_index(volume, CLICK)
    mask = segment_liver(
        volume.voxels, volume.spacing_mm, seed, index_to_lps=volume.index_to_lps
    ).mask.copy()
    for k, r, c in REMOVE:
        labels = sitk.GetArrayFromImage(
            sitk.ConnectedComponent(sitk.GetImageFromArray(mask[k].astype(np.uint8)))
        )
        if labels[r, c]:
            mask[k][labels == labels[r, c]] = False
    img = sitk.GetImageFromArray(volume.voxels.astype(np.float32))
    med = sitk.GetArrayFromImage(sitk.Median(img, [1, 1, 0]))
    band = (med >= BAND_HU[0]) & (med <= BAND_HU[1])
    px = int(round(GROW_MM / float(volume.spacing_mm[1])))
    grown = sitk.GetArrayFromImage(
        sitk.BinaryDilate(sitk.GetImageFromArray(mask.astype(np.uint8)), [px, px, 0], sitk.sitkBall)
    ).astype(bool)
    candidate = (grown & band) | mask
    labels = sitk.GetArrayFromImage(
        sitk.ConnectedComponent(sitk.GetImageFromArray(candidate.astype(np.uint8)))
    )
    keep = np.unique(labels[mask])
    mask = fill_holes_per_slice(np.isin(labels, keep[keep > 0]))
    out = Path(__file__).with_name("crlm-ct-1006-liver.npz")
    np.savez_compressed(out, bits=np.packbits(mask.ravel()), shape=np.array(mask.shape))
    ml = mask.sum() * float(np.prod(volume.spacing_mm)) / 1000.0
    print(f"{out}: {ml:.0f} mL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
