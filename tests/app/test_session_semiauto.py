"""ReadingSession: a semi-automatic measurement with its contour, and liver volumetry (issue 16)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from app.session import ReadingSession, SessionError
from recist.model import Method
from storage.db import Database
from tests.app.test_session import drawn


@dataclass
class _Region:
    mask: np.ndarray
    offset: tuple[int, int, int] = (8, 100, 120)


@dataclass
class _Proposal:
    """What app.segmentation.LesionMeasurement provides to the session."""

    region: _Region = field(default_factory=lambda: _Region(np.ones((2, 3, 4), dtype=bool)))
    volume_ml: float = 2.5
    mean_hu: float = 31.04
    sd_hu: float = 12.3
    algorithm: str = "caliper-half-contrast-region"
    algorithm_version: str = "1.0"
    parameters: dict[str, object] = field(default_factory=lambda: {"smoothing_mm": 1.5})


def test_an_accepted_proposal_is_a_semi_auto_measurement_with_its_contour(
    database: Database,
    session: ReadingSession,
) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    m = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0))
    assert m.method is Method.SEMI_AUTO
    assert (m.long_axis_mm, m.short_axis_mm) == (23.0, 14.0)
    contour = session.segmentation_for(m.id or 0)
    assert contour is not None
    assert (contour.volume_ml, contour.mean_hu, contour.algorithm) == (
        2.5,
        31.0,
        "caliper-half-contrast-region",
    )
    assert contour.mask.mask.shape == (2, 3, 4)
    events = database.audit_events(entity="segmentation")
    assert len(events) == 1
    assert events[0].after is not None
    assert events[0].after["parameters"] == {"smoothing_mm": 1.5}
    assert session.commands.undo_label == "Undo Measure new lesion T1"
    # the reader moves the proposed caliper: it stays semi-automatic
    session.move_measurement(m.id or 0, drawn(25.0, 14.0))
    assert session.measurements()[0].method is Method.SEMI_AUTO
    # undo removes the measurement, the contour stays (audited), unlinked
    session.undo()
    session.undo()
    assert session.measurements() == []
    assert session.segmentation_for(m.id or 0) is None
    assert database.verify_audit().ok


def test_redo_and_undoing_a_delete_link_the_contour_to_the_measurement_again(
    database: Database,
    session: ReadingSession,
) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    m = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0))
    session.undo()
    assert session.measurements() == []
    session.redo()
    (again,) = session.measurements()
    contour = session.segmentation_for(again.id or 0)
    assert contour is not None, "redo left the contour unlinked"
    assert contour.volume_ml == 2.5
    session.delete_measurement(again.id or 0)
    assert session.segmentation_for(again.id or 0) is None
    session.undo()
    (restored,) = session.measurements()
    assert session.segmentation_for(restored.id or 0) is not None
    assert m.id is not None
    # one contour row throughout, its links audited as updates
    events = database.audit_events(entity="segmentation")
    assert {str(e.entity_id) for e in events} == {str(contour.id)}
    assert [e.action for e in events].count("update") == 4
    assert database.verify_audit().ok


def test_a_failed_contour_write_leaves_no_measurement_and_no_undo_step(
    session: ReadingSession,
) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    bad = _Proposal(region=_Region(np.ones((2, 2, 2), dtype=bool), offset=(1, 2)))  # type: ignore[arg-type]  # a broken proposal on purpose
    with pytest.raises((SessionError, IndexError)):
        session.record_semi_auto_measurement(bad, drawn(23.0, 14.0))
    assert session.measurements() == []
    assert session.commands.can_undo_redo() == (False, False)


def test_liver_volumetry_and_flr_for_the_conversion_record(
    database: Database,
    session: ReadingSession,
) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    assert session.measured_flr_percent() is None
    liver = _Proposal(volume_ml=1650.0, algorithm="caliper-liver-window-region")
    stored = session.record_liver_volumetry(liver, "1.2.3.4")
    assert session.measured_flr_percent() is None  # no resection recorded yet
    session.record_virtual_resection(
        stored.id or 0,
        {
            "total_liver_ml": 1650.0,
            "tumour_ml": 50.0,
            "resected_ml": 900.0,
            "remnant_ml": 700.04,
            "flr_percent": 43.7525,
        },
    )
    assert session.measured_flr_percent() == Decimal("43.8")
    volumetry = session.liver_volumetry()
    assert volumetry is not None
    assert volumetry.values["resected_ml"] == 900.0
    assert [e.action for e in database.audit_events(entity="segmentation")] == ["create", "update"]


def test_a_status_that_drops_the_lines_unlinks_the_contour_and_undo_links_it_again(
    database: Database,
    session: ReadingSession,
) -> None:
    """Key 0 at C3 set the Smart-caliper-measured lesion absent: its contour stayed linked,
    outlined on the image and counted as tumour by the liver volumetry."""
    from recist.model import MeasurementStatus

    session.add_timepoint("Baseline", date(2026, 1, 2))
    first = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0))
    session.add_timepoint("C3", date(2026, 3, 2))
    m = session.record_semi_auto_measurement(
        _Proposal(), drawn(12.0, 8.0), lesion_id=first.lesion_id
    )
    contour = session.segmentation_for(m.id or 0)
    assert contour is not None
    session.set_status(m.lesion_id or 0, MeasurementStatus.ABSENT)
    (gone,) = session.measurements()
    assert gone.status is MeasurementStatus.ABSENT
    assert session.segmentation_for(gone.id or 0) is None
    session.undo()
    (back,) = session.measurements()
    again = session.segmentation_for(back.id or 0)
    assert again is not None
    assert again.id == contour.id
    session.redo()
    assert session.segmentation_for(session.measurements()[0].id or 0) is None
    assert session.segmentation_for(first.id or 0) is not None  # the baseline's untouched
    assert database.verify_audit().ok


def test_measuring_a_lesion_again_replaces_its_contour_and_undo_brings_the_old_one_back(
    database: Database,
    session: ReadingSession,
) -> None:
    """A second Smart caliper click on T1 at C3 added its contour beside the first (both
    linked to the measurement); an identical caliper was a no-op with no undo step; undo of a
    different one put the old caliper back with the rejected proposal's contour outlined."""
    from recist.model import MeasurementStatus

    session.add_timepoint("Baseline", date(2026, 1, 2))
    m = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0))
    first = session.segmentation_for(m.id or 0)
    assert first is not None
    segmentations = session._store.segmentations  # noqa: SLF001 - the rows linked
    again = session.record_semi_auto_measurement(
        _Proposal(volume_ml=3.0), drawn(25.0, 15.0), lesion_id=m.lesion_id
    )
    assert again.id == m.id
    assert (again.long_axis_mm, again.method) == (25.0, Method.SEMI_AUTO)
    ids = segmentations.ids_for_measurement(m.id)
    assert len(ids) == 1
    assert ids[0] != first.id
    assert session.commands.undo_label == "Undo Measure T1"
    session.undo()
    (back,) = session.measurements()
    assert back.long_axis_mm == 23.0
    assert segmentations.ids_for_measurement(m.id) == [first.id]
    session.redo()
    assert segmentations.ids_for_measurement(m.id) == ids
    # the same caliper again (a no-op for the lines): still one contour, and undoable
    session.record_semi_auto_measurement(
        _Proposal(volume_ml=3.1), drawn(25.0, 15.0), lesion_id=m.lesion_id
    )
    assert len(segmentations.ids_for_measurement(m.id)) == 1
    assert session.commands.can_undo_redo()[0]
    # disappeared, then measured again: one contour, the new one
    session.add_timepoint("C3", date(2026, 3, 2))
    c3 = session.record_semi_auto_measurement(_Proposal(), drawn(12.0, 8.0), lesion_id=m.lesion_id)
    session.set_status(c3.lesion_id or 0, MeasurementStatus.ABSENT)
    assert segmentations.ids_for_measurement(c3.id) == []
    session.record_semi_auto_measurement(_Proposal(), drawn(11.0, 7.0), lesion_id=m.lesion_id)
    assert len(segmentations.ids_for_measurement(c3.id)) == 1
    assert database.verify_audit().ok
