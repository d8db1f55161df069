"""Issue 11, "Done when": a reader's day from a fresh install leaves the audit trail intact.

Qt-free: the command line sets up a fresh database as a site would (`caliper db
init`, `caliper reader add`), then a ReadingSession on real SQLite reads the demo
series (resources/demo): open the series, measure the baseline, add and measure the
follow-up, an investigator signs, an unexplained edit of the signed timepoint is
refused, the reader amends it with a reason, the investigator signs again.  Each
step lists the audit events it must leave; the trail holds exactly those (plus the
stored responses the step changed), and `caliper audit verify` says it is intact.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.session import ReadingSession, TimepointLockedError
from recist.model import DrawnGeometry, LesionKind, MeasurementStatus, Segment
from storage.db import AuditEvent, Database, open_database
from storage.dicom.loader import load_series

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "baseline"
READER_PW = "rita reads all day"
INVESTIGATOR_PW = "ivan signs with care"

Point = tuple[float, float]


def _segment(volume: Any, slice_index: int, start: Point, end: Point) -> Segment:
    """A caliper line on an axial slice from (column, row) pixels, as the viewer builds it."""
    (c0, r0), (c1, r1) = start, end
    return Segment(
        (c0, r0),
        (c1, r1),
        tuple(float(v) for v in volume.index_to_lps(slice_index, r0, c0)),  # type: ignore[arg-type]
        tuple(float(v) for v in volume.index_to_lps(slice_index, r1, c1)),  # type: ignore[arg-type]
    )


def _drawn(
    volume: Any, slice_index: int, long: tuple[Point, Point], short: tuple[Point, Point] | None
) -> DrawnGeometry:
    return DrawnGeometry(
        series_instance_uid=volume.series_instance_uid,
        sop_instance_uid=volume.sop_instance_uids[slice_index],
        slice_index=slice_index,
        long_axis=_segment(volume, slice_index, *long),
        short_axis=None if short is None else _segment(volume, slice_index, *short),
    )


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
def fresh_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty folder set up from the command line: database, a reader, an investigator."""
    url = str(tmp_path / "caliper.sqlite3")
    _cli(capsys, "--db", url, "db", "init")
    for username, name, role, password in (
        ("rita", "Rita Reader", "reader", READER_PW),
        ("ivan", "Dr Ivan Investigator", "investigator", INVESTIGATOR_PW),
    ):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        _cli(
            capsys,
            "--db",
            url,
            "reader",
            "add",
            "--username",
            username,
            "--name",
            name,
            "--role",
            role,
            "--password-stdin",
            "--as",
            "system",
        )
    return url


Expected = list[tuple[str, str]]


def _step(
    db: Database,
    trail: list[tuple[str, Expected, list[AuditEvent]]],
    name: str,
    expected: Expected,
    action: Callable[[], object],
) -> None:
    """Run one reader action and keep the events it left beside the ones it should leave."""
    before = len(db.audit_events())
    action()
    trail.append((name, expected, db.audit_events()[before:]))


def _stray(expected: Expected, events: list[AuditEvent]) -> list[str]:
    """Events that the action does not explain: the expected data events in order, then
    only stored responses (assessments) that really changed."""
    got = [(e.action, e.entity) for e in events]
    problems = []
    if got[: len(expected)] != expected:
        problems.append(f"expected {expected} first, got {got}")
    for event in events[len(expected) :]:
        if (event.action, event.entity) not in {("create", "assessment"), ("update", "assessment")}:
            problems.append(f"stray event {event.action} {event.entity} {event.entity_id}")
        elif event.before is not None and event.before.get("result") == event.after.get("result"):
            problems.append(f"assessment {event.entity_id} re-stored unchanged")
    return problems


def test_a_readers_day_leaves_the_audit_trail_intact_and_no_stray_events(
    fresh_install: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_install
    with open_database(url) as db:
        setup = [(e.action, e.entity) for e in db.audit_events()]
        assert setup == [("create", "reader")] * 3  # system, rita, ivan: nothing else
        rita = db.readers.authenticate("rita", READER_PW)
        session = ReadingSession(db, rita)
        trail: list[tuple[str, Expected, list[AuditEvent]]] = []

        def step(name: str, expected: Expected, action: Callable[[], object]) -> None:
            return _step(db, trail, name, expected, action)

        volume = load_series(DEMO)  # open series: reading images writes nothing
        assert len(db.audit_events()) == 3
        series = {
            "study_instance_uid": volume.study_instance_uid,
            "series_instance_uid": volume.series_instance_uid,
            "modality": volume.modality,
            "slice_thickness_mm": volume.slice_thickness_mm,
        }
        step(
            "add patient",
            [("create", "patient")],
            lambda: session.add_patient("S-DAY", "CRLM conversion", confirmation_required=False),
        )
        step("open patient", [], lambda: session.open_patient("S-DAY"))
        step(
            "baseline timepoint",
            [("create", "timepoint")],
            lambda: session.add_timepoint("Baseline", volume.scan_date, **series),
        )
        t1 = _drawn(volume, 9, ((158.0, 318.0), (192.0, 336.0)), ((178.0, 318.0), (172.0, 336.0)))
        t2 = _drawn(volume, 5, ((148.0, 298.0), (173.0, 311.0)), None)
        nt1 = _drawn(volume, 9, ((230.0, 328.0), (243.0, 336.0)), None)
        ids: dict[str, int] = {}

        def measure_new(code: str, geometry: DrawnGeometry, **kw: Any) -> None:
            m = session.record_measurement(geometry, **kw)
            assert m.lesion_id is not None
            ids[code] = m.lesion_id

        new_lesion = [("create", "lesion"), ("create", "measurement")]
        step(
            "measure T1",
            new_lesion,
            lambda: measure_new("T1", t1, organ="liver", location="segment VII"),
        )
        step(
            "measure T2",
            new_lesion,
            lambda: measure_new("T2", t2, organ="liver", location="segment IVa"),
        )
        step(
            "record NT1",
            new_lesion,
            lambda: measure_new("NT1", nt1, kind=LesionKind.NON_TARGET, organ="peritoneum"),
        )
        step(
            "NT1 present",
            [("update", "measurement")],
            lambda: session.set_status(ids["NT1"], MeasurementStatus.PRESENT),
        )
        step("undo NT1 present", [("update", "measurement")], session.undo)
        step("redo NT1 present", [("update", "measurement")], session.redo)

        step(
            "follow-up timepoint",
            [("create", "timepoint")],
            lambda: session.add_timepoint("C3", volume.scan_date, 3, **series),
        )
        t1_c3 = _drawn(
            volume, 9, ((164.0, 322.0), (185.0, 333.0)), ((176.0, 321.0), (173.0, 334.0))
        )
        t2_c3 = _drawn(volume, 5, ((153.0, 301.0), (168.0, 308.0)), None)
        step(
            "measure T1 at C3",
            [("create", "measurement")],
            lambda: session.record_measurement(t1_c3, lesion_id=ids["T1"]),
        )
        step(
            "measure T2 at C3",
            [("create", "measurement")],
            lambda: session.record_measurement(t2_c3, lesion_id=ids["T2"]),
        )
        step(
            "NT1 present at C3",
            [("create", "measurement")],
            lambda: session.set_status(ids["NT1"], MeasurementStatus.PRESENT),
        )
        c3 = session.current_timepoint
        assert c3 is not None
        assert c3.id is not None
        assert str(session.assessment.timepoints[-1].overall) == "PR"  # type: ignore[union-attr]

        ivan = ReadingSession(db, db.readers.authenticate("ivan", INVESTIGATOR_PW))
        ivan.open_patient("S-DAY")
        step(
            "sign C3",
            [("sign", "signature")],
            lambda: ivan.sign(c3.id, "ivan", INVESTIGATOR_PW, "reviewed and approved"),
        )
        session.open_patient("S-DAY")  # the reader's window reloads the signed patient

        moved = _drawn(
            volume, 9, ((164.0, 322.0), (186.0, 334.0)), ((176.0, 321.0), (173.0, 334.0))
        )
        c3_t1 = session.measurement_for(ids["T1"], c3.id)
        assert c3_t1 is not None
        assert c3_t1.id is not None

        def refused() -> None:
            with pytest.raises(TimepointLockedError, match="Give a reason"):
                session.move_measurement(c3_t1.id, moved)  # type: ignore[arg-type]
            with pytest.raises(TimepointLockedError, match="Give a reason"):
                session.record_measurement(t2, kind=LesionKind.NEW, organ="lung")

        step("edits of signed C3 without a reason are refused", [], refused)
        step(
            "amend T1 at C3",
            [("void", "signature"), ("update", "measurement")],
            lambda: session.move_measurement(c3_t1.id, moved, reason="end point on a vessel"),
        )
        ivan.open_patient("S-DAY")
        step(
            "sign C3 again",
            [("sign", "signature")],
            lambda: ivan.sign(c3.id, "ivan", INVESTIGATOR_PW, "reviewed and approved"),
        )

    problems = [
        f"{name}: {p}" for name, expected, events in trail for p in _stray(expected, events)
    ]
    assert problems == []
    out = _cli(capsys, "--db", url, "audit", "verify")
    assert "audit trail intact" in out
