"""Benchmark: open a patient with 10 timepoints and 50 measurements from the database.

Target (DESIGN.md): under 100 ms for everything the viewer needs (patient,
timepoints, lesions, measurements with their drawn geometry, stored
assessments and signatures).  Also reports recomputing the assessment with the
recist engine and a cold open (new connection, schema check) for context.

Usage::

    .venv/bin/python benchmarks/bench_db.py [--db URL] [--patients 200] [--repeat 50]

Without ``--db`` a throw-away SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recist.model import (  # noqa: E402
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Patient,
    Role,
    Segment,
    Timepoint,
)
from storage.db import ClinicalStore, open_database  # noqa: E402


def _populate(
    store: ClinicalStore, subject: str, n_timepoints: int = 10, n_lesions: int = 5
) -> None:
    patient = store.add_patient(
        Patient(id=None, subject_id=subject, trial="CRLM-01", confirmation_required=False)
    )
    lesions = [
        store.add_lesion(
            Lesion(
                id=None,
                patient_id=patient.id,
                code=f"T{i + 1}",
                kind=LesionKind.TARGET,
                organ="liver" if i < 2 else f"organ{i}",
                tracking_uid=f"2.25.{abs(hash(subject))}{i}",
            )
        )
        for i in range(n_lesions)
    ]
    for t in range(n_timepoints):
        tp = store.add_timepoint(
            Timepoint(
                id=None,
                patient_id=patient.id,
                order=t,
                label="baseline" if t == 0 else f"C{3 * t}",
                scan_date=date(2026, 1, 5) + timedelta(days=63 * t),
                series_instance_uid=f"1.2.3.{t}",
                modality="CT",
                slice_thickness_mm=1.25,
            )
        )
        for i, lesion in enumerate(lesions):
            mm = round(max(5.0, 40.0 - 2.0 * t - i), 1)
            segment = Segment(
                (10.0, 10.0), (10.0 + mm, 10.0), (0.0, 0.0, -50.0 - t), (mm, 0.0, -50.0 - t)
            )
            store.add_measurement(
                Measurement(
                    id=None,
                    lesion_id=lesion.id,
                    timepoint_id=tp.id,
                    reader_id=None,
                    status=MeasurementStatus.MEASURED,
                    long_axis_mm=mm,
                    geometry=DrawnGeometry(f"1.2.3.{t}", f"1.2.3.{t}.{i}", 40 + i, segment),
                )
            )


def _time(func, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _line(name: str, samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    median = statistics.median(samples)
    return f"{name:<48} median {median:7.1f} ms   p95 {p95:7.1f} ms   max {samples[-1]:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--patients", type=int, default=200, help="other patients in the database")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("CALIPER_HOME", tmp)
        url = args.db or str(Path(tmp) / "bench.sqlite3")
        db = open_database(url)
        system = db.readers.ensure_system()
        reader = db.readers.create("bench", "Bench Reader", Role.READER, "pw", by=system)
        store = db.store(reader)
        start = time.perf_counter()
        _populate(store, "S-BENCH")
        for n in range(args.patients):
            _populate(store, f"S-{n:04d}", n_timepoints=3, n_lesions=3)
        build = time.perf_counter() - start
        patient = store.patient("S-BENCH")
        store.assess(patient.id)  # type: ignore[arg-type]
        db.close()

        print(
            f"database: {db.engine.url.render_as_string(hide_password=True)} ({db.dialect}); "
            f"{args.patients + 1} patients, built in {build:.1f} s"
        )
        chart = db.store(reader).chart("S-BENCH")
        print(
            f"patient S-BENCH: {len(chart.timepoints)} timepoints, {len(chart.lesions)} lesions, "
            f"{len(chart.measurements)} measurements, {len(chart.assessments)} stored assessments"
        )

        cold = []
        for _ in range(5):
            start = time.perf_counter()
            fresh = open_database(url)
            fresh.store(reader).chart("S-BENCH")
            cold.append((time.perf_counter() - start) * 1000)
            fresh.close()
        db = open_database(url)
        store = db.store(reader)
        warm = _time(lambda: store.chart("S-BENCH"), args.repeat)
        with_assess = _time(lambda: (store.chart("S-BENCH"), store.assess(patient.id)), args.repeat)  # type: ignore[arg-type]
        first = store.measurements(patient_id=patient.id)[0]
        sizes = iter([first.long_axis_mm + 0.1 * (k % 2 + 1) for k in range(args.repeat)])  # type: ignore[operator]
        edit = _time(
            lambda: store.update_measurement(replace(first, long_axis_mm=next(sizes))), args.repeat
        )
        db.close()
        print(_line("open patient (chart incl. stored assessments)", warm))
        print(_line("open patient + recompute assessment (recist)", with_assess))
        print(_line("cold: open_database + schema check + chart", cold))
        print(_line("edit one measurement (one audited transaction)", edit))
        verdict = "PASS" if statistics.median(with_assess) < 100 else "FAIL"
        print(
            f"target < 100 ms for opening a patient incl. assessment: {verdict} "
            f"({statistics.median(with_assess):.1f} ms median)"
        )
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
