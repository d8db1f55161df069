"""Patient timelines read out of the database for reports, exports and the cohort view.

Qt-free.  One read path (``load_timeline``) serves ``caliper export``, the PDF report and the
cohort window, so what the screen shows and what is exported agree.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import recist
from app.errors import CliError
from recist.model import Measurement, MeasurementStatus, Method, Reader
from storage.db import Database, NotFoundError, PatientChart
from storage.db.segmentations import StoredSegmentation, caliper_change, status_change
from storage.exchange.timeline import (
    MANUAL,
    SEMI_AUTOMATIC,
    MeasurementProvenance,
    PatientTimeline,
)

#: Algorithm name of a contour the reader edited with the brush
#: (``app.segmentation.editing.EDIT_ALGORITHM``; its parameters name the ``source`` algorithm).
EDITED_CONTOUR_ALGORITHM = "manual edit"


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
        store = db.read_only_store()
        chart = store.chart(subject_id)
    except NotFoundError as exc:
        raise CliError(f"no patient {subject_id!r}; list them with `caliper patient list`") from exc
    return with_provenance(db, [_timeline(chart, _readers(db))])[0]


#: Measurement ids per contour query of :func:`with_provenance`.
_CONTOURS_PER_QUERY = 5000


def with_provenance(db: Database, timelines: list[PatientTimeline]) -> list[PatientTimeline]:
    """The timelines with how each measurement was made (:func:`measurement_provenance`).

    The contours of all semi-automatic measurements are read in one query per
    :data:`_CONTOURS_PER_QUERY` of them; :func:`load_all` leaves provenance out (the cohort
    needs none), the SDTM exports add it with this.
    """
    semi = [
        m.id
        for t in timelines
        for m in t.measurements
        if m.id is not None and m.method is Method.SEMI_AUTO
    ]
    store = db.read_only_store()
    contours: dict[int, StoredSegmentation] = {}
    for start in range(0, len(semi), _CONTOURS_PER_QUERY):  # SQLite binds at most 32,766
        contours.update(
            store.segmentations.for_measurements(semi[start : start + _CONTOURS_PER_QUERY])
        )
    return [
        replace(
            t,
            provenance={
                m.id: measurement_provenance(m, contours.get(m.id))
                for m in t.measurements
                if m.id is not None
            },
        )
        for t in timelines
    ]


def measurement_provenance(
    m: Measurement, contour: StoredSegmentation | None
) -> MeasurementProvenance:
    """How ``m`` was made, from its method and the lesion contour linked to it (issue 16).

    A contour edited with the brush names the algorithm that drew it first (its parameters'
    ``source``); whether the caliper was moved compares the measurement with the caliper
    the contour was stored with (``storage.db.segmentations.caliper_change``).  A manual
    measurement says nothing of any contour once stored with the lesion.
    """
    if m.method is not Method.SEMI_AUTO:
        return MeasurementProvenance(MANUAL)
    if contour is None:
        if m.status is not MeasurementStatus.MEASURED:
            # a status that drops the lines also unlinks the contour (app.session): the
            # reader replaced the proposal by it
            return MeasurementProvenance(SEMI_AUTOMATIC, caliper_change=status_change(m.status))
        return MeasurementProvenance(SEMI_AUTOMATIC)
    algorithm, version = contour.algorithm, contour.algorithm_version
    parameters: dict[str, Any] = dict(contour.parameters)
    edited = algorithm == EDITED_CONTOUR_ALGORITHM
    source = contour.parameters.get("source")
    if edited and isinstance(source, dict):
        algorithm = str(source.get("algorithm") or "")
        version = str(source.get("algorithm_version") or "")
        given = source.get("parameters")
        parameters = dict(given) if isinstance(given, dict) else {}
    return MeasurementProvenance(
        SEMI_AUTOMATIC,
        algorithm,
        version,
        contour_edited=edited,
        caliper_change=caliper_change(contour, m),
        volume_ml=contour.volume_ml,
        parameters=parameters,
    )


def _readers(db: Database) -> dict[int, Reader]:
    return {r.id: r for r in db.readers.list() if r.id is not None}


@dataclass(frozen=True)
class Evaluated:
    """A timeline with the case and result it was evaluated from (reused, not re-evaluated)."""

    timeline: PatientTimeline
    case: recist.Case
    result: recist.CaseResult


def _timeline(chart: PatientChart, readers: dict[int, Reader]) -> PatientTimeline:
    """Evaluate one chart (CliError when it has no timepoint)."""
    return _evaluated(chart, readers).timeline


def _evaluated(chart: PatientChart, readers: dict[int, Reader]) -> Evaluated:
    if not chart.timepoints:
        raise CliError(f"patient {chart.patient.subject_id} has no timepoint to export")
    measurements = one_per_lesion(list(chart.measurements))
    case = recist.case_from_records(chart.patient, chart.timepoints, chart.lesions, measurements)
    result = recist.evaluate(case)
    timeline = PatientTimeline(
        chart.patient,
        tuple(chart.timepoints),
        tuple(chart.lesions),
        tuple(measurements),
        recist.result_to_dict(result),
        readers,
        tuple(chart.signatures),
    )
    return Evaluated(timeline, case, result)


def load_all(
    db: Database, subjects: list[str] | None = None, *, trial: str | None = None
) -> list[PatientTimeline]:
    """Timelines of the named patients (all patients with timepoints by default).

    The charts are read in one go (one query per table, not per patient or record).
    ``trial`` keeps that trial's patients only.  A named patient that is missing or
    has no timepoint is a CliError; unnamed ones without timepoints are left out.
    """
    return [e.timeline for e in load_evaluated(db, subjects, trial=trial)]


def load_evaluated(
    db: Database, subjects: list[str] | None = None, *, trial: str | None = None
) -> list[Evaluated]:
    """:func:`load_all` with each timeline's case and result (for endpoints: no re-evaluation)."""
    with gc_paused():
        return _load_evaluated(db, subjects, trial)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection in the body (restored after, as it was).

    Building a cohort's records creates hundreds of thousands of objects, none of them
    garbage; each collection the allocations trigger scans all of them again, which took
    40 % of a 1,000-patient read.  Reference counting still frees everything as usual.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _load_evaluated(db: Database, subjects: list[str] | None, trial: str | None) -> list[Evaluated]:
    charts = db.read_only_store().charts(subjects, assessments=False)
    if subjects:
        found = {c.patient.subject_id for c in charts}
        missing = next((s for s in subjects if s not in found), None)
        if missing is not None:
            raise CliError(f"no patient {missing!r}; list them with `caliper patient list`")
    readers = _readers(db)
    timelines = []
    for chart in charts:
        if trial is not None and chart.patient.trial != trial:
            continue
        try:
            timelines.append(_evaluated(chart, readers))
        except CliError:
            if subjects:
                raise
    return timelines


def make_folder(path: str | Path) -> Path:
    """Create the folder *path* (and its parents) for an export; CliError naming it if it cannot."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create folder {out}: {exc.strerror or exc}") from exc
    return out


def find_images(folder: str) -> dict[str, Path]:
    """DICOM files under ``folder`` by SOP Instance UID (headers only are read)."""
    import pydicom  # here: the timelines and the cohort (window, export) need no DICOM reader

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
