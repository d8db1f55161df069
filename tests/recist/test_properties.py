"""Invariants checked on generated timelines (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recist
from recist.arith import pct
from recist.responses import Response as R

RANK = {R.CR: 0, R.PR: 1, R.SD: 2, R.NON_CR_NON_PD: 2, R.NE: 3, R.PD: 4, R.NED: 0}
BOR_RANK = {R.CR: 0, R.PR: 1, R.SD: 2, R.NON_CR_NON_PD: 3, R.PD: 4, R.NED: 5, R.NE: 6}
START = date(2026, 1, 5)

tenths = st.integers(min_value=0, max_value=1500)
value = st.one_of(tenths.map(lambda t: t / 10), st.just("TSTM"), st.none())
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def timelines(draw: Any) -> dict[str, Any]:
    n_targets = draw(st.integers(1, 5))
    nodal = [draw(st.booleans()) for _ in range(n_targets)]
    n_tp = draw(st.integers(2, 7))
    n_nt = draw(st.integers(0, 2))
    statuses = st.sampled_from(["present", "absent", "not_evaluated", "unequivocal_progression"])
    tps = []
    day = 0
    for k in range(n_tp):
        targets = []
        for i in range(n_targets):
            v = draw(st.integers(100, 1500).map(lambda t: t / 10)) if k == 0 else draw(value)
            targets.append(
                {"id": f"T{i}", "organ": f"o{i % 3}", "nodal": nodal[i], "diameter_mm": v}
            )
        nts = [
            {
                "id": f"NT{j}",
                "organ": "peritoneum",
                "status": "present" if k == 0 else draw(statuses),
            }
            for j in range(n_nt)
        ]
        news = []
        if k and draw(st.integers(0, 9)) == 0:
            news.append(
                {
                    "id": f"N{k}",
                    "organ": "lung",
                    "equivocal": draw(st.booleans()),
                    "diameter_mm": 8.0,
                }
            )
        tps.append(
            {
                "label": f"TP{k}",
                "date": (START + timedelta(days=day)).isoformat(),
                "slice_thickness_mm": 5,
                "targets": targets,
                "non_targets": nts,
                "new_lesions": news,
            }
        )
        day += draw(st.integers(14, 70))
    return {
        "id": "H",
        "criteria": draw(st.sampled_from(["RECIST1.1", "iRECIST"])),
        "confirmation_required": draw(st.booleans()),
        "min_sd_days": 42,
        "timepoints": tps,
    }


@FAST
@given(timelines())
def test_evaluation_never_raises_and_round_trips(data: dict[str, Any]) -> None:
    case = recist.case_from_dict(data)
    assert recist.case_from_records(*recist.case_to_records(case)) == case
    assert recist.case_from_dict(recist.case_to_dict(case)) == case
    result = recist.evaluate(case)
    out = recist.result_to_dict(result)
    assert len(out["timepoints"]) == len(data["timepoints"])
    for tp in result.timepoints[1:]:
        assert tp.reason
    assert recist.evaluate(case) == result  # deterministic


@FAST
@given(timelines(), st.integers(1, 6))
def test_adding_a_new_lesion_never_improves_the_response(data: dict[str, Any], where: int) -> None:
    data["criteria"] = "RECIST1.1"
    k = 1 + where % (len(data["timepoints"]) - 1)
    before = recist.evaluate(recist.case_from_dict(data))
    data["timepoints"][k]["new_lesions"].append(
        {"id": "ADDED", "organ": "brain", "equivocal": False, "diameter_mm": 9.0}
    )
    after = recist.evaluate(recist.case_from_dict(data))
    assert after.timepoints[k].overall is R.PD
    assert BOR_RANK[after.best_overall_response] >= min(
        BOR_RANK[before.best_overall_response], BOR_RANK[R.PD]
    )
    assert after.progression_date is not None
    assert before.progression_date is None or after.progression_date <= before.progression_date


@FAST
@given(
    st.lists(st.integers(100, 1500), min_size=1, max_size=5),
    st.lists(st.integers(0, 1500), min_size=5, max_size=5),
    st.fractions(min_value=0, max_value=1),
)
def test_scaling_diameters_down_never_worsens_target_response(
    base: list[int], follow: list[int], f: Fraction
) -> None:
    follow = follow[: len(base)]
    scaled = [int(v * f) for v in follow]

    def target(values: list[int]) -> R:
        data = {
            "id": "S",
            "timepoints": [
                {
                    "label": "BL",
                    "date": "2026-01-05",
                    "targets": [
                        {"id": f"T{i}", "organ": f"o{i}", "diameter_mm": b / 10}
                        for i, b in enumerate(base)
                    ],
                },
                {
                    "label": "C3",
                    "date": "2026-03-09",
                    "targets": [
                        {"id": f"T{i}", "organ": f"o{i}", "diameter_mm": v / 10}
                        for i, v in enumerate(values)
                    ],
                },
            ],
        }
        got = recist.evaluate(recist.case_from_dict(data)).timepoints[1].target
        assert got is not None
        return got

    assert RANK[target(scaled)] <= RANK[target(follow)]


@FAST
@given(st.integers(1, 300).map(lambda k: k * 10))
def test_pr_boundary_is_exact(baseline_tenths: int) -> None:
    exact = baseline_tenths * 7 // 10  # exactly 70 % of baseline, in tenths of a mm
    for follow, expected in ((exact, R.PR), (exact + 1, R.SD)):
        data = {
            "id": "B",
            "timepoints": [
                {
                    "label": "BL",
                    "date": "2026-01-05",
                    "targets": [
                        {"id": "T1", "organ": "liver", "diameter_mm": baseline_tenths / 10}
                    ],
                },
                {
                    "label": "C3",
                    "date": "2026-03-09",
                    "targets": [{"id": "T1", "organ": "liver", "diameter_mm": follow / 10}],
                },
            ],
        }
        result = recist.evaluate(recist.case_from_dict(data)).timepoints[1]
        if follow == exact and follow > 0:
            assert result.target is expected
            assert result.pct_from_baseline == Decimal("-30.0")
        elif follow > 0:
            assert result.target is (R.SD if 10 * follow > 7 * baseline_tenths else R.PR)


@FAST
@given(st.integers(50, 3000).map(lambda k: k * 5))
def test_pd_boundary_is_exact(nadir_tenths: int) -> None:
    exact = nadir_tenths * 6 // 5  # exactly +20 %, and >= 5 mm because nadir >= 25 mm
    for follow, expected in ((exact, R.PD), (exact - 1, R.SD)):
        data = {
            "id": "B",
            "timepoints": [
                {
                    "label": "BL",
                    "date": "2026-01-05",
                    "targets": [{"id": "T1", "organ": "liver", "diameter_mm": nadir_tenths / 10}],
                },
                {
                    "label": "C3",
                    "date": "2026-03-09",
                    "targets": [{"id": "T1", "organ": "liver", "diameter_mm": follow / 10}],
                },
            ],
        }
        assert recist.evaluate(recist.case_from_dict(data)).timepoints[1].target is expected


@FAST
@given(st.integers(-(10**6), 10**6), st.integers(1, 10**6))
def test_display_percent_is_half_away_from_zero(delta: int, base: int) -> None:
    exact = Fraction(1000 * abs(delta), base)  # tenths of a percent, unrounded
    magnitude = int(exact + Fraction(1, 2))  # floor(x + 1/2) = round half up on |x|
    expected = Decimal(-magnitude if delta < 0 else magnitude) / 10
    assert pct(delta, base) == expected


def test_display_percent_known_values() -> None:
    assert pct(-597, 2000) == Decimal("-29.9")  # -29.85 rounds away from zero
    assert pct(597, 2000) == Decimal("29.9")
    assert pct(5400, 27000) == Decimal("20.0")
    assert pct(1, 0) is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.floats(allow_nan=True)
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@FAST
@given(
    timelines(),
    st.integers(0, 400),
    st.sampled_from(
        ["id", "diameter_mm", "status", "date", "organ", "nodal", "targets", "label", "equivocal"]
    ),
    json_values,
)
def test_corrupted_cases_give_case_format_errors_only(
    data: dict[str, Any], where: int, key: str, junk: Any
) -> None:
    # put junk into one field somewhere in an otherwise valid timeline
    entries = [tp for tp in data["timepoints"]] + [
        e
        for tp in data["timepoints"]
        for part in ("targets", "non_targets", "new_lesions")
        for e in tp[part]
    ]
    entries[where % len(entries)][key] = junk
    try:
        case = recist.case_from_dict(data)
    except recist.CaseFormatError as exc:
        error = exc
    else:
        recist.result_to_dict(recist.evaluate(case))
        return
    assert error.field
    assert error.problem


@FAST
@given(json_values)
def test_any_json_value_is_a_case_or_a_case_format_error(junk: Any) -> None:
    try:
        case = recist.case_from_dict(junk)
    except recist.CaseFormatError as exc:
        error = exc
    else:
        assert case.timepoints
        return
    assert str(error)
