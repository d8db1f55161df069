"""Mapping a :class:`~recist.case.Case` to and from the domain records of :mod:`recist.model`.

The database stores records; the engine evaluates cases.  Unsaved records
(``id`` None) are linked by position: a measurement's ``lesion_id`` is the
index of its lesion in the lesion list and its ``timepoint_id`` is the
timepoint's ``order``.  Saved records are linked by their ids.

Value mapping (case -> record status):

* target ``diameter_mm`` number -> ``MEASURED`` (0 -> ``ABSENT``), ``"TSTM"`` ->
  ``TOO_SMALL``, null -> ``NOT_EVALUABLE``, ``fragments_mm`` -> ``SPLIT``,
  ``coalesced_into`` -> ``MERGED``; nodal targets keep the value in ``short_axis_mm``.
  The other axis drawn (``short_axis_mm`` of a non-nodal target, ``long_axis_mm`` of
  a node) and the ``image`` (``Measurement.geometry``) are carried both ways.
* non-target / new-lesion ``status`` present, absent, not_evaluated,
  unequivocal_progression, further_increase (iRECIST, O-16) -> ``PRESENT``, ``ABSENT``,
  ``NOT_EVALUABLE``, ``UNEQUIVOCAL_PROGRESSION``, ``FURTHER_INCREASE``.  Records written
  before ``FURTHER_INCREASE`` existed (``UNEQUIVOCAL_PROGRESSION`` with ``note`` =
  :data:`FURTHER_INCREASE_NOTE`) are still read as further increase.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from recist.case import (
    UM_PER_MM,
    Case,
    CaseTimepoint,
    LesionStatus,
    NewLesionEntry,
    NonTargetEntry,
    TargetEntry,
)
from recist.errors import CaseFormatError, InvalidRecordError
from recist.model import Lesion, LesionKind, Measurement, MeasurementStatus, Patient, Timepoint

#: ``Measurement.note`` that marked "further increase" before it had its own status.
FURTHER_INCREASE_NOTE = "iRECIST: further increase since the last assessment"

_STATUS_TO_RECORD = {
    LesionStatus.PRESENT: MeasurementStatus.PRESENT,
    LesionStatus.ABSENT: MeasurementStatus.ABSENT,
    LesionStatus.NOT_EVALUATED: MeasurementStatus.NOT_EVALUABLE,
    LesionStatus.UNEQUIVOCAL_PROGRESSION: MeasurementStatus.UNEQUIVOCAL_PROGRESSION,
    LesionStatus.FURTHER_INCREASE: MeasurementStatus.FURTHER_INCREASE,
}


def tracking_uid(subject_id: str, code: str) -> str:
    """A deterministic DICOM UID (``2.25.<uuid5>``) for a lesion of a subject."""
    return "2.25." + str(uuid.uuid5(uuid.NAMESPACE_OID, f"caliper/{subject_id}/{code}").int)


def _mm(value: int | None) -> float | None:
    return None if value is None else value / UM_PER_MM


def _um(value: float | None) -> int | None:
    return None if value is None else round(value * UM_PER_MM)


def _target_measurement(entry: TargetEntry) -> dict[str, Any]:
    value = _mm(entry.diameter_um)
    axes: dict[str, Any] = (
        {"short_axis_mm": value, "long_axis_mm": _mm(entry.long_axis_um)}
        if entry.nodal
        else {"long_axis_mm": value, "short_axis_mm": _mm(entry.short_axis_um)}
    )
    if entry.fragments_um:
        status = MeasurementStatus.SPLIT
    elif entry.coalesced_into:
        status = MeasurementStatus.MERGED
    elif entry.tstm:
        status = MeasurementStatus.TOO_SMALL
    elif value is None:
        status = MeasurementStatus.NOT_EVALUABLE
    elif value == 0:
        status = MeasurementStatus.ABSENT
    else:
        status = MeasurementStatus.MEASURED
    return {
        "status": status,
        **axes,
        "fragments_mm": tuple(v / UM_PER_MM for v in entry.fragments_um),
        "coalesced_into": entry.coalesced_into,
        "geometry": entry.image,
    }


def _other_measurement(entry: NonTargetEntry | NewLesionEntry) -> dict[str, Any]:
    status = _STATUS_TO_RECORD[entry.status]
    fields: dict[str, Any] = {"short_axis_mm": _mm(entry.short_axis_um), "geometry": entry.image}
    if isinstance(entry, NonTargetEntry) and entry.long_axis_um is not None:
        fields["long_axis_mm"] = _mm(entry.long_axis_um)
        if entry.status is LesionStatus.PRESENT:
            status = MeasurementStatus.MEASURED
    if isinstance(entry, NewLesionEntry):
        fields["equivocal"] = entry.equivocal
        fields["long_axis_mm"] = _mm(entry.diameter_um)
        if entry.status is LesionStatus.PRESENT:
            if entry.tstm:
                status = MeasurementStatus.TOO_SMALL
            elif entry.diameter_um is not None:
                status = MeasurementStatus.MEASURED
    return {"status": status, **fields}


def case_to_records(
    case: Case,
) -> tuple[Patient, list[Timepoint], list[Lesion], list[Measurement]]:
    """Turn a case into unsaved domain records (every ``id`` is None).

    Parameters
    ----------
    case : Case
        The case.

    Returns
    -------
    tuple
        ``(patient, timepoints, lesions, measurements)``.  A measurement's
        ``lesion_id`` is the index of its lesion in ``lesions``; its
        ``timepoint_id`` is the timepoint's ``order``.

    Raises
    ------
    CaseFormatError
        When a value cannot be held by a record (e.g. a short axis longer
        than the long axis of a new lesion).
    """
    patient = Patient(
        id=None,
        subject_id=case.id,
        first_dose_date=case.first_dose_date,
        criteria=case.criteria,
        confirmation_required=case.confirmation_required,
        min_sd_days=case.min_sd_days,
    )
    timepoints: list[Timepoint] = []
    lesions: list[Lesion] = []
    index_of: dict[str, int] = {}
    measurements: list[Measurement] = []
    kinds = (
        ("targets", LesionKind.TARGET),
        ("non_targets", LesionKind.NON_TARGET),
        ("new_lesions", LesionKind.NEW),
    )
    for order, tp in enumerate(case.timepoints):
        timepoints.append(_timepoint_record(tp, order))
        for key, kind in kinds:
            for i, entry in enumerate(getattr(tp, key)):
                if entry.id not in index_of:
                    index_of[entry.id] = len(lesions)
                    lesions.append(
                        Lesion(
                            id=None,
                            patient_id=None,
                            code=entry.id,
                            kind=kind,
                            organ=entry.organ,
                            tracking_uid=tracking_uid(case.id, entry.id),
                            location=entry.location,
                            nodal=entry.nodal,
                        )
                    )
                fields = (
                    _target_measurement(entry)
                    if kind is LesionKind.TARGET
                    else _other_measurement(entry)
                )
                try:
                    measurements.append(
                        Measurement(
                            id=None,
                            lesion_id=index_of[entry.id],
                            timepoint_id=order,
                            reader_id=None,
                            **fields,
                        )
                    )
                except InvalidRecordError as exc:
                    raise CaseFormatError(f"timepoints[{order}].{key}[{i}]", str(exc)) from None
    return patient, timepoints, lesions, measurements


def _timepoint_record(tp: CaseTimepoint, order: int) -> Timepoint:
    return Timepoint(
        id=None,
        patient_id=None,
        order=order,
        label=tp.label,
        scan_date=tp.date,
        cycle=tp.cycle,
        modality=tp.modality,
        slice_thickness_mm=_mm(tp.slice_thickness_um),
        contrast_phase=tp.contrast_phase,
    )


_RECORD_TO_STATUS = {
    MeasurementStatus.PRESENT: LesionStatus.PRESENT,
    MeasurementStatus.ABSENT: LesionStatus.ABSENT,
    MeasurementStatus.NOT_EVALUABLE: LesionStatus.NOT_EVALUATED,
    MeasurementStatus.UNEQUIVOCAL_PROGRESSION: LesionStatus.UNEQUIVOCAL_PROGRESSION,
    MeasurementStatus.FURTHER_INCREASE: LesionStatus.FURTHER_INCREASE,
}


def _target_entry(lesion: Lesion, m: Measurement) -> TargetEntry:
    first, second = (
        (m.short_axis_mm, m.long_axis_mm) if lesion.nodal else (m.long_axis_mm, m.short_axis_mm)
    )
    value = _um(first if first is not None else second)
    other = _um(second) if first is not None else None  # the axis that is not the diameter
    tstm = m.status is MeasurementStatus.TOO_SMALL
    if tstm or m.status in (MeasurementStatus.NOT_EVALUABLE, MeasurementStatus.PRESENT):
        value, other = None, _um(second)
    elif m.status is MeasurementStatus.ABSENT:
        value = value or 0
    return TargetEntry(
        id=lesion.code,
        organ=lesion.organ,
        nodal=lesion.nodal,
        diameter_um=value,
        tstm=tstm,
        fragments_um=tuple(_um(v) or 0 for v in m.fragments_mm),
        coalesced_into=m.coalesced_into,
        location=lesion.location,
        short_axis_um=None if lesion.nodal else other,
        long_axis_um=other if lesion.nodal else None,
        image=m.geometry,
    )


def _lesion_status(m: Measurement) -> LesionStatus:
    if m.status is MeasurementStatus.UNEQUIVOCAL_PROGRESSION and m.note == FURTHER_INCREASE_NOTE:
        return LesionStatus.FURTHER_INCREASE
    return _RECORD_TO_STATUS.get(m.status, LesionStatus.PRESENT)


def _non_target_entry(lesion: Lesion, m: Measurement) -> NonTargetEntry:
    return NonTargetEntry(
        id=lesion.code,
        organ=lesion.organ,
        status=_lesion_status(m),
        nodal=lesion.nodal,
        short_axis_um=_um(m.short_axis_mm),
        location=lesion.location,
        long_axis_um=_um(m.long_axis_mm),
        image=m.geometry,
    )


def _new_lesion_entry(lesion: Lesion, m: Measurement) -> NewLesionEntry:
    tstm = m.status is MeasurementStatus.TOO_SMALL
    return NewLesionEntry(
        id=lesion.code,
        organ=lesion.organ,
        nodal=lesion.nodal,
        equivocal=m.equivocal,
        diameter_um=None if tstm else _um(m.long_axis_mm),
        tstm=tstm,
        status=_lesion_status(m),
        short_axis_um=_um(m.short_axis_mm),
        location=lesion.location,
        image=m.geometry,
    )


def case_from_records(
    patient: Patient,
    timepoints: Sequence[Timepoint],
    lesions: Sequence[Lesion],
    measurements: Sequence[Measurement],
) -> Case:
    """Build the case the engine evaluates from stored (or unsaved) domain records.

    Parameters
    ----------
    patient : Patient
        The subject; gives the case id and the protocol settings.
    timepoints : Sequence[Timepoint]
        Its timepoints, in any order (sorted by ``order``; 0 is the baseline).
    lesions : Sequence[Lesion]
        Its lesions.
    measurements : Sequence[Measurement]
        One measurement per lesion and timepoint (the reader's); when there are
        several, the last one in the sequence wins.  Within a timepoint the
        lesions are listed in the order of their measurements.

    Returns
    -------
    Case
        The case; ``case_from_records(*case_to_records(c)) == c``.

    Raises
    ------
    CaseFormatError
        When a measurement points at a lesion or timepoint that is not given,
        or there is no timepoint.
    """
    ordered = sorted(timepoints, key=lambda tp: tp.order)
    if not ordered:
        raise CaseFormatError("timepoints", "at least the baseline timepoint is required")
    tp_key: dict[int | None, int] = {
        (tp.id if tp.id is not None else tp.order): n for n, tp in enumerate(ordered)
    }
    lesion_by_key: dict[int | None, Lesion] = {
        (lesion.id if lesion.id is not None else i): lesion for i, lesion in enumerate(lesions)
    }
    chosen: dict[tuple[int, str], tuple[int, Lesion, Measurement]] = {}
    for i, m in enumerate(measurements):
        lesion = lesion_by_key.get(m.lesion_id)
        if lesion is None:
            raise CaseFormatError(f"measurements[{i}].lesion_id", f"no lesion {m.lesion_id!r}")
        n = tp_key.get(m.timepoint_id)
        if n is None:
            raise CaseFormatError(
                f"measurements[{i}].timepoint_id", f"no timepoint {m.timepoint_id!r}"
            )
        key = (n, lesion.code)
        position = chosen[key][0] if key in chosen else i
        chosen[key] = (position, lesion, m)
    per_tp: list[list[tuple[int, Lesion, Measurement]]] = [[] for _ in ordered]
    for (n, _code), item in chosen.items():
        per_tp[n].append(item)
    case_timepoints = []
    for tp, items in zip(ordered, per_tp, strict=True):
        items.sort(key=lambda item: item[0])
        case_timepoints.append(
            CaseTimepoint(
                label=tp.label,
                date=tp.scan_date,
                targets=tuple(
                    _target_entry(les, m) for _, les, m in items if les.kind is LesionKind.TARGET
                ),
                non_targets=tuple(
                    _non_target_entry(les, m)
                    for _, les, m in items
                    if les.kind is LesionKind.NON_TARGET
                ),
                new_lesions=tuple(
                    _new_lesion_entry(les, m) for _, les, m in items if les.kind is LesionKind.NEW
                ),
                slice_thickness_um=_um(tp.slice_thickness_mm),
                modality=tp.modality,
                contrast_phase=tp.contrast_phase,
                cycle=tp.cycle,
            )
        )
    return Case(
        id=patient.subject_id,
        timepoints=tuple(case_timepoints),
        criteria=patient.criteria,
        confirmation_required=patient.confirmation_required,
        min_sd_days=patient.min_sd_days,
        first_dose_date=patient.first_dose_date,
    )
