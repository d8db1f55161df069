"""Checks a patient's timeline passes before a timepoint is stored (issue 11).

* A timepoint dated before the baseline is refused, and so is a label a
  timepoint of the same patient already has (compared without case and
  surrounding spaces), as the case parser refuses them
  (:func:`recist.caseio.timepoint_problem`).
* A series whose DICOM Patient ID differs from that of the patient's other
  series is attached only with the reader's explicit confirmation, which the
  store writes to the audit trail (:func:`other_patient_note`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from recist.model import Timepoint
from storage.db.errors import DuplicateError, IntegrityViolationError, OtherPatientError
from storage.db.mappers import timepoint_from_row
from storage.db.models import TimepointRow


def stored_timeline(session: Session, patient_id: int) -> list[Timepoint]:
    """The patient's stored timepoints, baseline first."""
    rows = session.scalars(
        select(TimepointRow)
        .where(TimepointRow.patient_id == patient_id)
        .order_by(TimepointRow.order)
    )
    return [timepoint_from_row(r) for r in rows]


def _label_key(label: str) -> str:
    return label.strip().casefold()


def check_timeline(
    subject_id: str, timepoints: Sequence[Timepoint], changed: Timepoint | None = None
) -> None:
    """Refuse a label used twice or a timepoint dated before the baseline.

    Parameters
    ----------
    subject_id
        The patient, for the message.
    timepoints
        The whole timeline as it would be stored (any order; ``order`` 0 = baseline).
    changed
        The timepoint being added or changed (it is in ``timepoints``); only
        problems that involve it are raised.  None checks everything (an import).

    Raises
    ------
    DuplicateError
        Two timepoints have the same label.
    IntegrityViolationError
        A timepoint is dated before the baseline.
    """
    timeline = sorted(timepoints, key=lambda t: t.order)
    seen: dict[str, Timepoint] = {}
    for tp in timeline:
        first = seen.setdefault(_label_key(tp.label), tp)
        if first is not tp and (changed is None or changed in (first, tp)):
            raise DuplicateError(
                f"patient {subject_id} already has a timepoint labelled {first.label!r}; "
                f"give each timepoint its own label (e.g. C3, C6)"
            )
    if not timeline:
        return
    base = timeline[0]
    base_date = base.scan_date
    if base_date is None:
        return
    for tp in timeline[1:]:
        involved = changed is None or changed in (base, tp)
        if involved and tp.scan_date is not None and tp.scan_date < base_date:
            raise IntegrityViolationError(
                f"{tp.label} of patient {subject_id} is dated {tp.scan_date}, before the baseline "
                f"{base.label} ({base.scan_date}); correct the scan date, or record this scan "
                "as the baseline"
            )


def other_patient_note(
    subject_id: str,
    timepoints: Sequence[Timepoint],
    changed: Timepoint,
    previous_id: str | None,
    confirmed: bool,
) -> str | None:
    """The audit note for attaching another patient's series, or None when the IDs agree.

    Parameters
    ----------
    subject_id
        The trial subject the series is attached to.
    timepoints
        The patient's timeline, ``changed`` included.
    changed
        The timepoint whose ``dicom_patient_id`` is being set.
    previous_id
        Its ``dicom_patient_id`` before the change (None for a new timepoint).
    confirmed
        The reader confirmed attaching this series.

    Raises
    ------
    OtherPatientError
        The IDs differ and the reader did not confirm.
    """
    new_id = changed.dicom_patient_id
    if not new_id or new_id == previous_id:
        return None
    known = sorted(
        {
            t.dicom_patient_id
            for t in timepoints
            if t.dicom_patient_id
            and t is not changed
            and (changed.id is None or t.id != changed.id)
        }
    )
    if not known or new_id in known:  # an ID confirmed once counts as the patient's
        return None
    if not confirmed:
        raise OtherPatientError(
            f"the series is of DICOM patient ID {new_id!r}, but the earlier series of "
            f"{subject_id} are of patient ID {' / '.join(repr(k) for k in known)}; open a series "
            "of this patient, or confirm attaching another patient's series",
            new_id,
            known,
        )
    return f"attach series of other patient ID {new_id} to subject {subject_id}"
