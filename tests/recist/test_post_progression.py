"""Timepoints after the first progression (issue 19; docs/RESPONSE_RULES.md).

They are shown but marked ``post_progression`` and say so in their reason; a lesion
back after the CR that preceded the PD stays PD (reappearance rule, rules.md §4.2
step 3 and §4.3) instead of being re-graded by the sum rule. iRECIST keeps its own
rules after iUPD.
"""

from __future__ import annotations

import json
from typing import Any

import recist
from recist import Settings, case_from_dict, evaluate, result_to_dict
from recist.responses import Response as R

from .helpers import case, new, sums_case, tp


def _cr_then_back(criteria: str = "RECIST1.1") -> dict[str, Any]:
    """The issue's timeline: CR, CR, T1 back at 5 mm (PD), then 2.5 mm, then gone."""
    return case(
        tp("BL", 0, {"T1": 20}, {"NT1": "present"}),
        tp("C3", 63, {"T1": 0}, {"NT1": "absent"}),
        tp("C6", 126, {"T1": 0}, {"NT1": "absent"}),
        tp("C9", 189, {"T1": 5}, {"NT1": "present"}),
        tp("C12", 252, {"T1": 2.5}, {"NT1": "present"}),
        tp("C15", 315, {"T1": 0}, {"NT1": "absent"}),
        criteria=criteria,
    )


def _run(data: dict[str, Any], **settings: Any) -> recist.CaseResult:
    return evaluate(case_from_dict(data), Settings(**settings) if settings else None)


def test_reappeared_target_stays_pd_after_progression() -> None:
    result = _run(_cr_then_back())
    c12 = result.timepoints[4]
    assert (c12.label, c12.target, c12.non_target, c12.overall) == ("C12", R.PD, R.PD, R.PD)
    assert "T1 2.5 mm" in c12.reason
    assert [tp.post_progression for tp in result.timepoints] == [False] * 4 + [True, True]


def test_post_progression_reason_names_the_progression() -> None:
    result = _run(_cr_then_back())
    c12, c15 = result.timepoints[4:]
    assert c12.reason.startswith("PD (after progression at C9; not used for BOR): ")
    assert c15.overall is R.CR  # everything gone again: shown as it is, but flagged
    assert c15.reason.startswith("CR (after progression at C9; not used for BOR): ")
    assert "after progression" not in result.timepoints[3].reason


def test_bor_and_progression_date_do_not_change() -> None:
    result = _run(_cr_then_back())
    assert result.best_overall_response is R.CR
    assert result.progression_date == result.timepoints[3].date


def test_non_target_present_again_after_cr_stays_pd_non_target_only() -> None:
    data = case(
        tp("BL", 0, non_targets={"NT1": "present"}),
        tp("C3", 63, non_targets={"NT1": "absent"}),
        tp("C6", 126, non_targets={"NT1": "present"}),
        tp("C9", 189, non_targets={"NT1": "present"}),
    )
    result = _run(data)
    assert [tp.overall for tp in result.timepoints[1:]] == [R.CR, R.PD, R.PD]
    assert result.timepoints[3].non_target is R.PD
    assert "present again after an overall CR" in result.timepoints[3].reason
    assert result.timepoints[3].post_progression


def test_node_back_at_10_mm_after_cr_stays_pd_and_normal_node_does_not() -> None:
    data = case(
        tp("BL", 0, {"T1": 20}, {"NL1": ("present", 16)}),
        tp("C3", 63, {"T1": 0}, {"NL1": ("present", 8)}),
        tp("C6", 126, {"T1": 0}, {"NL1": ("present", 12)}),
        tp("C9", 189, {"T1": 0}, {"NL1": ("present", 11)}),
        tp("C12", 252, {"T1": 0}, {"NL1": ("present", 9)}),
    )
    result = _run(data)
    assert [tp.non_target for tp in result.timepoints[1:]] == [R.CR, R.PD, R.PD, R.CR]
    assert [tp.post_progression for tp in result.timepoints[1:]] == [False, False, True, True]


def test_sum_rule_progression_later_shrinkage_is_flagged_not_hidden() -> None:
    # no CR before the PD: the later timepoint is graded as usual but marked
    result = _run(sums_case([100, 60, 80, 65]))
    assert [tp.overall for tp in result.timepoints[1:]] == [R.PR, R.PD, R.PR]
    last = result.timepoints[3]
    assert last.post_progression
    assert last.reason.startswith("PR (after progression at TP2; not used for BOR): target PR")
    assert result.best_overall_response is R.PR


def test_no_flag_without_progression_or_when_pd_is_last() -> None:
    assert not any(tp.post_progression for tp in _run(sums_case([100, 60, 65])).timepoints)
    assert not any(tp.post_progression for tp in _run(sums_case([100, 60, 80])).timepoints)


def test_result_dict_carries_the_flag() -> None:
    out = result_to_dict(_run(_cr_then_back()))
    assert [t["post_progression"] for t in out["timepoints"]] == [False] * 4 + [True, True]
    json.dumps(out)


def test_small_reappearance_gets_no_contradicting_near_pd_warning() -> None:
    # T1 back at 3 mm after a CR is PD; "only +3 mm (< 5 mm): not PD" would contradict it
    data = case(
        tp("BL", 0, {"T1": 20}),
        tp("C3", 63, {"T1": 0}),
        tp("C6", 126, {"T1": 3}),
    )
    c6 = _run(data).timepoints[2]
    assert c6.overall is R.PD
    assert [w.code for w in c6.warnings] == ["W17_CR_FOLLOWED_BY_DISEASE"]


def test_cr_warning_only_at_the_first_progression() -> None:
    result = _run(_cr_then_back())
    codes = [[w.code for w in tp.warnings] for tp in result.timepoints]
    assert "W17_CR_FOLLOWED_BY_DISEASE" in codes[3]
    assert "W17_CR_FOLLOWED_BY_DISEASE" not in codes[4]


def test_no_awaiting_confirmation_note_on_a_post_progression_response() -> None:
    data = sums_case([100, 60, 80, 65], confirm=True)
    last = _run(data).timepoints[-1]
    assert last.post_progression
    assert "W15_AWAITING_CONFIRMATION" not in [w.code for w in last.warnings]


def test_irecist_keeps_its_own_rules_after_iupd() -> None:
    """iRECIST resets after an unconfirmed iUPD (Seymour 2017), as before issue 19."""
    result = _run(_cr_then_back("iRECIST"))
    follow = result.timepoints[1:]
    assert [tp.overall for tp in follow] == [R.ICR, R.ICR, R.IUPD, R.IPR, R.ICR]
    assert not any(tp.post_progression for tp in result.timepoints)  # no iCPD
    # the RECIST 1.1 track is the same whichever criterion is primary
    recist11 = _run(_cr_then_back())
    assert [tp.recist_overall for tp in follow] == [tp.overall for tp in recist11.timepoints[1:]]
    assert [tp.irecist_overall for tp in recist11.timepoints[1:]] == [tp.overall for tp in follow]


def test_irecist_post_progression_starts_after_icpd() -> None:
    data = case(
        tp("BL", 0, {"T1": 50}),
        tp("C3", 63, {"T1": 30}),
        tp("C6", 126, {"T1": 40}, new=[new("N1", 12)]),
        tp("C9", 168, {"T1": 40}, new=[new("N1", 20)]),
        tp("C12", 231, {"T1": 20}),
        criteria="iRECIST",
    )
    result = _run(data)
    assert [tp.overall for tp in result.timepoints[1:]] == [R.IPR, R.IUPD, R.ICPD, R.ICPD]
    assert [tp.post_progression for tp in result.timepoints[1:]] == [False, False, False, True]
    assert result.timepoints[4].reason.startswith(
        "iCPD (after iCPD at C9; not used for BOR): progression already confirmed"
    )
