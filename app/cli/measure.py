"""``caliper measure SERIES --at X,Y,Z [--liver] [--json]``: one-click measurement, scripted.

Loads the series with ``storage.dicom`` and runs ``app.segmentation`` at an LPS point in
millimetres: the lesion's RECIST diameters, volume and the slice they are on, or (``--liver``)
the liver volume.  A point that cannot be measured (outside the image, in air, no edge, a
leak) is refused with the reason (exit 2), never answered with a silly number.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from app.errors import CliError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``measure`` command to *subparsers*."""
    cmd = subparsers.add_parser(
        "measure",
        help="measure the lesion (or the liver) at a point of a series: diameters and volume",
        description="Segment the lesion around a point in 3-D and print its RECIST long and "
        "short axis, volume and slice; with --liver, segment the liver and print its volume.",
    )
    cmd.add_argument("series", metavar="SERIES", help="folder, file, zip or DICOMDIR")
    cmd.add_argument(
        "--series-uid", metavar="UID", help="SeriesInstanceUID when PATH holds several"
    )
    cmd.add_argument(
        "--at",
        required=True,
        metavar="X,Y,Z",
        help="the point, patient LPS millimetres (as the viewer shows them); "
        "write --at=X,Y,Z when X is negative",
    )
    cmd.add_argument("--liver", action="store_true", help="segment the liver instead of a lesion")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.add_argument(
        "--seg",
        metavar="FILE",
        help="also write the contour as a DICOM SEG referencing the series' images",
    )
    cmd.set_defaults(func=run_measure)


def parse_point(text: str) -> tuple[float, float, float]:
    """``"X,Y,Z"`` in mm -> a tuple; a clear error otherwise."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise CliError(f"--at must be three numbers X,Y,Z in millimetres, got {text!r}")
    return (values[0], values[1], values[2])


def write_contour_seg(out: str, source: str, volume: Any, contour: Any, kind: str) -> Path:
    """Write ``contour`` (a segmentation result) as a DICOM SEG over the series' files."""
    import pydicom

    from storage.dicom import scan
    from storage.exchange.seg import SegContour, SegError, build_seg, write_seg

    info = scan(source).find(volume.series_instance_uid)
    files = [f for f in (info.files if info is not None else []) if "::" not in f]
    datasets = {}
    for f in files:
        ds = pydicom.dcmread(f)
        datasets[str(ds.SOPInstanceUID)] = ds
    images = [datasets.get(uid) for uid in volume.sop_instance_uids]
    if not images or any(ds is None for ds in images):
        raise CliError(
            f"--seg: the image files of {source} cannot all be read as files "
            "(a zip or DICOMDIR member?); no SEG written"
        )
    region = contour.region
    seg_contour = SegContour(
        "liver" if kind == "liver" else "lesion",
        region.offset,
        region.mask,
        kind,
        contour.algorithm,
        contour.algorithm_version,
    )
    try:
        return write_seg(out, build_seg([ds for ds in images if ds is not None], [seg_contour]))
    except SegError as exc:
        raise CliError(f"--seg: {exc}") from exc


def run_measure(args: argparse.Namespace) -> int:
    """Measure and print; exit 2 with the reason when the point cannot be measured."""
    from app.segmentation import SegmentationError, measure_lesion, measure_liver, seed_index
    from storage.dicom import DicomLoadError, load_series

    point = parse_point(args.at)
    try:
        volume = load_series(args.series, args.series_uid)
    except DicomLoadError as exc:
        raise CliError(str(exc)) from exc
    t0 = time.perf_counter()
    try:
        seed = seed_index(volume, point)
        if args.liver:
            liver = measure_liver(volume, seed)
            record = liver.to_dict()
        else:
            lesion = measure_lesion(volume, seed)
            record = lesion.to_dict(volume)
    except SegmentationError as exc:
        raise CliError(f"cannot measure at {args.at}: {exc}") from exc
    record["seconds"] = round(time.perf_counter() - t0, 3)
    if args.seg:
        contour = liver if args.liver else lesion
        record["seg"] = str(
            write_contour_seg(
                args.seg, args.series, volume, contour, "liver" if args.liver else "lesion"
            )
        )
    if args.json:
        print(json.dumps(record, indent=2))
    elif args.liver:
        print(f"liver volume {record['volume_ml']} mL ({record['seconds']} s)")
    else:
        print(
            f"long axis {record['long_axis_mm']} mm, short axis {record['short_axis_mm']} mm, "
            f"volume {record['volume_ml']} mL on slice {record['slice_index']} "
            f"({record['seconds']} s)"
        )
    return 0
