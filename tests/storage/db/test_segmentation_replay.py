"""``audit verify`` replays segmentations (migration 0006) like every other audited entity.

A contour's values, its link to its measurement and its mask bytes are checked against
the trail (the mask by the SHA-256 its audit event recorded), in a full verify and in an
incremental one after a checkpoint; a measurement deleted through Caliper unlinks its
contours (``ON DELETE SET NULL``) without that being reported.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from sqlalchemy import text

from recist.model import Measurement, MeasurementStatus, Method
from storage.db import ClinicalStore, Database
from storage.db.segmentations import MaskBox, StoredSegmentation
from tests.storage.db.conftest import build_chart


def _segmentation(timepoint_id: int, measurement_id: int | None) -> StoredSegmentation:
    mask = np.zeros((3, 5, 7), dtype=bool)
    mask[1, 1:4, 2:6] = True
    return StoredSegmentation(
        id=None,
        timepoint_id=timepoint_id,
        measurement_id=measurement_id,
        kind="lesion",
        series_instance_uid="1.2.3",
        algorithm="caliper-half-contrast-region",
        algorithm_version="1.0",
        parameters={"smoothing_mm": 1.5},
        volume_ml=1.25,
        mask=MaskBox((10, 20, 30), mask),
        mean_hu=20.5,
        sd_hu=9.0,
    )


def _contoured(store: ClinicalStore) -> tuple[int, int]:
    """A measurement with its contour, and a liver contour: (measurement id, contour id)."""
    chart = build_chart(store, n_timepoints=1, n_lesions=1)
    tp = chart.timepoints[0].id or 0
    m = store.add_measurement(
        Measurement(
            id=None,
            lesion_id=chart.lesions[0].id,
            timepoint_id=tp,
            reader_id=None,
            status=MeasurementStatus.MEASURED,
            long_axis_mm=21.0,
            method=Method.SEMI_AUTO,
        )
    )
    contour = store.segmentations.add(_segmentation(tp, m.id))
    liver = store.segmentations.add(_segmentation(tp, None))
    store.segmentations.set_values(liver.id or 0, {"flr_percent": 42.5})
    return m.id or 0, contour.id or 0


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE segmentation SET volume_ml = 9.5 WHERE id = :i", "volume_ml is 9.5 in the table"),
        ("UPDATE segmentation SET measurement_id = NULL WHERE id = :i", "measurement_id is None"),
        ("UPDATE segmentation SET values_json = '{\"x\": 1}' WHERE id = :i + 1", "values"),
        ("DELETE FROM segmentation WHERE id = :i", "deleted from the table without an audit"),
    ],
)
def test_a_segmentation_changed_outside_the_trail_is_reported(
    db: Database, store: ClinicalStore, full: bool, sql: str, expected: str
) -> None:
    _, contour = _contoured(store)
    assert db.verify_audit().ok  # full, and a checkpoint for the incremental verify
    with db.engine.begin() as conn:
        conn.execute(text(sql), {"i": contour})
    report = db.verify_audit(full=full)
    assert not report.ok
    assert f"segmentation {contour + (1 if 'id = :i + 1' in sql else 0)}" in str(report)
    assert expected in str(report)


@pytest.mark.parametrize("full", [True, False])
def test_a_mask_changed_in_the_table_is_reported(
    db: Database, store: ClinicalStore, full: bool
) -> None:
    _, contour = _contoured(store)
    assert db.verify_audit().ok
    forged = np.ones((3, 5, 7), dtype=bool)
    data = zlib.compress(np.packbits(forged, axis=None).tobytes())
    with db.engine.begin() as conn:  # the bytes only, and then the bytes and their hash column
        conn.execute(
            text("UPDATE segmentation SET mask_zlib = :d WHERE id = :i"), {"d": data, "i": contour}
        )
    report = db.verify_audit(full=full)
    assert not report.ok
    assert f"segmentation {contour}: mask_sha256" in str(report)
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE segmentation SET mask_sha256 = :h WHERE id = :i"),
            {"h": MaskBox((10, 20, 30), forged).sha256(), "i": contour},
        )
    report = db.verify_audit(full=full)
    assert not report.ok
    assert f"segmentation {contour}: mask_sha256" in str(report)


def test_a_segmentation_inserted_without_an_event_is_reported(
    db: Database, store: ClinicalStore
) -> None:
    _, contour = _contoured(store)
    assert db.verify_audit().ok
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO segmentation (timepoint_id, measurement_id, reader_id, kind, "
                "series_instance_uid, algorithm, algorithm_version, parameters_json, volume_ml, "
                "values_json, mask_offset, mask_shape, mask_zlib, mask_sha256, created_at, "
                "updated_at) SELECT timepoint_id, measurement_id, reader_id, kind, "
                "series_instance_uid, algorithm, algorithm_version, parameters_json, volume_ml, "
                "values_json, mask_offset, mask_shape, mask_zlib, mask_sha256, created_at, "
                "updated_at FROM segmentation WHERE id = :i"
            ),
            {"i": contour},
        )
    for full in (False, True):
        report = db.verify_audit(full=full)
        assert not report.ok
        assert "never created through the audit trail" in str(report)


@pytest.mark.parametrize("full", [True, False])
def test_a_measurement_deleted_through_caliper_unlinks_its_contour_and_verifies(
    db: Database, store: ClinicalStore, full: bool
) -> None:
    measurement, _ = _contoured(store)
    assert db.verify_audit().ok
    store.delete_measurement(measurement)
    report = db.verify_audit(full=full)
    assert report.ok, report
    assert db.verify_audit(full=not full).ok
