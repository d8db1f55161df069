"""Which measurements were semi-automatic, in the DICOM SR and SDTM exports (issue 16).

The patient of ``test_report_provenance``: T1 drawn by hand, T2 a Smart caliper proposal
accepted as is, T3 a proposal whose contour the reader edited with the brush, T4 one whose
caliper the reader moved.  The SR names the algorithm (with its parameters) on T2's diameters
only and says in words how each semi-automatic one was made; SDTM's SUPPTR says the same as the
PDF and the timeline.  The cohort export lists no measurement (patients and cohort figures
only), so it has nothing to qualify.
"""

from __future__ import annotations

import copy
import csv
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from app.cli import main
from app.session import ReadingSession
from app.timelines import load_timeline
from recist.model import Method
from storage.db import Database, open_database
from storage.exchange.sr import build_timepoint_sr
from storage.exchange.sr_read import SrAlgorithm, read_sr, records_from_sr
from tests.app.test_report_provenance import ALGORITHM, VERSION, _patient


def _images(shared_data: Path) -> list[Dataset]:
    """A real CT slice as each image the patient's calipers were drawn on (1.2.3.4.<slice>)."""
    ct = pydicom.dcmread(sorted((shared_data / "ct-chest-30").glob("*.dcm"))[0])
    images = []
    for index in (5, 10, 12, 14):
        ds = copy.deepcopy(ct)
        ds.SOPInstanceUID = f"1.2.3.4.{index}"
        ds.SeriesInstanceUID = "1.2.3.4"
        images.append(ds)
    return images


def test_the_sr_names_the_algorithm_of_the_accepted_proposal_only(
    database: Database,
    session: ReadingSession,
    shared_data: Path,
    tmp_path: Path,
    template_db: Path,
) -> None:
    _patient(session)
    timeline = load_timeline(database, "S-001")
    path = tmp_path / "baseline.dcm"
    images = _images(shared_data)
    build_timepoint_sr(timeline, timeline.timepoints[0], images).save_as(path)
    report = read_sr(path)
    groups = {g.tracking_identifier: g for g in report.groups}
    accepted = groups["T2"].long_axis
    assert accepted is not None
    assert accepted.algorithm == SrAlgorithm(ALGORITHM, VERSION, ("smoothing_mm=1.5",))
    for code in ("T1", "T3", "T4"):
        axis = groups[code].long_axis
        assert axis is not None
        assert axis.algorithm is None, code
    assert groups["T1"].measurement_method == ""
    assert groups["T2"].measurement_method.startswith(
        f"semi-automatic, {ALGORITHM} {VERSION}, accepted as proposed"
    )
    assert "edited by the reader (contour edited)" in groups["T3"].measurement_method
    assert "edited by the reader (caliper moved)" in groups["T4"].measurement_method
    pairs = records_from_sr(report, images={str(ds.SOPInstanceUID): ds for ds in images})
    assert [m.method for _, m in pairs] == [Method.MANUAL] + [Method.SEMI_AUTO] * 3
    # imported into another site's database: stored semi-automatic (no contour: edits not known)
    from app.sr_import import import_report

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(template_db, other / template_db.name)
    with open_database(str(other / template_db.name)) as elsewhere:
        reader = elsewhere.readers.authenticate("rita", "rita-pw")
        import_report(elsewhere, reader, report, subject_id="S-001")
        imported = load_timeline(elsewhere, "S-001")
    said = {
        les.code: imported.provenance_of(m).describe()
        for les in imported.lesions
        if (m := imported.measurement(les.id, imported.timepoints[0].id)) is not None
    }
    assert said == {
        "T1": "manual",
        "T2": "semi-automatic, edits by the reader not known",
        "T3": "semi-automatic, edits by the reader not known",
        "T4": "semi-automatic, edits by the reader not known",
    }


def test_sdtm_supptr_says_how_each_diameter_was_made(
    database: Database, session: ReadingSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _patient(session)
    out = tmp_path / "sdtm"
    db = str(tmp_path / "caliper.sqlite3")
    assert main(["--db", db, "export", "sdtm", "--out", str(out), "--xpt", "--define"]) == 0
    assert "conformance" not in capsys.readouterr().err
    tr = list(csv.DictReader((out / "tr.csv").open(encoding="utf-8")))
    supptr = list(csv.DictReader((out / "supptr.csv").open(encoding="utf-8")))
    seq = {r["TRLNKID"]: r["TRSEQ"] for r in tr if r["TRTESTCD"] == "LDIAM"}
    said = {
        link: {r["QNAM"]: r["QVAL"] for r in supptr if r["IDVARVAL"] == seq[link]} for link in seq
    }
    assert said["T01"] == {}
    assert said["T02"] == {
        "MEASMETH": "SEMI-AUTOMATIC",
        "MEASALG": f"{ALGORITHM} {VERSION}",
        "MEASEDIT": "N",
    }
    assert said["T03"] == {
        "MEASMETH": "SEMI-AUTOMATIC",
        "MEASALG": f"{ALGORITHM} {VERSION}",  # the algorithm that drew it, not "manual edit"
        "MEASEDIT": "Y",
        "MEASEDTL": "contour edited",
    }
    assert (said["T04"]["MEASEDIT"], said["T04"]["MEASEDTL"]) == ("Y", "caliper moved")
    # TR VOLUME of each contour (mL); edited only where the contour was
    volumes = {r["TRLNKID"]: r for r in tr if r["TRTESTCD"] == "VOLUME"}
    assert {k: v["TRSTRESN"] for k, v in volumes.items()} == {
        "T02": "2.5",
        "T03": "3.1",
        "T04": "4",
    }
    edited = {
        link: next(
            r["QVAL"] for r in supptr if r["IDVARVAL"] == v["TRSEQ"] and r["QNAM"] == "MEASEDIT"
        )
        for link, v in volumes.items()
    }
    assert edited == {"T02": "N", "T03": "Y", "T04": "N"}
    assert (out / "supptr.xpt").exists()
    text = (out / "define.xml").read_text(encoding="utf-8")
    assert 'SASDatasetName="SUPPTR"' in text
    from tests.storage.exchange.test_issue14_sdtm import _schema

    assert [str(e.reason) for e in _schema().iter_errors(str(out / "define.xml"))] == []


def test_many_timelines_read_their_contours_in_chunks(
    database: Database, session: ReadingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.timelines as timelines

    _patient(session)
    one = load_timeline(database, "S-001")
    monkeypatch.setattr(timelines, "_CONTOURS_PER_QUERY", 1)
    (chunked,) = timelines.with_provenance(database, timelines.load_all(database))
    assert chunked.provenance == one.provenance
    assert sum(p.semi_automatic for p in chunked.provenance.values()) == 3
    assert {p.volume_ml for p in chunked.provenance.values()} == {None, 2.5, 3.1, 4.0}
