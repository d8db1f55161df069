"""``caliper --self-check``: prove an installed Caliper works, without a screen.

It evaluates a RECIST case, writes and verifies a temporary database with an
audit trail, loads the bundled demo study and renders it offscreen, and
decodes a bundled 12-bit JPEG Extended image with the loader and with GDCM.  Each step
prints ``ok`` or ``FAILED`` with the reason; the exit code is 0 only when every
step passed.  The installer build runs it on the built program.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from app import __version__

#: A small RECIST 1.1 timeline (partial response at C3) with its known answer.
SELF_CHECK_CASE: dict[str, object] = {
    "id": "SELFCHECK-001",
    "criteria": "RECIST1.1",
    "confirmation_required": False,
    "min_sd_days": 42,
    "timepoints": [
        {
            "label": "baseline",
            "date": "2026-01-05",
            "slice_thickness_mm": 5,
            "targets": [
                {"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": 34.0},
                {"id": "T2", "organ": "liver", "nodal": False, "diameter_mm": 22.0},
            ],
            "non_targets": [],
            "new_lesions": [],
        },
        {
            "label": "C3",
            "date": "2026-03-09",
            "slice_thickness_mm": 5,
            "targets": [
                {"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": 20.0},
                {"id": "T2", "organ": "liver", "nodal": False, "diameter_mm": 14.0},
            ],
            "non_targets": [],
            "new_lesions": [],
        },
    ],
}


def demo_series_folder() -> Path:
    """The folder of the bundled demo series (inside ``resources/demo``)."""
    import resources

    root = Path(resources.__file__).resolve().parent / "demo"
    for folder in sorted([root, *root.rglob("*")]):
        if folder.is_dir() and any(folder.glob("*.dcm")):
            return folder
    raise FileNotFoundError(f"no demo DICOM series found under {root}")


def _check_engine(workdir: Path) -> str:
    import recist

    result = recist.evaluate(recist.case_from_dict(SELF_CHECK_CASE))
    overall = [tp.overall for tp in result.timepoints]
    if str(overall[-1]) != "PR" or str(result.best_overall_response) != "PR":
        raise AssertionError(
            f"expected PR at C3 and BOR PR, got {overall} / BOR {result.best_overall_response}"
        )
    return f"C3 {overall[-1]}, best overall response {result.best_overall_response}"


def _check_database(workdir: Path) -> str:
    import recist
    from recist.model import Role
    from storage.db import open_database

    database = open_database(f"sqlite:///{workdir / 'selfcheck.sqlite3'}")
    try:
        admin = database.readers.ensure_system()
        database.readers.create(
            "selfcheck", "Self Check", Role.INVESTIGATOR, "self-check-pw", by=admin
        )
        investigator = database.readers.authenticate("selfcheck", "self-check-pw")
        store = database.store(investigator)
        records = recist.case_to_records(recist.case_from_dict(SELF_CHECK_CASE))
        patient = store.import_records(*records)
        if patient.id is None:
            raise AssertionError("the imported patient has no database id")
        result = store.assess(patient.id)
        report = database.verify_audit()
        if not report.ok:
            raise AssertionError(str(report))
        return (
            f"{len(records[3])} measurements stored, BOR {result.best_overall_response}, "
            f"audit chain verified ({report.events_checked} events)"
        )
    finally:
        database.close()


def _check_demo_study(workdir: Path) -> str:
    from storage.dicom import load_series

    folder = demo_series_folder()
    volume = load_series(folder)
    from app.main import render_volume_png

    out = workdir / "demo.png"
    render_volume_png(volume, volume.voxels.shape[0] // 2, "liver", out)
    if not out.is_file() or out.stat().st_size < 1000:
        raise AssertionError(f"render wrote no image to {out}")
    shape = "x".join(str(n) for n in volume.voxels.shape)
    return f"demo series {shape} loaded and rendered offscreen ({out.stat().st_size} bytes PNG)"


def legacy_jpeg_path() -> Path:
    """The bundled 12-bit JPEG Extended image (``resources/selfcheck``, see its SOURCE.md)."""
    import resources

    return Path(resources.__file__).resolve().parent / "selfcheck" / "jpeg-extended-12bit.dcm"


def _check_legacy_jpeg(workdir: Path) -> str:
    import numpy as np
    import pydicom

    from storage.dicom import load_series
    from storage.dicom.decoders import GDCM, decode

    path = legacy_jpeg_path()
    volume = load_series(path)
    failed = [w for w in volume.warnings if "could not be decoded" in w]
    if failed:
        raise AssertionError(failed[0])
    ds = pydicom.dcmread(path)
    stored, used = decode(ds, str(ds.file_meta.TransferSyntaxUID), index=0, first=GDCM)
    if used != GDCM:
        raise AssertionError(f"GDCM did not decode {path.name} (the {used} decoder did)")
    loaded = volume.voxels[0].astype(np.int32) - int(float(ds.RescaleIntercept))
    if np.abs(loaded - stored.astype(np.int32)).max() > 1:
        raise AssertionError(f"the loader and GDCM disagree by more than 1 on {path.name}")
    return (
        f"{ds.Rows}x{ds.Columns} JPEG Extended 12-bit decoded by the loader and by GDCM "
        f"(HU {volume.value_range()[0]:g}..{volume.value_range()[1]:g})"
    )


STEPS: tuple[tuple[str, Callable[[Path], str]], ...] = (
    ("RECIST engine", _check_engine),
    ("database and audit trail", _check_database),
    ("demo study", _check_demo_study),
    ("legacy 12-bit JPEG", _check_legacy_jpeg),
)


def run_self_check() -> int:
    """Run every step, print one line each, return 0 when all passed."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"Caliper {__version__} self-check")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="caliper-selfcheck-") as tmp:
        workdir = Path(tmp)
        os.environ.setdefault("CALIPER_HOME", str(workdir / "home"))
        for name, step in STEPS:
            started = time.perf_counter()
            try:
                detail = step(workdir)
            except Exception as exc:  # a self-check reports every failure and goes on
                failures += 1
                print(f"  FAILED  {name}: {type(exc).__name__}: {exc}")
                traceback.print_exc(file=sys.stderr)
            else:
                print(f"  ok      {name} ({time.perf_counter() - started:.2f} s): {detail}")
    print("self-check passed" if failures == 0 else f"self-check FAILED ({failures} step(s))")
    return 0 if failures == 0 else 1
