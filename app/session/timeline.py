"""Checks a new timepoint or an attached series passes before the session stores it (pure).

* The scan date: a timepoint dated before the baseline, or a label the patient
  already has, is refused (as the case parser and the store refuse them); a
  date that differs from the series' DICOM date asks "are you sure?".
* The patient: a series whose DICOM Patient ID differs from that of the
  patient's earlier series asks for an explicit confirmation, which storage
  writes to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from recist.model import Timepoint

__all__ = ["other_patient_warning", "scan_date_note", "timepoint_refusal"]


def timepoint_refusal(
    existing: Sequence[Timepoint], label: str, scan_date: date | None, subject_id: str
) -> str | None:
    """Why a new timepoint ``label`` dated ``scan_date`` cannot follow ``existing``, or None.

    ``existing`` is the patient's timeline, baseline first; the new timepoint
    comes last.
    """
    key = label.strip().casefold()
    if not key:
        return "Give the timepoint a label (e.g. baseline, C3, C6)."
    for tp in existing:
        if tp.label.strip().casefold() == key:
            return (
                f"{subject_id} already has a timepoint {tp.label}: give this one its own "
                "label (e.g. C6)."
            )
    base = existing[0] if existing else None
    if base is not None and base.scan_date and scan_date and scan_date < base.scan_date:
        return (
            f"{scan_date} is before the baseline scan ({base.label}, {base.scan_date}): "
            "correct the scan date, or record this scan as the baseline of a new patient."
        )
    return None


def scan_date_note(scan_date: date | None, dicom_date: date | None) -> str | None:
    """The question to ask when the typed date differs from the series' DICOM date, or None."""
    if scan_date is None or dicom_date is None or scan_date == dicom_date:
        return None
    return (
        f"The scan date {scan_date} differs from the date in the DICOM series ({dicom_date}). "
        f"Use {scan_date} anyway?"
    )


def other_patient_warning(
    timepoints: Sequence[Timepoint],
    dicom_patient_id: str | None,
    subject_id: str,
    exclude_timepoint_id: int | None = None,
) -> str | None:
    """The warning for a series of another DICOM patient, naming both IDs, or None.

    Compared with the Patient IDs of the series attached to the patient's
    other timepoints (an ID confirmed once counts as the patient's); nothing to
    compare with (no series yet, or series attached before the ID was recorded)
    gives None.
    """
    if not dicom_patient_id:
        return None
    known = sorted(
        {
            tp.dicom_patient_id
            for tp in timepoints
            if tp.dicom_patient_id and tp.id != exclude_timepoint_id
        }
    )
    if not known or dicom_patient_id in known:
        return None
    ids = " / ".join(f"“{k}”" for k in known)
    return (
        f"This series is of DICOM patient ID “{dicom_patient_id}”, but the earlier series "
        f"of {subject_id} are of patient ID {ids}. It may be another patient's images: open "
        f"a series of {subject_id}, or confirm to attach it anyway (the confirmation is "
        "recorded in the audit trail)."
    )
