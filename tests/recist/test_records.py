"""Mapping cases to domain records (recist.model) and back, as the database stores them."""

from __future__ import annotations

import dataclasses

import pytest

import recist
from recist.model import LesionKind, MeasurementStatus
from recist.records import FURTHER_INCREASE_NOTE, tracking_uid

from .helpers import case, new, tp


def sample() -> recist.Case:
    data = case(
        tp(
            "BL",
            0,
            {"T1": 30.0, "N1": 18.0},
            {"NT1": "present", "NT2": ("present", 12.0)},
            nodal=("N1",),
        ),
        tp(
            "C3",
            63,
            {"T1": "TSTM", "N1": 0.0},
            {"NT1": "unequivocal_progression", "NT2": ("absent", 8.0)},
            [new("X1", 7.5, equivocal=True)],
            nodal=("N1",),
        ),
        tp("C6", 126, {"T1": None, "N1": 9.0}, {"NT1": "further_increase"}, nodal=("N1",)),
    )
    return recist.case_from_dict(data)


def test_unsaved_records_link_by_position_and_have_no_ids() -> None:
    patient, timepoints, lesions, measurements = recist.case_to_records(sample())
    assert patient.id is None
    assert patient.subject_id == "TEST"
    assert [t.order for t in timepoints] == [0, 1, 2]
    assert [(lesion.code, lesion.kind) for lesion in lesions] == [
        ("T1", LesionKind.TARGET),
        ("N1", LesionKind.TARGET),
        ("NT1", LesionKind.NON_TARGET),
        ("NT2", LesionKind.NON_TARGET),
        ("X1", LesionKind.NEW),
    ]
    assert all(m.id is None for m in measurements)
    by = {(lesions[m.lesion_id].code, m.timepoint_id): m for m in measurements}
    assert by[("T1", 1)].status is MeasurementStatus.TOO_SMALL
    assert by[("T1", 2)].status is MeasurementStatus.NOT_EVALUABLE
    assert by[("N1", 1)].status is MeasurementStatus.ABSENT
    assert by[("N1", 0)].short_axis_mm == 18.0
    assert by[("N1", 0)].long_axis_mm is None
    assert by[("NT1", 2)].status is MeasurementStatus.FURTHER_INCREASE
    assert by[("X1", 1)].equivocal
    assert by[("X1", 1)].long_axis_mm == 7.5


def test_tracking_uid_is_deterministic_dicom_uid() -> None:
    uid = tracking_uid("S1", "T1")
    assert uid == tracking_uid("S1", "T1") != tracking_uid("S1", "T2")
    assert uid.startswith("2.25.")
    assert len(uid) <= 64
    assert uid[5:].isdigit()


def test_saved_records_link_by_id_in_any_order() -> None:
    patient, timepoints, lesions, measurements = recist.case_to_records(sample())
    tps = [dataclasses.replace(t, id=100 + t.order) for t in timepoints]
    les = [dataclasses.replace(lesion, id=200 + i) for i, lesion in enumerate(lesions)]
    ms = [
        dataclasses.replace(
            m, id=300 + i, lesion_id=200 + m.lesion_id, timepoint_id=100 + m.timepoint_id
        )
        for i, m in enumerate(measurements)
    ]
    back = recist.case_from_records(patient, list(reversed(tps)), les, ms)
    assert back == sample()


def test_last_measurement_of_a_lesion_and_timepoint_wins() -> None:
    patient, timepoints, lesions, measurements = recist.case_to_records(sample())
    extra = dataclasses.replace(measurements[0], long_axis_mm=31.0)
    back = recist.case_from_records(patient, timepoints, lesions, [*measurements, extra])
    assert back.timepoints[0].targets[0].diameter_um == 31000


def test_measurement_pointing_nowhere_is_a_clear_error() -> None:
    patient, timepoints, lesions, measurements = recist.case_to_records(sample())
    bad = dataclasses.replace(measurements[0], lesion_id=99)
    with pytest.raises(recist.CaseFormatError, match="no lesion 99") as info:
        recist.case_from_records(patient, timepoints, lesions, [bad])
    assert info.value.field == "measurements[0].lesion_id"


def test_session_style_nodal_measurement_uses_the_short_axis() -> None:
    patient, timepoints, lesions, measurements = recist.case_to_records(sample())
    both = [
        dataclasses.replace(m, long_axis_mm=25.0, status=MeasurementStatus.MEASURED)
        if lesions[m.lesion_id].code == "N1" and m.timepoint_id == 0
        else m
        for m in measurements
    ]
    back = recist.case_from_records(patient, timepoints, lesions, both)
    assert back.timepoints[0].targets[1].diameter_um == 18000


def test_evaluating_from_records_equals_evaluating_the_case() -> None:
    c = sample()
    assert recist.result_to_dict(
        recist.evaluate(recist.case_from_records(*recist.case_to_records(c)))
    ) == recist.result_to_dict(recist.evaluate(c))


def test_legacy_further_increase_note_still_reads_as_further_increase() -> None:
    case = sample()
    patient, timepoints, lesions, measurements = recist.case_to_records(case)
    legacy = [
        dataclasses.replace(
            m, status=MeasurementStatus.UNEQUIVOCAL_PROGRESSION, note=FURTHER_INCREASE_NOTE
        )
        if m.status is MeasurementStatus.FURTHER_INCREASE
        else m
        for m in measurements
    ]
    assert legacy != measurements
    rebuilt = recist.case_from_records(patient, timepoints, lesions, legacy)
    assert recist.case_to_dict(rebuilt) == recist.case_to_dict(case)
