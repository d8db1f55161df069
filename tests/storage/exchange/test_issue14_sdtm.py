"""Issue 14, SDTM points 8-12, the conformance check written from the SDTMIG, and the
Define-XML 2.1 file validated against the published CDISC schema."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

import recist
from app.cli import main
from recist.model import Reader, Role
from storage.exchange.sdtm import SdtmDatasets, build_sdtm
from storage.exchange.sdtm_check import check_sdtm
from storage.exchange.sdtm_terms import LABELS
from storage.exchange.sdtm_visits import assign_visits, default_schedule, read_schedule
from storage.exchange.timeline import PatientTimeline, records_from_case
from tests.storage.exchange.factories import CASES
from tests.storage.exchange.issue14_data import case_dict, ct_series

JDOE = Reader(7, "jdoe", "Jane Doe", Role.INVESTIGATOR)
RAD_A = Reader(8, "alice", "Alice Roe", Role.READER)
RAD_B = Reader(9, "bob", "Bob Poe", Role.READER)


def _timeline(
    case: dict, subject: str, reader: Reader = JDOE, trial: str = "CRLM-01"
) -> PatientTimeline:
    patient, tps, lesions, ms = records_from_case(case, subject_id=subject)
    result = recist.result_to_dict(
        recist.evaluate(recist.case_from_records(patient, tps, lesions, ms))
    )
    return PatientTimeline(
        replace(patient, trial=trial),
        tuple(tps),
        tuple(lesions),
        tuple(replace(m, reader_id=reader.id) for m in ms),
        result,
        {r.id: r for r in (JDOE, RAD_A, RAD_B) if r.id is not None},
    )


def _rich_case() -> dict:
    """The issue 14 case plus C9, where the equivocal new lesion has resolved."""
    case = copy.deepcopy(case_dict())
    c9 = copy.deepcopy(case["timepoints"][2])
    c9.update(label="C9", date="2024-07-15", cycle=9)
    c9["targets"][1]["diameter_mm"] = 8.0
    c9["new_lesions"] = [
        {"id": "N1", "organ": "lung", "location": "right lower lobe", "status": "absent"},
        {"id": "N2", "organ": "bone", "status": "present"},
    ]
    case["timepoints"].append(c9)
    return case


def _public(prefix: str) -> dict:
    data = next(c for c in CASES if c["id"].startswith(prefix))
    return {k: v for k, v in data.items() if k != "expected"}


@pytest.fixture
def study() -> SdtmDatasets:
    timelines = [_timeline(_rich_case(), "CRLM-014")]
    timelines += [
        _timeline(_public(p), p, RAD_A if p == "R03" else JDOE)
        for p in ("R01", "R03", "R05", "R07")
    ]
    return build_sdtm(timelines)


def _by(rows: list[dict[str, str]], **match: str) -> list[dict[str, str]]:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def test_conformance_check_passes_and_catches_what_it_should(study: SdtmDatasets) -> None:
    assert check_sdtm(study) == []
    broken = replace(study, tr=copy.deepcopy(study.tr), rs=copy.deepcopy(study.rs))
    broken.tr[1]["TRSEQ"] = broken.tr[0]["TRSEQ"]
    broken.tr[2]["TRDTC"] = "03/11/2024"
    broken.tr[3]["TRTESTCD"] = "LONGDIAMETER"
    broken.rs[0]["VISITNUM"] = "7"
    broken.rs[1]["RSORRES"] = "PARTIAL"
    broken.tr[4]["TREVALID"] = "JDOE"
    problems = "\n".join(check_sdtm(broken))
    for expected in (
        "TRSEQ",
        "not ISO 8601",
        "'LONGDIAMETER' is not a term",
        "several VISITNUM",
        "'PARTIAL' is not an ONCRSR term",
        "'JDOE' is not a MEDEVAL term",
    ):
        assert expected in problems, expected


def test_point8_xpt_files_carry_labels(study: SdtmDatasets, tmp_path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    from storage.exchange.sdtm_xpt import write_xpt

    paths = write_xpt(study, tmp_path)
    assert sorted(p.name for p in paths) == ["rs.xpt", "supptu.xpt", "tr.xpt", "tu.xpt"]
    for path in paths:
        _, meta = pyreadstat.read_xport(str(path))
        labels = meta.column_names_to_labels
        assert all(labels[c] == LABELS[c] for c in meta.column_names), path
        assert all(0 < len(label) <= 40 for label in labels.values())
        assert meta.file_label


def test_point9_visitnum_is_the_trials_schedule(tmp_path: Path) -> None:
    on_time = _public("R01")  # baseline, C3 (day 63), C6 (day 126)
    early = copy.deepcopy(on_time)  # an unplanned scan on day 30 before C3
    extra = copy.deepcopy(early["timepoints"][0])
    extra.update(label="UNSCHED", date="2026-02-04")
    early["timepoints"].insert(1, extra)
    data = build_sdtm([_timeline(on_time, "A"), _timeline(early, "B")])
    assert check_sdtm(data) == []
    visits = {(r["USUBJID"][-1], r["VISIT"]): r["VISITNUM"] for r in data.tr}
    assert visits[("A", "C6")] == visits[("B", "C6")] == "3"
    assert visits[("B", "UNSCHEDULED 1.01")] == "1.01"
    schedule = default_schedule()
    assert [v.visit for v in schedule.visits[:4]] == ["BASELINE", "C3", "C6", "C9"]
    path = tmp_path / "schedule.json"
    path.write_text(
        '{"visits": [{"visit": "Baseline", "visitnum": 1, "day": 0},'
        ' {"visit": "Week 6", "visitnum": 2, "day": 42, "window_days": 3}]}'
    )
    own = read_schedule(path)
    patient, tps, _, _ = records_from_case(on_time, subject_id="A")
    tps = [replace(tps[1], scan_date=date(2026, 2, 16)), tps[0]]  # day 42
    assert sorted(assign_visits(patient, tps, own).values()) == [("BASELINE", 1.0), ("WEEK 6", 2.0)]


def test_point10_evaluators_as_the_sdtmig_examples_and_derived_flags(study: SdtmDatasets) -> None:
    r03 = _by(study.tr, USUBJID="CRLM-01-R03")
    assert {(r["TREVAL"], r["TREVALID"]) for r in r03} == {
        ("INDEPENDENT ASSESSOR", "RADIOLOGIST 1")
    }
    r01 = _by(study.tr, USUBJID="CRLM-01-R01")
    assert {(r["TREVAL"], r["TREVALID"]) for r in r01} == {("INVESTIGATOR", "")}
    logins = {"jdoe", "alice", "bob", "JDOE", "ALICE", "BOB"}
    assert not logins & {
        v for rows in (study.tu, study.tr, study.rs) for r in rows for v in r.values()
    }
    assert {r["TRDRVFL"] for r in _by(study.tr, TRTESTCD="SUMDIAM")} == {"Y"}
    assert {r["TRDRVFL"] for r in study.tr if r["TRTESTCD"] != "SUMDIAM"} == {""}
    assert {r["RSDRVFL"] for r in study.rs} == {"Y"}


def test_point11_baseline_flag_locations_images_and_states() -> None:
    timeline = _timeline(_rich_case(), "CRLM-014")
    v34, v33 = build_sdtm([timeline]), build_sdtm([timeline], version="3.3")
    assert "TRLOBXFL" in v34.columns()["tr"]
    assert "TRBLFL" not in v34.columns()["tr"]
    assert "TRBLFL" in v33.columns()["tr"]
    assert "TRLOBXFL" not in v33.columns()["tr"]
    assert {r["VISIT"] for r in v34.tr if r["TRLOBXFL"] == "Y"} == {"BASELINE"}
    assert {r["VISIT"] for r in v33.tr if r["TRBLFL"] == "Y"} == {"BASELINE"}
    tu = {r["TULNKID"]: r for r in _by(v34.tu, TUTESTCD="TUMIDENT")}
    assert (tu["T01"]["TULOC"], tu["T02"]["TULOC"]) == ("LIVER", "LYMPH NODE")
    details = {(r["IDVARVAL"], r["QVAL"]) for r in v34.supptu}
    assert (tu["T01"]["TUSEQ"], "segment VII") in details
    assert (tu["T02"]["TUSEQ"], "portocaval") in details
    t1_image = str(ct_series()[12].SOPInstanceUID)
    assert tu["T01"]["TUREFID"] == t1_image
    merge = _by(v34.tu, TUTESTCD="TUMERGE")
    assert [(r["TULNKID"], r["TUGRPID"]) for r in merge] == [("T03", "T01")]
    assert _by(v34.tr, TRLNKID="T03", VISIT="C6")[0]["TRSTRESN"] == "0"
    new1 = {r["VISIT"]: r["TRORRES"] for r in _by(v34.tr, TRLNKID="NEW01", TRTESTCD="TUMSTATE")}
    assert new1 == {"C6": "EQUIVOCAL", "C9": "ABSENT"}
    nodal = {r["TRTESTCD"] for r in _by(v34.tr, TRLNKID="T02")}
    assert nodal == {"LPERP"}  # the supplement's test for a node (rules.md says SAXIS)
    c6_sum = _by(v34.tr, TRTESTCD="SUMDIAM", VISIT="C6")[0]
    assert c6_sum["TRSTAT"] == "NOT DONE"
    assert "SUM OF AVAILABLE" in c6_sum["TRREASND"]


def test_point12_best_overall_response_and_irecist() -> None:
    recist11 = build_sdtm([_timeline(_rich_case(), "CRLM-014")])
    best = _by(recist11.rs, RSTESTCD="BESTRESP")
    assert [(r["RSCAT"], r["RSORRES"], r["VISIT"]) for r in best] == [("RECIST 1.1", "PR", "")]
    icase = next(c for c in CASES if c["criteria"] == "iRECIST")
    data = build_sdtm([_timeline({k: v for k, v in icase.items() if k != "expected"}, "I1")])
    assert check_sdtm(data) == []
    cats = {(r["RSCAT"], r["RSTESTCD"]) for r in data.rs}
    assert {("iRECIST", "OVRLRESP"), ("iRECIST", "BESTRESP"), ("RECIST 1.1", "BESTRESP")} <= cats


def _schema():  # noqa: ANN202 - xmlschema is a test dependency only
    xmlschema = pytest.importorskip("xmlschema")
    odmlib = pytest.importorskip("odmlib")
    xsd = Path(odmlib.__file__).parent / "schemas" / "define" / "2.1" / "define2-1-0.xsd"
    return xmlschema.XMLSchema(str(xsd))


def test_define_xml_from_the_cli_is_valid_against_the_published_schema(tmp_path: Path) -> None:
    from tests.storage.exchange.issue14_data import make_rich_database

    db, url = make_rich_database(tmp_path)
    db.close()
    out = tmp_path / "sdtm"
    assert main(["--db", url, "export", "sdtm", "--out", str(out), "--xpt", "--define"]) == 0
    define = out / "define.xml"
    schema = _schema()
    errors = [str(e.reason) for e in schema.iter_errors(str(define))]
    assert errors == []
    text = define.read_text(encoding="utf-8")
    for dataset in ("TU", "TR", "RS", "SUPPTU"):
        assert f'SASDatasetName="{dataset}"' in text
        assert (out / f"{dataset.lower()}.xpt").exists()
    assert 'def:DefineVersion="2.1.0"' in text
    assert 'Name="TRLOBXFL"' in text
    # the schema check is real: a value outside the schema's enumeration is refused
    broken = text.replace('Repeating="Yes"', 'Repeating="Maybe"', 1)
    assert broken != text
    assert list(schema.iter_errors(broken))
