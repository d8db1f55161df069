"""How close can any contrast estimate bring small lesions' volumes? (issue 16, volume target)

Reads the cases ``bench_segmentation.py`` saves with ``BENCH_DUMP=DIR`` (one ``.npz`` per
lesion and insertion model: the image box with the lesion in it, the click, the inserted
contrast and the true volume), runs Caliper's segmentation on each again, and recomputes the
partial-volume volume (``partial_volume_ml``, the fraction sum) with:

- ``caliper``: the lesion and background values Caliper estimated (what it reports);
- ``true contrast``: the background Caliper estimated and the lesion's *inserted* contrast,
  which no algorithm knows: an oracle.  What is left of the error then is the noise of the
  scan and the structure of the tissue around the lesion summed over the rim, and the
  background's estimate;
- ``centre slice``: the contrast read on the slice of the lesion's largest section only (its
  in-plane outline left out), unsmoothed; thick slices show a small lesion's full contrast on
  that slice alone, so this is less biased than the mean over all slices (1.3's estimate
  for lesions with no voxel beyond the blur's reach);
- ``linear, true contrast``: the plain sum of (value - background) over the region grown by
  two voxels in-plane and one slice, divided by the true contrast (no clipping at all).

The fraction sum's inputs are taken by wrapping ``partial_volume_ml`` for the duration of
the run (an analysis, not a product path).  Prints, per size band, how many lesions each
estimate brings within 15 % of the true volume, and the mean and SD of the error.

Run: ``BENCH_DUMP=/tmp/d .venv/bin/python benchmarks/bench_segmentation.py --both-models
--caliper-only [--host H]``, then ``.venv/bin/python benchmarks/bench_volume_floor.py
/tmp/d [more dirs] [--host H] [--max-size 15]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.segmentation import lesion as lesion_module  # noqa: E402
from storage.dicom import load_series  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("CALIPER_SHARED_DATA", ROOT.parent / "shared" / "data"))
Estimate = Callable[[dict[str, object], float], float | None]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dumps", nargs="+", type=Path, help="BENCH_DUMP directories")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--host", default="ct-wholebody-269")
    parser.add_argument("--max-size", type=float, default=15.0, help="largest lesion size, mm")
    args = parser.parse_args()
    volume = load_series(args.data / args.host)
    spacing = (
        float(volume.spacing_mm[0]),
        float(volume.spacing_mm[1]),
        float(volume.spacing_mm[2]),
    )
    voxel_ml = float(np.prod(spacing)) / 1000.0
    seen: dict[str, object] = {}
    original = lesion_module.partial_volume_ml

    def keep(
        smoothed: np.ndarray,
        mask: np.ndarray,
        spacing_mm: tuple[float, float, float],
        lesion_hu: float,
        background_hu: float,
    ) -> float | None:
        seen.update(smoothed=smoothed, mask=mask, lesion=lesion_hu, background=background_hu)
        return original(smoothed, mask, spacing_mm, lesion_hu, background_hu)

    def with_contrast(case: dict[str, object], contrast: float) -> float | None:
        b = float(case["background"])  # type: ignore[arg-type]
        return original(case["smoothed"], case["mask"], spacing, b + contrast, b)  # type: ignore[arg-type]

    def centre_contrast(case: dict[str, object]) -> float:
        region = case["region"]
        assert isinstance(region, np.ndarray)
        areas = region.reshape(region.shape[0], -1).sum(axis=1)
        k = int(np.argmax(areas))
        section = region[k : k + 1]
        core = section & ~lesion_module._outline_in_plane(section)
        core = core if core.sum() >= 4 else section
        raw = case["raw"]
        assert isinstance(raw, np.ndarray)
        return float(raw[k : k + 1][core].mean()) - float(case["background"])  # type: ignore[arg-type]

    def linear(case: dict[str, object], contrast: float) -> float:
        mask = case["mask"]
        assert isinstance(mask, np.ndarray)
        grown = sitk.BinaryDilate(
            sitk.GetImageFromArray(mask.astype(np.uint8)), [2, 2, 1], sitk.sitkBox
        )
        region = sitk.GetArrayFromImage(grown).astype(bool)
        smoothed = case["smoothed"]
        assert isinstance(smoothed, np.ndarray)
        signal = float((smoothed[region] - float(case["background"])).sum())  # type: ignore[arg-type]
        return signal * voxel_ml / contrast

    estimates: dict[str, Estimate] = {
        "caliper": lambda case, c: float(case["reported"]),  # type: ignore[arg-type]
        "true contrast": with_contrast,
        "centre slice": lambda case, c: with_contrast(case, centre_contrast(case)),
        "linear, true contrast": linear,
    }
    errors: dict[tuple[str, str], list[float]] = {}
    lesion_module.partial_volume_ml = keep  # type: ignore[assignment]
    try:
        for directory in args.dumps:
            for path in sorted(directory.glob("*.npz")):
                size = float(path.stem.split("-")[1])
                if size > args.max_size:
                    continue
                data = np.load(path)
                work = volume.voxels.copy()
                box = tuple(
                    slice(int(o), int(o) + n)
                    for o, n in zip(data["offset"], data["work"].shape, strict=True)
                )
                work[box] = data["work"]
                seed = tuple(int(v) for v in data["seed"])
                seen.clear()
                try:
                    result = lesion_module.segment_lesion(work, spacing, seed)  # type: ignore[arg-type]
                except lesion_module.SegmentationError as exc:
                    print(f"{path}: refused ({exc})")
                    continue
                if seen["smoothed"].shape != result.mask.shape:  # type: ignore[attr-defined]
                    print(f"{path}: measured on the coarse grid, left out")
                    continue
                region_box = tuple(
                    slice(o, o + n) for o, n in zip(result.offset, result.mask.shape, strict=True)
                )
                case = dict(
                    seen,
                    region=result.mask,
                    raw=work[region_box].astype(np.float64),
                    reported=result.volume_ml,
                )
                truth = float(data["truth_volume_ml"])
                contrast = float(data["contrast"])
                band = f"{size:.0f} mm"
                for name, estimate in estimates.items():
                    got = estimate(case, contrast)
                    err = float("inf") if got is None else got / truth - 1.0
                    for key in ((name, band), (name, "all")):
                        errors.setdefault(key, []).append(err)
    finally:
        lesion_module.partial_volume_ml = original
    bands = sorted({b for _, b in errors if b != "all"}, key=lambda b: float(b.split()[0]))
    print(f"volume of lesions up to {args.max_size:.0f} mm in {args.host}, {args.dumps}")
    print(f"{'estimate':<22} {'band':>7} {'n':>4} {'within 15 %':>12} {'mean':>7} {'SD':>6}")
    for name in estimates:
        for band in [*bands, "all"]:
            errs = errors.get((name, band), [])
            if not errs:
                continue
            finite = [e for e in errs if np.isfinite(e)]
            ok = sum(1 for e in errs if abs(e) <= 0.15)
            print(
                f"{name:<22} {band:>7} {len(errs):>4} {ok:>5} ({ok / len(errs) * 100:3.0f} %) "
                f"{statistics.mean(finite) * 100:+6.1f}% {statistics.pstdev(finite) * 100:5.1f}%"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
