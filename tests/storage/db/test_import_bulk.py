"""Bulk timeline import (issue 17): the same rows and audit events as one write per record.

``ClinicalStore.import_records`` inserts each table in one statement and the audit
events in one more; the database it leaves must equal what the one-record-at-a-time
store methods leave, field by field and event by event (times aside), and verify.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

import recist
from recist.model import Reader
from storage.db import ClinicalStore, Database, open_database
from tests.storage.db.conftest import PASSWORD

CASE: dict[str, Any] = {
    "id": "S-BULK",
    "criteria": "RECIST1.1",
    "confirmation_required": False,
    "timepoints": [
        {
            "label": label,
            "date": date,
            "targets": [
                {"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": t1},
                {"id": "N1", "organ": "lymph node", "nodal": True, "diameter_mm": n1},
            ],
            "non_targets": [{"id": "NT1", "organ": "peritoneum", "status": "present"}],
            "new_lesions": [],
        }
        for label, date, t1, n1 in (
            ("baseline", "2026-01-05", 40.0, 18.0),
            ("C3", "2026-03-09", 25.0, 12.0),
            ("C6", "2026-05-11", 20.0, 9.0),
        )
    ],
}
TIMES = {"created_at", "updated_at", "measured_at", "public_key"}  # + fresh key pairs


def _records() -> tuple[Any, ...]:
    return recist.case_to_records(recist.case_from_dict(CASE))


def _one_by_one(store: ClinicalStore) -> None:
    """What import_records did before it was a bulk insert: one add_* per record."""
    patient, timepoints, lesions, measurements = _records()
    stored = store.add_patient(patient)
    tp_ids = {
        tp.order: store.add_timepoint(dataclasses.replace(tp, patient_id=stored.id)).id
        for tp in timepoints
    }
    lesion_ids = [
        store.add_lesion(dataclasses.replace(le, patient_id=stored.id)).id for le in lesions
    ]
    for m in measurements:
        store.add_measurement(
            dataclasses.replace(
                m, lesion_id=lesion_ids[m.lesion_id], timepoint_id=tp_ids[m.timepoint_id]
            )
        )


def _content(db: Database) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with db.engine.connect() as conn:
        for table in ("patient", "timepoint", "lesion", "measurement"):
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings().all()  # noqa: S608
            out[table] = [{k: v for k, v in r.items() if k not in TIMES} for r in rows]
    return out


def _events(db: Database) -> list[tuple[Any, ...]]:
    def strip(values: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if values is None else {k: v for k, v in values.items() if k not in TIMES}

    return [
        (e.reader_id, e.action, e.entity, e.entity_id, strip(e.before), strip(e.after), e.reason)
        for e in db.audit_events()
    ]


def test_bulk_import_equals_one_write_per_record(
    make_url_for: Callable[..., str], db: Database, bob: Reader
) -> None:
    bulk_store = db.store(bob)
    bulk_store.import_records(*_records())

    other = open_database(make_url_for())
    try:
        system = other.readers.ensure_system()
        from recist.model import Role

        reader = other.readers.create("bob", "Bob Reader", Role.READER, PASSWORD, by=system)
        _one_by_one(other.store(reader))
        assert _content(db) == _content(other)
        assert _events(db) == _events(other)
    finally:
        other.close()
    events = db.audit_events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    measured = [e for e in events if e.entity == "measurement"]
    assert len(measured) == 9
    assert all(e.action == "create" for e in measured)
    assert db.verify_audit(full=True).ok


def test_bulk_import_is_all_or_nothing(db: Database, store: ClinicalStore) -> None:
    patient, timepoints, lesions, measurements = _records()
    bad = [*measurements, dataclasses.replace(measurements[0], timepoint_id=99)]  # no such order
    before = len(db.audit_events())
    with contextlib.suppress(Exception):  # any failure must leave nothing behind
        store.import_records(patient, timepoints, lesions, bad)
    assert len(db.audit_events()) == before
    assert store.patients() == []
    store.import_records(patient, timepoints, lesions, measurements)
    chart = store.chart("S-BULK")
    assert len(chart.measurements) == 9
    assert (
        json.loads(
            json.dumps(
                recist.case_to_dict(
                    recist.case_from_records(
                        chart.patient, chart.timepoints, chart.lesions, chart.measurements
                    )
                )
            )
        )["timepoints"][1]["targets"][0]["diameter_mm"]
        == 25.0
    )
    assert db.verify_audit().ok


def test_charts_of_many_patients_equal_one_chart_each(db: Database, store: ClinicalStore) -> None:
    """``charts()`` reads every table once for all patients; each chart equals ``chart()``."""
    for subject in ("S-3", "S-1", "S-2"):
        store.import_records(
            *recist.case_to_records(recist.case_from_dict({**CASE, "id": subject}))
        )
    store.add_patient(dataclasses.replace(_records()[0], subject_id="S-0 empty"))
    store.assess(store.patient("S-2").id)  # type: ignore[arg-type]
    every = store.charts()
    assert [c.patient.subject_id for c in every] == ["S-0 empty", "S-1", "S-2", "S-3"]
    assert every == [store.chart(c.patient.subject_id) for c in every]
    named = store.charts(["S-3", "S-1", "nobody"], assessments=False)
    assert [c.patient.subject_id for c in named] == ["S-3", "S-1"]
    assert named[0] == dataclasses.replace(store.chart("S-3"), assessments=[])
