"""``caliper dicom ...``: list the series under a path, load one and describe it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from app.errors import CliError
from storage.dicom import DicomLoadError, ScanReport, Volume, load_series, scan


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``dicom`` command group (``info`` and ``load``) to *subparsers*."""
    dicom = subparsers.add_parser("dicom", help="find and load DICOM series")
    sub = dicom.add_subparsers(dest="dicom_command", metavar="ACTION", required=True)

    info = sub.add_parser(
        "info", help="list the image series under a folder, zip, DICOMDIR or file"
    )
    info.add_argument("path", metavar="PATH")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=run_info)

    load = sub.add_parser("load", help="load one series and describe its geometry")
    load.add_argument("path", metavar="PATH")
    load.add_argument(
        "--series",
        metavar="UID",
        help="SeriesInstanceUID (default: the only or the largest series)",
    )
    load.add_argument("--json", action="store_true", help="print JSON")
    load.set_defaults(func=run_load)


def _scan(path: str) -> tuple[ScanReport, float]:
    started = time.perf_counter()
    try:
        report = scan(path)
    except DicomLoadError as exc:
        raise CliError(str(exc)) from exc
    return report, time.perf_counter() - started


def info_to_dict(report: ScanReport, seconds: float) -> dict[str, Any]:
    """The JSON document of ``caliper dicom info``."""
    return {
        "path": report.root,
        "series": [s.to_dict() for s in report.series],
        "problems": [{"path": p.path, "message": p.message} for p in report.problems],
        "headers_from_cache": report.from_cache,
        "seconds": round(seconds, 4),
    }


def run_info(args: argparse.Namespace) -> int:
    """``caliper dicom info PATH [--json]``."""
    report, seconds = _scan(args.path)
    if args.json:
        print(json.dumps(info_to_dict(report, seconds), indent=2))
        return 0
    print(
        f"{report.root}: {len(report.series)} image series, {len(report.problems)} "
        f"skipped file(s), {seconds:.2f} s"
    )
    for s in report.series:
        print(
            f"  {s.modality:3} {s.n_images:5d} x {s.rows}x{s.columns}  "
            f"#{s.series_number if s.series_number is not None else '-'} "
            f"{s.series_description!r}  {s.series_instance_uid}"
        )
    for p in report.problems:
        print(f"  ! {p}")
    return 0


def volume_to_dict(volume: Volume, seconds: float) -> dict[str, Any]:
    """The JSON document of ``caliper dicom load``."""
    low, high = volume.value_range()
    return {
        "series_instance_uid": volume.series_instance_uid,
        "study_instance_uid": volume.study_instance_uid,
        "modality": volume.modality,
        "series_description": volume.series_description,
        "shape": list(volume.voxels.shape),
        "dtype": str(volume.voxels.dtype),
        "spacing_mm": list(volume.spacing_mm),
        "origin_lps_mm": list(volume.origin_lps_mm),
        "direction": [list(row) for row in volume.direction],
        "value_range": [low, high],
        "hu_range": [low, high] if volume.modality == "CT" else None,
        "slice_thickness_mm": volume.slice_thickness_mm,
        "window": [volume.window_center, volume.window_width],
        "warnings": list(volume.warnings),
        "seconds": round(seconds, 4),
    }


def run_load(args: argparse.Namespace) -> int:
    """``caliper dicom load PATH [--series UID] [--json]``."""
    started = time.perf_counter()
    try:
        volume = load_series(args.path, args.series)
    except DicomLoadError as exc:
        raise CliError(str(exc)) from exc
    seconds = time.perf_counter() - started
    doc = volume_to_dict(volume, seconds)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{doc['modality']} {doc['series_instance_uid']}")
    print(f"  shape {tuple(doc['shape'])} {doc['dtype']}, spacing {tuple(doc['spacing_mm'])} mm")
    print(f"  origin {tuple(doc['origin_lps_mm'])} mm, values {doc['value_range']}")
    print(f"  loaded in {seconds:.3f} s")
    for warning in volume.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    return 0
