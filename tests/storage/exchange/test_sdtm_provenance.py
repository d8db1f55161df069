"""Issue 16: SUPPTR says which TR diameters an algorithm proposed (MEASMETH, MEASALG, MEASEDIT,
MEASEDTL), declared in Define-XML, and the datasets stay conformant (check, XPT, schema)."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest

from recist.model import Method
from storage.exchange.sdtm import SdtmDatasets, build_sdtm
from storage.exchange.sdtm_check import check_sdtm
from storage.exchange.sdtm_define import build_define
from storage.exchange.sdtm_terms import TR_QUALIFIERS
from storage.exchange.timeline import SEMI_AUTOMATIC, MeasurementProvenance, PatientTimeline
from tests.storage.exchange.test_issue14_sdtm import _by, _rich_case, _schema, _timeline

ALGORITHM = "caliper-half-contrast-region"


def _semi_automatic(timeline: PatientTimeline) -> PatientTimeline:
    """T1 (liver) proposed by the algorithm at every timepoint: accepted at baseline, its caliper
    moved at C3, edits not known later; T2 (a node, LPERP) accepted at baseline."""
    codes = {les.id: les.code for les in timeline.lesions}
    labels = {tp.id: tp.label for tp in timeline.timepoints}
    ms = []
    provenance = {}
    for i, m in enumerate(timeline.measurements, start=1):
        m = replace(m, id=100 + i)
        code, label = codes[m.lesion_id], labels[m.timepoint_id]
        if code == "T1" or (code == "T2" and label == "baseline"):
            m = replace(m, method=Method.SEMI_AUTO)
            change = {"baseline": "", "C3": "caliper moved"}.get(label)
            provenance[m.id] = MeasurementProvenance(
                SEMI_AUTOMATIC,
                ALGORITHM if change is not None else "",
                "1.6" if change is not None else "",
                False if change is not None else None,
                change,
                12.5 if change is not None else None,  # no contour read: no volume
            )
        ms.append(m)
    return replace(timeline, measurements=tuple(ms), provenance=provenance)


@pytest.fixture
def study() -> SdtmDatasets:
    return build_sdtm([_semi_automatic(_timeline(_rich_case(), "CRLM-014"))])


def _qualifiers(data: SdtmDatasets, **match: str) -> dict[str, str]:
    """QNAM -> QVAL of the SUPPTR records of the one TR record matching ``match``."""
    (record,) = _by(data.tr, **match)
    return {r["QNAM"]: r["QVAL"] for r in _by(data.supptr, IDVARVAL=record["TRSEQ"])}


def test_supptr_qualifies_the_semi_automatic_diameters(study: SdtmDatasets) -> None:
    assert check_sdtm(study) == []
    assert _qualifiers(study, TRLNKID="T01", TRTESTCD="LDIAM", VISIT="BASELINE") == {
        "MEASMETH": "SEMI-AUTOMATIC",
        "MEASALG": f"{ALGORITHM} 1.6",
        "MEASEDIT": "N",
    }
    assert _qualifiers(study, TRLNKID="T01", TRTESTCD="LDIAM", VISIT="C3") == {
        "MEASMETH": "SEMI-AUTOMATIC",
        "MEASALG": f"{ALGORITHM} 1.6",
        "MEASEDIT": "Y",
        "MEASEDTL": "caliper moved",
    }
    # a later one whose contour was not read: the method only (nothing is guessed)
    later = [r for r in _by(study.tr, TRLNKID="T01") if r["VISIT"] not in ("BASELINE", "C3")]
    assert later
    for record in later:
        if record["TRORRES"]:
            assert _qualifiers(study, TRSEQ=record["TRSEQ"]) == {"MEASMETH": "SEMI-AUTOMATIC"}
    # the node's short axis (LPERP) at baseline; manual records and the derived sum have none
    assert _qualifiers(study, TRLNKID="T02", TRTESTCD="LPERP", VISIT="BASELINE")["MEASEDIT"] == "N"
    # the contour's volume (mL): edited only when the contour was, not when the caliper moved
    for visit in ("BASELINE", "C3"):
        (volume,) = _by(study.tr, TRLNKID="T01", TRTESTCD="VOLUME", VISIT=visit)
        assert (volume["TRSTRESN"], volume["TRORRESU"], volume["TRSTRESU"]) == ("12.5", "mL", "mL")
        assert _qualifiers(study, TRSEQ=volume["TRSEQ"]) == {
            "MEASMETH": "SEMI-AUTOMATIC",
            "MEASALG": f"{ALGORITHM} 1.6",
            "MEASEDIT": "N",
        }
    assert len(_by(study.tr, TRTESTCD="VOLUME")) == 3  # T01 twice, T02 at baseline
    qualified = {r["IDVARVAL"] for r in study.supptr}
    for record in study.tr:
        if record["TRLNKID"] not in ("T01", "T02") or record["TRTESTCD"] == "SUMDIAM":
            assert record["TRSEQ"] not in qualified, record
    assert {r["TRLNKID"] for r in study.tr if r["TRSEQ"] in qualified} == {"T01", "T02"}
    for r in study.supptr:
        assert (r["RDOMAIN"], r["IDVAR"], r["QLABEL"]) == ("TR", "TRSEQ", TR_QUALIFIERS[r["QNAM"]])
        assert len(r["QNAM"]) <= 8
        assert len(r["QLABEL"]) <= 40
    assert "supptr" in study.to_csv()
    broken = replace(study, tr=copy.deepcopy(study.tr))
    next(r for r in broken.tr if r["TRTESTCD"] == "VOLUME")["TRSTRESU"] = "mm"
    assert any("a volume needs TRSTRESN and units in mL" in p for p in check_sdtm(broken))


def test_manual_only_has_no_supptr() -> None:
    data = build_sdtm([_timeline(_rich_case(), "CRLM-014")])
    assert data.supptr == []
    assert "supptr" not in data.datasets()


def test_the_check_catches_a_broken_supptr(study: SdtmDatasets) -> None:
    broken = replace(study, supptr=copy.deepcopy(study.supptr))
    rows = broken.supptr
    meth = next(i for i, r in enumerate(rows) if r["QNAM"] == "MEASMETH")
    edit = next(i for i, r in enumerate(rows) if r["QNAM"] == "MEASEDIT")
    rows[meth]["QVAL"] = "AUTOMATIC"
    rows[edit]["QVAL"] = "YES"
    rows[0]["IDVARVAL"] = "999"
    rows.append({**rows[1], "QNAM": "MEASUREMENTMETHOD"})
    rows.append(dict(rows[1]))
    rows.append({**rows[1], "QNAM": "TULOCDTL", "QLABEL": "Location Detail"})
    problems = "\n".join(check_sdtm(broken))
    for expected in (
        "SUPPTR row 1: no TR record 999",
        "'AUTOMATIC' is not a MEASMETH term",
        "'YES' is not a MEASEDIT term",
        "QNAM ≤ 8 characters",
        f"twice for TRSEQ {rows[1]['IDVARVAL']}",
        "'TULOCDTL' is not declared",
    ):
        assert expected in problems, (expected, problems)


def test_xpt_and_define_declare_supptr(study: SdtmDatasets, tmp_path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    from storage.exchange.sdtm_xpt import write_xpt

    paths = {p.name: p for p in write_xpt(study, tmp_path)}
    assert "supptr.xpt" in paths
    frame, meta = pyreadstat.read_xport(str(paths["supptr.xpt"]))
    assert meta.file_label == "Supplemental Qualifiers for TR"
    assert set(frame["QNAM"]) == {"MEASMETH", "MEASALG", "MEASEDIT", "MEASEDTL"}
    define = tmp_path / "define.xml"
    build_define(study, "CRLM-01").write(define, encoding="UTF-8", xml_declaration=True)
    assert [str(e.reason) for e in _schema().iter_errors(str(define))] == []
    text = define.read_text(encoding="utf-8")
    assert 'SASDatasetName="SUPPTR"' in text
    assert 'Domain="TR"' in text
    assert 'ValueListOID="VL.SUPPTR.QVAL"' in text
    for qnam in TR_QUALIFIERS:
        assert f'OID="IT.SUPPTR.QVAL.{qnam}"' in text
        assert f"<CheckValue>{qnam}</CheckValue>" in text
    assert 'CodedValue="SEMI-AUTOMATIC"' in text
    assert 'OID="MT.MEASEDIT"' in text
    assert "<CheckValue>TULOCDTL</CheckValue>" in text  # SUPPTU's qualifier declared too
