"""The 32 worked cases of rules.md (cases-public.json) reproduce exactly, and round-trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import recist

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "cases-public.json").read_text(encoding="utf-8")
)


def _ids() -> list[str]:
    return [c["id"] for c in CASES]


def test_there_are_32_public_cases() -> None:
    assert len(CASES) == 32


@pytest.mark.parametrize("data", CASES, ids=_ids())
def test_public_case_matches_expected(data: dict[str, Any]) -> None:
    result = recist.result_to_dict(recist.evaluate(recist.case_from_dict(data)))
    expected = data["expected"]
    for key, value in expected.items():
        if key == "timepoints":
            assert [tp["label"] for tp in result["timepoints"]] == [tp["label"] for tp in value]
            for want, got in zip(value, result["timepoints"], strict=True):
                for field, v in want.items():
                    assert got[field] == v, f"{want['label']}.{field}: {got['reason']}"
        else:
            assert result[key] == value, key


@pytest.mark.parametrize("data", CASES, ids=_ids())
def test_public_case_round_trips_through_dict_and_records(data: dict[str, Any]) -> None:
    case = recist.case_from_dict(data)
    as_dict = recist.case_to_dict(case)
    assert recist.case_from_dict(as_dict) == case
    back = recist.case_from_records(*recist.case_to_records(case))
    assert back == case
    assert recist.case_to_dict(back) == as_dict
    assert json.loads(json.dumps(as_dict)) == as_dict


@pytest.mark.parametrize("data", CASES, ids=_ids())
def test_every_follow_up_has_a_reason_and_the_result_is_json(data: dict[str, Any]) -> None:
    result = recist.evaluate(recist.case_from_dict(data))
    for tp in result.timepoints[1:]:
        assert tp.reason.startswith(str(tp.overall))
    text = json.dumps(recist.result_to_dict(result))
    assert "NaN" not in text
