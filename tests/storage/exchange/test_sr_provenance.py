"""Issue 16: the DICOM SR says which measurements an algorithm proposed (TID 4019 on the
diameters only when the reader accepted the proposal unchanged; a Comment in every case),
the report still validates, and reading it back gives semi-automatic measurements."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import highdicom as hd
import pydicom
from pydicom.dataset import Dataset

from recist.model import Lesion, LesionKind, Method, Patient, Timepoint
from storage.exchange.sr import build_timepoint_sr
from storage.exchange.sr_read import SrAlgorithm, _find_groups, read_sr, records_from_sr
from storage.exchange.timeline import (
    MANUAL,
    SEMI_AUTOMATIC,
    MeasurementProvenance,
    PatientTimeline,
)
from tests.storage.exchange.test_sr import READER, _geometry, _measured

ALGORITHM = "caliper-half-contrast-region"
PARAMETERS = {"margin_mm": 15.0, "hu_window": [-100, 200], "fill_holes": True}
ACCEPTED = MeasurementProvenance(
    SEMI_AUTOMATIC, ALGORITHM, "1.6", False, "", 12.5, parameters=PARAMETERS
)
MOVED = MeasurementProvenance(
    SEMI_AUTOMATIC, ALGORITHM, "1.6", False, "caliper moved", 8.25, parameters=PARAMETERS
)
BRUSHED = MeasurementProvenance(SEMI_AUTOMATIC, ALGORITHM, "1.6", True, "", 3.0)
UNKNOWN = MeasurementProvenance(SEMI_AUTOMATIC)


def _timeline(ct_slices: list[Dataset]) -> PatientTimeline:
    """T1 accepted as proposed, T2 caliper moved, T3 contour brushed, T4 not known, T5 manual."""
    tp = Timepoint(1, 1, 0, "baseline")
    lesions = tuple(
        Lesion(i, 1, f"T{i}", LesionKind.TARGET, "liver", f"2.25.{1000 + i}") for i in range(1, 6)
    )
    ms = tuple(
        replace(
            _measured(
                i,
                1,
                _geometry(
                    ct_slices[i - 1],
                    i - 1,
                    ((200.0, 210.0), (250.0, 230.0)),
                    ((220.0, 230.0), (230.0, 210.0)),
                ),
            ),
            id=40 + i,
            method=Method.SEMI_AUTO if i < 5 else Method.MANUAL,
        )
        for i in range(1, 6)
    )
    provenance = {41: ACCEPTED, 42: MOVED, 43: BRUSHED, 44: UNKNOWN, 45: MeasurementProvenance()}
    return PatientTimeline(
        Patient(1, "CRLM-001", trial="CRLM-01"),
        (tp,),
        lesions,
        ms,
        {},
        {7: READER},
        provenance=provenance,
    )


def _algorithm_items(num: Dataset) -> dict[str, list[str]]:
    """TID 4019 items under one NUM content item, by concept name."""
    found: dict[str, list[str]] = {}
    for child in num.get("ContentSequence", []):
        if child.ValueType == "TEXT" and child.RelationshipType == "HAS CONCEPT MOD":
            name = str(child.ConceptNameCodeSequence[0].CodeMeaning)
            found.setdefault(name, []).append(str(child.TextValue))
    return found


def _groups(ds: Dataset) -> dict[str, Dataset]:
    """The lesion groups of a report by tracking identifier."""
    out: dict[str, Dataset] = {}
    for item in _find_groups(ds.ContentSequence):
        codes = [
            str(c.TextValue)
            for c in item.ContentSequence
            if c.ValueType == "TEXT" and c.ConceptNameCodeSequence[0].CodeValue == "112039"
        ]
        out[codes[0]] = item
    return out


def _nums(group: Dataset) -> list[Dataset]:
    """The NUM items of a group but its Time Point Order."""
    return [
        c
        for c in group.ContentSequence
        if c.ValueType == "NUM" and c.ConceptNameCodeSequence[0].CodeValue != "126073"
    ]


def _comments(group: Dataset) -> list[str]:
    return [
        str(c.TextValue)
        for c in group.ContentSequence
        if c.ValueType == "TEXT" and c.ConceptNameCodeSequence[0].CodeValue == "121106"
    ]


def test_only_an_accepted_proposal_names_its_algorithm_on_the_diameters(
    ct_slices: list[Dataset], tmp_path: Path, dciodvfy: str
) -> None:
    timeline = _timeline(ct_slices)
    path = tmp_path / "sr.dcm"
    build_timepoint_sr(timeline, timeline.timepoints[0], ct_slices).save_as(path)
    groups = _groups(pydicom.dcmread(path))
    accepted = [_algorithm_items(n) for n in _nums(groups["T1"])]
    assert len(accepted) == 2  # Long axis and Short axis
    for items in accepted:
        assert items["Algorithm Name"] == [ALGORITHM]
        assert items["Algorithm Version"] == ["1.6"]
        assert items["Algorithm Parameters"] == [
            "fill_holes=true",
            "hu_window=[-100,200]",
            "margin_mm=15.0",
        ]
    for code in ("T2", "T3", "T4", "T5"):  # edited, brushed, not known, manual: no TID 4019
        assert all(_algorithm_items(n) == {} for n in _nums(groups[code])), code
    assert _comments(groups["T1"]) == [
        f"Measurement method: semi-automatic, {ALGORITHM} 1.6, accepted as proposed, volume 12.5 mL"
    ]
    assert _comments(groups["T2"]) == [
        f"Measurement method: semi-automatic, {ALGORITHM} 1.6, edited by the reader "
        "(caliper moved), volume 8.2 mL"
    ]
    assert "edited by the reader (contour edited)" in _comments(groups["T3"])[0]
    assert _comments(groups["T4"]) == [
        "Measurement method: semi-automatic, edits by the reader not known"
    ]
    assert _comments(groups["T5"]) == []
    # validates as before, and highdicom decodes the measurement groups
    result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    assert [line for line in output.splitlines() if line.startswith("Error")] == [], output
    sr = hd.sr.Comprehensive3DSR.from_dataset(pydicom.dcmread(path))
    decoded = sr.content.get_image_measurement_groups()
    assert len(decoded) == 5
    t1 = next(g for g in decoded if str(g.tracking_identifier) == "T1")
    names = [str(m.name.meaning) for m in t1.get_measurements()]
    assert names[-2:] == ["Long axis", "Short axis"]


def test_read_back_as_semi_automatic_with_the_algorithm(
    ct_slices: list[Dataset], tmp_path: Path
) -> None:
    timeline = _timeline(ct_slices)
    path = tmp_path / "sr.dcm"
    build_timepoint_sr(timeline, timeline.timepoints[0], ct_slices).save_as(path)
    report = read_sr(path)
    groups = {g.tracking_identifier: g for g in report.groups}
    want = SrAlgorithm(
        ALGORITHM, "1.6", ("fill_holes=true", "hu_window=[-100,200]", "margin_mm=15.0")
    )
    assert groups["T1"].long_axis is not None
    assert groups["T1"].long_axis.algorithm == want
    assert groups["T1"].short_axis is not None
    assert groups["T1"].short_axis.algorithm == want
    assert groups["T2"].long_axis is not None
    assert groups["T2"].long_axis.algorithm is None
    assert groups["T2"].measurement_method.endswith("(caliper moved), volume 8.2 mL")
    assert [groups[f"T{i}"].semi_automatic for i in range(1, 6)] == [True] * 4 + [False]
    images = {str(ds.SOPInstanceUID): ds for ds in ct_slices}
    pairs = records_from_sr(report, images=images)
    methods = {lesion.code: m.method for lesion, m in pairs}
    assert methods == {
        "T1": Method.SEMI_AUTO,
        "T2": Method.SEMI_AUTO,
        "T3": Method.SEMI_AUTO,
        "T4": Method.SEMI_AUTO,
        "T5": Method.MANUAL,
    }
    notes = {lesion.code: m.note for lesion, m in pairs}
    assert notes["T1"].endswith(
        f"; semi-automatic, {ALGORITHM} 1.6, accepted as proposed, volume 12.5 mL"
    )
    assert "semi-automatic" not in notes["T5"]
    # the values themselves read back as before
    for lesion, m in pairs:
        want_m = timeline.measurement(int(lesion.code[1:]), 1)
        assert want_m is not None
        assert m.long_axis_mm == round(want_m.long_axis_mm or 0, 3)


def test_algorithm_alone_marks_a_group_semi_automatic() -> None:
    """Another writer's TID 4019 on a Long axis, without Caliper's Comment."""
    from storage.exchange.sr_read import SrGroup, SrMeasurement

    axis = SrMeasurement("Long axis", "G-A185", 20.0, "mm", algorithm=SrAlgorithm("x", "2"))
    group = SrGroup("T1", None, "liver", None, None, None, axis, None)
    assert group.semi_automatic
    assert not replace(group, long_axis=replace(axis, algorithm=None)).semi_automatic
    assert MANUAL == "manual"
