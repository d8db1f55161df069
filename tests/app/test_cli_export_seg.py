"""``caliper export sr`` writes the Smart caliper contours as DICOM SEG, referenced by the SR.

Real CT ``crlm-ct-1006``: a ~8 mm metastasis at slice 38, row 247, column 147 is measured with
one click (``app.segmentation``), stored as a semi-automatic measurement with its contour.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pydicom

from app.cli import main
from app.segmentation import measure_lesion
from app.session import ReadingSession
from storage.db import Database
from storage.dicom import load_series


def test_export_sr_writes_the_seg_and_references_its_segment(
    database: Database, session: ReadingSession, shared_data: Path, tmp_path: Path
) -> None:
    folder = shared_data / "crlm-ct-1006"
    volume = load_series(folder)
    session.add_timepoint("Baseline", date(2026, 1, 2))
    proposal = measure_lesion(volume, (38, 247, 147))
    m = session.record_semi_auto_measurement(proposal, proposal.geometry(volume))
    url = str(database.url)
    out = tmp_path / "out"
    argv = ["--db", url, "export", "sr", "--patient", "S-001", "--images", str(folder)]
    assert main([*argv, "--out", str(out)]) == 0
    (seg_path,) = out.glob("*_SEG.dcm")
    (sr_path,) = out.glob("*_SR.dcm")
    seg = pydicom.dcmread(seg_path)
    assert seg.Modality == "SEG"
    assert seg.SegmentSequence[0].SegmentLabel == "T1"
    sr = pydicom.dcmread(sr_path)
    refs = [
        item
        for item in sr.iterall()
        if item.keyword == "ReferencedSOPInstanceUID" and item.value == seg.SOPInstanceUID
    ]
    assert refs, "the SR does not reference the SEG"
    segment_numbers = [i.value for i in sr.iterall() if i.keyword == "ReferencedSegmentNumber"]
    assert segment_numbers == [1]
    assert m.id is not None
