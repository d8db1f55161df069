"""storage.db.segmentations: contours stored with their measurement, audited (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest

from recist.model import Measurement, MeasurementStatus, Method, Reader
from storage.db import ClinicalStore, Database, ReasonRequiredError, RepositoryError
from storage.db.segmentations import MaskBox, StoredSegmentation
from tests.storage.db.conftest import PASSWORD, build_chart


def _mask() -> MaskBox:
    mask = np.zeros((3, 5, 7), dtype=bool)
    mask[1, 1:4, 2:6] = True
    mask[0, 2, 3] = True
    return MaskBox((10, 20, 30), mask)


def _segmentation(
    timepoint_id: int, measurement_id: int | None, kind: str = "lesion"
) -> StoredSegmentation:
    return StoredSegmentation(
        id=None,
        timepoint_id=timepoint_id,
        measurement_id=measurement_id,
        kind=kind,
        series_instance_uid="1.2.3",
        algorithm="caliper-half-contrast-region",
        algorithm_version="1.0",
        parameters={"smoothing_mm": 1.5},
        volume_ml=1.25,
        mask=_mask(),
        mean_hu=20.5,
        sd_hu=9.0,
    )


def test_a_contour_round_trips_with_its_measurement_and_is_audited(store: ClinicalStore) -> None:
    chart = build_chart(store, n_timepoints=1, n_lesions=1)
    tp = chart.timepoints[0]
    m = store.add_measurement(
        Measurement(
            id=None,
            lesion_id=chart.lesions[0].id,
            timepoint_id=tp.id,
            reader_id=None,
            status=MeasurementStatus.MEASURED,
            long_axis_mm=21.0,
            method=Method.SEMI_AUTO,
        )
    )
    stored = store.segmentations.add(_segmentation(tp.id or 0, m.id))
    assert stored.id is not None
    assert stored.reader_id is not None
    back = store.segmentations.for_measurement(m.id or 0)
    assert back is not None
    assert back.mask.offset == (10, 20, 30)
    assert np.array_equal(back.mask.mask, _mask().mask)
    assert (back.volume_ml, back.mean_hu, back.parameters) == (1.25, 20.5, {"smoothing_mm": 1.5})
    events = store.audit_events(entity="segmentation")
    assert [e.action for e in events] == ["create"]
    assert events[0].after is not None
    assert events[0].after["mask_sha256"] == _mask().sha256()
    assert events[0].after["algorithm"] == "caliper-half-contrast-region"
    # deleting the measurement keeps the contour (and its audit event), unlinked
    store.delete_measurement(m.id or 0)
    assert store.segmentations.for_measurement(m.id or 0) is None
    assert [s.measurement_id for s in store.segmentations.for_timepoint(tp.id or 0)] == [None]
    assert store.verify_audit().ok


def test_liver_volumetry_values_are_updated_and_the_latest_is_found(store: ClinicalStore) -> None:
    chart = build_chart(store, n_timepoints=2, n_lesions=1)
    first = store.segmentations.add(_segmentation(chart.timepoints[0].id or 0, None, "liver"))
    second = store.segmentations.add(_segmentation(chart.timepoints[1].id or 0, None, "liver"))
    updated = store.segmentations.set_values(second.id or 0, {"flr_percent": 42.5})
    assert updated.values == {"flr_percent": 42.5}
    latest = store.segmentations.latest_liver(chart.patient.id or 0)
    assert latest is not None
    assert latest.id == second.id != first.id
    assert latest.values["flr_percent"] == 42.5
    assert [e.action for e in store.audit_events(entity="segmentation")] == [
        "create",
        "create",
        "update",
    ]


def test_bad_kind_and_measurement_of_another_timepoint_are_refused(store: ClinicalStore) -> None:
    chart = build_chart(store, n_timepoints=2, n_lesions=1)
    with pytest.raises(RepositoryError, match="kind"):
        store.segmentations.add(_segmentation(chart.timepoints[0].id or 0, None, "spleen"))
    m = store.add_measurement(
        Measurement(
            id=None,
            lesion_id=chart.lesions[0].id,
            timepoint_id=chart.timepoints[1].id,
            reader_id=None,
            status=MeasurementStatus.MEASURED,
            long_axis_mm=21.0,
        )
    )
    with pytest.raises(RepositoryError, match="another timepoint"):
        store.segmentations.add(_segmentation(chart.timepoints[0].id or 0, m.id))
    assert store.audit_events(entity="segmentation") == []


def test_a_signed_timepoint_needs_a_reason(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    chart = build_chart(store, n_timepoints=2, n_lesions=1)
    for t, mm in zip(chart.timepoints, (21.0, 12.0), strict=True):
        store.add_measurement(
            Measurement(
                id=None,
                lesion_id=chart.lesions[0].id,
                timepoint_id=t.id,
                reader_id=None,
                status=MeasurementStatus.MEASURED,
                long_axis_mm=mm,
            )
        )
    tp = chart.timepoints[1]
    db.store(alice).sign(tp.id or 0, alice, PASSWORD)
    with pytest.raises(ReasonRequiredError):
        store.segmentations.add(_segmentation(tp.id or 0, None, "liver"))
    stored = store.segmentations.add(
        _segmentation(tp.id or 0, None, "liver"), reason="liver volumetry for the MDT"
    )
    assert stored.id is not None
    assert not store.is_locked(tp.id or 0)


def test_a_damaged_mask_is_reported() -> None:
    with pytest.raises(RepositoryError, match="damaged"):
        MaskBox.unpack("1,2,3", "4,5,6", b"not zlib")


def test_a_lesion_contour_keeps_the_caliper_it_was_stored_with(store: ClinicalStore) -> None:
    from dataclasses import replace

    from storage.db.segmentations import CALIPER_WHEN_STORED, caliper_change

    chart = build_chart(store, n_timepoints=1, n_lesions=2)
    tp = chart.timepoints[0]
    m, other = (
        store.add_measurement(
            Measurement(
                id=None,
                lesion_id=lesion.id,
                timepoint_id=tp.id,
                reader_id=None,
                status=MeasurementStatus.MEASURED,
                long_axis_mm=21.0,
                method=Method.SEMI_AUTO,
            )
        )
        for lesion in chart.lesions
    )
    first = store.segmentations.add(_segmentation(tp.id or 0, m.id))
    latest = store.segmentations.add(_segmentation(tp.id or 0, m.id))
    store.segmentations.add(_segmentation(tp.id or 0, None, "liver"))
    # audited with the rest of the contour's values
    assert store.audit_events(entity="segmentation")[0].after["values"][CALIPER_WHEN_STORED] == {
        "status": "measured",
        "long_axis_mm": 21.0,
        "short_axis_mm": None,
        "geometry": None,
    }
    found = store.segmentations.for_measurements([m.id or 0, other.id or 0, m.id or 0])
    assert list(found) == [m.id]
    assert found[m.id or 0].id == latest.id != first.id
    assert caliper_change(latest, m) == ""
    assert caliper_change(latest, replace(m, long_axis_mm=22.5)) == "caliper moved"
    gone = replace(m, status=MeasurementStatus.ABSENT, long_axis_mm=None)
    assert caliper_change(latest, gone) == "status set to absent"
    assert caliper_change(replace(latest, values={}), m) is None  # stored before it was kept
    assert store.segmentations.for_measurements([]) == {}
