"""``caliper timepoint add|list``: a patient's timepoints from the command line.

``caliper timepoint add --patient ID --label C3 [--date 2024-03-01] [--cycle 3]
[--study UID] [--series UID] [--modality CT] [--dicom-patient-id ID]
[--accept-other-patient] --as USERNAME`` adds the next timepoint (the first one
is the baseline), checked and audited by the store like one added in the window:
a label used twice or a date before the baseline is refused, a DICOM patient
ID that differs from the patient's other series needs ``--accept-other-patient``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from app.cli.db import _actor, _add_as, _run
from app.errors import CliError
from recist.model import Timepoint
from storage.db import Database


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"--date {text!r}: expected a date YYYY-MM-DD") from exc


@_run
def _add(args: argparse.Namespace, db: Database) -> int:
    store = db.store(_actor(args, db))
    patient = store.patient(args.patient)
    assert patient.id is not None
    existing = store.timepoints(patient.id)
    order = (
        args.order if args.order is not None else max((t.order for t in existing), default=-1) + 1
    )
    if any(t.order == order for t in existing):
        raise CliError(f"patient {args.patient} already has a timepoint at position {order}")
    if order < 0:
        raise CliError(f"--order must be >= 0 (0 = baseline), got {order}")
    tp = store.add_timepoint(
        Timepoint(
            id=None,
            patient_id=patient.id,
            order=order,
            label=args.label.strip(),
            scan_date=_date(args.date),
            cycle=args.cycle,
            study_instance_uid=args.study,
            series_instance_uid=args.series,
            modality=args.modality,
            dicom_patient_id=args.dicom_patient_id,
        ),
        reason=args.reason,
        confirm_other_patient=args.accept_other_patient,
    )
    kind = "baseline" if tp.is_baseline else f"follow-up {tp.order}"
    sys.stdout.write(f"added timepoint {tp.label} ({kind}) of {args.patient}, id {tp.id}\n")
    return 0


@_run
def _list(args: argparse.Namespace, db: Database) -> int:
    store = db.read_only_store()
    patient = store.patient(args.patient)
    assert patient.id is not None
    for tp in store.timepoints(patient.id):
        when = tp.scan_date.isoformat() if tp.scan_date else "-"
        sys.stdout.write(f"{tp.order}\t{tp.label}\t{when}\t{tp.series_instance_uid or '-'}\n")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``timepoint add`` and ``timepoint list`` to ``caliper``."""
    timepoint = subparsers.add_parser("timepoint", help="a patient's timepoints")
    sub = timepoint.add_subparsers(dest="timepoint_command", metavar="WHAT", required=True)
    add = sub.add_parser("add", help="add a timepoint (the next one; the first is the baseline)")
    add.add_argument("--patient", metavar="ID", required=True)
    add.add_argument("--label", required=True, help="e.g. baseline, C3, C6")
    add.add_argument("--date", metavar="YYYY-MM-DD", help="scan date")
    add.add_argument("--cycle", type=int)
    add.add_argument("--order", type=int, help="position (0 = baseline); default: next")
    add.add_argument("--study", metavar="UID", help="Study Instance UID read")
    add.add_argument("--series", metavar="UID", help="Series Instance UID read")
    add.add_argument("--modality", help="CT, MR, ...")
    add.add_argument("--dicom-patient-id", metavar="ID", help="Patient ID of the series")
    add.add_argument(
        "--accept-other-patient",
        action="store_true",
        help="the series' DICOM patient ID differs from the others (audited)",
    )
    add.add_argument("--reason", help="needed when a later timepoint is signed")
    _add_as(add)
    add.set_defaults(func=_add)
    lst = sub.add_parser("list", help="list a patient's timepoints")
    lst.add_argument("--patient", metavar="ID", required=True)
    lst.set_defaults(func=_list)
