"""ReadingSession.record_contour_edit: a brush edit of a Smart caliper contour (issue 16)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from app.session import ReadingSession, SessionError
from recist.model import Method
from storage.db import Database
from tests.app.test_session import drawn
from tests.app.test_session_semiauto import _Proposal, _Region


def _edited() -> _Proposal:
    mask = np.ones((2, 5, 6), dtype=bool)
    return replace(
        _Proposal(),
        region=_Region(mask, (8, 99, 119)),
        volume_ml=3.1,
        algorithm="manual edit",
        algorithm_version="1",
        parameters={"source": {"algorithm": "caliper"}, "edits": 1, "edit": {"radius_mm": 3.0}},
    )


def test_an_edit_replaces_the_contour_and_the_caliper_in_one_undoable_step(
    database: Database,
    session: ReadingSession,
) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    m = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0))
    first = session.segmentation_for(m.id or 0)
    assert first is not None
    edited = session.record_contour_edit(m.id or 0, _edited(), drawn(27.0, 15.0))
    assert (edited.long_axis_mm, edited.short_axis_mm) == (27.0, 15.0)
    assert edited.method is Method.SEMI_AUTO
    assert edited.id == m.id
    now = session.segmentation_for(m.id or 0)
    assert now is not None
    assert now.id != first.id
    assert (now.algorithm, now.volume_ml) == ("manual edit", 3.1)
    assert now.mask.mask.shape == (2, 5, 6)
    assert now.parameters["source"] == {"algorithm": "caliper"}
    assert session.commands.undo_label == "Undo Edit contour"
    # undo: the old caliper and the old contour, one step
    session.undo()
    (back,) = session.measurements()
    assert back.long_axis_mm == 23.0
    again = session.segmentation_for(m.id or 0)
    assert again is not None
    assert again.id == first.id
    # redo: the edited one again (the same row, relinked)
    session.redo()
    redone = session.segmentation_for(m.id or 0)
    assert redone is not None
    assert redone.id == now.id
    assert session.measurements()[0].long_axis_mm == 27.0
    # delete and undo the delete: only the edited contour comes back linked
    session.delete_measurement(m.id or 0)
    session.undo()
    (restored,) = session.measurements()
    linked = session.segmentation_for(restored.id or 0)
    assert linked is not None
    assert linked.id == now.id
    events = database.audit_events(entity="segmentation")
    assert [e.action for e in events].count("create") == 2
    assert database.verify_audit().ok


def test_an_edit_that_leaves_the_caliper_unchanged_still_replaces_the_contour(
    session: ReadingSession,
) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    m = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0))
    first = session.segmentation_for(m.id or 0)
    session.record_contour_edit(m.id or 0, _edited(), m.geometry)  # type: ignore[arg-type]  # geometry is set
    now = session.segmentation_for(m.id or 0)
    assert now is not None
    assert first is not None
    assert now.id != first.id
    session.undo()
    back = session.segmentation_for(m.id or 0)
    assert back is not None
    assert back.id == first.id


def test_an_edit_on_a_signed_timepoint_needs_a_reason(session: ReadingSession) -> None:
    session.add_timepoint("Baseline", date(2026, 1, 2))
    base = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0), organ="liver")
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    m = session.record_semi_auto_measurement(
        _Proposal(), drawn(22.0, 14.0), lesion_id=base.lesion_id
    )
    session.sign(c3.id or 0, "ivan", "ivan-pw", "I confirm")
    with pytest.raises(SessionError, match="Give a reason"):
        session.record_contour_edit(m.id or 0, _edited(), drawn(24.0, 15.0))
    session.record_contour_edit(m.id or 0, _edited(), drawn(24.0, 15.0), reason="contour fix")
    assert session.measurement_for(base.lesion_id or 0).long_axis_mm == 24.0  # type: ignore[union-attr]  # measured here


def test_a_painted_resection_is_stored_with_its_liver_and_read_back(
    database: Database,
    session: ReadingSession,
) -> None:
    from tests.app.test_session_semiauto import _Proposal as Liver

    session.add_timepoint("Baseline", date(2026, 1, 2))
    m = session.record_semi_auto_measurement(_Proposal(), drawn(23.0, 14.0))
    lesion = session.segmentation_for(m.id or 0)
    assert lesion is not None
    liver = session.record_liver_volumetry(Liver(volume_ml=1650.0), "1.2.3.4")
    assert session.painted_resection(liver) is None  # nothing painted yet
    painted = np.zeros((3, 4, 5), dtype=bool)
    painted[1, 1:3, 1:4] = True
    values = {"total_liver_ml": 1650.0, "resected_ml": 900.0, "flr_percent": 43.75}
    values["resection_method"] = "painted"
    updated = session.record_painted_resection(
        liver.id or 0,
        (10, 20, 30),
        painted,
        values,
        tumour_segmentation_ids=[lesion.id or 0],
        parameters={"strokes": 2},
    )
    assert updated.id == liver.id
    assert updated.values["flr_percent"] == 43.75
    resection = session.painted_resection(session.liver_volumetry())  # type: ignore[arg-type]  # stored above
    assert resection is not None
    assert resection.id == updated.values["resection_segmentation_id"]
    assert resection.kind == "resection"
    assert resection.series_instance_uid == "1.2.3.4"
    assert resection.mask.offset == (10, 20, 30)
    assert np.array_equal(resection.mask.mask, painted)
    assert resection.volume_ml == 900.0
    assert resection.values == {
        "liver_segmentation_id": liver.id,
        "tumour_segmentation_ids": [lesion.id],
    }
    assert session.measured_flr_percent() is not None
    # audited: the resection row created and the liver's values updated, in one transaction
    events = database.audit_events(entity="segmentation")
    assert [e.action for e in events][-2:] == ["create", "update"]
    assert events[-2].after is not None
    assert events[-2].after["kind"] == "resection"
    assert events[-2].after["mask_sha256"] == resection.mask.sha256()
    assert database.verify_audit().ok
    # only a liver row can hold a resection
    with pytest.raises(SessionError, match="not a liver"):
        session.record_painted_resection(lesion.id or 0, (0, 0, 0), painted, values)
