"""RECIST 1.1 rules of rules.md §3-5, one table row per rule."""

from __future__ import annotations

from typing import Any

import pytest

import recist
from recist.case import LesionStatus
from recist.responses import Response as R
from recist.rules11 import nontarget_response, overall_response

from .helpers import case, new, sums_case, tp


def run(data: dict[str, Any], **settings: Any) -> recist.CaseResult:
    return recist.evaluate(
        recist.case_from_dict(data), recist.Settings(**settings) if settings else None
    )


def overall(data: dict[str, Any], **settings: Any) -> list[str]:
    return [str(t.overall) for t in run(data, **settings).timepoints[1:]]


# (name, sums, expected target per follow-up, expected pct_from_baseline of the last)
TARGET_TABLE = [
    ("PR at exactly -30 % (float trap 19.6/28)", [28.0, 19.6], ["PR"], -30.0),
    ("-29.85 % is SD, shown as -29.9", [200.0, 140.3], ["SD"], -29.9),
    ("+20 % and +5.4 mm is PD (float trap 32.4/27)", [27.0, 32.4], ["PD"], 20.0),
    ("+20 % but only +4 mm is not PD", [20.0, 24.0], ["SD"], 20.0),
    ("+5 mm but only +10 % is not PD", [50.0, 55.0], ["SD"], 10.0),
    ("PD against the nadir while below baseline", [100.0, 60.0, 72.0], ["PR", "PD"], -28.0),
    ("0 mm everywhere is CR", [20.0, 0.0], ["CR"], -100.0),
    ("TSTM counts 5 mm and is not CR", [15.0, "TSTM"], ["PR"], -66.7),
    ("measured 3 mm counts 3 mm", [10.0, 3.0], ["PR"], -70.0),
    ("reappearance after an overall CR is PD", [20.0, 0.0, 3.0], ["CR", "PD"], -85.0),
    (
        "nadir 0: +4 mm is not PD without a prior overall CR... but CR then 4 mm is",
        [20.0, 0.0, 4.0],
        ["CR", "PD"],
        -80.0,
    ),
    ("null target is NE", [20.0, None], ["NE"], None),
    ("-30.0 % exactly (70/100) is PR", [100.0, 70.0], ["PR"], -30.0),
    ("63 <= 0.7 x 90 is PR (float trap)", [90.0, 63.0], ["PR"], -30.0),
]


@pytest.mark.parametrize(
    ("name", "sums", "targets", "pct"), TARGET_TABLE, ids=[r[0] for r in TARGET_TABLE]
)
def test_target_rule_table(
    name: str, sums: list[Any], targets: list[str], pct: float | None
) -> None:
    result = run(sums_case(sums))
    assert [str(t.target) for t in result.timepoints[1:]] == targets
    last = recist.result_to_dict(result)["timepoints"][-1]
    assert last["pct_from_baseline"] == pct


def test_incomplete_timepoint_with_provable_pd_uses_the_lower_bound() -> None:
    data = case(
        tp("BL", 0, {"T1": 20.0, "T2": 20.0, "T3": 10.0}),
        tp("C3", 63, {"T1": 40.0, "T2": 20.0, "T3": None}),
    )
    res = recist.result_to_dict(run(data))["timepoints"][1]
    assert (res["target"], res["overall"], res["sum_mm"], res["pct_from_baseline"]) == (
        "PD",
        "PD",
        60.0,
        20.0,
    )
    assert "T3" in res["reason"]
    assert "provable" in res["reason"]


def test_incomplete_timepoint_never_becomes_the_nadir() -> None:
    data = case(
        tp("BL", 0, {"T1": 30.0, "T2": 30.0}),
        tp("C3", 63, {"T1": 10.0, "T2": None}),
        tp("C6", 126, {"T1": 30.0, "T2": 26.0}),
    )
    res = recist.result_to_dict(run(data))["timepoints"]
    assert res[1]["target"] == "NE"
    assert res[1]["pct_from_nadir"] is None
    assert res[2]["nadir_mm"] == 60.0
    assert res[2]["target"] == "SD"


def test_reappearance_without_prior_overall_cr_is_only_pd_by_the_sum_rule() -> None:
    data = case(
        tp("BL", 0, {"T1": 20.0}, {"NT1": "present"}),
        tp("C3", 63, {"T1": 0.0}, {"NT1": "present"}),
        tp("C6", 126, {"T1": 4.0}, {"NT1": "present"}),
        tp("C9", 189, {"T1": 5.0}, {"NT1": "present"}),
    )
    assert overall(data) == ["PR", "PR", "PD"]


def test_nodal_target_growing_below_10mm_stays_cr_with_a_near_pd_warning() -> None:
    data = case(
        tp("BL", 0, {"T1": 20.0, "N1": 18.0}, nodal=("N1",)),
        tp("C3", 63, {"T1": 0.0, "N1": 4.0}, nodal=("N1",)),
        tp("C6", 126, {"T1": 0.0, "N1": 9.0}, nodal=("N1",)),
    )
    result = run(data)
    assert [str(t.target) for t in result.timepoints[1:]] == ["CR", "CR"]
    assert "W11_NEAR_PD" in [w.code for w in result.timepoints[2].warnings]


def test_split_lesion_uses_diameter_and_coalesced_lesion_counts_zero() -> None:
    data = case(
        tp("BL", 0, {"T1": 30.0, "T2": 20.0}),
        tp("C3", 63, {"T1": 30.0, "T2": 20.0}),
    )
    data["timepoints"][1]["targets"][0].update(diameter_mm=24.0, fragments_mm=[14.0, 10.0])
    data["timepoints"][1]["targets"][1].update(diameter_mm=0.0, coalesced_into="T1")
    result = run(data)
    assert result.timepoints[1].sum_mm == 24


# non-target statuses -> category (rules.md §4.3)
NT_TABLE = [
    (["present"], [None], False, R.NON_CR_NON_PD),
    (["absent"], [None], False, R.CR),
    (["absent", "not_evaluated"], [None, None], False, R.NE),
    (["unequivocal_progression", "not_evaluated"], [None, None], False, R.PD),
    (["present"], [8000], False, R.CR),
    (["present"], [11000], False, R.NON_CR_NON_PD),
    (["present"], [11000], True, R.PD),
    (["present"], [9000], True, R.CR),
    (["present"], [None], True, R.PD),
    (["further_increase"], [None], False, R.PD),
]


@pytest.mark.parametrize(("statuses", "short_axes", "after_cr", "expected"), NT_TABLE)
def test_nontarget_table(
    statuses: list[str], short_axes: list[int | None], after_cr: bool, expected: R
) -> None:
    nodal = [sa is not None for sa in short_axes]
    ids = [f"NT{i}" for i in range(len(statuses))]
    got, reason = nontarget_response(
        [LesionStatus(s) for s in statuses], nodal, short_axes, ids, after_cr
    )
    assert got is expected
    assert reason


# Table 1 and Table 2 of Eisenhauer 2009 (rules.md §4.5)
OVERALL_TABLE = [
    (R.CR, R.CR, True, R.PD),
    (R.PD, R.CR, False, R.PD),
    (R.SD, R.PD, False, R.PD),
    (R.CR, R.CR, False, R.CR),
    (R.CR, None, False, R.CR),
    (R.CR, R.NON_CR_NON_PD, False, R.PR),
    (R.CR, R.NE, False, R.PR),
    (R.PR, R.NE, False, R.PR),
    (R.PR, R.NON_CR_NON_PD, False, R.PR),
    (R.SD, R.NE, False, R.SD),
    (R.NE, R.NON_CR_NON_PD, False, R.NE),
    (R.NE, None, False, R.NE),
    (None, R.NON_CR_NON_PD, False, R.NON_CR_NON_PD),
    (None, R.CR, False, R.CR),
    (None, R.NE, False, R.NE),
    (None, R.PD, False, R.PD),
    (None, R.NE, True, R.PD),
    (None, None, False, R.NED),
    (None, None, True, R.PD),
]


@pytest.mark.parametrize(("target", "non_target", "new_lesion", "expected"), OVERALL_TABLE)
def test_overall_tables(
    target: R | None, non_target: R | None, new_lesion: bool, expected: R
) -> None:
    assert overall_response(target, non_target, new_lesion) is expected


def test_new_lesion_is_pd_whatever_is_missing() -> None:
    data = case(
        tp("BL", 0, {"T1": 30.0}, {"NT1": "present"}),
        tp("C3", 63, {"T1": None}, {"NT1": "not_evaluated"}, [new("N1", 8.0)]),
    )
    assert overall(data) == ["PD"]
    assert run(data).progression_date.isoformat() == "2026-03-09"  # type: ignore[union-attr]


def test_no_imaging_at_a_timepoint_is_ne_with_null_sum() -> None:
    data = case(tp("BL", 0, {"T1": 30.0}), tp("C3", 63, {}))
    res = recist.result_to_dict(run(data))["timepoints"][1]
    assert (res["overall"], res["sum_mm"]) == ("NE", None)


def test_equivocal_new_lesion_confirmed_later_is_pd_from_the_first_scan() -> None:
    data = case(
        tp("BL", 0, {"T1": 30.0}),
        tp("C3", 63, {"T1": 20.0}, new=[new("N1", 4.0, equivocal=True)]),
        tp("C6", 126, {"T1": 20.0}, new=[new("N1", 9.0)]),
    )
    hindsight = run(data)
    assert [str(t.overall) for t in hindsight.timepoints[1:]] == ["PD", "PD"]
    assert hindsight.progression_date.isoformat() == "2026-03-09"  # type: ignore[union-attr]
    assert "W21_HINDSIGHT_REVISION" in [w.code for w in hindsight.timepoints[1].warnings]
    prospective = run(data, hindsight=False)
    assert [str(t.overall) for t in prospective.timepoints[1:]] == ["PR", "PD"]
    assert prospective.progression_date.isoformat() == "2026-05-11"  # type: ignore[union-attr]


def test_open_equivocal_new_lesion_is_not_pd_and_warns() -> None:
    data = case(
        tp("BL", 0, {"T1": 30.0}), tp("C3", 63, {"T1": 20.0}, new=[new("N1", 4.0, equivocal=True)])
    )
    result = run(data)
    assert str(result.timepoints[1].overall) == "PR"
    assert "W12_EQUIVOCAL_NEW_LESION_OPEN" in [w.code for w in result.timepoints[1].warnings]


@pytest.mark.parametrize(
    ("size", "expected"),
    [(8.0, "SD"), (12.0, "SD"), (15.0, "PD")],
    ids=["normal node", "10-15 mm equivocal", "15 mm new node"],
)
def test_new_nodes(size: float, expected: str) -> None:
    data = case(
        tp("BL", 0, {"T1": 30.0}),
        tp("C3", 63, {"T1": 28.0}, new=[new("N1", size, nodal=True, organ="lymph node")]),
    )
    assert overall(data) == [expected]


def test_new_node_10_15_confirmed_by_growth_is_pd_from_first_scan() -> None:
    node = {"nodal": True, "organ": "lymph node"}
    data = case(
        tp("BL", 0, {"T1": 30.0}),
        tp("C3", 63, {"T1": 28.0}, new=[new("N1", 12.0, **node)]),
        tp("C6", 126, {"T1": 28.0}, new=[new("N1", 16.0, **node)]),
    )
    assert overall(data) == ["PD", "PD"]
    assert overall(data, new_node_10_15_equivocal=False) == ["PD", "PD"]


def test_no_disease_at_baseline_is_ned_until_a_new_lesion() -> None:
    data = case(tp("BL", 0), tp("C3", 63), tp("C6", 126, new=[new("N1", 12.0)]))
    result = run(data)
    assert overall(data) == ["NED", "PD"]
    assert str(result.best_overall_response) == "PD"  # O-23: PD ranks above NED
