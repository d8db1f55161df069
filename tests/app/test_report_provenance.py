"""Which measurements were semi-automatic: the PDF report and the timeline exports (issue 16).

One patient, four targets at baseline: T1 drawn by hand, T2 a Smart caliper proposal accepted as
is, T3 a proposal whose contour the reader edited with the brush, T4 a proposal whose caliper
the reader moved.  The report footnotes each semi-automatic value (algorithm and version,
edited or not, volume); the JSON and CSV timelines say the same in their method columns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from app.reports.pdf import METHOD_NOTE, write_patient_report
from app.segmentation.editing import EDIT_ALGORITHM, EDIT_ALGORITHM_VERSION
from app.session import ReadingSession
from app.timelines import EDITED_CONTOUR_ALGORITHM, load_timeline
from recist.model import MeasurementStatus
from storage.db import Database
from storage.exchange.timeline import (
    CSV_COLUMNS,
    PROVENANCE_COLUMNS,
    RESPONSE_COLUMNS,
    dumps_timeline_csv,
    dumps_timeline_json,
    read_timeline_json,
    timeline_to_dict,
)
from tests.app.test_session import drawn
from tests.app.test_session_semiauto import _Proposal, _Region
from tests.pdf_tools import pdf_text

ALGORITHM, VERSION = "caliper-half-contrast-region", "1.4"


def _proposal(volume_ml: float) -> _Proposal:
    return replace(_Proposal(), algorithm=ALGORITHM, algorithm_version=VERSION, volume_ml=volume_ml)


def _brushed() -> _Proposal:
    """A contour edited with the brush, as ``app.segmentation.editing`` describes it."""
    return replace(
        _Proposal(),
        region=_Region(np.ones((2, 5, 6), dtype=bool), (8, 99, 119)),
        volume_ml=3.1,
        algorithm=EDIT_ALGORITHM,
        algorithm_version=EDIT_ALGORITHM_VERSION,
        parameters={
            "source": {"algorithm": ALGORITHM, "algorithm_version": VERSION, "parameters": {}},
            "edits": 1,
            "edit": {"radius_mm": 3.0},
        },
    )


def _patient(session: ReadingSession) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    session.record_measurement(drawn(30.0, 20.0, slice_index=5), organ="liver")
    session.record_semi_auto_measurement(_proposal(2.5), drawn(23.0, 14.0), organ="liver")
    t3 = session.record_semi_auto_measurement(
        _proposal(2.0), drawn(21.0, 12.0, slice_index=12), organ="liver"
    )
    session.record_contour_edit(t3.id or 0, _brushed(), drawn(27.0, 15.0, slice_index=12))
    t4 = session.record_semi_auto_measurement(
        _proposal(4.0), drawn(25.0, 11.0, slice_index=14), organ="lung"
    )
    session.move_measurement(t4.id or 0, drawn(26.0, 11.0, slice_index=14))


def test_the_edit_algorithm_is_the_one_the_timelines_recognise() -> None:
    assert EDITED_CONTOUR_ALGORITHM == EDIT_ALGORITHM


def test_timeline_json_and_csv_say_how_each_measurement_was_made(
    database: Database, session: ReadingSession, tmp_path: Path
) -> None:
    _patient(session)
    data = read_timeline_json(
        io.StringIO(dumps_timeline_json(timeline_to_dict(load_timeline(database, "S-001"))))
    )
    entries = {e["id"]: e for e in data["timepoints"][0]["targets"]}
    assert {k: entries["T1"][k] for k in PROVENANCE_COLUMNS} == {
        "method": "manual",
        "algorithm": None,
        "algorithm_version": None,
        "edited": None,
        "edits": None,
        "volume_ml": None,
    }
    assert {k: entries["T2"][k] for k in PROVENANCE_COLUMNS} == {
        "method": "semi-automatic",
        "algorithm": ALGORITHM,
        "algorithm_version": VERSION,
        "edited": False,
        "edits": None,
        "volume_ml": 2.5,
    }
    t3 = {k: entries["T3"][k] for k in PROVENANCE_COLUMNS}
    assert t3 == {
        "method": "semi-automatic",
        "algorithm": ALGORITHM,  # the one that drew the contour, not "manual edit"
        "algorithm_version": VERSION,
        "edited": True,
        "edits": "contour edited",
        "volume_ml": 3.1,
    }
    assert (entries["T4"]["edited"], entries["T4"]["edits"]) == (True, "caliper moved")
    assert entries["T4"]["volume_ml"] == 4.0
    # the case part still reads (the method keys are ignored by the case reader)
    assert [e["diameter_mm"] for e in data["timepoints"][0]["targets"]] == [30.0, 23.0, 27.0, 26.0]

    rows = list(csv.DictReader(io.StringIO(dumps_timeline_csv(data))))
    # the columns readers already know stay where they were; the method columns come last
    assert tuple(rows[0])[: len(CSV_COLUMNS) - len(PROVENANCE_COLUMNS)][-1] == RESPONSE_COLUMNS[-1]
    assert tuple(rows[0])[-len(PROVENANCE_COLUMNS) :] == PROVENANCE_COLUMNS
    lesions = {r["lesion"]: r for r in rows if r["record"] == "lesion"}
    assert [lesions[c]["method"] for c in ("T1", "T2", "T3", "T4")] == [
        "manual",
        "semi-automatic",
        "semi-automatic",
        "semi-automatic",
    ]
    assert [lesions[c]["edited"] for c in ("T1", "T2", "T3", "T4")] == ["", "false", "true", "true"]
    assert (lesions["T3"]["algorithm"], lesions["T3"]["algorithm_version"]) == (ALGORITHM, VERSION)
    assert (lesions["T2"]["volume_ml"], lesions["T1"]["volume_ml"]) == ("2.5", "")
    response = next(r for r in rows if r["record"] == "response")
    assert all(response[k] == "" for k in PROVENANCE_COLUMNS)


def test_an_undone_move_is_no_edit(database: Database, session: ReadingSession) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    m = session.record_semi_auto_measurement(_proposal(2.5), drawn(23.0, 14.0))
    session.move_measurement(m.id or 0, drawn(24.0, 14.0))
    assert load_timeline(database, "S-001").provenance_of(session.measurements()[0]).edited
    session.undo()
    timeline = load_timeline(database, "S-001")
    provenance = timeline.provenance_of(timeline.measurements[0])
    assert (provenance.edited, provenance.caliper_moved) == (False, False)
    # a status set instead of the lines is a change too, and is named as such
    session.set_status(m.lesion_id or 0, MeasurementStatus.NOT_EVALUABLE)
    timeline = load_timeline(database, "S-001")
    provenance = timeline.provenance_of(timeline.measurements[0])
    assert (provenance.edited, provenance.edits) == (True, "status set to not evaluable")


@pytest.mark.qt
def test_pdf_marks_the_semi_automatic_values_and_footnotes_them(
    database: Database, session: ReadingSession, tmp_path: Path
) -> None:
    _patient(session)
    pdf = tmp_path / "S-001.pdf"
    notes = write_patient_report(load_timeline(database, "S-001"), pdf)
    text = pdf_text(pdf)
    # a key image's caption names the footnote too (here: noted, its image is not found)
    assert any(n.startswith("key image of T2 at Baseline: 23.0 mm [1] skipped") for n in notes)
    assert any(n.startswith("key image of T1 at Baseline: 30.0 mm skipped") for n in notes)
    t1 = next(line for line in text.splitlines() if line.strip().startswith("T1 "))
    assert "30.0" in t1
    assert "[" not in t1  # manual: no mark
    assert "23.0 [1]" in text
    assert "27.0 [2]" in text
    assert "26.0 [3]" in text
    flat = " ".join(text.split())
    assert " ".join(METHOD_NOTE.split()) in flat
    assert (
        f"[1] T2 at Baseline: semi-automatic, {ALGORITHM} {VERSION}, accepted as proposed, "
        "volume 2.5 mL" in flat
    )
    assert (
        f"[2] T3 at Baseline: semi-automatic, {ALGORITHM} {VERSION}, edited by the reader "
        "(contour edited), volume 3.1 mL" in flat
    )
    assert (
        f"[3] T4 at Baseline: semi-automatic, {ALGORITHM} {VERSION}, edited by the reader " in flat
    )
    assert "(caliper moved), volume 4.0 mL" in flat
