"""Importing a TID 1500 report from another site into a patient's timeline (Qt-free).

``caliper import sr`` calls :func:`import_report`.  What it does, in one store
transaction (all or nothing, audit events included):

1. **Identity.**  The report's Clinical Trial Subject ID, protocol, DICOM
   Patient ID and study are compared with the patient (and the timepoint when
   it exists).  A mismatch is refused unless ``accept_other_patient``; the
   acceptance is then audited on the timepoint, naming what differed.
2. **Patient and timepoint.**  A missing patient is created from the report
   (subject id, protocol as trial, site; iRECIST when the report has iRECIST
   responses).  A missing timepoint is created from the report: label (Time
   Point / Clinical Trial Time Point ID), order (Time Point Order, or the next
   free one), date (the groups' Observation DateTime, else the study date),
   cycle (``cycle N`` protocol time point), study and series of the measured
   images, their modality and slice thickness (Image Library), DICOM Patient ID.
   A report without any RECIST lesion group is refused, listing what it skipped.
3. **Lesions.**  Only groups with an explicit RECIST category become lesions
   (:func:`storage.exchange.sr_read.skipped_groups` lists the others).  A lesion
   is matched by tracking UID; a code already used by another lesion, a
   category that differs from the stored one, or a measurement already present
   at the timepoint is skipped and listed, never overwritten.
4. **Reader.**  The report's observer becomes the measurements' reader when a
   reader of this database has the same login and name; otherwise the importing
   reader is recorded and the observer named in each measurement's note.
   Signatures are not imported: a VERIFIED report is reported, and an
   investigator signs here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pydicom.dataset import Dataset

from recist.model import Criteria, Lesion, Measurement, Patient, Reader, Timepoint
from storage.db import ClinicalStore, Database, NotFoundError
from storage.exchange.sr_codes import full_name_of, person_name
from storage.exchange.sr_read import SrReport, records_from_sr, skipped_groups


class SrImportRefused(ValueError):
    """The report does not belong to the patient (or cannot be placed); nothing was written."""


@dataclass
class SrImportResult:
    """What an import did: counts, what was created, skipped and noted."""

    subject_id: str
    label: str
    imported: int = 0
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def identity_problems(
    report: SrReport,
    patient: Patient | None,
    timepoints: list[Timepoint],
    subject_id: str,
    timepoint: Timepoint | None,
) -> list[str]:
    """What in the report says it belongs to another patient or study (empty when it fits)."""
    problems = []
    trial = report.clinical_trial
    if trial.subject_id and trial.subject_id != subject_id:
        problems.append(f"the report is of trial subject {trial.subject_id!r}, not {subject_id!r}")
    if (
        patient is not None
        and patient.trial
        and trial.protocol_id
        and trial.protocol_id not in ("UNSPECIFIED", patient.trial)
    ):
        problems.append(
            f"the report is of protocol {trial.protocol_id!r}; {subject_id} is in {patient.trial!r}"
        )
    known = sorted({t.dicom_patient_id for t in timepoints if t.dicom_patient_id})
    if report.patient_id and known and report.patient_id not in known:
        problems.append(
            f"the report is of DICOM Patient ID {report.patient_id!r}; the series of "
            f"{subject_id} are of {' / '.join(repr(k) for k in known)}"
        )
    if (
        timepoint is not None
        and timepoint.study_instance_uid
        and report.study_instance_uid
        and timepoint.study_instance_uid != report.study_instance_uid
    ):
        problems.append(
            f"the report is of study {report.study_instance_uid}; {timepoint.label} was read "
            f"on study {timepoint.study_instance_uid}"
        )
    return problems


def _new_timepoint(
    report: SrReport,
    patient_id: int,
    label: str,
    timepoints: list[Timepoint],
    series_of_images: list[str],
) -> tuple[Timepoint, list[str]]:
    notes = []
    taken = {t.order for t in timepoints}
    wanted = (report.time_point_order - 1) if report.time_point_order else None
    if wanted is not None and wanted >= 0 and wanted not in taken:
        order = wanted
    else:
        order = max(taken, default=-1) + 1
        if wanted is not None:
            notes.append(
                f"the report's time point order {wanted + 1} is taken; {label} is time point "
                f"{order + 1}"
            )
    series = Counter(series_of_images).most_common(1)
    series_uid = (
        series[0][0] if series else (report.evidence_series[0] if report.evidence_series else None)
    )
    library = next(
        (
            entry
            for sop, entry in report.image_library.items()
            if report.series_of_sop.get(sop) == series_uid
        ),
        {},
    )
    thickness = library.get("slice_thickness_mm")
    return (
        Timepoint(
            id=None,
            patient_id=patient_id,
            order=order,
            label=label,
            scan_date=report.observation_date or report.study_date,
            cycle=report.cycle,
            study_instance_uid=report.study_instance_uid or None,
            series_instance_uid=series_uid,
            modality=str(library["modality"]) if library.get("modality") else None,
            slice_thickness_mm=float(thickness) if isinstance(thickness, int | float) else None,
            dicom_patient_id=report.patient_id or None,
        ),
        notes,
    )


def _observer(db: Database, report: SrReport) -> Reader | None:
    """The reader of this database who is the report's observer (same login and name)."""
    if not report.observer_login or not report.observer:
        return None
    try:
        reader = db.readers.get(report.observer_login)
    except NotFoundError:
        return None
    same = person_name(reader.full_name) == report.observer or (
        full_name_of(report.observer).casefold() == reader.full_name.casefold()
    )
    return reader if same else None


def import_report(
    db: Database,
    actor: Reader,
    report: SrReport,
    *,
    subject_id: str | None = None,
    label: str | None = None,
    images: Mapping[str, Dataset] | None = None,
    slice_of_sop: Mapping[str, int] | None = None,
    accept_other_patient: bool = False,
    reason: str | None = None,
) -> SrImportResult:
    """Import one report (see the module docstring); one transaction.

    Raises
    ------
    SrImportRefused
        Identity mismatch without ``accept_other_patient``, or no subject/time point.
    storage.db.RepositoryError
        What the store refuses (e.g. a signed timepoint without ``reason``).
    """
    subject = subject_id or report.clinical_trial.subject_id or report.patient_id
    if not subject:
        raise SrImportRefused("the report names no subject; give the patient with --patient ID")
    tp_label = label or report.time_point or report.clinical_trial.time_point_id
    if not tp_label:
        raise SrImportRefused("the report names no time point; give it with --timepoint LABEL")
    pairs = records_from_sr(report, images=images, slice_of_sop=slice_of_sop)
    result = SrImportResult(subject, tp_label, skipped=skipped_groups(report))
    if not pairs:
        raise SrImportRefused(
            "no RECIST lesion in the report, nothing was imported; skipped: "
            + ("; ".join(result.skipped) or "the report has no measurement group")
        )
    store = db.store(actor)
    observer = _observer(db, report)
    with store.batch(f"import SR {report.sop_instance_uid}"):
        try:
            patient: Patient | None = store.patient(subject)
        except NotFoundError:
            patient = None
        timepoints = store.timepoints(patient.id) if patient and patient.id else []
        tp = next((t for t in timepoints if t.label == tp_label), None)
        problems = identity_problems(report, patient, timepoints, subject, tp)
        if problems and not accept_other_patient:
            raise SrImportRefused(
                "; ".join(problems)
                + "; nothing was imported (use --accept-other-patient if this is right)"
            )
        if patient is None:
            patient = store.add_patient(
                Patient(
                    id=None,
                    subject_id=subject,
                    trial=report.clinical_trial.protocol_id.replace("UNSPECIFIED", ""),
                    site=report.clinical_trial.site_id,
                    criteria=Criteria.IRECIST
                    if "irecist" in report.responses
                    else Criteria.RECIST11,
                )
            )
            result.created.append(f"patient {subject}")
            result.notes.append(
                f"patient {subject} created from the report; check its protocol settings "
                "(criteria, confirmation) with `caliper patient list`"
            )
        assert patient.id is not None
        if tp is None:
            drawn = [m.geometry.series_instance_uid for _, m in pairs if m.geometry is not None]
            new_tp, notes = _new_timepoint(report, patient.id, tp_label, timepoints, drawn)
            tp = store.add_timepoint(
                new_tp,
                confirm_other_patient=accept_other_patient,
                confirmed=[f"imported SR {report.sop_instance_uid}: {p}" for p in problems],
            )
            result.created.append(f"timepoint {tp_label}")
            result.notes += notes
        elif problems:
            for problem in problems:
                store.record_confirmation(
                    tp.id or 0, f"imported SR {report.sop_instance_uid}: {problem}"
                )
        _add_records(store, patient.id, tp, pairs, observer or actor, reason, result)
    if report.verification is not None:
        v = report.verification
        result.notes.append(
            f"the report was verified by {v.observer_name} ({v.organization}) at {v.datetime}; "
            "signatures are not imported, an investigator signs here"
        )
    if observer is None and report.observer:
        result.notes.append(
            f"observer {report.observer} is no reader here; recorded as {actor.username}, "
            "named in each measurement's note"
        )
    return result


def _add_records(
    store: ClinicalStore,
    patient_id: int,
    tp: Timepoint,
    pairs: list[tuple[Lesion, Measurement]],
    reader: Reader,
    reason: str | None,
    result: SrImportResult,
) -> None:
    lesions = store.lesions(patient_id)
    by_uid = {les.tracking_uid: les for les in lesions}
    by_code = {les.code: les for les in lesions}
    measured = {
        m.lesion_id
        for m in store.measurements(
            patient_id=patient_id,
            timepoint_id=tp.id,
        )
    }
    for lesion, m in pairs:
        stored = by_uid.get(lesion.tracking_uid)
        if stored is None:
            other = by_code.get(lesion.code)
            if other is not None:
                result.skipped.append(
                    f"lesion {lesion.code}: this patient's {lesion.code} has another tracking "
                    f"UID ({other.tracking_uid}); not merged"
                )
                continue
            stored = store.add_lesion(replace(lesion, patient_id=patient_id))
            by_uid[stored.tracking_uid] = by_code[stored.code] = stored
        elif stored.kind is not lesion.kind:
            result.skipped.append(
                f"lesion {lesion.code}: the report calls it {lesion.kind.value}, this patient "
                f"has it as {stored.kind.value}"
            )
            continue
        if stored.id in measured:
            result.skipped.append(
                f"lesion {stored.code}: already measured at {tp.label}; not replaced"
            )
            continue
        store.add_measurement(
            replace(m, lesion_id=stored.id, timepoint_id=tp.id, reader_id=reader.id),
            reason=reason,
        )
        measured.add(stored.id)
        result.imported += 1
