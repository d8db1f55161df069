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
