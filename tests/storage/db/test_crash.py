"""A writer killed with SIGKILL mid-write loses nothing it committed and leaves the chain intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from recist.model import MeasurementStatus, Reader
from storage.db import ClinicalStore, Database, open_database
from tests.storage.db.conftest import REPO, Chart

WRITER = textwrap.dedent("""
    import sys
    from recist.model import Lesion, LesionKind, Measurement, MeasurementStatus
    from storage.db import open_database
    url, patient_id = sys.argv[1], int(sys.argv[2])
    tp_ids = [int(x) for x in sys.argv[3].split(",")]
    db = open_database(url)
    store = db.store(db.readers.authenticate("bob", "correct horse battery"))
    i = 0
    while True:  # until killed
        i += 1
        lesion = store.add_lesion(Lesion(
            id=None, patient_id=patient_id, code=f"NT{i}", kind=LesionKind.NON_TARGET,
            organ="peritoneum", tracking_uid=f"2.25.77{i}",
        ))
        for tp in tp_ids:
            m = store.add_measurement(Measurement(
                id=None, lesion_id=lesion.id, timepoint_id=tp, reader_id=None,
                status=MeasurementStatus.PRESENT, short_axis_mm=float(i % 50),
            ))
            print(m.id, flush=True)
""")


def test_sigkill_in_the_middle_of_writing_keeps_committed_changes(
    db_url: str, db: Database, store: ClinicalStore, chart: Chart, bob: Reader
) -> None:
    tp_ids = ",".join(str(tp.id) for tp in chart.timepoints)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, db_url, str(chart.patient.id), tp_ids],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed: list[int] = []
    assert proc.stdout is not None
    try:
        while len(committed) < 60:
            line = proc.stdout.readline()
            assert line, f"writer died early: {proc.stderr.read() if proc.stderr else ''}"
            committed.append(int(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    db.close()

    reopened = open_database(db_url)
    try:
        report = reopened.verify_audit()
        assert report.ok, str(report)
        stored = {
            m.id: m for m in reopened.read_only_store().measurements(patient_id=chart.patient.id)
        }
        assert set(committed) <= set(stored)
        assert all(stored[i].status is MeasurementStatus.PRESENT for i in committed)
        # every stored measurement has exactly its create event, nothing half-written
        created = {
            int(e.entity_id)
            for e in reopened.audit_events(entity="measurement")
            if e.action == "create"
        }
        assert created == set(stored)
    finally:
        reopened.close()
