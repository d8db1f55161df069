"""Issue 11 point 13: `caliper timeline export` keeps the short axis and where calipers were drawn.

Export -> import into a fresh database -> export again gives identical files, on
SQLite and PostgreSQL, through the command line a site would use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from app.cli import main
from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Patient,
    Segment,
    Timepoint,
)
from storage.db import ClinicalStore, open_database

SERIES = "1.2.826.0.1.3680043.8.498.13"
HAS_FRAME = "frame_number" in DrawnGeometry.__dataclass_fields__


def _segment(x: float, y: float, z: float, dx: float, dy: float) -> Segment:
    return Segment(
        (x / 0.78125, y / 0.78125),
        ((x + dx) / 0.78125, (y + dy) / 0.78125),
        (x - 200.0, y - 180.5, z),
        (x + dx - 200.0, y + dy - 180.5, z),
    )


def _geometry(
    sop: int, long: tuple[float, float], short: tuple[float, float] | None
) -> DrawnGeometry:
    extra = {"frame_number": 2} if HAS_FRAME and sop % 2 else {}
    return DrawnGeometry(
        series_instance_uid=SERIES,
        sop_instance_uid=f"{SERIES}.{sop}",
        slice_index=sop,
        long_axis=_segment(100.3, 140.15, -101.25, *long),
        short_axis=None if short is None else _segment(111.0, 135.5, -101.25, *short),
        **extra,  # type: ignore[arg-type]
    )


def _build(store: ClinicalStore) -> None:
    """A reading with bidirectional targets, a node, a drawn non-target and a new lesion."""
    patient = store.add_patient(Patient(id=None, subject_id="S-013", confirmation_required=False))
    base, c3 = (
        store.add_timepoint(
            Timepoint(
                id=None,
                patient_id=patient.id,
                order=i,
                label=label,
                scan_date=day,
                slice_thickness_mm=2.5,
                modality="CT",
            )
        )
        for i, (label, day) in enumerate(
            (("Baseline", date(2026, 1, 2)), ("C3", date(2026, 3, 10)))
        )
    )

    def lesion(code: str, kind: LesionKind, organ: str, nodal: bool = False) -> int:
        stored = store.add_lesion(
            Lesion(
                id=None,
                patient_id=patient.id,
                code=code,
                kind=kind,
                organ=organ,
                tracking_uid=f"2.25.1313{code.encode().hex()}",
                location="segment VII" if code == "T1" else "",
                nodal=nodal,
            )
        )
        assert stored.id is not None
        return stored.id

    def measure(
        lesion_id: int,
        tp: Timepoint,
        status: MeasurementStatus,
        long: float | None,
        short: float | None,
        geometry: DrawnGeometry | None,
    ) -> None:
        store.add_measurement(
            Measurement(
                id=None,
                lesion_id=lesion_id,
                timepoint_id=tp.id,
                reader_id=None,
                status=status,
                long_axis_mm=long,
                short_axis_mm=short,
                geometry=geometry,
            )
        )

    measured = MeasurementStatus.MEASURED
    t1 = lesion("T1", LesionKind.TARGET, "liver")
    l1 = lesion("T2", LesionKind.TARGET, "lymph node", nodal=True)
    nt1 = lesion("NT1", LesionKind.NON_TARGET, "peritoneum")
    n1 = lesion("N1", LesionKind.NEW, "lung")
    measure(t1, base, measured, 22.2, 11.1, _geometry(21, (17.34, 13.86), (-6.2, 9.21)))
    measure(l1, base, measured, 24.5, 16.0, _geometry(30, (20.0, 14.14), (-12.0, 10.6)))
    measure(nt1, base, measured, 31.0, None, _geometry(41, (31.0, 0.0), None))
    measure(t1, c3, measured, 15.0, 8.0, _geometry(23, (12.0, 9.0), (-4.8, 6.4)))
    measure(l1, c3, measured, 14.0, 9.0, _geometry(31, (11.2, 8.4), (-5.4, 7.2)))
    measure(nt1, c3, MeasurementStatus.PRESENT, None, None, None)
    measure(n1, c3, measured, 12.0, 6.0, _geometry(55, (12.0, 0.0), (0.0, 6.0)))


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _init(capsys: pytest.CaptureFixture[str], url: str) -> None:
    _cli(capsys, "--db", url, "db", "init")


def test_point13_timeline_export_import_export_is_identical(
    make_url_for: Callable[..., str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = make_url_for(), make_url_for()
    _init(capsys, first)
    with open_database(first) as db:
        _build(db.store(db.readers.get("system")))
    a = tmp_path / "a.json"
    _cli(capsys, "--db", first, "timeline", "export", "--patient", "S-013", "--out", str(a))
    exported = json.loads(a.read_text())
    t1 = exported["timepoints"][0]["targets"][0]
    assert (t1["diameter_mm"], t1["short_axis_mm"]) == (22.2, 11.1)  # was 22.2 alone
    assert t1["image"]["sop_instance_uid"] == f"{SERIES}.21"
    assert t1["image"]["long_axis"]["start_lps_mm"] == [100.3 - 200.0, 140.15 - 180.5, -101.25]
    node = exported["timepoints"][0]["targets"][1]
    assert (node["nodal"], node["diameter_mm"], node["long_axis_mm"]) == (True, 16.0, 24.5)
    assert exported["timepoints"][0]["non_targets"][0]["long_axis_mm"] == 31.0
    if HAS_FRAME:
        assert t1["image"]["frame_number"] == 2

    _init(capsys, second)
    _cli(capsys, "--db", second, "timeline", "import", str(a), "--as", "system")
    b = tmp_path / "b.json"
    _cli(capsys, "--db", second, "timeline", "export", "--patient", "S-013", "--out", str(b))
    assert b.read_text() == a.read_text()

    # the response timeline export (`caliper export timeline`) agrees between the two databases
    one = _cli(capsys, "--db", first, "export", "timeline", "--patient", "S-013")
    two = _cli(capsys, "--db", second, "export", "timeline", "--patient", "S-013")
    assert one == two
    assert json.loads(one)["timepoints"][0]["targets"][0]["image"] == t1["image"]

    # and the stored records are the same, drawing included
    def drawn(url: str) -> list[tuple[object, ...]]:
        with open_database(url) as db:
            store = db.read_only_store()
            patient = store.patient("S-013")
            return [
                (m.status, m.long_axis_mm, m.short_axis_mm, m.geometry)
                for m in store.measurements(patient_id=patient.id)
            ]

    assert drawn(first) == drawn(second)
    with open_database(second) as db:
        assert db.verify_audit().ok
