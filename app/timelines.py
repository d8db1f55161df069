"""Patient timelines read out of the database for reports, exports and the cohort view.

Qt-free.  One read path (``load_timeline``) serves ``caliper export``, the PDF report and the
cohort window, so what the screen shows and what is exported agree.
"""

from __future__ import annotations

from pathlib import Path

import pydicom

import recist
from app.errors import CliError
from recist.model import Measurement
from storage.db import Database, NotFoundError
from storage.exchange.timeline import PatientTimeline


def one_per_lesion(measurements: list[Measurement]) -> list[Measurement]:
    """One measurement per lesion and timepoint: the latest stored (highest id)."""
    chosen: dict[tuple[int | None, int | None], Measurement] = {}
    for m in measurements:
        key = (m.lesion_id, m.timepoint_id)
        if key not in chosen or (m.id or 0) > (chosen[key].id or 0):
            chosen[key] = m
    return [m for m in measurements if chosen[(m.lesion_id, m.timepoint_id)] is m]


def load_timeline(db: Database, subject_id: str) -> PatientTimeline:
    """Read one patient through the store and evaluate it.

    Raises
    ------
    CliError
        When the patient does not exist or has no timepoint.
    """
    try:
        chart = db.read_only_store().chart(subject_id)
    except NotFoundError as exc:
        raise CliError(f"no patient {subject_id!r}; list them with `caliper patient list`") from exc
    if not chart.timepoints:
        raise CliError(f"patient {subject_id} has no timepoint to export")
    measurements = one_per_lesion(list(chart.measurements))
    result = recist.result_to_dict(
        recist.evaluate(
            recist.case_from_records(chart.patient, chart.timepoints, chart.lesions, measurements)
        )
    )
    readers = {r.id: r for r in db.readers.list() if r.id is not None}
    return PatientTimeline(
        chart.patient,
        tuple(chart.timepoints),
        tuple(chart.lesions),
        tuple(measurements),
        result,
        readers,
        tuple(chart.signatures),
    )


def load_all(db: Database, subjects: list[str] | None = None) -> list[PatientTimeline]:
    """Timelines of the named patients (all patients with timepoints by default)."""
    names = subjects or [p.subject_id for p in db.read_only_store().patients()]
    timelines = []
    for name in names:
        try:
            timelines.append(load_timeline(db, name))
        except CliError:
            if subjects:
                raise
    return timelines


def find_images(folder: str) -> dict[str, Path]:
    """DICOM files under ``folder`` by SOP Instance UID (headers only are read)."""
    root = Path(folder)
    if not root.exists():
        raise CliError(f"image folder {folder} does not exist")
    found: dict[str, Path] = {}
    for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
        except Exception:  # noqa: BLE001 - any unreadable file is skipped, not fatal
            continue
        if "SOPInstanceUID" in ds:
            found[str(ds.SOPInstanceUID)] = path
    return found
