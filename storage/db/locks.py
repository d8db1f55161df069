"""Which signatures a change touches, and voiding them (amendments of signed data).

RECIST is cumulative (baseline, nadir, confirmation), so a change at timepoint
order *k* touches every signed timepoint of the patient with order >= *k*.
Changing signed data needs a reason; the signatures are then voided
(``voided_at``, ``void_reason``, ``voided_by_id``), audited and never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db.base import utcnow
from storage.db.errors import ReasonRequiredError
from storage.db.models import MeasurementRow, SignatureRow, TimepointRow


def first_measured_order(session: Session, lesion_id: int) -> int | None:
    """The order of the first timepoint where the lesion has a measurement (None if none)."""
    return session.scalar(
        select(func.min(TimepointRow.order))
        .join(MeasurementRow, MeasurementRow.timepoint_id == TimepointRow.id)
        .where(MeasurementRow.lesion_id == lesion_id)
    )


def void_touched_signatures(
    session: Session,
    patient_id: int,
    from_order: int | None,
    reason: str | None,
    what: str,
    reader_id: int,
    audit: Callable[..., Any],
) -> None:
    """Void the valid signatures of timepoints with order >= ``from_order``, given a reason.

    Parameters
    ----------
    session
        The write session of the change.
    patient_id, from_order
        The patient and the first timepoint order the change can affect
        (None: the change affects no timepoint).
    reason
        Why the signed data changes.
    what
        The change, for the error message.
    reader_id
        Who changes it.
    audit
        ``audit(session, action, entity, entity_id, **kw)`` of the store.

    Raises
    ------
    ReasonRequiredError
        A signed timepoint is touched and no reason was given.
    """
    if from_order is None:
        return
    signatures = session.scalars(
        select(SignatureRow)
        .join(TimepointRow, SignatureRow.timepoint_id == TimepointRow.id)
        .where(
            TimepointRow.patient_id == patient_id,
            TimepointRow.order >= from_order,
            SignatureRow.voided_at.is_(None),
        )
    ).all()
    if not signatures:
        return
    if reason is None or not reason.strip():
        ids = ", ".join(str(s.id) for s in signatures)
        raise ReasonRequiredError(
            f"{what} changes signed data (signature {ids}); give a reason for the amendment"
        )
    now = utcnow()
    for signature in signatures:
        signature.voided_at, signature.void_reason, signature.voided_by_id = now, reason, reader_id
        audit(
            session,
            "void",
            "signature",
            signature.id,
            before={"voided_at": None, "void_reason": None, "voided_by_id": None},
            after={"voided_at": now.isoformat(), "void_reason": reason, "voided_by_id": reader_id},
            reason=reason,
        )
