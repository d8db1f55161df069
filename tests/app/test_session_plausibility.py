"""Issue 11 points 2, 3 and 7 in the Qt-free reading session: calipers that cannot be a lesion,
RECIST roles at assignment, nodal lesions and the controlled organ list."""

from __future__ import annotations

from datetime import date

import pytest

from app.session import ConfirmationNeededError, ReadingSession, SessionError, TimepointLockedError
from recist.model import LesionKind, MeasurementStatus
from storage.db import Database
from tests.app.test_session import drawn

# -- point 2: calipers that cannot be a lesion ------------------------------------------------


def test_point2_caliper_longer_than_the_field_of_view_is_refused(
    database: Database,
    session: ReadingSession,
    baseline: object,
) -> None:
    events = len(database.audit_events())
    with pytest.raises(SessionError, match=r"707\.1 mm.*500\.0 mm field of view.*again"):
        session.record_measurement(drawn(707.1), organ="liver", field_of_view_mm=500.0)
    assert session.lesions() == []
    assert len(database.audit_events()) == events
    m = session.record_measurement(drawn(290.0), organ="liver", field_of_view_mm=500.0)
    with pytest.raises(SessionError, match="field of view"):
        session.move_measurement(m.id, drawn(40.0, 520.0), field_of_view_mm=500.0)
    assert session.measurement_for(m.lesion_id).long_axis_mm == 290.0


def test_point2_implausible_growth_asks_and_the_confirmation_is_audited(
    database: Database,
    session: ReadingSession,
    baseline: object,
) -> None:
    t1 = session.record_measurement(drawn(12.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    events = len(database.audit_events())
    with pytest.raises(
        ConfirmationNeededError, match=r"T1.*50\.0 mm.*12\.0 mm at Baseline"
    ) as asked:
        session.record_measurement(drawn(50.0), lesion_id=t1.lesion_id)
    assert "sure" in str(asked.value)
    assert session.measurement_for(t1.lesion_id) is None
    assert len(database.audit_events()) == events  # nothing written before the reader answers
    # within the factor: no question; exactly x3 is still plausible
    within = session.record_measurement(drawn(36.0), lesion_id=t1.lesion_id)
    assert within.long_axis_mm == 36.0
    assert within.note == ""
    # the reader confirms: stored, and the confirmation is in the audit trail
    confirmed = session.record_measurement(drawn(50.0), lesion_id=t1.lesion_id, confirmed=True)
    assert confirmed.long_axis_mm == 50.0
    assert "confirmed" in confirmed.note
    last = database.audit_events(entity="measurement")[-1]
    assert "confirmed" in str(last.after)
    assert "12.0" in str(last.after)


def test_point2_implausible_shrink_on_move_asks_and_the_factor_is_a_setting(
    session: ReadingSession,
    baseline: object,
) -> None:
    t1 = session.record_measurement(drawn(60.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    c3 = session.record_measurement(drawn(30.0), lesion_id=t1.lesion_id)
    with pytest.raises(ConfirmationNeededError, match=r"shr.*÷"):
        session.move_measurement(c3.id, drawn(15.0))
    assert session.measurement_for(t1.lesion_id).long_axis_mm == 30.0
    session.plausible_change_factor = 5
    session.move_measurement(c3.id, drawn(15.0))
    assert session.measurement_for(t1.lesion_id).long_axis_mm == 15.0


# -- point 3: RECIST roles at assignment ------------------------------------------------------


def test_point3_new_lesion_at_baseline_is_refused_with_what_to_do(
    session: ReadingSession,
    baseline: object,
) -> None:
    with pytest.raises(SessionError, match="follow-up.*target or non-target"):
        session.record_measurement(drawn(20.0), kind=LesionKind.NEW, organ="bone")
    assert session.lesions() == []


def test_point3_new_target_or_non_target_at_follow_up_is_refused(
    session: ReadingSession,
    baseline: object,
) -> None:
    session.record_measurement(drawn(30.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    with pytest.raises(
        SessionError, match="targets are chosen at baseline; record this as a new lesion"
    ):
        session.record_measurement(drawn(20.0), organ="lung")
    with pytest.raises(SessionError, match="non-target lesions are chosen at baseline"):
        session.record_measurement(drawn(20.0), kind=LesionKind.NON_TARGET, organ="lung")
    new = session.record_measurement(drawn(20.0), kind=LesionKind.NEW, organ="lung")
    assert [les.code for les in session.lesions()] == ["N1", "T1"]
    n1 = next(les for les in session.lesions() if les.code == "N1")
    with pytest.raises(SessionError, match="N1 was first recorded at C3"):
        session.change_lesion(n1.id, kind=LesionKind.TARGET)
    session.select_timepoint(session.timepoints()[0].id)
    with pytest.raises(SessionError, match="N1 is a new lesion"):
        session.set_status(new.lesion_id, MeasurementStatus.PRESENT)


def test_point3_signed_timepoint_is_refused_first(
    database: Database,
    session: ReadingSession,
    baseline: object,
) -> None:
    t1 = session.record_measurement(drawn(30.0), organ="liver")
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    session.record_measurement(drawn(25.0), lesion_id=t1.lesion_id)
    session.sign(c3.id, "ivan", "ivan-pw")
    with pytest.raises(TimepointLockedError, match="signed"):
        session.record_measurement(drawn(20.0), organ="lung")


def test_point3_lymph_node_is_nodal_and_counts_its_short_axis(
    session: ReadingSession,
    baseline: object,
) -> None:
    m = session.record_measurement(drawn(24.0, 12.0), organ="Lymph Node", location="portocaval")
    (node,) = session.lesions()
    assert (node.organ, node.nodal) == ("lymph node", True)
    assert session.assessment.timepoints[0].sum_mm == 12
    session.record_measurement(drawn(30.0), organ="liver")
    t2 = next(les for les in session.lesions() if les.code == "T2")
    session.change_lesion(t2.id, organ="lymph node")
    assert next(les for les in session.lesions() if les.code == "T2").nodal
    assert m.short_axis_mm == 12.0


# -- point 7: the organ is a controlled list plus free text -----------------------------------


def test_point7_organ_is_stored_in_its_listed_form_or_as_typed(
    session: ReadingSession,
    baseline: object,
) -> None:
    session.record_measurement(drawn(30.0), organ="  LIVER ")
    session.record_measurement(drawn(20.0), organ="gallbladder fossa")
    assert [les.organ for les in session.lesions()] == ["liver", "gallbladder fossa"]
