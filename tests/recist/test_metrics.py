"""Colorectal metrics (rules.md §9): ETS, DpR, time to nadir, Chun morphologic response."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import recist
from recist.chun import MorphologicResponse as M
from recist.chun import MorphologyError, consensus, morphologic_response, summarise_morphology
from recist.metrics import ets_class

from .helpers import sums_case

CASES = {
    c["id"][:3]: c
    for c in json.loads((Path(__file__).parent / "data" / "cases-public.json").read_text())
}


def metrics(data: dict[str, Any]) -> dict[str, Any]:
    return recist.evaluate(recist.case_from_dict(data)).metrics or {}


def test_worked_values_r01_and_r15() -> None:
    r01 = metrics(CASES["R01"])
    assert (
        r01["ets"]["pct"],
        r01["ets"]["ets"],
        r01["dpr"]["pct"],
        r01["dpr"]["time_to_nadir_days"],
    ) == (-38.0, True, 45.1, 126)
    r15 = metrics(CASES["R15"])
    assert (
        r15["ets"]["pct"],
        r15["ets"]["ets"],
        r15["dpr"]["pct"],
        r15["dpr"]["time_to_nadir_days"],
    ) == (-10.9, False, 10.9, 63)


def test_growth_only_dpr_is_signed_and_truncated() -> None:
    m = metrics(sums_case([50.0, 61.0]))
    assert (
        m["ets"]["pct"],
        m["dpr"]["pct"],
        m["dpr"]["pct_truncated"],
        m["dpr"]["time_to_nadir_days"],
    ) == (22.0, -22.0, 0.0, 63)


def test_ets_window_and_not_evaluable() -> None:
    early = metrics(sums_case([50.0, 30.0], days=[0, 28]))
    assert early["ets"]["evaluable"] is False
    assert "not evaluable" in early["ets"]["reason"]
    edge = metrics(sums_case([50.0, 40.0], days=[0, 35]))
    assert (edge["ets"]["day"], edge["ets"]["ets"]) == (35, True)  # exactly -20 % is ETS


def test_dpr_stops_at_first_pd() -> None:
    m = metrics(sums_case([50.0, 40.0, 48.0, 20.0]))
    assert m["dpr"]["pct"] == 20.0
    assert m["dpr"]["label"] == "TP1"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (-10, "ETS"),
        (-9, "minor shrinkage"),
        (0, "minor shrinkage"),
        (1, "minor growth"),
        (9, "minor growth"),
        (10, "PD"),
    ],
)
def test_fire3_classes(delta: int, expected: str) -> None:
    assert ets_class(delta * 1000, 50_000) == expected


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (3, 1, M.OPTIMAL),
        (2, 1, M.OPTIMAL),
        (3, 2, M.INCOMPLETE),
        (3, 3, M.NONE),
        (2, 2, M.NONE),
        (1, 1, M.NONE),
        (1, 3, M.NONE),
        (2, 3, M.NONE),
        (1, 2, M.NONE),
    ],
)
def test_chun_groups(before: int, after: int, expected: M) -> None:
    assert morphologic_response(before, after) is expected


def test_chun_bad_group_and_summary() -> None:
    with pytest.raises(MorphologyError, match="S4 follow-up"):
        morphologic_response(3, 4, lesion="S4")
    summary = summarise_morphology(
        {"L1": (3, 1), "L2": (3, 2)}, global_groups=(3, 1), modality="MR"
    )
    assert summary.per_lesion == {"L1": M.OPTIMAL, "L2": M.INCOMPLETE}
    assert summary.global_response is M.OPTIMAL
    assert summary.most_advanced_response is M.INCOMPLETE  # worst group 3 -> 2
    assert summary.flags
    assert "off-label" in summary.flags[0]
    assert consensus({"a": M.OPTIMAL, "b": M.OPTIMAL, "c": M.NONE}) is M.OPTIMAL
    assert consensus({"a": M.OPTIMAL, "b": M.NONE}) is None


def test_bor_up_to_each_timepoint_and_duration_of_response() -> None:
    data = dict(CASES["R07"])  # PR at C3 and C6, PD at C9
    m = metrics(data)
    assert [(e["label"], e["bor"]) for e in m["bor_up_to"]] == [
        ("C3", "PR"),
        ("C6", "PR"),
        ("C9", "PR"),
    ]
    assert m["duration_of_response_days"] == 126  # 2026-03-09 -> 2026-07-13
    confirmed = metrics({**CASES["R47"]})
    assert [e["bor"] for e in confirmed["bor_up_to"]] == ["SD", "PR", "PR", "PR"]
    assert confirmed["bor_up_to"][1]["confirmed"] is True
    assert confirmed["duration_of_response_days"] is None
