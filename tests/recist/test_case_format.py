"""The case format: every malformed field gives a CaseFormatError naming it; round trips."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import recist
from recist.model import Criteria

from .helpers import case, new, tp


def good() -> dict[str, Any]:
    return case(
        tp("BL", 0, {"T1": 30.0, "T2": 20.0}, {"NT1": "present"}),
        tp(
            "C3",
            63,
            {"T1": 20.0, "T2": "TSTM"},
            {"NT1": "absent"},
            [new("N1", 4.0, equivocal=True)],
        ),
        tp("C6", 126, {"T1": None, "T2": 0.0}, {"NT1": "not_evaluated"}),
    )


def edit(path: str, value: Any) -> dict[str, Any]:
    data = good()
    target: Any = data
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


_DELETE = object()

BAD = [
    ("timepoints[2].targets[0].diameter_mm", "abc", "TSTM"),
    ("timepoints[2].targets[0].diameter_mm", -1, ">= 0"),
    ("timepoints[2].targets[0].diameter_mm", float("nan"), "finite"),
    ("timepoints[2].targets[0].diameter_mm", 5000, "<= 2000"),
    ("timepoints[2].targets[0].diameter_mm", True, "number"),
    ("timepoints[1].non_targets[0].status", "gone", "expected one of"),
    ("timepoints[1].non_targets[0].status", _DELETE, "is required"),
    ("timepoints[1].date", "09/03/2026", "ISO date"),
    ("timepoints[1].label", "", "non-empty"),
    ("timepoints[0].targets[1].id", _DELETE, "is required"),
    ("timepoints[0].targets[1].nodal", "yes", "true or false"),
    ("timepoints[1].new_lesions[0].equivocal", 1, "true or false"),
    ("criteria", "WHO", "RECIST1.1 or iRECIST"),
    ("min_sd_days", -3, "whole number"),
    ("confirmation_required", "no", "true or false"),
    ("timepoints", [], "baseline"),
    ("timepoints", "x", "a list"),
    ("id", _DELETE, "is required"),
    ("timepoints[1].targets", {"T1": 3}, "a list"),
]


@pytest.mark.parametrize(("field", "value", "words"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_bad_field_is_named(field: str, value: Any, words: str) -> None:
    with pytest.raises(recist.CaseFormatError) as info:
        recist.case_from_dict(edit(field, value))
    assert info.value.field == field
    assert words in str(info.value)
    assert str(info.value).startswith(field)


def test_not_an_object() -> None:
    with pytest.raises(recist.CaseFormatError, match="expected an object"):
        recist.case_from_dict([1, 2])  # type: ignore[arg-type]


CATEGORY_ERRORS = [
    (
        "target listed twice",
        lambda d: d["timepoints"][1]["targets"].append(dict(d["timepoints"][1]["targets"][0])),
        "timepoints[1].targets[2].id",
        "listed twice",
    ),
    (
        "target becomes non-target",
        lambda d: d["timepoints"][1]["non_targets"].append(
            {"id": "T1", "organ": "x", "status": "present"}
        ),
        "timepoints[1].non_targets[1].id",
        "once target",
    ),
    (
        "target first seen at follow-up",
        lambda d: d["timepoints"][1]["targets"].append(
            {"id": "T9", "organ": "x", "diameter_mm": 3}
        ),
        "timepoints[1].targets[2].id",
        "not in the baseline",
    ),
    (
        "new lesion at baseline",
        lambda d: d["timepoints"][0]["new_lesions"].append(new("N9", 3.0)),
        "timepoints[0].new_lesions[0].id",
        "baseline cannot",
    ),
    (
        "split and coalesced",
        lambda d: d["timepoints"][1]["targets"][0].update(fragments_mm=[1, 2], coalesced_into="T2"),
        "timepoints[1].targets[0]",
        "both split",
    ),
    (
        "TSTM absent new lesion",
        lambda d: d["timepoints"][1]["new_lesions"][0].update(diameter_mm="TSTM", status="absent"),
        "timepoints[1].new_lesions[0].diameter_mm",
        "TSTM needs status present",
    ),
]


@pytest.mark.parametrize(
    ("name", "mutate", "field", "words"), CATEGORY_ERRORS, ids=[c[0] for c in CATEGORY_ERRORS]
)
def test_structural_errors(name: str, mutate: Any, field: str, words: str) -> None:
    data = good()
    mutate(data)
    with pytest.raises(recist.CaseFormatError) as info:
        recist.case_from_dict(data)
    assert (info.value.field, words in info.value.problem) == (field, True)


def test_values_are_exact_micrometres_and_tstm_is_kept() -> None:
    c = recist.case_from_dict(edit("timepoints[1].targets[0].diameter_mm", 14.4))
    assert c.timepoints[1].targets[0].diameter_um == 14400
    assert str(c.timepoints[1].targets[0].diameter_mm) == "14.4"
    assert c.timepoints[1].targets[1].tstm
    assert c.timepoints[1].targets[1].diameter_um is None
    assert recist.case_to_dict(c)["timepoints"][1]["targets"][1]["diameter_mm"] == "TSTM"


def test_unknown_keys_are_ignored_and_defaults_apply() -> None:
    data = good()
    data["source"] = "x"
    data["expected"] = {"best_overall_response": "PR"}
    del data["criteria"], data["min_sd_days"]
    c = recist.case_from_dict(data)
    assert (c.criteria, c.min_sd_days) == (Criteria.RECIST11, 42)


def test_round_trip_keeps_everything_listed_in_the_contract() -> None:
    data = good()
    data["first_dose_date"] = "2026-01-10"
    data["criteria"] = "iRECIST"
    data["timepoints"][1]["targets"][0].update(fragments_mm=[12.0, 8.0])
    data["timepoints"][1]["new_lesions"].append(
        new("N2", 12.0, nodal=True, organ="lymph node", short_axis_mm=11.0)
    )
    data["timepoints"][2]["non_targets"][0]["status"] = "further_increase"
    data["timepoints"][2]["targets"][1].update(coalesced_into="T1")
    data["timepoints"][2].update(modality="MR", contrast_phase="portal venous", cycle=6)
    c = recist.case_from_dict(data)
    as_dict = recist.case_to_dict(c)
    assert recist.case_from_dict(copy.deepcopy(as_dict)) == c
    back = recist.case_from_records(*recist.case_to_records(c))
    assert recist.case_to_dict(back) == as_dict


# -- issue 11 point 13: the short axis and the image reference travel with the case ---------

IMAGE = {
    "series_instance_uid": "1.2.840.1.7",
    "sop_instance_uid": "1.2.840.1.7.21",
    "slice_index": 20,
    "long_axis": {
        "start_px": [101.5, 200.25],
        "end_px": [131.0, 210.0],
        "start_lps_mm": [-60.5, 40.125, -101.0],
        "end_lps_mm": [-38.3, 47.0, -101.0],
    },
    "short_axis": {
        "start_px": [118.0, 198.0],
        "end_px": [114.0, 212.0],
        "start_lps_mm": [-48.0, 38.0, -101.0],
        "end_lps_mm": [-51.0, 48.6, -101.0],
    },
}


def with_geometry() -> dict[str, Any]:
    data = good()
    t1 = data["timepoints"][0]["targets"][0]
    t1.update(diameter_mm=22.2, short_axis_mm=11.1, image=copy.deepcopy(IMAGE))
    data["timepoints"][0]["targets"].append(
        {
            "id": "L1",
            "organ": "lymph node",
            "nodal": True,
            "diameter_mm": 16.0,
            "long_axis_mm": 24.5,
            "image": copy.deepcopy(IMAGE),
        }
    )
    data["timepoints"][1]["targets"].append(
        {"id": "L1", "organ": "lymph node", "nodal": True, "diameter_mm": 9.0}
    )
    data["timepoints"][2]["targets"].append(
        {"id": "L1", "organ": "lymph node", "nodal": True, "diameter_mm": 8.0}
    )
    data["timepoints"][0]["non_targets"][0].update(long_axis_mm=31.0, image=copy.deepcopy(IMAGE))
    data["timepoints"][1]["new_lesions"][0].update(short_axis_mm=3.0, image=copy.deepcopy(IMAGE))
    return data


def test_point13_short_axis_and_image_survive_every_round_trip() -> None:
    data = with_geometry()
    c = recist.case_from_dict(data)
    t1, _t2, l1 = c.timepoints[0].targets
    assert (t1.diameter_um, t1.short_axis_um) == (22200, 11100)
    assert (l1.diameter_um, l1.long_axis_um) == (16000, 24500)
    assert t1.image is not None
    assert t1.image.sop_instance_uid == "1.2.840.1.7.21"
    assert t1.image.long_axis.start_lps_mm == (-60.5, 40.125, -101.0)
    as_dict = recist.case_to_dict(c)
    assert as_dict["timepoints"][0]["targets"][0]["short_axis_mm"] == 11.1
    assert as_dict["timepoints"][0]["targets"][0]["image"] == IMAGE
    assert recist.case_from_dict(copy.deepcopy(as_dict)) == c
    patient, tps, lesions, ms = recist.case_to_records(c)
    by = {(lesions[m.lesion_id].code, m.timepoint_id): m for m in ms}
    t1_base = by[("T1", 0)]
    assert (t1_base.long_axis_mm, t1_base.short_axis_mm) == (22.2, 11.1)
    assert t1_base.geometry is not None
    assert t1_base.geometry.short_axis is not None
    assert t1_base.geometry.sop_instance_uid == "1.2.840.1.7.21"
    assert (by[("L1", 0)].short_axis_mm, by[("L1", 0)].long_axis_mm) == (16.0, 24.5)
    assert by[("NT1", 0)].long_axis_mm == 31.0
    assert by[("N1", 1)].geometry is not None
    back = recist.case_from_records(patient, tps, lesions, ms)
    assert recist.case_to_dict(back) == as_dict
    assert back == c


def test_point13_geometry_does_not_change_the_response() -> None:
    data = with_geometry()
    bare = copy.deepcopy(data)
    for t in bare["timepoints"]:
        for key in ("targets", "non_targets", "new_lesions"):
            for entry in t[key]:
                for extra in ("image", "long_axis_mm", "short_axis_mm"):
                    if not (key == "new_lesions" and extra == "short_axis_mm"):
                        entry.pop(extra, None)
    plain = recist.evaluate(recist.case_from_dict(bare))
    drawn = recist.evaluate(recist.case_from_dict(data))
    assert recist.result_to_dict(drawn)["timepoints"] == recist.result_to_dict(plain)["timepoints"]


def test_point13_frame_number_is_carried_when_the_model_has_it() -> None:
    from recist.model import DrawnGeometry

    data = with_geometry()
    data["timepoints"][0]["targets"][0]["image"]["frame_number"] = 3
    c = recist.case_from_dict(data)
    if "frame_number" not in DrawnGeometry.__dataclass_fields__:
        pytest.skip("recist.model.DrawnGeometry has no frame_number yet (issue 11 point 1)")
    assert c.timepoints[0].targets[0].image.frame_number == 3  # type: ignore[union-attr]
    assert recist.case_to_dict(c)["timepoints"][0]["targets"][0]["image"]["frame_number"] == 3


IMAGE_BAD = [
    ("timepoints[0].targets[0].short_axis_mm", "x", "number"),
    ("timepoints[0].targets[0].short_axis_mm", 30.0, "longer than"),
    ("timepoints[0].targets[0].long_axis_mm", 30.0, "diameter_mm"),
    ("timepoints[0].targets[2].short_axis_mm", 20.0, "diameter_mm"),
    ("timepoints[0].targets[0].image", "1.2.3", "expected an object"),
    ("timepoints[0].targets[0].image.series_instance_uid", _DELETE, "is required"),
    ("timepoints[0].targets[0].image.sop_instance_uid", 7, "string"),
    ("timepoints[0].targets[0].image.slice_index", -1, ">= 0"),
    ("timepoints[0].targets[0].image.frame_number", 0, ">= 1"),
    ("timepoints[0].targets[0].image.long_axis", _DELETE, "is required"),
    ("timepoints[0].targets[0].image.long_axis.end_lps_mm", [1.0, 2.0], "3 numbers"),
    ("timepoints[0].targets[0].image.long_axis.start_px", [1.0, "a"], "2 numbers"),
    ("timepoints[0].targets[0].image.short_axis.start_lps_mm", [1, 2, float("inf")], "3 numbers"),
    ("timepoints[0].non_targets[0].long_axis_mm", -3, ">= 0"),
]


@pytest.mark.parametrize(("field", "value", "words"), IMAGE_BAD, ids=[b[0] for b in IMAGE_BAD])
def test_point13_bad_geometry_fields_are_named(field: str, value: Any, words: str) -> None:
    data = with_geometry()
    target: Any = data
    parts = field.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    with pytest.raises(recist.CaseFormatError) as info:
        recist.case_from_dict(data)
    assert info.value.field == field
    assert words in info.value.problem, info.value.problem
