"""Issue 14, DICOM SR points 3-6: what the reports say, and that dciodvfy, dsrdump and
highdicom accept them; real reports of other tools import what they hold and name what
they skip."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import highdicom as hd
import pydicom
import pytest
from pydicom.dataset import Dataset

from app.timelines import load_timeline
from recist.model import MeasurementStatus
from storage.db import Database
from storage.exchange.sr import build_timepoint_sr, signed_report_uid
from storage.exchange.sr_codes import CALIPER_SCHEME, PRIVATE_CODES, person_name
from storage.exchange.sr_read import read_sr, records_from_sr, skipped_groups
from storage.exchange.timeline import PatientTimeline
from tests.storage.exchange.factories import PASSWORD
from tests.storage.exchange.issue14_data import SITE, SUBJECT, ct_series, make_rich_database
from tests.system_tools import system_tool

DOCS = Path(__file__).resolve().parents[3] / "docs" / "sr-codes.md"


@pytest.fixture
def rich(tmp_path: Path) -> Iterator[Database]:
    db, _ = make_rich_database(tmp_path)
    yield db
    db.close()


def _reports(timeline: PatientTimeline, folder: Path) -> dict[str, Path]:
    series = {str(ds.SOPInstanceUID): ds for ds in ct_series()}
    paths = {}
    for tp in timeline.timepoints:
        wanted = {
            m.geometry.sop_instance_uid
            for m in timeline.measurements
            if m.timepoint_id == tp.id and m.geometry
        }
        sr = build_timepoint_sr(timeline, tp, [series[s] for s in sorted(wanted)])
        paths[tp.label] = folder / f"{tp.label}.dcm"
        sr.save_as(paths[tp.label], enforce_file_format=True)
    return paths


def _codes(ds: Dataset) -> Iterator[Dataset]:
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                if "CodingSchemeDesignator" in item and "CodeValue" in item:
                    yield item
                yield from _codes(item)


def test_point5_validators_accept_and_private_codes_only_where_no_standard(
    rich: Database, tmp_path: Path
) -> None:
    dciodvfy, dsrdump = system_tool("dciodvfy"), system_tool("dsrdump")
    paths = _reports(load_timeline(rich, SUBJECT), tmp_path)
    documented = DOCS.read_text(encoding="utf-8")
    private = {(c.value, c.meaning) for c in PRIVATE_CODES}
    for label, path in paths.items():
        out = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, check=False)
        text = out.stdout + out.stderr
        assert [ln for ln in text.splitlines() if ln.startswith("Error")] == [], text
        codes = _codes(pydicom.dcmread(path))
        used = [c for c in codes if c.CodingSchemeDesignator == CALIPER_SCHEME]
        for code in used:  # every private code is one of the documented ones without a standard
            assert (str(code.CodeValue), str(code.CodeMeaning)) in private, code
            assert f"`{code.CodeValue}`" in documented, code.CodeValue
        # dciodvfy's private-code warnings are exactly those codes (+ their scheme's declaration)
        warned = text.count(f"<{CALIPER_SCHEME}>")
        assert warned == len(used) + 1, (label, warned, len(used))
        from_the_ct = ("Study ID", "Retired Person Name form")  # attributes copied from the CT
        others = [
            ln
            for ln in text.splitlines()
            if ln.startswith("Warning")
            and f"<{CALIPER_SCHEME}>" not in ln
            and not any(k in ln for k in from_the_ct)
        ]
        assert others == [], text
        dump = subprocess.run([dsrdump, str(path)], capture_output=True, text=True, check=False)
        assert dump.returncode == 0, dump.stderr
        assert "Error" not in dump.stderr, dump.stderr
        assert "Imaging Measurement Report" in dump.stdout
        sr = hd.sr.Comprehensive3DSR.from_dataset(pydicom.dcmread(path))
        groups = sr.content.get_image_measurement_groups()
        assert len(groups) == len(read_sr(path).groups) + (label != "baseline")
    c6 = pydicom.dcmread(paths["C6"])
    values = {(str(c.CodingSchemeDesignator), str(c.CodeValue)) for c in _codes(c6)}
    assert ("SCT", "123037004") in values  # unlisted organ: Body structure, named in text
    assert ("SCT", "42425007") in values  # equivocal new lesion
    assert ("DCM", "112157") in values  # merged = Coalescent
    assert ("UMLS", "C1442488") in _code_pairs(paths["baseline"])  # CID 6146 Baseline
    assert ("DCM", "112133") in _code_pairs(paths["C3"])  # Too small
    assert ("SCT", "272519000") in _code_pairs(paths["C3"])  # Absent


def _code_pairs(path: Path) -> set[tuple[str, str]]:
    codes = _codes(pydicom.dcmread(path))
    return {(str(c.CodingSchemeDesignator), str(c.CodeValue)) for c in codes}


def test_point3_responses_new_lesions_bor_and_reason(rich: Database, tmp_path: Path) -> None:
    paths = _reports(load_timeline(rich, SUBJECT), tmp_path)
    c6 = read_sr(paths["C6"]).responses
    assert c6["overall"] == "PD"
    assert c6["non_target"] == "PD"
    assert c6["new_lesions"] == "yes"
    assert c6["best_overall_response"] == "PR"
    assert "new lesion yes" in c6["reason"]
    assert "unequivocal progression" in c6["reason"]
    c3 = read_sr(paths["C3"]).responses
    assert (c3["target"], c3["non_target"], c3["overall"], c3["new_lesions"]) == (
        "PR",
        "CR",
        "PR",
        "no",
    )
    new = [g for g in read_sr(paths["C6"]).groups if g.tracking_identifier in ("N1", "N2")]
    assert [g.finding for g in new] == ["NEWLESION", "NEWLESION"]
    n1 = next(g for g in new if g.tracking_identifier == "N1")
    assert n1.equivocal
    assert n1.location == "right lower lobe"
    assert n1.long_axis.value_mm == 7.5


def test_point4_signed_is_verified_and_an_amendment_names_its_predecessor(
    rich: Database, tmp_path: Path
) -> None:
    investigator = rich.readers.get("jdoe")
    store = rich.store(investigator)
    chart = store.chart(SUBJECT)
    c3 = next(t for t in chart.timepoints if t.label == "C3")
    signature = store.sign(c3.id, investigator, PASSWORD)
    timeline = load_timeline(rich, SUBJECT)
    signed = read_sr(_reports(timeline, tmp_path)["C3"])
    ds = pydicom.dcmread(tmp_path / "C3.dcm")
    assert (ds.VerificationFlag, ds.PreliminaryFlag, ds.CompletionFlag) == (
        "VERIFIED",
        "FINAL",
        "COMPLETE",
    )
    assert signed.verification is not None
    assert signed.verification.observer_name == "Doe^Jane"
    assert signed.verification.organization == SITE
    assert signed.verification.datetime == signature.signed_at.strftime("%Y%m%d%H%M%S+0000")
    assert signed.sop_instance_uid == signed_report_uid(timeline, c3, signature)
    # an amendment voids the signature: the new report replaces the signed one
    t4 = next(les for les in chart.lesions if les.code == "T4")
    m = next(x for x in chart.measurements if x.lesion_id == t4.id and x.timepoint_id == c3.id)
    store.update_measurement(replace(m, long_axis_mm=11.0), reason="remeasured on a thinner slice")
    amended_dir = tmp_path / "amended"
    amended_dir.mkdir()
    amended = read_sr(_reports(load_timeline(rich, SUBJECT), amended_dir)["C3"])
    ds = pydicom.dcmread(amended_dir / "C3.dcm")
    assert (ds.VerificationFlag, ds.PreliminaryFlag) == ("UNVERIFIED", "PRELIMINARY")
    assert amended.predecessors == (signed.sop_instance_uid,)
    assert amended.sop_instance_uid != signed.sop_instance_uid


def test_point6_observer_name_trial_modules_and_location(rich: Database, tmp_path: Path) -> None:
    assert person_name("root (local reader)") == "root (local reader)^"
    assert person_name("Jane Doe") == "Doe^Jane"
    assert person_name("Mary Ann van Berg") == "Berg^Mary Ann van"
    paths = _reports(load_timeline(rich, SUBJECT), tmp_path)
    ds = pydicom.dcmread(paths["C3"])
    assert ds.ClinicalTrialSubjectID == SUBJECT
    assert ds.ClinicalTrialProtocolID == "CRLM-01"
    assert ds.ClinicalTrialSiteID == SITE
    assert ds.ClinicalTrialTimePointID == "C3"
    report = read_sr(paths["C3"])
    assert (report.observer, report.observer_login) == ("Doe^Jane", "jdoe")
    assert report.cycle == 3
    assert report.time_point_order == 2
    assert str(report.observation_date) == "2024-03-11"
    lesions = {les.code: les for les, _ in records_from_sr(report)}
    assert lesions["T1"].location == "segment VII"
    assert lesions["T2"].nodal
    assert lesions["T2"].location == "portocaval"
    assert lesions["T3"].organ == "gallbladder fossa"
    statuses = {les.code: m.status for les, m in records_from_sr(report)}
    assert statuses["T3"] is MeasurementStatus.TOO_SMALL
    assert statuses["NT1"] is MeasurementStatus.ABSENT


def _real_reports(shared: Path) -> list[Path]:
    paths = (
        sorted(shared.glob("tid1500-sr/**/*.dcm"))
        + sorted(shared.glob("highdicom/sr_*.dcm"))
        + sorted(shared.glob("dcmqi/sr-example/sr.dcm"))
    )
    return [p for p in paths if pydicom.dcmread(p, stop_before_pixels=True).get("Modality") == "SR"]


def test_point2_real_reports_import_what_they_hold_and_name_what_they_skip(
    shared_data: Path,
) -> None:
    reports = _real_reports(shared_data)
    assert len(reports) >= 7
    for path in reports:
        report = read_sr(path)
        pairs, skipped = records_from_sr(report), skipped_groups(report)
        assert len(pairs) + len(skipped) == len(report.groups), path
        for line in skipped:
            assert re.match(
                r"group '.*': (finding '.*'|no finding type) is no RECIST category", line
            ), line
    aorta = read_sr(shared_data / "highdicom" / "sr_document_with_multiple_groups.dcm")
    assert any("'Aorta0001': finding 'Aorta'" in s for s in skipped_groups(aorta))
    assert records_from_sr(aorta) == []
    kidney = read_sr(shared_data / "tid1500-sr" / "rsna2018_dataset4" / "1.dcm")
    assert records_from_sr(kidney) == []
    assert len(skipped_groups(kidney)) == 1
