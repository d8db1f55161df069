"""``caliper view PATH --screenshot FILE``: render one slice of a series to PNG, offscreen.

Loading uses ``storage.dicom``; drawing happens in ``viewer.image.render`` through
``app.main`` (the only module of ``app`` that may touch Qt), imported when
the command runs so the rest of the command line starts without Qt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.errors import CliError
from storage.dicom import DicomLoadError, load_series

#: Window presets the image view knows (``viewer.image.presets``).
PRESET_CHOICES: tuple[str, ...] = ("liver", "soft tissue", "lung", "bone", "auto")
ORIENTATIONS: tuple[str, ...] = ("axial", "coronal", "sagittal")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``view`` command to *subparsers*."""
    view = subparsers.add_parser(
        "view",
        help="render a slice of a DICOM series to a PNG file (offscreen)",
        description="Load one series and write the image view (annotations, window/level) "
        "as a PNG, as the workstation shows it.",
    )
    view.add_argument("path", metavar="PATH", help="folder, file, zip or DICOMDIR")
    view.add_argument(
        "--series",
        metavar="UID",
        help="SeriesInstanceUID (default: the only or the largest series)",
    )
    view.add_argument(
        "--slice",
        type=int,
        metavar="N",
        dest="slice_index",
        help="0-based slice index along the plane normal (default: the middle)",
    )
    view.add_argument(
        "--preset",
        metavar="NAME",
        help=f"window preset: {', '.join(PRESET_CHOICES)} (default: liver for CT, auto otherwise)",
    )
    view.add_argument(
        "--orientation",
        choices=ORIENTATIONS,
        default="axial",
        help="plane to show (default: axial)",
    )
    view.add_argument("--screenshot", metavar="FILE", required=True, help="PNG file to write")
    view.set_defaults(func=run_view)


def _normalised_preset(name: str | None) -> str | None:
    if name is None:
        return None
    key = name.strip().lower().replace("_", " ")
    if key not in PRESET_CHOICES:
        raise CliError(
            f"unknown window preset {name!r}; expected one of {', '.join(PRESET_CHOICES)}"
        )
    return key


def run_view(args: argparse.Namespace) -> int:
    """``caliper view PATH [--series UID] [--slice N] [--preset NAME] --screenshot FILE``."""
    preset = _normalised_preset(args.preset)
    out = Path(args.screenshot)
    if not out.parent.is_dir():
        raise CliError(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        volume = load_series(args.path, args.series)
    except DicomLoadError as exc:
        raise CliError(str(exc)) from exc
    shape = volume.voxels.shape
    count = {"axial": shape[0], "coronal": shape[1], "sagittal": shape[2]}[args.orientation]
    if args.slice_index is not None and not 0 <= args.slice_index < count:
        raise CliError(
            f"--slice {args.slice_index} is outside 0..{count - 1} "
            f"({args.orientation}, {count} positions)"
        )

    from app.main import render_volume_png

    try:
        render_volume_png(volume, args.slice_index, preset, str(out), orientation=args.orientation)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc}") from exc
    index = args.slice_index if args.slice_index is not None else count // 2
    print(  # noqa: T201 - the command's output
        f"{out}: {volume.series_instance_uid} {args.orientation} slice {index}/{count - 1} "
        f"({out.stat().st_size} bytes)"
    )
    return 0
