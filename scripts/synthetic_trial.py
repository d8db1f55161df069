"""A synthetic conversion trial of 40 patients, written into a Caliper database.

Realistic shape, invented numbers (seeded, so every run gives the same trial):
first doses staggered over ~18 months, a baseline CT 3–20 days before the first
dose, restaging every 3 cycles of 21 days (C3, C6, ... ± 5 days) up to the
18-month cut-off; liver targets (and a lung target in some), liver non-targets;
responders, stable and progressing patients; missed scans (one, and two in a
row), new lesions, deaths, new anticancer therapy, patients going off study;
conversion records with MDT decisions, future liver remnant and Child-Pugh
components (some signed by the investigator), resections with residual tumour
per metastasis, and survival data.

    .venv/bin/python scripts/synthetic_trial.py --db sqlite:////tmp/trial.sqlite3
    caliper export sdtm --db sqlite:////tmp/trial.sqlite3 --out out/sdtm --xpt
    caliper export adam --db sqlite:////tmp/trial.sqlite3 --out out/adam --xpt

Written through the store API, so every record is audited (reader ``rad``,
investigator ``inv``, password ``synthetic-trial``).
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recist.endpoints import (  # noqa: E402
    Ascites,
    ChildPughInputs,
    ConversionRecord,
    Encephalopathy,
    MdtOutcome,
    Procedure,
    ResectedMetastasis,
    SurgeryRecord,
    SurvivalRecord,
)
from recist.model import (  # noqa: E402
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Patient,
    Role,
    Timepoint,
)
from storage.db import Database, open_database  # noqa: E402

TRIAL = "CRLM-CONV"
PASSWORD = "synthetic-trial"
N_PATIENTS = 40
SEED = 15
FIRST_ENROLMENT = date(2024, 9, 2)
CUTOFF_DAYS = 546  # 18 months after a first dose, roughly (the rules use calendar months)


@dataclass
class Plan:
    """What happens to one synthetic patient."""

    subject_id: str
    start: date
    liver_mm: list[float]
    lung_mm: float | None
    kind: str  # "responder", "stable", "progressor"
    scans: list[tuple[int, str]] = field(default_factory=list)  # (day, label)
    pd_scan: int | None = None
    death_day: int | None = None
    therapy_day: int | None = None
    off_day: int | None = None
    off_reason: str = ""
    surgery_after_scan: int | None = None


def _plan(rng: random.Random, i: int) -> Plan:
    start = FIRST_ENROLMENT + timedelta(days=14 * i + rng.randint(0, 6))
    kind = rng.choices(["responder", "stable", "progressor"], [0.45, 0.25, 0.30])[0]
    liver = [float(rng.randint(25, 80)) for _ in range(rng.choice([1, 2, 2]))]
    lung = float(rng.randint(12, 30)) if rng.random() < 0.3 else None
    plan = Plan(f"S{i + 1:03d}", start, liver, lung, kind)
    k_max = 8
    if kind == "progressor":
        plan.pd_scan = rng.randint(1, 4)
        k_max = plan.pd_scan
    elif rng.random() < 0.45:
        plan.pd_scan = rng.randint(3, 8)  # later progression
        k_max = plan.pd_scan
    if kind == "responder" and rng.random() < 0.6:
        plan.surgery_after_scan = 2
    for k in range(1, k_max + 1):
        plan.scans.append((63 * k + rng.randint(-5, 5), f"C{3 * k}"))
    # missed scans: one (no effect on PFS) or two in a row (PFS censored before them)
    r = rng.random()
    if len(plan.scans) >= 4 and r < 0.15:
        del plan.scans[2]
    elif len(plan.scans) >= 4 and r < 0.25 and plan.pd_scan is not None:
        del plan.scans[-3:-1]
    last_day = plan.scans[-1][0] if plan.scans else 30
    if plan.pd_scan is not None and rng.random() < 0.6:
        plan.therapy_day = last_day + rng.randint(10, 30)
    if plan.pd_scan is not None and rng.random() < 0.55:
        plan.death_day = last_day + rng.randint(40, 320)
    elif rng.random() < 0.06:
        plan.death_day = last_day + rng.randint(20, 50)  # death without progression
    if plan.death_day is None and rng.random() < 0.1:
        plan.off_day, plan.off_reason = last_day + rng.randint(5, 20), "withdrew consent"
    elif plan.therapy_day is None and plan.pd_scan is None and rng.random() < 0.08:
        plan.therapy_day = last_day + rng.randint(5, 15)  # new therapy without progression
    return plan


def _ratio(plan: Plan, k: int, rng: random.Random) -> float:
    """Liver size relative to baseline at scan k (1-based)."""
    if plan.kind == "responder":
        return max(0.3, 1 - 0.3 * k + rng.uniform(-0.06, 0.06))
    if plan.kind == "stable":
        return 0.9 + rng.uniform(-0.08, 0.08)
    return 1.05 + 0.08 * k + rng.uniform(0, 0.05)


def _records(
    plan: Plan, rng: random.Random
) -> tuple[Patient, list[Timepoint], list[Lesion], list[Measurement]]:
    patient = Patient(
        None,
        plan.subject_id,
        trial=TRIAL,
        site=f"SITE{1 + int(plan.subject_id[1:]) % 3:02d}",
        first_dose_date=plan.start,
        confirmation_required=True,
    )
    baseline_day = -rng.randint(3, 20)
    days = [(baseline_day, "BL"), *plan.scans]
    timepoints = [
        Timepoint(
            None,
            None,
            order,
            label,
            plan.start + timedelta(days=day),
            cycle=None if order == 0 else int(label[1:]),
            modality="CT",
            slice_thickness_mm=5.0,
        )
        for order, (day, label) in enumerate(days)
    ]
    lesions: list[Lesion] = []
    codes: list[tuple[str, str, float | None]] = []
    for j, size in enumerate(plan.liver_mm):
        codes.append((f"T{j + 1}", "liver", size))
    if plan.lung_mm is not None:
        codes.append((f"T{len(codes) + 1}", "lung", plan.lung_mm))
    for code, organ, _ in codes:
        lesions.append(
            Lesion(
                None,
                None,
                code,
                LesionKind.TARGET,
                organ,
                f"2.25.{int(plan.subject_id[1:])}{len(lesions) + 1}",
            )
        )
    lesions.append(
        Lesion(
            None,
            None,
            "NT1",
            LesionKind.NON_TARGET,
            "liver",
            f"2.25.{int(plan.subject_id[1:])}9",
            location="multiple liver metastases",
        )
    )
    measurements: list[Measurement] = []
    resected = False
    # size relative to baseline per scan; the progression scan grows 50 % over the nadir
    ratios = [1.0] + [_ratio(plan, k, rng) for k in range(1, len(days))]
    pd_order = len(days) - 1 if plan.pd_scan is not None and len(days) > 1 else None
    if pd_order is not None:  # progression is the last scan (missed scans removed before it)
        ratios[pd_order] = 1.5 * min(ratios[:pd_order])
    for order, (_, _label) in enumerate(days):
        k = order
        for index, (_code, organ, size) in enumerate(codes):
            ratio = ratios[k]
            if organ == "lung" and k and k != pd_order:
                ratio = 0.85
            value = round((size or 0) * ratio, 1)
            status = MeasurementStatus.MEASURED
            if resected and organ == "liver":
                status, value = MeasurementStatus.ABSENT, 0.0
            measurements.append(
                Measurement(
                    None,
                    index,
                    order,
                    None,
                    status,
                    long_axis_mm=value if status is MeasurementStatus.MEASURED else 0.0,
                )
            )
        nt_status = MeasurementStatus.ABSENT if resected else MeasurementStatus.PRESENT
        measurements.append(Measurement(None, len(codes), order, None, nt_status))
        if plan.surgery_after_scan is not None and k == plan.surgery_after_scan:
            resected = True
    if pd_order is not None and (resected or (plan.kind == "progressor" and rng.random() < 0.5)):
        # a new liver lesion at the progression scan
        lesions.append(
            Lesion(None, None, "N1", LesionKind.NEW, "liver", f"2.25.{int(plan.subject_id[1:])}8")
        )
        measurements.append(
            Measurement(None, len(lesions) - 1, len(days) - 1, None, MeasurementStatus.PRESENT)
        )
    return patient, timepoints, lesions, measurements


def _child_pugh(rng: random.Random) -> ChildPughInputs:
    if rng.random() < 0.85:
        return ChildPughInputs(
            Decimal(rng.randint(6, 30)),
            "umol/L",
            Decimal(rng.randint(36, 46)),
            "g/L",
            Decimal(f"1.{rng.randint(0, 3)}"),
            Ascites.NONE,
            Encephalopathy.NONE,
        )
    return ChildPughInputs(
        Decimal(rng.randint(35, 50)),
        "umol/L",
        Decimal(rng.randint(28, 34)),
        "g/L",
        Decimal("1.4"),
        Ascites.MILD,
        Encephalopathy.NONE,
    )


def build_synthetic_trial(database: Database, n: int = N_PATIENTS, seed: int = SEED) -> list[str]:
    """Write the synthetic trial into *database*; return the subject ids."""
    system = database.readers.ensure_system()
    try:
        rad = database.readers.get("rad")
    except Exception:
        rad = database.readers.create("rad", "Dr Rad Reader", Role.READER, PASSWORD, by=system)
    try:
        inv = database.readers.get("inv")
    except Exception:
        inv = database.readers.create(
            "inv", "Dr Ivy Investigator", Role.INVESTIGATOR, PASSWORD, by=system
        )
    store = database.store(rad)
    rng = random.Random(seed)
    subjects = []
    for i in range(n):
        plan = _plan(rng, i)
        patient, timepoints, lesions, measurements = _records(plan, rng)
        stored = store.import_records(patient, timepoints, lesions, measurements)
        subjects.append(stored.subject_id)
        assert stored.id is not None
        scan_dates = {label: plan.start + timedelta(days=day) for day, label in plan.scans}
        if plan.kind == "responder" or (plan.kind == "stable" and rng.random() < 0.3):
            mdt_label = plan.scans[min(1, len(plan.scans) - 1)][1] if plan.scans else None
            mdt = scan_dates[mdt_label] + timedelta(days=7) if mdt_label else plan.start
            flr = Decimal(rng.choice([32, 38, 40, 42, 45, 48, 52, 55, 60]))
            record = ConversionRecord(
                None,
                stored.id,
                mdt_date=mdt,
                mdt_outcome=MdtOutcome.RESECTABLE
                if plan.surgery_after_scan
                else MdtOutcome.CONTINUE,
                procedures=(Procedure.RESECTION,)
                if rng.random() < 0.7
                else (Procedure.RESECTION, Procedure.ABLATION),
                tumour_free_achievable=plan.surgery_after_scan is not None or rng.random() < 0.4,
                flr_pct=flr if not plan.surgery_after_scan else max(flr, Decimal(42)),
                child_pugh=_child_pugh(rng)
                if not plan.surgery_after_scan
                else ChildPughInputs(
                    Decimal(12),
                    "umol/L",
                    Decimal(41),
                    "g/L",
                    Decimal("1.0"),
                    Ascites.NONE,
                    Encephalopathy.NONE,
                ),
                other_labs_ok=rng.random() < 0.9 or plan.surgery_after_scan is not None,
                other_labs_note="creatinine, platelets within limits",
            )
            store.save_conversion_record(record)
            if plan.surgery_after_scan is not None:
                from recist import case_from_records
                from recist.endpoints import assess_conversion, liver_response

                chart = store.chart(stored.subject_id)
                case = case_from_records(
                    chart.patient, chart.timepoints, chart.lesions, chart.measurements
                )
                assessment = assess_conversion(
                    store.conversion_record(stored.id), liver_response(case)
                )
                if rng.random() < 0.7:
                    store.sign_conversion_record(stored.id, inv, PASSWORD, assessment)
                surgery_day = plan.scans[plan.surgery_after_scan - 1][0] + 28
                metastases = tuple(
                    ResectedMetastasis(
                        f"segment {rng.randint(2, 8)}-{j + 1}",
                        Decimal(rng.choice([0, 0, 5, 10, 20, 30, 45, 49, 50, 60, 80])),
                        rng.randint(1, 5),
                        f"T{j + 1}",
                    )
                    for j in range(len(plan.liver_mm))
                )
                store.save_surgery_record(
                    SurgeryRecord(
                        None,
                        stored.id,
                        plan.start + timedelta(days=surgery_day),
                        (Procedure.RESECTION,),
                        rng.choice(["R0", "R0", "R0", "R1"]),
                        metastases,
                    )
                )
        last_scan = plan.start + timedelta(days=plan.scans[-1][0]) if plan.scans else plan.start
        death = plan.start + timedelta(days=plan.death_day) if plan.death_day else None
        alive = None if death else last_scan + timedelta(days=rng.randint(0, 90))
        store.save_survival_record(
            SurvivalRecord(
                None,
                stored.id,
                plan.start,
                death_date=death,
                last_known_alive=alive,
                off_study_date=plan.start + timedelta(days=plan.off_day) if plan.off_day else None,
                off_study_reason=plan.off_reason,
                new_therapy_date=plan.start + timedelta(days=plan.therapy_day)
                if plan.therapy_day
                else None,
                death_cause="disease progression"
                if death and plan.pd_scan
                else ("other" if death else ""),
            )
        )
    return subjects


def main(argv: list[str] | None = None) -> int:
    """Write the synthetic trial into the database named by ``--db``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="database URL or SQLite file")
    parser.add_argument("--patients", type=int, default=N_PATIENTS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    database = open_database(args.db)
    try:
        subjects = build_synthetic_trial(database, args.patients, args.seed)
    finally:
        database.close()
    print(f"wrote {len(subjects)} patients of {TRIAL} into {args.db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
