"""iRECIST rules of rules.md §8 (Seymour 2017, iRECIST FAQ), including O-13 and O-14."""

from __future__ import annotations

from typing import Any

import recist
from recist.responses import Response as R

from .helpers import case, new, tp


def run(data: dict[str, Any], **settings: Any) -> recist.CaseResult:
    return recist.evaluate(recist.case_from_dict(data), recist.Settings(**settings))


def overall(data: dict[str, Any], **settings: Any) -> list[str]:
    return [str(t.overall) for t in run(data, **settings).timepoints[1:]]


def icase(*tps: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return case(*tps, criteria="iRECIST", **kw)


def two(a: float, b: float) -> dict[str, float]:
    return {"T1": a, "T2": b}


def test_increases_accumulate_against_the_iupd_reference() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)),
        tp("C3", 63, two(36, 25)),
        tp("C3+5w", 98, two(38, 26)),
        tp("C3+10w", 133, two(40, 27)),
    )
    result = run(data)
    assert overall(data) == ["iUPD", "iUPD", "iCPD"]
    assert result.progression_date.isoformat() == "2026-03-09"  # type: ignore[union-attr]
    assert result.irecist.first_iupd_date.isoformat() == "2026-03-09"  # type: ignore[union-attr]
    assert str(result.best_overall_response) == "iCPD"


def test_scan_less_than_28_days_after_iupd_is_not_used_to_confirm() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)),
        tp("C3", 63, two(36, 25)),
        tp("C3+2w", 77, two(45, 30)),
        tp("C3+5w", 98, two(37, 25)),
    )
    result = run(data)
    assert overall(data) == ["iUPD", "iUPD", "iUPD"]
    assert "W18_IRECIST_TIMING" in [w.code for w in result.timepoints[2].warnings]
    assert result.progression_date is None


def test_late_confirmation_is_used_but_flagged() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)), tp("C3", 63, two(36, 25)), tp("C3+10w", 133, two(40, 27))
    )
    result = run(data)
    assert overall(data) == ["iUPD", "iCPD"]
    assert "W18_IRECIST_TIMING" in [w.code for w in result.timepoints[2].warnings]


def test_o13_shrinkage_before_new_lesion_and_no_change_stays_iupd() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)),
        tp("C3", 63, two(18, 12), new=[new("N1", 11.0)]),
        tp("C3+5w", 98, two(18, 12), new=[new("N1", 11.0)]),
    )
    assert overall(data) == ["iUPD", "iUPD"]


def test_o13_strict_table2_keeps_iupd_despite_further_shrinkage() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)),
        tp("C3", 63, two(24, 16), new=[new("N1", 11.0)]),
        tp("C3+5w", 98, two(17, 11), new=[new("N1", 11.0)]),
    )
    assert overall(data) == ["iUPD", "iPR"]
    assert overall(data, irecist_strict_table2=True) == ["iUPD", "iUPD"]


def test_new_lesion_after_target_iupd_confirms() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)),
        tp("C3", 63, two(36, 25)),
        tp("C3+5w", 98, two(36, 25), new=[new("N1", 6.0)]),
    )
    assert overall(data) == ["iUPD", "iCPD"]


def test_non_target_trigger_needs_further_increase() -> None:
    base = tp("BL", 0, two(30, 20), {"NT1": "present"})
    iupd = tp("C3", 63, two(29, 19), {"NT1": "unequivocal_progression"})
    same = tp("C3+5w", 98, two(29, 19), {"NT1": "unequivocal_progression"})
    more = tp("C3+10w", 133, two(29, 19), {"NT1": "further_increase"})
    assert overall(icase(base, iupd, same, more)) == ["iUPD", "iUPD", "iCPD"]


def test_nlt_limits_two_per_organ_and_nlt_sum_is_separate() -> None:
    news = [
        new("N1", 20.0, organ="liver"),
        new("N2", 15.0, organ="liver"),
        new("N3", 12.0, organ="liver"),
    ]
    grown = [
        new("N1", 20.0, organ="liver"),
        new("N2", 15.0, organ="liver"),
        new("N3", 13.0, organ="liver"),
    ]
    data = icase(
        tp("BL", 0, two(30, 20)),
        tp("C3", 63, two(30, 20), new=news),
        tp("C3+5w", 98, two(30, 20), new=grown),
    )
    result = run(data)
    # N3 is the third liver lesion: a new-lesion non-target, so any growth confirms
    assert overall(data) == ["iUPD", "iCPD"]
    assert result.timepoints[1].sum_mm == 50  # new lesions never enter the target SOD


def test_reset_then_new_lesion_sum_progression_is_a_new_iupd() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)),
        tp("C3", 63, two(24, 16), new=[new("N1", 11.0)]),
        tp("C3+5w", 98, two(17, 11), new=[new("N1", 11.0)]),
        tp("C6", 126, two(17, 11), new=[new("N1", 17.0)]),
    )
    assert overall(data) == ["iUPD", "iPR", "iUPD"]


def test_icr_needs_new_lesions_resolved() -> None:
    data = icase(
        tp("BL", 0, {"T1": 15.0}),
        tp("C3", 63, {"T1": 10.0}, new=[new("N1", 11.0)]),
        tp("C3+5w", 98, {"T1": 0.0}, new=[new("N1", 11.0)]),
    )
    # targets CR but N1 persists; target fell >= 5 mm so the iUPD resets, to iPR
    assert overall(data) == ["iUPD", "iPR"]


def test_ne_while_pending_keeps_iupd_for_ibor() -> None:
    data = icase(
        tp("BL", 0, two(30, 20)), tp("C3", 63, two(36, 25)), tp("C3+5w", 98, two(None, None))
    )
    result = run(data)
    assert overall(data) == ["iUPD", "NE"]
    assert result.best_overall_response is R.IUPD
    assert result.recist is not None
    assert result.recist.progression_date is not None


def test_recist_case_also_reports_the_irecist_track() -> None:
    data = case(tp("BL", 0, two(30, 20)), tp("C3", 63, two(36, 25)), tp("C3+5w", 98, two(40, 27)))
    assert run(data, with_irecist=False).irecist is None  # the parallel track can be switched off
    result = run(data)
    assert [str(t.overall) for t in result.timepoints[1:]] == ["PD", "PD"]
    assert [str(t.irecist_overall) for t in result.timepoints[1:]] == ["iUPD", "iCPD"]
    assert result.irecist is not None
    assert result.irecist.best_overall_response is R.ICPD
