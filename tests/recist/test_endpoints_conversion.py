"""Hand-worked cases: liver response, Child-Pugh, conversion criteria and MPR (issue 15).

Every expected value below was worked out by hand from the protocol text and the
Pugh 1973 table (docs/ENDPOINTS.md), not by running the code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from recist import case_from_dict
from recist.endpoints import (
    Ascites,
    ChildPughInputs,
    ConversionRecord,
    CriterionStatus,
    Encephalopathy,
    MdtOutcome,
    Procedure,
    ResectedMetastasis,
    SurgeryRecord,
    assess_conversion,
    assess_mpr,
    child_pugh,
    liver_response,
)
from recist.errors import InvalidRecordError
from recist.responses import Response
from tests.recist.helpers import case, new, tp

D = Decimal
ORGANS = {"T1": "liver", "T2": "liver", "T3": "lung", "NT1": "liver", "NT2": "peritoneum"}


def _liver_case(*tps: dict) -> object:
    return case_from_dict(case(*tps))


# -- liver response --------------------------------------------------------------------------


def test_liver_pr_while_overall_sd() -> None:
    # liver T1 50 + T2 30 = 80 -> 30 + 26 = 56: 10*56 = 560 <= 7*80 = 560 -> liver PR (-30 %)
    # overall: 80 + lung T3 40 = 120 -> 56 + 44 = 100: -16.7 % -> SD
    c = _liver_case(
        tp("BL", 0, {"T1": 50, "T2": 30, "T3": 40}, {"NT1": "present"}, organs=ORGANS),
        tp("C3", 63, {"T1": 30, "T2": 26, "T3": 44}, {"NT1": "present"}, organs=ORGANS),
    )
    liver = liver_response(c)
    assert liver.applicable
    assert liver.baseline_sum_mm == 80
    c3 = liver.at("C3")
    assert c3 is not None
    assert c3.target is Response.PR
    assert c3.response is Response.PR
    assert c3.pct_from_baseline == D("-30.0")


def test_new_lung_lesion_is_not_liver_progression_but_new_liver_lesion_is() -> None:
    base = tp("BL", 0, {"T1": 50, "T3": 40}, organs=ORGANS)
    lung = _liver_case(base, tp("C3", 63, {"T1": 30, "T3": 40}, new=[new("N1", 12)], organs=ORGANS))
    assert liver_response(lung).at("C3").response is Response.PR
    liver_new = _liver_case(
        base, tp("C3", 63, {"T1": 30, "T3": 40}, new=[new("N1", 12, organ="liver")], organs=ORGANS)
    )
    assert liver_response(liver_new).at("C3").response is Response.PD


def test_no_liver_lesion_at_baseline_is_not_applicable() -> None:
    c = _liver_case(tp("BL", 0, {"T3": 40}, organs=ORGANS), tp("C3", 63, {"T3": 20}, organs=ORGANS))
    liver = liver_response(c)
    assert not liver.applicable
    assert liver.best() is None


def test_best_liver_response_stops_at_liver_pd_and_at_the_mdt_date() -> None:
    c = _liver_case(
        tp("BL", 0, {"T1": 50}, organs=ORGANS),
        tp("C3", 63, {"T1": 40}, organs=ORGANS),  # -20 %: SD
        tp("C6", 126, {"T1": 34}, organs=ORGANS),  # -32 %: PR
    )
    liver = liver_response(c)
    assert liver.best().label == "C6"
    mdt_before_c6 = date(2026, 1, 5).toordinal() + 100
    assert liver.best(date.fromordinal(mdt_before_c6)).label == "C3"


# -- Child-Pugh --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bili", "unit", "alb", "alb_unit", "inr", "asc", "enc", "score", "klass"),
    [
        # all 1-point values: 5, A
        ("10", "umol/L", "40", "g/L", "1.0", "none", "none", 5, "A"),
        # 34.2 umol/L = 2 mg/dL exactly -> 2 points; 35 g/L = 3.5 g/dL -> 2 points: 7, B
        ("34.2", "umol/L", "35", "g/L", "1.0", "none", "none", 7, "B"),
        # 34.1 umol/L < 2 mg/dL -> 1; 35.1 g/L > 3.5 -> 1; INR 1.69 -> 1: 5, A
        ("34.1", "umol/L", "35.1", "g/L", "1.69", "none", "none", 5, "A"),
        # 3.0 mg/dL -> 2; 2.8 g/dL -> 2; INR 2.3 -> 2: 1+... = 2+2+2+1+1 = 8, B
        ("3.0", "mg/dL", "2.8", "g/dL", "2.3", "none", "none", 8, "B"),
        # 51.4 umol/L > 3 mg/dL -> 3; 27.9 g/L -> 3; INR 2.31 -> 3; mild 2; grade 1-2 2: 13, C
        ("51.4", "umol/L", "27.9", "g/L", "2.31", "mild", "grade 1-2", 13, "C"),
        # only INR 1.7 -> 2: 6, A
        ("15", "umol/L", "42", "g/L", "1.7", "none", "none", 6, "A"),
        # ascites moderate-severe 3 + encephalopathy grade 3-4 3: 1+1+1+3+3 = 9, B
        ("15", "umol/L", "42", "g/L", "1.0", "moderate-severe", "grade 3-4", 9, "B"),
    ],
)
def test_child_pugh_hand_worked(bili, unit, alb, alb_unit, inr, asc, enc, score, klass) -> None:
    r = child_pugh(ChildPughInputs(bili, unit, alb, alb_unit, inr, asc, enc))
    assert (r.score, r.child_class) == (score, klass)


def test_child_pugh_missing_components_are_named() -> None:
    r = child_pugh(ChildPughInputs(bilirubin=D(10), inr=D("1.0"), ascites=Ascites.NONE))
    assert r.score is None
    assert r.missing == ("albumin", "encephalopathy")


def test_child_pugh_refuses_an_albumin_in_the_wrong_unit() -> None:
    with pytest.raises(InvalidRecordError, match="albumin 35 g/dL.*unit"):
        ChildPughInputs(albumin=D(35), albumin_unit="g/dL")
    with pytest.raises(InvalidRecordError, match="bilirubin must be a number"):
        ChildPughInputs(bilirubin="ten")


# -- conversion criteria: at least 12 hand-worked cases, each criterion failing alone ----------

GOOD_LABS = ChildPughInputs(
    D(12), "umol/L", D(41), "g/L", D("1.1"), Ascites.NONE, Encephalopathy.NONE
)
CLASS_B = ChildPughInputs(
    D(40), "umol/L", D(30), "g/L", D("1.1"), Ascites.NONE, Encephalopathy.NONE
)
MDT = date(2026, 6, 1)


def _liver(pct_c3: int | None) -> object:
    """Liver response with one liver target of 100 mm, C3 at *pct_c3* % of baseline."""
    tps = [tp("BL", 0, {"T1": 100}, organs=ORGANS)]
    if pct_c3 is not None:
        tps.append(tp("C3", 63, {"T1": pct_c3}, organs=ORGANS))
    return liver_response(_liver_case(*tps))


def _record(**kw: object) -> ConversionRecord:
    values: dict[str, object] = {
        "mdt_date": MDT,
        "mdt_outcome": MdtOutcome.RESECTABLE,
        "procedures": (Procedure.RESECTION,),
        "tumour_free_achievable": True,
        "flr_pct": D(45),
        "child_pugh": GOOD_LABS,
        "other_labs_ok": True,
    }
    values.update(kw)
    return ConversionRecord(None, 1, **values)  # type: ignore[arg-type]


CONVERSION_CASES = [
    # id, liver C3 (% of baseline), record changes, met, {criterion: status} expected
    ("all met", 60, {}, True, {}),
    ("liver PR at exactly -30 %", 70, {}, True, {"LIVER_PR": "met"}),
    ("liver SD -29 % fails alone", 71, {}, False, {"LIVER_PR": "not met"}),
    ("liver PD fails alone", 130, {}, False, {"LIVER_PR": "not met"}),
    (
        "tumour-free not achievable fails alone",
        60,
        {"tumour_free_achievable": False},
        False,
        {"TUMOUR_FREE": "not met"},
    ),
    ("FLR exactly 40 % fails alone", 60, {"flr_pct": D(40)}, False, {"FLR": "not met"}),
    ("FLR 40.01 % is met", 60, {"flr_pct": D("40.01")}, True, {"FLR": "met"}),
    ("Child-Pugh B fails alone", 60, {"child_pugh": CLASS_B}, False, {"CHILD_PUGH_A": "not met"}),
    (
        "other labs not acceptable fails alone",
        60,
        {"other_labs_ok": False},
        False,
        {"OTHER_LABS": "not met"},
    ),
    ("FLR missing: undetermined", 60, {"flr_pct": None}, None, {"FLR": "missing"}),
    (
        "Child-Pugh albumin missing: undetermined",
        60,
        {"child_pugh": ChildPughInputs(D(12), "umol/L", None, "g/L", D("1.1"), "none", "none")},
        None,
        {"CHILD_PUGH_A": "missing"},
    ),
    ("no follow-up scan: liver missing", None, {}, None, {"LIVER_PR": "missing"}),
    (
        "achievable but no procedure planned: missing",
        60,
        {"procedures": ()},
        None,
        {"TUMOUR_FREE": "missing"},
    ),
    (
        "a failure wins over a missing input",
        60,
        {"flr_pct": D(30), "other_labs_ok": None},
        False,
        {"FLR": "not met", "OTHER_LABS": "missing"},
    ),
    (
        "ablation + SBRT plan is a tumour-free plan",
        60,
        {"procedures": (Procedure.SBRT, Procedure.ABLATION)},
        True,
        {"TUMOUR_FREE": "met"},
    ),
]


@pytest.mark.parametrize(
    ("pct_c3", "changes", "met", "statuses"),
    [c[1:] for c in CONVERSION_CASES],
    ids=[c[0] for c in CONVERSION_CASES],
)
def test_conversion_hand_worked(pct_c3, changes, met, statuses) -> None:
    result = assess_conversion(_record(**changes), _liver(pct_c3))
    assert result.met is met, result.reason
    by_code = {c.code: c.status for c in result.criteria}
    for code, status in statuses.items():
        assert by_code[code] == CriterionStatus(status), result.criteria
    # every criterion not named is met
    for code, status in by_code.items():
        if code not in statuses:
            assert status is CriterionStatus.MET, (code, result.criteria)


def test_each_criterion_fails_alone_at_least_once() -> None:
    alone = {next(iter(s)) for _, _, _, met, s in CONVERSION_CASES if met is False and len(s) == 1}
    assert alone == {"LIVER_PR", "TUMOUR_FREE", "FLR", "CHILD_PUGH_A", "OTHER_LABS"}


def test_liver_response_after_the_mdt_is_not_used() -> None:
    # PR only at C3 on day 63 = 2026-03-09; an MDT on 2026-03-01 saw no PR yet
    result = assess_conversion(_record(mdt_date=date(2026, 3, 1)), _liver(60))
    by_code = {c.code: c for c in result.criteria}
    assert by_code["LIVER_PR"].status is CriterionStatus.MISSING
    assert "up to the MDT on 2026-03-01" in by_code["LIVER_PR"].reason


def test_reasons_and_missing_inputs_are_named() -> None:
    result = assess_conversion(
        _record(flr_pct=D(40), mdt_date=None, other_labs_ok=None), _liver(60)
    )
    assert "FLR 40 % does not exceed 40 %" in result.reason
    assert "other labs" in result.missing
    assert "MDT decision date" in result.missing
    assert result.notes == (
        "the MDT judged the patient resectable, but the conversion criteria are not met",
    )
    nothing = assess_conversion(None, _liver(60))
    assert nothing.met is None
    assert "future liver remnant" in nothing.missing


def test_conversion_record_validation() -> None:
    with pytest.raises(InvalidRecordError, match="flr_pct must be a percentage"):
        _record(flr_pct=D(140))
    with pytest.raises(InvalidRecordError, match="conversion record"):
        _record(procedures=("transplant",))


# -- MPR ----------------------------------------------------------------------------------------


def _surgery(*pcts: str | None) -> SurgeryRecord:
    return SurgeryRecord(
        None,
        1,
        date(2026, 7, 1),
        (Procedure.RESECTION,),
        "R0",
        tuple(ResectedMetastasis(f"S{i}", p) for i, p in enumerate(pcts, 1)),
    )


@pytest.mark.parametrize(
    ("pcts", "mpr", "pcr"),
    [
        (("0",), True, True),  # no residual tumour: pCR, MPR
        (("0", "0"), True, True),
        (("1",), True, False),  # 1 %: MPR
        (("49",), True, False),  # 49 %: MPR
        (("49.5",), True, False),  # below 50 %: MPR
        (("50",), False, False),  # 50 %: not MPR
        (("10", "60"), False, False),  # one metastasis >= 50 %: not MPR
        (("0", "30"), True, False),
        (("20", None), None, None),  # pathology pending
    ],
)
def test_mpr_hand_worked(pcts, mpr, pcr) -> None:
    result = assess_mpr(_surgery(*pcts))
    assert (result.mpr, result.pcr) == (mpr, pcr), result.reason


def test_mpr_without_surgery_or_specimen() -> None:
    assert assess_mpr(None).mpr is None
    ablation = SurgeryRecord(None, 1, date(2026, 7, 1), (Procedure.ABLATION,))
    assert assess_mpr(ablation).reason == "no resection: no specimen for pathology"
    with pytest.raises(InvalidRecordError, match="trg"):
        ResectedMetastasis("S1", D(10), trg=6)
    with pytest.raises(InvalidRecordError, match="0–100"):
        ResectedMetastasis("S1", D(101))
