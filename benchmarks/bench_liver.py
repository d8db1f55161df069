"""Benchmark: how much the one-click liver volume depends on where in the liver the reader clicks.

For each series, clicks are sampled (fixed random seed) inside a conservative liver region:
the reference liver eroded by 15 mm in-plane (crlm-ct-1006: the engineer's reference mask of
``benchmarks/data/crlm-ct-1006-liver.npz``; the demo follow-up: the same mask on its 30
slices; ct-wholebody-269, which has no reference: the 1.2 segmentation from a fixed click,
eroded, used for the clicks only).  ``segment_liver`` runs from every click, version 1.1 and
1.2 in the same run; printed per click and summarised: median, min-max, coefficient of
variation, seconds, Dice and volume error against the reference where there is one.  Two
clicks outside the liver (spleen, heart) must be refused.  Also the dcmqi liver SEG (3 slices).

Run: ``.venv/bin/python benchmarks/bench_liver.py [--data DIR] [--clicks N] [--seed N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from app.segmentation.errors import SegmentationError  # noqa: E402
from app.segmentation.liver import LiverParameters, segment_liver  # noqa: E402
from app.segmentation.measure import seed_index  # noqa: E402
from storage.dicom import load_series  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("CALIPER_SHARED_DATA", ROOT.parent / "shared" / "data"))
REFERENCE = ROOT / "benchmarks" / "data" / "crlm-ct-1006-liver.npz"
WB_CLICK = (150, 300, 180)  # (slice, row, column) in the right lobe of ct-wholebody-269
#: LPS points outside the liver that must be refused (series -> points)
OUTSIDE = {
    "demo-followup": [(60.0, 30.0, -250.0), (100.0, 40.0, -230.0)],
    "crlm-ct-1006": [(60.0, 30.0, -250.0), (100.0, 40.0, -230.0)],
}
VERSIONS = {"1.1": LiverParameters.v1_1(), "1.2": LiverParameters()}


def load_reference(shape: tuple[int, ...]) -> np.ndarray:
    """The engineer's reference liver of crlm-ct-1006 (see benchmarks/data/README.md)."""
    data = np.load(REFERENCE)
    mask = np.unpackbits(data["bits"])[: int(np.prod(data["shape"]))].reshape(data["shape"])
    if tuple(mask.shape) != tuple(shape):
        raise SystemExit(f"{REFERENCE}: shape {mask.shape}, the series is {shape}")
    return mask.astype(bool)


def sample_clicks(
    liver: np.ndarray, spacing: tuple[float, float, float], n: int, rng: np.random.Generator
) -> list[tuple[int, int, int]]:
    """``n`` voxels at least 15 mm (in-plane) inside ``liver``."""
    img = sitk.GetImageFromArray(liver.astype(np.uint8))
    img.SetSpacing((spacing[2], spacing[1], 1000.0))  # in-plane depth only
    depth = sitk.GetArrayFromImage(
        sitk.SignedMaurerDistanceMap(
            img, insideIsPositive=True, squaredDistance=False, useImageSpacing=True
        )
    )
    inside = np.argwhere(liver & (depth >= 15.0))
    pick = rng.choice(len(inside), size=min(n, len(inside)), replace=False)
    return [tuple(int(v) for v in inside[i]) for i in sorted(pick)]  # type: ignore[misc]


def run(volume, seed, params):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    try:
        res = segment_liver(
            volume.voxels, volume.spacing_mm, seed, params, index_to_lps=volume.index_to_lps
        )
    except SegmentationError as exc:
        return None, time.perf_counter() - t0, str(exc)
    return res.mask, time.perf_counter() - t0, ""


def bench_series(name, volume, clicks, reference, rows):  # type: ignore[no-untyped-def]
    ml = float(np.prod(volume.spacing_mm)) / 1000.0
    print(f"\n== {name}: {volume.voxels.shape}, {len(clicks)} clicks", end="")
    print(f"; reference {reference.sum() * ml:.0f} mL" if reference is not None else "")
    per: dict[str, list[tuple[float, float, float | None]]] = {v: [] for v in VERSIONS}
    for seed in clicks:
        line = f"  click {seed}:"
        for version, params in VERSIONS.items():
            mask, secs, err = run(volume, seed, params)
            if mask is None:
                line += f"  {version} refused ({err[:50]})"
                per[version].append((float("nan"), secs, None))
                continue
            dice = None
            if reference is not None:
                dice = 2 * (mask & reference).sum() / (mask.sum() + reference.sum())
            per[version].append((mask.sum() * ml, secs, dice))
            line += f"  {version} {mask.sum() * ml:6.0f} mL {secs:4.1f} s"
            line += f" Dice {dice:.3f}" if dice is not None else ""
        print(line)
    for version, values in per.items():
        vols = [v for v, _, _ in values if v == v]
        refused = len(values) - len(vols)
        secs = [s for _, s, _ in values]
        if not values:
            continue
        med = statistics.median(vols) if vols else float("nan")
        cv = statistics.pstdev(vols) / statistics.mean(vols) * 100 if len(vols) > 1 else 0.0
        dices = [d for _, _, d in values if d is not None]
        ref_ml = reference.sum() * ml if reference is not None else None
        err = f"{(med / ref_ml - 1) * 100:+.1f} %" if ref_ml else "-"
        dice = f"{statistics.median(dices):.3f}" if dices else "-"
        row = (
            f"| {name} | {version} | {med:.0f} | {min(vols, default=0):.0f}-"
            f"{max(vols, default=0):.0f} | {cv:.1f} % | {refused} | {err} | {dice} | "
            f"{statistics.median(secs):.1f} / {max(secs):.1f} |"
        )
        rows.append(row)
    for point in OUTSIDE.get(name, []):
        seed = seed_index(volume, point)
        for version, params in VERSIONS.items():
            mask, secs, err = run(volume, seed, params)
            got = "refused" if mask is None else f"{mask.sum() * ml:.0f} mL (not refused)"
            print(f"  outside the liver {point}: {version} {got}")
            rows.append(f"| {name} outside {point} | {version} | {got} | | | | | | |")


def dcmqi(data: Path, rows: list[str]) -> None:
    from bench_segmentation import liver_reference  # noqa: PLC0415

    print("\n== dcmqi liver SEG (3 slices); the current version:")
    liver_reference(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--clicks", type=int, default=15)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--skip", default="", help="comma-separated series names to skip")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    skip = set(args.skip.split(","))
    rows: list[str] = []
    crlm = load_series(args.data / "crlm-ct-1006")
    ref = load_reference(crlm.voxels.shape)
    if "crlm-ct-1006" not in skip:
        clicks = sample_clicks(ref, crlm.spacing_mm, args.clicks, rng)
        bench_series("crlm-ct-1006", crlm, clicks, ref, rows)
    if "demo-followup" not in skip:
        demo = load_series(ROOT / "resources" / "demo" / "followup")
        first = int(round(crlm.lps_to_index(*demo.index_to_lps(0, 0, 0))[0]))
        demo_ref = ref[first : first + demo.voxels.shape[0]]
        clicks = sample_clicks(demo_ref, demo.spacing_mm, args.clicks, rng)
        bench_series("demo-followup", demo, clicks, demo_ref, rows)
    if "ct-wholebody-269" not in skip:
        wb = load_series(args.data / "ct-wholebody-269")
        liver = segment_liver(wb.voxels, wb.spacing_mm, WB_CLICK, index_to_lps=wb.index_to_lps)
        clicks = sample_clicks(liver.mask, wb.spacing_mm, args.clicks, rng)
        bench_series("ct-wholebody-269", wb, clicks, None, rows)
    dcmqi(args.data, rows)
    print("\n| series | version | median mL | min-max mL | CV | refused | vol. error | Dice | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
