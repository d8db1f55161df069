"""A follow-up caliper on a tracked lesion, with "New lesion" in the Next caliper bar: which
tracked lesion does it lie on (``app.session.proximity``, ``ReadingSession.tracked_lesion_near``)?

A new lesion at a follow-up is PD; the viewer asks before recording one where a tracked lesion
was measured before.  The rule: the caliper's long-axis middle lies within max(10 mm, the
lesion's earlier long axis) of the middle of the lesion's latest earlier caliper (LPS mm); the
nearest such lesion is offered; nothing at the baseline.
"""

from __future__ import annotations

from datetime import date

from app.session import ReadingSession
from app.session.proximity import NEAR_MM, TrackedPlace, caliper_centre, nearest_tracked
from recist.model import DrawnGeometry, LesionKind, Segment


def at(x: float, length_mm: float, *, y: float = 0.0, z: float = 0.0) -> DrawnGeometry:
    """A horizontal caliper of ``length_mm`` whose middle is at LPS ``(x, y, z)``."""
    a, b = x - length_mm / 2, x + length_mm / 2
    return DrawnGeometry(
        series_instance_uid="1.2.3.4",
        sop_instance_uid="1.2.3.4.10",
        slice_index=10,
        long_axis=Segment((a, y), (b, y), (a, y, z), (b, y, z)),
    )


def place(code: str, centre: tuple[float, float, float], long_mm: float) -> TrackedPlace:
    return TrackedPlace(int(code[1:]), code, "Baseline", centre, long_mm)


# -- the rule (pure) ---------------------------------------------------------------------------


def test_the_caliper_centre_is_the_middle_of_its_long_axis() -> None:
    assert caliper_centre(at(40.0, 20.0, y=-3.0, z=7.5)) == (40.0, -3.0, 7.5)


def test_near_is_within_the_earlier_long_axis_and_at_least_10_mm() -> None:
    t1 = place("T1", (0.0, 0.0, 0.0), 28.6)
    assert nearest_tracked((20.0, 0.0, 20.0), [t1]) == t1  # 28.3 mm away: within 28.6
    assert nearest_tracked((21.0, 0.0, 21.0), [t1]) is None  # 29.7 mm away
    small = place("T2", (0.0, 0.0, 0.0), 4.0)
    assert NEAR_MM == 10.0
    assert nearest_tracked((0.0, 9.9, 0.0), [small]) == small  # a small lesion: 10 mm
    assert nearest_tracked((0.0, 10.1, 0.0), [small]) is None


def test_of_several_lesions_the_nearest_is_offered() -> None:
    t1 = place("T1", (0.0, 0.0, 0.0), 30.0)
    t2 = place("T2", (12.0, 0.0, 0.0), 12.0)
    far = place("T3", (500.0, 0.0, 0.0), 40.0)
    assert nearest_tracked((8.0, 0.0, 0.0), [t1, t2, far]) == t2
    assert nearest_tracked((4.0, 0.0, 0.0), [t2, far, t1]) == t1
    assert nearest_tracked((200.0, 0.0, 0.0), [t1, t2, far]) is None
    assert nearest_tracked((0.0, 0.0, 0.0), []) is None


# -- the session: places are the lesions' latest earlier calipers ------------------------------


def test_at_follow_up_a_caliper_on_t1s_baseline_place_is_near_t1(
    session: ReadingSession, baseline: object
) -> None:
    t1 = session.record_measurement(at(100.0, 28.6), organ="liver")
    t2 = session.record_measurement(at(160.0, 11.1, y=40.0), organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    near = session.tracked_lesion_near(at(105.0, 10.0, z=5.0))
    assert near is not None
    assert (near.lesion_id, near.code, near.timepoint_label) == (t1.lesion_id, "T1", "Baseline")
    assert near.long_axis_mm == 28.6
    assert near.centre_lps_mm == (100.0, 0.0, 0.0)
    nearest_t2 = session.tracked_lesion_near(at(158.0, 6.0, y=36.0))
    assert nearest_t2 is not None
    assert nearest_t2.lesion_id == t2.lesion_id
    assert session.tracked_lesion_near(at(300.0, 15.0)) is None  # far from every lesion


def test_nothing_is_near_at_the_baseline(session: ReadingSession, baseline: object) -> None:
    session.record_measurement(at(100.0, 28.6), organ="liver")
    assert session.tracked_lesion_near(at(100.0, 28.6)) is None


def test_the_latest_earlier_caliper_is_the_lesions_place(
    session: ReadingSession, baseline: object
) -> None:
    t1 = session.record_measurement(at(100.0, 28.6), organ="liver")
    session.add_timepoint("C2", date(2026, 2, 10), cycle=2)
    session.record_measurement(at(130.0, 20.0), lesion_id=t1.lesion_id)  # moved 30 mm
    n1 = session.record_measurement(at(250.0, 12.0), kind=LesionKind.NEW, organ="liver")
    session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    near = session.tracked_lesion_near(at(128.0, 10.0))
    assert near is not None
    assert (near.code, near.timepoint_label, near.long_axis_mm) == ("T1", "C2", 20.0)
    assert session.tracked_lesion_near(at(100.0, 10.0)) is None  # its baseline place: 30 mm
    new_one = session.tracked_lesion_near(at(255.0, 8.0))  # a new lesion is tracked too
    assert new_one is not None
    assert new_one.lesion_id == n1.lesion_id
