"""Issue 11 point 4 (engine): a timepoint dated before the baseline, or a label used twice,
is refused by the case parser with a CaseFormatError naming the field."""

from __future__ import annotations

import pytest

import recist

from .helpers import case, tp


def _error(data: dict) -> recist.CaseFormatError:
    with pytest.raises(recist.CaseFormatError) as info:
        recist.case_from_dict(data)
    return info.value


def test_point4_engine_refuses_timepoint_before_baseline() -> None:
    data = case(tp("BL", 0, {"T1": 20.0}), tp("C3", 63, {"T1": 18.0}), tp("C6", -10, {"T1": 15.0}))
    data["timepoints"][0]["date"] = "2004-06-13"
    data["timepoints"][1]["date"] = "2004-08-15"
    data["timepoints"][2]["date"] = "2004-01-01"
    error = _error(data)
    assert error.field == "timepoints[2].date"
    assert str(error).startswith("timepoints[2].date: 2004-01-01 is before the baseline 2004-06-13")
    assert "correct the date" in str(error)


@pytest.mark.parametrize("second", ["C3", "c3 ", " C3"])
def test_point4_engine_refuses_same_label_twice(second: str) -> None:
    data = case(
        tp("BL", 0, {"T1": 20.0}), tp("C3", 63, {"T1": 18.0}), tp(second, 126, {"T1": 15.0})
    )
    error = _error(data)
    assert error.field == "timepoints[2].label"
    assert "already used by timepoints[1]" in error.problem


def test_point4_engine_keeps_same_day_and_out_of_order_follow_ups_as_warnings() -> None:
    # on the baseline day, or a follow-up earlier than the previous one (but after the
    # baseline): still read, with the W20 warning of rules.md §11 item 20
    data = case(tp("BL", 0, {"T1": 20.0}), tp("C3", 63, {"T1": 18.0}), tp("C2", 40, {"T1": 18.0}))
    result = recist.evaluate(recist.case_from_dict(data))
    assert [w.code for w in result.warnings].count("W20_TIMEPOINT_ORDER") == 1
    same_day = case(tp("BL", 0, {"T1": 20.0}), tp("C1", 0, {"T1": 18.0}))
    assert recist.case_from_dict(same_day).timepoints[1].label == "C1"
