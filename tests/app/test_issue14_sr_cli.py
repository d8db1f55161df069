"""Issue 14, DICOM SR points 1, 2, 7 on the command line: export from one database,
import into a fresh one (timepoints created from the reports), identity checks,
``caliper timepoint add``, and clear refusals instead of silent success or tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from recist.model import Patient, Role, Timepoint
from storage.db import open_database
from tests.storage.exchange.factories import CT_FOLDER
from tests.storage.exchange.issue14_data import SUBJECT, ct_series, make_rich_database


@pytest.fixture
def site1(tmp_path: Path) -> str:
    db, url = make_rich_database(tmp_path)
    db.close()
    return url


def _fresh(folder: Path, name: str = "site2.db") -> str:
    folder.mkdir(exist_ok=True)
    url = f"sqlite:///{folder / name}"
    db = open_database(url)
    db.readers.ensure_system()
    db.close()
    return url


def _export_sr(url: str, out: Path) -> list[Path]:
    args = ["--db", url, "export", "sr", "--patient", SUBJECT, "--images", str(CT_FOLDER)]
    assert main([*args, "--out", str(out)]) == 0
    return sorted(out.glob("*.dcm"))


def _timeline(url: str, out: Path) -> dict:
    assert main(["--db", url, "export", "timeline", "--patient", SUBJECT, "--out", str(out)]) == 0
    return json.loads(out.read_text())


def test_point1_export_import_into_a_fresh_database_gives_the_same_timeline(
    site1: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = _export_sr(site1, tmp_path / "sr")
    assert len(reports) == 3
    site2 = _fresh(tmp_path / "b")
    for path in reversed(reports):  # any order: C6 first, the baseline last
        assert (
            main(
                [
                    "--db",
                    site2,
                    "import",
                    "sr",
                    str(path),
                    "--images",
                    str(CT_FOLDER),
                    "--as",
                    "system",
                ]
            )
            == 0
        )
    out = capsys.readouterr().out
    assert "created patient CRLM-014" in out
    assert "created timepoint C3" in out
    a, b = _timeline(site1, tmp_path / "a.json"), _timeline(site2, tmp_path / "b.json")
    # labels, dates, cycles, modality, slice thickness, lesions (code, category, organ,
    # location, nodal), both axes, statuses, merged/equivocal, image references
    assert b["timepoints"] == a["timepoints"]
    db1, db2 = open_database(site1), open_database(site2)
    try:
        one, two = db1.read_only_store().chart(SUBJECT), db2.read_only_store().chart(SUBJECT)
    finally:
        db1.close()
        db2.close()
    assert {(les.code, les.tracking_uid) for les in two.lesions} == {
        (les.code, les.tracking_uid) for les in one.lesions
    }
    facts = [
        (
            t.label,
            t.order,
            t.scan_date,
            t.cycle,
            t.study_instance_uid,
            t.series_instance_uid,
            t.dicom_patient_id,
        )
        for t in one.timepoints
    ]
    assert [
        (
            t.label,
            t.order,
            t.scan_date,
            t.cycle,
            t.study_instance_uid,
            t.series_instance_uid,
            t.dicom_patient_id,
        )
        for t in two.timepoints
    ] == facts
    # the same responses once the protocol settings (not in an SR) agree
    b_result = {k: v for k, v in b["result"].items() if k not in ("case_id",)}
    assert [t["overall"] for t in b_result["timepoints"]] == [
        t["overall"] for t in a["result"]["timepoints"]
    ]


def test_point1_the_observer_is_kept_when_the_reader_exists(site1: str, tmp_path: Path) -> None:
    c3 = _export_sr(site1, tmp_path / "sr")[0]
    site2 = _fresh(tmp_path / "b")
    db = open_database(site2)
    jdoe = db.readers.create("jdoe", "Jane Doe", Role.READER, "pw", by=db.readers.get("system"))
    db.close()
    assert main(["--db", site2, "import", "sr", str(c3), "--as", "system"]) == 0
    db = open_database(site2)
    chart = db.read_only_store().chart(SUBJECT)
    db.close()
    assert {m.reader_id for m in chart.measurements} == {jdoe.id}
    assert all("Doe^Jane" in m.note for m in chart.measurements)


def test_point2_another_patients_report_is_refused_unless_accepted_and_audited(
    site1: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c3 = next(p for p in _export_sr(site1, tmp_path / "sr") if "C3" in p.name)
    site2 = _fresh(tmp_path / "b")
    db = open_database(site2)
    store = db.store(db.readers.get("system"))
    other = store.add_patient(Patient(None, "DEMO-001", trial="CRLM-01"))
    store.add_timepoint(Timepoint(None, other.id, 0, "baseline", dicom_patient_id="DEMO-PID"))
    db.close()
    args = ["--db", site2, "import", "sr", str(c3), "--patient", "DEMO-001", "--as", "system"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "trial subject 'CRLM-014', not 'DEMO-001'" in err
    assert "DICOM Patient ID 'Lung_Dx-A0002'" in err
    assert "nothing was imported" in err
    db = open_database(site2)
    assert len(db.read_only_store().chart("DEMO-001").timepoints) == 1
    db.close()
    assert main([*args, "--accept-other-patient"]) == 0
    db = open_database(site2)
    events = [e for e in db.audit_events() if e.action == "confirm"]
    db.close()
    assert any("CRLM-014" in (e.reason or "") for e in events), events


def test_point2_a_report_without_recist_lesions_is_refused_naming_what_it_skips(
    site1: str, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kidney = shared_data / "tid1500-sr" / "rsna2018_dataset4" / "1.dcm"
    args = [
        "--db",
        site1,
        "import",
        "sr",
        str(kidney),
        "--patient",
        SUBJECT,
        "--timepoint",
        "C3",
        "--as",
        "system",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no RECIST lesion" in err
    assert "is no RECIST category" in err
    aorta = shared_data / "highdicom" / "sr_document_with_multiple_groups.dcm"
    assert main([*args[:4], str(aorta), *args[5:]]) == 2
    assert "'Aorta0001': finding 'Aorta'" in capsys.readouterr().err


def test_point1_timepoint_add_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _fresh(tmp_path)
    assert main(["--db", url, "patient", "add", "P1", "--as", "system"]) == 0
    base = ["--db", url, "timepoint", "add", "--patient", "P1", "--as", "system"]
    assert main([*base, "--label", "baseline", "--date", "2024-01-02"]) == 0
    series = ct_series()[0]
    assert (
        main(
            [
                *base,
                "--label",
                "C3",
                "--date",
                "2024-03-04",
                "--cycle",
                "3",
                "--series",
                str(series.SeriesInstanceUID),
                "--modality",
                "CT",
            ]
        )
        == 0
    )
    assert main([*base, "--label", "c3"]) == 2  # a label used twice (any case)
    assert main([*base, "--label", "C0", "--date", "2023-12-01"]) == 2  # before the baseline
    assert main([*base, "--label", "C6", "--date", "06/05/2024"]) == 2
    capsys.readouterr()
    assert main(["--db", url, "timepoint", "list", "--patient", "P1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[:3] for ln in lines] == [
        ["0", "baseline", "2024-01-02"],
        ["1", "C3", "2024-03-04"],
    ]


def test_point7_export_sr_writing_nothing_is_an_error(
    site1: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _fresh(tmp_path / "b")
    assert main(["--db", url, "patient", "add", "P2", "--as", "system"]) == 0
    assert (
        main(
            [
                "--db",
                url,
                "timepoint",
                "add",
                "--patient",
                "P2",
                "--label",
                "baseline",
                "--as",
                "system",
            ]
        )
        == 0
    )
    out = tmp_path / "none"
    assert (
        main(
            [
                "--db",
                url,
                "export",
                "sr",
                "--patient",
                "P2",
                "--images",
                str(CT_FOLDER),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "no report written for P2" in err
    assert "baseline" in err
    assert list(out.glob("*")) == []


def test_point7_pacs_push_of_a_non_dicom_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.dicom.pacs import PacsError, PacsNode, add_node, push

    node = PacsNode(name="nowhere", dicomweb_url="http://127.0.0.1:9/dicom-web")
    add_node(node)
    text = tmp_path / "notes.txt"
    text.write_text("not a DICOM file")
    with pytest.raises(PacsError, match="notes.txt: not a DICOM file"):
        push(node, [text])
    assert main(["pacs", "push", "nowhere", str(text)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt: not a DICOM file" in err
    assert "Traceback" not in err


def test_issue13_the_sr_carries_the_audit_head_it_was_exported_at(
    site1: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The head written into the SR is the one the witness recorded for the export, and
    `audit verify --expect-head` accepts it (issue 13: "written into the SR")."""
    import pydicom

    reports = _export_sr(site1, tmp_path / "sr")
    texts = {
        str(element.value)
        for path in reports
        for element in pydicom.dcmread(path).iterall()
        if element.keyword == "TextValue"
    }
    heads = sorted(t for t in texts if t.startswith("Audit trail head "))
    assert len(heads) == 1, heads  # one export: one head, in every report of it
    seq, digest = heads[0].removeprefix("Audit trail head ").split(":")
    assert int(seq) > 0
    assert len(digest) == 64
    capsys.readouterr()
    assert main(["--db", site1, "audit", "verify", "--expect-head", f"{seq}:{digest}"]) == 0
