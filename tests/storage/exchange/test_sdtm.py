"""SDTM TU/TR/RS against the hand-checked worked example (case R01) and edge cases."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from recist.model import LesionKind, Measurement, MeasurementStatus, Reader, Role
from storage.exchange.sdtm import build_sdtm, lesion_link_id
from storage.exchange.timeline import PatientTimeline, records_from_case
from tests.storage.exchange.factories import SHARED

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "sdtm_worked_example"
CASES = SHARED / "recist" / "cases-public.json"
READER = Reader(7, "jdoe", "Jane Doe", Role.INVESTIGATOR)


def _case(prefix: str) -> dict:
    return next(c for c in json.loads(CASES.read_text()) if c["id"].startswith(prefix))


def _timeline(prefix: str, **result_overrides: object) -> PatientTimeline:
    case = _case(prefix)
    patient, tps, lesions, ms = records_from_case(case, subject_id=prefix)
    result = {**case["expected"], **result_overrides}
    return PatientTimeline(
        replace(patient, trial="CRLM-01"),
        tuple(tps),
        tuple(lesions),
        tuple(replace(m, reader_id=7) for m in ms),
        result,
        {7: READER},
    )


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("domain", ["tu", "tr", "rs"])
def test_r01_matches_worked_example(domain: str) -> None:
    written = build_sdtm([_timeline("R01")]).to_csv()[domain]
    expected = (EXAMPLE / f"{domain}.csv").read_text()
    assert _rows(written) == _rows(expected)


def test_controlled_terms_and_required_variables() -> None:
    data = build_sdtm([_timeline("R01")])
    for rows, domain in ((data.tu, "TU"), (data.tr, "TR"), (data.rs, "RS")):
        for seq, row in enumerate(rows, start=1):
            assert row["DOMAIN"] == domain
            assert row[f"{domain}SEQ"] == str(seq)
            assert row["STUDYID"] == "CRLM-01"
            assert row["USUBJID"] == "CRLM-01-R01"
            assert row[f"{domain}DTC"] or row.get("RSTESTCD") == "BESTRESP"
    assert {r["TUTESTCD"] for r in data.tu} == {"TUMIDENT"}
    assert {r["TUORRES"] for r in data.tu} == {"TARGET", "NON-TARGET"}
    assert {r["TRTESTCD"] for r in data.tr} == {"LDIAM", "TUMSTATE", "SUMDIAM"}
    assert {r["RSTESTCD"] for r in data.rs} == {
        "TRGRESP",
        "NTRGRESP",
        "NEWLPROG",
        "OVRLRESP",
        "BESTRESP",
    }
    assert {r["RSCAT"] for r in data.rs} == {"RECIST 1.1"}
    assert {r["TREVALID"] for r in data.tr} == {""}  # an investigator has no EVALID (issue 14)
    # every TR lesion row links to a TU record
    assert {r["TRLNKID"] for r in data.tr} - {""} <= {r["TULNKID"] for r in data.tu}


def test_too_small_to_measure_is_5_mm() -> None:
    tl = _timeline("R01")
    target = next(les for les in tl.lesions if les.code == "T3")
    last_tp = max(tl.timepoints, key=lambda t: t.order)
    ms = tuple(
        Measurement(m.id, m.lesion_id, m.timepoint_id, 7, MeasurementStatus.TOO_SMALL)
        if (m.lesion_id, m.timepoint_id) == (target.id, last_tp.id)
        else m
        for m in tl.measurements
    )
    rows = build_sdtm([replace(tl, measurements=ms)]).tr
    tstm = [r for r in rows if r["TRLNKID"] == "T03" and r["VISIT"] == "C6"]
    assert len(tstm) == 1
    assert tstm[0]["TRTESTCD"] == "LDIAM"
    assert tstm[0]["TRORRES"] == "TOO SMALL TO MEASURE"
    assert float(tstm[0]["TRSTRESN"]) == 5.0


def test_new_lesion_and_irecist_records_are_separate() -> None:
    case = next(
        c
        for c in json.loads(CASES.read_text())
        if c["criteria"] == "iRECIST" and any(tp["new_lesions"] for tp in c["timepoints"])
    )
    patient, tps, lesions, ms = records_from_case(case, subject_id="I1")
    tl = PatientTimeline(
        replace(patient, trial="T"), tuple(tps), tuple(lesions), tuple(ms), case["expected"]
    )
    data = build_sdtm([tl])
    assert "NEW" in {r["TUORRES"] for r in data.tu}
    assert any(r["TULNKID"].startswith("NEW") for r in data.tu)
    irecist = [r for r in data.rs if r["RSCAT"] == "iRECIST"]
    assert irecist
    assert {r["RSTESTCD"] for r in irecist} == {"OVRLRESP", "BESTRESP"}
    assert all(r["RSORRES"].startswith(("i", "NON-i")) for r in irecist)
    recist = [r for r in data.rs if r["RSCAT"] == "RECIST 1.1"]
    assert not any(r["RSORRES"].startswith("i") for r in recist)
    assert {r["RSORRES"] for r in data.rs if r["RSTESTCD"] == "NEWLPROG"} <= {"Y", "N"}


def test_nodal_target_uses_lperp() -> None:
    tl = _timeline("R01")
    t1 = next(les for les in tl.lesions if les.code == "T1")
    lesions = tuple(
        replace(les, nodal=True, organ="lymph node") if les is t1 else les for les in tl.lesions
    )
    ms = tuple(
        replace(m, long_axis_mm=None, short_axis_mm=18.0) if m.lesion_id == t1.id else m
        for m in tl.measurements
    )
    rows = build_sdtm([replace(tl, lesions=lesions, measurements=ms)]).tr
    t01 = [r for r in rows if r["TRLNKID"] == "T01"]
    assert {r["TRTESTCD"] for r in t01} == {"LPERP"}


@pytest.mark.parametrize(
    ("kind", "code", "expected"),
    [
        (LesionKind.TARGET, "T1", "T01"),
        (LesionKind.NON_TARGET, "NT12", "NT12"),
        (LesionKind.NEW, "N3", "NEW03"),
    ],
)
def test_lesion_link_ids(kind: LesionKind, code: str, expected: str) -> None:
    assert lesion_link_id(kind, code) == expected


def test_merged_lesion_gets_tumerge_and_0_mm() -> None:
    case = _case("R15")
    patient, tps, lesions, ms = records_from_case(case, subject_id="R15")
    tl = PatientTimeline(
        replace(patient, trial="T"), tuple(tps), tuple(lesions), tuple(ms), case["expected"]
    )
    data = build_sdtm([tl])
    merge = [r for r in data.tu if r["TUTESTCD"] == "TUMERGE"]
    # the lesion joined is the TUGRPID (TUREFID is the image reference); it measures 0 mm
    assert [(r["TULNKID"], r["TUGRPID"], r["VISIT"]) for r in merge] == [("T02", "T01", "C3")]
    t02 = [r for r in data.tr if r["TRLNKID"] == "T02" and r["VISIT"] in ("C3", "C6")]
    assert {(r["TRSTAT"], r["TRSTRESN"]) for r in t02} == {("", "0")}


def test_split_lesion_gets_fragment_records() -> None:
    case = json.loads(json.dumps(_case("R01")))
    t1 = case["timepoints"][2]["targets"][0]
    t1.update(diameter_mm=18.0, fragments_mm=[10.0, 8.0])
    patient, tps, lesions, ms = records_from_case(case, subject_id="R01")
    tl = PatientTimeline(
        replace(patient, trial="T"), tuple(tps), tuple(lesions), tuple(ms), case["expected"]
    )
    data = build_sdtm([tl])
    assert [(r["TULNKID"], r["TUTESTCD"]) for r in data.tu if r["VISIT"] == "C6"] == [
        ("T01", "TUSPLIT"),
        ("T01.1", "TUMIDENT"),
        ("T01.2", "TUMIDENT"),
    ]
    fragments = [
        (r["TRLNKID"], r["TRSTRESN"])
        for r in data.tr
        if r["VISIT"] == "C6" and r["TRLNKID"].startswith("T01")
    ]
    assert fragments == [("T01.1", "10"), ("T01.2", "8")]
    c6_sum = next(r for r in data.tr if r["VISIT"] == "C6" and r["TRTESTCD"] == "SUMDIAM")
    assert c6_sum["TRSTRESN"] == "39"
