"""ReadingSession against a real SQLite database on tmp_path (no mocks of storage)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.session import (
    AuthenticationFailedError,
    DuplicateRecordError,
    NoPatientOpenError,
    PermissionDeniedError,
    ReadingSession,
    SessionError,
    TimepointLockedError,
)
from recist.model import DrawnGeometry, LesionKind, MeasurementStatus, Role, Segment
from storage.db import Database, open_database


def line(length_mm: float, *, y: float = 0.0) -> Segment:
    """A horizontal caliper line of ``length_mm`` in patient space (1 px = 1 mm)."""
    return Segment((0.0, y), (length_mm, y), (0.0, y, 0.0), (length_mm, y, 0.0))


def drawn(long_mm: float, short_mm: float | None = None, *, slice_index: int = 10) -> DrawnGeometry:
    return DrawnGeometry(
        series_instance_uid="1.2.3.4",
        sop_instance_uid=f"1.2.3.4.{slice_index}",
        slice_index=slice_index,
        long_axis=line(long_mm),
        short_axis=line(short_mm, y=5.0) if short_mm is not None else None,
    )


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with a reader and an investigator, built once (scrypt is slow)."""
    path = tmp_path_factory.mktemp("template") / "caliper.sqlite3"
    with open_database(str(path)) as db:
        db.readers.create("rita", "Rita Reader", Role.READER, "rita-pw")
        db.readers.create("ivan", "Ivan Investigator", Role.INVESTIGATOR, "ivan-pw")
    return path


@pytest.fixture
def database(tmp_path: Path, template_db: Path) -> Iterator[Database]:
    """A fresh copy of the template database for each test."""
    for suffix in ("", "-wal", "-shm"):
        source = template_db.with_name(template_db.name + suffix)
        if source.exists():
            shutil.copy(source, tmp_path / source.name)
    db = open_database(str(tmp_path / template_db.name))
    yield db
    db.close()


@pytest.fixture
def session(database: Database) -> ReadingSession:
    reader = database.readers.authenticate("rita", "rita-pw")
    s = ReadingSession(database, reader)
    s.add_patient("S-001", "CRLM conversion", first_dose_date=date(2026, 1, 5))
    s.open_patient("S-001")
    return s


@pytest.fixture
def baseline(session: ReadingSession):  # noqa: ANN201 - a Timepoint
    return session.add_timepoint("Baseline", date(2026, 1, 2))


def audit_count(database: Database, entity: str = "measurement") -> int:
    return len(database.audit_events(entity=entity))


# -- patients and timepoints -----------------------------------------------------------------


def test_open_patient_and_timepoints_in_order(session: ReadingSession) -> None:
    opened: list[object] = []
    selected: list[object] = []
    session.patient_opened.connect(opened.append)
    session.timepoint_selected.connect(selected.append)
    base = session.add_timepoint("Baseline", date(2026, 1, 2))
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    assert (base.order, c3.order) == (0, 1)
    assert [t.label for t in session.timepoints()] == ["Baseline", "C3"]
    assert session.current_timepoint == c3
    assert session.select_timepoint(base.id) == base
    assert selected == [base, c3, base]
    session.open_patient("S-001")
    assert opened[-1].subject_id == "S-001"
    assert session.current_timepoint == c3  # the latest timepoint is the one being read


def test_errors_are_typed_and_actionable(database: Database, session: ReadingSession) -> None:
    with pytest.raises(DuplicateRecordError, match="S-001"):
        session.add_patient("S-001")
    with pytest.raises(SessionError, match="no patient 'S-404'"):
        session.open_patient("S-404")
    fresh = ReadingSession(database, session.reader)
    with pytest.raises(NoPatientOpenError, match="Open a patient first"):
        fresh.lesions()
    with pytest.raises(NoPatientOpenError, match="Select a timepoint"):
        session.record_measurement(drawn(20.0))


# -- recording and editing -------------------------------------------------------------------


def test_bidirectional_measurement_lengths_and_new_target_code(
    session: ReadingSession, baseline: object
) -> None:
    added: list[object] = []
    session.lesion_added.connect(added.append)
    m = session.record_measurement(drawn(32.04, 18.96), organ="liver", location="segment VII")
    assert (m.long_axis_mm, m.short_axis_mm) == (32.0, 19.0)
    assert m.status is MeasurementStatus.MEASURED
    assert m.geometry is not None
    assert m.geometry.slice_index == 10
    (lesion,) = session.lesions()
    assert (lesion.code, lesion.kind, lesion.organ) == ("T1", LesionKind.TARGET, "liver")
    assert lesion.tracking_uid.startswith("2.25.")
    assert added == [lesion]
    assert session.commands.undo_label == "Undo Measure new lesion T1"


def test_swapped_axes_and_next_codes_per_kind(session: ReadingSession, baseline: object) -> None:
    m = session.record_measurement(drawn(12.0, 20.0))
    assert (m.long_axis_mm, m.short_axis_mm) == (20.0, 12.0)
    session.record_measurement(drawn(15.0), organ="lung")
    session.record_measurement(drawn(9.0), kind=LesionKind.NON_TARGET, organ="peritoneum")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)  # new lesions only at follow-up
    session.record_measurement(drawn(7.0), kind=LesionKind.NEW, organ="bone")
    assert [les.code for les in session.lesions()] == ["N1", "NT1", "T1", "T2"]
    assert {les.organ for les in session.lesions()} >= {"unspecified", "lung"}


def test_lesions_carry_forward_and_previous_measurement(
    session: ReadingSession, baseline: object
) -> None:
    first = session.record_measurement(drawn(30.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    (lesion,) = session.lesions()
    assert session.measurement_for(lesion.id) is None
    tp, prev = session.previous_measurement(lesion.id)
    assert tp.label == "Baseline"
    assert prev == first
    again = session.record_measurement(drawn(21.0), lesion_id=lesion.id)
    assert again.timepoint_id == session.current_timepoint.id
    assert len(session.measurements()) == 1
    assert len(session.lesions()) == 1


def test_move_measurement_is_one_command_and_noop_is_not_pushed(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    m = session.record_measurement(drawn(30.0), organ="liver")
    changed: list[object] = []
    session.measurement_changed.connect(changed.append)
    session.move_measurement(m.id, drawn(25.55))
    assert session.measurement_for(m.lesion_id).long_axis_mm == 25.6
    assert session.commands.undo_label == "Undo Move measurement"
    events = audit_count(database)
    session.move_measurement(m.id, drawn(25.55))  # same lines: nothing changes
    assert audit_count(database) == events
    assert len(session.commands.undo_commands) == 2
    assert len(changed) == 1


def test_undo_redo_are_new_audited_writes(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    m = session.record_measurement(drawn(30.0), organ="liver")
    session.move_measurement(m.id, drawn(20.0))
    events = audit_count(database)
    session.undo()
    assert session.measurement_for(m.lesion_id).long_axis_mm == 30.0
    assert audit_count(database) == events + 1
    session.redo()
    assert session.measurement_for(m.lesion_id).long_axis_mm == 20.0
    assert audit_count(database) == events + 2
    assert session.commands.can_undo_redo() == (True, False)


def test_undo_past_creation_and_redo_follow_new_ids(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    m = session.record_measurement(drawn(30.0), organ="liver")
    session.move_measurement(m.id, drawn(22.0))
    session.undo()
    session.undo()  # the lesion and its measurement are deleted
    assert session.lesions() == []
    assert session.measurements() == []
    session.redo()  # re-created with new ids
    session.redo()  # the move follows the measurement to its new id
    (again,) = session.measurements()
    assert again.long_axis_mm == 22.0
    assert session.lesions()[0].code == "T1"
    creates = [e for e in database.audit_events(entity="lesion") if e.action == "create"]
    deletes = [e for e in database.audit_events(entity="lesion") if e.action == "delete"]
    assert (len(creates), len(deletes)) == (2, 1)


def test_reused_row_ids_do_not_confuse_undo(session: ReadingSession, baseline: object) -> None:
    first = session.record_measurement(drawn(30.0), organ="liver")
    session.delete_measurement(first.id)  # SQLite may hand this id out again
    second = session.record_measurement(drawn(25.0), lesion_id=first.lesion_id)
    session.undo()
    session.undo()
    (restored,) = session.measurements()
    assert restored.long_axis_mm == 30.0
    session.redo()
    assert session.measurements() == []
    session.redo()
    (final,) = session.measurements()
    assert final.long_axis_mm == 25.0
    assert final.lesion_id == second.lesion_id
    session.move_measurement(final.id, drawn(26.0))
    session.undo()
    assert session.measurement_for(final.lesion_id).long_axis_mm == 25.0


def test_new_edit_clears_redo(session: ReadingSession, baseline: object) -> None:
    m = session.record_measurement(drawn(30.0), organ="liver")
    session.move_measurement(m.id, drawn(20.0))
    session.undo()
    assert session.commands.can_undo_redo() == (True, True)
    session.set_status(m.lesion_id, MeasurementStatus.TOO_SMALL)
    assert session.commands.can_undo_redo() == (True, False)
    assert session.measurement_for(m.lesion_id).status is MeasurementStatus.TOO_SMALL


def test_set_status_on_unmeasured_lesion_and_refused_statuses(
    session: ReadingSession, baseline: object
) -> None:
    session.record_measurement(drawn(14.0), kind=LesionKind.NON_TARGET, organ="peritoneum")
    (nt,) = session.lesions()
    session.add_timepoint("C3", date(2026, 3, 10))
    session.set_status(nt.id, MeasurementStatus.ABSENT)
    got = session.measurement_for(nt.id)
    assert got.status is MeasurementStatus.ABSENT
    assert got.long_axis_mm is None
    assert session.commands.undo_label == "Undo Set NT1 absent"
    with pytest.raises(SessionError, match="draw the lesion"):
        session.set_status(nt.id, MeasurementStatus.MEASURED)
    with pytest.raises(SessionError, match="fragments"):
        session.set_status(nt.id, MeasurementStatus.SPLIT)


def test_change_lesion_and_duplicate_code(session: ReadingSession, baseline: object) -> None:
    session.record_measurement(drawn(30.0))
    session.record_measurement(drawn(20.0))
    t1, t2 = session.lesions()
    session.change_lesion(t1.id, organ="liver", location="segment II", nodal=False)
    assert session.lesions()[0].organ == "liver"
    session.undo()
    assert session.lesions()[0].organ == "unspecified"
    with pytest.raises(DuplicateRecordError, match="T2"):
        session.change_lesion(t1.id, code="T2")
    assert session.commands.can_undo_redo() == (True, True)  # the refused edit was not pushed


def test_delete_lesion_is_one_composite_with_its_measurements(
    session: ReadingSession, baseline: object
) -> None:
    m = session.record_measurement(drawn(30.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10))
    session.record_measurement(drawn(25.0), lesion_id=m.lesion_id)
    removed: list[int] = []
    session.measurement_removed.connect(removed.append)
    session.delete_lesion(m.lesion_id)
    assert session.lesions() == []
    assert len(removed) == 2
    assert session.commands.undo_label == "Undo Delete lesion T1"
    session.undo()
    (lesion,) = session.lesions()
    assert lesion.code == "T1"
    lengths = sorted(
        session.measurement_for(lesion.id, tp.id).long_axis_mm for tp in session.timepoints()
    )
    assert lengths == [25.0, 30.0]


def test_delete_measurement_and_undo(session: ReadingSession, baseline: object) -> None:
    m = session.record_measurement(drawn(30.0), organ="liver")
    session.delete_measurement(m.id)
    assert session.measurements() == []
    session.undo()
    (back,) = session.measurements()
    assert back.long_axis_mm == 30.0
    assert back.lesion_id == m.lesion_id


# -- assessment and signing ------------------------------------------------------------------


def test_assessment_follows_every_edit(session: ReadingSession, baseline: object) -> None:
    results: list[object] = []
    session.assessment_updated.connect(results.append)
    m = session.record_measurement(drawn(50.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    session.record_measurement(drawn(35.0), lesion_id=m.lesion_id)  # -30 %
    c3 = session.assessment.timepoints[-1]
    assert (str(c3.overall), float(c3.pct_from_baseline)) == ("PR", -30.0)
    assert session.assessment is results[-1]
    n = len(results)
    session.undo()  # C3 loses its only target measurement
    assert len(results) == n + 1
    assert str(session.assessment.timepoints[-1].overall) == "NE"
    session.redo()
    assert str(session.assessment.timepoints[-1].overall) == "PR"


def test_only_an_investigator_signs_and_signed_timepoint_is_locked(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    m = session.record_measurement(drawn(50.0), organ="liver")
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    follow = session.record_measurement(drawn(30.0), lesion_id=m.lesion_id)
    with pytest.raises(PermissionDeniedError, match="only an investigator"):
        session.sign(c3.id, "rita", "rita-pw")
    with pytest.raises(AuthenticationFailedError):
        session.sign(c3.id, "ivan", "wrong")
    locked: list[int] = []
    session.timepoint_locked.connect(locked.append)
    signature = session.sign(c3.id, "ivan", "ivan-pw")
    assert signature.is_valid
    assert "PR" in signature.meaning
    assert session.is_locked(c3.id)
    assert locked == [c3.id]
    assert session.commands.can_undo_redo() == (False, False)
    with pytest.raises(TimepointLockedError, match="reason"):
        session.move_measurement(follow.id, drawn(28.0))
    with pytest.raises(TimepointLockedError):
        session.set_status(m.lesion_id, MeasurementStatus.NOT_EVALUABLE)
    assert session.commands.can_undo_redo() == (False, False)
    session.move_measurement(follow.id, drawn(28.0), reason="caliper misplaced on vessel")
    assert not session.is_locked(c3.id)  # the amendment voided the signature
    voids = [e for e in database.audit_events(entity="signature") if e.action == "void"]
    assert voids
    assert voids[-1].reason == "caliper misplaced on vessel"


def test_signed_timepoint_refuses_deletes_without_reason(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    m = session.record_measurement(drawn(30.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10))
    later = session.record_measurement(drawn(20.0), lesion_id=m.lesion_id)
    session.sign(session.current_timepoint.id, "ivan", "ivan-pw", "I confirm")
    with pytest.raises(TimepointLockedError):
        session.delete_measurement(later.id)
    with pytest.raises(TimepointLockedError):
        session.delete_lesion(m.lesion_id)
    assert len(session.measurements()) == 1


def test_undo_into_a_timepoint_signed_elsewhere_needs_a_reason(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    m = session.record_measurement(drawn(50.0), organ="liver")
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    follow = session.record_measurement(drawn(30.0), lesion_id=m.lesion_id)
    session.move_measurement(follow.id, drawn(31.0))
    investigator = ReadingSession(database, database.readers.authenticate("ivan", "ivan-pw"))
    investigator.open_patient("S-001")
    investigator.sign(c3.id, "ivan", "ivan-pw")
    with pytest.raises(TimepointLockedError, match="Give a reason"):
        session.undo()
    assert session.commands.undo_label == "Undo Move measurement"  # still there to retry
    session.undo(reason="second reader disagreed with the move")
    assert session.measurement_for(m.lesion_id).long_axis_mm == 30.0
    assert not session.is_locked(c3.id)
    updates = [e for e in database.audit_events(entity="measurement") if e.action == "update"]
    update = updates[-1]
    assert update.reason == "second reader disagreed with the move"


def test_engine_failure_keeps_the_edit_and_reports_it(
    session: ReadingSession, baseline: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recist

    def broken(*_args: object, **_kwargs: object) -> None:
        raise recist.CaseFormatError("timepoints[0]", "simulated engine refusal")

    monkeypatch.setattr(recist, "evaluate", broken)
    problems: list[str] = []
    session.assessment_failed.connect(problems.append)
    m = session.record_measurement(drawn(30.0), organ="liver")
    assert session.measurement_for(m.lesion_id) is not None
    assert session.assessment is None
    assert problems
    assert "simulated engine refusal" in problems[0]
    assert session.assessment_problem == problems[-1]


def test_attach_series_is_an_undoable_edit(session: ReadingSession, baseline: object) -> None:
    changed: list[object] = []
    session.timepoint_changed.connect(changed.append)
    tp = session.attach_series(
        session.current_timepoint.id,
        series_instance_uid="1.2.3.4",
        modality="CT",
        slice_thickness_mm=2.5,
    )
    assert session.current_timepoint.series_instance_uid == "1.2.3.4" == tp.series_instance_uid
    assert session.current_timepoint.slice_thickness_mm == 2.5
    assert session.commands.undo_label == "Undo Attach series to Baseline"
    session.undo()
    assert session.current_timepoint.series_instance_uid is None
    assert len(changed) == 2


# -- split and merged targets (rules.md §3, RECIST 1.1 §4.3.2) ------------------------------


def two_targets_then_c3(session: ReadingSession) -> tuple[int, int]:
    """T1 30 mm and T2 20 mm at baseline, then a C3 timepoint (current)."""
    t1 = session.record_measurement(drawn(30.0), organ="liver").lesion_id
    t2 = session.record_measurement(drawn(20.0), organ="liver").lesion_id
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    return t1, t2


def test_split_target_counts_the_sum_of_its_fragments(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    t1, t2 = two_targets_then_c3(session)
    session.record_measurement(drawn(15.0), lesion_id=t1)  # drawn first, then found split
    session.record_measurement(drawn(10.0), lesion_id=t2)
    assert float(session.assessment.timepoints[-1].sum_mm) == 25.0
    audited = audit_count(database)

    stored = session.record_split(t1, [12, 8])

    assert stored.status is MeasurementStatus.SPLIT
    assert stored.fragments_mm == (12.0, 8.0)
    assert stored.long_axis_mm == 20.0
    assert stored.geometry is None  # the drawn line no longer shows the recorded value
    assert session.measurement_for(t1) == stored
    assert float(session.assessment.timepoints[-1].sum_mm) == 30.0  # T1 counts 20 mm + T2 10 mm
    assert session.commands.undo_label == "Undo Split T1 (12.0 + 8.0 mm)"
    assert audit_count(database) == audited + 1

    session.undo()
    back = session.measurement_for(t1)
    assert back.status is MeasurementStatus.MEASURED
    assert back.long_axis_mm == 15.0
    assert back.fragments_mm == ()
    assert back.geometry is not None
    assert float(session.assessment.timepoints[-1].sum_mm) == 25.0
    session.redo()
    assert session.measurement_for(t1).fragments_mm == (12.0, 8.0)


def test_split_on_an_unmeasured_target_adds_one_measurement(
    session: ReadingSession, baseline: object
) -> None:
    t1, t2 = two_targets_then_c3(session)
    session.record_measurement(drawn(10.0), lesion_id=t2)
    session.record_split(t1, (7.26, 4.0, 3.0))
    m = session.measurement_for(t1)
    assert m.fragments_mm == (7.3, 4.0, 3.0)
    assert m.long_axis_mm == 14.3
    assert float(session.assessment.timepoints[-1].sum_mm) == 24.3
    session.undo()
    assert session.measurement_for(t1) is None


def test_split_refuses_bad_fragments_and_non_targets(
    session: ReadingSession, baseline: object
) -> None:
    session.record_measurement(drawn(14.0), kind=LesionKind.NON_TARGET, organ="peritoneum")
    t1, _ = two_targets_then_c3(session)  # non-targets are chosen at baseline (issue 11.3)
    nt = next(les for les in session.lesions() if les.code == "NT1")
    depth = session.commands.can_undo_redo()
    with pytest.raises(SessionError, match="give the long axis of each fragment"):
        session.record_split(t1, [])
    with pytest.raises(SessionError, match="at least two"):
        session.record_split(t1, [12.0])
    with pytest.raises(SessionError, match="fragment 2 must be a length above 0 mm"):
        session.record_split(t1, [12.0, 0.0])
    with pytest.raises(SessionError, match="only target lesions"):
        session.record_split(nt.id, [5.0, 5.0])
    assert session.commands.can_undo_redo() == depth
    assert session.measurement_for(t1) is None


def test_merged_target_counts_zero_and_links_the_target_it_joined(
    database: Database, session: ReadingSession, baseline: object
) -> None:
    t1, t2 = two_targets_then_c3(session)
    session.record_measurement(drawn(45.0), lesion_id=t1)  # the coalesced mass, on T1
    audited = audit_count(database)

    stored = session.record_merge(t2, "t1")

    assert stored.status is MeasurementStatus.MERGED
    assert stored.coalesced_into == "T1"
    assert stored.long_axis_mm == 0.0
    c3 = session.assessment.timepoints[-1]
    assert float(c3.sum_mm) == 45.0  # 45 + 0, not NE for the missing T2
    assert session.commands.undo_label == "Undo Merge T2 into T1"
    assert audit_count(database) == audited + 1
    session.undo()
    assert session.measurement_for(t2) is None
    assert str(session.assessment.timepoints[-1].target) == "NE"


def test_merge_refuses_itself_unknown_codes_and_non_targets(
    session: ReadingSession, baseline: object
) -> None:
    session.record_measurement(drawn(14.0), kind=LesionKind.NON_TARGET, organ="peritoneum")
    t1, _ = two_targets_then_c3(session)  # non-targets are chosen at baseline (issue 11.3)
    with pytest.raises(SessionError, match=r"'T1' is not another target.*choose one of: T2"):
        session.record_merge(t1, "T1")
    with pytest.raises(SessionError, match="'T9' is not another target"):
        session.record_merge(t1, "T9")
    with pytest.raises(SessionError, match="'NT1' is not another target"):
        session.record_merge(t1, "NT1")
    assert session.measurement_for(t1) is None


def test_a_lesion_code_is_t_nt_or_n_and_a_number(session: ReadingSession, baseline: object) -> None:
    """Renaming T1 to "n" (a stray key in the code editor) used to be stored."""
    session.record_measurement(drawn(30.0))
    (t1,) = session.lesions()
    for bad in ("n", "", "T", "T0", "X1", "T1a", "tumour 1"):
        with pytest.raises(SessionError, match="not a lesion code"):
            session.change_lesion(t1.id, code=bad)
    session.change_lesion(t1.id, code=" t7 ")
    assert session.lesions()[0].code == "T7"


def test_a_lesion_cannot_be_absent_at_the_baseline(
    session: ReadingSession, baseline: object
) -> None:
    """Key 0 (disappeared) at the baseline set T1 absent there: baseline sum 11.1 mm instead of
    38.7 and the follow-up PD (+48.6 %), seen on the demo under Xvfb."""
    session.record_measurement(drawn(24.0), kind=LesionKind.TARGET, organ="liver")
    (t1,) = session.lesions()
    with pytest.raises(SessionError, match="cannot have disappeared at Baseline"):
        session.set_status(t1.id, MeasurementStatus.ABSENT)
    got = session.measurement_for(t1.id)
    assert got.status is MeasurementStatus.MEASURED
    assert got.long_axis_mm == pytest.approx(24.0, abs=0.1)
    session.set_status(t1.id, MeasurementStatus.NOT_EVALUABLE)  # other statuses stay allowed
