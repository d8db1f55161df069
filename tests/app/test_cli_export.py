"""``caliper export ...`` and ``caliper import sr`` end to end on a real SQLite database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.cli import main
from recist.model import Patient, Role, Timepoint
from storage.db import open_database
from storage.exchange.sr_read import read_sr
from storage.exchange.timeline import read_timeline_json, reevaluate
from tests.pdf_tools import pdf_text
from tests.storage.exchange.factories import CT_FOLDER, PASSWORD, case, make_database


@pytest.fixture
def database(tmp_path: Path) -> str:
    db, _, url = make_database(tmp_path, ["R01", "R03", "R05", "R07"])
    db.close()
    return url


def test_timeline_json_matches_database_and_round_trips(database: str, tmp_path: Path) -> None:
    out = tmp_path / "r01.json"
    assert (
        main(["--db", database, "export", "timeline", "--patient", "R01", "--out", str(out)]) == 0
    )
    data = read_timeline_json(out)
    assert data["subject_id"] == "R01"
    assert data["trial"] == "CRLM-01"
    expected = case("R01")["expected"]
    assert data["result"]["best_overall_response"] == expected["best_overall_response"]
    assert [t["sum_mm"] for t in data["result"]["timepoints"]] == [
        t["sum_mm"] for t in expected["timepoints"]
    ]
    assert reevaluate(data) == data["result"]


def test_timeline_csv_to_stdout(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--db", database, "export", "timeline", "--patient", "R01", "--format", "csv"]) == 0
    )
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    responses = [r for r in rows if r["record"] == "response"]
    assert [r["overall"] for r in responses] == ["", "PR", "PR"]
    assert {r["lesion"] for r in rows if r["record"] == "lesion"} == {"T1", "T2", "T3", "NT1"}


def test_unknown_patient_is_a_user_error(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", database, "export", "timeline", "--patient", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


def test_an_out_folder_that_cannot_be_made_is_named_by_the_cli_and_the_window(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.exports import ExportController, ExportError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "sdtm"
    assert main(["--db", database, "export", "sdtm", "--out", str(out)]) == 2
    assert f"cannot create folder {out}" in capsys.readouterr().err
    db = open_database(database)
    try:
        with pytest.raises(ExportError, match=f"cannot create folder {out}"):
            ExportController(db).sdtm(out)
    finally:
        db.close()


def test_sdtm_export_for_all_patients(database: str, tmp_path: Path) -> None:
    out = tmp_path / "sdtm"
    assert main(["--db", database, "export", "sdtm", "--out", str(out), "--study", "CRLM-01"]) == 0
    rs = list(csv.DictReader((out / "rs.csv").open()))
    assert {r["USUBJID"] for r in rs} == {f"CRLM-01-{s}" for s in ("R01", "R03", "R05", "R07")}
    r01 = [
        r["RSORRES"] for r in rs if r["USUBJID"] == "CRLM-01-R01" and r["RSTESTCD"] == "OVRLRESP"
    ]
    assert r01 == ["PR", "PR"]
    tr = list(csv.DictReader((out / "tr.csv").open()))
    assert {r["TREVALID"] for r in tr} == {""}  # investigator: no EVALID, never a login name


def test_sdtm_xpt_holds_the_same_records_as_the_csv(database: str, tmp_path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    out = tmp_path / "sdtm"
    args = ["--db", database, "export", "sdtm", "--out", str(out), "--study", "CRLM-01", "--xpt"]
    assert main(args) == 0
    for domain in ("tu", "tr", "rs"):
        frame, meta = pyreadstat.read_xport(str(out / f"{domain}.xpt"))
        rows = list(csv.DictReader((out / f"{domain}.csv").open()))
        assert meta.table_name == domain.upper()
        assert list(frame.columns) == list(rows[0])
        assert len(frame) == len(rows) > 0
        for column in frame.columns:
            if column.endswith("SEQ") or column in ("VISITNUM", "TRSTRESN"):
                expected = [float(r[column]) if r[column] else None for r in rows]
                got = [None if v != v else float(v) for v in frame[column]]  # NaN -> missing
            else:
                expected, got = [r[column] for r in rows], list(frame[column])
            assert got == expected, f"{domain}.{column}"
    tr, _ = pyreadstat.read_xport(str(out / "tr.xpt"))
    assert set(tr["TRTESTCD"]) >= {"LDIAM", "SUMDIAM"}


def test_sr_export_then_import_into_another_patient(
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    out = tmp_path / "sr"
    assert (
        main(
            [
                "--db",
                database,
                "export",
                "sr",
                "--patient",
                "R01",
                "--images",
                str(CT_FOLDER),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    files = sorted(out.glob("*.dcm"))
    assert [f.name for f in files] == ["R01_C3_SR.dcm", "R01_C6_SR.dcm", "R01_baseline_SR.dcm"]
    # a patient with nothing drawn and no series recorded gets no report: an error naming why
    assert (
        main(
            [
                "--db",
                database,
                "export",
                "sr",
                "--patient",
                "R03",
                "--images",
                str(CT_FOLDER),
                "--out",
                str(tmp_path / "r03"),
            ]
        )
        == 2  # writing nothing is an error (issue 14 point 7)
    )
    assert list((tmp_path / "r03").glob("*.dcm")) == []
    err = capsys.readouterr().err
    assert "skipped C3" in err
    assert "no report written for R03" in err
    report = read_sr(out / "R01_C3_SR.dcm")
    t1 = next(g for g in report.groups if g.tracking_identifier == "T1")
    assert t1.long_axis.value_mm == 20.0
    assert len(t1.long_axis.coordinates.points_lps) == 2
    # a second site's database receives the report
    other = tmp_path / "other"
    other.mkdir()
    other_db = open_database(f"sqlite:///{other / 'site2.db'}")
    system = other_db.readers.ensure_system()
    other_db.readers.create("jdoe", "Jane Doe", Role.INVESTIGATOR, "pw", by=system)
    store = other_db.store(system)
    patient = store.add_patient(Patient(None, "R01", trial="CRLM-01"))
    store.add_timepoint(Timepoint(None, patient.id, 0, "C3"))
    other_db.close()
    other_url = f"sqlite:///{other / 'site2.db'}"
    assert (
        main(
            [
                "--db",
                other_url,
                "import",
                "sr",
                str(out / "R01_C3_SR.dcm"),
                "--patient",
                "R01",
                "--images",
                str(CT_FOLDER),
                "--as",
                "jdoe",
                "--password-stdin",  # jdoe's password: the CLI authenticates who writes
            ]
        )
        == 0
    )
    db = open_database(other_url)
    chart = db.read_only_store().chart("R01")
    db.close()
    db = open_database(database)
    source = db.read_only_store().chart("R01")
    db.close()
    tp_c3 = next(t for t in source.timepoints if t.label == "C3")
    want = {
        les.code: (les.tracking_uid, m.long_axis_mm)
        for les in source.lesions
        for m in source.measurements
        if m.lesion_id == les.id and m.timepoint_id == tp_c3.id
    }
    got = {
        les.code: (les.tracking_uid, m.long_axis_mm)
        for les in chart.lesions
        for m in chart.measurements
        if m.lesion_id == les.id
    }
    assert got == want
    copied_t1 = next(
        m
        for m in chart.measurements
        if m.lesion_id == next(les.id for les in chart.lesions if les.code == "T1")
    )
    source_t1 = next(
        m
        for m in source.measurements
        if m.timepoint_id == tp_c3.id
        and m.lesion_id == next(les.id for les in source.lesions if les.code == "T1")
    )
    assert copied_t1.geometry is not None
    assert source_t1.geometry is not None
    assert copied_t1.geometry.sop_instance_uid == source_t1.geometry.sop_instance_uid
    for got_seg, want_seg in ((copied_t1.geometry.long_axis, source_t1.geometry.long_axis),):
        assert got_seg.start_lps_mm == pytest.approx(want_seg.start_lps_mm, abs=0.05)
        assert got_seg.end_px == pytest.approx(want_seg.end_px, abs=0.05)


def test_sr_export_needs_the_images(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (
        main(
            [
                "--db",
                database,
                "export",
                "sr",
                "--patient",
                "R01",
                "--images",
                str(empty),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "source image" in capsys.readouterr().err


@pytest.mark.qt
def test_report_and_cohort_commands(database: str, tmp_path: Path) -> None:
    pdf = tmp_path / "R01.pdf"
    assert (
        main(
            [
                "--db",
                database,
                "export",
                "report",
                "--patient",
                "R01",
                str(pdf),
                "--images",
                str(CT_FOLDER),
            ]
        )
        == 0
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Subject R01" in text
    assert "Best overall response: PR" in text
    assert "Key images" in text
    assert "T1 at C6: 18.0 mm" in text
    out = tmp_path / "cohort"
    assert main(["--db", database, "export", "cohort", "--out", str(out)]) == 0
    orr = {r["cutoff"]: r for r in csv.DictReader((out / "orr.csv").open())}
    assert orr["C3"]["patients"] == "4"
    for name in ("waterfall.png", "spider.png", "swimmer.png"):
        assert (out / name).stat().st_size > 1000
    summary = json.dumps(orr)
    assert "ci95_low_pct" in summary


def test_exported_timeline_imports_with_the_same_responses(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    first = tmp_path / "r07.json"
    assert (
        main(["--db", database, "export", "timeline", "--patient", "R07", "--out", str(first)]) == 0
    )
    assert (
        main(
            [
                "--db",
                database,
                "timeline",
                "import",
                str(first),
                "--patient",
                "R07-COPY",
                "--as",
                "jdoe",
                "--password-stdin",  # jdoe's password: the CLI authenticates who writes
            ]
        )
        == 0
    )
    second = tmp_path / "copy.json"
    assert (
        main(
            ["--db", database, "export", "timeline", "--patient", "R07-COPY", "--out", str(second)]
        )
        == 0
    )
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert b["timepoints"] == a["timepoints"]
    strip = ("case_id",)
    assert {k: v for k, v in b["result"].items() if k not in strip} == {
        k: v for k, v in a["result"].items() if k not in strip
    }
